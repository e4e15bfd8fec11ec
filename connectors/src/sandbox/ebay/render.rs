//! Canonical world orders → eBay `Order` JSON, and the canonical view of what eBay
//! releases (the sandbox's ground truth).
//!
//! Rendering follows eBay's conventions: ids like `04-12087-72462`, millisecond `Z`
//! timestamps, money as decimal strings, the buyer's name as one `fullName`, street and
//! house number in one `addressLine1` (French style "12 Rue …" for FR addresses), and the
//! time-limited fields left out once the order is older than 14 days (email) or 90 days
//! (`fullName`, `primaryPhone`, `addressLine1/2`): only city, postcode, state and country
//! stay. Every seventh order carries a promotion (a line discount), every fifth a
//! delivery cost, every eleventh is fulfilled by eBay, every thirteenth (with a billing
//! address) is an In-Store Pickup order (`PREPARE_FOR_PICKUP`, a `pickupStep` naming
//! the seller's store, no ship-to and no delivery estimate); cancelled orders are
//! refunded in full.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::Rng;

use crate::ebay::normalize::format_timestamp;
use crate::ebay::wire;
use crate::model::{
    currency_decimals, Address, Amounts, DeliveryWindow, FulfilmentMethod, Order, OrderStatus,
    OrderTerms, PaymentStatus, PersonalText, PickupPoint,
};

/// eBay returns the buyer's email for 14 days after the order was created.
pub const EMAIL_DAYS: i64 = 14;
/// eBay stops returning names, phones and street lines 90 days after creation.
pub const CONTACT_DAYS: i64 = 90;

/// eBay's order-id format, unique per world index.
pub fn order_number(rng: &mut StdRng, i: usize) -> String {
    format!(
        "{:02}-{:05}-{:05}",
        rng.gen_range(1..=28),
        (i * 7 + 10_007) % 100_000,
        rng.gen_range(10_000..100_000)
    )
}

/// A stable number per order, for the sandbox's per-order choices.
fn order_seed(o: &Order) -> u64 {
    o.order_number
        .as_str()
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}

/// A promotion on the first line of every seventh order (when the line can carry it).
const PROMOTION_MINOR: i64 = 150;
/// Delivery cost on every fifth order.
const DELIVERY_MINOR: i64 = 495;
/// The seller's store that In-Store Pickup orders name (`merchantLocationKey`).
pub const PICKUP_STORE: &str = "STORE-UTRECHT-01";

/// The order as a fully authorized eBay client can see it at `now`: no EAN (eBay orders
/// carry none), names and address lines as eBay sends them (one `fullName`, unsplit
/// `addressLine1`), eBay's money and payment terms, and the time-limited personal fields
/// blanked by age.
pub fn released(mut o: Order, now: DateTime<Utc>) -> Order {
    for l in &mut o.lines {
        l.ean = None;
    }
    for a in [&mut o.customer.shipping, &mut o.customer.billing]
        .into_iter()
        .flatten()
    {
        a.full_name = full_name(a).map(PersonalText::from);
        a.street = address_line1(a).map(PersonalText::from);
        a.first_name = None;
        a.last_name = None;
        a.house_number = None;
        a.house_number_ext = None;
    }
    let digits: String = o.order_number.as_str().replace('-', "");
    o.customer.buyer_username = Some(format!("buyer_{}", &digits[2..9]).into());
    let seed = order_seed(&o);
    let lines_minor: i64 = o.lines.iter().map(|l| l.total_minor).sum();
    let mut amounts = Amounts {
        lines_minor,
        ..Amounts::default()
    };
    if seed % 7 == 0 && o.lines[0].total_minor > PROMOTION_MINOR {
        o.lines[0].discount_minor = PROMOTION_MINOR;
        amounts.discount_minor = PROMOTION_MINOR;
    }
    if seed % 5 == 0 {
        amounts.delivery_minor = DELIVERY_MINOR;
    }
    o.total_minor = lines_minor - amounts.discount_minor + amounts.delivery_minor;
    let cancelled = o.status == OrderStatus::Cancelled;
    if cancelled {
        amounts.refunded_minor = o.total_minor;
    }
    o.terms = OrderTerms {
        fulfilment_method: Some(if seed % 11 == 0 {
            FulfilmentMethod::Marketplace
        } else {
            FulfilmentMethod::Seller
        }),
        delivery_window: Some(DeliveryWindow {
            earliest: Some(o.placed_at + Duration::days(2)),
            latest: Some(o.placed_at + Duration::days(5)),
        }),
        payment_status: Some(match o.status {
            OrderStatus::Cancelled => PaymentStatus::Refunded,
            OrderStatus::Pending => PaymentStatus::Pending,
            _ => PaymentStatus::Paid,
        }),
        amounts,
        ..OrderTerms::default()
    };
    // In-Store Pickup needs the registration address: it is then the only address, and
    // where the order's country, email and phone come from.
    let marketplace = o.terms.fulfilment_method == Some(FulfilmentMethod::Marketplace);
    if seed % 13 == 3 && !marketplace && o.customer.billing.is_some() {
        o.terms.pickup_point = true;
        o.terms.delivery_window = None;
        o.customer.shipping = None;
        o.customer.pickup_point = Some(PickupPoint {
            name: Some(PICKUP_STORE.into()),
            address: None,
        });
        o.country_code = o
            .customer
            .billing
            .as_ref()
            .and_then(|b| b.country_code.as_deref())
            .map(|c| c.trim().to_ascii_uppercase());
    }
    let age = now - o.placed_at;
    if age > Duration::days(EMAIL_DAYS) {
        o.customer.email = None;
    }
    if age > Duration::days(CONTACT_DAYS) {
        o.customer.phone = None;
        for a in [&mut o.customer.shipping, &mut o.customer.billing]
            .into_iter()
            .flatten()
        {
            a.full_name = None;
            a.street = None;
            a.extra = None;
        }
    }
    o
}

/// Minor units → eBay's decimal string (`1999` → `"19.99"`).
pub fn format_minor(v: i64, currency: &str) -> String {
    let d = currency_decimals(currency);
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.unsigned_abs();
    if d == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(d);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = d as usize
    )
}

fn amount(v: i64, currency: &str) -> wire::Amount {
    wire::Amount {
        value: Some(format_minor(v, currency)),
        currency: Some(currency.to_string()),
        ..Default::default()
    }
}

/// The wire order at `now` of an order shaped by [`released`]. `detail` is getOrder
/// (cancel requests filled in) as opposed to getOrders (cancel requests always empty).
pub fn render(o: &Order, now: DateTime<Utc>, detail: bool) -> wire::Order {
    let age = now - o.placed_at;
    let show_email = age <= Duration::days(EMAIL_DAYS);
    let show_contact = age <= Duration::days(CONTACT_DAYS);
    let contact = |a: &Address| wire::ExtendedContact {
        full_name: a.full_name.clone().filter(|_| show_contact),
        company_name: a.company.clone(),
        email: o.customer.email.clone().filter(|_| show_email),
        primary_phone: o.customer.phone.clone().filter(|_| show_contact).map(|p| {
            wire::PhoneNumber {
                phone_number: Some(p),
            }
        }),
        contact_address: Some(wire::Address {
            address_line1: a.street.clone().filter(|_| show_contact),
            address_line2: a.extra.clone().filter(|_| show_contact),
            city: a.city.clone(),
            county: None,
            state_or_province: a.state.clone(),
            postal_code: a.postcode.clone(),
            country_code: a.country_code.as_ref().map(|c| c.as_str().to_string()),
        }),
    };
    let cancelled = o.status == OrderStatus::Cancelled;
    let digits: String = o.order_number.as_str().replace('-', "");
    let site = format!("EBAY_{}", o.country_code.as_deref().unwrap_or("NL"));
    let cur = o.currency.as_str();
    let window = o.terms.delivery_window;
    let amounts = &o.terms.amounts;
    let refund = |minor: i64| wire::Refund {
        amount: Some(amount(minor, cur)),
        refund_date: Some(format_timestamp(o.updated_at)),
        refund_status: Some("REFUNDED".into()),
    };
    wire::Order {
        order_id: Some(o.order_number.to_string()),
        legacy_order_id: Some(format!("1105{}-2773{}", &digits[..6], &digits[6..])),
        creation_date: Some(format_timestamp(o.placed_at)),
        last_modified_date: Some(format_timestamp(o.updated_at)),
        order_fulfillment_status: Some(
            match o.status {
                OrderStatus::Shipped => "FULFILLED",
                OrderStatus::PartiallyShipped => "IN_PROGRESS",
                _ => "NOT_STARTED",
            }
            .into(),
        ),
        order_payment_status: Some(
            match o.terms.payment_status {
                Some(PaymentStatus::Refunded) => "FULLY_REFUNDED",
                Some(PaymentStatus::PartiallyRefunded) => "PARTIALLY_REFUNDED",
                Some(PaymentStatus::Pending) => "PENDING",
                Some(PaymentStatus::Failed) => "FAILED",
                Some(PaymentStatus::Paid) | None => "PAID",
            }
            .into(),
        ),
        seller_id: Some("ordervault_sandbox_seller".into()),
        sales_record_reference: Some(digits[digits.len() - 4..].to_string()),
        buyer: Some(wire::Buyer {
            username: o.customer.buyer_username.clone(),
            buyer_registration_address: o.customer.billing.as_ref().map(contact),
        }),
        buyer_checkout_notes: o.customer.delivery_notes.clone(),
        cancel_status: Some(wire::CancelStatus {
            cancel_state: Some(
                if cancelled {
                    "CANCELED"
                } else {
                    "NONE_REQUESTED"
                }
                .into(),
            ),
            cancelled_date: o.cancelled_at.map(format_timestamp),
            cancel_requests: match (cancelled && detail, o.cancelled_at) {
                (true, Some(at)) => vec![wire::CancelRequest {
                    cancel_request_id: Some(format!("5{}", &digits[..9])),
                    cancel_initiator: Some("Buyer".into()),
                    cancel_reason: Some("ORDER_PLACED_BY_MISTAKE".into()),
                    cancel_requested_date: Some(format_timestamp(at - Duration::minutes(3))),
                    cancel_completed_date: Some(format_timestamp(at)),
                    cancel_request_state: Some("COMPLETED".into()),
                }],
                _ => Vec::new(),
            },
        }),
        fulfillment_start_instructions: vec![wire::FulfillmentStartInstruction {
            fulfillment_instructions_type: Some(
                if o.terms.pickup_point {
                    "PREPARE_FOR_PICKUP"
                } else {
                    "SHIP_TO"
                }
                .into(),
            ),
            ebay_supported_fulfillment: Some(
                o.terms.fulfilment_method == Some(FulfilmentMethod::Marketplace),
            ),
            min_estimated_delivery_date: window.and_then(|w| w.earliest).map(format_timestamp),
            max_estimated_delivery_date: window.and_then(|w| w.latest).map(format_timestamp),
            shipping_step: (!o.terms.pickup_point).then(|| wire::ShippingStep {
                shipping_carrier_code: Some("PostNL".into()),
                shipping_service_code: Some("NL_PostNLStandard".into()),
                ship_to: o.customer.shipping.as_ref().map(contact),
                ship_to_reference_id: None,
            }),
            pickup_step: o.customer.pickup_point.as_ref().map(|p| wire::PickupStep {
                merchant_location_key: p.name.as_ref().map(|n| n.as_str().to_string()),
            }),
            final_destination_address: None,
        }],
        fulfillment_hrefs: Vec::new(),
        line_items: o
            .lines
            .iter()
            .map(|l| wire::LineItem {
                line_item_id: Some(l.line_id.clone()),
                legacy_item_id: Some(format!("1105{}", &digits[..8])),
                sku: l.sku.clone(),
                title: Some(l.title.clone()),
                quantity: Some(l.quantity),
                line_item_cost: Some(amount(l.total_minor, cur)),
                total: Some(amount(l.total_minor, cur)),
                delivery_cost: Some(wire::DeliveryCost {
                    shipping_cost: Some(amount(0, cur)),
                }),
                line_item_fulfillment_status: Some(
                    if l.quantity_shipped >= l.quantity {
                        "FULFILLED"
                    } else if l.quantity_shipped > 0 {
                        "IN_PROGRESS"
                    } else {
                        "NOT_STARTED"
                    }
                    .into(),
                ),
                sold_format: Some("FIXED_PRICE".into()),
                listing_marketplace_id: Some(site.clone()),
                purchase_marketplace_id: Some(site.clone()),
                refunds: Vec::new(),
                applied_promotions: (l.discount_minor > 0)
                    .then(|| wire::AppliedPromotion {
                        discount_amount: Some(amount(l.discount_minor, cur)),
                        promotion_id: Some("5000012345".into()),
                    })
                    .into_iter()
                    .collect(),
                taxes: Vec::new(),
            })
            .collect(),
        pricing_summary: Some(wire::PricingSummary {
            price_subtotal: Some(amount(amounts.lines_minor, cur)),
            price_discount: (amounts.discount_minor > 0)
                .then(|| amount(-amounts.discount_minor, cur)),
            delivery_cost: Some(amount(amounts.delivery_minor, cur)),
            delivery_discount: None,
            tax: None,
            total: Some(amount(o.total_minor, cur)),
        }),
        payment_summary: Some(wire::PaymentSummary {
            refunds: (amounts.refunded_minor > 0)
                .then(|| refund(amounts.refunded_minor))
                .into_iter()
                .collect(),
        }),
    }
}

fn full_name(a: &Address) -> Option<String> {
    let parts: Vec<&str> = [&a.first_name, &a.last_name]
        .into_iter()
        .flatten()
        .map(|p| p.as_str())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn address_line1(a: &Address) -> Option<String> {
    let street = a.street.as_deref()?;
    let number: String = [&a.house_number, &a.house_number_ext]
        .into_iter()
        .flatten()
        .map(|p| p.as_str())
        .collect();
    Some(match (number.is_empty(), a.country_code.as_deref()) {
        (true, _) => street.to_string(),
        (false, Some("FR")) => format!("{number} {street}"),
        (false, _) => format!("{street} {number}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_exactly() {
        assert_eq!(format_minor(1999, "EUR"), "19.99");
        assert_eq!(format_minor(5, "EUR"), "0.05");
        assert_eq!(format_minor(-350, "EUR"), "-3.50");
        assert_eq!(format_minor(1000, "JPY"), "1000");
    }
}
