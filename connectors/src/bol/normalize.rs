//! bol wire → canonical [`Order`]. Pure functions, no I/O.
//!
//! Errors name the field that is wrong, never its value: a malformed personal field must not
//! end up in a log line through the error text.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire;
use crate::model::{
    currency_decimals, to_minor_units, Address, Customer, MarketplaceKind, Order, OrderLine,
    OrderNumber, OrderStatus, PersonalText,
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
        state: None,
        country_code: present(s.country_code),
        vat_id: None,
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
        state: None,
        country_code: present(b.country_code),
        vat_id: present(b.vat_number),
    }
}

fn line(
    item: wire::OrderOrderItem,
    i: usize,
) -> Result<(OrderLine, Option<DateTime<Utc>>), NormalizeError> {
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
            unit_price_minor,
            total_minor,
        },
        changed,
    ))
}

/// Turns an order detail into a canonical order.
///
/// Status comes from item quantities ([`OrderStatus::from_lines`]); `updated_at` is the
/// newest item `latestChangedDateTime`; a fully shipped order counts as fulfilled, and a
/// fully cancelled one as cancelled, at that same time (bol has no per-order timestamps).
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
    for (i, raw) in detail.order_items.into_iter().enumerate() {
        let item: wire::OrderOrderItem = typed(raw, &format!("orderItems[{i}]"))?;
        let (l, changed) = line(item, i)?;
        if let Some(c) = changed {
            updated_at = updated_at.max(c);
        }
        lines.push(l);
    }
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
    let mut customer = Customer::default();
    let mut country_code = None;
    if let Some(mut s) = shipment {
        customer.email = present(s.email.take());
        customer.phone = present(s.delivery_phone_number.take());
        country_code = s
            .country_code
            .as_ref()
            .map(|c| c.trim().to_ascii_uppercase());
        customer.shipping = Some(shipping_address(s));
    }
    if let Some(mut b) = billing {
        if customer.email.is_none() {
            customer.email = present(b.email.take());
        }
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
        fulfilled_at: (status == OrderStatus::Shipped).then_some(updated_at),
        cancelled_at: (status == OrderStatus::Cancelled).then_some(updated_at),
        currency: CURRENCY.into(),
        total_minor,
        country_code: country_code.filter(|c| !c.is_empty()),
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
        assert_eq!(o.lines[0].unit_price_minor, 1999);
        assert_eq!(o.lines[0].sku.as_deref(), Some("MijnOffer0021"));
        assert_eq!(o.lines[1].unit_price_minor, 10);
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
    fn missing_billing_and_old_field_names_are_fine() {
        let mut d = detail();
        let obj = d.as_object_mut().unwrap();
        obj.remove("billingDetails");
        obj.remove("pickupPoint");
        obj.insert("pickUpPoint".into(), json!(true));
        let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
        assert!(o.customer.billing.is_none());
        assert!(o.customer.shipping.is_some());
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
