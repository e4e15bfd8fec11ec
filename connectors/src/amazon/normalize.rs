//! Orders v0 wire types → the canonical [`Order`].
//!
//! Mapping decisions (APIS.md §2):
//! - `OrderStatus`: `Pending`/`PendingAvailability` → pending, `Unshipped` → open,
//!   `PartiallyShipped` → partially shipped, `Shipped`/`InvoiceUnconfirmed` → shipped,
//!   `Canceled`/`Unfulfillable` → cancelled (neither will ever ship).
//! - `fulfilled_at` / `cancelled_at` = `LastUpdateDate` once the order is shipped /
//!   cancelled: Amazon has no separate timestamp; `LastUpdateDate` is at or after the
//!   transition, so retention can start late, never early (the service keeps the
//!   earliest time it has seen).
//! - Money: `Amount` strings to integer minor units. `ItemPrice` is the line total as
//!   Amazon states it; the unit price is derived only where it divides exactly, else
//!   left out. `ShippingPrice` is delivery, `PromotionDiscount` + `ShippingDiscount` the
//!   discounts, `ItemTax` + `ShippingTax` the tax; the total must reconcile
//!   ([`Amounts::reconcile`]). Every amount must be in the order currency. A `Pending`
//!   order has no prices yet; its currency then comes from the marketplace id.
//! - Amazon gives one recipient `Name`; it stays whole in `full_name` (no guessing).
//!   `AddressLine1`–`3` stay verbatim in `street`, `extra`, `extra2`.
//!   `BuyerName` and `BuyerTaxInfo.CompanyLegalName` become the billing party.
//! - `FulfillmentChannel` `AFN` → marketplace-fulfilled, `MFN` → seller.
//! - Amazon sends no cancelled quantity per item; a cancelled order's unshipped units
//!   count as cancelled.
//!
//! Errors name fields, never values: they end up in logs and in the connection's status.

use chrono::{DateTime, Utc};

use super::wire;
use crate::model::{
    currency_decimals, parse_currency, to_minor_units, Address, Amounts, Customer, DeliveryWindow,
    FulfilmentMethod, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms,
    PersonalText,
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

/// The currency a marketplace sells in, for orders that carry no amount yet.
pub fn marketplace_currency(marketplace_id: &str) -> Option<&'static str> {
    Some(match marketplace_id {
        "A1805IZSGTT6HS" | "A1PA6795UKMFR9" | "A13V1IB3VIYZZH" | "APJ6JRA9NG5V4"
        | "A1RKKUPIHCS9HS" | "AMEN7PMS3EDWL" => "EUR",
        "A1F83G8C2ARO7P" => "GBP",
        "A2NODRKZP88ZB9" => "SEK",
        "A1C3SOZRARQ6R3" => "PLN",
        "ATVPDKIKX0DER" => "USD",
        "A2EUQ1WTGCTBG2" => "CAD",
        "A1VC38T7YXB528" => "JPY",
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

    let currency = order_currency(order, items)?;
    let decimals = currency_decimals(&currency);
    let cancelled = status == OrderStatus::Cancelled;
    let mut lines = Vec::with_capacity(items.len());
    let mut amounts = Amounts::default();
    let mut tax: Option<i64> = None;
    for (i, item) in items.iter().enumerate() {
        let money = Money {
            currency: &currency,
            decimals,
            i,
        };
        let (l, item_amounts) = line(item, &money, cancelled)?;
        amounts.lines_minor = add(amounts.lines_minor, l.total_minor)?;
        amounts.discount_minor = add(amounts.discount_minor, item_amounts.discount)?;
        amounts.delivery_minor = add(amounts.delivery_minor, item_amounts.delivery)?;
        if let Some(t) = item_amounts.tax {
            tax = Some(add(tax.unwrap_or(0), t)?);
        }
        lines.push(l);
    }
    amounts.tax_minor = tax;
    let total_minor = match &order.order_total {
        Some(total) => {
            if currency_code(total, "OrderTotal")? != currency {
                return Err("OrderTotal.CurrencyCode differs from the order currency".into());
            }
            amount(total, decimals, "OrderTotal")?
        }
        // No total yet (Pending) or dropped (some cancelled orders): what the items say.
        None => amounts
            .lines_minor
            .checked_sub(amounts.discount_minor)
            .and_then(|v| v.checked_add(amounts.delivery_minor))
            .ok_or("OrderItems amounts overflow")?,
    };
    let amounts = if items.iter().any(|i| i.item_price.is_none()) {
        // Lines without a price yet (Pending) cannot explain the total.
        amounts.not_priced_yet(total_minor)
    } else {
        amounts.reconcile(total_minor).map_err(|e| e.to_string())?
    };

    let shipping = order.shipping_address.as_ref();
    let buyer = order.buyer_info.as_ref();
    let customer = Customer {
        email: buyer.and_then(|b| non_empty(&b.buyer_email)),
        phone: shipping.and_then(|a| non_empty(&a.phone)),
        shipping: shipping.map(address),
        billing: buyer.and_then(billing),
        ..Customer::default()
    };
    let terms = OrderTerms {
        fulfilment_method: match order.fulfillment_channel.as_deref() {
            Some("AFN") => Some(FulfilmentMethod::Marketplace),
            Some("MFN") => Some(FulfilmentMethod::Seller),
            _ => None,
        },
        pickup_point: false,
        delivery_window: delivery_window(order)?,
        cancellation_requested: items.iter().any(|i| {
            i.buyer_requested_cancel
                .as_ref()
                .and_then(|c| c.is_buyer_requested_cancel.as_deref())
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        }),
        customer_reference: buyer
            .and_then(|b| non_empty(&b.purchase_order_number))
            .map(|r| r.as_str().chars().take(128).collect()),
        payment_status: None,
        amounts,
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
        terms,
    })
}

fn add(a: i64, b: i64) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| "OrderItems amounts overflow".to_string())
}

fn parse_date(value: &str, field: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("{field} is not an ISO 8601 date-time"))
}

fn delivery_window(order: &wire::Order) -> Result<Option<DeliveryWindow>, String> {
    let opt = |v: &Option<String>, field: &str| -> Result<Option<DateTime<Utc>>, String> {
        v.as_deref().map(|s| parse_date(s, field)).transpose()
    };
    let earliest = opt(&order.earliest_delivery_date, "EarliestDeliveryDate")?;
    let latest = opt(&order.latest_delivery_date, "LatestDeliveryDate")?;
    Ok((earliest.is_some() || latest.is_some()).then_some(DeliveryWindow { earliest, latest }))
}

fn amount(money: &wire::Money, decimals: u32, field: &str) -> Result<i64, String> {
    let raw = money
        .amount
        .as_deref()
        .ok_or_else(|| format!("{field}.Amount is missing"))?;
    to_minor_units(raw, decimals).ok_or_else(|| format!("{field}.Amount is not a decimal amount"))
}

fn currency_code(money: &wire::Money, field: &str) -> Result<String, String> {
    money
        .currency_code
        .as_deref()
        .and_then(parse_currency)
        .ok_or_else(|| format!("{field}.CurrencyCode is not an ISO 4217 code"))
}

/// The order currency: `OrderTotal`'s, else the first item amount's, else (nothing
/// priced yet) the marketplace's.
fn order_currency(order: &wire::Order, items: &[wire::OrderItem]) -> Result<String, String> {
    if let Some(total) = &order.order_total {
        return currency_code(total, "OrderTotal");
    }
    if let Some(first) = items.iter().find_map(|i| i.item_price.as_ref()) {
        return currency_code(first, "OrderItems[].ItemPrice");
    }
    order
        .marketplace_id
        .as_deref()
        .and_then(marketplace_currency)
        .map(str::to_owned)
        .ok_or_else(|| "OrderTotal is missing and MarketplaceId has no known currency".into())
}

/// The order currency and where in the items we are, for reading item amounts.
struct Money<'a> {
    currency: &'a str,
    decimals: u32,
    i: usize,
}

impl Money<'_> {
    /// An item amount in the order currency, or `None` when absent.
    fn read(&self, m: &Option<wire::Money>, name: &str) -> Result<Option<i64>, String> {
        let Some(m) = m else { return Ok(None) };
        let field = format!("OrderItems[{}].{name}", self.i);
        if currency_code(m, &field)? != self.currency {
            return Err(format!(
                "{field}.CurrencyCode differs from the order currency"
            ));
        }
        amount(m, self.decimals, &field).map(Some)
    }
}

/// What one item adds to the order's money besides its price.
struct ItemAmounts {
    discount: i64,
    delivery: i64,
    tax: Option<i64>,
}

fn line(
    item: &wire::OrderItem,
    money: &Money<'_>,
    cancelled: bool,
) -> Result<(OrderLine, ItemAmounts), String> {
    let i = money.i;
    if item.order_item_id.trim().is_empty() {
        return Err(format!("OrderItems[{i}].OrderItemId is empty"));
    }
    let quantity = item.quantity_ordered;
    let shipped = item.quantity_shipped.unwrap_or(0);
    if shipped > quantity {
        return Err(format!(
            "OrderItems[{i}].QuantityShipped exceeds QuantityOrdered"
        ));
    }
    let price = money.read(&item.item_price, "ItemPrice")?;
    let total_minor = price.unwrap_or(0);
    let promotion = money
        .read(&item.promotion_discount, "PromotionDiscount")?
        .unwrap_or(0);
    let shipping_discount = money
        .read(&item.shipping_discount, "ShippingDiscount")?
        .unwrap_or(0);
    let item_tax = money.read(&item.item_tax, "ItemTax")?;
    let shipping_tax = money.read(&item.shipping_tax, "ShippingTax")?;
    let tax = match (item_tax, shipping_tax) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    let amounts = ItemAmounts {
        discount: promotion.abs() + shipping_discount.abs(),
        delivery: money
            .read(&item.shipping_price, "ShippingPrice")?
            .unwrap_or(0),
        tax,
    };
    // Amazon states only the line total; a unit price exists only where it divides.
    let unit_price_minor = price.and_then(|p| match i64::from(quantity) {
        0 => None,
        q if p % q == 0 => Some(p / q),
        _ => None,
    });
    Ok((
        OrderLine {
            line_id: item.order_item_id.clone(),
            sku: item.seller_sku.clone(),
            ean: None,
            title: item.title.clone().unwrap_or_default(),
            quantity,
            quantity_shipped: shipped,
            quantity_cancelled: if cancelled { quantity - shipped } else { 0 },
            unit_price_minor,
            total_minor,
            discount_minor: promotion.abs(),
            tax_minor: item_tax,
        },
        amounts,
    ))
}

fn non_empty(v: &Option<PersonalText>) -> Option<PersonalText> {
    v.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

fn address(a: &wire::Address) -> Address {
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

fn billing(b: &wire::BuyerInfo) -> Option<Address> {
    let name = non_empty(&b.buyer_name);
    let company = b
        .buyer_tax_info
        .as_ref()
        .and_then(|t| non_empty(&t.company_legal_name));
    (name.is_some() || company.is_some()).then(|| Address {
        full_name: name,
        company,
        ..Address::default()
    })
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
