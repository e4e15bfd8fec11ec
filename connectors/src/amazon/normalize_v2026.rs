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
//!   `buyerPurchaseOrderNumber` is the customer reference. The money breakdown
//!   (`terms.amounts`) holds the lines' sum; a total that differs is kept and named
//!   `not_priced_yet` (unpriced items) or `not_broken_down` (the v2026 proceeds
//!   breakdown of shipping, tax and promotions is not mapped yet).
//! - The unit price is `unitPrice` as Amazon gives it; without one, derived only where
//!   the line total divides exactly.
//! - A cancelled order's unfulfilled units count as cancelled.
//!
//! Errors name fields, never values: they end up in logs and in the connection's status.

use chrono::{DateTime, Utc};

use super::wire_v2026 as wire;
use crate::model::{
    currency_decimals, to_minor_units, Address, Amounts, Customer, Difference, FulfilmentMethod,
    MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms, PersonalText,
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
    let total_minor = match order.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        Some(m) => amount(m, &currency, decimals, "proceeds.grandTotal")?,
        None => lines.iter().map(|l| l.total_minor).sum(),
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
        amounts: amounts(order, &lines, total_minor),
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

fn amounts(order: &wire::Order, lines: &[OrderLine], total_minor: i64) -> Amounts {
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
        return a.not_priced_yet(total_minor);
    }
    let mut a = a;
    a.difference_minor = total_minor.saturating_sub(a.lines_minor);
    a.difference = (a.difference_minor != 0).then_some(Difference::NotBrokenDown);
    a
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
    let item_breakdown = item
        .proceeds
        .as_ref()
        .and_then(|p| p.breakdowns.iter().find(|b| b.kind == "ITEM"));
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
        discount_minor: 0,
        tax_minor: None,
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
mod tests {
    use super::*;

    fn money(a: &str) -> wire::Money {
        wire::Money {
            amount: a.into(),
            currency_code: "EUR".into(),
        }
    }

    fn item(id: &str, qty: u32, shipped: u32, unit: Option<&str>) -> wire::OrderItem {
        wire::OrderItem {
            order_item_id: id.into(),
            quantity_ordered: qty,
            product: wire::ItemProduct {
                asin: Some("B000000001".into()),
                title: Some("Yogamat".into()),
                seller_sku: Some("SKU-1".into()),
                price: unit.map(|u| wire::ItemPrice {
                    unit_price: Some(money(u)),
                }),
            },
            proceeds: None,
            fulfillment: Some(wire::ItemFulfillment {
                quantity_fulfilled: Some(shipped),
                quantity_unfulfilled: Some(qty - shipped),
            }),
        }
    }

    fn order(status: &str) -> wire::Order {
        wire::Order {
            order_id: "302-1234567-7654321".into(),
            created_time: "2026-01-05T10:00:00Z".into(),
            last_updated_time: "2026-01-06T11:30:00Z".into(),
            sales_channel: wire::SalesChannel {
                channel_name: "AMAZON".into(),
                marketplace_id: Some("A1805IZSGTT6HS".into()),
                marketplace_name: Some("Amazon.nl".into()),
            },
            buyer: Some(wire::Buyer {
                buyer_name: Some("Anna de Vries".into()),
                buyer_email: Some("abc@marketplace.amazon.nl".into()),
                ..Default::default()
            }),
            recipient: Some(wire::Recipient {
                delivery_address: Some(wire::CustomerAddress {
                    name: Some("Anna de Vries".into()),
                    address_line1: Some("Kerkstraat 12".into()),
                    address_line2: Some("".into()),
                    city: Some("Utrecht".into()),
                    postal_code: Some("3511 AB".into()),
                    country_code: Some("nl".into()),
                    phone: Some("+31612345678".into()),
                    ..Default::default()
                }),
                delivery_preference: None,
            }),
            proceeds: Some(wire::OrderProceeds {
                grand_total: Some(money("59.97")),
            }),
            fulfillment: Some(wire::OrderFulfillment {
                fulfillment_status: status.into(),
                ..Default::default()
            }),
            order_items: vec![
                item("12345678901234", 2, 2, Some("19.99")),
                item("12345678901235", 1, 1, Some("19.99")),
            ],
        }
    }

    #[test]
    fn statuses_map_to_canonical() {
        for (s, c) in [
            ("PENDING_AVAILABILITY", OrderStatus::Pending),
            ("PENDING", OrderStatus::Pending),
            ("UNSHIPPED", OrderStatus::Open),
            ("PARTIALLY_SHIPPED", OrderStatus::PartiallyShipped),
            ("SHIPPED", OrderStatus::Shipped),
            ("CANCELLED", OrderStatus::Cancelled),
            ("UNFULFILLABLE", OrderStatus::Cancelled),
        ] {
            assert_eq!(map_status(s), Some(c), "{s}");
        }
        assert_eq!(
            map_status("Shipped"),
            None,
            "v2026 spells statuses in capitals"
        );
    }

    #[test]
    fn shipped_order_maps_money_lines_dates_and_personal_data() {
        let o = normalize(&order("SHIPPED")).unwrap();
        assert_eq!(o.order_number.as_str(), "302-1234567-7654321");
        assert_eq!(o.status, OrderStatus::Shipped);
        assert_eq!((o.currency.as_str(), o.total_minor), ("EUR", 5997));
        assert_eq!(o.fulfilled_at, Some(o.updated_at));
        assert_eq!(o.country_code.as_deref(), Some("NL"));
        assert_eq!(o.lines[0].unit_price_minor, Some(1999));
        assert_eq!(o.lines[0].total_minor, 3998);
        assert_eq!(o.lines[0].quantity_shipped, 2);
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.full_name.as_deref(), Some("Anna de Vries"));
        assert_eq!(ship.street.as_deref(), Some("Kerkstraat 12"));
        assert_eq!(ship.extra, None);
        assert_eq!(o.customer.phone.as_deref(), Some("+31612345678"));
        assert_eq!(
            o.customer.email.as_deref(),
            Some("abc@marketplace.amazon.nl")
        );
        assert_eq!(
            o.customer.billing.as_ref().unwrap().full_name.as_deref(),
            Some("Anna de Vries")
        );
    }

    #[test]
    fn cancelled_pending_and_unpriced_orders() {
        let mut c = order("CANCELLED");
        c.order_items = vec![item("1", 3, 0, Some("1.00"))];
        let c = normalize(&c).unwrap();
        assert_eq!(c.cancelled_at, Some(c.updated_at));
        assert_eq!(c.lines[0].quantity_cancelled, 3);

        let mut p = order("PENDING");
        p.recipient = None;
        p.order_items = vec![item("1", 2, 0, None)];
        let p = normalize(&p).unwrap();
        assert_eq!(p.lines[0].total_minor, 0);
        assert_eq!((p.customer.shipping.clone(), p.country_code), (None, None));

        let mut n = order("UNSHIPPED");
        n.proceeds = None;
        assert_eq!(normalize(&n).unwrap().total_minor, 5997, "sum of lines");
    }

    #[test]
    fn errors_name_fields_never_values() {
        let mut o = order("SHIPPED");
        o.proceeds = Some(wire::OrderProceeds {
            grand_total: Some(money("EUR 12,34")),
        });
        assert_eq!(
            normalize(&o).unwrap_err(),
            "proceeds.grandTotal.amount is not a decimal amount"
        );
        let mut o = order("SHIPPED");
        o.created_time = "Anna de Vries".into();
        let e = normalize(&o).unwrap_err();
        assert!(e.contains("createdTime") && !e.contains("Anna"), "{e}");
        assert_eq!(
            normalize(&order("Sent")).unwrap_err(),
            "fulfillment.fulfillmentStatus is unknown"
        );
        let mut o = order("SHIPPED");
        o.fulfillment = None;
        assert!(normalize(&o)
            .unwrap_err()
            .starts_with("fulfillment is missing"));
    }
}
