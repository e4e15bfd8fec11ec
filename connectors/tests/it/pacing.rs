//! Pacing follows what each API states: a limited sandbox is never exceeded, an unlimited
//! one is not paced at all, and a connection's own cap holds whatever the API allows.
//!
//! Clients are built the way the service builds them (`connect` with default options),
//! wait through a `ClockSleeper` on the `ManualClock` the sandbox shares, and the sandbox
//! counts the calls it lets through per second of that clock: no timing assertions.
#![cfg(feature = "sandbox")]

use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ordervault_connectors::amazon::ClockSleeper;
use ordervault_connectors::cap::RequestRate;
use ordervault_connectors::clock::{Clock, ManualClock};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::sandbox::ebay::{self as ebay_sandbox, EbaySandboxOptions};
use ordervault_connectors::sandbox::{self, SandboxConfig};
use ordervault_connectors::{
    connect, ConnectOptions, ConnectionSettings, ConnectorError, Marketplace, MarketplaceKind,
    PageToken, SyncWindow,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap()
}

/// The service's options, waiting on the test clock.
fn options(clock: &ManualClock) -> ConnectOptions {
    ConnectOptions {
        retry: RetryPolicy::fast(),
        amazon_sleeper: Some(Arc::new(ClockSleeper::Manual(clock.clone()))),
        ..ConnectOptions::default()
    }
}

fn client(
    kind: MarketplaceKind,
    handle: &sandbox::SandboxHandle,
    config: &SandboxConfig,
    clock: &ManualClock,
    cap: Option<f64>,
) -> Arc<dyn Marketplace> {
    let settings = ConnectionSettings {
        max_requests_per_second: cap.map(|c| RequestRate::new(c).unwrap()),
        ..handle.settings(kind)
    };
    connect(
        kind,
        &settings,
        &config.credentials.connection_file(kind),
        Arc::new(clock.clone()),
        &options(clock),
    )
    .unwrap()
}

/// Pages through `window` to the end; a quota wait is slept on the test clock (as the
/// sync worker would retry after it). Returns the pages fetched and the quota waits.
async fn walk(client: &dyn Marketplace, clock: &ManualClock, window: SyncWindow) -> (u32, u32) {
    let (mut pages, mut waits) = (0u32, 0u32);
    let mut token: Option<PageToken> = None;
    loop {
        match client.fetch_page(window, token.clone()).await {
            Ok(page) => {
                pages += 1;
                match page.next {
                    Some(next) => token = Some(next),
                    None => return (pages, waits),
                }
            }
            Err(ConnectorError::RateLimited {
                retry_after: Some(wait),
            }) => {
                waits += 1;
                assert!(waits < 10, "never finished");
                clock.advance(Duration::from_std(wait).unwrap() + Duration::seconds(1));
            }
            Err(other) => panic!("{other:?}"),
        }
    }
}

fn last_week() -> SyncWindow {
    SyncWindow {
        from: t0() - Duration::days(8),
        to: t0(),
    }
}

/// eBay's daily quota of 7 order calls, and a backlog of 12 pages: the client reads the
/// quota from the rate-limit report, stops at 7 without a single 429, and carries on
/// after the reset.
#[tokio::test]
async fn a_limited_ebay_sandbox_is_never_exceeded() {
    let clock = ManualClock::new(t0());
    let config = SandboxConfig {
        orders: 2_400,
        ..SandboxConfig::default()
    };
    let (handle, stats) = ebay_sandbox::start_counted(
        config.clone(),
        Arc::new(clock.clone()),
        EbaySandboxOptions {
            daily_quota: 7,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = client(MarketplaceKind::Ebay, &handle, &config, &clock, None);
    let (pages, waits) = walk(c.as_ref(), &clock, last_week()).await;
    assert!(pages >= 10, "a backlog of {pages} pages");
    assert!(waits >= 1, "the quota ran out at least once");
    assert_eq!(
        stats.throttled.load(Ordering::SeqCst),
        0,
        "no call over quota"
    );
    let day = |d: i64| {
        let start = (t0().timestamp().div_euclid(86_400) + d) * 86_400;
        stats.calls_between(start, start + 86_400)
    };
    assert_eq!(day(0), 7, "the first day's quota is used up, not exceeded");
    assert!(day(1) <= 7 && day(2) <= 7, "{} {}", day(1), day(2));
}

/// Started with `--no-rate-limits`, each sandbox states no limit (eBay: a report without a
/// rate, Amazon: a rate no client reaches, bol: a budget that never runs out): a backlog
/// goes through without a pacing wait.
#[tokio::test]
async fn unlimited_sandboxes_are_not_paced() {
    for kind in MarketplaceKind::ALL {
        let clock = ManualClock::new(t0());
        let config = SandboxConfig {
            orders: 3_000,
            rate_limits: false,
            ..SandboxConfig::default()
        };
        let handle = sandbox::start(kind, config.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
        let c = client(kind, &handle, &config, &clock, None);
        let window = SyncWindow {
            to: t0() - c.sync_hints().visibility_delay,
            ..last_week()
        };
        let (pages, waits) = walk(c.as_ref(), &clock, window).await;
        assert!(pages >= 12, "{kind}: a backlog of {pages} pages");
        assert_eq!(waits, 0, "{kind}");
        // The test clock stands still, so even a bucket refilling a million times a
        // second runs dry after its burst and costs a millisecond now and then; a paced
        // client would wait seconds (eBay's fallback) to minutes (Amazon's plans).
        let waited = clock.now() - t0();
        assert!(
            waited < Duration::milliseconds(i64::from(pages)),
            "{kind}: waited {waited} over {pages} pages"
        );
    }
}

/// A connection capped at 4 requests/s against an unlimited sandbox: never more than 4
/// calls in any second, and the walk takes as long as the cap says.
#[tokio::test]
async fn a_connection_cap_is_honoured() {
    let clock = ManualClock::new(t0());
    let config = SandboxConfig {
        orders: 3_000,
        rate_limits: false,
        ..SandboxConfig::default()
    };
    let (handle, stats) = ebay_sandbox::start_counted(
        config.clone(),
        Arc::new(clock.clone()),
        EbaySandboxOptions::default(),
    )
    .await
    .unwrap();
    let c = client(MarketplaceKind::Ebay, &handle, &config, &clock, Some(4.0));
    let (pages, _) = walk(c.as_ref(), &clock, last_week()).await;
    assert!(pages >= 12, "a backlog of {pages} pages");
    assert!(
        stats.busiest_second() <= 4,
        "{} calls in one second",
        stats.busiest_second()
    );
    let calls = stats.calls_between(0, i64::MAX);
    let took = clock.now() - t0();
    assert!(
        took >= Duration::milliseconds((calls as i64 - 1) * 250),
        "{calls} calls in {took}"
    );
}

/// Without eBay's rate-limit report the client falls back to its fixed pacing (one call a
/// second after a burst of ten), never to none.
#[tokio::test]
async fn without_a_rate_report_ebay_falls_back_to_fixed_pacing() {
    let clock = ManualClock::new(t0());
    let config = SandboxConfig {
        orders: 3_000,
        ..SandboxConfig::default()
    };
    let (handle, stats) = ebay_sandbox::start_counted(
        config.clone(),
        Arc::new(clock.clone()),
        EbaySandboxOptions {
            rate_report: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = client(MarketplaceKind::Ebay, &handle, &config, &clock, None);
    let (pages, _) = walk(c.as_ref(), &clock, last_week()).await;
    assert!(pages >= 12, "a backlog of {pages} pages");
    assert!(stats.busiest_second() <= 11, "{}", stats.busiest_second());
    let calls = stats.calls_between(0, i64::MAX) as i64;
    assert!(
        clock.now() - t0() >= Duration::seconds(calls - 11),
        "{calls} calls in {}",
        clock.now() - t0()
    );
}
