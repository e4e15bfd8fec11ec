//! Tests of the bol normalizer, on payloads shaped like the real API's.

use super::*;
use serde_json::json;

fn detail() -> Value {
    json!({
        "orderId": "1042823870",
        "pickupPoint": false,
        "orderPlacedDateTime": "2019-04-30T16:47:32+02:00",
        "shipmentDetails": {
            "salutation": "MALE", "firstName": "Hans", "surname": "de Grote",
            "streetName": "Skywalkerstraat", "houseNumber": "199", "zipCode": "1234AB",
            "city": "PLATOONDORP", "countryCode": "NL",
            "email": "27zoytzc3crf2r6bctxfa3m2mrjbci@verkopen.test2.bol.com", "language": "nl"
        },
        "billingDetails": {
            "salutation": "MALE", "firstName": "Pieter", "surname": "Post",
            "streetName": "Skywalkerstraat", "houseNumber": "21", "houseNumberExtension": "X",
            "extraAddressInformation": "Extra informatie", "zipCode": "1234AB",
            "city": "PLATOONDORP", "countryCode": "NL",
            "email": "2yldzdi2wjcf5ir4sycq7lufqpytxy@verkopen.test2.bol.com",
            "company": "Pieter Post", "vatNumber": "NL123456789B01", "kvkNumber": "99887766",
            "orderReference": "Mijn order ref"
        },
        "orderItems": [
            {
                "orderItemId": "6107771545", "cancellationRequest": false,
                "fulfilment": {"method": "FBB", "latestDeliveryDate": "2018-04-22", "timeFrameType": "REGULAR"},
                "offer": {"offerId": "8f1183e3-de98-c92f-e053-3590612a63b7", "reference": "MijnOffer0021"},
                "product": {"ean": "8785056370398", "title": "Star Wars Prequel Trilogy"},
                "quantity": 2, "quantityShipped": 2, "quantityCancelled": 0,
                "unitPrice": 19.99, "totalPrice": 39.98, "discounts": [], "commission": 2.21,
                "latestChangedDateTime": "2019-05-01T10:00:00+02:00"
            },
            {
                "orderItemId": "6107771546", "cancellationRequest": false,
                "product": {"ean": "8712626055150", "title": "Harry Potter"},
                "quantity": 1, "quantityShipped": 0, "quantityCancelled": 1,
                "unitPrice": 0.1, "totalPrice": 0.1, "discounts": [], "commission": 0.01,
                "latestChangedDateTime": "2019-05-01T09:00:00+02:00"
            }
        ]
    })
}

#[test]
fn detail_maps_to_canonical_order() {
    let o = order(serde_json::from_value(detail()).unwrap(), None).unwrap();
    assert_eq!(o.order_number.as_str(), "1042823870");
    assert_eq!(o.placed_at, parse_time("2019-04-30T14:47:32Z").unwrap());
    assert_eq!(o.updated_at, parse_time("2019-05-01T08:00:00Z").unwrap());
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.fulfilled_at, Some(o.updated_at));
    assert_eq!(o.cancelled_at, None);
    assert_eq!(o.total_minor, 3998 + 10);
    assert_eq!(o.lines[0].unit_price_minor, Some(1999));
    assert_eq!(o.lines[0].sku.as_deref(), Some("MijnOffer0021"));
    assert_eq!(o.lines[1].unit_price_minor, Some(10));
    assert_eq!(o.lines[1].sku, None);
    assert_eq!(o.country_code.as_deref(), Some("NL"));
    let ship = o.customer.shipping.as_ref().unwrap();
    assert_eq!(ship.last_name.as_deref(), Some("de Grote"));
    assert_eq!(ship.postcode.as_deref(), Some("1234AB"));
    let bill = o.customer.billing.as_ref().unwrap();
    assert_eq!(bill.vat_id.as_deref(), Some("NL123456789B01"));
    assert_eq!(bill.house_number_ext.as_deref(), Some("X"));
    assert_eq!(bill.extra.as_deref(), Some("Extra informatie"));
    assert!(o
        .customer
        .email
        .as_deref()
        .unwrap()
        .ends_with("@verkopen.test2.bol.com"));
    assert_eq!(o.customer.phone, None);
}

#[test]
fn business_terms_companies_and_references() {
    let o = order(serde_json::from_value(detail()).unwrap(), None).unwrap();
    assert_eq!(
        o.terms.fulfilment_method,
        Some(FulfilmentMethod::Marketplace)
    );
    assert!(!o.terms.pickup_point && o.customer.pickup_point.is_none());
    assert!(!o.terms.cancellation_requested);
    assert_eq!(
        o.terms.customer_reference.as_deref(),
        Some("Mijn order ref")
    );
    let w = o.terms.delivery_window.unwrap();
    assert_eq!(w.earliest, None);
    assert_eq!(w.latest, parse_time("2018-04-22T23:59:59Z"));
    assert_eq!(o.terms.amounts.lines_minor, o.total_minor);
    let bill = o.customer.billing.as_ref().unwrap();
    assert_eq!(bill.company.as_deref(), Some("Pieter Post"));
    assert_eq!(bill.coc_number.as_deref(), Some("99887766"));
    assert_eq!(bill.first_name.as_deref(), Some("Pieter"));
    assert!(o
        .customer
        .billing_email
        .as_deref()
        .unwrap()
        .starts_with("2yldzdi2"));
    assert!(o.customer.email.as_deref().unwrap().starts_with("27zoytzc"));

    let mut d = detail();
    d["orderItems"][1]["fulfilment"] = json!({"method": "FBR", "exactDeliveryDate": "2018-04-21"});
    d["orderItems"][1]["cancellationRequest"] = json!(true);
    d["orderItems"][0]["discounts"] = json!([{"title": "korting", "amount": 1.5}]);
    let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
    assert_eq!(o.terms.fulfilment_method, None, "FBB and FBR mixed");
    assert!(o.terms.cancellation_requested);
    assert_eq!(o.lines[0].discount_minor, 150);
    assert_eq!(
        o.lines[0].total_minor, 3998,
        "bol prices are what the buyer pays"
    );
    assert_eq!(o.terms.amounts.discount_minor, 0);
    d["orderItems"][0]["fulfilment"]["method"] = json!("FBR");
    let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
    assert_eq!(o.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
    let w = o.terms.delivery_window.unwrap();
    assert_eq!(
        w.latest,
        parse_time("2018-04-22T23:59:59Z"),
        "first item's window"
    );
    d["orderItems"][0]["fulfilment"]["method"] = json!("DROPSHIP");
    let e = order(serde_json::from_value(d).unwrap(), None)
        .unwrap_err()
        .0;
    assert_eq!(e, "orderItems[0].fulfilment.method has an unknown value");
}

#[test]
fn pickup_point_orders_keep_the_point_apart() {
    let mut d = detail();
    d["pickupPoint"] = json!(true);
    d["shipmentDetails"]["pickupPointName"] = json!("PostNL punt Jumbo Centrum");
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    assert!(o.terms.pickup_point);
    let p = o.customer.pickup_point.as_ref().unwrap();
    assert_eq!(p.name.as_deref(), Some("PostNL punt Jumbo Centrum"));
    let a = p.address.as_ref().unwrap();
    assert_eq!(a.street.as_deref(), Some("Skywalkerstraat"));
    assert_eq!(a.house_number.as_deref(), Some("199"));
    assert_eq!(a.first_name, None, "the point's address has no buyer name");
    let ship = o.customer.shipping.as_ref().unwrap();
    assert_eq!(ship.first_name.as_deref(), Some("Hans"));
}

#[test]
fn a_detail_for_another_order_is_refused() {
    let asked = OrderNumber::parse("1042823871").unwrap();
    let e = order_for(serde_json::from_value(detail()).unwrap(), &asked, None)
        .unwrap_err()
        .0;
    assert_eq!(e, "orderId of the detail differs from the order requested");
    let asked = OrderNumber::parse("1042823870").unwrap();
    assert!(order_for(serde_json::from_value(detail()).unwrap(), &asked, None).is_ok());
}

#[test]
fn without_change_times_nothing_claims_when_it_shipped() {
    let mut d = detail();
    for item in d["orderItems"].as_array_mut().unwrap() {
        item.as_object_mut()
            .unwrap()
            .remove("latestChangedDateTime");
    }
    let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.fulfilled_at, None, "never the placement time");
    assert_eq!(o.updated_at, o.placed_at);
    d["orderItems"][0]["quantityShipped"] = json!(0);
    d["orderItems"][0]["quantityCancelled"] = json!(2);
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    assert_eq!((o.status, o.cancelled_at), (OrderStatus::Cancelled, None));
}

#[test]
fn names_and_house_numbers_stay_as_bol_splits_them() {
    let mut d = detail();
    d["shipmentDetails"]["firstName"] = json!("");
    d["shipmentDetails"]["surname"] = json!("ML Bau & Energie GmbH");
    d["shipmentDetails"]["streetName"] = json!("Ringstr.209");
    d["shipmentDetails"]
        .as_object_mut()
        .unwrap()
        .remove("houseNumber");
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    let s = o.customer.shipping.unwrap();
    assert_eq!(s.first_name, None);
    assert_eq!(s.last_name.as_deref(), Some("ML Bau & Energie GmbH"));
    assert_eq!(s.street.as_deref(), Some("Ringstr.209"));
    assert_eq!(s.house_number, None);
}

#[test]
fn missing_billing_and_old_field_names_are_fine() {
    let mut d = detail();
    let obj = d.as_object_mut().unwrap();
    obj.remove("billingDetails");
    obj.remove("pickupPoint");
    obj.insert("pickUpPoint".into(), json!(true));
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    assert!(o.customer.billing.is_none());
    assert!(o.customer.billing_email.is_none());
    assert!(o.customer.shipping.is_some());
    assert!(o.terms.pickup_point, "v4 spelling pickUpPoint");
    assert!(o.customer.pickup_point.is_some());
}

#[test]
fn all_cancelled_and_partial_statuses() {
    let mut d = detail();
    d["orderItems"][0]["quantityShipped"] = json!(0);
    d["orderItems"][0]["quantityCancelled"] = json!(2);
    let o = order(serde_json::from_value(d.clone()).unwrap(), None).unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.cancelled_at, Some(o.updated_at));
    d["orderItems"][0]["quantityCancelled"] = json!(0);
    d["orderItems"][0]["quantityShipped"] = json!(1);
    d["orderItems"][1]["quantityCancelled"] = json!(0);
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    assert_eq!(o.fulfilled_at, None);
}

#[test]
fn errors_name_fields_not_values() {
    let mut d = detail();
    d["orderItems"][0]["quantity"] = json!("Skywalkerstraat");
    let e = order(serde_json::from_value(d).unwrap(), None)
        .unwrap_err()
        .0;
    assert!(
        e.contains("orderItems[0]") && !e.contains("Skywalker"),
        "{e}"
    );

    let mut d = detail();
    d["orderItems"][1]["unitPrice"] = json!("PLATOONDORP");
    let e = order(serde_json::from_value(d).unwrap(), None)
        .unwrap_err()
        .0;
    assert!(e.contains("unitPrice") && !e.contains("PLATOON"), "{e}");

    let mut d = detail();
    d["shipmentDetails"]["firstName"] = json!(["Hans"]);
    let e = order(serde_json::from_value(d).unwrap(), None)
        .unwrap_err()
        .0;
    assert!(e.contains("shipmentDetails") && !e.contains("Hans"), "{e}");

    let mut d = detail();
    d["orderItems"][0]
        .as_object_mut()
        .unwrap()
        .remove("quantity");
    let e = order(serde_json::from_value(d).unwrap(), None)
        .unwrap_err()
        .0;
    assert_eq!(e, "orderItems[0]: missing field quantity");
}

#[test]
fn money_never_goes_through_floats() {
    assert_eq!(money(Some(&json!(0.29)), "x"), Ok(29));
    assert_eq!(money(Some(&json!(1234567.89)), "x"), Ok(123_456_789));
    assert_eq!(money(Some(&json!(5)), "x"), Ok(500));
    assert_eq!(money(Some(&json!("12.50")), "x"), Ok(1250));
    assert!(money(Some(&json!("12,50")), "x").is_err());
    assert!(money(None, "x").is_err());
}

/// The spec's shipment details with every part bol can send filled in.
fn full_shipment(d: &mut Value) {
    let s = &mut d["shipmentDetails"];
    s["company"] = json!("de Grote Holding BV");
    s["houseNumberExtension"] = json!("bis");
    s["extraAddressInformation"] = json!("3e etage");
    s["deliveryPhoneNumber"] = json!("+31612345678");
}

#[test]
fn every_part_of_both_addresses_is_kept_where_bol_put_it() {
    let mut d = detail();
    full_shipment(&mut d);
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    let s = o.customer.shipping.as_ref().unwrap();
    assert_eq!(s.salutation.as_deref(), Some("MALE"));
    assert_eq!(s.first_name.as_deref(), Some("Hans"));
    assert_eq!(s.company.as_deref(), Some("de Grote Holding BV"));
    assert_eq!(s.street.as_deref(), Some("Skywalkerstraat"));
    assert_eq!(s.house_number.as_deref(), Some("199"));
    assert_eq!(s.house_number_ext.as_deref(), Some("bis"));
    assert_eq!(s.extra.as_deref(), Some("3e etage"));
    assert_eq!(s.city.as_deref(), Some("PLATOONDORP"));
    assert_eq!(s.country_code.as_deref(), Some("NL"));
    assert_eq!(o.customer.phone.as_deref(), Some("+31612345678"));
    let b = o.customer.billing.as_ref().unwrap();
    assert_eq!(b.salutation.as_deref(), Some("MALE"));
    assert_eq!(b.last_name.as_deref(), Some("Post"));
    assert_eq!(b.street.as_deref(), Some("Skywalkerstraat"));
    assert_eq!(b.house_number.as_deref(), Some("21"));
    assert_eq!(b.postcode.as_deref(), Some("1234AB"));
    assert_eq!(b.city.as_deref(), Some("PLATOONDORP"));
    assert_eq!(b.country_code.as_deref(), Some("NL"));
    assert_eq!(o.lines[0].ean.as_deref(), Some("8785056370398"));
    let mut d = detail();
    d["orderItems"][0]["product"]["ean"] = json!(" ");
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    assert_eq!(o.lines[0].ean, None, "a blank EAN is none");
}

#[test]
fn a_pickup_points_address_is_the_whole_point_address() {
    let mut d = detail();
    full_shipment(&mut d);
    d["pickupPoint"] = json!(true);
    d["shipmentDetails"]["pickupPointName"] = json!("PostNL punt Jumbo Centrum");
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    let a = o.customer.pickup_point.unwrap().address.unwrap();
    assert_eq!(a.house_number_ext.as_deref(), Some("bis"));
    assert_eq!(a.postcode.as_deref(), Some("1234AB"));
    assert_eq!(a.city.as_deref(), Some("PLATOONDORP"));
    assert_eq!(a.country_code.as_deref(), Some("NL"));
    assert_eq!(a.company, None, "not the buyer's company");
    assert_eq!(a.extra, None, "not the buyer's extra line");
}

#[test]
fn null_details_are_no_details() {
    let mut d = detail();
    d["shipmentDetails"] = Value::Null;
    d["billingDetails"] = Value::Null;
    let o = order(serde_json::from_value(d).unwrap(), None).unwrap();
    assert!(o.customer.shipping.is_none() && o.customer.billing.is_none());
    assert_eq!(o.country_code, None);
}

#[test]
fn the_latest_change_of_a_listed_order() {
    let listed: wire::ReducedOrder = serde_json::from_value(json!({
        "orderId": "1042823870",
        "orderPlacedDateTime": "2019-04-30T16:47:32+02:00",
        "orderItems": [
            {"orderItemId": "6107771545", "quantity": 2,
             "latestChangedDateTime": "2019-05-01T09:00:00+02:00"},
            {"orderItemId": "6107771546", "quantity": 1,
             "latestChangedDateTime": "2019-05-01T10:00:00+02:00"},
            {"orderItemId": "6107771547", "quantity": 1}
        ]
    }))
    .unwrap();
    assert_eq!(latest_change(&listed), parse_time("2019-05-01T08:00:00Z"));
    let listed: wire::ReducedOrder = serde_json::from_value(json!({
        "orderId": "1042823870",
        "orderItems": [{"orderItemId": "6107771545", "quantity": 2}]
    }))
    .unwrap();
    assert_eq!(latest_change(&listed), None, "older shapes carry none");
}

#[test]
fn shipped_and_cancelled_units_cannot_exceed_the_order() {
    let mut d = detail();
    d["orderItems"][1]["quantityShipped"] = json!(1);
    let e = order(serde_json::from_value(d).unwrap(), None)
        .unwrap_err()
        .0;
    assert_eq!(
        e,
        "orderItems[1].quantityShipped/quantityCancelled exceed the ordered quantity"
    );
}
