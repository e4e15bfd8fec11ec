//! Orders API v2026-01-01 wire types → the canonical [`Order`]. Kept next to, and shaped
//! like, the v0 normalizer ([`super::normalize`]) so a change to the canonical model lands
//! in both the same way.
//!
//! Mapping decisions (APIS.md §2, spec `amazon_orders_2026-01-01.json`):
//! - `fulfillment.fulfillmentStatus`: `PENDING_AVAILABILITY`/`PENDING` → pending,
//!   `UNSHIPPED` → open, `PARTIALLY_SHIPPED` → partially shipped, `SHIPPED` → shipped,
//!   `CANCELLED`/`UNFULFILLABLE` → cancelled. No `fulfillment` (not requested, or not
//!   released) fails the order: its status is unknown.
//! - `fulfilled_at` / `cancelled_at` = `lastUpdatedTime` once shipped / cancelled, as v0.
//! - Money: `unitPrice` is one unit; the line total is the `ITEM` proceeds breakdown
//!   when present, else unit × quantity. The order total is `proceeds.grandTotal`, else
//!   the sum of the lines. No prices while `PENDING` maps to 0, as v0.
//! - Recipient `name` stays whole in `full_name`, `addressLine1`–`3` stay verbatim in
//!   `street`, `extra`, `extra2`; `buyerName` + `buyerCompanyName` are the billing party;
//!   the delivery preference's free text becomes the delivery notes.
//! - `fulfillment.fulfilledBy` `AMAZON` → marketplace-fulfilled, `MERCHANT` → seller;
//!   `buyerPurchaseOrderNumber` is the customer reference; `fulfillment.deliverByWindow`
//!   is the promised delivery window.
//! - The money breakdown (`terms.amounts`) comes from the proceeds breakdowns: the
//!   order's `proceeds.breakdowns`, else the items' summed. `ITEM` is the lines,
//!   `SHIPPING` the delivery, `DISCOUNT` the discounts (sign dropped), `TAX` the tax;
//!   `GIFT_WRAP`, `COD_FEE`, `DELIVERY_TIP`, `OTHER` (and any category Amazon adds) are
//!   other charges. The grand total must reconcile: a difference of exactly the tax is
//!   `tax_added`, of the other charges plus tax `other_charges`; anything else fails the
//!   order. Per line, its `DISCOUNT` and `TAX` breakdowns are its discount and tax. An
//!   order with no breakdown at all keeps its difference as `not_broken_down`, one with
//!   unpriced items as `not_priced_yet`.
//! - The unit price is `unitPrice` as Amazon gives it; without one, derived only where
//!   the line total divides exactly.
//! - A cancelled order's unfulfilled units count as cancelled.
//!
//! Errors name fields, never values: they end up in logs and in the connection's status.

use chrono::{DateTime, Utc};

use super::wire_v2026 as wire;
use crate::model::{
    currency_decimals, to_minor_units, Address, Amounts, Customer, DeliveryWindow, Difference,
    FulfilmentMethod, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms,
    PersonalText,
};

/// Maps a v2026 `FulfillmentStatus` to the canonical status; `None` for an unknown one.
pub fn map_status(status: &str) -> Option<OrderStatus> {
    Some(match status {
        "PENDING" | "PENDING_AVAILABILITY" => OrderStatus::Pending,
        "UNSHIPPED" => OrderStatus::Open,
        "PARTIALLY_SHIPPED" => OrderStatus::PartiallyShipped,
        "SHIPPED" => OrderStatus::Shipped,
        "CANCELLED" | "UNFULFILLABLE" => OrderStatus::Cancelled,
        _ => return None,
    })
}

/// Builds the canonical order from one searchOrders / getOrder entry (items included).
/// The error text names the offending field only.
pub fn normalize(order: &wire::Order) -> Result<Order, String> {
    let order_number =
        OrderNumber::parse(&order.order_id).map_err(|e| format!("orderId is invalid: {e}"))?;
    let fulfillment = order
        .fulfillment
        .as_ref()
        .ok_or_else(|| "fulfillment is missing (includedData FULFILLMENT)".to_string())?;
    let status = map_status(&fulfillment.fulfillment_status)
        .ok_or_else(|| "fulfillment.fulfillmentStatus is unknown".to_string())?;
    let placed_at = parse_date(&order.created_time, "createdTime")?;
    let updated_at = parse_date(&order.last_updated_time, "lastUpdatedTime")?;

    let currency = currency(order)?;
    let decimals = currency_decimals(&currency);
    let cancelled = status == OrderStatus::Cancelled;
    let mut lines = Vec::with_capacity(order.order_items.len());
    for item in &order.order_items {
        lines.push(line(item, &currency, decimals, cancelled)?);
    }
    let grand_total = order.proceeds.as_ref().and_then(|p| p.grand_total.as_ref());
    let total_minor = match grand_total {
        Some(m) => amount(m, &currency, decimals, "proceeds.grandTotal")?,
        None => lines.iter().map(|l| l.total_minor).sum(),
    };
    // Only a stated grand total has parts to explain.
    let breakdown = match grand_total {
        Some(_) => breakdown(order, &currency, decimals)?,
        None => None,
    };

    let delivery = order
        .recipient
        .as_ref()
        .and_then(|r| r.delivery_address.as_ref());
    let customer = Customer {
        email: order.buyer.as_ref().and_then(|b| non_empty(&b.buyer_email)),
        phone: delivery.and_then(|a| non_empty(&a.phone)),
        shipping: delivery.map(address),
        billing: order.buyer.as_ref().and_then(billing),
        delivery_notes: order
            .recipient
            .as_ref()
            .and_then(|r| r.delivery_preference.as_ref())
            .and_then(notes),
        ..Customer::default()
    };
    let terms = OrderTerms {
        fulfilment_method: match fulfillment.fulfilled_by.as_deref() {
            Some("AMAZON") => Some(FulfilmentMethod::Marketplace),
            Some("MERCHANT") => Some(FulfilmentMethod::Seller),
            _ => None,
        },
        customer_reference: order
            .buyer
            .as_ref()
            .and_then(|b| non_empty(&b.buyer_purchase_order_number))
            .map(|r| r.as_str().chars().take(128).collect()),
        delivery_window: fulfillment
            .deliver_by_window
            .as_ref()
            .map(delivery_window)
            .transpose()?
            .flatten(),
        amounts: amounts(order, &lines, total_minor, breakdown)?,
        ..OrderTerms::default()
    };
    Ok(Order {
        marketplace: MarketplaceKind::Amazon,
        order_number,
        status,
        placed_at,
        updated_at,
        fulfilled_at: (status == OrderStatus::Shipped).then_some(updated_at),
        cancelled_at: cancelled.then_some(updated_at),
        currency,
        total_minor,
        country_code: delivery
            .and_then(|a| a.country_code.as_deref())
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty()),
        lines,
        customer,
        terms,
    })
}

/// Proceeds summed by category, in minor units of the order currency.
#[derive(Debug, Default, PartialEq, Eq)]
struct Breakdown {
    shipping: i64,
    /// Positive, whatever sign Amazon gives it.
    discount: i64,
    tax: Option<i64>,
    /// Gift wrap, cash on delivery fee, delivery tip, other, and unknown categories.
    charges: i64,
}

impl Breakdown {
    fn add(&mut self, kind: &str, minor: i64) -> Result<(), String> {
        let (slot, minor) = match kind {
            // The lines carry it (each item's own ITEM breakdown).
            "ITEM" => return Ok(()),
            "SHIPPING" => (&mut self.shipping, minor),
            "DISCOUNT" => (&mut self.discount, minor.saturating_abs()),
            "TAX" => (self.tax.get_or_insert(0), minor),
            _ => (&mut self.charges, minor),
        };
        *slot = slot
            .checked_add(minor)
            .ok_or_else(|| "proceeds.breakdowns overflow".to_string())?;
        Ok(())
    }
}

/// The order's proceeds breakdown: its own, else its items' summed; `None` when Amazon
/// gave neither.
fn breakdown(
    order: &wire::Order,
    currency: &str,
    decimals: u32,
) -> Result<Option<Breakdown>, String> {
    let mut b = Breakdown::default();
    let own = order
        .proceeds
        .as_ref()
        .map(|p| p.breakdowns.as_slice())
        .unwrap_or_default();
    if !own.is_empty() {
        for part in own {
            let minor = amount(&part.subtotal, currency, decimals, "proceeds.breakdowns")?;
            b.add(&part.kind, minor)?;
        }
        return Ok(Some(b));
    }
    let mut any = false;
    for part in order
        .order_items
        .iter()
        .filter_map(|i| i.proceeds.as_ref())
        .flat_map(|p| &p.breakdowns)
    {
        let field = "orderItems[].proceeds.breakdowns";
        b.add(
            &part.kind,
            amount(&part.subtotal, currency, decimals, field)?,
        )?;
        any = true;
    }
    Ok(any.then_some(b))
}

fn amounts(
    order: &wire::Order,
    lines: &[OrderLine],
    total_minor: i64,
    breakdown: Option<Breakdown>,
) -> Result<Amounts, String> {
    let a = Amounts {
        lines_minor: lines.iter().map(|l| l.total_minor).sum(),
        ..Amounts::default()
    };
    let unpriced = order.order_items.iter().any(|i| {
        i.product
            .price
            .as_ref()
            .and_then(|p| p.unit_price.as_ref())
            .is_none()
    });
    if unpriced {
        return Ok(a.not_priced_yet(total_minor));
    }
    let Some(b) = breakdown else {
        let mut a = a;
        a.difference_minor = total_minor.saturating_sub(a.lines_minor);
        a.difference = (a.difference_minor != 0).then_some(Difference::NotBrokenDown);
        return Ok(a);
    };
    Amounts {
        discount_minor: b.discount,
        delivery_minor: b.shipping,
        tax_minor: b.tax,
        ..a
    }
    .reconcile_with_charges(total_minor, b.charges)
    .map_err(|e| e.to_string())
}

/// `deliverByWindow`; `None` when it has neither end.
fn delivery_window(w: &wire::DateTimeRange) -> Result<Option<DeliveryWindow>, String> {
    let at = |v: &Option<String>, field: &str| {
        v.as_deref()
            .map(|s| parse_date(s, &format!("fulfillment.deliverByWindow.{field}")))
            .transpose()
    };
    let earliest = at(&w.earliest_date_time, "earliestDateTime")?;
    let latest = at(&w.latest_date_time, "latestDateTime")?;
    Ok((earliest.is_some() || latest.is_some()).then_some(DeliveryWindow { earliest, latest }))
}

fn parse_date(value: &str, field: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("{field} is not an ISO 8601 date-time"))
}

fn currency_code(money: &wire::Money, field: &str) -> Result<String, String> {
    let code = money.currency_code.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(format!("{field}.currencyCode is not an ISO 4217 code"))
    }
}

/// The order's currency: the grand total's, else the first priced item's. An order with
/// no money at all (pending, not yet priced) has no currency Amazon tells us.
fn currency(order: &wire::Order) -> Result<String, String> {
    if let Some(m) = order.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        return currency_code(m, "proceeds.grandTotal");
    }
    let first = order
        .order_items
        .iter()
        .find_map(|i| i.product.price.as_ref().and_then(|p| p.unit_price.as_ref()))
        .ok_or_else(|| "proceeds.grandTotal is missing (includedData PROCEEDS)".to_string())?;
    currency_code(first, "orderItems[].product.price.unitPrice")
}

fn amount(money: &wire::Money, currency: &str, decimals: u32, field: &str) -> Result<i64, String> {
    if currency_code(money, field)? != currency {
        return Err(format!("{field}.currencyCode differs from the order's"));
    }
    to_minor_units(&money.amount, decimals)
        .ok_or_else(|| format!("{field}.amount is not a decimal amount"))
}

fn line(
    item: &wire::OrderItem,
    currency: &str,
    decimals: u32,
    cancelled: bool,
) -> Result<OrderLine, String> {
    if item.order_item_id.trim().is_empty() {
        return Err("orderItems[].orderItemId is empty".into());
    }
    let quantity = item.quantity_ordered;
    let shipped = item
        .fulfillment
        .as_ref()
        .and_then(|f| f.quantity_fulfilled)
        .unwrap_or(0);
    if shipped > quantity {
        return Err("orderItems[].fulfillment.quantityFulfilled exceeds quantityOrdered".into());
    }
    let unit = match item
        .product
        .price
        .as_ref()
        .and_then(|p| p.unit_price.as_ref())
    {
        Some(m) => Some(amount(
            m,
            currency,
            decimals,
            "orderItems[].product.price.unitPrice",
        )?),
        None => None,
    };
    let breakdowns = item
        .proceeds
        .as_ref()
        .map(|p| p.breakdowns.as_slice())
        .unwrap_or_default();
    let item_breakdown = breakdowns.iter().find(|b| b.kind == "ITEM");
    // A line's own discount and tax, where its proceeds break them down.
    let mut discount_minor = 0i64;
    let mut tax_minor: Option<i64> = None;
    for b in breakdowns {
        let field = "orderItems[].proceeds.breakdowns";
        match b.kind.as_str() {
            "DISCOUNT" => {
                let d = amount(&b.subtotal, currency, decimals, field)?.saturating_abs();
                discount_minor = discount_minor.saturating_add(d);
            }
            "TAX" => {
                let t = amount(&b.subtotal, currency, decimals, field)?;
                tax_minor = Some(tax_minor.unwrap_or(0).saturating_add(t));
            }
            _ => {}
        }
    }
    let total_minor = match (item_breakdown, unit) {
        (Some(b), _) => amount(
            &b.subtotal,
            currency,
            decimals,
            "orderItems[].proceeds.breakdowns[ITEM].subtotal",
        )?,
        (None, Some(u)) => u * i64::from(quantity),
        (None, None) => 0,
    };
    let unit_price_minor = match (unit, i64::from(quantity)) {
        (Some(u), _) => Some(u),
        (None, 0) => None,
        (None, q) => (total_minor % q == 0 && item_breakdown.is_some()).then(|| total_minor / q),
    };
    Ok(OrderLine {
        line_id: item.order_item_id.clone(),
        sku: item.product.seller_sku.clone(),
        ean: None,
        title: item.product.title.clone().unwrap_or_default(),
        quantity,
        quantity_shipped: shipped,
        quantity_cancelled: if cancelled { quantity - shipped } else { 0 },
        unit_price_minor,
        total_minor,
        discount_minor,
        tax_minor,
    })
}

fn non_empty(v: &Option<PersonalText>) -> Option<PersonalText> {
    v.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

fn address(a: &wire::CustomerAddress) -> Address {
    Address {
        full_name: non_empty(&a.name),
        company: non_empty(&a.company_name),
        street: non_empty(&a.address_line1),
        extra: non_empty(&a.address_line2),
        extra2: non_empty(&a.address_line3),
        postcode: non_empty(&a.postal_code),
        city: non_empty(&a.city),
        state: non_empty(&a.state_or_region),
        country_code: a
            .country_code
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_ascii_uppercase().into()),
        ..Address::default()
    }
}

fn billing(b: &wire::Buyer) -> Option<Address> {
    let name = non_empty(&b.buyer_name);
    let company = non_empty(&b.buyer_company_name);
    (name.is_some() || company.is_some()).then(|| Address {
        full_name: name,
        company,
        ..Address::default()
    })
}

fn notes(p: &wire::DeliveryPreference) -> Option<PersonalText> {
    let parts: Vec<&str> = [&p.drop_off_location, &p.address_instruction]
        .into_iter()
        .filter_map(|v| v.as_deref())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("; ").into())
}

#[cfg(test)]
#[path = "normalize_v2026_tests.rs"]
mod tests;
