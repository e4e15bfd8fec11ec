//! The order model across payloads and versions, on both backends: each marketplace's
//! real redaction shape keeps every stored personal field (a changed value still
//! replaces its own field), `fulfilled_at` comes from evidence or first sight (never the
//! placement time), the new business and personal fields reach the backoffice view, and
//! a store written by the previous version upgrades with its data intact.

use crate::common;

use std::sync::Arc;

use crate::common::{exec, t0, TestEnv};
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::connectors::amazon::{normalize as amazon, wire as amazon_wire};
use ordervault::connectors::bol::{normalize as bol, wire as bol_wire};
use ordervault::connectors::clock::Clock;
use ordervault::connectors::ebay::normalize as ebay;
use ordervault::connectors::{FetchedOrder, FulfilmentMethod, Order, OrderStatus, PaymentStatus};
use ordervault::ids::AccountId;
use ordervault::ingest::write_orders;
use ordervault::keyring::AccountKeyset;
use ordervault::orders::{open_order, seal_order};
use ordervault::store::{AccountStore, Pool};
use serde_json::{json, Value};

struct Shop {
    store: AccountStore,
    keys: Arc<AccountKeyset>,
    account: AccountId,
}

async fn shop(env: &TestEnv) -> Shop {
    let a = create_account(&env.app, "shop", None).await.unwrap();
    let account: AccountId = a.id.clone();
    Shop {
        store: env.app.store.account(&account).await.unwrap(),
        keys: env.app.keyring.keys(&account).await.unwrap(),
        account,
    }
}

impl Shop {
    async fn write(&self, env: &TestEnv, o: &Order) {
        write_orders(
            &self.store,
            &self.keys,
            std::slice::from_ref(o),
            env.app.now_ms(),
        )
        .await
        .unwrap();
    }

    async fn read(&self, o: &Order) -> Order {
        let row = self
            .store
            .get(o.marketplace.as_str(), o.order_number.as_str())
            .await
            .unwrap()
            .expect("stored");
        open_order(&self.keys, &row).await.unwrap().order
    }
}

fn bol_detail(changed: &str) -> Value {
    json!({
        "orderId": "1043946570",
        "pickupPoint": true,
        "orderPlacedDateTime": "2026-02-27T10:00:00+01:00",
        "shipmentDetails": {
            "pickupPointName": "PostNL punt Primera Centrum",
            "salutation": "FEMALE", "firstName": "Johanna", "surname": "van den Berg",
            "streetName": "Lange Nieuwstraat", "houseNumber": "12", "houseNumberExtension": "bis",
            "extraAddressInformation": "achterom", "zipCode": "3512PA", "city": "Utrecht",
            "countryCode": "NL", "email": "2yldzdi2wjcf5ir4sycq7lufqpytxy@verkopen.bol.com",
            "company": "Berg Thee BV", "deliveryPhoneNumber": "+31612345678", "language": "nl"
        },
        "billingDetails": {
            "firstName": "Johanna", "surname": "van den Berg", "streetName": "Postbus",
            "houseNumber": "77", "zipCode": "3500AA", "city": "Utrecht", "countryCode": "NL",
            "email": "factuur.3kx@verkopen.bol.com", "company": "Berg Thee BV",
            "vatNumber": "NL123456789B01", "kvkNumber": "30123456", "orderReference": "PO-2026-17"
        },
        "orderItems": [{
            "orderItemId": "6107771545", "cancellationRequest": false,
            "fulfilment": {"method": "FBB", "latestDeliveryDate": "2026-03-02"},
            "product": {"ean": "8785056370398", "title": "Theepot"},
            "quantity": 1, "quantityShipped": 1, "quantityCancelled": 0,
            "unitPrice": 24.99, "totalPrice": 24.99,
            "latestChangedDateTime": changed
        }]
    })
}

/// bol's later shape: no billing details, shipment details without the buyer's name,
/// street, phone or email (only postcode, city and country left).
fn bol_redacted(changed: &str) -> Value {
    let mut d = bol_detail(changed);
    d.as_object_mut().unwrap().remove("billingDetails");
    d["shipmentDetails"] = json!({"zipCode": "3512PA", "city": "Utrecht", "countryCode": "NL"});
    d
}

fn bol_order(v: Value) -> Order {
    bol::order(serde_json::from_value::<bol_wire::Order>(v).unwrap(), None).unwrap()
}

fn amazon_order(updated: &str, restricted: bool) -> Order {
    let mut o: amazon_wire::Order = serde_json::from_value(json!({
        "AmazonOrderId": "302-1234567-7654321", "PurchaseDate": "2026-02-27T09:00:00Z",
        "LastUpdateDate": updated, "OrderStatus": "Shipped", "FulfillmentChannel": "MFN",
        "MarketplaceId": "A1805IZSGTT6HS",
        "OrderTotal": {"CurrencyCode": "EUR", "Amount": "10.00"},
        "ShippingAddress": {"Name": "ML Bau & Energie GmbH", "AddressLine1": "Ringstr.209",
            "AddressLine2": "Halle 3", "City": "Köln", "PostalCode": "50667",
            "StateOrRegion": "NRW", "CountryCode": "DE", "Phone": "+49221123456"},
        "BuyerInfo": {"BuyerEmail": "x7@marketplace.amazon.de", "BuyerName": "Max Mustermann"}
    }))
    .unwrap();
    if restricted {
        // Without a restricted data token: only City, StateOrRegion, PostalCode, CountryCode.
        let a = o.shipping_address.as_mut().unwrap();
        a.name = None;
        a.address_line1 = None;
        a.address_line2 = None;
        a.phone = None;
        o.buyer_info = Some(amazon_wire::BuyerInfo::default());
    }
    let item: amazon_wire::OrderItem = serde_json::from_value(json!({
        "ASIN": "B000000001", "OrderItemId": "12345678901234", "QuantityOrdered": 3,
        "QuantityShipped": 3, "ItemPrice": {"CurrencyCode": "EUR", "Amount": "10.00"}
    }))
    .unwrap();
    amazon::normalize(&o, &[item]).unwrap()
}

fn ebay_order(modified: &str, blanked: bool) -> Order {
    let mut contact = json!({
        "fullName": "Anna de Vries", "email": "a1b2@members.ebay.com",
        "primaryPhone": {"phoneNumber": "+31612345678"},
        "contactAddress": {"addressLine1": "Kerkstraat 12", "addressLine2": "Bus 3",
            "city": "Utrecht", "postalCode": "3511 AB", "countryCode": "NL"}
    });
    if blanked {
        // eBay after 90 days: only city, postcode and country are left.
        contact = json!({"contactAddress": {"city": "Utrecht", "postalCode": "3511 AB",
            "countryCode": "NL"}});
    }
    let v = json!({
        "orderId": "04-12087-72462", "creationDate": "2025-11-01T08:00:00.000Z",
        "lastModifiedDate": modified, "orderPaymentStatus": "PAID",
        "buyer": {"username": "anna_nl", "buyerRegistrationAddress": contact.clone()},
        "cancelStatus": {"cancelState": "NONE_REQUESTED"},
        "fulfillmentStartInstructions": [{"shippingStep": {"shipTo": contact}}],
        "lineItems": [{"lineItemId": "1", "title": "Yogamat", "quantity": 1,
            "lineItemCost": {"value": "19.95", "currency": "EUR"},
            "lineItemFulfillmentStatus": "FULFILLED"}],
        "pricingSummary": {"total": {"value": "19.95", "currency": "EUR"}}
    });
    match ebay::normalize_value(&v) {
        FetchedOrder::Ok(o) => *o,
        FetchedOrder::Failed { error, .. } => panic!("{error}"),
    }
}

/// Writes `full`, then the redacted payload (newer): the store still holds `full`'s
/// personal data, field by field.
async fn redaction_keeps(env: &TestEnv, s: &Shop, full: Order, redacted: Order) {
    s.write(env, &full).await;
    assert!(redacted.updated_at > full.updated_at);
    env.clock.advance(Duration::minutes(1));
    s.write(env, &redacted).await;
    let stored = s.read(&full).await;
    assert_eq!(
        stored.updated_at, redacted.updated_at,
        "the newer payload was applied"
    );
    assert_eq!(stored.customer, full.customer, "{}", full.order_number);
}

async fn each_marketplaces_redaction_keeps_every_stored_field(env: TestEnv) {
    let s = shop(&env).await;
    let full = bol_order(bol_detail("2026-02-28T10:00:00+01:00"));
    let b = full.customer.billing.as_ref().unwrap();
    assert_eq!(b.coc_number.as_deref(), Some("30123456"));
    assert!(full.customer.pickup_point.is_some() && full.customer.billing_email.is_some());
    redaction_keeps(
        &env,
        &s,
        full,
        bol_order(bol_redacted("2026-02-28T11:00:00+01:00")),
    )
    .await;
    redaction_keeps(
        &env,
        &s,
        amazon_order("2026-02-28T09:00:00Z", false),
        amazon_order("2026-02-28T10:00:00Z", true),
    )
    .await;
    redaction_keeps(
        &env,
        &s,
        ebay_order("2025-11-02T08:00:00.000Z", false),
        ebay_order("2026-02-28T08:00:00.000Z", true),
    )
    .await;

    // A changed value replaces its own field and nothing else.
    let mut moved = bol_order(bol_redacted("2026-02-28T12:00:00+01:00"));
    moved.customer.shipping.as_mut().unwrap().city = Some("Amersfoort".into());
    env.clock.advance(Duration::minutes(1));
    s.write(&env, &moved).await;
    let stored = s.read(&moved).await;
    let ship = stored.customer.shipping.as_ref().unwrap();
    assert_eq!(ship.city.as_deref(), Some("Amersfoort"));
    assert_eq!(ship.first_name.as_deref(), Some("Johanna"));
    assert_eq!(ship.house_number_ext.as_deref(), Some("bis"));
    assert_eq!(
        stored.customer.billing.as_ref().unwrap().vat_id.as_deref(),
        Some("NL123456789B01")
    );
}

async fn fulfilment_time_is_evidence_or_first_sight_never_placement(env: TestEnv) {
    let s = shop(&env).await;
    // An older bol shape without latestChangedDateTime: shipped, no evidence of when.
    let mut d = bol_detail("x");
    d["orderItems"][0]
        .as_object_mut()
        .unwrap()
        .remove("latestChangedDateTime");
    let o = bol_order(d);
    assert_eq!((o.status, o.fulfilled_at), (OrderStatus::Shipped, None));
    env.clock.advance(Duration::hours(5));
    let first_seen = env.clock.now();
    s.write(&env, &o).await;
    let stored = s.read(&o).await;
    assert_eq!(stored.fulfilled_at, Some(first_seen));
    assert_ne!(stored.fulfilled_at, Some(stored.placed_at));

    // Later payloads without evidence keep the first sight; earlier evidence wins.
    let mut later = common::order("F1", 10);
    later.status = OrderStatus::Shipped;
    s.write(&env, &later).await;
    let seen = env.clock.now();
    let mut again = later.clone();
    again.updated_at += Duration::minutes(5);
    env.clock.advance(Duration::hours(1));
    s.write(&env, &again).await;
    assert_eq!(s.read(&again).await.fulfilled_at, Some(seen));
    let mut evidence = again.clone();
    evidence.updated_at += Duration::minutes(5);
    evidence.fulfilled_at = Some(t0() - Duration::hours(3));
    s.write(&env, &evidence).await;
    assert_eq!(
        s.read(&evidence).await.fulfilled_at,
        Some(t0() - Duration::hours(3))
    );
}

async fn new_fields_reach_the_backoffice_view(env: TestEnv) {
    let s = shop(&env).await;
    let o = bol_order(bol_detail("2026-02-28T10:00:00+01:00"));
    s.write(&env, &o).await;
    let row = s.store.get("bol", "1043946570").await.unwrap().unwrap();
    assert_eq!(row.fulfilment_method.as_deref(), Some("marketplace"));
    let view = ordervault::orders::view::order_view(&s.keys, &row)
        .await
        .unwrap();
    let v = serde_json::to_value(&view).unwrap();
    assert_eq!(v["terms"]["fulfilment_method"], "marketplace");
    assert_eq!(v["terms"]["pickup_point"], true);
    assert_eq!(v["terms"]["customer_reference"], "PO-2026-17");
    assert_eq!(
        v["terms"]["delivery_window"]["latest"],
        "2026-03-02T23:59:59Z"
    );
    assert_eq!(v["customer"]["billing"]["coc_number"], "30123456");
    assert_eq!(
        v["customer"]["pickup_point"]["name"],
        "PostNL punt Primera Centrum"
    );
    assert_eq!(v["lines"][0]["unit_price_minor"], 2499);
    let e = ebay_order("2025-11-02T08:00:00.000Z", false);
    s.write(&env, &e).await;
    let row = s
        .store
        .get("ebay", "04-12087-72462")
        .await
        .unwrap()
        .unwrap();
    let v = serde_json::to_value(
        ordervault::orders::view::order_view(&s.keys, &row)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["customer"]["buyer_username"], "anna_nl");
    assert_eq!(v["customer"]["shipping"]["full_name"], "Anna de Vries");
    assert_eq!(v["terms"]["payment_status"], "paid");
    let a = amazon_order("2026-02-28T09:00:00Z", false);
    assert_eq!(a.terms.fulfilment_method, Some(FulfilmentMethod::Seller));
    assert_eq!(
        a.lines[0].unit_price_minor, None,
        "10.00 for 3 has no exact unit price"
    );
    assert_eq!(e.terms.payment_status, Some(PaymentStatus::Paid));
    // The OpenAPI document describes them.
    let service = common::api::TestApp::spawn(&env).await;
    let doc: Value = service.openapi().await;
    let terms = &doc["components"]["schemas"]["OrderTerms"]["properties"];
    for f in [
        "fulfilment_method",
        "pickup_point",
        "delivery_window",
        "payment_status",
    ] {
        assert!(terms.get(f).is_some(), "{f}");
    }
    assert!(doc["components"]["schemas"]["MaskedOrder"]["properties"]
        .get("cancellation_requested")
        .is_some());
}

/// Runs a query with binds on either backend.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

async fn a_store_of_the_previous_version_upgrades_with_its_data(env: TestEnv) {
    let s = shop(&env).await;
    // Turn the fresh store back into what the previous version left: without this
    // issue's migrations (0010, 0011) and their columns.
    for sql in [
        "ALTER TABLE {p}orders DROP COLUMN fulfilment_method",
        "ALTER TABLE {p}orders DROP COLUMN terms",
        "ALTER TABLE {p}orders DROP COLUMN billing_email_ct",
        "ALTER TABLE {p}orders DROP COLUMN buyer_ct",
        "ALTER TABLE {p}orders DROP COLUMN pickup_ct",
        "ALTER TABLE {p}ingest_failures DROP COLUMN retry_from",
        "DELETE FROM {p}_sqlx_migrations WHERE version IN (10, 11)",
    ] {
        exec(&s.store, sql).await;
    }
    // An order as the previous version wrote it: old columns, an integer unit price.
    let old = common::order("OLD-1", 0);
    let seal = s.keys.seal_keys(std::slice::from_ref(&old)).await.unwrap();
    let sealed = seal_order(&seal, &old);
    let lines = r#"[{"line_id":"1","title":"Theepot","quantity":3,"quantity_shipped":0,"quantity_cancelled":0,"unit_price_minor":333,"total_minor":1000}]"#;
    let sql = format!(
        "INSERT INTO {}orders (marketplace, order_number, status, placed_at, updated_at, \
         currency, total_minor, country_code, lines, shipping_ct, billing_ct, email_ct, \
         phone_ct, notes_ct, email_index, ingested_at, changed_at) \
         VALUES ($1, $2, 'open', $3, $4, 'EUR', 1000, 'NL', $5, $6, $7, $8, $9, $10, $11, 0, 0)",
        s.store.prefix()
    );
    on_pool!(s.store.pool(), p => {
        sqlx::query(&sql)
            .bind(sealed.marketplace.as_str())
            .bind(&sealed.order_number)
            .bind(sealed.placed_at)
            .bind(sealed.updated_at)
            .bind(lines)
            .bind(&sealed.shipping_ct)
            .bind(&sealed.billing_ct)
            .bind(&sealed.email_ct)
            .bind(&sealed.phone_ct)
            .bind(&sealed.notes_ct)
            .bind(&sealed.email_index)
            .execute(p)
            .await
            .unwrap();
    });

    // The new version starts on the same data and migrates the store.
    let app = env.restart(env.settings.clone()).await.unwrap();
    let store = app.store.account(&s.account).await.unwrap();
    let keys = app.keyring.keys(&s.account).await.unwrap();
    let row = store
        .get(sealed.marketplace.as_str(), "OLD-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.terms.as_deref(), row.fulfilment_method.as_deref()),
        (None, None)
    );
    let opened = open_order(&keys, &row).await.unwrap().order;
    assert_eq!(opened.customer, old.customer, "personal data intact");
    assert_eq!(opened.lines[0].unit_price_minor, Some(333));
    assert_eq!(opened.lines[0].total_minor, 1000);
    assert_eq!(opened.terms, Default::default());

    // The next payload (newer, without personal data) merges into the old row.
    let mut next = old.clone();
    next.updated_at += Duration::minutes(5);
    next.customer = Default::default();
    next.customer.buyer_username = Some("nieuw_veld".into());
    next.terms.fulfilment_method = Some(FulfilmentMethod::Seller);
    write_orders(&store, &keys, &[next], app.now_ms())
        .await
        .unwrap();
    let row = store
        .get(sealed.marketplace.as_str(), "OLD-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.fulfilment_method.as_deref(), Some("seller"));
    let opened = open_order(&keys, &row).await.unwrap().order;
    assert_eq!(opened.customer.shipping, old.customer.shipping);
    assert_eq!(opened.customer.email, old.customer.email);
    assert_eq!(
        opened.customer.buyer_username.as_deref(),
        Some("nieuw_veld")
    );
    // Failures of the new version record their retry window on the upgraded table.
    store
        .record_failures(
            "bol",
            "conn-1",
            &[("9".into(), "x is missing".into())],
            1,
            5,
        )
        .await
        .unwrap();
    assert_eq!(store.retry_from("bol", "conn-1").await.unwrap(), Some(5));
    assert_eq!(store.retry_from("bol", "conn-2").await.unwrap(), None);
}

both_backends!(
    each_marketplaces_redaction_keeps_every_stored_field,
    fulfilment_time_is_evidence_or_first_sight_never_placement,
    new_fields_reach_the_backoffice_view,
    a_store_of_the_previous_version_upgrades_with_its_data,
);
