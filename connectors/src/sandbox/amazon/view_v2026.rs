//! Orders API v2026-01-01 rendering of the sandbox's Amazon view ([`super::view::view`]):
//! the same orders, the same time-dependent behaviour, in v2026 shapes, with only the
//! datasets the request's `includedData` names.

use super::view::{decimal, MARKETPLACE_ID};
use crate::amazon::wire::iso;
use crate::amazon::wire_v2026 as wire;
use crate::model::{currency_decimals, Order, OrderStatus};

/// Which `includedData` datasets a request asked for (the ones the sandbox renders).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Included {
    pub buyer: bool,
    pub recipient: bool,
    pub proceeds: bool,
    pub fulfillment: bool,
}

/// Every dataset the spec defines; the sandbox renders the four above and ignores the rest.
pub const DATASETS: &[&str] = &[
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

impl Included {
    /// Parses `includedData` (comma-separated); an unknown dataset is an error.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        let mut inc = Self::default();
        for d in value.unwrap_or("").split(',').map(str::trim) {
            match d {
                "" => {}
                "BUYER" => inc.buyer = true,
                "RECIPIENT" => inc.recipient = true,
                "PROCEEDS" => inc.proceeds = true,
                "FULFILLMENT" => inc.fulfillment = true,
                other if DATASETS.contains(&other) => {}
                _ => return Err("Invalid includedData value".into()),
            }
        }
        Ok(inc)
    }
}

fn money(o: &Order, minor: i64) -> wire::Money {
    wire::Money {
        amount: decimal(minor, currency_decimals(&o.currency)),
        currency_code: o.currency.clone(),
    }
}

fn status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "PENDING",
        OrderStatus::Open => "UNSHIPPED",
        OrderStatus::PartiallyShipped => "PARTIALLY_SHIPPED",
        OrderStatus::Shipped => "SHIPPED",
        OrderStatus::Cancelled => "CANCELLED",
    }
}

/// Proceeds categories as Amazon breaks them down: `ITEM`, and a negative `DISCOUNT`
/// when there is one.
fn parts(o: &Order, item: i64, discount: i64) -> Vec<(String, wire::Money)> {
    let mut v = vec![("ITEM".to_string(), money(o, item))];
    if discount > 0 {
        v.push(("DISCOUNT".to_string(), money(o, -discount)));
    }
    v
}

/// Renders an order (from the Amazon view) as a v2026 `Order`.
pub fn render(o: &Order, inc: Included) -> wire::Order {
    let pending = o.status == OrderStatus::Pending;
    let billing = o.customer.billing.as_ref();
    let buyer = inc.buyer.then(|| wire::Buyer {
        buyer_name: billing.and_then(|b| b.full_name.clone()),
        buyer_email: o.customer.email.clone(),
        buyer_company_name: billing.and_then(|b| b.company.clone()),
        buyer_purchase_order_number: None,
    });
    let recipient = inc
        .recipient
        .then(|| {
            o.customer.shipping.as_ref().map(|a| wire::Recipient {
                delivery_address: Some(wire::CustomerAddress {
                    name: a.full_name.clone(),
                    address_line1: a.street.clone(),
                    city: a.city.clone(),
                    postal_code: a.postcode.clone(),
                    country_code: a.country_code.as_deref().map(str::to_owned),
                    phone: o.customer.phone.clone(),
                    address_type: Some("RESIDENTIAL".into()),
                    ..wire::CustomerAddress::default()
                }),
                delivery_preference: None,
            })
        })
        .flatten();
    let items = o
        .lines
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
                order_item_id: l.line_id.clone(),
                quantity_ordered: l.quantity,
                product: wire::ItemProduct {
                    asin: Some(format!("B0{digits:0>8}")),
                    title: Some(l.title.clone()),
                    seller_sku: l.sku.clone(),
                    price: (!pending).then(|| wire::ItemPrice {
                        unit_price: l.unit_price_minor.map(|u| money(o, u)),
                    }),
                },
                proceeds: (inc.proceeds && !pending).then(|| wire::ItemProceeds {
                    proceeds_total: Some(money(o, l.total_minor - l.discount_minor)),
                    breakdowns: parts(o, l.total_minor, l.discount_minor)
                        .into_iter()
                        .map(|(kind, subtotal)| wire::ItemProceedsBreakdown { kind, subtotal })
                        .collect(),
                }),
                fulfillment: inc.fulfillment.then(|| wire::ItemFulfillment {
                    quantity_fulfilled: Some(l.quantity_shipped),
                    quantity_unfulfilled: Some(l.quantity - l.quantity_shipped),
                }),
            }
        })
        .collect();
    wire::Order {
        order_id: o.order_number.to_string(),
        created_time: iso(o.placed_at),
        last_updated_time: iso(o.updated_at),
        sales_channel: wire::SalesChannel {
            channel_name: "AMAZON".into(),
            marketplace_id: Some(MARKETPLACE_ID.into()),
            marketplace_name: Some("Amazon.nl".into()),
        },
        buyer,
        recipient,
        proceeds: inc.proceeds.then(|| wire::OrderProceeds {
            grand_total: Some(money(o, o.total_minor)),
            breakdowns: if pending {
                vec![]
            } else {
                let lines = o.lines.iter().map(|l| l.total_minor).sum();
                let discount = o.lines.iter().map(|l| l.discount_minor).sum();
                parts(o, lines, discount)
                    .into_iter()
                    .map(|(kind, subtotal)| wire::OrderProceedsBreakdown {
                        kind,
                        status: None,
                        subtotal,
                    })
                    .collect()
            },
        }),
        fulfillment: inc.fulfillment.then(|| wire::OrderFulfillment {
            fulfillment_status: status(o.status).into(),
            fulfilled_by: Some(
                match o.terms.fulfilment_method {
                    Some(crate::model::FulfilmentMethod::Marketplace) => "AMAZON",
                    _ => "MERCHANT",
                }
                .into(),
            ),
            fulfillment_service_level: Some("STANDARD".into()),
            deliver_by_window: o.terms.delivery_window.map(|w| wire::DateTimeRange {
                earliest_date_time: w.earliest.map(iso),
                latest_date_time: w.latest.map(iso),
            }),
        }),
        order_items: items,
    }
}

/// Corrupts a rendered v2026 order for the malformed-order tests: even indexes get a
/// personal value in a numeric field, odd ones a grand total that is not a decimal.
pub fn corrupt(order: &mut serde_json::Value, index: usize) {
    if index % 2 == 0 {
        let email = order["buyer"]["buyerEmail"].clone();
        if let Some(item) = order.get_mut("orderItems").and_then(|v| v.get_mut(0)) {
            item["quantityOrdered"] = email;
        } else {
            order["createdTime"] = email;
        }
    } else {
        order["proceeds"]["grandTotal"]["amount"] = serde_json::Value::String("EUR 12,34".into());
    }
}
