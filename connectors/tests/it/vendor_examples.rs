//! Every example response and sandbox case of Amazon's Orders API v2026-01-01 spec (and the
//! Orders v0 ones the v0 client reads) goes through the real client against a 127.0.0.1
//! server at the real paths, and every field ordervault stores is checked against the
//! example's JSON. The cases are extracted unchanged from the vendor specs under
//! `../shared/marketplaces` into `tests/fixtures/vendor/` (see its README).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Duration, TimeZone, Utc};
use ordervault_connectors::amazon::{
    AmazonClient, AmazonConfig, AmazonCredentials, ApiVersion, ClockSleeper,
};
use ordervault_connectors::clock::ManualClock;
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::model::{currency_decimals, to_minor_units};
use ordervault_connectors::{
    ConnectorError, FetchedOrder, Marketplace, Order, OrderNumber, OrderStatus, SyncWindow,
};
use serde_json::Value;

const V2026: &str = include_str!("../fixtures/vendor/amazon_orders_2026-01-01.json");
const V0: &str = include_str!("../fixtures/vendor/amazon_orders_v0.json");

/// What the fake server answers next, per path kind: (status, body).
#[derive(Default)]
struct Answers {
    list: Option<(u16, Value)>,
    single: Option<(u16, Value)>,
    items: Option<(u16, Value)>,
}

type Shared = Arc<Mutex<Answers>>;

fn reply(a: Option<(u16, Value)>) -> axum::response::Response {
    let (status, body) = a.unwrap_or((404, serde_json::json!({"errors":[]})));
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body.to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}

async fn server() -> (String, Shared, tokio::sync::oneshot::Sender<()>) {
    let state: Shared = Arc::default();
    let router = axum::Router::new()
        .route(
            "/auth/o2/token",
            post(|| async {
                axum::Json(serde_json::json!({"access_token":"Atza|t","token_type":"bearer","expires_in":3600}))
            }),
        )
        .route(
            "/tokens/2021-03-01/restrictedDataToken",
            post(|| async {
                axum::Json(serde_json::json!({"restrictedDataToken":"Atz.sprdt|r","expiresIn":3600}))
            }),
        )
        .route(
            "/orders/2026-01-01/orders",
            get(|State(s): State<Shared>| async move { reply(s.lock().unwrap().list.clone()) }),
        )
        .route(
            "/orders/2026-01-01/orders/{id}",
            get(|State(s): State<Shared>| async move { reply(s.lock().unwrap().single.clone()) }),
        )
        .route(
            "/orders/v0/orders",
            get(|State(s): State<Shared>| async move { reply(s.lock().unwrap().list.clone()) }),
        )
        .route(
            "/orders/v0/orders/{id}/orderItems",
            get(|State(s): State<Shared>| async move { reply(s.lock().unwrap().items.clone()) }),
        )
        .with_state(state.clone());
    let (addr, stop) = ordervault_connectors::sandbox::support::serve(router, 0)
        .await
        .unwrap();
    (format!("http://{addr}"), state, stop)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

fn client(base: &str, version: ApiVersion) -> AmazonClient {
    let clock = ManualClock::new(t0());
    let mut cfg = AmazonConfig::for_base(base);
    cfg.api_version = version;
    AmazonClient::new(
        cfg,
        AmazonCredentials::from_json(
            r#"{"client_id":"a","client_secret":"b","refresh_token":"Atzr|c"}"#,
        )
        .unwrap(),
        Arc::new(clock.clone()),
        RetryPolicy::fast(),
    )
    .with_sleeper(Arc::new(ClockSleeper::Manual(clock)))
}

fn window() -> SyncWindow {
    SyncWindow {
        from: t0() - Duration::days(30),
        to: t0() - Duration::minutes(3),
    }
}

fn cases(json: &str, operation: &str) -> Vec<Value> {
    let all: Vec<Value> = serde_json::from_str(json).unwrap();
    all.into_iter()
        .filter(|c| c["operation"] == operation)
        .collect()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().filter(|t| !t.trim().is_empty())
}

fn date(v: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v).unwrap().with_timezone(&Utc)
}

fn minor(m: &Value, currency: &str) -> i64 {
    to_minor_units(m["amount"].as_str().unwrap(), currency_decimals(currency)).unwrap()
}

/// Checks every field ordervault stores against the raw v2026 `Order` JSON.
fn check_v2026(raw: &Value, o: &Order, case: &str) {
    let ctx = |f: &str| format!("{case}: {f}");
    assert_eq!(
        o.order_number.as_str(),
        raw["orderId"],
        "{}",
        ctx("orderId")
    );
    assert_eq!(o.placed_at, date(raw["createdTime"].as_str().unwrap()));
    assert_eq!(o.updated_at, date(raw["lastUpdatedTime"].as_str().unwrap()));
    let status = match raw["fulfillment"]["fulfillmentStatus"].as_str().unwrap() {
        "PENDING" | "PENDING_AVAILABILITY" => OrderStatus::Pending,
        "UNSHIPPED" => OrderStatus::Open,
        "PARTIALLY_SHIPPED" => OrderStatus::PartiallyShipped,
        "SHIPPED" => OrderStatus::Shipped,
        _ => OrderStatus::Cancelled,
    };
    assert_eq!(o.status, status, "{}", ctx("status"));
    assert_eq!(
        o.fulfilled_at,
        (status == OrderStatus::Shipped).then_some(o.updated_at)
    );
    assert_eq!(
        o.cancelled_at,
        (status == OrderStatus::Cancelled).then_some(o.updated_at)
    );
    let total = &raw["proceeds"]["grandTotal"];
    let currency = total["currencyCode"].as_str().unwrap();
    assert_eq!(o.currency, currency, "{}", ctx("currency"));
    assert_eq!(o.total_minor, minor(total, currency), "{}", ctx("total"));
    let items = raw["orderItems"].as_array().unwrap();
    assert_eq!(o.lines.len(), items.len());
    for (l, it) in o.lines.iter().zip(items) {
        assert_eq!(l.line_id, it["orderItemId"].as_str().unwrap());
        assert_eq!(l.sku.as_deref(), s(it, &["product", "sellerSku"]));
        assert_eq!(l.title, s(it, &["product", "title"]).unwrap_or(""));
        assert_eq!(l.ean, None);
        let qty = it["quantityOrdered"].as_u64().unwrap() as u32;
        assert_eq!(l.quantity, qty);
        let shipped = it["fulfillment"]["quantityFulfilled"].as_u64().unwrap_or(0) as u32;
        assert_eq!(l.quantity_shipped, shipped, "{}", ctx("quantityFulfilled"));
        let cancelled = if status == OrderStatus::Cancelled {
            qty - shipped
        } else {
            0
        };
        assert_eq!(l.quantity_cancelled, cancelled);
        let unit = it["product"]["price"]["unitPrice"]
            .as_object()
            .map(|_| minor(&it["product"]["price"]["unitPrice"], currency));
        let item_line = it["proceeds"]["breakdowns"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["type"] == "ITEM"))
            .map(|b| minor(&b["subtotal"], currency));
        let line_total = item_line.or(unit.map(|u| u * i64::from(qty))).unwrap_or(0);
        assert_eq!(l.total_minor, line_total, "{}", ctx("line total"));
        // As Amazon gives it; without one, only an exact division of a stated line total.
        let q = i64::from(qty);
        let derived = item_line.filter(|t| q > 0 && t % q == 0).map(|t| t / q);
        assert_eq!(l.unit_price_minor, unit.or(derived));
    }
    let c = &o.customer;
    assert_eq!(c.email.as_deref(), s(raw, &["buyer", "buyerEmail"]));
    let addr = &raw["recipient"]["deliveryAddress"];
    assert_eq!(c.phone.as_deref(), s(addr, &["phone"]));
    match c.shipping.as_ref() {
        None => assert!(addr.is_null(), "{}", ctx("deliveryAddress dropped")),
        Some(a) => {
            assert_eq!(a.full_name.as_deref(), s(addr, &["name"]));
            assert_eq!(a.company.as_deref(), s(addr, &["companyName"]));
            assert_eq!(a.street.as_deref(), s(addr, &["addressLine1"]));
            let extra: Vec<&str> = ["addressLine2", "addressLine3"]
                .iter()
                .filter_map(|k| s(addr, &[k]))
                .collect();
            let extra = (!extra.is_empty()).then(|| extra.join(", "));
            assert_eq!(a.extra.as_deref(), extra.as_deref());
            assert_eq!(a.postcode.as_deref(), s(addr, &["postalCode"]));
            assert_eq!(a.city.as_deref(), s(addr, &["city"]));
            assert_eq!(a.state.as_deref(), s(addr, &["stateOrRegion"]));
            assert_eq!(a.country_code.as_deref(), s(addr, &["countryCode"]));
            assert_eq!(a.first_name, None);
        }
    }
    assert_eq!(o.country_code.as_deref(), s(addr, &["countryCode"]));
    let buyer = &raw["buyer"];
    let name = s(buyer, &["buyerName"]);
    let company = s(buyer, &["buyerCompanyName"]);
    match c.billing.as_ref() {
        None => assert!(name.is_none() && company.is_none()),
        Some(b) => {
            assert_eq!(b.full_name.as_deref(), name);
            assert_eq!(b.company.as_deref(), company);
        }
    }
    let pref = &raw["recipient"]["deliveryPreference"];
    let notes: Vec<&str> = ["dropOffLocation", "addressInstruction"]
        .iter()
        .filter_map(|k| s(pref, &[k]))
        .collect();
    let notes = (!notes.is_empty()).then(|| notes.join("; "));
    assert_eq!(c.delivery_notes.as_deref(), notes.as_deref());
}

#[tokio::test]
async fn every_v2026_search_orders_case_through_the_client() {
    let (base, answers, _stop) = server().await;
    let client = client(&base, ApiVersion::V2026);
    let mut checked = 0;
    for case in cases(V2026, "searchOrders") {
        let name = format!("searchOrders {} {}", case["status"], case["source"]);
        let status = case["status"].as_u64().unwrap() as u16;
        answers.lock().unwrap().list = Some((status, case["body"].clone()));
        let result = client.fetch_page(window(), None).await;
        if status != 200 {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, ConnectorError::Rejected(m) if m.contains("InvalidInput")),
                "{name}: {err:?}"
            );
            continue;
        }
        let page = result.unwrap();
        let raw = case["body"]["orders"].as_array().unwrap();
        assert_eq!(page.orders.len(), raw.len(), "{name}");
        assert_eq!(
            page.next.map(|t| t.0),
            case["body"]["pagination"]["nextToken"]
                .as_str()
                .map(str::to_owned),
            "{name}: nextToken"
        );
        for (got, raw) in page.orders.iter().zip(raw) {
            match got {
                FetchedOrder::Ok(o) => check_v2026(raw, o, &name),
                FetchedOrder::Failed { error, .. } => panic!("{name}: {error}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} orders checked");
}

#[tokio::test]
async fn every_v2026_get_order_case_through_the_client() {
    let (base, answers, _stop) = server().await;
    let client = client(&base, ApiVersion::V2026);
    let mut checked = 0;
    for case in cases(V2026, "getOrder") {
        let name = format!("getOrder {} {}", case["status"], case["source"]);
        let status = case["status"].as_u64().unwrap() as u16;
        answers.lock().unwrap().single = Some((status, case["body"].clone()));
        let id = case["request"]["orderId"]
            .as_str()
            .or(case["body"]["order"]["orderId"].as_str())
            .unwrap()
            .replace('_', "-");
        let number = OrderNumber::parse(&id).unwrap();
        let result = client.get_order(&number).await;
        if status != 200 {
            assert!(
                matches!(&result, Err(ConnectorError::Rejected(m)) if m.contains("InvalidInput")),
                "{name}: {result:?}"
            );
            continue;
        }
        match result.unwrap() {
            Some(FetchedOrder::Ok(o)) => check_v2026(&case["body"]["order"], &o, &name),
            other => panic!("{name}: {other:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 4, "{checked} orders checked");
}

/// Checks every stored field of a v0 order against its getOrders and getOrderItems JSON.
fn check_v0(raw: &Value, items: &[Value], o: &Order, case: &str) {
    assert_eq!(o.order_number.as_str(), raw["AmazonOrderId"], "{case}");
    assert_eq!(o.placed_at, date(raw["PurchaseDate"].as_str().unwrap()));
    assert_eq!(o.updated_at, date(raw["LastUpdateDate"].as_str().unwrap()));
    let status = match raw["OrderStatus"].as_str().unwrap() {
        "Pending" | "PendingAvailability" => OrderStatus::Pending,
        "Unshipped" => OrderStatus::Open,
        "PartiallyShipped" => OrderStatus::PartiallyShipped,
        "Shipped" | "InvoiceUnconfirmed" => OrderStatus::Shipped,
        _ => OrderStatus::Cancelled,
    };
    assert_eq!(o.status, status, "{case}");
    let total = &raw["OrderTotal"];
    if let Some(cur) = total["CurrencyCode"].as_str() {
        assert_eq!(o.currency, cur);
        let m = to_minor_units(total["Amount"].as_str().unwrap(), currency_decimals(cur));
        assert_eq!(Some(o.total_minor), m, "{case}: OrderTotal");
    }
    assert_eq!(o.lines.len(), items.len());
    for (l, it) in o.lines.iter().zip(items) {
        assert_eq!(l.line_id, it["OrderItemId"].as_str().unwrap());
        assert_eq!(l.sku.as_deref(), s(it, &["SellerSKU"]));
        assert_eq!(l.title, s(it, &["Title"]).unwrap_or(""));
        assert_eq!(l.quantity as u64, it["QuantityOrdered"].as_u64().unwrap());
        assert_eq!(
            l.quantity_shipped as u64,
            it["QuantityShipped"].as_u64().unwrap_or(0)
        );
        let line = it["ItemPrice"]["Amount"]
            .as_str()
            .map(|a| to_minor_units(a, currency_decimals(&o.currency)).unwrap())
            .unwrap_or(0);
        assert_eq!(l.total_minor, line, "{case}: ItemPrice");
    }
    let c = &o.customer;
    assert_eq!(c.email.as_deref(), s(raw, &["BuyerInfo", "BuyerEmail"]));
    let addr = &raw["ShippingAddress"];
    assert_eq!(c.phone.as_deref(), s(addr, &["Phone"]));
    if let Some(a) = c.shipping.as_ref() {
        assert_eq!(a.full_name.as_deref(), s(addr, &["Name"]));
        assert_eq!(a.street.as_deref(), s(addr, &["AddressLine1"]));
        assert_eq!(a.postcode.as_deref(), s(addr, &["PostalCode"]));
        assert_eq!(a.city.as_deref(), s(addr, &["City"]));
        assert_eq!(a.state.as_deref(), s(addr, &["StateOrRegion"]));
        assert_eq!(a.country_code.as_deref(), s(addr, &["CountryCode"]));
    } else {
        assert!(addr.is_null(), "{case}: ShippingAddress dropped");
    }
    assert_eq!(
        c.billing.as_ref().and_then(|b| b.full_name.as_deref()),
        s(raw, &["BuyerInfo", "BuyerName"])
    );
}

/// The v0 getOrders cases, each order completed with the v0 getOrderItems example.
#[tokio::test]
async fn every_v0_get_orders_case_through_the_client() {
    let (base, answers, _stop) = server().await;
    let client = client(&base, ApiVersion::V0);
    let items_case = cases(V0, "getOrderItems")
        .into_iter()
        .find(|c| c["status"] == 200 && c["source"] == "example")
        .unwrap();
    let mut checked = 0;
    for case in cases(V0, "getOrders") {
        let name = format!("getOrders {} {}", case["status"], case["source"]);
        let status = case["status"].as_u64().unwrap() as u16;
        answers.lock().unwrap().list = Some((status, case["body"].clone()));
        let orders = case["body"]["payload"]["Orders"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if status != 200 {
            let err = client.fetch_page(window(), None).await.unwrap_err();
            assert!(
                matches!(err, ConnectorError::Rejected(_)),
                "{name}: {err:?}"
            );
            continue;
        }
        for raw in &orders {
            // getOrderItems answers for the order being read.
            let mut items = items_case["body"].clone();
            items["payload"]["AmazonOrderId"] = raw["AmazonOrderId"].clone();
            // One page of items: the server here answers every call alike.
            if let Some(p) = items["payload"].as_object_mut() {
                p.remove("NextToken");
            }
            answers.lock().unwrap().items = Some((200, items));
            answers.lock().unwrap().list =
                Some((200, serde_json::json!({"payload": {"Orders": [raw]}})));
            let page = client.fetch_page(window(), None).await.unwrap();
            let item_list = items_case["body"]["payload"]["OrderItems"]
                .as_array()
                .unwrap()
                .clone();
            // The spec's cases pair orders and items freely: items priced in another
            // currency than the order total must be refused, not stored.
            let order_currency = raw["OrderTotal"]["CurrencyCode"].as_str();
            let item_currency = item_list
                .iter()
                .find_map(|i| i["ItemPrice"]["CurrencyCode"].as_str());
            let mixed = order_currency
                .zip(item_currency)
                .is_some_and(|(a, b)| a != b);
            match (&page.orders[..], mixed) {
                ([FetchedOrder::Ok(o)], false) => check_v0(raw, &item_list, o, &name),
                ([FetchedOrder::Failed { error, .. }], true) => {
                    assert!(error.contains("differs from the order currency"), "{error}")
                }
                (other, _) => panic!("{name}: {other:?}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} orders checked");
}
