//! Orders v0 wire types → the canonical [`Order`].
//!
//! Mapping decisions (APIS.md §2):
//! - `OrderStatus`: `Pending`/`PendingAvailability` → pending, `Unshipped` → open,
//!   `PartiallyShipped` → partially shipped, `Shipped`/`InvoiceUnconfirmed` → shipped,
//!   `Canceled`/`Unfulfillable` → cancelled (neither will ever ship).
//! - `fulfilled_at` / `cancelled_at` = `LastUpdateDate` once the order is shipped /
//!   cancelled: Amazon has no separate timestamp, and the shipping or cancelling
//!   transition is the last status change that bumps `LastUpdateDate`.
//! - Money: `Amount` strings to integer minor units; `ItemPrice` is the line total, the
//!   unit price is that divided by `QuantityOrdered`. Amazon omits item prices while an
//!   order is `Pending`, which maps to 0 until a later update brings them.
//! - Amazon gives one recipient `Name`; it goes whole into `last_name` (splitting names
//!   is guesswork). `AddressLine1` goes whole into `street`, lines 2–3 into `extra`.
//!   `BuyerName` and `BuyerTaxInfo.CompanyLegalName` become the billing party.
//! - Amazon sends no cancelled quantity per item; a cancelled order's unshipped units
//!   count as cancelled.
//!
//! Errors name fields, never values: they end up in logs and in the connection's status.

use chrono::{DateTime, Utc};

use super::wire;
use crate::model::{
    currency_decimals, to_minor_units, Address, Customer, MarketplaceKind, Order, OrderLine,
    OrderNumber, OrderStatus, PersonalText,
};

/// Maps an Orders v0 `OrderStatus` to the canonical status; `None` for an unknown one.
pub fn map_status(status: &str) -> Option<OrderStatus> {
    Some(match status {
        "Pending" | "PendingAvailability" => OrderStatus::Pending,
        "Unshipped" => OrderStatus::Open,
        "PartiallyShipped" => OrderStatus::PartiallyShipped,
        "Shipped" | "InvoiceUnconfirmed" => OrderStatus::Shipped,
        "Canceled" | "Unfulfillable" => OrderStatus::Cancelled,
        _ => return None,
    })
}

/// Builds the canonical order from a getOrders entry and all of its getOrderItems.
/// The error text names the offending field only.
pub fn normalize(order: &wire::Order, items: &[wire::OrderItem]) -> Result<Order, String> {
    let order_number = OrderNumber::parse(&order.amazon_order_id)
        .map_err(|e| format!("AmazonOrderId is invalid: {e}"))?;
    let status =
        map_status(&order.order_status).ok_or_else(|| "OrderStatus is unknown".to_string())?;
    let placed_at = parse_date(&order.purchase_date, "PurchaseDate")?;
    let updated_at = parse_date(&order.last_update_date, "LastUpdateDate")?;

    let (currency, total_minor) = order_total(order, items)?;
    let decimals = currency_decimals(&currency);
    let cancelled = status == OrderStatus::Cancelled;
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        lines.push(line(item, decimals, cancelled)?);
    }

    let shipping = order.shipping_address.as_ref();
    let customer = Customer {
        email: order
            .buyer_info
            .as_ref()
            .and_then(|b| b.buyer_email.clone()),
        phone: shipping.and_then(|a| a.phone.clone()),
        shipping: shipping.map(address),
        billing: order.buyer_info.as_ref().and_then(billing),
        delivery_notes: None,
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
        country_code: shipping
            .and_then(|a| a.country_code.as_deref())
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty()),
        lines,
        customer,
    })
}

fn parse_date(value: &str, field: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("{field} is not an ISO 8601 date-time"))
}

fn amount(money: &wire::Money, decimals: u32, field: &str) -> Result<i64, String> {
    let raw = money
        .amount
        .as_deref()
        .ok_or_else(|| format!("{field}.Amount is missing"))?;
    to_minor_units(raw, decimals).ok_or_else(|| format!("{field}.Amount is not a decimal amount"))
}

fn currency_code(money: &wire::Money, field: &str) -> Result<String, String> {
    let code = money
        .currency_code
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_default();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(format!("{field}.CurrencyCode is not an ISO 4217 code"))
    }
}

/// `OrderTotal`, or (Amazon drops it on some cancelled orders) the sum of the items.
fn order_total(order: &wire::Order, items: &[wire::OrderItem]) -> Result<(String, i64), String> {
    if let Some(total) = &order.order_total {
        let currency = currency_code(total, "OrderTotal")?;
        let minor = amount(total, currency_decimals(&currency), "OrderTotal")?;
        return Ok((currency, minor));
    }
    let priced: Vec<&wire::Money> = items.iter().filter_map(|i| i.item_price.as_ref()).collect();
    let first = priced
        .first()
        .ok_or_else(|| "OrderTotal is missing".to_string())?;
    let currency = currency_code(first, "OrderItems[].ItemPrice")?;
    let decimals = currency_decimals(&currency);
    let mut sum = 0i64;
    for m in priced {
        sum += amount(m, decimals, "OrderItems[].ItemPrice")?;
    }
    Ok((currency, sum))
}

fn line(item: &wire::OrderItem, decimals: u32, cancelled: bool) -> Result<OrderLine, String> {
    if item.order_item_id.trim().is_empty() {
        return Err("OrderItems[].OrderItemId is empty".into());
    }
    let quantity = item.quantity_ordered;
    let shipped = item.quantity_shipped.unwrap_or(0);
    if shipped > quantity {
        return Err("OrderItems[].QuantityShipped exceeds QuantityOrdered".into());
    }
    let total_minor = match &item.item_price {
        Some(m) => amount(m, decimals, "OrderItems[].ItemPrice")?,
        None => 0,
    };
    let unit_price_minor = if quantity == 0 {
        total_minor
    } else {
        total_minor / i64::from(quantity)
    };
    Ok(OrderLine {
        line_id: item.order_item_id.clone(),
        sku: item.seller_sku.clone(),
        ean: None,
        title: item.title.clone().unwrap_or_default(),
        quantity,
        quantity_shipped: shipped,
        quantity_cancelled: if cancelled { quantity - shipped } else { 0 },
        unit_price_minor,
        total_minor,
    })
}

fn non_empty(v: &Option<PersonalText>) -> Option<PersonalText> {
    v.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

fn address(a: &wire::Address) -> Address {
    let extra = [&a.address_line2, &a.address_line3]
        .into_iter()
        .filter_map(non_empty)
        .map(|t| t.as_str().to_owned())
        .collect::<Vec<_>>();
    Address {
        last_name: non_empty(&a.name),
        company: non_empty(&a.company_name),
        street: non_empty(&a.address_line1),
        extra: (!extra.is_empty()).then(|| extra.join(", ").into()),
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

fn billing(b: &wire::BuyerInfo) -> Option<Address> {
    let name = non_empty(&b.buyer_name);
    let company = b
        .buyer_tax_info
        .as_ref()
        .and_then(|t| non_empty(&t.company_legal_name));
    (name.is_some() || company.is_some()).then(|| Address {
        last_name: name,
        company,
        ..Address::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(a: &str) -> Option<wire::Money> {
        Some(wire::Money {
            currency_code: Some("EUR".into()),
            amount: Some(a.into()),
        })
    }

    fn order(status: &str) -> wire::Order {
        wire::Order {
            amazon_order_id: "302-1234567-7654321".into(),
            purchase_date: "2026-01-05T10:00:00Z".into(),
            last_update_date: "2026-01-06T11:30:00Z".into(),
            order_status: status.into(),
            order_total: money("59.97"),
            shipping_address: Some(wire::Address {
                name: Some("Anna de Vries".into()),
                address_line1: Some("Kerkstraat 12".into()),
                address_line2: Some("".into()),
                city: Some("Utrecht".into()),
                postal_code: Some("3511 AB".into()),
                country_code: Some("nl".into()),
                phone: Some("+31612345678".into()),
                ..Default::default()
            }),
            buyer_info: Some(wire::BuyerInfo {
                buyer_email: Some("abc@marketplace.amazon.nl".into()),
                buyer_name: Some("Anna de Vries".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn item(id: &str, qty: u32, shipped: u32, price: Option<&str>) -> wire::OrderItem {
        wire::OrderItem {
            asin: "B000000001".into(),
            seller_sku: Some("SKU-1".into()),
            order_item_id: id.into(),
            title: Some("Yogamat".into()),
            quantity_ordered: qty,
            quantity_shipped: Some(shipped),
            item_price: price.and_then(money),
            ..Default::default()
        }
    }

    #[test]
    fn statuses_map_to_canonical() {
        for (s, c) in [
            ("Pending", OrderStatus::Pending),
            ("PendingAvailability", OrderStatus::Pending),
            ("Unshipped", OrderStatus::Open),
            ("PartiallyShipped", OrderStatus::PartiallyShipped),
            ("Shipped", OrderStatus::Shipped),
            ("InvoiceUnconfirmed", OrderStatus::Shipped),
            ("Canceled", OrderStatus::Cancelled),
            ("Unfulfillable", OrderStatus::Cancelled),
        ] {
            assert_eq!(map_status(s), Some(c), "{s}");
        }
        assert_eq!(map_status("Cancelled"), None, "Amazon spells it Canceled");
    }

    #[test]
    fn shipped_order_maps_money_lines_dates_and_personal_data() {
        let items = [
            item("12345678901234", 2, 2, Some("39.98")),
            item("12345678901235", 1, 1, Some("19.99")),
        ];
        let o = normalize(&order("Shipped"), &items).unwrap();
        assert_eq!(o.order_number.as_str(), "302-1234567-7654321");
        assert_eq!(o.status, OrderStatus::Shipped);
        assert_eq!(o.total_minor, 5997);
        assert_eq!(o.currency, "EUR");
        assert_eq!(o.updated_at.to_rfc3339(), "2026-01-06T11:30:00+00:00");
        assert_eq!(o.fulfilled_at, Some(o.updated_at));
        assert_eq!(o.cancelled_at, None);
        assert_eq!(o.country_code.as_deref(), Some("NL"));
        assert_eq!(o.lines[0].unit_price_minor, 1999);
        assert_eq!(o.lines[0].total_minor, 3998);
        assert_eq!(o.lines[0].quantity_shipped, 2);
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.last_name.as_deref(), Some("Anna de Vries"));
        assert_eq!(ship.street.as_deref(), Some("Kerkstraat 12"));
        assert_eq!(ship.extra, None, "empty AddressLine2 is dropped");
        assert_eq!(o.customer.phone.as_deref(), Some("+31612345678"));
        assert_eq!(
            o.customer.email.as_deref(),
            Some("abc@marketplace.amazon.nl")
        );
        let bill = o.customer.billing.as_ref().unwrap();
        assert_eq!(bill.last_name.as_deref(), Some("Anna de Vries"));
    }

    #[test]
    fn cancelled_and_pending_orders() {
        let c = normalize(&order("Canceled"), &[item("1", 3, 0, Some("3.00"))]).unwrap();
        assert_eq!(c.status, OrderStatus::Cancelled);
        assert_eq!(c.cancelled_at, Some(c.updated_at));
        assert_eq!(c.lines[0].quantity_cancelled, 3);
        assert_eq!(c.fulfilled_at, None);

        let mut p = order("Pending");
        p.shipping_address = None;
        let p = normalize(&p, &[item("1", 2, 0, None)]).unwrap();
        assert_eq!(p.status, OrderStatus::Pending);
        assert_eq!(p.lines[0].total_minor, 0, "no prices while Pending");
        assert_eq!(p.customer.shipping, None);
        assert_eq!(p.country_code, None);
    }

    #[test]
    fn missing_order_total_falls_back_to_items() {
        let mut o = order("Canceled");
        o.order_total = None;
        let n = normalize(
            &o,
            &[item("1", 1, 0, Some("5.50")), item("2", 1, 0, Some("1"))],
        )
        .unwrap();
        assert_eq!((n.currency.as_str(), n.total_minor), ("EUR", 650));
    }

    #[test]
    fn errors_name_fields_never_values() {
        let mut o = order("Shipped");
        o.order_total = money("EUR 12,34");
        let e = normalize(&o, &[]).unwrap_err();
        assert_eq!(e, "OrderTotal.Amount is not a decimal amount");
        let mut o = order("Shipped");
        o.purchase_date = "Anna de Vries".into();
        let e = normalize(&o, &[]).unwrap_err();
        assert!(e.contains("PurchaseDate") && !e.contains("Anna"), "{e}");
        let mut o = order("Sent");
        o.amazon_order_id = "302-1".into();
        assert_eq!(normalize(&o, &[]).unwrap_err(), "OrderStatus is unknown");
        let mut o = order("Shipped");
        o.amazon_order_id = "302/../x".into();
        assert!(normalize(&o, &[]).unwrap_err().starts_with("AmazonOrderId"));
    }
}
