//! The Amazon connector on Orders API v2026-01-01 (the default) against the Amazon
//! sandbox: the shared contract suite, plus v2026's own behaviour: one searchOrders call
//! per page (no RDT, no per-order calls), its usage plan (0.0056 rps, burst 20) and what
//! `x-amzn-RateLimit-Limit` announces, a 429 that costs one refill and no more,
//! `paginationToken` bound to the filters and expiring after 24 hours, and getOrder.
//! Time is a `ManualClock` moved by the client's `ClockSleeper`.

use crate::contract;

use std::sync::Arc;

use crate::contract::{assert_converged, t0, Harness, Store, Target};
use chrono::Duration;
use ordervault_connectors::amazon::{
    AmazonClient, AmazonConfig, AmazonCredentials, ApiVersion, ClockSleeper,
};
use ordervault_connectors::clock::{Clock, ManualClock};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::sandbox::amazon::{self as sandbox, AmazonSandboxOptions};
use ordervault_connectors::sandbox::SandboxConfig;
use ordervault_connectors::{
    ConnectionSettings, ConnectorError, FetchedOrder, Marketplace, MarketplaceKind, OrderNumber,
    SyncWindow,
};

contract_suite!(v2026_target());

fn v2026_target() -> Target {
    Target {
        rate_limits: true,
        ..Target::new(MarketplaceKind::Amazon)
    }
}

const CONNECTION_FILE: &str = r#"{"client_id":"sandbox-client","client_secret":"sandbox-secret","refresh_token":"sandbox-refresh-token"}"#;

struct Env {
    clock: ManualClock,
    handle: ordervault_connectors::sandbox::SandboxHandle,
    stats: Arc<sandbox::AmazonSandboxStats>,
}

async fn env(config: SandboxConfig, options: AmazonSandboxOptions) -> Env {
    let clock = ManualClock::new(t0());
    let (handle, stats) = sandbox::start_with(config, Arc::new(clock.clone()), options)
        .await
        .unwrap();
    clock.advance(Duration::minutes(5));
    Env {
        clock,
        handle,
        stats,
    }
}

impl Env {
    fn client(&self, page_size: u8, retry: RetryPolicy) -> AmazonClient {
        let mut cfg = AmazonConfig::for_base(&self.handle.base_url());
        cfg.page_size = page_size;
        assert_eq!(cfg.api_version, ApiVersion::V2026, "v2026 is the default");
        AmazonClient::new(
            cfg,
            AmazonCredentials::from_json(CONNECTION_FILE).unwrap(),
            Arc::new(self.clock.clone()),
            retry,
        )
        .with_sleeper(Arc::new(ClockSleeper::Manual(self.clock.clone())))
    }

    fn window(&self, days: i64) -> SyncWindow {
        SyncWindow {
            from: t0() - Duration::days(days),
            to: self.clock.now() - Duration::minutes(3),
        }
    }

    fn get(&self, c: &std::sync::atomic::AtomicU64) -> u64 {
        sandbox::AmazonSandboxStats::get(c)
    }
}

async fn sync_all(client: &AmazonClient, window: SyncWindow) -> Store {
    let mut store = Store::default();
    let mut next = None;
    loop {
        let page = client.fetch_page(window, next.take()).await.unwrap();
        store.absorb(page.orders);
        match page.next {
            Some(t) => next = Some(t),
            None => return store,
        }
    }
}

/// One searchOrders call per page and nothing else: no RDT, no getOrderItems; paced to
/// the plan (burst 20, then one call per 1/0.0056 s), never throttled.
#[tokio::test]
async fn a_page_is_one_search_orders_call_paced_to_the_usage_plan() {
    let e = env(
        SandboxConfig {
            orders: 300,
            ..SandboxConfig::default()
        },
        AmazonSandboxOptions::default(),
    )
    .await;
    let client = e.client(10, RetryPolicy::fast());
    let window = e.window(8);
    let started = e.clock.now();
    let store = sync_all(&client, window).await;
    let calls = e.get(&e.stats.search_orders);
    assert_eq!(calls as usize, store.pages);
    assert!(calls >= 25, "{calls} pages");
    assert_eq!(e.get(&e.stats.get_orders), 0);
    assert_eq!(e.get(&e.stats.get_order_items), 0);
    assert_eq!(e.get(&e.stats.restricted_data_tokens), 0);
    assert_eq!(e.get(&e.stats.throttled), 0, "paced, never throttled");
    let waited = (e.clock.now() - started).num_seconds() as f64;
    let expected = (calls - 20) as f64 / 0.0056;
    assert!(
        waited >= expected - 2.0 && waited <= expected + (calls as f64),
        "waited {waited} s for {calls} calls, plan says {expected} s"
    );
    assert_converged(&store, &(e.handle.ground_truth)(), window, &[]);
}

/// Amazon granted a larger plan and says so in `x-amzn-RateLimit-Limit`: the client
/// paces at the announced rate from the first answer on.
#[tokio::test]
async fn the_announced_rate_limit_replaces_the_documented_one() {
    let e = env(
        SandboxConfig {
            orders: 300,
            ..SandboxConfig::default()
        },
        AmazonSandboxOptions {
            search_orders_plan: Some((0.05, 20)),
            ..AmazonSandboxOptions::default()
        },
    )
    .await;
    let client = e.client(10, RetryPolicy::fast());
    let started = e.clock.now();
    let store = sync_all(&client, e.window(8)).await;
    assert_eq!(
        client.current_plan("searchOrders").map(|p| p.rate),
        Some(0.05)
    );
    let calls = store.pages as f64;
    let waited = (e.clock.now() - started).num_seconds() as f64;
    let expected = (calls - 20.0) / 0.05;
    assert!(
        waited <= expected + calls,
        "waited {waited} s for {calls} calls at 0.05 rps ({expected} s)"
    );
    assert_eq!(e.get(&e.stats.throttled), 0);
}

/// Another app of the seller spent the bucket: the 429 (no Retry-After on Amazon) costs
/// one refill interval (1/0.0056 s ≈ 179 s) and no more; with no retries left the error
/// says that interval.
#[tokio::test]
async fn a_429_costs_one_refill_and_no_more() {
    let e = env(
        SandboxConfig {
            orders: 50,
            ..SandboxConfig::default()
        },
        AmazonSandboxOptions::default(),
    )
    .await;
    let window = e.window(8);
    let other_app = e.client(100, RetryPolicy::fast());
    for _ in 0..20 {
        other_app.fetch_page(window, None).await.unwrap();
    }
    let no_retries = e.client(
        100,
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::fast()
        },
    );
    match no_retries.fetch_page(window, None).await {
        Err(ConnectorError::RateLimited {
            retry_after: Some(d),
        }) => assert!((178..=180).contains(&d.as_secs()), "{d:?}"),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    let patient = e.client(100, RetryPolicy::fast());
    let before = e.clock.now();
    let page = patient.fetch_page(window, None).await.unwrap();
    assert!(!page.orders.is_empty());
    let waited = (e.clock.now() - before).num_milliseconds();
    assert!(
        (178_000..=181_000).contains(&waited),
        "one 429 cost {waited} ms"
    );
    assert_eq!(e.get(&e.stats.throttled), 2);
}

/// getOrder re-reads one order with everything a sync stores; an unknown id is `None`.
#[tokio::test]
async fn get_order_refreshes_one_order() {
    let e = env(
        SandboxConfig {
            orders: 30,
            ..SandboxConfig::default()
        },
        AmazonSandboxOptions::default(),
    )
    .await;
    let client = e.client(100, RetryPolicy::fast());
    let truth = (e.handle.ground_truth)();
    let want = truth
        .iter()
        .find(|o| o.customer.shipping.is_some())
        .unwrap();
    match client.get_order(&want.order_number).await.unwrap() {
        Some(FetchedOrder::Ok(o)) => assert!(contract::diff(&o, want).is_empty()),
        other => panic!("expected the order, got {other:?}"),
    }
    let unknown = OrderNumber::parse("999-0000000-0000000").unwrap();
    assert!(client.get_order(&unknown).await.unwrap().is_none());
}

/// The sandbox speaks v2026-01-01: no envelope, `includedData` decides what is rendered,
/// `x-amzn-RateLimit-Limit: 0.0056`, `paginationToken` bound to the filters and dead
/// after 24 hours, and the usual validation.
#[tokio::test]
async fn the_sandbox_speaks_orders_v2026() {
    let e = env(
        SandboxConfig {
            orders: 40,
            ..SandboxConfig::default()
        },
        AmazonSandboxOptions::default(),
    )
    .await;
    let base = e.handle.base_url();
    let http = reqwest::Client::new();
    let lwa: serde_json::Value = http
        .post(e.handle.auth_url(MarketplaceKind::Amazon))
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
    let token = lwa["access_token"].as_str().unwrap().to_string();
    let from = (t0() - Duration::days(8)).to_rfc3339();
    let to = (t0() - Duration::minutes(3)).to_rfc3339();
    let search = |q: Vec<(&'static str, String)>| {
        http.get(format!("{base}/orders/2026-01-01/orders"))
            .header("x-amz-access-token", token.clone())
            .query(&q)
            .send()
    };
    let q = vec![
        ("marketplaceIds", "A1805IZSGTT6HS".to_string()),
        ("lastUpdatedAfter", from.clone()),
        ("lastUpdatedBefore", to.clone()),
        ("maxResultsPerPage", "5".to_string()),
        ("includedData", "BUYER,FULFILLMENT".to_string()),
    ];
    let r = search(q.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-amzn-RateLimit-Limit"], "0.0056");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body.get("payload").is_none(), "no v0 envelope");
    let orders = body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 5);
    assert!(orders[0]["buyer"]["buyerEmail"].is_string());
    assert!(orders[0].get("recipient").is_none(), "RECIPIENT not asked");
    assert!(orders[0].get("proceeds").is_none(), "PROCEEDS not asked");
    assert!(orders[0]["fulfillment"]["fulfillmentStatus"].is_string());
    assert!(orders[0]["orderItems"][0]["product"]["title"].is_string());
    let next = body["pagination"]["nextToken"]
        .as_str()
        .unwrap()
        .to_string();

    // The token needs the same filters; a changed filter is 400 InvalidInput.
    let mut changed = q.clone();
    changed[1].1 = (t0() - Duration::days(7)).to_rfc3339();
    changed.push(("paginationToken", next.clone()));
    let r = search(changed).await.unwrap();
    assert_eq!(r.status(), 400);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["errors"][0]["code"], "InvalidInput");
    let mut same = q.clone();
    same.push(("paginationToken", next.clone()));
    assert_eq!(search(same.clone()).await.unwrap().status(), 200);

    // Unknown includedData and a too-recent lastUpdatedBefore are 400s.
    let mut bad = q.clone();
    bad[4].1 = "EVERYTHING".into();
    assert_eq!(search(bad).await.unwrap().status(), 400);
    let mut recent = q.clone();
    recent[2].1 = (e.clock.now() - Duration::seconds(30)).to_rfc3339();
    assert_eq!(search(recent).await.unwrap().status(), 400);

    // A day later the pagination token has expired (the LWA token too: get a new one).
    e.clock.advance(Duration::hours(25));
    let r = http
        .get(format!("{base}/orders/2026-01-01/orders"))
        .header("x-amz-access-token", token.clone())
        .query(&same)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the LWA token expired after an hour");
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        err["errors"][0]["details"],
        "The access token you provided has expired."
    );
    let lwa: serde_json::Value = http
        .post(e.handle.auth_url(MarketplaceKind::Amazon))
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
    let fresh = lwa["access_token"].as_str().unwrap().to_string();
    let r = http
        .get(format!("{base}/orders/2026-01-01/orders"))
        .header("x-amz-access-token", fresh)
        .query(&same)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: serde_json::Value = r.json().await.unwrap();
    assert!(
        err["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{err}"
    );
}

/// A connection on the connector seam with an Amazon region and marketplaces reaches
/// the sandbox with exactly those marketplace ids.
#[tokio::test]
async fn connect_sends_the_connections_marketplaces() {
    let h = Harness::start(&v2026_target(), SandboxConfig::default()).await;
    let de = ConnectionSettings {
        marketplace_ids: vec!["A1PA6795UKMFR9".into()],
        ..h.settings()
    };
    let client = h.client_with(&de, &h.connection_file(), RetryPolicy::fast());
    let page = client
        .fetch_page(h.window(&*client, t0() - Duration::days(8)), None)
        .await
        .unwrap();
    assert!(
        page.orders.is_empty(),
        "the sandbox sells on Amazon.nl only"
    );
    let client = h.client();
    let page = client
        .fetch_page(h.window(&*client, t0() - Duration::days(8)), None)
        .await
        .unwrap();
    assert!(!page.orders.is_empty());
}

/// Measurement, not a check (`cargo test --release --test amazon_v2026 -- --ignored
/// --nocapture`): the first sync of 20,000 Amazon orders against the sandbox with the real
/// searchOrders usage plan (0.0056 rps, burst 20), on the injected clock, and the same
/// sync when another app of the seller takes one token mid-way (one 429).
#[tokio::test]
#[ignore]
async fn measure_first_sync_of_20000_orders() {
    for with_429 in [false, true] {
        let e = env(
            SandboxConfig {
                orders: 20_000,
                history: Duration::days(7),
                arrival_span: Duration::zero(),
                ..SandboxConfig::default()
            },
            AmazonSandboxOptions::default(),
        )
        .await;
        let client = e.client(100, RetryPolicy::fast());
        let other_app = e.client(
            100,
            RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::fast()
            },
        );
        let window = e.window(8);
        let started_virtual = e.clock.now();
        let started_real = std::time::Instant::now();
        let mut store = Store::default();
        let mut next = None;
        loop {
            if with_429 && store.pages == 100 {
                // Just before our next paced call, the other app spends the refilled token.
                e.clock.advance(Duration::milliseconds(178_572));
                other_app.fetch_page(window, None).await.unwrap();
            }
            let page = client.fetch_page(window, next.take()).await.unwrap();
            store.absorb(page.orders);
            match page.next {
                Some(t) => next = Some(t),
                None => break,
            }
        }
        let virtual_secs = (e.clock.now() - started_virtual).num_milliseconds() as f64 / 1000.0;
        println!(
            "first sync, 20,000 orders{}: {} orders, {} pages, {} searchOrders calls, {} 429s, \
             {:.0} s on Amazon's clock ({:.2} h), {:.1} s real",
            if with_429 { ", one 429 mid-way" } else { "" },
            store.orders.len(),
            store.pages,
            e.get(&e.stats.search_orders),
            e.get(&e.stats.throttled),
            virtual_secs,
            virtual_secs / 3600.0,
            started_real.elapsed().as_secs_f64()
        );
        // Orders that change again during the hours of paging leave this window's
        // listing and come with the next, overlapping one.
        assert!(store.failed.is_empty(), "{:?}", store.failed);
    }
}
