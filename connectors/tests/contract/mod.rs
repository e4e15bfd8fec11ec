//! The Marketplace contract suite: shared test functions that every connector's test file
//! calls (object_store's `integration.rs` style), so a new marketplace gets the suite by
//! adding one `contract::suite!` line. Each function builds its client through the
//! connector seam (`connect(kind, settings, credentials, clock)`) against the kind's
//! sandbox (`sandbox::start(kind, …)`), on a `ManualClock`, and checks the outcome
//! against the sandbox's ground truth, field by field, personal data included.
//!
//! What every connector must do:
//! - a full sync equals the ground truth, with one token across all pages;
//! - a token that expires mid-paging is renewed once, transparently;
//! - revoked or wrong credentials end in `NeedsReauth`, without the secret in the text;
//! - a malformed order fails alone, naming fields, never a personal value;
//! - an empty window is one empty page;
//! - orders arriving while paging are caught by the next, overlapping window;
//! - a 429 with `Retry-After` costs at most that wait; one without it is survived;
//! - a 502 with an HTML body is retried.
//!
//! The 429 and HTML cases go through a fault-injecting proxy (`proxy.rs`) in front of the
//! API, while auth goes straight to the sandbox: `--base-url` and `--auth-url` at work.
#![allow(dead_code)]

pub mod proxy;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordervault_connectors::amazon::ClockSleeper;
use ordervault_connectors::clock::{Clock, ManualClock};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::sandbox::{self, SandboxConfig, SandboxHandle};
use ordervault_connectors::{
    connect, ConnectOptions, ConnectionSettings, ConnectorError, FetchedOrder, Marketplace,
    MarketplaceKind, Order, OrderStatus, PageToken, SyncWindow,
};

use proxy::{Fault, Proxy};

/// What a connector's test file runs the suite against.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: MarketplaceKind,
    /// Settings beyond the sandbox's URLs (e.g. Amazon's `api_version`).
    pub settings: ConnectionSettings,
    /// Whether the sandbox's rate limits stay on: only for clients that pace themselves
    /// on the injected clock (Amazon), so the suite also proves they never earn a 429.
    pub rate_limits: bool,
}

impl Target {
    pub fn new(kind: MarketplaceKind) -> Self {
        Self {
            kind,
            settings: ConnectionSettings::default(),
            rate_limits: false,
        }
    }
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

/// A sandbox of the target's kind on a manual clock, and clients for it.
pub struct Harness {
    pub target: Target,
    pub clock: ManualClock,
    pub sandbox: SandboxHandle,
    pub config: SandboxConfig,
}

impl Harness {
    pub async fn start(target: &Target, config: SandboxConfig) -> Self {
        let clock = ManualClock::new(t0());
        let config = SandboxConfig {
            rate_limits: target.rate_limits,
            ..config
        };
        let sandbox = sandbox::start(target.kind, config.clone(), Arc::new(clock.clone()))
            .await
            .expect("sandbox starts");
        // Past the visibility delay of every marketplace, so windows can end at t0.
        clock.advance(Duration::minutes(5));
        Self {
            target: target.clone(),
            clock,
            sandbox,
            config,
        }
    }

    pub fn settings(&self) -> ConnectionSettings {
        let s = self.sandbox.settings(self.target.kind);
        ConnectionSettings {
            base_url: s.base_url,
            auth_url: s.auth_url,
            ..self.target.settings.clone()
        }
    }

    fn options(&self, retry: RetryPolicy) -> ConnectOptions {
        ConnectOptions {
            retry,
            amazon_sleeper: Some(Arc::new(ClockSleeper::Manual(self.clock.clone()))),
            ..ConnectOptions::default()
        }
    }

    pub fn connection_file(&self) -> String {
        self.config.credentials.connection_file(self.target.kind)
    }

    /// A client built through the connector seam, as the service builds it.
    pub fn client(&self) -> Arc<dyn Marketplace> {
        self.client_with(
            &self.settings(),
            &self.connection_file(),
            RetryPolicy::fast(),
        )
    }

    pub fn client_with(
        &self,
        settings: &ConnectionSettings,
        credentials: &str,
        retry: RetryPolicy,
    ) -> Arc<dyn Marketplace> {
        connect(
            self.target.kind,
            settings,
            credentials,
            Arc::new(self.clock.clone()),
            &self.options(retry),
        )
        .expect("connect")
    }

    /// A client whose API calls go through `proxy`, auth straight to the sandbox.
    pub fn proxied_client(&self, proxy: &Proxy) -> Arc<dyn Marketplace> {
        let settings = ConnectionSettings {
            base_url: Some(proxy.base_url()),
            ..self.settings()
        };
        self.client_with(&settings, &self.connection_file(), RetryPolicy::fast())
    }

    pub fn truth(&self) -> Vec<Order> {
        (self.sandbox.ground_truth)()
    }

    pub fn tokens(&self) -> u64 {
        (self.sandbox.token_requests)()
    }

    /// A window from `from` to where the sync loop would end it now.
    pub fn window(&self, client: &dyn Marketplace, from: DateTime<Utc>) -> SyncWindow {
        SyncWindow {
            from,
            to: self.clock.now() - client.sync_hints().visibility_delay,
        }
    }
}

/// What the service's store would hold: one order per number, the newer update wins;
/// failed orders listed with their (field-naming) errors.
#[derive(Default, Debug)]
pub struct Store {
    pub orders: BTreeMap<String, Order>,
    pub failed: Vec<(String, String)>,
    pub pages: usize,
    /// Virtual time the worker waited on `RateLimited` answers.
    pub waited: Duration,
}

impl Store {
    pub fn absorb(&mut self, page: Vec<FetchedOrder>) {
        self.pages += 1;
        for f in page {
            match f {
                FetchedOrder::Ok(o) => {
                    let key = o.order_number.as_str().to_owned();
                    if self
                        .orders
                        .get(&key)
                        .is_none_or(|old| o.updated_at >= old.updated_at)
                    {
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

    /// Pages through `window` like the sync worker: `RateLimited` and `Unavailable`
    /// pages are retried after the wait the client reports (moving the manual clock),
    /// up to `retries` times.
    pub async fn sync(
        &mut self,
        h: &Harness,
        client: &dyn Marketplace,
        window: SyncWindow,
        retries: u32,
    ) -> Result<(), ConnectorError> {
        let mut next: Option<PageToken> = None;
        let mut failures = 0;
        loop {
            match client.fetch_page(window, next.clone()).await {
                Ok(page) => {
                    self.absorb(page.orders);
                    match page.next {
                        Some(t) => next = Some(t),
                        None => return Ok(()),
                    }
                }
                Err(ConnectorError::RateLimited { retry_after }) if failures < retries => {
                    failures += 1;
                    let wait = retry_after
                        .and_then(|d| Duration::from_std(d).ok())
                        .unwrap_or(Duration::seconds(1));
                    self.waited += wait;
                    h.clock.advance(wait);
                }
                Err(ConnectorError::Unavailable(_)) if failures < retries => failures += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Names the fields in which two canonical orders differ (never their values).
pub fn diff(a: &Order, b: &Order) -> Vec<&'static str> {
    let mut d = Vec::new();
    let mut check = |same: bool, name| {
        if !same {
            d.push(name)
        }
    };
    check(a.marketplace == b.marketplace, "marketplace");
    check(a.order_number == b.order_number, "order_number");
    check(a.status == b.status, "status");
    check(a.placed_at == b.placed_at, "placed_at");
    check(a.updated_at == b.updated_at, "updated_at");
    check(a.fulfilled_at == b.fulfilled_at, "fulfilled_at");
    check(a.cancelled_at == b.cancelled_at, "cancelled_at");
    check(a.currency == b.currency, "currency");
    check(a.total_minor == b.total_minor, "total_minor");
    check(a.country_code == b.country_code, "country_code");
    check(a.lines == b.lines, "lines");
    check(a.customer.email == b.customer.email, "customer.email");
    check(a.customer.phone == b.customer.phone, "customer.phone");
    check(
        a.customer.shipping == b.customer.shipping,
        "customer.shipping",
    );
    check(a.customer.billing == b.customer.billing, "customer.billing");
    check(
        a.customer.delivery_notes == b.customer.delivery_notes,
        "customer.delivery_notes",
    );
    check(a == b, "(whole order)");
    d
}

/// Every order the truth says changed inside the window is stored, exactly (unless in
/// `skip`); anything stored beyond it changed after the window (harmless on upsert).
/// Returns how many orders were compared.
pub fn assert_converged(
    store: &Store,
    truth: &[Order],
    window: SyncWindow,
    skip: &[String],
) -> usize {
    let mut compared = 0;
    for t in truth {
        let key = t.order_number.as_str();
        if skip.iter().any(|s| s == key) || t.updated_at < window.from || t.updated_at > window.to {
            continue;
        }
        let got = store
            .orders
            .get(key)
            .unwrap_or_else(|| panic!("order {key} is missing"));
        let d = diff(got, t);
        assert!(d.is_empty(), "order {key} differs in {d:?}");
        compared += 1;
    }
    let known: std::collections::HashSet<&str> =
        truth.iter().map(|o| o.order_number.as_str()).collect();
    for key in store.orders.keys() {
        assert!(
            known.contains(key.as_str()),
            "order {key} is not in the truth"
        );
    }
    compared
}

/// Every personal value of `truth`, for leak checks.
pub fn personal_values(truth: &[Order]) -> Vec<String> {
    let mut out = Vec::new();
    for o in truth {
        let c = &o.customer;
        out.extend(c.email.iter().map(|v| v.as_str().to_owned()));
        out.extend(c.phone.iter().map(|v| v.as_str().to_owned()));
        for a in [&c.shipping, &c.billing].into_iter().flatten() {
            for v in [
                &a.first_name,
                &a.last_name,
                &a.company,
                &a.street,
                &a.house_number,
                &a.postcode,
                &a.city,
            ]
            .into_iter()
            .flatten()
            {
                // Short all-digit values (house numbers, some postcodes) also occur in
                // ids and prices; they prove nothing either way.
                let id_like = v.len() < 8 && v.bytes().all(|b| b.is_ascii_digit());
                if !id_like && v.len() > 2 {
                    out.push(v.as_str().to_owned());
                }
            }
        }
    }
    out
}

fn config(orders: usize) -> SandboxConfig {
    SandboxConfig {
        orders,
        seed: 7,
        arrival_span: Duration::zero(),
        ..SandboxConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The contract.

/// A full sync of a week equals the ground truth, with one token for all pages.
pub async fn full_sync_equals_ground_truth(t: Target) {
    let h = Harness::start(&t, config(250)).await;
    let client = h.client();
    let window = h.window(&*client, t0() - Duration::days(8));
    let mut store = Store::default();
    store.sync(&h, &*client, window, 0).await.unwrap();
    let truth = h.truth();
    let n = assert_converged(&store, &truth, window, &[]);
    assert!(n >= 200, "only {n} orders compared");
    assert!(store.failed.is_empty(), "{:?}", store.failed);
    assert!(store.pages >= 2, "{} pages", store.pages);
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
    let addressed = store
        .orders
        .values()
        .filter(|o| {
            o.customer
                .shipping
                .as_ref()
                .is_some_and(|a| a.street.is_some() && a.city.is_some())
        })
        .count();
    assert!(addressed > n / 2, "personal data came through: {addressed}");
    assert_eq!(h.tokens(), 1, "one token across {} pages", store.pages);
}

/// The access token expires between two pages: one refresh, nothing lost.
pub async fn expired_token_mid_paging(t: Target) {
    let h = Harness::start(&t, config(250)).await;
    let client = h.client();
    let window = h.window(&*client, t0() - Duration::days(8));
    let first = client.fetch_page(window, None).await.unwrap();
    assert!(first.next.is_some(), "needs more than one page");
    let mut store = Store::default();
    store.absorb(first.orders);
    (h.sandbox.expire_tokens)();
    let mut next = first.next;
    while let Some(token) = next.take() {
        let page = client.fetch_page(window, Some(token)).await.unwrap();
        store.absorb(page.orders);
        next = page.next;
    }
    assert_converged(&store, &h.truth(), window, &[]);
    assert_eq!(h.tokens(), 2, "exactly one refresh after the expiry");
}

/// Revoked mid-paging, or a wrong secret from the start: `NeedsReauth`, and the secret
/// is not in the message.
pub async fn revoked_credentials_need_reauth(t: Target) {
    let h = Harness::start(&t, config(250)).await;
    let client = h.client();
    let window = h.window(&*client, t0() - Duration::days(8));
    let first = client.fetch_page(window, None).await.unwrap();
    (h.sandbox.revoke_credentials)();
    (h.sandbox.expire_tokens)();
    let err = client.fetch_page(window, first.next).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NeedsReauth { .. }), "{err:?}");
    let secret = &h.config.credentials.client_secret;
    assert!(!err.to_string().contains(secret.as_str()));

    let h = Harness::start(&t, config(10)).await;
    let wrong = h
        .connection_file()
        .replace(&h.config.credentials.client_secret, "not-the-secret");
    let client = h.client_with(&h.settings(), &wrong, RetryPolicy::fast());
    let err = client
        .fetch_page(h.window(&*client, t0() - Duration::days(1)), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NeedsReauth { .. }), "{err:?}");
    assert!(!err.to_string().contains("not-the-secret"), "{err}");
}

/// Two malformed orders fail alone: the rest is exact, errors name fields, and no
/// personal value of any order is in an error or in the page's `Debug` output.
pub async fn malformed_order_fails_alone(t: Target) {
    let h = Harness::start(
        &t,
        SandboxConfig {
            malformed_orders: 2,
            ..config(60)
        },
    )
    .await;
    let client = h.client();
    let window = h.window(&*client, t0() - Duration::days(8));
    let mut store = Store::default();
    store.sync(&h, &*client, window, 0).await.unwrap();
    let truth = h.truth();
    assert_eq!(store.failed.len(), 2, "{:?}", store.failed);
    let bad: Vec<String> = store.failed.iter().map(|(id, _)| id.clone()).collect();
    for id in &bad {
        assert!(
            truth.iter().any(|o| o.order_number.as_str() == id),
            "failure names a real order id: {id}"
        );
    }
    let n = assert_converged(&store, &truth, window, &bad);
    assert!(n >= 50, "the rest still came: {n}");
    let errors = format!("{:?}", store.failed);
    let debug = format!("{:?}", store.orders);
    for v in personal_values(&truth) {
        assert!(!errors.contains(&v), "an error leaks a personal value");
        assert!(!debug.contains(&v), "Debug output leaks a personal value");
    }
}

/// A window with no changes is one empty page.
pub async fn empty_window_is_an_empty_page(t: Target) {
    let h = Harness::start(&t, config(30)).await;
    let client = h.client();
    let quiet = SyncWindow {
        from: t0() - Duration::days(60),
        to: t0() - Duration::days(59),
    };
    let page = client.fetch_page(quiet, None).await.unwrap();
    assert!(page.orders.is_empty() && page.next.is_none());
}

/// Orders keep arriving and changing while a window is paged; the next window, which
/// overlaps the last by `sync_hints().overlap`, catches every one.
pub async fn late_arrivals_are_caught_by_the_next_window(t: Target) {
    let h = Harness::start(
        &t,
        SandboxConfig {
            history: Duration::days(1),
            arrival_span: Duration::hours(3),
            ..config(150)
        },
    )
    .await;
    let client = h.client();
    let hints = client.sync_hints();
    let start = t0() - Duration::days(2);
    let w1 = h.window(&*client, start);
    let mut store = Store::default();
    let mut next = None;
    loop {
        let page = client.fetch_page(w1, next.take()).await.unwrap();
        store.absorb(page.orders);
        h.clock.advance(Duration::minutes(5));
        match page.next {
            Some(t) => next = Some(t),
            None => break,
        }
    }
    h.clock.advance(Duration::minutes(90));
    let w2 = SyncWindow {
        from: w1.to - hints.overlap,
        to: h.clock.now() - hints.visibility_delay,
    };
    store.sync(&h, &*client, w2, 0).await.unwrap();
    let truth = h.truth();
    let arrived = truth
        .iter()
        .filter(|o| o.placed_at > w1.to && o.updated_at <= w2.to)
        .count();
    assert!(
        arrived >= 5,
        "only {arrived} orders arrived during the first sync"
    );
    assert_converged(
        &store,
        &truth,
        SyncWindow {
            from: start,
            to: w2.to,
        },
        &[],
    );
}

/// 429s with `Retry-After: 7`: the sync converges and the throttling costs at most the
/// wait asked for per 429 (virtual time), not a fixed penalty per window.
pub async fn throttled_with_retry_after_costs_at_most_the_wait(t: Target) {
    let h = Harness::start(&t, config(120)).await;
    let proxy = Proxy::start(h.sandbox.addr, Arc::new(h.clock.clone())).await;
    let client = h.proxied_client(&proxy);
    let window = h.window(&*client, t0() - Duration::days(8));
    proxy.inject(
        Fault::TooManyRequests {
            retry_after: Some(7),
        },
        2,
    );
    let mut store = Store::default();
    store.sync(&h, &*client, window, 10).await.unwrap();
    assert_eq!(proxy.injected(), 2);
    assert_converged(&store, &h.truth(), window, &[]);
    // What each 429 cost: the time until the client's next request. At least the wait
    // asked for (no hammering) and at most it (no fixed penalty on top).
    let waits = proxy.waits_after_faults();
    // (eBay's faults may land on its rate-limit report, which is not retried.)
    assert!(!waits.is_empty(), "the throttled call was retried");
    for w in waits {
        let ms = w.num_milliseconds();
        assert!(
            (7_000..=7_100).contains(&ms),
            "a 7 s Retry-After cost {ms} ms"
        );
    }
}

/// 429s without `Retry-After`: the client backs off by what the API documents (Amazon:
/// one refill of the operation's bucket; bol: the rate-limit reset; eBay: the quota
/// report) and the sync converges.
pub async fn throttled_without_retry_after_is_survived(t: Target) {
    let h = Harness::start(&t, config(120)).await;
    let proxy = Proxy::start(h.sandbox.addr, Arc::new(h.clock.clone())).await;
    let client = h.proxied_client(&proxy);
    let window = h.window(&*client, t0() - Duration::days(8));
    proxy.inject(Fault::TooManyRequests { retry_after: None }, 2);
    let mut store = Store::default();
    store.sync(&h, &*client, window, 10).await.unwrap();
    assert_eq!(proxy.injected(), 2);
    assert_converged(&store, &h.truth(), window, &[]);
}

/// A load balancer's 502 HTML page is retried, then the sync converges.
pub async fn html_502_is_retried(t: Target) {
    let h = Harness::start(&t, config(120)).await;
    let proxy = Proxy::start(h.sandbox.addr, Arc::new(h.clock.clone())).await;
    let client = h.proxied_client(&proxy);
    let window = h.window(&*client, t0() - Duration::days(8));
    proxy.inject(Fault::BadGatewayHtml, 3);
    let mut store = Store::default();
    store.sync(&h, &*client, window, 5).await.unwrap();
    assert_eq!(proxy.injected(), 3);
    assert_converged(&store, &h.truth(), window, &[]);
}

/// Generates one `#[tokio::test]` per contract function for a target expression
/// (`#[macro_use] mod contract;` then `contract_suite!(target());`).
macro_rules! contract_suite {
    ($target:expr) => {
        contract_suite!(@tests $target;
            full_sync_equals_ground_truth,
            expired_token_mid_paging,
            revoked_credentials_need_reauth,
            malformed_order_fails_alone,
            empty_window_is_an_empty_page,
            late_arrivals_are_caught_by_the_next_window,
            throttled_with_retry_after_costs_at_most_the_wait,
            throttled_without_retry_after_is_survived,
            html_502_is_retried
        );
    };
    (@tests $target:expr; $($name:ident),*) => {
        mod contract_tests {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    super::contract::$name($target).await;
                }
            )*
        }
    };
}
