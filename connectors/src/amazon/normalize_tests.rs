//! Tests of the amazon normalizer, on payloads shaped like the real API's.

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

#[test]
fn every_known_marketplace_has_its_currency() {
    for (id, currency) in [
        ("A1805IZSGTT6HS", "EUR"), // NL
        ("A1PA6795UKMFR9", "EUR"), // DE
        ("A13V1IB3VIYZZH", "EUR"), // FR
        ("APJ6JRA9NG5V4", "EUR"),  // IT
        ("A1RKKUPIHCS9HS", "EUR"), // ES
        ("AMEN7PMS3EDWL", "EUR"),  // BE
        ("A1F83G8C2ARO7P", "GBP"),
        ("A2NODRKZP88ZB9", "SEK"),
        ("A1C3SOZRARQ6R3", "PLN"),
        ("ATVPDKIKX0DER", "USD"),
        ("A2EUQ1WTGCTBG2", "CAD"),
        ("A1VC38T7YXB528", "JPY"),
    ] {
        assert_eq!(marketplace_currency(id), Some(currency), "{id}");
    }
    assert_eq!(
        marketplace_currency("A21TJRUUN4KGV"),
        None,
        "India: not sold"
    );
}

#[test]
fn seller_fulfilled_orders_and_one_sided_delivery_windows() {
    let mut o = order("Unshipped");
    o.fulfillment_channel = Some("MFN".into());
    o.latest_delivery_date = Some("2026-01-09T23:59:59Z".into());
    let n = normalize(&o, &[item("1", 1, 0, Some("59.97"))]).unwrap();
    assert_eq!(n.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
    let w = n
        .terms
        .delivery_window
        .expect("LatestDeliveryDate alone is a window");
    assert_eq!(w.earliest, None);
    assert_eq!(w.latest.unwrap().to_rfc3339(), "2026-01-09T23:59:59+00:00");
    o.fulfillment_channel = None;
    o.latest_delivery_date = None;
    let n = normalize(&o, &[item("1", 1, 0, Some("59.97"))]).unwrap();
    assert_eq!(n.terms.fulfilment_method, None);
    assert_eq!(n.terms.delivery_window, None);
}

#[test]
fn item_and_shipping_tax_add_up() {
    let mut o = order("Unshipped");
    o.order_total = money("64.92");
    let mut a = item("1", 1, 0, Some("59.97"));
    a.shipping_price = money("4.95");
    a.item_tax = money("10.41");
    a.shipping_tax = money("0.86");
    let n = normalize(&o, &[a.clone()]).unwrap();
    assert_eq!(n.terms.amounts.tax_minor, Some(1_127));
    assert_eq!(
        n.lines[0].tax_minor,
        Some(1_041),
        "the line keeps its item tax"
    );
    a.item_tax = None;
    let n = normalize(&o, &[a]).unwrap();
    assert_eq!(n.terms.amounts.tax_minor, Some(86), "shipping tax alone");
}

#[test]
fn a_cancelled_order_cancels_only_its_unshipped_units() {
    let mut o = order("Canceled");
    o.order_total = money("3.00");
    let n = normalize(&o, &[item("1", 3, 1, Some("3.00"))]).unwrap();
    assert_eq!(n.lines[0].quantity_shipped, 1);
    assert_eq!(n.lines[0].quantity_cancelled, 2);
    let e = normalize(&o, &[item("1", 3, 4, Some("3.00"))]).unwrap_err();
    assert_eq!(e, "OrderItems[0].QuantityShipped exceeds QuantityOrdered");
}

#[test]
fn every_address_part_and_the_business_buyer_are_kept() {
    let mut o = order("Shipped");
    o.buyer_info.as_mut().unwrap().buyer_tax_info = Some(wire::BuyerTaxInfo {
        company_legal_name: Some("ML Bau & Energie GmbH".into()),
        taxing_region: None,
    });
    let n = normalize(&o, &[item("1", 1, 1, Some("59.97"))]).unwrap();
    let s = n.customer.shipping.unwrap();
    assert_eq!(s.city.as_deref(), Some("Utrecht"));
    assert_eq!(s.postcode.as_deref(), Some("3511 AB"));
    assert_eq!(s.country_code.as_deref(), Some("NL"), "upper-cased");
    let b = n.customer.billing.unwrap();
    assert_eq!(b.full_name.as_deref(), Some("Anna de Vries"));
    assert_eq!(b.company.as_deref(), Some("ML Bau & Energie GmbH"));
    // A company without a buyer name is still a billing party.
    o.buyer_info.as_mut().unwrap().buyer_name = None;
    let n = normalize(&o, &[item("1", 1, 1, Some("59.97"))]).unwrap();
    let b = n.customer.billing.unwrap();
    assert_eq!(
        (b.full_name, b.company.as_deref()),
        (None, Some("ML Bau & Energie GmbH"))
    );
    // A blank country code is no country.
    o.shipping_address.as_mut().unwrap().country_code = Some(" ".into());
    let n = normalize(&o, &[item("1", 1, 1, Some("59.97"))]).unwrap();
    assert_eq!(n.customer.shipping.unwrap().country_code, None);
    assert_eq!(n.country_code, None);
}
