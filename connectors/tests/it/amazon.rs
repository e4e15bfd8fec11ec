//! The Amazon connector on Orders **v0** (deprecated, selectable per connection) against
//! the Amazon sandbox: the shared contract suite, plus what is v0's own (RDT, getOrderItems
//! paging and pacing, the v0 wire format). v2026-01-01 has `amazon_v2026.rs`. Time is a
//! `ManualClock` that the client's `ClockSleeper` advances, so Amazon's minute-long
//! pacing costs milliseconds.

use crate::contract;

contract_suite!(super::v0_target());

fn v0_target() -> contract::Target {
    contract::Target {
        settings: ordervault_connectors::ConnectionSettings {
            api_version: Some(ApiVersion::V0),
            ..Default::default()
        },
        rate_limits: true,
        ..contract::Target::new(ordervault_connectors::MarketplaceKind::Amazon)
    }
}

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordervault_connectors::amazon::{
    AmazonClient, AmazonConfig, AmazonCredentials, ApiVersion, ClockSleeper,
};
use ordervault_connectors::clock::{Clock, ManualClock};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::sandbox::amazon::{
    self as sandbox, AmazonSandboxOptions, AmazonSandboxStats,
};
use ordervault_connectors::sandbox::{SandboxConfig, SandboxHandle};
use ordervault_connectors::{
    ConnectorError, FetchedOrder, Marketplace, Order, OrderStatus, PageToken, SyncWindow,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

struct Env {
    clock: ManualClock,
    sandbox: SandboxHandle,
    stats: Arc<AmazonSandboxStats>,
}

async fn env(config: SandboxConfig, options: AmazonSandboxOptions) -> Env {
    let clock = ManualClock::new(t0());
    let (sandbox, stats) = sandbox::start_with(config, Arc::new(clock.clone()), options)
        .await
        .unwrap();
    Env {
        clock,
        sandbox,
        stats,
    }
}

fn config(orders: usize, seed: u64) -> SandboxConfig {
    SandboxConfig {
        orders,
        seed,
        ..SandboxConfig::default()
    }
}

const CONNECTION_FILE: &str = r#"{"client_id":"sandbox-client","client_secret":"sandbox-secret","refresh_token":"sandbox-refresh-token"}"#;

impl Env {
    fn client_with(&self, policy: RetryPolicy, page_size: u8, creds: &str) -> AmazonClient {
        let mut cfg = AmazonConfig::for_base(&format!("http://{}", self.sandbox.addr));
        cfg.page_size = page_size;
        cfg.api_version = ApiVersion::V0;
        AmazonClient::new(
            cfg,
            AmazonCredentials::from_json(creds).unwrap(),
            Arc::new(self.clock.clone()),
            policy,
        )
        .with_sleeper(Arc::new(ClockSleeper::Manual(self.clock.clone())))
    }

    fn client(&self, page_size: u8) -> AmazonClient {
        self.client_with(RetryPolicy::fast(), page_size, CONNECTION_FILE)
    }

    fn truth(&self) -> Vec<Order> {
        (self.sandbox.ground_truth)()
    }

    fn window(&self, from: DateTime<Utc>) -> SyncWindow {
        SyncWindow {
            from,
            to: self.clock.now() - Duration::minutes(3),
        }
    }
}

/// What the service's store would hold: one order per number, the newer update wins.
#[derive(Default)]
struct Store {
    orders: HashMap<String, Order>,
    failed: Vec<(String, String)>,
    pages: usize,
}

impl Store {
    fn absorb(&mut self, page: Vec<FetchedOrder>) {
        self.pages += 1;
        for f in page {
            match f {
                FetchedOrder::Ok(o) => {
                    let key = o.order_number.to_string();
                    let newer = self
                        .orders
                        .get(&key)
                        .is_none_or(|old| o.updated_at >= old.updated_at);
                    if newer {
                        self.orders.insert(key, *o);
                    }
                }
                FetchedOrder::Failed {
                    marketplace_order_id,
                    error,
                } => self.failed.push((marketplace_order_id, error)),
            }
        }
    }

    async fn sync(
        &mut self,
        client: &AmazonClient,
        window: SyncWindow,
    ) -> Result<(), ConnectorError> {
        let mut next: Option<PageToken> = None;
        loop {
            let page = client.fetch_page(window, next.take()).await?;
            self.absorb(page.orders);
            match page.next {
                Some(t) => next = Some(t),
                None => return Ok(()),
            }
        }
    }
}

use crate::contract::diff;

/// Every order the truth says changed inside the window is stored, exactly; anything
/// extra was changed after the window closed (harmless on upsert). Returns the count.
fn assert_converged(store: &Store, truth: &[Order], window: SyncWindow, skip: &[String]) -> usize {
    let mut expected = 0;
    for t in truth {
        let key = t.order_number.to_string();
        if skip.contains(&key) || t.updated_at < window.from || t.updated_at > window.to {
            continue;
        }
        expected += 1;
        let got = store
            .orders
            .get(&key)
            .unwrap_or_else(|| panic!("order {key} is missing"));
        let d = diff(got, t);
        assert!(d.is_empty(), "order {key} differs in {d:?}");
    }
    let by_number: HashMap<_, _> = truth
        .iter()
        .map(|o| (o.order_number.to_string(), o))
        .collect();
    for (key, o) in &store.orders {
        let t = by_number[key];
        assert!(
            t.updated_at > window.to || t.updated_at == o.updated_at,
            "order {key} came back outside the window"
        );
    }
    expected
}

fn get(c: &std::sync::atomic::AtomicU64) -> u64 {
    AmazonSandboxStats::get(c)
}

#[tokio::test]
async fn full_sync_round_trips_the_ground_truth_with_pacing_and_no_429() {
    let e = env(config(150, 11), AmazonSandboxOptions::default()).await;
    let client = e.client(100);
    let window = e.window(t0() - Duration::days(8));
    let mut store = Store::default();
    store.sync(&client, window).await.unwrap();

    let truth = e.truth();
    let n = assert_converged(&store, &truth, window, &[]);
    assert!(n > 120, "only {n} orders in the window");
    assert!(store.failed.is_empty(), "{:?}", store.failed);
    assert!(store.pages >= 2, "{} pages", store.pages);
    // Personal data came through the RDT: names, streets and phones are there.
    let with_street = store
        .orders
        .values()
        .filter(|o| {
            o.customer
                .shipping
                .as_ref()
                .is_some_and(|a| a.street.is_some() && a.full_name.is_some())
        })
        .count();
    assert!(with_street > 100, "{with_street}");
    assert!(
        store
            .orders
            .values()
            .filter(|o| o.customer.phone.is_some())
            .count()
            > 100
    );
    for s in [
        OrderStatus::Open,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ] {
        assert!(
            store.orders.values().any(|o| o.status == s),
            "no {s:?} order"
        );
    }
    // Paced, not throttled: ~200 getOrderItems calls at 0.5/s after a burst of 30.
    assert_eq!(get(&e.stats.throttled), 0, "the client must pace itself");
    let items = get(&e.stats.get_order_items);
    assert!(
        items > n as u64,
        "items paging: {items} calls for {n} orders"
    );
    let waited = (e.clock.now() - t0()).num_seconds();
    assert!(
        waited as u64 >= (items - 30) * 2 - 2,
        "waited {waited}s for {items} calls"
    );
    assert_eq!((e.sandbox.token_requests)(), 1);
    assert_eq!(get(&e.stats.restricted_data_tokens), 1);
}

#[tokio::test]
async fn one_token_across_many_pages() {
    let e = env(config(60, 2), AmazonSandboxOptions::default()).await;
    let client = e.client(7);
    let window = e.window(t0() - Duration::days(8));
    let mut store = Store::default();
    store.sync(&client, window).await.unwrap();
    assert!(store.pages >= 7, "{} pages", store.pages);
    assert_converged(&store, &e.truth(), window, &[]);
    assert_eq!((e.sandbox.token_requests)(), 1);
    assert_eq!(get(&e.stats.restricted_data_tokens), 1);
}

#[tokio::test]
async fn tokens_are_renewed_before_their_lifetime_runs_out() {
    let mut cfg = config(20, 4);
    cfg.token_lifetime = Some(std::time::Duration::from_secs(600));
    let e = env(cfg, AmazonSandboxOptions::default()).await;
    let client = e.client(10);
    let window = e.window(t0() - Duration::days(8));
    let first = client.fetch_page(window, None).await.unwrap();
    e.clock.advance(Duration::minutes(20));
    let second = client.fetch_page(window, first.next).await.unwrap();
    assert!(!second.orders.is_empty());
    assert_eq!((e.sandbox.token_requests)(), 2);
}

/// Another app of the same seller spends the shared getOrders bucket: the client gets a
/// 429 without Retry-After, waits one refill interval (a minute) and carries on; with no
/// retries left it reports `RateLimited` with that interval.
#[tokio::test]
async fn throttling_by_a_shared_bucket_is_survived_at_the_known_rate() {
    let e = env(config(30, 6), AmazonSandboxOptions::default()).await;
    let window = e.window(t0() - Duration::days(8));
    let other_app = e.client(1);
    let mut next = None;
    for _ in 0..20 {
        next = other_app.fetch_page(window, next).await.unwrap().next;
    }
    assert_eq!(get(&e.stats.throttled), 0);

    let no_retries = e.client_with(
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::fast()
        },
        100,
        CONNECTION_FILE,
    );
    match no_retries.fetch_page(window, None).await {
        Err(ConnectorError::RateLimited {
            retry_after: Some(d),
        }) => {
            assert!((59..=61).contains(&d.as_secs()), "{d:?}")
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(get(&e.stats.throttled), 1);

    let patient = e.client(100);
    let before = e.clock.now();
    let mut store = Store::default();
    store.sync(&patient, window).await.unwrap();
    assert!(get(&e.stats.throttled) >= 2, "the bucket was empty");
    assert!(
        (e.clock.now() - before).num_seconds() >= 59,
        "backed off by the refill interval"
    );
    assert_converged(&store, &e.truth(), window, &[]);
}

/// Two clients of one seller (each pacing only itself) exceed getOrderItems' shared
/// bucket: many 429s, and both still converge.
#[tokio::test]
async fn two_clients_sharing_the_rate_limit_both_converge() {
    let e = env(config(80, 7), AmazonSandboxOptions::default()).await;
    let window = e.window(t0() - Duration::days(8));
    let (a, b) = (e.client(100), e.client(100));
    let (mut sa, mut sb) = (Store::default(), Store::default());
    let (ra, rb) = tokio::join!(sa.sync(&a, window), sb.sync(&b, window));
    ra.unwrap();
    rb.unwrap();
    assert!(
        get(&e.stats.throttled) > 0,
        "the shared bucket must have run dry"
    );
    let truth = e.truth();
    assert_converged(&sa, &truth, window, &[]);
    assert_converged(&sb, &truth, window, &[]);
}

#[tokio::test]
async fn a_sync_converges_despite_injected_faults() {
    let mut cfg = config(120, 8);
    cfg.fault_rate = 0.2;
    let e = env(cfg, AmazonSandboxOptions::default()).await;
    let client = e.client(25);
    let window = e.window(t0() - Duration::days(8));
    let mut store = Store::default();
    // The worker's behaviour: a window that fails is retried later, from its start.
    let mut runs = 0;
    loop {
        runs += 1;
        match store.sync(&client, window).await {
            Ok(()) => break,
            Err(e) if runs < 10 => {
                assert!(
                    matches!(
                        e,
                        ConnectorError::Unavailable(_) | ConnectorError::RateLimited { .. }
                    ),
                    "{e:?}"
                )
            }
            Err(e) => panic!("no convergence after {runs} runs: {e:?}"),
        }
    }
    assert!(
        get(&e.stats.faults) > 20,
        "faults: {}",
        get(&e.stats.faults)
    );
    let n = assert_converged(&store, &e.truth(), window, &[]);
    assert!(n > 100);
}

#[tokio::test]
async fn an_empty_window_is_an_empty_page() {
    let e = env(config(20, 10), AmazonSandboxOptions::default()).await;
    let client = e.client(100);
    let window = SyncWindow {
        from: t0() - Duration::days(60),
        to: t0() - Duration::days(59),
    };
    let page = client.fetch_page(window, None).await.unwrap();
    assert!(page.orders.is_empty() && page.next.is_none());
    assert_eq!(get(&e.stats.get_order_items), 0);
    // A window that ends too recently is refused before any call (Amazon's 2-minute rule).
    let fresh = SyncWindow {
        from: t0() - Duration::hours(1),
        to: e.clock.now() - Duration::seconds(30),
    };
    assert!(matches!(
        client.fetch_page(fresh, None).await,
        Err(ConnectorError::Rejected(_))
    ));
    assert_eq!(get(&e.stats.get_orders), 1);
}

/// Amazon stops releasing the phone once `LatestDeliveryDate` has passed; the truth and
/// the client agree, and other personal data stays.
#[tokio::test]
async fn the_phone_is_gone_after_the_latest_delivery_date() {
    let mut cfg = config(20, 13);
    cfg.history = Duration::days(20);
    let e = env(cfg, AmazonSandboxOptions::default()).await;
    let client = e.client(100);
    let window = e.window(t0() - Duration::days(21));
    let mut store = Store::default();
    store.sync(&client, window).await.unwrap();
    let truth = e.truth();
    assert_converged(&store, &truth, window, &[]);
    let old_shipped = store
        .orders
        .values()
        .filter(|o| o.placed_at < t0() - Duration::days(10) && o.customer.shipping.is_some())
        .collect::<Vec<_>>();
    assert!(!old_shipped.is_empty());
    assert!(old_shipped
        .iter()
        .all(|o| o.customer.phone.is_none() && o.customer.email.is_some()));
    assert!(store.orders.values().any(|o| o.customer.phone.is_some()));
}

/// The sandbox itself speaks SP-API: headers, validation, PII stripping without an RDT,
/// and the expired-token 403.
#[tokio::test]
async fn the_sandbox_behaves_like_the_sp_api() {
    let e = env(config(30, 14), AmazonSandboxOptions::default()).await;
    let base = format!("http://{}", e.sandbox.addr);
    let http = reqwest::Client::new();
    let lwa: serde_json::Value = http
        .post(format!("{base}/auth/o2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "sandbox-refresh-token"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lwa["expires_in"], 3600);
    let token = lwa["access_token"].as_str().unwrap().to_string();
    let to = (t0() - Duration::minutes(3)).to_rfc3339();
    let from = (t0() - Duration::days(8)).to_rfc3339();
    let list = |q: Vec<(&'static str, String)>, header: &'static str| {
        http.get(format!("{base}/orders/v0/orders"))
            .header(header, token.clone())
            .query(&q)
            .send()
    };
    let q = vec![
        ("MarketplaceIds", "A1805IZSGTT6HS".to_string()),
        ("LastUpdatedAfter", from.clone()),
        ("LastUpdatedBefore", to.clone()),
        ("MaxResultsPerPage", "5".to_string()),
    ];

    // Plain LWA token: the restricted parts are absent, the rest is there.
    let r = list(q.clone(), "x-amz-access-token").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-amzn-RateLimit-Limit"], "0.0167");
    assert!(r.headers().contains_key("x-amzn-RequestId"));
    let body: serde_json::Value = r.json().await.unwrap();
    let orders = body["payload"]["Orders"].as_array().unwrap();
    assert_eq!(orders.len(), 5);
    let dates: Vec<&str> = orders
        .iter()
        .map(|o| o["LastUpdateDate"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let shipped = orders
        .iter()
        .find(|o| o.get("ShippingAddress").is_some())
        .unwrap();
    assert!(shipped["ShippingAddress"]["City"].is_string());
    assert!(shipped["ShippingAddress"].get("Name").is_none());
    assert!(shipped["ShippingAddress"].get("AddressLine1").is_none());
    assert!(shipped["ShippingAddress"].get("Phone").is_none());
    assert!(shipped["BuyerInfo"]["BuyerEmail"]
        .as_str()
        .unwrap()
        .ends_with("@marketplace.amazon.nl"));
    assert!(shipped["BuyerInfo"].get("BuyerName").is_none());
    assert_eq!(
        body["payload"]["LastUpdatedBefore"],
        (t0() - Duration::minutes(3))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    );
    let next = body["payload"]["NextToken"].as_str().unwrap().to_string();

    // NextToken without the filters, and a too-recent LastUpdatedBefore: 400 InvalidInput.
    let r = list(
        vec![
            ("MarketplaceIds", "A1805IZSGTT6HS".into()),
            ("NextToken", next.clone()),
        ],
        "x-amz-access-token",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
    let mut recent = q.clone();
    recent[2].1 = (t0() - Duration::seconds(60)).to_rfc3339();
    assert_eq!(
        list(recent, "x-amz-access-token").await.unwrap().status(),
        400
    );
    let mut with_next = q.clone();
    with_next.push(("NextToken", next));
    assert_eq!(
        list(with_next, "x-amz-access-token")
            .await
            .unwrap()
            .status(),
        200
    );

    // The token goes in x-amz-access-token only; an expired one is a 403 that says so.
    assert_eq!(
        list(q.clone(), "authorization").await.unwrap().status(),
        403
    );
    (e.sandbox.expire_tokens)();
    let r = list(q.clone(), "x-amz-access-token").await.unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "Unauthorized");
    assert_eq!(
        body["errors"][0]["details"],
        "The access token you provided has expired."
    );
}

/// A broken upstream: 200s whose body is not JSON are `Protocol`; HTML bodies (a load
/// balancer's) are retried and then `Unavailable`.
#[tokio::test]
async fn garbage_is_protocol_and_html_is_unavailable() {
    use axum::routing::{get, post};
    let router = axum::Router::new()
        .route(
            "/auth/o2/token",
            post(|| async {
                axum::Json(serde_json::json!({"access_token":"Atza|t","token_type":"bearer","expires_in":3600}))
            }),
        )
        .route(
            "/tokens/2021-03-01/restrictedDataToken",
            post(|| async { axum::Json(serde_json::json!({"restrictedDataToken":"Atz.sprdt|r","expiresIn":3600})) }),
        )
        .route(
            "/orders/v0/orders",
            get(|q: axum::extract::Query<Vec<(String, String)>>| async move {
                if q.0.iter().any(|(_, v)| v == "HTML") {
                    "<html><body>502 Bad Gateway</body></html>".to_string()
                } else {
                    "{\"payload\": {\"Orders\": [".to_string()
                }
            }),
        );
    let (addr, _stop) = ordervault_connectors::sandbox::support::serve(router, 0)
        .await
        .unwrap();
    let clock = ManualClock::new(t0());
    let client_for = |marketplace: &str| {
        let mut cfg = AmazonConfig::for_base(&format!("http://{addr}"));
        cfg.marketplace_ids = vec![marketplace.to_string()];
        cfg.api_version = ApiVersion::V0;
        AmazonClient::new(
            cfg,
            AmazonCredentials::from_json(CONNECTION_FILE).unwrap(),
            Arc::new(clock.clone()),
            RetryPolicy::fast(),
        )
        .with_sleeper(Arc::new(ClockSleeper::Manual(clock.clone())))
    };
    let window = SyncWindow {
        from: t0() - Duration::days(1),
        to: t0() - Duration::minutes(3),
    };
    let garbage = client_for("A1805IZSGTT6HS").fetch_page(window, None).await;
    assert!(
        matches!(garbage, Err(ConnectorError::Protocol(_))),
        "{garbage:?}"
    );
    let html = client_for("HTML").fetch_page(window, None).await;
    assert!(
        matches!(&html, Err(ConnectorError::Unavailable(m)) if m.contains("HTML")),
        "{html:?}"
    );
}
