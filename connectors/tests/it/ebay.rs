//! The eBay client against the eBay sandbox: a sync must converge to the sandbox's ground
//! truth through paging, token expiry, revocation, quotas, faults, malformed orders,
//! live-set drift and personal-data blanking. Everything runs on a `ManualClock`.
#![cfg(feature = "sandbox")]

use crate::contract;

contract_suite!(contract::Target::new(
    ordervault_connectors::MarketplaceKind::Ebay
));

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordervault_connectors::clock::{Clock, ManualClock};
use ordervault_connectors::ebay::{EbayClient, EbayConfig, EbayCredentials, Pacing};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::sandbox::ebay::{self as sandbox, EbaySandboxOptions};
use ordervault_connectors::sandbox::{SandboxConfig, SandboxCredentials, SandboxHandle};
use ordervault_connectors::{
    ConnectorError, FetchedOrder, Marketplace, Order, OrderStatus, PageToken, SyncWindow,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

struct Env {
    clock: ManualClock,
    sandbox: SandboxHandle,
    client: EbayClient,
}

fn credentials(c: &SandboxCredentials) -> EbayCredentials {
    EbayCredentials::from_json(
        &serde_json::json!({
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "refresh_token": c.refresh_token,
        })
        .to_string(),
    )
    .unwrap()
}

fn client(sandbox: &SandboxHandle, clock: &ManualClock, page_size: u32) -> EbayClient {
    let mut config = EbayConfig::for_base(&format!("http://{}", sandbox.addr));
    config.page_size = page_size;
    config.pacing = Pacing {
        per_second: 2000.0,
        burst: 100,
    };
    EbayClient::new(
        config,
        credentials(&SandboxCredentials::default()),
        Arc::new(clock.clone()),
        RetryPolicy::fast(),
    )
}

async fn env_with(config: SandboxConfig, options: EbaySandboxOptions, page_size: u32) -> Env {
    let clock = ManualClock::new(t0());
    let sandbox = sandbox::start_with(config, Arc::new(clock.clone()), options)
        .await
        .unwrap();
    let client = client(&sandbox, &clock, page_size);
    Env {
        clock,
        sandbox,
        client,
    }
}

async fn env(config: SandboxConfig, page_size: u32) -> Env {
    env_with(config, EbaySandboxOptions::default(), page_size).await
}

/// What the sync worker keeps: one order per number, the newest `updated_at` winning.
#[derive(Default)]
struct Store {
    orders: BTreeMap<String, Order>,
    failed: Vec<(String, String)>,
    pages: usize,
}

impl Store {
    fn upsert(&mut self, fetched: Vec<FetchedOrder>) {
        for f in fetched {
            match f {
                FetchedOrder::Ok(o) => {
                    let key = o.order_number.to_string();
                    match self.orders.get(&key) {
                        Some(old) if old.updated_at > o.updated_at => {}
                        _ => {
                            self.orders.insert(key, *o);
                        }
                    }
                }
                FetchedOrder::Failed {
                    marketplace_order_id,
                    error,
                } => self.failed.push((marketplace_order_id, error)),
            }
        }
    }

    /// Pages through `window`; `between` runs after every page (to move the clock).
    async fn sync(
        &mut self,
        client: &EbayClient,
        window: SyncWindow,
        mut between: impl FnMut(),
    ) -> Result<(), ConnectorError> {
        let mut token: Option<PageToken> = None;
        loop {
            let page = client.fetch_page(window, token.take()).await?;
            self.pages += 1;
            self.upsert(page.orders);
            between();
            match page.next {
                Some(next) => token = Some(next),
                None => return Ok(()),
            }
        }
    }
}

fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> SyncWindow {
    SyncWindow { from, to }
}

/// Compares field by field; messages name the order and the field, never personal values.
fn assert_matches(expected: &[Order], got: &BTreeMap<String, Order>) {
    let expected: BTreeMap<String, &Order> = expected
        .iter()
        .map(|o| (o.order_number.to_string(), o))
        .collect();
    let missing: Vec<&String> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&String> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "orders missing from the sync: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "orders not in the ground truth: {extra:?}"
    );
    for (id, e) in expected {
        let g = &got[&id];
        assert_eq!(g.marketplace, e.marketplace, "{id} marketplace");
        assert_eq!(g.status, e.status, "{id} status");
        assert_eq!(g.placed_at, e.placed_at, "{id} placed_at");
        assert_eq!(g.updated_at, e.updated_at, "{id} updated_at");
        assert_eq!(g.fulfilled_at, e.fulfilled_at, "{id} fulfilled_at");
        assert_eq!(g.cancelled_at, e.cancelled_at, "{id} cancelled_at");
        assert_eq!(g.currency, e.currency, "{id} currency");
        assert_eq!(g.total_minor, e.total_minor, "{id} total");
        assert_eq!(g.country_code, e.country_code, "{id} country");
        assert_eq!(g.lines, e.lines, "{id} lines");
        let (gc, ec) = (&g.customer, &e.customer);
        assert!(gc.email == ec.email, "{id} email");
        assert!(gc.phone == ec.phone, "{id} phone");
        assert!(gc.delivery_notes == ec.delivery_notes, "{id} notes");
        for (name, ga, ea) in [
            ("shipping", &gc.shipping, &ec.shipping),
            ("billing", &gc.billing, &ec.billing),
        ] {
            // In-Store Pickup orders have no ship-to on either side.
            let (Some(ga), Some(ea)) = (ga, ea) else {
                assert!(ga == ea, "{id} {name} present on one side only");
                continue;
            };
            assert!(ga.full_name == ea.full_name, "{id} {name} full name");
            assert!(ga.company == ea.company, "{id} {name} company");
            assert!(ga.street == ea.street, "{id} {name} street");
            assert!(ga.house_number == ea.house_number, "{id} {name} house");
            assert!(ga.postcode == ea.postcode, "{id} {name} postcode");
            assert!(ga.city == ea.city, "{id} {name} city");
            assert!(ga.country_code == ea.country_code, "{id} {name} country");
            assert!(ga == ea, "{id} {name} other address fields");
        }
        assert!(g == e, "{id}: some other field differs");
    }
}

#[tokio::test]
async fn full_sync_yields_exactly_the_ground_truth_with_one_token() {
    let e = env(SandboxConfig::default(), 50).await;
    let truth = (e.sandbox.ground_truth)();
    assert!(truth.len() > 150, "most of the world exists at t0");
    let mut store = Store::default();
    store
        .sync(&e.client, window(t0() - Duration::days(8), t0()), || {})
        .await
        .unwrap();
    assert!(store.pages >= 4, "paged: {}", store.pages);
    assert!(store.failed.is_empty());
    assert_matches(&truth, &store.orders);
    // The data really round-tripped: personal data present, every status represented.
    let all: Vec<&Order> = store.orders.values().collect();
    assert!(all.iter().all(|o| o.customer.email.is_some()));
    assert!(all.iter().all(|o| o.terms.pickup_point
        || o.customer
            .shipping
            .as_ref()
            .is_some_and(|a| a.full_name.is_some() && a.street.is_some())));
    assert!(
        all.iter().any(|o| o.terms.pickup_point),
        "In-Store Pickup orders present"
    );
    for st in [
        OrderStatus::Open,
        OrderStatus::PartiallyShipped,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ] {
        assert!(all.iter().any(|o| o.status == st), "{st:?} present");
    }
    assert_eq!((e.sandbox.token_requests)(), 1);
}

#[tokio::test]
async fn token_is_requested_once_per_lifetime_across_many_pages() {
    let e = env(SandboxConfig::default(), 10).await;
    let mut store = Store::default();
    let w = window(t0() - Duration::days(8), t0());
    store.sync(&e.client, w, || {}).await.unwrap();
    assert!(store.pages >= 18, "pages: {}", store.pages);
    assert_eq!((e.sandbox.token_requests)(), 1, "one token for 18+ pages");
    // An hour later the token still works; after its 2 h lifetime a new one is fetched.
    e.clock.advance(Duration::hours(1));
    store.sync(&e.client, w, || {}).await.unwrap();
    assert_eq!((e.sandbox.token_requests)(), 1);
    e.clock.advance(Duration::minutes(61));
    store.sync(&e.client, w, || {}).await.unwrap();
    assert_eq!((e.sandbox.token_requests)(), 2);
}

#[tokio::test]
async fn daily_quota_is_hit_reported_until_reset_and_survived() {
    let e = env_with(
        SandboxConfig::default(),
        EbaySandboxOptions {
            daily_quota: 6,
            ..Default::default()
        },
        20,
    )
    .await;
    let w = window(t0() - Duration::days(8), t0());
    let mut store = Store::default();
    let err = store.sync(&e.client, w, || {}).await.unwrap_err();
    let ConnectorError::RateLimited {
        retry_after: Some(wait),
    } = err
    else {
        panic!("expected RateLimited with a reset, got {err:?}");
    };
    assert_eq!(store.pages, 6, "the quota allowed six calls");
    let midnight = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    assert_eq!(
        wait.as_secs() as i64,
        (midnight - t0()).num_seconds(),
        "retry_after runs to eBay's quota reset"
    );
    // Until the reset the client fails fast, without a call.
    e.clock.advance(Duration::hours(1));
    let again = e.client.fetch_page(w, None).await.unwrap_err();
    assert!(
        matches!(again, ConnectorError::RateLimited { retry_after: Some(d) } if d.as_secs() as i64 == (midnight - e.clock.now()).num_seconds())
    );
    // After the reset the worker retries the window; six calls a day, day after day.
    e.clock.set(midnight + Duration::minutes(1));
    let w2 = window(t0() - Duration::days(8), e.clock.now());
    let mut token = None;
    let mut store = Store::default();
    let mut days = 0;
    loop {
        match e.client.fetch_page(w2, token.clone()).await {
            Ok(page) => {
                store.upsert(page.orders);
                match page.next {
                    Some(n) => token = Some(n),
                    None => break,
                }
            }
            Err(ConnectorError::RateLimited {
                retry_after: Some(d),
            }) => {
                days += 1;
                assert!(days < 5, "never finished");
                e.clock
                    .advance(Duration::from_std(d).unwrap() + Duration::seconds(1));
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let truth: Vec<Order> = (e.sandbox.ground_truth)()
        .into_iter()
        .filter(|o| o.updated_at <= w2.to)
        .collect();
    let changed_since: Vec<String> = (e.sandbox.ground_truth)()
        .into_iter()
        .filter(|o| o.updated_at > w2.to)
        .map(|o| o.order_number.to_string())
        .collect();
    for id in &changed_since {
        store.orders.remove(id);
    }
    assert!(days >= 1);
    assert_matches(&truth, &store.orders);
}

#[tokio::test]
async fn with_injected_faults_a_sync_still_converges() {
    let e = env(
        SandboxConfig {
            fault_rate: 0.2,
            seed: 7,
            ..Default::default()
        },
        20,
    )
    .await;
    let mut store = Store::default();
    store
        .sync(&e.client, window(t0() - Duration::days(8), t0()), || {})
        .await
        .unwrap();
    assert!(store.failed.is_empty());
    assert_matches(&(e.sandbox.ground_truth)(), &store.orders);
}

#[tokio::test]
async fn orders_changing_and_arriving_while_paging_are_not_lost() {
    let config = SandboxConfig {
        orders: 300,
        history: Duration::days(2),
        arrival_span: Duration::hours(8),
        seed: 3,
        ..Default::default()
    };
    let e = env(config, 10).await;
    let hints = e.client.sync_hints();
    let mut store = Store::default();
    // Window 1 while time runs: every page, ten minutes pass; orders ship (leaving the
    // window and shifting later pages forward) and new ones arrive.
    let to1 = e.clock.now() - hints.visibility_delay;
    let clock = e.clock.clone();
    store
        .sync(&e.client, window(t0() - Duration::days(3), to1), || {
            clock.advance(Duration::minutes(10))
        })
        .await
        .unwrap();
    assert!(store.pages > 15);
    e.clock.advance(Duration::minutes(5));
    // Window 2 picks up from the cursor with the overlap.
    let to2 = e.clock.now() - hints.visibility_delay;
    store
        .sync(&e.client, window(to1 - hints.overlap, to2), || {})
        .await
        .unwrap();
    // The store holds exactly what eBay held at the end of window 2.
    e.clock.set(to2);
    let truth = (e.sandbox.ground_truth)();
    assert!(truth.iter().any(|o| o.placed_at > to1), "orders arrived");
    assert_matches(&truth, &store.orders);
}

#[tokio::test]
async fn personal_data_is_blanked_after_14_and_90_days() {
    let config = SandboxConfig {
        orders: 120,
        history: Duration::days(120),
        arrival_span: Duration::hours(1),
        ..Default::default()
    };
    let e = env(config, 200).await;
    let w = window(t0() - Duration::days(121), t0());
    let mut store = Store::default();
    store.sync(&e.client, w, || {}).await.unwrap();
    assert_matches(&(e.sandbox.ground_truth)(), &store.orders);
    let age = |o: &Order| t0() - o.placed_at;
    let (mut fresh, mut middle, mut old) = (0, 0, 0);
    for o in store.orders.values() {
        // In-Store Pickup orders have no ship-to; their registration address blanks alike.
        let Some(ship) = o.customer.shipping.as_ref().or(o.customer.billing.as_ref()) else {
            panic!("{} has no address", o.order_number);
        };
        assert!(
            ship.city.is_some() && ship.postcode.is_some(),
            "never blanked"
        );
        if age(o) <= Duration::days(14) {
            fresh += 1;
            assert!(o.customer.email.is_some() && ship.full_name.is_some());
        } else if age(o) <= Duration::days(90) {
            middle += 1;
            assert!(o.customer.email.is_none(), "email gone after 14 days");
            assert!(
                o.customer.phone.is_some() && ship.full_name.is_some() && ship.street.is_some()
            );
        } else {
            old += 1;
            assert!(o.customer.email.is_none() && o.customer.phone.is_none());
            // eBay's blanked shape: only city, postcode, state and country are left.
            assert!(ship.full_name.is_none() && ship.street.is_none() && ship.extra.is_none());
            assert!(
                o.customer.buyer_username.is_some(),
                "the username is not blanked"
            );
        }
    }
    assert!(
        fresh > 5 && middle > 50 && old > 20,
        "{fresh}/{middle}/{old}"
    );
    // Blanking follows the clock: 15 days later, today's orders lose their email.
    e.clock.advance(Duration::days(15));
    let mut later = Store::default();
    let w = window(w.from, e.clock.now());
    later.sync(&e.client, w, || {}).await.unwrap();
    assert_matches(&(e.sandbox.ground_truth)(), &later.orders);
    let newest = store.values_newest();
    assert!(store.orders[&newest].customer.email.is_some());
    assert!(later.orders[&newest].customer.email.is_none());
}

impl Store {
    fn values_newest(&self) -> String {
        self.orders
            .values()
            .max_by_key(|o| o.placed_at)
            .unwrap()
            .order_number
            .to_string()
    }
}

#[tokio::test]
async fn the_sandbox_speaks_ebay() {
    let e = env(SandboxConfig::default(), 50).await;
    let base = format!("http://{}", e.sandbox.addr);
    let http = reqwest::Client::new();
    // Authorization-code flow: consent redirect, one-time code, refresh token in reply.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirect
        .get(format!(
            "{base}/oauth2/authorize?client_id=sandbox-client&redirect_uri=https://shop.example/accept&response_type=code&scope=https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly&state=xyz"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let code = code.replace("%5E", "^").replace("%23", "#");
    let exchange = |code: String| {
        http.post(format!("{base}/identity/v1/oauth2/token"))
            .basic_auth("sandbox-client", Some("sandbox-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", "https://shop.example/accept"),
            ])
            .send()
    };
    let reply: serde_json::Value = exchange(code.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(reply["expires_in"], 7200);
    assert_eq!(reply["refresh_token"], "sandbox-refresh-token");
    let token = reply["access_token"].as_str().unwrap().to_string();
    let reuse = exchange(code).await.unwrap();
    assert_eq!(reuse.status(), 400, "codes are single-use");

    let get = |url: String| http.get(url).bearer_auth(&token).send();
    let from = "2026-03-01T00:00:00.000Z";
    // Unencoded brackets are refused as eBay does.
    let raw = get(format!(
        "{base}/sell/fulfillment/v1/order?filter=lastmodifieddate:[{from}..]"
    ))
    .await
    .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorId"], 30800);
    for (query, id) in [
        ("limit=201", 31100),
        ("offset=-1", 31000),
        ("fieldGroups=ALL", 32800),
        ("filter=lastmodifieddate:%5B2026-03-01..%5D", 30810),
        (
            "filter=lastmodifieddate:%5B2027-03-01T00:00:00.000Z..%5D",
            30850,
        ),
        ("filter=orderstatus:%7BACTIVE%7D", 30700),
    ] {
        let r = get(format!("{base}/sell/fulfillment/v1/order?{query}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["errorId"], id, "{query}");
    }
    // Paging envelope, and creationdate winning over lastmodifieddate.
    let page: serde_json::Value = get(format!(
        "{base}/sell/fulfillment/v1/order?filter=creationdate:%5B{from}..%5D,lastmodifieddate:%5B2026-01-01T00:00:00.000Z..2026-01-02T00:00:00.000Z%5D&limit=5"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let created_since = (e.sandbox.ground_truth)()
        .iter()
        .filter(|o| o.placed_at >= "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap())
        .count();
    assert_eq!(page["total"], created_since as u64);
    assert_eq!(page["orders"].as_array().unwrap().len(), 5);
    assert!(page["next"].as_str().unwrap().contains("offset=5"));
    assert!(page["orders"][0]["creationDate"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    // cancelRequests: empty in the list, filled in getOrder.
    let cancelled = (e.sandbox.ground_truth)()
        .into_iter()
        .find(|o| o.status == OrderStatus::Cancelled)
        .unwrap();
    let id = cancelled.order_number.to_string();
    let listed: serde_json::Value = get(format!("{base}/sell/fulfillment/v1/order?orderIds={id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["orders"][0]["cancelStatus"]["cancelState"],
        "CANCELED"
    );
    assert_eq!(
        listed["orders"][0]["cancelStatus"]["cancelRequests"],
        serde_json::json!([])
    );
    let one: serde_json::Value = get(format!("{base}/sell/fulfillment/v1/order/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        one["cancelStatus"]["cancelRequests"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let bad = get(format!("{base}/sell/fulfillment/v1/order/12345"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // Expired tokens: 401 errorId 1001.
    e.clock.advance(Duration::hours(2));
    let expired = get(format!("{base}/sell/fulfillment/v1/order"))
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
    let body: serde_json::Value = expired.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorId"], 1001);
}

#[tokio::test]
async fn a_persistent_outage_ends_in_unavailable_or_rate_limited() {
    let e = env(
        SandboxConfig {
            fault_rate: 1.0,
            ..Default::default()
        },
        50,
    )
    .await;
    let err = e
        .client
        .fetch_page(window(t0() - Duration::days(1), t0()), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConnectorError::Unavailable(_) | ConnectorError::RateLimited { .. }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("<html"), "{err}");
}

#[tokio::test]
async fn unreadable_json_is_a_protocol_error() {
    use axum::routing::{get, post};
    let router = axum::Router::new()
        .route(
            "/identity/v1/oauth2/token",
            post(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"access_token":"t","expires_in":7200,"token_type":"User Access Token"}"#,
                )
            }),
        )
        .route(
            "/sell/fulfillment/v1/order",
            get(|| async { ([("content-type", "application/json")], r#"{"orders": 42"#) }),
        );
    let (addr, _stop) = ordervault_connectors::sandbox::support::serve(router, 0)
        .await
        .unwrap();
    let clock = ManualClock::new(t0());
    let client = EbayClient::new(
        EbayConfig::for_base(&format!("http://{addr}")),
        credentials(&SandboxCredentials::default()),
        Arc::new(clock),
        RetryPolicy::fast(),
    );
    let err = client
        .fetch_page(window(t0() - Duration::days(1), t0()), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol(_)), "{err:?}");
}

/// eBay counts the daily quota per application: once one connection learns it is spent,
/// another connection of the same app (same client id, one worker's `Quotas`) fails fast
/// until the reset, without a call; a connection of another app is not held back.
#[tokio::test]
async fn connections_of_one_app_share_its_daily_quota() {
    use ordervault_connectors::quota::Quotas;
    use ordervault_connectors::{connect, ConnectOptions, MarketplaceKind};
    let clock = ManualClock::new(t0());
    let config = SandboxConfig {
        orders: 20,
        ..SandboxConfig::default()
    };
    let handle = sandbox::start_with(
        config.clone(),
        Arc::new(clock.clone()),
        EbaySandboxOptions {
            daily_quota: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let options = ConnectOptions {
        retry: RetryPolicy::fast(),
        quotas: Some(Arc::new(Quotas::new())),
        ..ConnectOptions::default()
    };
    let file = config.credentials.connection_file(MarketplaceKind::Ebay);
    let build = |file: &str| {
        connect(
            MarketplaceKind::Ebay,
            &handle.settings(MarketplaceKind::Ebay),
            file,
            Arc::new(clock.clone()),
            &options,
        )
        .unwrap()
    };
    let (a, b) = (build(&file), build(&file));
    let w = window(t0() - Duration::days(8), t0());
    a.fetch_page(w, None).await.unwrap();
    let spent = a.fetch_page(w, None).await.unwrap_err();
    assert!(
        matches!(
            spent,
            ConnectorError::RateLimited {
                retry_after: Some(_)
            }
        ),
        "{spent:?}"
    );
    let tokens = (handle.token_requests)();
    let held = b.fetch_page(w, None).await.unwrap_err();
    assert!(
        matches!(
            held,
            ConnectorError::RateLimited {
                retry_after: Some(_)
            }
        ),
        "{held:?}"
    );
    assert_eq!((handle.token_requests)(), tokens, "b made no call at all");
    // Another application's quota is its own.
    let other_app = file.replace("sandbox-client", "another-app");
    let c = build(&other_app);
    let err = c.fetch_page(w, None).await.unwrap_err();
    assert!(
        !matches!(err, ConnectorError::RateLimited { .. }) || (handle.token_requests)() > tokens,
        "another app is not held back by this app's quota: {err:?}"
    );
}
