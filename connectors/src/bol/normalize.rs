//! bol wire → canonical [`Order`]. Pure functions, no I/O.
//!
//! Errors name the field that is wrong, never its value: a malformed personal field must not
//! end up in a log line through the error text.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire;
use crate::model::{
    currency_decimals, to_minor_units, Address, Amounts, Customer, DeliveryWindow,
    FulfilmentMethod, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms,
    PersonalText, PickupPoint,
};

/// bol sells in euros only.
pub const CURRENCY: &str = "EUR";

/// Why a bol order could not be normalized: field names only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NormalizeError(pub String);

fn err(msg: impl Into<String>) -> NormalizeError {
    NormalizeError(msg.into())
}

/// Parses an ISO 8601 date-time with offset (`2017-02-09T12:39:48+01:00`).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Deserializes a raw part into its schema type, reporting only the part's name and, for a
/// missing field, that field's name (serde's other messages can quote the value).
pub fn typed<T: DeserializeOwned>(value: Value, part: &str) -> Result<T, NormalizeError> {
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("missing field `") {
            Some(rest) => {
                let field: String = rest
                    .chars()
                    .take_while(|c| *c != '`')
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(64)
                    .collect();
                err(format!("{part}: missing field {field}"))
            }
            None => err(format!("{part}: a field has a value of the wrong type")),
        }
    })
}

/// Money as bol sends it (a JSON number, occasionally a string) into minor units, through
/// its textual form so no float rounding can creep in.
pub fn money(value: Option<&Value>, field: &str) -> Result<i64, NormalizeError> {
    let text = match value {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => return Err(err(format!("{field} is missing"))),
        Some(_) => return Err(err(format!("{field} is not a number"))),
    };
    to_minor_units(&text, currency_decimals(CURRENCY))
        .ok_or_else(|| err(format!("{field} is not a decimal amount")))
}

fn present(p: Option<PersonalText>) -> Option<PersonalText> {
    p.filter(|t| !t.trim().is_empty())
}

fn shipping_address(s: wire::ShipmentDetails) -> Address {
    Address {
        salutation: present(s.salutation),
        first_name: present(s.first_name),
        last_name: present(s.surname),
        company: present(s.company),
        street: present(s.street_name),
        house_number: present(s.house_number),
        house_number_ext: present(s.house_number_extension),
        extra: present(s.extra_address_information),
        postcode: present(s.zip_code),
        city: present(s.city),
        country_code: present(s.country_code),
        ..Address::default()
    }
}

/// The pickup point of a pickup-point order: its name, and the address bol ships to
/// (which is the point's, not the buyer's home).
fn pickup_point(name: Option<PersonalText>, shipping: &Address) -> PickupPoint {
    PickupPoint {
        name: present(name),
        address: Some(Address {
            street: shipping.street.clone(),
            house_number: shipping.house_number.clone(),
            house_number_ext: shipping.house_number_ext.clone(),
            postcode: shipping.postcode.clone(),
            city: shipping.city.clone(),
            country_code: shipping.country_code.clone(),
            ..Address::default()
        }),
    }
}

fn billing_address(b: wire::BillingDetails) -> Address {
    Address {
        salutation: present(b.salutation),
        first_name: present(b.first_name),
        last_name: present(b.surname),
        company: present(b.company),
        street: present(b.street_name),
        house_number: present(b.house_number),
        house_number_ext: present(b.house_number_extension),
        extra: present(b.extra_address_information),
        postcode: present(b.zip_code),
        city: present(b.city),
        country_code: present(b.country_code),
        vat_id: present(b.vat_number),
        coc_number: present(b.kvk_number),
        ..Address::default()
    }
}

/// What one item says about the order's terms.
#[derive(Default)]
struct ItemTerms {
    method: Option<FulfilmentMethod>,
    unknown_method: bool,
    window: Option<DeliveryWindow>,
    cancellation_requested: bool,
}

/// bol dates (`2018-04-22`) as the start and the last second of that day, UTC.
fn day(s: &str, end: bool) -> Option<DateTime<Utc>> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let t = if end {
        d.and_hms_opt(23, 59, 59)?
    } else {
        d.and_hms_opt(0, 0, 0)?
    };
    Some(t.and_utc())
}

fn item_terms(f: Option<&wire::OrderFulfilment>, cancellation: Option<bool>) -> ItemTerms {
    let mut t = ItemTerms {
        cancellation_requested: cancellation == Some(true),
        ..ItemTerms::default()
    };
    let Some(f) = f else { return t };
    match f.method.as_deref() {
        Some("FBB") => t.method = Some(FulfilmentMethod::Marketplace),
        Some("FBR") => t.method = Some(FulfilmentMethod::Seller),
        None => {}
        Some(_) => t.unknown_method = true,
    }
    t.window = match (
        f.exact_delivery_date.as_deref(),
        f.latest_delivery_date.as_deref(),
    ) {
        (Some(exact), _) => Some(DeliveryWindow {
            earliest: day(exact, false),
            latest: day(exact, true),
        }),
        (None, Some(latest)) => Some(DeliveryWindow {
            earliest: None,
            latest: day(latest, true),
        }),
        (None, None) => None,
    }
    .filter(|w| w.earliest.is_some() || w.latest.is_some());
    t
}

fn line(
    item: wire::OrderOrderItem,
    i: usize,
) -> Result<(OrderLine, Option<DateTime<Utc>>, ItemTerms), NormalizeError> {
    let at = |f: &str| format!("orderItems[{i}].{f}");
    if item.order_item_id.trim().is_empty() {
        return Err(err(format!("{} is empty", at("orderItemId"))));
    }
    if item
        .quantity_shipped
        .saturating_add(item.quantity_cancelled)
        > item.quantity
    {
        return Err(err(format!(
            "{} exceed the ordered quantity",
            at("quantityShipped/quantityCancelled")
        )));
    }
    let product = item.product.unwrap_or_default();
    let title = product
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| err(format!("{} is missing", at("product.title"))))?;
    let unit_price_minor = money(item.unit_price.as_ref(), &at("unitPrice"))?;
    let total_minor = match item.total_price.as_ref() {
        Some(v) => money(Some(v), &at("totalPrice"))?,
        // Pre-v10 payloads have no totalPrice.
        None => unit_price_minor
            .checked_mul(i64::from(item.quantity))
            .ok_or_else(|| err(format!("{} overflows", at("unitPrice"))))?,
    };
    let changed = match item.latest_changed_date_time.as_deref() {
        Some(s) => Some(parse_time(s).ok_or_else(|| {
            err(format!(
                "{} is not a date-time",
                at("latestChangedDateTime")
            ))
        })?),
        None => None,
    };
    let mut discount_minor = 0i64;
    for (d, discount) in item.discounts.iter().enumerate() {
        let amount = money(
            discount.amount.as_ref(),
            &at(&format!("discounts[{d}].amount")),
        )?;
        discount_minor = discount_minor
            .checked_add(amount.abs())
            .ok_or_else(|| err(format!("{} overflow", at("discounts"))))?;
    }
    let terms = item_terms(item.fulfilment.as_ref(), item.cancellation_request);
    let sku = item
        .offer
        .and_then(|o| o.reference)
        .filter(|r| !r.trim().is_empty());
    Ok((
        OrderLine {
            line_id: item.order_item_id,
            sku,
            ean: product.ean.filter(|e| !e.trim().is_empty()),
            title,
            quantity: item.quantity,
            quantity_shipped: item.quantity_shipped,
            quantity_cancelled: item.quantity_cancelled,
            unit_price_minor: Some(unit_price_minor),
            total_minor,
            discount_minor,
            tax_minor: None,
        },
        changed,
        terms,
    ))
}

/// Checks that a detail answers for the order that was asked for, then normalizes it: a
/// detail for another id must never be stored in place of the listed order.
pub fn order_for(
    detail: wire::Order,
    requested: &OrderNumber,
    listed_placed_at: Option<DateTime<Utc>>,
) -> Result<Order, NormalizeError> {
    if detail.order_id.trim() != requested.as_str() {
        return Err(err(
            "orderId of the detail differs from the order requested",
        ));
    }
    order(detail, listed_placed_at)
}

/// Turns an order detail into a canonical order.
///
/// Status comes from item quantities ([`OrderStatus::from_lines`]); `updated_at` is the
/// newest item `latestChangedDateTime`; a fully shipped order counts as fulfilled, and a
/// fully cancelled one as cancelled, at that same time (bol has no per-order timestamps).
/// Without any `latestChangedDateTime` (older shapes) there is no evidence of when the
/// order shipped: `fulfilled_at`/`cancelled_at` stay `None` and the service uses the time
/// it first saw the status, never the placement time.
///
/// Money: `unitPrice` and `totalPrice` as bol states them; bol prices are what the buyer
/// pays, so item `discounts` are recorded per line but not subtracted again; bol sends no
/// order total, so the total is the lines' sum and reconciles by construction.
/// `listed_placed_at` stands in when the detail omits `orderPlacedDateTime` (optional in
/// the `Order` schema, required in `ReducedOrder`).
pub fn order(
    detail: wire::Order,
    listed_placed_at: Option<DateTime<Utc>>,
) -> Result<Order, NormalizeError> {
    let order_number = OrderNumber::parse(&detail.order_id)
        .map_err(|e| err(format!("orderId is not a valid order number: {e}")))?;
    let placed_at = match detail.order_placed_date_time.as_deref() {
        Some(s) => parse_time(s).ok_or_else(|| err("orderPlacedDateTime is not a date-time"))?,
        None => listed_placed_at.ok_or_else(|| err("orderPlacedDateTime is missing"))?,
    };
    if detail.order_items.is_empty() {
        return Err(err("orderItems is empty"));
    }
    let mut lines = Vec::with_capacity(detail.order_items.len());
    let mut updated_at = placed_at;
    let mut changed_at: Option<DateTime<Utc>> = None;
    let mut methods = Vec::new();
    let mut window: Option<DeliveryWindow> = None;
    let mut cancellation_requested = false;
    for (i, raw) in detail.order_items.into_iter().enumerate() {
        let item: wire::OrderOrderItem = typed(raw, &format!("orderItems[{i}]"))?;
        let (l, changed, t) = line(item, i)?;
        if let Some(c) = changed {
            updated_at = updated_at.max(c);
            changed_at = changed_at.max(Some(c));
        }
        if t.unknown_method {
            return Err(err(format!(
                "orderItems[{i}].fulfilment.method has an unknown value"
            )));
        }
        methods.extend(t.method);
        window = window.or(t.window);
        cancellation_requested |= t.cancellation_requested;
        lines.push(l);
    }
    // One method for the order only when every item that names one agrees; a mixed
    // order says nothing.
    let fulfilment_method = match methods.first() {
        Some(first) if methods.iter().all(|m| m == first) => Some(*first),
        _ => None,
    };
    let total_minor = lines
        .iter()
        .try_fold(0i64, |acc, l| acc.checked_add(l.total_minor))
        .ok_or_else(|| err("orderItems totalPrice sum overflows"))?;
    let shipment: Option<wire::ShipmentDetails> = match detail.shipment_details {
        Some(v) if !v.is_null() => Some(typed(v, "shipmentDetails")?),
        _ => None,
    };
    let billing: Option<wire::BillingDetails> = match detail.billing_details {
        Some(v) if !v.is_null() => Some(typed(v, "billingDetails")?),
        _ => None,
    };
    let status = OrderStatus::from_lines(&lines);
    let pickup = detail.pickup_point == Some(true);
    let mut customer = Customer::default();
    let mut country_code = None;
    let mut customer_reference = None;
    if let Some(mut s) = shipment {
        customer.email = present(s.email.take());
        customer.phone = present(s.delivery_phone_number.take());
        country_code = s
            .country_code
            .as_ref()
            .map(|c| c.trim().to_ascii_uppercase());
        let point_name = s.pickup_point_name.take();
        let address = shipping_address(s);
        if pickup {
            customer.pickup_point = Some(pickup_point(point_name, &address));
        }
        customer.shipping = Some(address);
    }
    if let Some(mut b) = billing {
        customer.billing_email = present(b.email.take());
        if customer.email.is_none() {
            customer.email = customer.billing_email.clone();
        }
        customer_reference = present(b.order_reference.take())
            .map(|r| r.as_str().chars().take(128).collect::<String>());
        if country_code.is_none() {
            country_code = b
                .country_code
                .as_ref()
                .map(|c| c.trim().to_ascii_uppercase());
        }
        customer.billing = Some(billing_address(b));
    }
    Ok(Order {
        marketplace: MarketplaceKind::Bol,
        order_number,
        status,
        placed_at,
        updated_at,
        fulfilled_at: changed_at.filter(|_| status == OrderStatus::Shipped),
        cancelled_at: changed_at.filter(|_| status == OrderStatus::Cancelled),
        currency: CURRENCY.into(),
        total_minor,
        country_code: country_code.filter(|c| !c.is_empty()),
        terms: OrderTerms {
            fulfilment_method,
            pickup_point: pickup,
            delivery_window: window,
            cancellation_requested,
            customer_reference,
            payment_status: None,
            amounts: Amounts {
                lines_minor: total_minor,
                ..Amounts::default()
            },
        },
        lines,
        customer,
    })
}

/// Newest `latestChangedDateTime` of a listed order's items, if any item carries one.
pub fn latest_change(listed: &wire::ReducedOrder) -> Option<DateTime<Utc>> {
    listed
        .order_items
        .iter()
        .filter_map(|i| i.latest_changed_date_time.as_deref().and_then(parse_time))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail() -> Value {
        json!({
            "orderId": "1042823870",
            "pickupPoint": false,
            "orderPlacedDateTime": "2019-04-30T16:47:32+02:00",
            "shipmentDetails": {
                "salutation": "MALE", "firstName": "Hans", "surname": "de Grote",
                "streetName": "Skywalkerstraat", "houseNumber": "199", "zipCode": "1234AB",
                "city": "PLATOONDORP", "countryCode": "NL",
                "email": "27zoytzc3crf2r6bctxfa3m2mrjbci@verkopen.test2.bol.com", "language": "nl"
            },
            "billingDetails": {
                "salutation": "MALE", "firstName": "Pieter", "surname": "Post",
                "streetName": "Skywalkerstraat", "houseNumber": "21", "houseNumberExtension": "X",
                "extraAddressInformation": "Extra informatie", "zipCode": "1234AB",
                "city": "PLATOONDORP", "countryCode": "NL",
                "email": "2yldzdi2wjcf5ir4sycq7lufqpytxy@verkopen.test2.bol.com",
                "company": "Pieter Post", "vatNumber": "NL123456789B01", "kvkNumber": "99887766",
                "orderReference": "Mijn order ref"
            },
            "orderItems": [
                {
                    "orderItemId": "6107771545", "cancellationRequest": false,
                    "fulfilment": {"method": "FBB", "latestDeliveryDate": "2018-04-22", "timeFrameType": "REGULAR"},
                    "offer": {"offerId": "8f1183e3-de98-c92f-e053-3590612a63b7", "reference": "MijnOffer0021"},
                    "product": {"ean": "8785056370398", "title": "Star Wars Prequel Trilogy"},
                    "quantity": 2, "quantityShipped": 2, "quantityCancelled": 0,
                    "unitPrice": 19.99, "totalPrice": 39.98, "discounts": [], "commission": 2.21,
                    "latestChangedDateTime": "2019-05-01T10:00:00+02:00"
                },
                {
                    "orderItemId": "6107771546", "cancellationRequest": false,
                    "product": {"ean": "8712626055150", "title": "Harry Potter"},
                    "quantity": 1, "quantityShipped": 0, "quantityCancelled": 1,
                    "unitPrice": 0.1, "totalPrice": 0.1, "discounts": [], "commission": 0.01,
                    "latestChangedDateTime": "2019-05-01T09:00:00+02:00"
                }
            ]
        })
    }

    #[test]
    fn detail_maps_to_canonical_order() {
        let o = order(serde_json::from_value(detail()).unwrap(), None).unwrap();
        assert_eq!(o.order_number.as_str(), "1042823870");
        assert_eq!(o.placed_at, parse_time("2019-04-30T14:47:32Z").unwrap());
        assert_eq!(o.updated_at, parse_time("2019-05-01T08:00:00Z").unwrap());
        assert_eq!(o.status, OrderStatus::Shipped);
        assert_eq!(o.fulfilled_at, Some(o.updated_at));
        assert_eq!(o.cancelled_at, None);
        assert_eq!(o.total_minor, 3998 + 10);
        assert_eq!(o.lines[0].unit_price_minor, Some(1999));
        assert_eq!(o.lines[0].sku.as_deref(), Some("MijnOffer0021"));
        assert_eq!(o.lines[1].unit_price_minor, Some(10));
        assert_eq!(o.lines[1].sku, None);
        assert_eq!(o.country_code.as_deref(), Some("NL"));
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.last_name.as_deref(), Some("de Grote"));
        assert_eq!(ship.postcode.as_deref(), Some("1234AB"));
        let bill = o.customer.billing.as_ref().unwrap();
        assert_eq!(bill.vat_id.as_deref(), Some("NL123456789B01"));
        assert_eq!(bill.house_number_ext.as_deref(), Some("X"));
        assert_eq!(bill.extra.as_deref(), Some("Extra informatie"));
        assert!(o
            .customer
            .email
            .as_deref()
            .unwrap()
            .ends_with("@verkopen.test2.bol.com"));
        assert_eq!(o.customer.phone, None);
    }

    #[test]
    fn business_terms_companies_and_references() {
        let o = order(serde_json::from_value(detail()).unwrap(), None).unwrap();
        assert_eq!(
            o.terms.fulfilment_method,
            Some(FulfilmentMethod::Marketplace)
        );
        assert!(!o.terms.pickup_point && o.customer.pickup_point.is_none());
        assert!(!o.terms.cancellation_requested);
        assert_eq!(
            o.terms.customer_reference.as_deref(),
            Some("Mijn order ref")
        );
        let w = o.terms.delivery_window.unwrap();
        assert_eq!(w.earliest, None);
        assert_eq!(w.latest, parse_time("2018-04-22T23:59:59Z"));
        assert_eq!(o.terms.amounts.lines_minor, o.total_minor);
        let bill = o.customer.billing.as_ref().unwrap();
        assert_eq!(bill.company.as_deref(), Some("Pieter Post"));
        assert_eq!(bill.coc_number.as_deref(), Some("99887766"));
        assert_eq!(bill.first_name.as_deref(), Some("Pieter"));
        assert!(o
            .customer
            .billing_email
            .as_deref()
            .unwrap()
            .starts_with("2yldzdi2"));
        assert!(o.customer.email.as_deref().unwrap().starts_with("27zoytzc"));

        let mut d = detail();
        d["orderItems"][1]["fulfilment"] =
            json!({"method": "FBR", "exactDeliveryDate": "2018-04-21"});
        d["orderItems"][1]["cancellationRequest"] = json!(true);
        d["orderItems"][0]["discounts"] = json!([{"title": "korting", "amount": 1.5}]);
        let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
        assert_eq!(o.terms.fulfilment_method, None, "FBB and FBR mixed");
        assert!(o.terms.cancellation_requested);
        assert_eq!(o.lines[0].discount_minor, 150);
        assert_eq!(
            o.lines[0].total_minor, 3998,
            "bol prices are what the buyer pays"
        );
        assert_eq!(o.terms.amounts.discount_minor, 0);
        d["orderItems"][0]["fulfilment"]["method"] = json!("FBR");
        let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
        assert_eq!(o.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
        let w = o.terms.delivery_window.unwrap();
        assert_eq!(
            w.latest,
            parse_time("2018-04-22T23:59:59Z"),
            "first item's window"
        );
        d["orderItems"][0]["fulfilment"]["method"] = json!("DROPSHIP");
        let e = order(serde_json::from_value(d).unwrap(), None)
            .unwrap_err()
            .0;
        assert_eq!(e, "orderItems[0].fulfilment.method has an unknown value");
    }

    #[test]
    fn pickup_point_orders_keep_the_point_apart() {
        let mut d = detail();
        d["pickupPoint"] = json!(true);
        d["shipmentDetails"]["pickupPointName"] = json!("PostNL punt Jumbo Centrum");
        let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
        assert!(o.terms.pickup_point);
        let p = o.customer.pickup_point.as_ref().unwrap();
        assert_eq!(p.name.as_deref(), Some("PostNL punt Jumbo Centrum"));
        let a = p.address.as_ref().unwrap();
        assert_eq!(a.street.as_deref(), Some("Skywalkerstraat"));
        assert_eq!(a.house_number.as_deref(), Some("199"));
        assert_eq!(a.first_name, None, "the point's address has no buyer name");
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.first_name.as_deref(), Some("Hans"));
    }

    #[test]
    fn a_detail_for_another_order_is_refused() {
        let asked = OrderNumber::parse("1042823871").unwrap();
        let e = order_for(serde_json::from_value(detail()).unwrap(), &asked, None)
            .unwrap_err()
            .0;
        assert_eq!(e, "orderId of the detail differs from the order requested");
        let asked = OrderNumber::parse("1042823870").unwrap();
        assert!(order_for(serde_json::from_value(detail()).unwrap(), &asked, None).is_ok());
    }

    #[test]
    fn without_change_times_nothing_claims_when_it_shipped() {
        let mut d = detail();
        for item in d["orderItems"].as_array_mut().unwrap() {
            item.as_object_mut()
                .unwrap()
                .remove("latestChangedDateTime");
        }
        let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
        assert_eq!(o.status, OrderStatus::Shipped);
        assert_eq!(o.fulfilled_at, None, "never the placement time");
        assert_eq!(o.updated_at, o.placed_at);
        d["orderItems"][0]["quantityShipped"] = json!(0);
        d["orderItems"][0]["quantityCancelled"] = json!(2);
        let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
        assert_eq!((o.status, o.cancelled_at), (OrderStatus::Cancelled, None));
    }

    #[test]
    fn names_and_house_numbers_stay_as_bol_splits_them() {
        let mut d = detail();
        d["shipmentDetails"]["firstName"] = json!("");
        d["shipmentDetails"]["surname"] = json!("ML Bau & Energie GmbH");
        d["shipmentDetails"]["streetName"] = json!("Ringstr.209");
        d["shipmentDetails"]
            .as_object_mut()
            .unwrap()
            .remove("houseNumber");
        let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
        let s = o.customer.shipping.unwrap();
        assert_eq!(s.first_name, None);
        assert_eq!(s.last_name.as_deref(), Some("ML Bau & Energie GmbH"));
        assert_eq!(s.street.as_deref(), Some("Ringstr.209"));
        assert_eq!(s.house_number, None);
    }

    #[test]
    fn missing_billing_and_old_field_names_are_fine() {
        let mut d = detail();
        let obj = d.as_object_mut().unwrap();
        obj.remove("billingDetails");
        obj.remove("pickupPoint");
        obj.insert("pickUpPoint".into(), json!(true));
        let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
        assert!(o.customer.billing.is_none());
        assert!(o.customer.billing_email.is_none());
        assert!(o.customer.shipping.is_some());
        assert!(o.terms.pickup_point, "v4 spelling pickUpPoint");
        assert!(o.customer.pickup_point.is_some());
    }

    #[test]
    fn all_cancelled_and_partial_statuses() {
        let mut d = detail();
        d["orderItems"][0]["quantityShipped"] = json!(0);
        d["orderItems"][0]["quantityCancelled"] = json!(2);
        let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
        assert_eq!(o.status, OrderStatus::Cancelled);
        assert_eq!(o.cancelled_at, Some(o.updated_at));
        d["orderItems"][0]["quantityCancelled"] = json!(0);
        d["orderItems"][0]["quantityShipped"] = json!(1);
        d["orderItems"][1]["quantityCancelled"] = json!(0);
        let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
        assert_eq!(o.status, OrderStatus::PartiallyShipped);
        assert_eq!(o.fulfilled_at, None);
    }

    #[test]
    fn errors_name_fields_not_values() {
        let mut d = detail();
        d["orderItems"][0]["quantity"] = json!("Skywalkerstraat");
        let e = order(serde_json::from_value(d).unwrap(), None)
            .unwrap_err()
            .0;
        assert!(
            e.contains("orderItems[0]") && !e.contains("Skywalker"),
            "{e}"
        );

        let mut d = detail();
        d["orderItems"][1]["unitPrice"] = json!("PLATOONDORP");
        let e = order(serde_json::from_value(d).unwrap(), None)
            .unwrap_err()
            .0;
        assert!(e.contains("unitPrice") && !e.contains("PLATOON"), "{e}");

        let mut d = detail();
        d["shipmentDetails"]["firstName"] = json!(["Hans"]);
        let e = order(serde_json::from_value(d).unwrap(), None)
            .unwrap_err()
            .0;
        assert!(e.contains("shipmentDetails") && !e.contains("Hans"), "{e}");

        let mut d = detail();
        d["orderItems"][0]
            .as_object_mut()
            .unwrap()
            .remove("quantity");
        let e = order(serde_json::from_value(d).unwrap(), None)
            .unwrap_err()
            .0;
        assert_eq!(e, "orderItems[0]: missing field quantity");
    }

    #[test]
    fn money_never_goes_through_floats() {
        assert_eq!(money(Some(&json!(0.29)), "x"), Ok(29));
        assert_eq!(money(Some(&json!(1234567.89)), "x"), Ok(123_456_789));
        assert_eq!(money(Some(&json!(5)), "x"), Ok(500));
        assert_eq!(money(Some(&json!("12.50")), "x"), Ok(1250));
        assert!(money(Some(&json!("12,50")), "x").is_err());
        assert!(money(None, "x").is_err());
    }
}
