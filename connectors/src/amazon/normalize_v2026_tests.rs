//! Tests of the Orders v2026-01-01 normalizer, on the spec's own examples and on
//! payloads shaped like them.

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
            breakdowns: vec![],
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
        breakdowns: vec![],
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

/// Every order in the spec's examples and sandbox cases (vendored unchanged).
fn spec_orders() -> Vec<wire::Order> {
    let cases: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/vendor/amazon_orders_2026-01-01.json"
    ))
    .unwrap();
    let mut orders = Vec::new();
    for case in cases.as_array().unwrap() {
        let body = &case["body"];
        let found = match (body.get("orders"), body.get("order")) {
            (Some(list), _) => list.as_array().unwrap().clone(),
            (None, Some(one)) => vec![one.clone()],
            (None, None) => vec![],
        };
        for o in found {
            orders.push(serde_json::from_value(o).unwrap());
        }
    }
    orders
}

fn spec_order(id: &str) -> Order {
    let o = spec_orders()
        .into_iter()
        .find(|o| o.order_id == id)
        .unwrap();
    normalize(&o).unwrap()
}

fn breakdown(kind: &str, amount: &str) -> wire::OrderProceedsBreakdown {
    wire::OrderProceedsBreakdown {
        kind: kind.into(),
        status: None,
        subtotal: money(amount),
    }
}

#[test]
fn every_spec_example_reconciles_with_its_breakdown() {
    let orders = spec_orders();
    assert_eq!(orders.len(), 8);
    for o in &orders {
        let n = normalize(o).unwrap_or_else(|e| panic!("{}: {e}", o.order_id));
        let broken_down = o
            .proceeds
            .as_ref()
            .is_some_and(|p| !p.breakdowns.is_empty())
            || o.order_items.iter().any(|i| {
                i.proceeds
                    .as_ref()
                    .is_some_and(|p| !p.breakdowns.is_empty())
            });
        assert!(broken_down, "{}", o.order_id);
        assert_ne!(
            n.terms.amounts.difference,
            Some(Difference::NotBrokenDown),
            "{}",
            o.order_id
        );
    }
    // Items 149.97, tax 0.02 and a 5.00 delivery tip: the tip is another charge.
    let n = spec_order("123-4567890-1234567");
    let a = &n.terms.amounts;
    assert_eq!((n.currency.as_str(), n.total_minor), ("USD", 15_499));
    assert_eq!(
        (a.lines_minor, a.discount_minor, a.delivery_minor),
        (14_997, 0, 0)
    );
    assert_eq!(a.tax_minor, Some(2));
    assert_eq!(
        (a.difference_minor, a.difference),
        (502, Some(Difference::OtherCharges))
    );
    assert_eq!(
        (n.lines[0].tax_minor, n.lines[1].tax_minor),
        (Some(2), None)
    );
    assert_eq!(n.lines[0].discount_minor, 0);
    // Items 89.97, shipping 10.00, tax 4.00 (3.00 on the item, 1.00 on shipping).
    let n = spec_order("202-1234567-8901234");
    let a = &n.terms.amounts;
    assert_eq!(
        (a.lines_minor, a.delivery_minor, a.tax_minor),
        (8_997, 1_000, Some(400))
    );
    assert_eq!(
        (a.difference_minor, a.difference),
        (400, Some(Difference::TaxAdded))
    );
    assert_eq!(n.lines[0].tax_minor, Some(400));
    // Only the item breaks its proceeds down: item 39.99 + tax 10.00 = 49.99.
    let a = spec_order("114-9876543-1234567").terms.amounts;
    assert_eq!((a.lines_minor, a.tax_minor), (3_999, Some(1_000)));
    assert_eq!(a.difference, Some(Difference::TaxAdded));
    // Yen, items only: nothing left over.
    let n = spec_order("250-1234567-8901234");
    assert_eq!(
        (n.total_minor, n.terms.amounts.difference_minor),
        (19_940, 0)
    );
    assert_eq!(n.terms.amounts.difference, None);
}

#[test]
fn spec_examples_keep_their_delivery_window_notes_and_addresses() {
    let n = spec_order("123-4567890-1234567");
    let w = n.terms.delivery_window.unwrap();
    assert_eq!(
        w.earliest.unwrap().to_rfc3339(),
        "2024-12-28T00:00:00+00:00"
    );
    assert_eq!(w.latest.unwrap().to_rfc3339(), "2024-12-30T23:59:59+00:00");
    assert_eq!(
        n.customer.delivery_notes.as_deref(),
        Some("Front desk reception; Enter through main lobby, ask for John Smith at reception")
    );
    assert_eq!(
        spec_order("114-9876543-1234567").terms.delivery_window,
        None
    );
    let n = spec_order("202-1234567-8901234");
    let s = n.customer.shipping.unwrap();
    assert_eq!(s.company.as_deref(), Some("Wilson Electronics Ltd"));
    assert_eq!(s.street.as_deref(), Some("123 High Street"));
    assert_eq!(s.extra.as_deref(), Some("Unit 4B"));
    assert_eq!(s.extra2, None, "an empty addressLine3 is no line");
    assert_eq!(s.city.as_deref(), Some("Manchester"));
    assert_eq!(s.state.as_deref(), Some("England"));
    assert_eq!(s.postcode.as_deref(), Some("M1 2AB"));
    assert_eq!(s.country_code.as_deref(), Some("GB"));
    assert_eq!(n.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
}

#[test]
fn discounts_shipping_and_other_charges_explain_the_grand_total() {
    // An EU order: items 59.97, a 5.00 promotion, 4.95 shipping, 1.50 gift wrap.
    let mut o = order("UNSHIPPED");
    o.proceeds = Some(wire::OrderProceeds {
        grand_total: Some(money("61.42")),
        breakdowns: vec![
            breakdown("ITEM", "59.97"),
            breakdown("DISCOUNT", "-5.00"),
            breakdown("SHIPPING", "4.95"),
            breakdown("GIFT_WRAP", "1.50"),
        ],
    });
    o.order_items[0].proceeds = Some(wire::ItemProceeds {
        proceeds_total: Some(money("34.98")),
        breakdowns: vec![
            wire::ItemProceedsBreakdown {
                kind: "ITEM".into(),
                subtotal: money("39.98"),
            },
            wire::ItemProceedsBreakdown {
                kind: "DISCOUNT".into(),
                subtotal: money("-5.00"),
            },
        ],
    });
    let n = normalize(&o).unwrap();
    let a = &n.terms.amounts;
    assert_eq!(
        (
            a.lines_minor,
            a.discount_minor,
            a.delivery_minor,
            a.tax_minor
        ),
        (5_997, 500, 495, None)
    );
    assert_eq!(
        (a.difference_minor, a.difference),
        (150, Some(Difference::OtherCharges))
    );
    assert_eq!(
        (n.lines[0].discount_minor, n.lines[1].discount_minor),
        (500, 0)
    );
    // A positive discount means the same.
    o.proceeds.as_mut().unwrap().breakdowns[1] = breakdown("DISCOUNT", "5.00");
    assert_eq!(normalize(&o).unwrap().terms.amounts.discount_minor, 500);
    // Without the gift wrap the same total cannot be explained: the order fails,
    // naming no amount.
    o.proceeds.as_mut().unwrap().breakdowns.pop();
    let e = normalize(&o).unwrap_err();
    assert!(
        e.contains("cannot be reconciled") && !e.contains("61"),
        "{e}"
    );
    // Exactly explained without charges.
    o.proceeds.as_mut().unwrap().grand_total = Some(money("59.92"));
    let a = normalize(&o).unwrap().terms.amounts;
    assert_eq!((a.difference_minor, a.difference), (0, None));
    // A part in another currency fails.
    o.proceeds.as_mut().unwrap().breakdowns[2]
        .subtotal
        .currency_code = "GBP".into();
    assert_eq!(
        normalize(&o).unwrap_err(),
        "proceeds.breakdowns.currencyCode differs from the order's"
    );
}

#[test]
fn item_breakdowns_sum_when_the_order_has_none() {
    let mut o = order("SHIPPED");
    o.proceeds.as_mut().unwrap().grand_total = Some(money("66.92"));
    for (i, parts) in [
        [("ITEM", "39.98"), ("SHIPPING", "2.95"), ("TAX", "3.00")],
        [
            ("ITEM", "19.99"),
            ("SHIPPING", "2.00"),
            ("COD_FEE", "-1.00"),
        ],
    ]
    .into_iter()
    .enumerate()
    {
        o.order_items[i].proceeds = Some(wire::ItemProceeds {
            proceeds_total: None,
            breakdowns: parts
                .iter()
                .map(|(k, a)| wire::ItemProceedsBreakdown {
                    kind: (*k).into(),
                    subtotal: money(a),
                })
                .collect(),
        });
    }
    // 59.97 + 4.95 shipping + 3.00 tax - 1.00 fee = 66.92.
    let n = normalize(&o).unwrap();
    let a = &n.terms.amounts;
    assert_eq!(
        (a.lines_minor, a.delivery_minor, a.tax_minor),
        (5_997, 495, Some(300))
    );
    assert_eq!(
        (a.difference_minor, a.difference),
        (200, Some(Difference::OtherCharges))
    );
    assert_eq!(n.lines[0].tax_minor, Some(300));
    // No grand total: nothing to explain, the lines are the total.
    o.proceeds = None;
    let n = normalize(&o).unwrap();
    assert_eq!(n.total_minor, 5_997);
    assert_eq!(n.terms.amounts.difference, None);
    // No breakdown anywhere: the difference is kept as not broken down.
    let mut o = order("SHIPPED");
    o.proceeds.as_mut().unwrap().grand_total = Some(money("64.92"));
    let a = normalize(&o).unwrap().terms.amounts;
    assert_eq!(
        (a.difference_minor, a.difference),
        (495, Some(Difference::NotBrokenDown))
    );
}

#[test]
fn delivery_windows_fulfilment_and_references() {
    let mut o = order("UNSHIPPED");
    let f = o.fulfillment.as_mut().unwrap();
    f.fulfilled_by = Some("AMAZON".into());
    f.deliver_by_window = Some(wire::DateTimeRange {
        earliest_date_time: None,
        latest_date_time: Some("2026-01-09T23:59:59Z".into()),
    });
    o.buyer.as_mut().unwrap().buyer_purchase_order_number = Some("PO-77".repeat(40).into());
    let n = normalize(&o).unwrap();
    assert_eq!(
        n.terms.fulfilment_method,
        Some(FulfilmentMethod::Marketplace)
    );
    let w = n.terms.delivery_window.unwrap();
    assert_eq!(
        (w.earliest, w.latest.unwrap().to_rfc3339()),
        (None, "2026-01-09T23:59:59+00:00".to_string())
    );
    assert_eq!(n.terms.customer_reference.unwrap().len(), 128, "cut at 128");
    let f = o.fulfillment.as_mut().unwrap();
    f.fulfilled_by = Some("MERCHANT".into());
    f.deliver_by_window = Some(wire::DateTimeRange {
        earliest_date_time: Some("2026-01-07T00:00:00Z".into()),
        latest_date_time: None,
    });
    let n = normalize(&o).unwrap();
    assert_eq!(n.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
    assert_eq!(n.terms.delivery_window.unwrap().latest, None);
    let f = o.fulfillment.as_mut().unwrap();
    f.fulfilled_by = None;
    f.deliver_by_window = Some(wire::DateTimeRange::default());
    let n = normalize(&o).unwrap();
    assert_eq!(
        (n.terms.fulfilment_method, n.terms.delivery_window),
        (None, None)
    );
    o.fulfillment.as_mut().unwrap().deliver_by_window = Some(wire::DateTimeRange {
        earliest_date_time: Some("Anna".into()),
        latest_date_time: None,
    });
    assert_eq!(
        normalize(&o).unwrap_err(),
        "fulfillment.deliverByWindow.earliestDateTime is not an ISO 8601 date-time"
    );
}

#[test]
fn unit_prices_lines_and_cancelled_units() {
    // No unitPrice but an ITEM breakdown: the unit price only where it divides.
    let mut o = order("SHIPPED");
    o.proceeds.as_mut().unwrap().grand_total = Some(money("20.00"));
    o.order_items = vec![
        item("1", 4, 4, None),
        item("2", 3, 3, None),
        item("3", 2, 2, None),
    ];
    for (i, total) in ["10.00", "10.00"].iter().enumerate() {
        o.order_items[i].proceeds = Some(wire::ItemProceeds {
            proceeds_total: None,
            breakdowns: vec![wire::ItemProceedsBreakdown {
                kind: "ITEM".into(),
                subtotal: money(total),
            }],
        });
    }
    let n = normalize(&o).unwrap();
    assert_eq!(
        (n.lines[0].total_minor, n.lines[0].unit_price_minor),
        (1_000, Some(250))
    );
    assert_eq!(
        (n.lines[1].total_minor, n.lines[1].unit_price_minor),
        (1_000, None)
    );
    assert_eq!(
        (n.lines[2].total_minor, n.lines[2].unit_price_minor),
        (0, None)
    );
    assert_eq!(
        n.terms.amounts.difference, None,
        "the lines explain the total"
    );
    // A cancelled order cancels only what did not ship.
    let mut c = order("CANCELLED");
    c.order_items = vec![item("1", 3, 1, Some("1.00"))];
    let c = normalize(&c).unwrap();
    assert_eq!(
        (c.lines[0].quantity_shipped, c.lines[0].quantity_cancelled),
        (1, 2)
    );
    assert_eq!(c.fulfilled_at, None);
    let mut x = order("UNSHIPPED");
    x.order_items = vec![item("1", 1, 0, Some("1.00"))];
    x.order_items[0]
        .fulfillment
        .as_mut()
        .unwrap()
        .quantity_fulfilled = Some(2);
    assert_eq!(
        normalize(&x).unwrap_err(),
        "orderItems[].fulfillment.quantityFulfilled exceeds quantityOrdered"
    );
    let mut x = order("UNSHIPPED");
    x.order_items[0].order_item_id = " ".into();
    assert_eq!(
        normalize(&x).unwrap_err(),
        "orderItems[].orderItemId is empty"
    );
}

#[test]
fn currencies_and_buyers() {
    let mut o = order("SHIPPED");
    o.proceeds
        .as_mut()
        .unwrap()
        .grand_total
        .as_mut()
        .unwrap()
        .currency_code = "EURO".into();
    assert_eq!(
        normalize(&o).unwrap_err(),
        "proceeds.grandTotal.currencyCode is not an ISO 4217 code"
    );
    o.proceeds
        .as_mut()
        .unwrap()
        .grand_total
        .as_mut()
        .unwrap()
        .currency_code = "eur".into();
    assert_eq!(normalize(&o).unwrap().currency, "EUR");
    // A business buyer without a name is still the billing party; blank is nothing.
    let mut o = order("SHIPPED");
    let b = o.buyer.as_mut().unwrap();
    b.buyer_name = None;
    b.buyer_company_name = Some("ML Bau & Energie GmbH".into());
    let bill = normalize(&o).unwrap().customer.billing.unwrap();
    assert_eq!(
        (bill.full_name, bill.company.as_deref()),
        (None, Some("ML Bau & Energie GmbH"))
    );
    let b = o.buyer.as_mut().unwrap();
    b.buyer_company_name = Some(" ".into());
    assert_eq!(normalize(&o).unwrap().customer.billing, None);
    // Notes: blank parts are left out; none at all is no note.
    let mut o = order("SHIPPED");
    o.recipient.as_mut().unwrap().delivery_preference = Some(wire::DeliveryPreference {
        drop_off_location: Some(" ".into()),
        address_instruction: Some("Achterom".into()),
    });
    assert_eq!(
        normalize(&o).unwrap().customer.delivery_notes.as_deref(),
        Some("Achterom")
    );
    o.recipient.as_mut().unwrap().delivery_preference = Some(wire::DeliveryPreference::default());
    assert_eq!(normalize(&o).unwrap().customer.delivery_notes, None);
    // A blank country code is no country.
    let mut o = order("SHIPPED");
    o.recipient
        .as_mut()
        .unwrap()
        .delivery_address
        .as_mut()
        .unwrap()
        .country_code = Some(" ".into());
    let n = normalize(&o).unwrap();
    assert_eq!(
        (n.country_code, n.customer.shipping.unwrap().country_code),
        (None, None)
    );
}

#[test]
fn a_third_address_line_is_kept() {
    // The spec's examples all send `addressLine3: ""`; the schema allows a third line
    // (a building, a floor), and dropping it would lose part of where the parcel goes.
    let mut o = order("SHIPPED");
    let a = o
        .recipient
        .as_mut()
        .unwrap()
        .delivery_address
        .as_mut()
        .unwrap();
    a.address_line2 = Some("Gebouw C".into());
    a.address_line3 = Some("3e verdieping".into());
    let s = normalize(&o).unwrap().customer.shipping.unwrap();
    assert_eq!(
        (s.street.as_deref(), s.extra.as_deref(), s.extra2.as_deref()),
        (
            Some("Kerkstraat 12"),
            Some("Gebouw C"),
            Some("3e verdieping")
        )
    );
}
