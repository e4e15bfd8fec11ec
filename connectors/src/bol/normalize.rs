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
#[path = "normalize_tests.rs"]
mod tests;
