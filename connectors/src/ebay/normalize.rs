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
use serde_json::Value;

use super::wire;
use crate::marketplace::FetchedOrder;
use crate::model::{
    currency_decimals, parse_currency, to_minor_units, Address, Amounts, Customer, DeliveryWindow,
    FulfilmentMethod, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms,
    PaymentStatus, PersonalText,
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
            pickup_point: false,
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
        assert_eq!(o.lines[0].unit_price_minor, Some(1995));
        assert_eq!(o.lines[0].total_minor, 3990);
        assert_eq!(o.lines[0].quantity_shipped, 2);
        assert_eq!(o.lines[1].quantity_shipped, 0);
        assert_eq!(o.fulfilled_at, None);
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.full_name.as_deref(), Some("Anna de Vries"));
        assert_eq!(
            (ship.first_name.clone(), ship.last_name.clone()),
            (None, None)
        );
        assert_eq!(ship.street.as_deref(), Some("12 Rue de la Paix"));
        assert_eq!(ship.house_number, None, "eBay does not split house numbers");
        assert_eq!(ship.extra.as_deref(), Some("Bus 3"));
        assert_eq!(ship.country_code.as_deref(), Some("FR"));
        let bill = o.customer.billing.as_ref().unwrap();
        assert_eq!(bill.company.as_deref(), Some("de Vries Handel B.V."));
        assert_eq!(bill.street.as_deref(), Some("Kerkstraat 12"));
        assert_eq!(o.customer.buyer_username.as_deref(), Some("anna_nl"));
        assert_eq!(o.terms.payment_status, Some(PaymentStatus::Paid));
        assert_eq!(o.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
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

        // Cancelled after one line shipped: only the unshipped units are cancelled.
        let mut v = sample();
        v["cancelStatus"] = json!({"cancelState": "CANCELED", "cancelRequests": []});
        v["lineItems"][0]["quantity"] = json!(2);
        v["lineItems"][1]["quantity"] = json!(3);
        v["lineItems"][1]["lineItemCost"]["value"] = json!("19.50");
        v["pricingSummary"]["total"]["value"] = json!("59.40");
        let o = ok(&v);
        assert_eq!(o.lines[0].quantity_cancelled, 0, "shipped line");
        assert_eq!(o.lines[1].quantity_cancelled, 3);
        assert_eq!(o.cancelled_at, None, "partly shipped is not cancelled");
        assert_eq!(o.status, OrderStatus::Shipped);

        let mut v = sample();
        v["cancelStatus"]["cancelState"] = json!("IN_PROGRESS");
        let o = ok(&v);
        assert!(o.terms.cancellation_requested);
        assert_eq!(o.status, OrderStatus::PartiallyShipped);
        assert!(!ok(&sample()).terms.cancellation_requested);
    }

    fn failed(v: &Value) -> String {
        match normalize_value(v) {
            FetchedOrder::Failed { error, .. } => error,
            FetchedOrder::Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn currencies_are_checked_everywhere() {
        let mut v = sample();
        v["pricingSummary"]["total"]["currency"] = json!("EURO");
        assert_eq!(
            failed(&v),
            "pricingSummary.total.currency is missing or invalid"
        );
        let mut v = sample();
        v["lineItems"][1]["lineItemCost"]["currency"] = json!("EURO");
        assert_eq!(
            failed(&v),
            "lineItems[1].lineItemCost.currency is missing or invalid"
        );
        let mut v = sample();
        v["lineItems"][1]["lineItemCost"]["currency"] = json!("GBP");
        assert_eq!(
            failed(&v),
            "lineItems[1].lineItemCost.currency differs from the order currency"
        );
        let mut v = sample();
        v["pricingSummary"]["deliveryCost"] = json!({"value": "1.00", "currency": "USD"});
        assert!(failed(&v).starts_with("pricingSummary.deliveryCost"));
        // Lower case is still the code.
        let mut v = sample();
        v["pricingSummary"]["total"]["currency"] = json!("eur");
        assert_eq!(ok(&v).currency, "EUR");
    }

    #[test]
    fn discounts_delivery_and_refunds_explain_the_total() {
        // The real shape: lines 264.80, a 13.29 promotion, 4.99 delivery, total 256.51.
        let mut v = sample();
        v["lineItems"][0]["lineItemCost"]["value"] = json!("250.00");
        v["lineItems"][1]["lineItemCost"]["value"] = json!("14.80");
        v["lineItems"][0]["appliedPromotions"] = json!([
            {"discountAmount": {"value": "13.29", "currency": "EUR"}, "promotionId": "1"}
        ]);
        v["pricingSummary"] = json!({
            "priceSubtotal": {"value": "264.80", "currency": "EUR"},
            "priceDiscount": {"value": "-13.29", "currency": "EUR"},
            "deliveryCost": {"value": "5.00", "currency": "EUR"},
            "total": {"value": "256.51", "currency": "EUR"}
        });
        let o = ok(&v);
        let a = &o.terms.amounts;
        assert_eq!(
            (a.lines_minor, a.discount_minor, a.delivery_minor),
            (26_480, 1_329, 500)
        );
        assert_eq!((a.difference_minor, a.difference), (0, None));
        assert_eq!(o.lines[0].discount_minor, 1_329);
        assert_eq!(o.lines[1].discount_minor, 0);
        // Without priceDiscount the line promotions are the discount.
        let mut w = v.clone();
        w["pricingSummary"]
            .as_object_mut()
            .unwrap()
            .remove("priceDiscount");
        assert_eq!(ok(&w).terms.amounts.discount_minor, 1_329);
        // A delivery discount counts too.
        let mut w = v.clone();
        w["pricingSummary"]["deliveryDiscount"] = json!({"value": "-5.00", "currency": "EUR"});
        w["pricingSummary"]["total"]["value"] = json!("251.51");
        assert_eq!(ok(&w).terms.amounts.discount_minor, 1_829);
        // Tax added on top is named.
        let mut w = v.clone();
        w["pricingSummary"]["tax"] = json!({"value": "20.00", "currency": "EUR"});
        w["pricingSummary"]["total"]["value"] = json!("276.51");
        let a = ok(&w).terms.amounts;
        assert_eq!((a.tax_minor, a.difference_minor), (Some(2_000), 2_000));
        assert_eq!(a.difference, Some(crate::model::Difference::TaxAdded));
        // Anything unexplained fails the order, with no amount in the error.
        let mut w = v.clone();
        w["pricingSummary"]["total"]["value"] = json!("256.50");
        let e = failed(&w);
        assert!(
            e.contains("cannot be reconciled") && !e.contains("256"),
            "{e}"
        );

        // A full refund: payment status refunded, the amount kept.
        let mut w = v.clone();
        w["orderPaymentStatus"] = json!("FULLY_REFUNDED");
        w["paymentSummary"] = json!({"refunds": [
            {"amount": {"value": "256.51", "currency": "EUR"}, "refundStatus": "REFUNDED"},
            {"amount": {"value": "9.99", "currency": "EUR"}, "refundStatus": "FAILED"}
        ]});
        let o = ok(&w);
        assert_eq!(o.terms.payment_status, Some(PaymentStatus::Refunded));
        assert_eq!(o.terms.amounts.refunded_minor, 25_651);
        assert_eq!(o.total_minor, 25_651, "the total stays what was charged");
        // A partial refund on a line.
        let mut w = v.clone();
        w["orderPaymentStatus"] = json!("PARTIALLY_REFUNDED");
        w["lineItems"][1]["refunds"] = json!([{"amount": {"value": "4.80", "currency": "EUR"}}]);
        let o = ok(&w);
        assert_eq!(
            o.terms.payment_status,
            Some(PaymentStatus::PartiallyRefunded)
        );
        assert_eq!(o.terms.amounts.refunded_minor, 480);
        let mut w = v;
        w["orderPaymentStatus"] = json!("SOMETIMES");
        assert_eq!(failed(&w), "orderPaymentStatus has an unknown value");
    }

    #[test]
    fn fulfilment_window_and_state_are_kept() {
        let mut v = sample();
        v["fulfillmentStartInstructions"][0]["ebaySupportedFulfillment"] = json!(true);
        v["fulfillmentStartInstructions"][0]["minEstimatedDeliveryDate"] =
            json!("2026-01-12T08:00:00.000Z");
        v["fulfillmentStartInstructions"][0]["maxEstimatedDeliveryDate"] =
            json!("2026-01-15T20:00:00.000Z");
        v["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["contactAddress"]
            ["stateOrProvince"] = json!("Rhône");
        let o = ok(&v);
        assert_eq!(
            o.terms.fulfilment_method,
            Some(FulfilmentMethod::Marketplace)
        );
        let w = o.terms.delivery_window.unwrap();
        assert_eq!(w.earliest, parse_timestamp("2026-01-12T08:00:00.000Z"));
        assert_eq!(w.latest, parse_timestamp("2026-01-15T20:00:00.000Z"));
        assert_eq!(o.customer.shipping.unwrap().state.as_deref(), Some("Rhône"));
        v["fulfillmentStartInstructions"][0]["ebaySupportedFulfillment"] = json!(false);
        assert_eq!(
            ok(&v).terms.fulfilment_method,
            Some(FulfilmentMethod::Seller)
        );
        v["fulfillmentStartInstructions"][0]["maxEstimatedDeliveryDate"] = json!("soon");
        assert!(failed(&v).contains("maxEstimatedDeliveryDate"));
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
        assert!(ship.full_name.is_none() && ship.street.is_none() && ship.extra.is_none());
        assert_eq!(ship.city.as_deref(), Some("Lyon"));
        assert_eq!(ship.postcode.as_deref(), Some("69001"));
        assert_eq!(ship.country_code.as_deref(), Some("FR"));
        // Blank strings instead of absent keys mean the same.
        let mut v = sample();
        let c = v
            .pointer_mut("/fulfillmentStartInstructions/0/shippingStep/shipTo")
            .unwrap();
        c["fullName"] = json!("");
        c["email"] = json!(" ");
        c["contactAddress"]["addressLine1"] = json!("");
        let o = ok(&v);
        let ship = o.customer.shipping.unwrap();
        assert!(ship.full_name.is_none() && ship.street.is_none());
        assert_eq!(
            o.customer.email.as_deref(),
            Some("a1b2@members.ebay.com"),
            "falls back to the registration contact"
        );
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
}
