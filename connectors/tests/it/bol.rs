//! bol.com connector against the bol sandbox: the synced orders must be the sandbox's ground
//! truth, field by field and personal data included, through token expiry, revocation,
//! rate limits, injected faults, malformed orders and orders arriving mid-walk.
#![cfg(feature = "sandbox")]

use crate::contract;

contract_suite!(contract::Target::new(
    ordervault_connectors::MarketplaceKind::Bol
));

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ordervault_connectors::bol::{BolClient, BolConfig, BolCredentials};
use ordervault_connectors::clock::{Clock, ManualClock};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::sandbox::bol::{self as bol_sandbox, BolSandboxProbe};
use ordervault_connectors::sandbox::{SandboxConfig, SandboxCredentials, SandboxHandle};
use ordervault_connectors::{
    ConnectorError, FetchedOrder, Marketplace, Order, OrderStatus, PageToken, SyncWindow,
};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T10:00:00Z")
        .unwrap()
        .into()
}

struct Env {
    clock: ManualClock,
    sandbox: SandboxHandle,
    probe: BolSandboxProbe,
    client: BolClient,
}

impl Env {
    async fn start(config: SandboxConfig) -> Self {
        let clock = ManualClock::new(t0());
        let creds = config.credentials.clone();
        let (sandbox, probe) = bol_sandbox::start_with_probe(config, Arc::new(clock.clone()))
            .await
            .expect("sandbox starts");
        let client = client_for(&sandbox, &clock, &creds.client_id, &creds.client_secret);
        Self {
            clock,
            sandbox,
            probe,
            client,
        }
    }

    fn truth(&self) -> Vec<Order> {
        (self.sandbox.ground_truth)()
    }

    fn tokens(&self) -> u64 {
        (self.sandbox.token_requests)()
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A window ending where the sync loop would end it: `now - visibility_delay`.
    fn window_since(&self, from: DateTime<Utc>) -> SyncWindow {
        SyncWindow {
            from,
            to: self.now() - self.client.sync_hints().visibility_delay,
        }
    }
}

fn client_for(sandbox: &SandboxHandle, clock: &ManualClock, id: &str, secret: &str) -> BolClient {
    BolClient::new(
        BolConfig::for_base(&format!("http://{}", sandbox.addr)),
        BolCredentials::new(id, secret),
        Arc::new(clock.clone()),
        RetryPolicy::fast(),
    )
}

fn config(orders: usize) -> SandboxConfig {
    SandboxConfig {
        orders,
        rate_limits: false,
        arrival_span: Duration::zero(),
        ..SandboxConfig::default()
    }
}

/// Pages through a window like the sync worker: a failed page is retried (the worker backs
/// off and retries), up to `retries` times in total.
async fn sync(
    client: &BolClient,
    window: SyncWindow,
    retries: u32,
) -> Result<(Vec<FetchedOrder>, usize), ConnectorError> {
    let mut out = Vec::new();
    let mut token: Option<PageToken> = None;
    let mut pages = 0;
    let mut failures = 0;
    loop {
        match client.fetch_page(window, token.clone()).await {
            Ok(page) => {
                pages += 1;
                out.extend(page.orders);
                match page.next {
                    Some(t) => token = Some(t),
                    None => return Ok((out, pages)),
                }
            }
            Err(e) if failures < retries && !matches!(e, ConnectorError::NeedsReauth { .. }) => {
                failures += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Upserts like the store: one row per order number, a newer `updated_at` wins.
fn upsert(into: &mut BTreeMap<String, Order>, fetched: Vec<FetchedOrder>) {
    for f in fetched {
        match f {
            FetchedOrder::Ok(o) => {
                let key = o.order_number.as_str().to_owned();
                match into.get(&key) {
                    Some(old) if old.updated_at > o.updated_at => {}
                    _ => {
                        into.insert(key, *o);
                    }
                }
            }
            FetchedOrder::Failed {
                marketplace_order_id,
                error,
            } => panic!("order {marketplace_order_id} failed: {error}"),
        }
    }
}

use crate::contract::diff;

/// The synced orders are exactly the ground truth.
fn assert_exact(synced: &BTreeMap<String, Order>, truth: &[Order]) {
    assert!(!truth.is_empty(), "the world has orders");
    for t in truth {
        let s = synced
            .get(t.order_number.as_str())
            .unwrap_or_else(|| panic!("order {} missing from the sync", t.order_number));
        let d = diff(s, t);
        assert!(d.is_empty(), "order {} differs in {d:?}", t.order_number);
    }
    assert_eq!(
        synced.len(),
        truth.len(),
        "no orders beyond the ground truth"
    );
}

/// For syncs while the clock moves: every order that existed by `window.to` was synced;
/// orders that did not change since `started` are exact, the rest are not newer than truth.
fn assert_converged(
    synced: &BTreeMap<String, Order>,
    truth: &[Order],
    window: SyncWindow,
    started: DateTime<Utc>,
) {
    let mut exact = 0;
    for t in truth.iter().filter(|t| t.placed_at <= window.to) {
        let s = synced
            .get(t.order_number.as_str())
            .unwrap_or_else(|| panic!("order {} missing from the sync", t.order_number));
        if t.updated_at <= started {
            let d = diff(s, t);
            assert!(d.is_empty(), "order {} differs in {d:?}", t.order_number);
            exact += 1;
        } else {
            assert!(s.updated_at <= t.updated_at);
        }
    }
    assert!(exact > 0, "some orders compared exactly");
}

fn ticker(clock: &ManualClock, per_ms: Duration) -> tokio::task::JoinHandle<()> {
    let clock = clock.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            clock.advance(per_ms);
        }
    })
}

#[tokio::test]
async fn full_sync_of_a_window_is_exactly_the_ground_truth() {
    let env = Env::start(config(300)).await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(t0() - Duration::days(8));
    let (fetched, pages) = sync(&env.client, window, 0).await.unwrap();
    assert!(pages >= 7, "one page per day at least, got {pages}");
    let debug = format!("{fetched:?}");
    let mut synced = BTreeMap::new();
    upsert(&mut synced, fetched);
    let truth = env.truth();
    assert_exact(&synced, &truth);
    // The comparison is only as good as the variety in the world.
    for status in [
        OrderStatus::Open,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ] {
        assert!(truth.iter().any(|o| o.status == status), "{status:?}");
    }
    assert!(truth.iter().any(|o| o.customer.billing.is_none()));
    assert!(truth.iter().any(|o| o.customer.phone.is_some()));
    assert!(truth.iter().any(|o| o.order_number.as_str().contains('K')));
    // No personal value leaks into a Debug print of what the client returns.
    for o in &truth {
        let email = o.customer.email.as_deref().unwrap();
        let street = o
            .customer
            .shipping
            .as_ref()
            .unwrap()
            .street
            .as_deref()
            .unwrap();
        assert!(!debug.contains(email) && !debug.contains(street));
    }
    assert_eq!(env.tokens(), 1);
}

#[tokio::test]
async fn one_token_request_across_many_pages() {
    let env = Env::start(SandboxConfig {
        history: Duration::days(2),
        ..config(500)
    })
    .await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(t0() - Duration::days(3));
    let (fetched, pages) = sync(&env.client, window, 0).await.unwrap();
    assert!(pages >= 6, "got {pages} pages");
    assert!(env.probe.list_calls() >= 8, "several list pages per day");
    assert_eq!(fetched.len(), 500);
    assert_eq!(env.tokens(), 1, "the access token is cached across pages");
}

#[tokio::test]
async fn token_expiry_mid_paging_recovers_transparently() {
    let env = Env::start(config(300)).await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(t0() - Duration::days(8));
    let first = env.client.fetch_page(window, None).await.unwrap();
    assert!(!first.orders.is_empty());
    (env.sandbox.expire_tokens)();
    let mut fetched = first.orders;
    let mut token = first.next;
    while let Some(t) = token {
        let page = env.client.fetch_page(window, Some(t)).await.unwrap();
        fetched.extend(page.orders);
        token = page.next;
    }
    let mut synced = BTreeMap::new();
    upsert(&mut synced, fetched);
    assert_exact(&synced, &env.truth());
    assert_eq!(env.tokens(), 2, "one refresh after the Expired JWT");

    // And a token that simply ages out is replaced before it expires, without a 401.
    env.clock.advance(Duration::seconds(280));
    let recent = env.window_since(env.now() - Duration::minutes(15));
    sync(&env.client, recent, 0).await.unwrap();
    assert_eq!(env.tokens(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_hit_and_survived() {
    let env = Env::start(SandboxConfig {
        rate_limits: true,
        ..config(200)
    })
    .await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(t0() - Duration::days(8));

    // With the clock standing still the budget never refills: the client gives up with
    // RateLimited at the first 429, instead of hanging or retrying before bol's wait.
    env.probe.exhaust_rate_limits();
    let err = env.client.fetch_page(window, None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::RateLimited { .. }), "{err:?}");
    let throttled_while_frozen = env.probe.throttled();
    assert_eq!(
        throttled_while_frozen, 1,
        "no retry before the wait is over"
    );

    // With time moving (50x), a client that has not seen the headers yet runs into the
    // 429s, waits out Retry-After (or the reset when it is omitted) and finishes.
    let tick = ticker(&env.clock, Duration::milliseconds(50));
    let client = client_for(&env.sandbox, &env.clock, "sandbox-client", "sandbox-secret");
    // Keep the buckets empty until the client has run into a 429: at 50x, a loaded
    // machine's few milliseconds before the first call would otherwise refill them.
    let drain = {
        let probe = env.probe.clone();
        tokio::spawn(async move {
            while probe.throttled() <= throttled_while_frozen {
                probe.exhaust_rate_limits();
                tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            }
        })
    };
    let started = env.now();
    // A 429 whose wait outlasts the client's patience goes back to the worker, which
    // retries the page (the ticker keeps the clock moving meanwhile).
    let (fetched, _) = sync(&client, window, 50).await.unwrap();
    tick.abort();
    drain.abort();
    assert!(
        env.probe.throttled() > throttled_while_frozen,
        "429s were hit"
    );
    let mut synced = BTreeMap::new();
    upsert(&mut synced, fetched);
    assert_converged(&synced, &env.truth(), window, started);
    // Pacing on X-RateLimit-Remaining keeps 429s rare: far fewer than the calls made.
    let calls = env.probe.list_calls() + env.probe.detail_calls();
    assert!(
        env.probe.throttled() * 10 < calls,
        "{} 429s for {calls} calls",
        env.probe.throttled()
    );
}

#[tokio::test]
async fn injected_faults_still_converge_to_the_ground_truth() {
    let env = Env::start(SandboxConfig {
        fault_rate: 0.2,
        ..config(150)
    })
    .await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(t0() - Duration::days(8));
    // Injected 429s send the client back to the worker for the asked wait: the worker
    // retries the page once the (manual) clock has moved past it.
    let mut fetched = Vec::new();
    let mut token: Option<PageToken> = None;
    let mut failures = 0;
    loop {
        match env.client.fetch_page(window, token.clone()).await {
            Ok(page) => {
                fetched.extend(page.orders);
                match page.next {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
            Err(ConnectorError::RateLimited { retry_after }) if failures < 50 => {
                failures += 1;
                let wait = retry_after.unwrap_or(std::time::Duration::from_secs(1));
                env.clock.advance(Duration::from_std(wait).unwrap());
            }
            Err(ConnectorError::Unavailable(_)) if failures < 50 => failures += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    let mut synced = BTreeMap::new();
    upsert(&mut synced, fetched);
    assert_exact(&synced, &env.truth());
    assert!(
        env.probe.detail_calls() > 150 + 10,
        "faults forced retries: {} detail calls",
        env.probe.detail_calls()
    );
    assert!(env.probe.throttled() > 0);
}

#[tokio::test]
async fn empty_results_are_empty_pages() {
    let env = Env::start(config(0)).await;
    env.clock.advance(Duration::minutes(3));
    for from in [t0() - Duration::days(3), t0() - Duration::minutes(20)] {
        let page = env
            .client
            .fetch_page(env.window_since(from), None)
            .await
            .unwrap();
        assert!(page.orders.is_empty() && page.next.is_none());
    }
    // A world with orders, asked about a quiet stretch long before them.
    let env = Env::start(config(50)).await;
    let quiet = SyncWindow {
        from: t0() - Duration::days(60),
        to: t0() - Duration::days(50),
    };
    let page = env.client.fetch_page(quiet, None).await.unwrap();
    assert!(page.orders.is_empty() && page.next.is_none());
    // An inverted window asks nothing.
    let page = env
        .client
        .fetch_page(
            SyncWindow {
                from: t0(),
                to: t0() - Duration::hours(1),
            },
            None,
        )
        .await
        .unwrap();
    assert!(page.orders.is_empty() && page.next.is_none());
}

#[tokio::test]
async fn orders_arriving_mid_walk_are_not_lost_across_overlapping_windows() {
    let env = Env::start(SandboxConfig {
        orders: 900,
        history: Duration::hours(12),
        arrival_span: Duration::hours(3),
        ..config(0)
    })
    .await;
    let hints = env.client.sync_hints();
    let mut synced = BTreeMap::new();

    // Window 1 (a day walk): new orders land on top of the list between pages.
    let w1 = env.window_since(t0() - Duration::hours(11));
    let first = env.client.fetch_page(w1, None).await.unwrap();
    let mut pages = 1;
    upsert(&mut synced, first.orders);
    let mut token = first.next;
    while let Some(t) = token {
        env.clock.advance(Duration::minutes(4));
        let page = env.client.fetch_page(w1, Some(t)).await.unwrap();
        pages += 1;
        upsert(&mut synced, page.orders);
        token = page.next;
    }
    assert!(pages >= 4, "walked {pages} pages");
    let arrived: Vec<Order> = env
        .truth()
        .into_iter()
        .filter(|o| o.placed_at > t0())
        .collect();
    assert!(arrived.len() >= 10, "orders arrived during the walk");

    // Window 2 (the next poll, overlapping, an interval walk).
    env.clock.advance(Duration::minutes(5));
    let w2 = env.window_since(w1.to - hints.overlap);
    let (fetched, _) = sync(&env.client, w2, 0).await.unwrap();
    upsert(&mut synced, fetched);

    let truth = env.truth();
    let mut checked = 0;
    for t in truth
        .iter()
        .filter(|t| t.updated_at >= w1.from && t.updated_at <= w2.to)
    {
        let s = synced
            .get(t.order_number.as_str())
            .unwrap_or_else(|| panic!("order {} changed in the windows but lost", t.order_number));
        let d = diff(s, t);
        assert!(d.is_empty(), "order {} differs in {d:?}", t.order_number);
        checked += 1;
    }
    assert!(checked > 100, "checked {checked}");
    assert!(arrived
        .iter()
        .filter(|o| o.placed_at <= w2.to)
        .all(|o| synced.contains_key(o.order_number.as_str())));
}

#[tokio::test]
async fn orders_leaving_a_day_list_mid_walk_do_not_hide_others() {
    // Yesterday's orders ship while their day is being walked: they leave that day's list
    // and pull later orders forward onto pages already read.
    let env = Env::start(SandboxConfig {
        orders: 700,
        history: Duration::hours(30),
        ..config(0)
    })
    .await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(t0() - Duration::hours(30));
    let at_window_end = env.truth();
    let mut synced = BTreeMap::new();
    let mut token = None;
    loop {
        let page = env.client.fetch_page(window, token).await.unwrap();
        upsert(&mut synced, page.orders);
        match page.next {
            Some(t) => token = Some(t),
            None => break,
        }
        env.clock.advance(Duration::minutes(45));
    }
    let mut checked = 0;
    for t in at_window_end.iter().filter(|t| t.updated_at >= window.from) {
        assert!(
            synced.contains_key(t.order_number.as_str()),
            "order {} changed in the window but was skipped",
            t.order_number
        );
        checked += 1;
    }
    assert!(checked > 300, "checked {checked}");
}

#[tokio::test]
async fn a_slow_interval_walk_continues_by_day_instead_of_losing_orders() {
    // A recent window is walked with change-interval-minute; if paging takes so long that
    // the window start slides out of the interval, the walk must not silently lose orders.
    let env = Env::start(SandboxConfig {
        orders: 900,
        history: Duration::hours(12),
        ..config(0)
    })
    .await;
    env.clock.advance(Duration::minutes(3));
    let window = env.window_since(env.now() - Duration::minutes(40));
    let at_window_end = env.truth();
    let first = env.client.fetch_page(window, None).await.unwrap();
    let mut synced = BTreeMap::new();
    upsert(&mut synced, first.orders);
    let mut token = first.next;
    assert!(token.is_some(), "more than one page");
    env.clock.advance(Duration::minutes(30));
    while let Some(t) = token {
        let page = env.client.fetch_page(window, Some(t)).await.unwrap();
        upsert(&mut synced, page.orders);
        token = page.next;
    }
    let mut checked = 0;
    for t in at_window_end
        .iter()
        .filter(|t| t.updated_at >= window.from && t.updated_at <= window.to)
    {
        assert!(
            synced.contains_key(t.order_number.as_str()),
            "order {} changed in the window but was lost",
            t.order_number
        );
        checked += 1;
    }
    assert!(checked > 50, "checked {checked}");
}

/// The sandbox itself speaks bol: status codes, bodies, headers.
#[tokio::test]
async fn sandbox_speaks_the_bol_wire_format() {
    let env = Env::start(SandboxConfig {
        rate_limits: true,
        ..config(20)
    })
    .await;
    let base = format!("http://{}", env.sandbox.addr);
    let http = reqwest::Client::new();
    const V10: &str = "application/vnd.retailer.v10+json";

    let bad = http
        .post(format!("{base}/token?grant_type=client_credentials"))
        .basic_auth("sandbox-client", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    let tok: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tok["expires_in"], 299);
    assert_eq!(tok["token_type"], "Bearer");
    let access = tok["access_token"].as_str().unwrap().to_owned();
    assert_eq!(access.split('.').count(), 3, "JWT-shaped");

    let get = |path: &str, accept: &str| {
        http.get(format!("{base}{path}"))
            .bearer_auth(&access)
            .header("accept", accept)
            .send()
    };
    let r = get(
        "/retailer/orders?status=ALL&fulfilment-method=ALL",
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 406);

    let r = get("/retailer/orders?status=ALL&fulfilment-method=ALL", V10)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with(V10));
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    let list: serde_json::Value = r.json().await.unwrap();
    let orders = list["orders"].as_array().unwrap();
    let placed: Vec<&str> = orders
        .iter()
        .map(|o| o["orderPlacedDateTime"].as_str().unwrap())
        .collect();
    assert!(placed.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(placed[0].ends_with("+01:00"));
    assert!(
        orders[0].get("shipmentDetails").is_none(),
        "no PII in the list"
    );

    let r = get("/retailer/orders?change-interval-minute=61", V10)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["violations"][0]["name"], "change-interval-minute");

    let r = get(
        "/retailer/orders?status=ALL&fulfilment-method=ALL&latest-change-date=2026-01-20",
        V10,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "{}", "empty result is {{}}");

    let r = get("/retailer/orders/9999999999", V10).await.unwrap();
    assert_eq!(r.status(), 404);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["title"], "Not Found");
    assert_eq!(p["detail"], "Order for order id 9999999999 not found.");

    let id = orders[0]["orderId"].as_str().unwrap();
    let d: serde_json::Value = get(&format!("/retailer/orders/{id}"), V10)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(d["shipmentDetails"]["email"]
        .as_str()
        .unwrap()
        .ends_with("@verkopen.bol.com"));
    assert!(d["orderItems"][0]["unitPrice"].is_number());

    // Rate limit: 429 with the bol body once the budget is spent.
    env.probe.exhaust_rate_limits();
    let r = get("/retailer/orders?status=ALL", V10).await.unwrap();
    assert_eq!(r.status(), 429);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["title"], "Too Many Requests");

    env.clock.advance(Duration::seconds(300));
    let r = get("/retailer/orders?status=ALL", V10).await.unwrap();
    assert_eq!(r.status(), 401);
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["title"], "Expired JWT");
}

#[test]
fn sandbox_credentials_work_as_a_connection_file() {
    let c = SandboxCredentials::default();
    let file = serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret});
    let creds = BolCredentials::from_json(&file.to_string()).unwrap();
    assert_eq!(creds.client_id, "sandbox-client");
}
