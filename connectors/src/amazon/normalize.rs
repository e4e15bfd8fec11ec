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
        assert_eq!(o.lines[0].unit_price_minor, Some(1999));
        assert_eq!(o.lines[0].total_minor, 3998);
        assert_eq!(o.lines[0].quantity_shipped, 2);
        let ship = o.customer.shipping.as_ref().unwrap();
        assert_eq!(ship.full_name.as_deref(), Some("Anna de Vries"));
        assert_eq!(
            (ship.first_name.clone(), ship.last_name.clone()),
            (None, None)
        );
        assert_eq!(ship.street.as_deref(), Some("Kerkstraat 12"));
        assert_eq!(ship.extra, None, "empty AddressLine2 is dropped");
        assert_eq!(o.customer.phone.as_deref(), Some("+31612345678"));
        assert_eq!(
            o.customer.email.as_deref(),
            Some("abc@marketplace.amazon.nl")
        );
        let bill = o.customer.billing.as_ref().unwrap();
        assert_eq!(bill.full_name.as_deref(), Some("Anna de Vries"));
        assert_eq!(o.terms.amounts.lines_minor, 5997);
        assert_eq!(o.terms.amounts.difference, None);
    }

    fn priced(id: &str, qty: u32, total: &str, currency: &str) -> wire::OrderItem {
        let mut i = item(id, qty, 0, Some(total));
        i.item_price.as_mut().unwrap().currency_code = Some(currency.into());
        i
    }

    #[test]
    fn line_totals_stay_exact_and_unit_prices_are_never_rounded() {
        let mut o = order("Unshipped");
        o.order_total = money("10.00");
        let n = normalize(&o, &[item("1", 3, 0, Some("10.00"))]).unwrap();
        assert_eq!(n.lines[0].total_minor, 1000);
        assert_eq!(
            n.lines[0].unit_price_minor, None,
            "10.00 / 3 has no exact unit price"
        );
        let n = normalize(&o, &[item("1", 4, 0, Some("10.00"))]).unwrap();
        assert_eq!(n.lines[0].unit_price_minor, Some(250));
        let n = normalize(&o, &[item("1", 0, 0, Some("10.00"))]);
        assert!(n.is_ok_and(|n| n.lines[0].unit_price_minor.is_none()));
    }

    #[test]
    fn money_in_zero_and_three_decimal_currencies() {
        let mut o = order("Unshipped");
        o.order_total = Some(wire::Money {
            currency_code: Some("JPY".into()),
            amount: Some("1500".into()),
        });
        let n = normalize(&o, &[priced("1", 3, "1500", "JPY")]).unwrap();
        assert_eq!((n.currency.as_str(), n.total_minor), ("JPY", 1500));
        assert_eq!(n.lines[0].unit_price_minor, Some(500));
        o.order_total = Some(wire::Money {
            currency_code: Some("KWD".into()),
            amount: Some("12.345".into()),
        });
        let n = normalize(&o, &[priced("1", 1, "12.345", "KWD")]).unwrap();
        assert_eq!(n.total_minor, 12_345);
    }

    #[test]
    fn a_line_in_another_currency_fails_the_order() {
        let o = order("Unshipped");
        let e = normalize(&o, &[priced("1", 1, "59.97", "GBP")]).unwrap_err();
        assert_eq!(
            e,
            "OrderItems[0].ItemPrice.CurrencyCode differs from the order currency"
        );
        let mut i = item("1", 1, 0, Some("59.97"));
        i.shipping_price = Some(wire::Money {
            currency_code: Some("USD".into()),
            amount: Some("1.00".into()),
        });
        let e = normalize(&o, &[i]).unwrap_err();
        assert!(e.starts_with("OrderItems[0].ShippingPrice"), "{e}");
        let mut o = order("Unshipped");
        o.order_total.as_mut().unwrap().currency_code = Some("EURO".into());
        let e = normalize(&o, &[item("1", 1, 0, Some("59.97"))]).unwrap_err();
        assert_eq!(e, "OrderTotal.CurrencyCode is not an ISO 4217 code");
    }

    #[test]
    fn discounts_delivery_and_tax_reconcile_with_the_total() {
        let mut o = order("Unshipped");
        let mut a = item("1", 2, 0, Some("50.00"));
        a.promotion_discount = money("5.00");
        a.shipping_price = money("4.95");
        a.shipping_discount = money("-0.95");
        a.item_tax = money("8.68");
        let mut b = item("2", 1, 0, Some("10.97"));
        b.buyer_requested_cancel = Some(wire::BuyerRequestedCancel {
            is_buyer_requested_cancel: Some("true".into()),
        });
        o.order_total = money("59.97");
        o.fulfillment_channel = Some("AFN".into());
        o.earliest_delivery_date = Some("2026-01-07T00:00:00Z".into());
        o.latest_delivery_date = Some("2026-01-09T23:59:59Z".into());
        o.buyer_info.as_mut().unwrap().purchase_order_number = Some("PO-77".into());
        let n = normalize(&o, &[a.clone(), b.clone()]).unwrap();
        let m = &n.terms.amounts;
        assert_eq!(
            (
                m.lines_minor,
                m.discount_minor,
                m.delivery_minor,
                m.tax_minor
            ),
            (6097, 595, 495, Some(868))
        );
        assert_eq!((m.difference_minor, m.difference), (0, None));
        assert_eq!(n.lines[0].discount_minor, 500);
        assert_eq!(n.lines[0].tax_minor, Some(868));
        assert_eq!(
            n.terms.fulfilment_method,
            Some(FulfilmentMethod::Marketplace)
        );
        assert!(n.terms.cancellation_requested);
        assert_eq!(n.terms.customer_reference.as_deref(), Some("PO-77"));
        let w = n.terms.delivery_window.unwrap();
        assert_eq!(
            w.earliest.unwrap().to_rfc3339(),
            "2026-01-07T00:00:00+00:00"
        );
        assert_eq!(w.latest.unwrap().to_rfc3339(), "2026-01-09T23:59:59+00:00");
        // US style: tax added on top of the prices is named.
        o.order_total = money("68.65");
        let n = normalize(&o, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(n.terms.amounts.difference_minor, 868);
        assert_eq!(
            n.terms.amounts.difference,
            Some(crate::model::Difference::TaxAdded)
        );
        // Anything else is refused, naming no value.
        o.order_total = money("70.00");
        let e = normalize(&o, &[a, b]).unwrap_err();
        assert!(e.contains("cannot be reconciled"), "{e}");
        o.fulfillment_channel = Some("MFN".into());
    }

    #[test]
    fn pending_orders_without_any_price_take_the_marketplace_currency() {
        let mut o = order("Pending");
        o.order_total = None;
        o.shipping_address = None;
        o.marketplace_id = Some("A1805IZSGTT6HS".into());
        let n = normalize(&o, &[item("1", 2, 0, None)]).unwrap();
        assert_eq!((n.currency.as_str(), n.total_minor), ("EUR", 0));
        assert_eq!(n.lines[0].unit_price_minor, None);
        o.marketplace_id = Some("A1F83G8C2ARO7P".into());
        assert_eq!(
            normalize(&o, &[item("1", 2, 0, None)]).unwrap().currency,
            "GBP"
        );
        o.marketplace_id = Some("XXXX".into());
        let e = normalize(&o, &[item("1", 2, 0, None)]).unwrap_err();
        assert!(e.contains("MarketplaceId"), "{e}");
        // A total already there while items are not priced yet: kept, named.
        let mut o = order("Pending");
        o.shipping_address = None;
        let n = normalize(&o, &[item("1", 2, 0, None)]).unwrap();
        assert_eq!(n.terms.amounts.difference_minor, 5997);
        assert_eq!(
            n.terms.amounts.difference,
            Some(crate::model::Difference::NotPricedYet)
        );
    }

    #[test]
    fn address_lines_stay_verbatim_and_blanked_parts_come_back_as_none() {
        let mut o = order("Shipped");
        let a = o.shipping_address.as_mut().unwrap();
        a.address_line2 = Some("Gebouw B".into());
        a.address_line3 = Some("3e verdieping".into());
        a.company_name = Some("ML Bau & Energie GmbH".into());
        a.state_or_region = Some("UT".into());
        let n = normalize(&o, &[item("1", 1, 1, Some("59.97"))]).unwrap();
        let s = n.customer.shipping.unwrap();
        assert_eq!(s.street.as_deref(), Some("Kerkstraat 12"));
        assert_eq!(s.house_number, None, "Amazon does not split house numbers");
        assert_eq!(s.extra.as_deref(), Some("Gebouw B"));
        assert_eq!(s.extra2.as_deref(), Some("3e verdieping"));
        assert_eq!(s.company.as_deref(), Some("ML Bau & Energie GmbH"));
        assert_eq!(s.state.as_deref(), Some("UT"));
        // Amazon's restricted shape without a data token: only city, postcode, country.
        let mut o = order("Shipped");
        o.shipping_address = Some(wire::Address {
            city: Some("Utrecht".into()),
            postal_code: Some("3511 AB".into()),
            country_code: Some("NL".into()),
            ..Default::default()
        });
        o.buyer_info = Some(wire::BuyerInfo::default());
        let n = normalize(&o, &[item("1", 1, 1, Some("59.97"))]).unwrap();
        let s = n.customer.shipping.unwrap();
        assert!(s.full_name.is_none() && s.street.is_none());
        assert!(n.customer.email.is_none() && n.customer.phone.is_none());
        assert!(n.customer.billing.is_none());
    }

    #[test]
    fn cancelled_and_pending_orders() {
        let mut c = order("Canceled");
        c.order_total = money("3.00");
        let c = normalize(&c, &[item("1", 3, 0, Some("3.00"))]).unwrap();
        assert_eq!(c.status, OrderStatus::Cancelled);
        assert_eq!(c.cancelled_at, Some(c.updated_at));
        assert_eq!(c.lines[0].quantity_cancelled, 3);
        assert_eq!(c.fulfilled_at, None);

        let mut p = order("Pending");
        p.shipping_address = None;
        let p = normalize(&p, &[item("1", 2, 0, None)]).unwrap();
        assert_eq!(p.status, OrderStatus::Pending);
        assert_eq!(p.lines[0].total_minor, 0, "no prices while Pending");
        assert_eq!(p.lines[0].unit_price_minor, None);
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
