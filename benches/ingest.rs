//! End-to-end ingest: a sandbox marketplace on loopback (rate limits off) → client →
//! normalize → seal → upsert, through a sync worker, into SQLite and (when `DATABASE_URL`
//! reaches a server) PostgreSQL. Goal: ≥ 10,000 orders/s into SQLite.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::ManualClock;
use ordervault::connectors::sandbox::{self, SandboxConfig};
use ordervault::connectors::MarketplaceKind;
use ordervault::ingest::connections::{add_connection, ClientOptions, NewConnection};
use ordervault::ingest::sync::SyncWorker;
use zeroize::Zeroizing;

const ORDERS: usize = 20_000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let anchor = chrono::Utc::now();
    let clock = ManualClock::new(anchor);
    let config = SandboxConfig {
        orders: ORDERS,
        seed: 3,
        rate_limits: false,
        history: chrono::Duration::days(6),
        arrival_span: chrono::Duration::zero(),
        ..SandboxConfig::default()
    };
    let handle = rt
        .block_on(sandbox::ebay::start(
            config.clone(),
            Arc::new(clock.clone()),
        ))
        .expect("sandbox");
    let creds = serde_json::json!({
        "client_id": config.credentials.client_id,
        "client_secret": config.credentials.client_secret,
        "refresh_token": config.credentials.refresh_token,
    })
    .to_string();
    let pg = rt.block_on(common::postgres_url("ingest"));
    let mut backends = vec![("sqlite", String::new())];
    if let Some(url) = pg {
        backends.push(("postgres", url));
    } else {
        eprintln!("PostgreSQL unreachable: benchmarking SQLite only");
    }

    let mut g = c.benchmark_group("ingest_ebay_sandbox");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(ORDERS as u64));
    for (name, url) in backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::default();
        settings.data.dir = dir.path().join("data");
        settings.keys.master_key_file = dir.path().join("k").display().to_string();
        settings.database.url = url;
        let app = rt
            .block_on(App::build(settings, Arc::new(clock.clone())))
            .expect("app");
        g.bench_function(format!("{name}_{ORDERS}_orders"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let account = create_account(&app, "bench", None).await.expect("account");
                        add_connection(
                            &app,
                            NewConnection {
                                account: account.id.clone(),
                                marketplace: MarketplaceKind::Ebay,
                                credentials_json: Zeroizing::new(creds.clone()),
                                settings: handle.settings(MarketplaceKind::Ebay),
                                interval: Duration::from_secs(60),
                            },
                        )
                        .await
                        .expect("connection");
                        let worker = SyncWorker::new(
                            app.clone(),
                            ClientOptions {
                                unpaced: true,
                                ..ClientOptions::default()
                            },
                        );
                        let start = Instant::now();
                        let reports = worker.run_due(1).await.expect("run");
                        total += start.elapsed();
                        assert_eq!(
                            reports[0].outcome,
                            ordervault::ingest::sync::SyncOutcome::Ok,
                            "{:?}",
                            reports[0].error
                        );
                        // The last minutes of orders sit inside the visibility delay.
                        assert!(reports[0].inserted as usize > ORDERS - 100);
                        ordervault::privacy::closure::close_account(&app, &account.id)
                            .await
                            .expect("close");
                    }
                    total
                })
            })
        });
        rt.block_on(app.store.close());
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
