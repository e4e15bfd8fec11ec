//! The sandbox world as Amazon shows it, and its Orders v0 wire rendering.
//!
//! The shared world generator knows nothing of Amazon, so at start its orders are adapted
//! once to what Amazon can represent ([`adapt`]): whole-second timestamps, 14-digit
//! `OrderItemId`s, no EAN (Amazon sends ASINs), relay buyer emails
//! (`…@marketplace.amazon.nl`), one recipient `Name` (kept whole), `AddressLine1` =
//! street and number (kept verbatim), billing party = `BuyerName` (+ company), no
//! delivery notes, every ninth order fulfilled by Amazon (AFN), every fifth with a
//! promotion, every one with a promised delivery window. Time-dependent Amazon
//! behaviour is applied on every read ([`view`]): orders are `Pending` for their first
//! ten minutes (no address, no item prices), `Canceled` and `Pending` orders carry no
//! `ShippingAddress`, and the phone is suppressed once `LatestDeliveryDate` has passed.
//! [`view`] is both what the API renders and the ground truth, so they cannot drift.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::amazon::wire::{self, iso};
use crate::model::{
    Address, Amounts, DeliveryWindow, FulfilmentMethod, Order, OrderStatus, PersonalText,
};
use crate::sandbox::world::{OrderPlan, World};

/// Amazon.nl, the marketplace every sandbox order is placed in.
pub const MARKETPLACE_ID: &str = crate::amazon::MARKETPLACE_NL;
/// How long a new order stays `Pending` (payment authorization) before `Unshipped`.
pub const PENDING_FOR: Duration = Duration::minutes(10);
/// `LatestDeliveryDate` − `PurchaseDate`; after it Amazon suppresses an MFN buyer's phone.
pub const DELIVERY_WINDOW: Duration = Duration::days(10);
/// `EarliestDeliveryDate` − `PurchaseDate`.
pub const DELIVERY_FROM: Duration = Duration::days(3);

/// Amazon order numbers, 3-7-7 digits (European ones start 302–306). The last four
/// digits carry the world index, so numbers never collide.
pub fn order_number(rng: &mut StdRng, i: usize) -> String {
    format!(
        "{}-{:07}-{:03}{:04}",
        rng.gen_range(302..=306),
        rng.gen_range(0..10_000_000),
        rng.gen_range(0..1000),
        i % 10_000
    )
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0).single().unwrap_or(t)
}

fn text(v: &Option<PersonalText>) -> &str {
    v.as_deref().unwrap_or("")
}

fn joined(a: &str, b: &str) -> Option<PersonalText> {
    let s = format!("{a} {b}");
    let s = s.trim();
    (!s.is_empty()).then(|| s.into())
}

/// Rewrites the generated world into what Amazon's Orders v0 can express (see module doc).
pub fn adapt(world: &mut World, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xa3a2_0b5e);
    for (i, plan) in world.plans.iter_mut().enumerate() {
        let o = &mut plan.order;
        o.placed_at = whole_seconds(o.placed_at);
        o.updated_at = o.placed_at;
        for l in &mut o.lines {
            l.line_id = format!(
                "{}",
                rng.gen_range(10_000_000_000_000u64..100_000_000_000_000)
            );
            l.ean = None;
        }
        let c = &mut o.customer;
        c.email = Some(
            format!(
                "{:012x}{:03}@marketplace.amazon.nl",
                rng.gen::<u64>() & 0xffff_ffff_ffff,
                i % 1000
            )
            .into(),
        );
        c.shipping = c.shipping.take().map(|a| Address {
            full_name: joined(text(&a.first_name), text(&a.last_name)),
            street: joined(text(&a.street), text(&a.house_number)),
            postcode: a.postcode.clone(),
            city: a.city.clone(),
            country_code: a.country_code.clone(),
            ..Address::default()
        });
        c.billing = c.billing.take().map(|b| Address {
            full_name: joined(text(&b.first_name), text(&b.last_name)),
            company: b.company.clone(),
            ..Address::default()
        });
        c.delivery_notes = None;
        o.terms.fulfilment_method = Some(if i % 9 == 4 {
            FulfilmentMethod::Marketplace
        } else {
            FulfilmentMethod::Seller
        });
        // Every fifth order has a promotion on its first line (v0 `PromotionDiscount`,
        // v2026 `DISCOUNT` proceeds); every order has the delivery window Amazon
        // promises (v0 `EarliestDeliveryDate`/`LatestDeliveryDate`, v2026
        // `deliverByWindow`). Both renderings carry both, so one ground truth serves.
        if i % 5 == 2 {
            if let Some(l) = o.lines.first_mut() {
                let discount = l.total_minor / 10;
                l.discount_minor = discount;
                o.total_minor -= discount;
            }
        }
        o.terms.delivery_window = Some(DeliveryWindow {
            earliest: Some(o.placed_at + DELIVERY_FROM),
            latest: Some(o.placed_at + DELIVERY_WINDOW),
        });
    }
}

/// The order as Amazon holds it at `now` (`None` before it is placed); see module doc.
pub fn view(plan: &OrderPlan, now: DateTime<Utc>) -> Option<Order> {
    let mut o = plan.state_at(now)?;
    let placed = o.placed_at;
    if o.status != OrderStatus::Cancelled {
        if now < placed + PENDING_FOR {
            o.status = OrderStatus::Pending;
        } else {
            o.updated_at = o.updated_at.max(placed + PENDING_FOR);
        }
    }
    if matches!(o.status, OrderStatus::Pending | OrderStatus::Cancelled) {
        o.customer.shipping = None;
        o.customer.phone = None;
        o.country_code = None;
    }
    let pending = o.status == OrderStatus::Pending;
    if pending {
        for l in &mut o.lines {
            l.unit_price_minor = None;
            l.total_minor = 0;
            l.discount_minor = 0;
        }
    }
    let amounts = Amounts {
        lines_minor: o.lines.iter().map(|l| l.total_minor).sum(),
        discount_minor: o.lines.iter().map(|l| l.discount_minor).sum(),
        ..Amounts::default()
    };
    o.terms.amounts = if pending {
        amounts.not_priced_yet(o.total_minor)
    } else {
        amounts
            .reconcile(o.total_minor)
            .expect("sandbox totals add up")
    };
    if now >= placed + DELIVERY_WINDOW {
        o.customer.phone = None;
    }
    Some(o)
}

/// Which restricted parts the caller's token releases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants {
    pub buyer_info: bool,
    pub shipping_address: bool,
}

/// Minor units back to Amazon's decimal string (`1999` → `"19.99"`).
pub fn decimal(minor: i64, decimals: u32) -> String {
    if decimals == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.abs();
    format!(
        "{sign}{}.{:0width$}",
        m / scale,
        m % scale,
        width = decimals as usize
    )
}

fn money(o: &Order, minor: i64) -> wire::Money {
    wire::Money {
        currency_code: Some(o.currency.clone()),
        amount: Some(decimal(minor, crate::model::currency_decimals(&o.currency))),
    }
}

fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "Pending",
        OrderStatus::Open => "Unshipped",
        OrderStatus::PartiallyShipped => "PartiallyShipped",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Cancelled => "Canceled",
    }
}

/// Renders an order (from [`view`]) as an Orders v0 `Order`, stripping what `grants`
/// does not release.
pub fn render(o: &Order, grants: Grants) -> wire::Order {
    let shipped: u32 = o.lines.iter().map(|l| l.quantity_shipped).sum();
    let open: u32 = o
        .lines
        .iter()
        .map(|l| l.quantity - l.quantity_shipped - l.quantity_cancelled)
        .sum();
    let placed = o.placed_at;
    let keep = |allowed: bool, v: &Option<PersonalText>| if allowed { v.clone() } else { None };
    let shipping = o.customer.shipping.as_ref().map(|a| wire::Address {
        name: keep(grants.shipping_address, &a.full_name),
        address_line1: keep(grants.shipping_address, &a.street),
        city: a.city.clone(),
        postal_code: a.postcode.clone(),
        country_code: a.country_code.as_deref().map(str::to_owned),
        phone: keep(grants.shipping_address, &o.customer.phone),
        address_type: grants.shipping_address.then(|| "Residential".to_string()),
        ..wire::Address::default()
    });
    let billing = o.customer.billing.as_ref();
    let company = billing.and_then(|b| b.company.clone());
    let buyer = wire::BuyerInfo {
        buyer_email: o.customer.email.clone(),
        buyer_name: billing.and_then(|b| keep(grants.buyer_info, &b.full_name)),
        buyer_tax_info: company.as_ref().filter(|_| grants.buyer_info).map(|c| {
            wire::BuyerTaxInfo {
                company_legal_name: Some(c.clone()),
                taxing_region: None,
            }
        }),
        ..wire::BuyerInfo::default()
    };
    wire::Order {
        amazon_order_id: o.order_number.to_string(),
        purchase_date: iso(placed),
        last_update_date: iso(o.updated_at),
        order_status: status(o.status).into(),
        fulfillment_channel: Some(
            match o.terms.fulfilment_method {
                Some(FulfilmentMethod::Marketplace) => "AFN",
                _ => "MFN",
            }
            .into(),
        ),
        sales_channel: Some("Amazon.nl".into()),
        order_total: Some(money(o, o.total_minor)),
        number_of_items_shipped: Some(shipped),
        number_of_items_unshipped: Some(open),
        marketplace_id: Some(MARKETPLACE_ID.into()),
        shipment_service_level_category: Some("Standard".into()),
        order_type: Some("StandardOrder".into()),
        earliest_ship_date: Some(iso(placed)),
        latest_ship_date: Some(iso(placed + Duration::days(2))),
        earliest_delivery_date: o.terms.delivery_window.and_then(|w| w.earliest).map(iso),
        latest_delivery_date: o.terms.delivery_window.and_then(|w| w.latest).map(iso),
        is_business_order: Some(company.is_some()),
        is_prime: Some(false),
        shipping_address: shipping,
        buyer_info: Some(buyer),
    }
}

/// Renders an order's lines as `OrderItem`s; no prices while the order is `Pending`.
pub fn render_items(o: &Order) -> Vec<wire::OrderItem> {
    let pending = o.status == OrderStatus::Pending;
    o.lines
        .iter()
        .map(|l| {
            let digits: String = l
                .sku
                .as_deref()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            wire::OrderItem {
                asin: format!("B0{digits:0>8}"),
                seller_sku: l.sku.clone(),
                order_item_id: l.line_id.clone(),
                title: Some(l.title.clone()),
                quantity_ordered: l.quantity,
                quantity_shipped: Some(l.quantity_shipped),
                item_price: (!pending).then(|| money(o, l.total_minor)),
                promotion_discount: (!pending && l.discount_minor > 0)
                    .then(|| money(o, l.discount_minor)),
                condition_id: Some("New".into()),
                is_gift: Some("false".into()),
                ..wire::OrderItem::default()
            }
        })
        .collect()
}

/// Corrupts a rendered order for the malformed-order tests: even indexes get a personal
/// value in a numeric field (serde would quote it in its error), odd ones an amount
/// that is not a decimal.
pub fn corrupt(order: &mut serde_json::Value, index: usize) {
    if index % 2 == 0 {
        let email = order["BuyerInfo"]["BuyerEmail"].clone();
        order["NumberOfItemsShipped"] = email;
    } else {
        order["OrderTotal"]["Amount"] = serde_json::Value::String("EUR 12,34".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_render_like_amazon() {
        assert_eq!(decimal(1999, 2), "19.99");
        assert_eq!(decimal(5, 2), "0.05");
        assert_eq!(decimal(-350, 2), "-3.50");
        assert_eq!(decimal(1000, 0), "1000");
    }
}
