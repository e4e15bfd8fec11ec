//! Tests of the ebay normalizer, on payloads shaped like the real API's.

use super::*;
use serde_json::json;

fn sample() -> Value {
    json!({
        "orderId": "04-12087-72462",
        "legacyOrderId": "110553127385-27736447001",
        "creationDate": "2026-01-10T08:25:43.511Z",
        "lastModifiedDate": "2026-01-11T09:00:00.000Z",
        "orderFulfillmentStatus": "IN_PROGRESS",
        "orderPaymentStatus": "PAID",
        "buyer": {
            "username": "anna_nl",
            "buyerRegistrationAddress": {
                "fullName": "Anna de Vries",
                "companyName": "de Vries Handel B.V.",
                "email": "a1b2@members.ebay.com",
                "primaryPhone": {"phoneNumber": "+31612345678"},
                "contactAddress": {"addressLine1": "Kerkstraat 12", "city": "Utrecht",
                    "postalCode": "3511 AB", "countryCode": "NL"}
            }
        },
        "buyerCheckoutNotes": "Bel aan bij de buren",
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": {"shipTo": {
                "fullName": "Anna de Vries",
                "email": "a1b2@members.ebay.com",
                "primaryPhone": {"phoneNumber": "+31612345678"},
                "contactAddress": {"addressLine1": "12 Rue de la Paix", "addressLine2": "Bus 3",
                    "city": "Lyon", "postalCode": "69001", "countryCode": "fr"}
            }}
        }],
        "lineItems": [
            {"lineItemId": "10001", "sku": "SKU-1", "title": "Yogamat", "quantity": 2,
             "lineItemCost": {"value": "39.90", "currency": "EUR"},
             "lineItemFulfillmentStatus": "FULFILLED"},
            {"lineItemId": "10002", "title": "Fietsbel", "quantity": 1,
             "lineItemCost": {"value": "6.50", "currency": "EUR"},
             "lineItemFulfillmentStatus": "NOT_STARTED"}
        ],
        "pricingSummary": {"total": {"value": "46.40", "currency": "EUR"}}
    })
}

/// Normalizes `v` the way the client does (from its JSON text) and checks that the
/// `Value` path agrees, order for order and failure for failure.
fn both_paths(v: &Value) -> FetchedOrder {
    let raw = RawValue::from_string(v.to_string()).unwrap();
    let from_text = normalize_raw(&raw);
    match (&from_text, &normalize_value(v)) {
        (FetchedOrder::Ok(a), FetchedOrder::Ok(b)) => assert_eq!(a, b),
        (
            FetchedOrder::Failed {
                marketplace_order_id: a,
                error: e,
            },
            FetchedOrder::Failed {
                marketplace_order_id: b,
                error: f,
            },
        ) => assert_eq!((a, e), (b, f)),
        (a, b) => panic!("the paths disagree: {a:?} / {b:?}"),
    }
    from_text
}

fn ok(v: &Value) -> Order {
    match both_paths(v) {
        FetchedOrder::Ok(o) => *o,
        FetchedOrder::Failed { error, .. } => panic!("{error}"),
    }
}

#[test]
fn maps_money_status_and_people() {
    let o = ok(&sample());
    assert_eq!(o.order_number.as_str(), "04-12087-72462");
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    assert_eq!(o.total_minor, 4640);
    assert_eq!(o.currency, "EUR");
    assert_eq!(o.country_code.as_deref(), Some("FR"));
    assert_eq!(o.lines[0].unit_price_minor, Some(1995));
    assert_eq!(o.lines[0].total_minor, 3990);
    assert_eq!(o.lines[0].quantity_shipped, 2);
    assert_eq!(o.lines[1].quantity_shipped, 0);
    assert_eq!(o.fulfilled_at, None);
    let ship = o.customer.shipping.as_ref().unwrap();
    assert_eq!(ship.full_name.as_deref(), Some("Anna de Vries"));
    assert_eq!(
        (ship.first_name.clone(), ship.last_name.clone()),
        (None, None)
    );
    assert_eq!(ship.street.as_deref(), Some("12 Rue de la Paix"));
    assert_eq!(ship.house_number, None, "eBay does not split house numbers");
    assert_eq!(ship.extra.as_deref(), Some("Bus 3"));
    assert_eq!(ship.country_code.as_deref(), Some("FR"));
    let bill = o.customer.billing.as_ref().unwrap();
    assert_eq!(bill.company.as_deref(), Some("de Vries Handel B.V."));
    assert_eq!(bill.street.as_deref(), Some("Kerkstraat 12"));
    assert_eq!(o.customer.buyer_username.as_deref(), Some("anna_nl"));
    assert_eq!(o.terms.payment_status, Some(PaymentStatus::Paid));
    assert_eq!(o.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
    assert_eq!(o.customer.email.as_deref(), Some("a1b2@members.ebay.com"));
    assert_eq!(o.customer.phone.as_deref(), Some("+31612345678"));
    assert_eq!(
        o.customer.delivery_notes.as_deref(),
        Some("Bel aan bij de buren")
    );
}

#[test]
fn cancelled_and_fulfilled_orders() {
    let mut v = sample();
    v["cancelStatus"] = json!({"cancelState": "CANCELED",
        "cancelledDate": "2026-01-10T10:00:00.000Z", "cancelRequests": []});
    v["lineItems"][0]["lineItemFulfillmentStatus"] = json!("NOT_STARTED");
    let o = ok(&v);
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.cancelled_at, parse_timestamp("2026-01-10T10:00:00.000Z"));
    assert_eq!(o.lines[0].quantity_cancelled, 2);

    let mut v = sample();
    v["lineItems"][1]["lineItemFulfillmentStatus"] = json!("FULFILLED");
    let o = ok(&v);
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.fulfilled_at, Some(o.updated_at));

    let mut v = sample();
    v["orderPaymentStatus"] = json!("PENDING");
    assert_eq!(ok(&v).status, OrderStatus::Pending);

    // Cancelled after one line shipped: only the unshipped units are cancelled.
    let mut v = sample();
    v["cancelStatus"] = json!({"cancelState": "CANCELED", "cancelRequests": []});
    v["lineItems"][0]["quantity"] = json!(2);
    v["lineItems"][1]["quantity"] = json!(3);
    v["lineItems"][1]["lineItemCost"]["value"] = json!("19.50");
    v["pricingSummary"]["total"]["value"] = json!("59.40");
    let o = ok(&v);
    assert_eq!(o.lines[0].quantity_cancelled, 0, "shipped line");
    assert_eq!(o.lines[1].quantity_cancelled, 3);
    assert_eq!(o.cancelled_at, None, "partly shipped is not cancelled");
    assert_eq!(o.status, OrderStatus::Shipped);

    let mut v = sample();
    v["cancelStatus"]["cancelState"] = json!("IN_PROGRESS");
    let o = ok(&v);
    assert!(o.terms.cancellation_requested);
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    assert!(!ok(&sample()).terms.cancellation_requested);
}

fn failed(v: &Value) -> String {
    match both_paths(v) {
        FetchedOrder::Failed { error, .. } => error,
        FetchedOrder::Ok(_) => panic!("accepted"),
    }
}

#[test]
fn currencies_are_checked_everywhere() {
    let mut v = sample();
    v["pricingSummary"]["total"]["currency"] = json!("EURO");
    assert_eq!(
        failed(&v),
        "pricingSummary.total.currency is missing or invalid"
    );
    let mut v = sample();
    v["lineItems"][1]["lineItemCost"]["currency"] = json!("EURO");
    assert_eq!(
        failed(&v),
        "lineItems[1].lineItemCost.currency is missing or invalid"
    );
    let mut v = sample();
    v["lineItems"][1]["lineItemCost"]["currency"] = json!("GBP");
    assert_eq!(
        failed(&v),
        "lineItems[1].lineItemCost.currency differs from the order currency"
    );
    let mut v = sample();
    v["pricingSummary"]["deliveryCost"] = json!({"value": "1.00", "currency": "USD"});
    assert!(failed(&v).starts_with("pricingSummary.deliveryCost"));
    // Lower case is still the code.
    let mut v = sample();
    v["pricingSummary"]["total"]["currency"] = json!("eur");
    assert_eq!(ok(&v).currency, "EUR");
}

#[test]
fn discounts_delivery_and_refunds_explain_the_total() {
    // The real shape: lines 264.80, a 13.29 promotion, 4.99 delivery, total 256.51.
    let mut v = sample();
    v["lineItems"][0]["lineItemCost"]["value"] = json!("250.00");
    v["lineItems"][1]["lineItemCost"]["value"] = json!("14.80");
    v["lineItems"][0]["appliedPromotions"] = json!([
        {"discountAmount": {"value": "13.29", "currency": "EUR"}, "promotionId": "1"}
    ]);
    v["pricingSummary"] = json!({
        "priceSubtotal": {"value": "264.80", "currency": "EUR"},
        "priceDiscount": {"value": "-13.29", "currency": "EUR"},
        "deliveryCost": {"value": "5.00", "currency": "EUR"},
        "total": {"value": "256.51", "currency": "EUR"}
    });
    let o = ok(&v);
    let a = &o.terms.amounts;
    assert_eq!(
        (a.lines_minor, a.discount_minor, a.delivery_minor),
        (26_480, 1_329, 500)
    );
    assert_eq!((a.difference_minor, a.difference), (0, None));
    assert_eq!(o.lines[0].discount_minor, 1_329);
    assert_eq!(o.lines[1].discount_minor, 0);
    // Without priceDiscount the line promotions are the discount.
    let mut w = v.clone();
    w["pricingSummary"]
        .as_object_mut()
        .unwrap()
        .remove("priceDiscount");
    assert_eq!(ok(&w).terms.amounts.discount_minor, 1_329);
    // A delivery discount counts too.
    let mut w = v.clone();
    w["pricingSummary"]["deliveryDiscount"] = json!({"value": "-5.00", "currency": "EUR"});
    w["pricingSummary"]["total"]["value"] = json!("251.51");
    assert_eq!(ok(&w).terms.amounts.discount_minor, 1_829);
    // Tax added on top is named.
    let mut w = v.clone();
    w["pricingSummary"]["tax"] = json!({"value": "20.00", "currency": "EUR"});
    w["pricingSummary"]["total"]["value"] = json!("276.51");
    let a = ok(&w).terms.amounts;
    assert_eq!((a.tax_minor, a.difference_minor), (Some(2_000), 2_000));
    assert_eq!(a.difference, Some(crate::model::Difference::TaxAdded));
    // Anything unexplained fails the order, with no amount in the error.
    let mut w = v.clone();
    w["pricingSummary"]["total"]["value"] = json!("256.50");
    let e = failed(&w);
    assert!(
        e.contains("cannot be reconciled") && !e.contains("256"),
        "{e}"
    );

    // A full refund: payment status refunded, the amount kept.
    let mut w = v.clone();
    w["orderPaymentStatus"] = json!("FULLY_REFUNDED");
    w["paymentSummary"] = json!({"refunds": [
        {"amount": {"value": "256.51", "currency": "EUR"}, "refundStatus": "REFUNDED"},
        {"amount": {"value": "9.99", "currency": "EUR"}, "refundStatus": "FAILED"}
    ]});
    let o = ok(&w);
    assert_eq!(o.terms.payment_status, Some(PaymentStatus::Refunded));
    assert_eq!(o.terms.amounts.refunded_minor, 25_651);
    assert_eq!(o.total_minor, 25_651, "the total stays what was charged");
    // A partial refund on a line.
    let mut w = v.clone();
    w["orderPaymentStatus"] = json!("PARTIALLY_REFUNDED");
    w["lineItems"][1]["refunds"] = json!([{"amount": {"value": "4.80", "currency": "EUR"}}]);
    let o = ok(&w);
    assert_eq!(
        o.terms.payment_status,
        Some(PaymentStatus::PartiallyRefunded)
    );
    assert_eq!(o.terms.amounts.refunded_minor, 480);
    let mut w = v;
    w["orderPaymentStatus"] = json!("SOMETIMES");
    assert_eq!(failed(&w), "orderPaymentStatus has an unknown value");
}

#[test]
fn fulfilment_window_and_state_are_kept() {
    let mut v = sample();
    v["fulfillmentStartInstructions"][0]["ebaySupportedFulfillment"] = json!(true);
    v["fulfillmentStartInstructions"][0]["minEstimatedDeliveryDate"] =
        json!("2026-01-12T08:00:00.000Z");
    v["fulfillmentStartInstructions"][0]["maxEstimatedDeliveryDate"] =
        json!("2026-01-15T20:00:00.000Z");
    v["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["contactAddress"]
        ["stateOrProvince"] = json!("Rhône");
    let o = ok(&v);
    assert_eq!(
        o.terms.fulfilment_method,
        Some(FulfilmentMethod::Marketplace)
    );
    let w = o.terms.delivery_window.unwrap();
    assert_eq!(w.earliest, parse_timestamp("2026-01-12T08:00:00.000Z"));
    assert_eq!(w.latest, parse_timestamp("2026-01-15T20:00:00.000Z"));
    assert_eq!(o.customer.shipping.unwrap().state.as_deref(), Some("Rhône"));
    v["fulfillmentStartInstructions"][0]["ebaySupportedFulfillment"] = json!(false);
    assert_eq!(
        ok(&v).terms.fulfilment_method,
        Some(FulfilmentMethod::Seller)
    );
    v["fulfillmentStartInstructions"][0]["maxEstimatedDeliveryDate"] = json!("soon");
    assert!(failed(&v).contains("maxEstimatedDeliveryDate"));
}

#[test]
fn blanked_personal_data_comes_back_as_none() {
    let mut v = sample();
    for c in [
        "/buyer/buyerRegistrationAddress",
        "/fulfillmentStartInstructions/0/shippingStep/shipTo",
    ] {
        let c = v.pointer_mut(c).unwrap().as_object_mut().unwrap();
        c.remove("fullName");
        c.remove("email");
        c.remove("primaryPhone");
        let a = c["contactAddress"].as_object_mut().unwrap();
        a.remove("addressLine1");
        a.remove("addressLine2");
    }
    let o = ok(&v);
    assert!(o.customer.email.is_none() && o.customer.phone.is_none());
    let ship = o.customer.shipping.unwrap();
    assert!(ship.full_name.is_none() && ship.street.is_none() && ship.extra.is_none());
    assert_eq!(ship.city.as_deref(), Some("Lyon"));
    assert_eq!(ship.postcode.as_deref(), Some("69001"));
    assert_eq!(ship.country_code.as_deref(), Some("FR"));
    // Blank strings instead of absent keys mean the same.
    let mut v = sample();
    let c = v
        .pointer_mut("/fulfillmentStartInstructions/0/shippingStep/shipTo")
        .unwrap();
    c["fullName"] = json!("");
    c["email"] = json!(" ");
    c["contactAddress"]["addressLine1"] = json!("");
    let o = ok(&v);
    let ship = o.customer.shipping.unwrap();
    assert!(ship.full_name.is_none() && ship.street.is_none());
    assert_eq!(
        o.customer.email.as_deref(),
        Some("a1b2@members.ebay.com"),
        "falls back to the registration contact"
    );
}

#[test]
fn malformed_orders_fail_alone_without_values_in_the_error() {
    let mut v = sample();
    v["lineItems"][1]["quantity"] = json!("Anna de Vries");
    match both_paths(&v) {
        FetchedOrder::Failed {
            marketplace_order_id,
            error,
        } => {
            assert_eq!(marketplace_order_id, "04-12087-72462");
            assert!(error.contains("lineItems[1].quantity"), "{error}");
            assert!(!error.contains("Anna"), "{error}");
        }
        FetchedOrder::Ok(_) => panic!("accepted a bad quantity"),
    }
    let mut v = sample();
    v["pricingSummary"]["total"]["value"] = json!("Kerkstraat 12");
    match both_paths(&v) {
        FetchedOrder::Failed { error, .. } => {
            assert!(error.contains("pricingSummary.total.value"), "{error}");
            assert!(!error.contains("Kerkstraat"), "{error}");
        }
        FetchedOrder::Ok(_) => panic!("accepted a bad amount"),
    }
}

#[test]
fn an_order_the_typed_parse_refuses_takes_the_value_path() {
    // A repeated key: the typed parse refuses it, a `Value` keeps the last one, as the
    // client always did.
    let text = sample()
        .to_string()
        .replacen('{', r#"{"orderId":"first","#, 1);
    let raw = RawValue::from_string(text).unwrap();
    match normalize_raw(&raw) {
        FetchedOrder::Ok(o) => assert_eq!(*o, ok(&sample())),
        FetchedOrder::Failed { error, .. } => panic!("{error}"),
    }
}

#[test]
fn timestamps_round_trip_in_ebays_format() {
    let t = parse_timestamp("2015-08-04T19:09:02.768Z").unwrap();
    assert_eq!(format_timestamp(t), "2015-08-04T19:09:02.768Z");
    assert_eq!(parse_timestamp(" 2015-08-04T21:09:02.768+02:00 "), Some(t));
    assert_eq!(parse_timestamp("04-08-2015"), None);
}

#[test]
fn a_delivery_window_with_one_end_is_kept() {
    // eBay often states only the latest estimate, or only the earliest.
    let mut v = sample();
    v["fulfillmentStartInstructions"][0]["maxEstimatedDeliveryDate"] =
        json!("2026-01-15T20:00:00.000Z");
    let w = ok(&v)
        .terms
        .delivery_window
        .expect("latest alone is a window");
    assert_eq!(
        (w.earliest, w.latest),
        (None, parse_timestamp("2026-01-15T20:00:00.000Z"))
    );
    let mut v = sample();
    v["fulfillmentStartInstructions"][0]["minEstimatedDeliveryDate"] =
        json!("2026-01-12T08:00:00.000Z");
    let w = ok(&v)
        .terms
        .delivery_window
        .expect("earliest alone is a window");
    assert_eq!(
        (w.earliest, w.latest),
        (parse_timestamp("2026-01-12T08:00:00.000Z"), None)
    );
    assert_eq!(ok(&sample()).terms.delivery_window, None);
}

#[test]
fn skus_and_quantities_are_checked() {
    let o = ok(&sample());
    assert_eq!(o.lines[0].sku.as_deref(), Some("SKU-1"));
    assert_eq!(o.lines[1].sku, None, "the second line has no sku");
    let mut v = sample();
    v["lineItems"][0]["sku"] = json!("");
    assert_eq!(ok(&v).lines[0].sku, None, "an empty sku is no sku");
    // A line of zero units is not an order line.
    let mut v = sample();
    v["lineItems"][1]["quantity"] = json!(0);
    assert_eq!(failed(&v), "lineItems[1].quantity is missing or zero");
}

#[test]
fn in_store_pickup_is_a_pickup_point_order() {
    // The spec's In-Store Pickup shape: PREPARE_FOR_PICKUP with a pickupStep, no
    // shippingStep and no delivery estimate.
    let mut v = sample();
    v["fulfillmentStartInstructions"] = json!([{
        "fulfillmentInstructionsType": "PREPARE_FOR_PICKUP",
        "pickupStep": {"merchantLocationKey": "STORE-BERLIN-MITTE"}
    }]);
    let o = ok(&v);
    assert!(o.terms.pickup_point);
    let p = o.customer.pickup_point.as_ref().expect("the pickup point");
    assert_eq!(p.name.as_deref(), Some("STORE-BERLIN-MITTE"));
    assert!(
        p.address.is_none(),
        "the seller's own store: no address in the order"
    );
    assert!(o.customer.shipping.is_none(), "nothing to ship");
    assert_eq!(o.terms.delivery_window, None);
    assert_eq!(o.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
    assert_eq!(
        o.country_code.as_deref(),
        Some("NL"),
        "from the registration address"
    );
    // Either sign is enough: the type alone, or the step alone; a blank key is no name.
    v["fulfillmentStartInstructions"][0]["pickupStep"]["merchantLocationKey"] = json!(" ");
    let o = ok(&v);
    assert!(o.terms.pickup_point && o.customer.pickup_point.unwrap().name.is_none());
    v["fulfillmentStartInstructions"][0]
        .as_object_mut()
        .unwrap()
        .remove("pickupStep");
    assert!(ok(&v).terms.pickup_point);
    v["fulfillmentStartInstructions"][0]["fulfillmentInstructionsType"] = json!("SHIP_TO");
    v["fulfillmentStartInstructions"][0]["pickupStep"] = json!({"merchantLocationKey": "S1"});
    assert!(ok(&v).terms.pickup_point);
    // An ordinary order is none.
    let o = ok(&sample());
    assert!(!o.terms.pickup_point && o.customer.pickup_point.is_none());
}
