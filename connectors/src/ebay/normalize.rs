//! eBay `Order` → canonical [`Order`].
//!
//! Mapping choices (each one matters for the round trip with the sandbox):
//! - status: `cancelStatus.cancelState = CANCELED` cancels every unit; otherwise a line
//!   whose `lineItemFulfillmentStatus` is `FULFILLED` counts as shipped in full (eBay has
//!   no per-unit shipped count) and [`OrderStatus::from_lines`] decides; an unpaid order
//!   (`orderPaymentStatus = PENDING`) is `Pending`.
//! - `fulfilled_at`: the Order schema carries no ship date (that needs a
//!   getShippingFulfillments call per order), so a fulfilled order's `lastModifiedDate`
//!   stands in for it. Later edits (a refund) can push it later, never earlier.
//! - money: `lineItemCost` (unit price × quantity) is the line total, the unit price is that
//!   divided by the quantity; the order total is `pricingSummary.total`. Integers only.
//! - people: the ship-to contact (`fulfillmentStartInstructions[0].shippingStep.shipTo`) is
//!   the shipping address, `buyer.buyerRegistrationAddress` the billing address; email and
//!   phone come from the ship-to contact, falling back to the registration contact.
//!   `fullName` splits at its first space (first name, rest = last name; one word = last
//!   name only), `addressLine1` into street and house number (a trailing or leading token
//!   that starts with a digit). `county` has no canonical field and is dropped.
//! - fields eBay blanks after 14/90 days simply come back `None`; the store must treat
//!   that as "no update", not as erasure.
//!
//! Errors name fields and line indices only, never values: a value may be personal data.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire;
use crate::marketplace::FetchedOrder;
use crate::model::{
    currency_decimals, to_minor_units, Address, Customer, MarketplaceKind, Order, OrderLine,
    OrderNumber, OrderStatus, PersonalText,
};

/// Formats a time the way eBay writes and expects it: `2015-08-04T19:09:02.768Z`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an eBay ISO 8601 UTC timestamp.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Normalizes one raw order from a getOrders page. Never fails the page: a malformed order
/// becomes [`FetchedOrder::Failed`] with its id and the offending field's name.
pub fn normalize_value(value: &Value) -> FetchedOrder {
    let id = value
        .get("orderId")
        .and_then(Value::as_str)
        .and_then(|s| OrderNumber::parse(s).ok())
        .map(String::from)
        .unwrap_or_else(|| "<unknown>".to_string());
    let result = match serde_json::from_value::<wire::Order>(value.clone()) {
        Ok(order) => normalize(&order),
        Err(_) => Err(match schema_mismatch(value) {
            Some(field) => format!("field `{field}` does not match the Order schema"),
            None => "order does not match the Order schema".to_string(),
        }),
    };
    match result {
        Ok(order) => FetchedOrder::Ok(Box::new(order)),
        Err(error) => FetchedOrder::Failed {
            marketplace_order_id: id,
            error,
        },
    }
}

/// Finds which field broke deserialization, without looking at (or echoing) serde's
/// message, which can quote the value.
fn schema_mismatch(value: &Value) -> Option<String> {
    let obj = value.as_object()?;
    let field = bad_field::<wire::Order>(value)?;
    if field == "lineItems" {
        if let Some(items) = obj.get("lineItems").and_then(Value::as_array) {
            for (i, item) in items.iter().enumerate() {
                if let Some(inner) = bad_field::<wire::LineItem>(item) {
                    return Some(format!("lineItems[{i}].{inner}"));
                }
            }
        }
    }
    Some(field)
}

/// The first top-level key of `value` that alone fails to deserialize as `T`.
fn bad_field<T: DeserializeOwned>(value: &Value) -> Option<String> {
    let obj = value.as_object()?;
    obj.iter().find_map(|(k, v)| {
        let mut single = serde_json::Map::new();
        single.insert(k.clone(), v.clone());
        serde_json::from_value::<T>(Value::Object(single))
            .is_err()
            .then(|| k.clone())
    })
}

/// Maps a deserialized eBay order to the canonical order. The error names the field.
pub fn normalize(o: &wire::Order) -> Result<Order, String> {
    let order_number = OrderNumber::parse(o.order_id.as_deref().ok_or("orderId is missing")?)
        .map_err(|e| format!("orderId is invalid: {e}"))?;
    let placed_at = timestamp(o.creation_date.as_deref(), "creationDate")?;
    let updated_at = timestamp(o.last_modified_date.as_deref(), "lastModifiedDate")?;

    let total = o
        .pricing_summary
        .as_ref()
        .and_then(|p| p.total.as_ref())
        .ok_or("pricingSummary.total is missing")?;
    let currency = currency_of(total, "pricingSummary.total")?;
    let decimals = currency_decimals(&currency);
    let total_minor = money(total, decimals, "pricingSummary.total")?;

    let cancel = o.cancel_status.as_ref();
    let cancelled = match cancel.and_then(|c| c.cancel_state.as_deref()) {
        None | Some("NONE_REQUESTED") | Some("IN_PROGRESS") => false,
        Some("CANCELED") => true,
        Some(_) => return Err("cancelStatus.cancelState has an unknown value".into()),
    };

    if o.line_items.is_empty() {
        return Err("lineItems is empty".into());
    }
    let mut lines = Vec::with_capacity(o.line_items.len());
    for (i, item) in o.line_items.iter().enumerate() {
        lines.push(line(item, i, &currency, decimals, cancelled)?);
    }

    let status = if cancelled {
        OrderStatus::from_lines(&lines)
    } else if o.order_payment_status.as_deref() == Some("PENDING") {
        OrderStatus::Pending
    } else {
        OrderStatus::from_lines(&lines)
    };
    let fulfilled_at = (status == OrderStatus::Shipped).then_some(updated_at);
    let cancelled_at = if status == OrderStatus::Cancelled {
        match cancel.and_then(|c| c.cancelled_date.as_deref()) {
            Some(d) => Some(timestamp(Some(d), "cancelStatus.cancelledDate")?),
            None => Some(updated_at),
        }
    } else {
        None
    };

    let ship_to = o
        .fulfillment_start_instructions
        .first()
        .and_then(|f| f.shipping_step.as_ref())
        .and_then(|s| s.ship_to.as_ref());
    let registration = o
        .buyer
        .as_ref()
        .and_then(|b| b.buyer_registration_address.as_ref());
    let country_code = [ship_to, registration]
        .into_iter()
        .flatten()
        .find_map(|c| c.contact_address.as_ref()?.country_code.clone())
        .map(|c| c.trim().to_ascii_uppercase());
    let email = [ship_to, registration]
        .into_iter()
        .flatten()
        .find_map(|c| non_empty(c.email.as_ref()));
    let phone = [ship_to, registration]
        .into_iter()
        .flatten()
        .find_map(|c| non_empty(c.primary_phone.as_ref()?.phone_number.as_ref()));

    Ok(Order {
        marketplace: MarketplaceKind::Ebay,
        order_number,
        status,
        placed_at,
        updated_at,
        fulfilled_at,
        cancelled_at,
        currency,
        total_minor,
        country_code,
        lines,
        customer: Customer {
            email,
            phone,
            shipping: ship_to.map(contact_address),
            billing: registration.map(contact_address),
            delivery_notes: non_empty(o.buyer_checkout_notes.as_ref()),
        },
    })
}

fn line(
    item: &wire::LineItem,
    i: usize,
    currency: &str,
    decimals: u32,
    cancelled: bool,
) -> Result<OrderLine, String> {
    let field = |name: &str| format!("lineItems[{i}].{name}");
    let line_id = item
        .line_item_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| field("lineItemId") + " is missing")?;
    let quantity = item
        .quantity
        .filter(|q| *q > 0)
        .ok_or_else(|| field("quantity") + " is missing or zero")?;
    let cost = item
        .line_item_cost
        .as_ref()
        .ok_or_else(|| field("lineItemCost") + " is missing")?;
    if currency_of(cost, &field("lineItemCost"))? != currency {
        return Err(field("lineItemCost.currency") + " differs from the order currency");
    }
    let total_minor = money(cost, decimals, &field("lineItemCost"))?;
    let quantity_shipped = match item.line_item_fulfillment_status.as_deref() {
        Some("FULFILLED") => quantity,
        Some("NOT_STARTED") | Some("IN_PROGRESS") | None => 0,
        Some(_) => return Err(field("lineItemFulfillmentStatus") + " has an unknown value"),
    };
    Ok(OrderLine {
        line_id,
        sku: item.sku.clone().filter(|s| !s.is_empty()),
        // eBay orders carry no EAN (product identifiers live in the Inventory API).
        ean: None,
        title: item.title.clone().unwrap_or_default(),
        quantity,
        quantity_shipped,
        quantity_cancelled: if cancelled {
            quantity - quantity_shipped
        } else {
            0
        },
        unit_price_minor: total_minor / i64::from(quantity),
        total_minor,
    })
}

fn timestamp(s: Option<&str>, field: &str) -> Result<DateTime<Utc>, String> {
    let s = s.ok_or_else(|| format!("{field} is missing"))?;
    parse_timestamp(s).ok_or_else(|| format!("{field} is not an ISO 8601 timestamp"))
}

fn currency_of(a: &wire::Amount, field: &str) -> Result<String, String> {
    a.currency
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        .ok_or_else(|| format!("{field}.currency is missing or invalid"))
}

fn money(a: &wire::Amount, decimals: u32, field: &str) -> Result<i64, String> {
    a.value
        .as_deref()
        .and_then(|v| to_minor_units(v, decimals))
        .ok_or_else(|| format!("{field}.value is missing or not a decimal amount"))
}

fn non_empty(t: Option<&PersonalText>) -> Option<PersonalText> {
    t.filter(|t| !t.trim().is_empty()).cloned()
}

/// Maps an eBay contact (name, company, address) to a canonical address.
fn contact_address(c: &wire::ExtendedContact) -> Address {
    let (first_name, last_name) = c
        .full_name
        .as_ref()
        .map(|n| split_full_name(n))
        .unwrap_or_default();
    let a = c.contact_address.clone().unwrap_or_default();
    let (street, house_number) = a
        .address_line1
        .as_ref()
        .map(|l| split_address_line(l))
        .unwrap_or_default();
    Address {
        first_name,
        last_name,
        company: non_empty(c.company_name.as_ref()),
        street,
        house_number,
        extra: non_empty(a.address_line2.as_ref()),
        postcode: non_empty(a.postal_code.as_ref()),
        city: non_empty(a.city.as_ref()),
        state: non_empty(a.state_or_province.as_ref()),
        country_code: a
            .country_code
            .as_deref()
            .map(|c| PersonalText::from(c.trim().to_ascii_uppercase())),
        ..Address::default()
    }
}

/// `"Anna de Vries"` → (`Anna`, `de Vries`); `"Madonna"` → (None, `Madonna`). eBay sends
/// one name string; the first word is the best guess for a given name in the markets we
/// serve, and nothing is lost: first + " " + last gives the original back.
pub fn split_full_name(name: &str) -> (Option<PersonalText>, Option<PersonalText>) {
    let name = name.trim();
    if name.is_empty() {
        return (None, None);
    }
    match name.split_once(char::is_whitespace) {
        Some((first, rest)) if !rest.trim().is_empty() => {
            (Some(first.into()), Some(rest.trim().into()))
        }
        _ => (None, Some(name.into())),
    }
}

/// `"Kerkstraat 12"` → (`Kerkstraat`, `12`); `"12 Rue de la Paix"` → (`Rue de la Paix`,
/// `12`); a line without a leading or trailing number stays whole in `street`.
pub fn split_address_line(line: &str) -> (Option<PersonalText>, Option<PersonalText>) {
    let line = line.trim();
    if line.is_empty() {
        return (None, None);
    }
    let starts_digit = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
    if let Some((street, number)) = line.rsplit_once(char::is_whitespace) {
        if starts_digit(number) && !street.trim().is_empty() {
            return (Some(street.trim().into()), Some(number.into()));
        }
    }
    if let Some((number, street)) = line.split_once(char::is_whitespace) {
        if starts_digit(number) && !street.trim().is_empty() {
            return (Some(street.trim().into()), Some(number.into()));
        }
    }
    (Some(line.into()), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "orderId": "04-12087-72462",
            "legacyOrderId": "110553127385-27736447001",
            "creationDate": "2026-01-10T08:25:43.511Z",
            "lastModifiedDate": "2026-01-11T09:00:00.000Z",
            "orderFulfillmentStatus": "IN_PROGRESS",
            "orderPaymentStatus": "PAID",
            "buyer": {
                "username": "anna_nl",
                "buyerRegistrationAddress": {
                    "fullName": "Anna de Vries",
                    "companyName": "de Vries Handel B.V.",
                    "email": "a1b2@members.ebay.com",
                    "primaryPhone": {"phoneNumber": "+31612345678"},
                    "contactAddress": {"addressLine1": "Kerkstraat 12", "city": "Utrecht",
                        "postalCode": "3511 AB", "countryCode": "NL"}
                }
            },
            "buyerCheckoutNotes": "Bel aan bij de buren",
            "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
            "fulfillmentStartInstructions": [{
                "fulfillmentInstructionsType": "SHIP_TO",
                "shippingStep": {"shipTo": {
                    "fullName": "Anna de Vries",
                    "email": "a1b2@members.ebay.com",
                    "primaryPhone": {"phoneNumber": "+31612345678"},
                    "contactAddress": {"addressLine1": "12 Rue de la Paix", "addressLine2": "Bus 3",
                        "city": "Lyon", "postalCode": "69001", "countryCode": "fr"}
                }}
            }],
            "lineItems": [
                {"lineItemId": "10001", "sku": "SKU-1", "title": "Yogamat", "quantity": 2,
                 "lineItemCost": {"value": "39.90", "currency": "EUR"},
                 "lineItemFulfillmentStatus": "FULFILLED"},
                {"lineItemId": "10002", "title": "Fietsbel", "quantity": 1,
                 "lineItemCost": {"value": "6.50", "currency": "EUR"},
                 "lineItemFulfillmentStatus": "NOT_STARTED"}
            ],
            "pricingSummary": {"total": {"value": "46.40", "currency": "EUR"}}
        })
    }

    fn ok(v: &Value) -> Order {
        match normalize_value(v) {
            FetchedOrder::Ok(o) => *o,
            FetchedOrder::Failed { error, .. } => panic!("{error}"),
        }
    }

    #[test]
    fn maps_money_status_and_people() {
        let o = ok(&sample());
        assert_eq!(o.order_number.as_str(), "04-12087-72462");
        assert_eq!(o.status, OrderStatus::PartiallyShipped);
        assert_eq!(o.total_minor, 4640);
        assert_eq!(o.currency, "EUR");
        assert_eq!(o.country_code.as_deref(), Some("FR"));
        assert_eq!(o.lines[0].unit_price_minor, 1995);
        assert_eq!(o.lines[0].total_minor, 3990);
        assert_eq!(o.lines[0].quantity_shipped, 2);
        assert_eq!(o.lines[1].quantity_shipped, 0);
        assert_eq!(o.fulfilled_at, None);
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.first_name.as_deref(), Some("Anna"));
        assert_eq!(ship.last_name.as_deref(), Some("de Vries"));
        assert_eq!(ship.street.as_deref(), Some("Rue de la Paix"));
        assert_eq!(ship.house_number.as_deref(), Some("12"));
        assert_eq!(ship.extra.as_deref(), Some("Bus 3"));
        let bill = o.customer.billing.as_ref().unwrap();
        assert_eq!(bill.company.as_deref(), Some("de Vries Handel B.V."));
        assert_eq!(bill.street.as_deref(), Some("Kerkstraat"));
        assert_eq!(o.customer.email.as_deref(), Some("a1b2@members.ebay.com"));
        assert_eq!(o.customer.phone.as_deref(), Some("+31612345678"));
        assert_eq!(
            o.customer.delivery_notes.as_deref(),
            Some("Bel aan bij de buren")
        );
    }

    #[test]
    fn cancelled_and_fulfilled_orders() {
        let mut v = sample();
        v["cancelStatus"] = json!({"cancelState": "CANCELED",
            "cancelledDate": "2026-01-10T10:00:00.000Z", "cancelRequests": []});
        v["lineItems"][0]["lineItemFulfillmentStatus"] = json!("NOT_STARTED");
        let o = ok(&v);
        assert_eq!(o.status, OrderStatus::Cancelled);
        assert_eq!(o.cancelled_at, parse_timestamp("2026-01-10T10:00:00.000Z"));
        assert_eq!(o.lines[0].quantity_cancelled, 2);

        let mut v = sample();
        v["lineItems"][1]["lineItemFulfillmentStatus"] = json!("FULFILLED");
        let o = ok(&v);
        assert_eq!(o.status, OrderStatus::Shipped);
        assert_eq!(o.fulfilled_at, Some(o.updated_at));

        let mut v = sample();
        v["orderPaymentStatus"] = json!("PENDING");
        assert_eq!(ok(&v).status, OrderStatus::Pending);
    }

    #[test]
    fn blanked_personal_data_comes_back_as_none() {
        let mut v = sample();
        for c in [
            "/buyer/buyerRegistrationAddress",
            "/fulfillmentStartInstructions/0/shippingStep/shipTo",
        ] {
            let c = v.pointer_mut(c).unwrap().as_object_mut().unwrap();
            c.remove("fullName");
            c.remove("email");
            c.remove("primaryPhone");
            let a = c["contactAddress"].as_object_mut().unwrap();
            a.remove("addressLine1");
            a.remove("addressLine2");
        }
        let o = ok(&v);
        assert!(o.customer.email.is_none() && o.customer.phone.is_none());
        let ship = o.customer.shipping.unwrap();
        assert!(ship.first_name.is_none() && ship.last_name.is_none() && ship.street.is_none());
        assert_eq!(ship.city.as_deref(), Some("Lyon"));
    }

    #[test]
    fn malformed_orders_fail_alone_without_values_in_the_error() {
        let mut v = sample();
        v["lineItems"][1]["quantity"] = json!("Anna de Vries");
        match normalize_value(&v) {
            FetchedOrder::Failed {
                marketplace_order_id,
                error,
            } => {
                assert_eq!(marketplace_order_id, "04-12087-72462");
                assert!(error.contains("lineItems[1].quantity"), "{error}");
                assert!(!error.contains("Anna"), "{error}");
            }
            FetchedOrder::Ok(_) => panic!("accepted a bad quantity"),
        }
        let mut v = sample();
        v["pricingSummary"]["total"]["value"] = json!("Kerkstraat 12");
        match normalize_value(&v) {
            FetchedOrder::Failed { error, .. } => {
                assert!(error.contains("pricingSummary.total.value"), "{error}");
                assert!(!error.contains("Kerkstraat"), "{error}");
            }
            FetchedOrder::Ok(_) => panic!("accepted a bad amount"),
        }
    }

    #[test]
    fn names_and_address_lines_split() {
        let s = |(a, b): (Option<PersonalText>, Option<PersonalText>)| {
            (
                a.map(|x| x.as_str().to_owned()),
                b.map(|x| x.as_str().to_owned()),
            )
        };
        assert_eq!(
            s(split_full_name("Madonna")),
            (None, Some("Madonna".into()))
        );
        assert_eq!(
            s(split_address_line("Straße des 17. Juni 5")),
            (Some("Straße des 17. Juni".into()), Some("5".into()))
        );
        assert_eq!(
            s(split_address_line("Marktplein")),
            (Some("Marktplein".into()), None)
        );
    }
}
