//! eBay `Order` → canonical [`Order`].
//!
//! Mapping choices (each one matters for the round trip with the sandbox):
//! - status: `cancelStatus.cancelState = CANCELED` cancels every unit not shipped;
//!   otherwise a line whose `lineItemFulfillmentStatus` is `FULFILLED` counts as shipped
//!   in full (eBay has no per-unit shipped count) and [`OrderStatus::from_lines`] decides;
//!   an unpaid order (`orderPaymentStatus = PENDING`) is `Pending`. A cancel request in
//!   progress sets `cancellation_requested`.
//! - `fulfilled_at`: the Order schema carries no ship date (that needs a
//!   getShippingFulfillments call per order), so a fulfilled order's `lastModifiedDate`
//!   stands in for it: at or after the transition, so retention starts late, never
//!   early (the service keeps the earliest time it has seen).
//! - money: `lineItemCost` is the line total as eBay states it; the unit price is derived
//!   only where it divides exactly. `pricingSummary`: `priceDiscount` + `deliveryDiscount`
//!   are the discounts (else the lines' `appliedPromotions`), `deliveryCost` the delivery,
//!   `tax` the tax, `total` the total, which must reconcile ([`Amounts::reconcile`]).
//!   Refunds (`paymentSummary.refunds`, else the lines' `refunds`) are summed, and
//!   `orderPaymentStatus` gives `refunded` / `partially_refunded`. Every amount must be
//!   in the order currency.
//! - people: the ship-to contact (`fulfillmentStartInstructions[0].shippingStep.shipTo`) is
//!   the shipping address, `buyer.buyerRegistrationAddress` the billing address; email and
//!   phone come from the ship-to contact, falling back to the registration contact.
//!   `fullName` stays whole and address lines stay verbatim: eBay does not split names or
//!   house numbers, so neither do we. `buyer.username` is kept (sealed). `county` has no
//!   canonical field and is dropped.
//! - `ebaySupportedFulfillment` marks an order eBay fulfils itself.
//! - fields eBay blanks after 14/90 days simply come back `None`; the store must treat
//!   that as "no update", not as erasure.
//!
//! Errors name fields and line indices only, never values: a value may be personal data.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::wire;
use crate::marketplace::FetchedOrder;
use crate::model::{
    currency_decimals, parse_currency, to_minor_units, Address, Amounts, Customer, DeliveryWindow,
    FulfilmentMethod, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms,
    PaymentStatus, PersonalText, PickupPoint,
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

/// Normalizes one order of a getOrders page straight from its JSON text: the typed wire
/// order is read from the bytes, with no `Value` tree in between (building and cloning
/// that tree was about a quarter of a large sync's parse time, issue 18). Only an order
/// that does not match the schema takes the slow path, [`normalize_value`], which names
/// the offending field; so the outcome is the same as there for every input.
pub fn normalize_raw(raw: &RawValue) -> FetchedOrder {
    match serde_json::from_str::<wire::Order>(raw.get()) {
        Ok(order) => {
            let id = order_id(order.order_id.as_deref());
            fetched(id, normalize(&order))
        }
        Err(_) => match serde_json::from_str::<Value>(raw.get()) {
            Ok(value) => normalize_value(&value),
            // A `RawValue` is valid JSON; kept total all the same.
            Err(_) => fetched(
                order_id(None),
                Err("order does not match the Order schema".to_string()),
            ),
        },
    }
}

/// The order id a failure is reported under: the payload's when it is a valid order
/// number (it is not personal data), else a placeholder.
fn order_id(raw: Option<&str>) -> String {
    raw.and_then(|s| OrderNumber::parse(s).ok())
        .map(String::from)
        .unwrap_or_else(|| "<unknown>".to_string())
}

fn fetched(id: String, result: Result<Order, String>) -> FetchedOrder {
    match result {
        Ok(order) => FetchedOrder::Ok(Box::new(order)),
        Err(error) => FetchedOrder::Failed {
            marketplace_order_id: id,
            error,
        },
    }
}

/// Normalizes one raw order from a getOrders page. Never fails the page: a malformed order
/// becomes [`FetchedOrder::Failed`] with its id and the offending field's name.
pub fn normalize_value(value: &Value) -> FetchedOrder {
    let id = order_id(value.get("orderId").and_then(Value::as_str));
    let result = match wire::Order::deserialize(value) {
        Ok(order) => normalize(&order),
        Err(_) => Err(match schema_mismatch(value) {
            Some(field) => format!("field `{field}` does not match the Order schema"),
            None => "order does not match the Order schema".to_string(),
        }),
    };
    fetched(id, result)
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

/// Amounts of one order: all in its currency, read through one place.
struct Money<'a> {
    currency: &'a str,
    decimals: u32,
}

impl Money<'_> {
    fn read(&self, a: &wire::Amount, field: &str) -> Result<i64, String> {
        if currency_of(a, field)? != self.currency {
            return Err(format!("{field}.currency differs from the order currency"));
        }
        money(a, self.decimals, field)
    }

    fn read_opt(&self, a: Option<&wire::Amount>, field: &str) -> Result<Option<i64>, String> {
        a.map(|a| self.read(a, field)).transpose()
    }

    /// Refunds that did not fail, summed.
    fn refunds(&self, refunds: &[wire::Refund], field: &str) -> Result<i64, String> {
        let mut sum = 0i64;
        for (r, refund) in refunds.iter().enumerate() {
            if refund.refund_status.as_deref() == Some("FAILED") {
                continue;
            }
            let f = format!("{field}[{r}].amount");
            let a = refund
                .amount
                .as_ref()
                .ok_or_else(|| format!("{f} is missing"))?;
            sum = sum
                .checked_add(self.read(a, &f)?.abs())
                .ok_or_else(|| format!("{field} overflow"))?;
        }
        Ok(sum)
    }
}

fn payment_status(s: Option<&str>) -> Result<Option<PaymentStatus>, String> {
    Ok(match s {
        None => None,
        Some("PENDING") => Some(PaymentStatus::Pending),
        Some("PAID") => Some(PaymentStatus::Paid),
        Some("FAILED") => Some(PaymentStatus::Failed),
        Some("PARTIALLY_REFUNDED") => Some(PaymentStatus::PartiallyRefunded),
        Some("FULLY_REFUNDED") => Some(PaymentStatus::Refunded),
        Some(_) => return Err("orderPaymentStatus has an unknown value".into()),
    })
}

/// Maps a deserialized eBay order to the canonical order. The error names the field.
pub fn normalize(o: &wire::Order) -> Result<Order, String> {
    let order_number = OrderNumber::parse(o.order_id.as_deref().ok_or("orderId is missing")?)
        .map_err(|e| format!("orderId is invalid: {e}"))?;
    let placed_at = timestamp(o.creation_date.as_deref(), "creationDate")?;
    let updated_at = timestamp(o.last_modified_date.as_deref(), "lastModifiedDate")?;

    let pricing = o.pricing_summary.clone().unwrap_or_default();
    let total = pricing
        .total
        .as_ref()
        .ok_or("pricingSummary.total is missing")?;
    let currency = currency_of(total, "pricingSummary.total")?;
    let m = Money {
        currency: &currency,
        decimals: currency_decimals(&currency),
    };
    let total_minor = m.read(total, "pricingSummary.total")?;
    let payment_status = payment_status(o.order_payment_status.as_deref())?;

    let cancel = o.cancel_status.as_ref();
    let (cancelled, cancellation_requested) = match cancel.and_then(|c| c.cancel_state.as_deref()) {
        None | Some("NONE_REQUESTED") => (false, false),
        Some("IN_PROGRESS") => (false, true),
        Some("CANCELED") => (true, false),
        Some(_) => return Err("cancelStatus.cancelState has an unknown value".into()),
    };

    if o.line_items.is_empty() {
        return Err("lineItems is empty".into());
    }
    let mut lines = Vec::with_capacity(o.line_items.len());
    let mut amounts = Amounts::default();
    let mut promotions = 0i64;
    let mut line_delivery = 0i64;
    let mut line_refunds = 0i64;
    let overflow = || "lineItems amounts overflow".to_string();
    for (i, item) in o.line_items.iter().enumerate() {
        let (l, delivery, refunded) = line(item, i, &m, cancelled)?;
        amounts.lines_minor = amounts
            .lines_minor
            .checked_add(l.total_minor)
            .ok_or_else(overflow)?;
        promotions = promotions
            .checked_add(l.discount_minor)
            .ok_or_else(overflow)?;
        line_delivery = line_delivery.checked_add(delivery).ok_or_else(overflow)?;
        line_refunds = line_refunds.checked_add(refunded).ok_or_else(overflow)?;
        lines.push(l);
    }
    let price_discount = m.read_opt(
        pricing.price_discount.as_ref(),
        "pricingSummary.priceDiscount",
    )?;
    let delivery_discount = m
        .read_opt(
            pricing.delivery_discount.as_ref(),
            "pricingSummary.deliveryDiscount",
        )?
        .unwrap_or(0);
    amounts.discount_minor = price_discount.map_or(promotions, i64::abs) + delivery_discount.abs();
    amounts.delivery_minor = m
        .read_opt(
            pricing.delivery_cost.as_ref(),
            "pricingSummary.deliveryCost",
        )?
        .unwrap_or(line_delivery);
    amounts.tax_minor = m.read_opt(pricing.tax.as_ref(), "pricingSummary.tax")?;
    let order_refunds = o
        .payment_summary
        .as_ref()
        .map(|p| m.refunds(&p.refunds, "paymentSummary.refunds"))
        .transpose()?
        .unwrap_or(0);
    amounts.refunded_minor = if order_refunds > 0 {
        order_refunds
    } else {
        line_refunds
    };
    let amounts = amounts.reconcile(total_minor).map_err(|e| e.to_string())?;

    let status = if cancelled {
        OrderStatus::from_lines(&lines)
    } else if payment_status == Some(PaymentStatus::Pending) {
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

    let instruction = o.fulfillment_start_instructions.first();
    let pickup_point = instruction.and_then(in_store_pickup);
    let pickup = pickup_point.is_some();
    let ship_to = instruction
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
    let window_time =
        |v: Option<&String>, field: &str| v.map(|s| timestamp(Some(s), field)).transpose();
    let earliest = window_time(
        instruction.and_then(|f| f.min_estimated_delivery_date.as_ref()),
        "fulfillmentStartInstructions[0].minEstimatedDeliveryDate",
    )?;
    let latest = window_time(
        instruction.and_then(|f| f.max_estimated_delivery_date.as_ref()),
        "fulfillmentStartInstructions[0].maxEstimatedDeliveryDate",
    )?;

    Ok(Order {
        marketplace: MarketplaceKind::Ebay,
        order_number,
        status,
        placed_at,
        updated_at,
        fulfilled_at,
        cancelled_at,
        currency: currency.clone(),
        total_minor,
        country_code,
        lines,
        customer: Customer {
            email,
            phone,
            shipping: ship_to.map(contact_address),
            billing: registration.map(contact_address),
            delivery_notes: non_empty(o.buyer_checkout_notes.as_ref()),
            buyer_username: o
                .buyer
                .as_ref()
                .and_then(|b| non_empty(b.username.as_ref())),
            pickup_point,
            ..Customer::default()
        },
        terms: OrderTerms {
            fulfilment_method: instruction.map(|f| {
                if f.ebay_supported_fulfillment == Some(true) {
                    FulfilmentMethod::Marketplace
                } else {
                    FulfilmentMethod::Seller
                }
            }),
            pickup_point: pickup,
            delivery_window: (earliest.is_some() || latest.is_some())
                .then_some(DeliveryWindow { earliest, latest }),
            cancellation_requested,
            customer_reference: None,
            payment_status,
            amounts,
        },
    })
}

/// One line, with its delivery cost and refunds (which the order may state as a whole).
fn line(
    item: &wire::LineItem,
    i: usize,
    m: &Money<'_>,
    cancelled: bool,
) -> Result<(OrderLine, i64, i64), String> {
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
    let total_minor = m.read(cost, &field("lineItemCost"))?;
    let quantity_shipped = match item.line_item_fulfillment_status.as_deref() {
        Some("FULFILLED") => quantity,
        Some("NOT_STARTED") | Some("IN_PROGRESS") | None => 0,
        Some(_) => return Err(field("lineItemFulfillmentStatus") + " has an unknown value"),
    };
    let mut discount_minor = 0i64;
    for (p, promo) in item.applied_promotions.iter().enumerate() {
        if let Some(a) = &promo.discount_amount {
            let d = m.read(a, &field(&format!("appliedPromotions[{p}].discountAmount")))?;
            discount_minor = discount_minor
                .checked_add(d.abs())
                .ok_or_else(|| field("appliedPromotions") + " overflow")?;
        }
    }
    let delivery = m
        .read_opt(
            item.delivery_cost
                .as_ref()
                .and_then(|d| d.shipping_cost.as_ref()),
            &field("deliveryCost.shippingCost"),
        )?
        .unwrap_or(0);
    let refunded = m.refunds(&item.refunds, &field("refunds"))?;
    let q = i64::from(quantity);
    Ok((
        OrderLine {
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
            unit_price_minor: (total_minor % q == 0).then_some(total_minor / q),
            total_minor,
            discount_minor,
            tax_minor: None,
        },
        delivery,
        refunded,
    ))
}

fn timestamp(s: Option<&str>, field: &str) -> Result<DateTime<Utc>, String> {
    let s = s.ok_or_else(|| format!("{field} is missing"))?;
    parse_timestamp(s).ok_or_else(|| format!("{field} is not an ISO 8601 timestamp"))
}

fn currency_of(a: &wire::Amount, field: &str) -> Result<String, String> {
    a.currency
        .as_deref()
        .and_then(parse_currency)
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

/// Maps an eBay contact (name, company, address) to a canonical address, every part
/// verbatim: eBay sends one name string and unsplit address lines.
fn contact_address(c: &wire::ExtendedContact) -> Address {
    let a = c.contact_address.clone().unwrap_or_default();
    Address {
        full_name: non_empty(c.full_name.as_ref()),
        company: non_empty(c.company_name.as_ref()),
        street: non_empty(a.address_line1.as_ref()),
        extra: non_empty(a.address_line2.as_ref()),
        postcode: non_empty(a.postal_code.as_ref()),
        city: non_empty(a.city.as_ref()),
        state: non_empty(a.state_or_province.as_ref()),
        country_code: a
            .country_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| PersonalText::from(c.to_ascii_uppercase())),
        ..Address::default()
    }
}

/// In-Store Pickup (`fulfillmentInstructionsType` `PREPARE_FOR_PICKUP`, with a
/// `pickupStep`) is a pickup-point order: the point's name is the seller's
/// `merchantLocationKey`; its address is the seller's own store, which the order does not
/// carry, and there is no ship-to. Click and Collect orders look like ordinary `SHIP_TO`
/// orders whose ship-to is the store: the Fulfillment API marks them in no field, so they
/// stay ordinary. `finalDestinationAddress` (the buyer's home behind a GSP/eIS hub, or an
/// authenticator's warehouse) is not where the seller ships, and is not kept.
fn in_store_pickup(f: &wire::FulfillmentStartInstruction) -> Option<PickupPoint> {
    let step = f.pickup_step.as_ref();
    let pickup =
        step.is_some() || f.fulfillment_instructions_type.as_deref() == Some("PREPARE_FOR_PICKUP");
    pickup.then(|| PickupPoint {
        name: step
            .and_then(|p| p.merchant_location_key.as_deref())
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(PersonalText::from),
        address: None,
    })
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
