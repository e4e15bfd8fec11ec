//! Shipments confirmed per second: stored requests (the outbox) → pusher → sandbox
//! marketplace on loopback with rate limits off → accepted, on SQLite and (when
//! `DATABASE_URL` reaches a server) PostgreSQL. The clock is the time from the first
//! pass until every request is `accepted`; the sync that stores the orders and the
//! requests' insertion are set-up, not measured. Goal: the outbox is never the
//! bottleneck, ≥ 1,000 shipments/s on SQLite.
//!
//! eBay and Amazon answer in one call (201 / 204); bol answers 202 and is polled through
//! the process status (two calls per shipment).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::ManualClock;
use ordervault::connectors::sandbox::{self, SandboxConfig, SandboxHandle};
use ordervault::connectors::MarketplaceKind;
use ordervault::fulfilment::request::{submit_shipment, ShipmentBody};
use ordervault::fulfilment::Pusher;
use ordervault::ids::AccountId;
use ordervault::ingest::connections::{add_connection, ClientOptions, NewConnection};
use ordervault::ingest::sync::SyncWorker;
use zeroize::Zeroizing;

fn orders() -> usize {
    std::env::var("OV_BENCH_SHIPMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn options() -> ClientOptions {
    ClientOptions {
        unpaced: true,
        ..ClientOptions::default()
    }
}

/// A sandbox of open orders, an account synced from it, and a stored shipment request
/// for every open order. Returns the account and how many requests wait.
async fn prepare(
    app: &App,
    clock: &ManualClock,
    kind: MarketplaceKind,
    n: usize,
) -> (SandboxHandle, AccountId, usize) {
    let config = SandboxConfig {
        orders: n,
        seed: 9,
        rate_limits: false,
        // Placed 15–45 minutes ago: open (nothing ships within the first hour), past
        // Amazon's 10 pending minutes, and outside the sync's visibility delay.
        history: chrono::Duration::minutes(45),
        arrival_span: chrono::Duration::zero(),
        ..SandboxConfig::default()
    };
    let c = Arc::new(clock.clone());
    let handle = match kind {
        MarketplaceKind::Bol => sandbox::bol::start(config.clone(), c).await,
        MarketplaceKind::Amazon => sandbox::amazon::start(config.clone(), c).await,
        MarketplaceKind::Ebay => sandbox::ebay::start(config.clone(), c).await,
    }
    .expect("sandbox");
    let account = create_account(app, "bench", None).await.expect("account");
    let id: AccountId = account.id.clone();
    let creds = serde_json::json!({
        "client_id": config.credentials.client_id,
        "client_secret": config.credentials.client_secret,
        "refresh_token": config.credentials.refresh_token,
    });
    add_connection(
        app,
        NewConnection {
            account: id.clone(),
            marketplace: kind,
            credentials_json: Zeroizing::new(creds.to_string()),
            settings: handle.settings(kind),
            interval: Duration::from_secs(60),
        },
    )
    .await
    .expect("connection");
    let runs = SyncWorker::new(app.clone(), options())
        .run_due(1)
        .await
        .expect("sync");
    assert_eq!(
        runs[0].outcome,
        ordervault::ingest::sync::SyncOutcome::Ok,
        "{:?}",
        runs[0].error
    );
    let store = app.store.account(&id).await.expect("store");
    let rows = store.list_after(0, 1_000_000).await.expect("rows");
    let mut waiting = 0;
    for row in rows.iter().filter(|r| r.status == "open") {
        let body = ShipmentBody {
            lines: None,
            carrier: "postnl".into(),
            tracking_number: format!("3SBENCH{}", row.id),
            tracking_url: None,
            shipped_at: None,
            reference: None,
        };
        submit_shipment(&store, row, &body, None, clock_now(clock))
            .await
            .expect("stored");
        waiting += 1;
    }
    assert!(waiting > n / 2, "most orders are open: {waiting} of {n}");
    (handle, id, waiting)
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    ordervault::connectors::clock::Clock::now(clock)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let clock = ManualClock::new(chrono::Utc::now());
    let n = orders();
    let pg = rt.block_on(common::postgres_url("shipments"));
    let mut backends = vec![("sqlite", String::new())];
    if let Some(url) = pg {
        backends.push(("postgres", url));
    } else {
        eprintln!("PostgreSQL unreachable: benchmarking SQLite only");
    }
    let mut g = c.benchmark_group("shipments_sandbox");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for (name, url) in backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::default();
        settings.data.dir = dir.path().join("data");
        settings.keys.master_key_file = dir.path().join("k").display().to_string();
        settings.database.url = url;
        settings.fulfilment.concurrency = 64;
        settings.fulfilment.poll_ms = 10;
        let app = rt
            .block_on(App::build(settings, Arc::new(clock.clone())))
            .expect("app");
        // OV_BENCH_KINDS=ebay,bol limits the marketplaces (all on SQLite, eBay on PostgreSQL).
        let kinds = std::env::var("OV_BENCH_KINDS").unwrap_or_else(|_| "bol,amazon,ebay".into());
        for kind in MarketplaceKind::ALL {
            if (name == "postgres" && kind != MarketplaceKind::Ebay)
                || !kinds.split(',').any(|k| k.trim() == kind.as_str())
            {
                continue;
            }
            // Requests per iteration are what `prepare` finds open; measure one to set it.
            let (h, probe, waiting) = rt.block_on(prepare(&app, &clock, kind, n));
            drop(h);
            rt.block_on(ordervault::privacy::closure::close_account(&app, &probe))
                .expect("close");
            g.throughput(Throughput::Elements(waiting as u64));
            g.bench_function(format!("{name}_{kind}_{waiting}_shipments"), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let (handle, account, waiting) = prepare(&app, &clock, kind, n).await;
                            let pusher = Pusher::new(app.clone(), options());
                            let start = Instant::now();
                            let mut accepted = 0;
                            while accepted < waiting as u64 {
                                let r = pusher.run_account(&account).await.expect("pass");
                                accepted += r.accepted;
                                assert_eq!(r.rejected + r.failed, 0, "{r:?}");
                                // bol: the process status is due `poll_ms` later.
                                clock.advance(chrono::Duration::milliseconds(20));
                            }
                            total += start.elapsed();
                            assert_eq!(handle.pushes.records().len(), waiting);
                            ordervault::privacy::closure::close_account(&app, &account)
                                .await
                                .expect("close");
                        }
                        total
                    })
                })
            });
        }
        rt.block_on(app.store.close());
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
