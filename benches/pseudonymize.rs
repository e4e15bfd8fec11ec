//! Pseudonymization sweep throughput: 1,000,000 due orders in one SQLite account (and
//! 200,000 in PostgreSQL when `DATABASE_URL` reaches a server), 90% with an email (so a
//! decrypt + HMAC each), 250,000 distinct customers. Only the sweep is timed; between
//! iterations the account is reset to its seeded state (SQLite: the database file is
//! copied back; PostgreSQL: the table is refilled from a snapshot table).
//! Goal: ≥ 50,000 orders/s on SQLite.
//!
//! `PSEUDO_BENCH_ORDERS` / `PSEUDO_BENCH_PG_ORDERS` override the order counts.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::ManualClock;
use ordervault::connectors::Order;
use ordervault::ids::AccountId;
use ordervault::ingest::write_orders;
use ordervault::privacy::sweep;
use ordervault::store::Pool;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `ordervault bench seed` order shape: fulfilled 60 days before `now`, so due under
/// 30-day retention; 250,000 customers.
fn gen_order(i: usize, now: chrono::DateTime<Utc>) -> Order {
    let options = ordervault::bench_seed::SeedOptions {
        orders: 0,
        customers: 250_000,
        fulfilled_days_ago: 60,
    };
    ordervault::bench_seed::order(i, &options, now)
}

async fn seed(app: &App, id: &AccountId, n: usize, now: chrono::DateTime<Utc>) {
    let keys = app.keyring.keys(id).await.expect("keys");
    let store = app.store.account(id).await.expect("store");
    const CHUNK: usize = 50_000;
    for start in (0..n).step_by(CHUNK) {
        let orders: Vec<Order> = (start..(start + CHUNK).min(n))
            .map(|i| gen_order(i, now))
            .collect();
        write_orders(&store, &keys, &orders, now.timestamp_millis())
            .await
            .expect("seed");
    }
}

/// How to put the seeded orders back after a sweep.
enum Reset {
    /// Copy of the account's database file.
    SqliteFile { snapshot: PathBuf, live: PathBuf },
    /// `snapshot` table in the account's schema.
    PgTable,
}

async fn reset(app: &App, id: &AccountId, how: &Reset) {
    match how {
        Reset::SqliteFile { snapshot, live } => {
            app.store.drop_account_store(id).await.expect("close");
            std::fs::copy(snapshot, live).expect("restore");
        }
        Reset::PgTable => {
            let store = app.store.account(id).await.expect("store");
            let p = store.prefix().to_owned();
            if let Pool::Postgres(pool) = store.pool() {
                sqlx::query(&format!("TRUNCATE {p}orders"))
                    .execute(pool)
                    .await
                    .expect("truncate");
                sqlx::query(&format!(
                    "INSERT INTO {p}orders OVERRIDING SYSTEM VALUE SELECT * FROM {p}snapshot"
                ))
                .execute(pool)
                .await
                .expect("refill");
                sqlx::query(&format!("VACUUM ANALYZE {p}orders"))
                    .execute(pool)
                    .await
                    .expect("analyze");
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let clock = ManualClock::new(now);
    let mut backends = vec![(
        "sqlite",
        String::new(),
        count("PSEUDO_BENCH_ORDERS", 1_000_000),
    )];
    match rt.block_on(common::postgres_url("pseudo")) {
        Some(url) => backends.push(("postgres", url, count("PSEUDO_BENCH_PG_ORDERS", 200_000))),
        None => eprintln!("PostgreSQL unreachable: benchmarking SQLite only"),
    }

    let mut g = c.benchmark_group("pseudonymize_sweep");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(30));
    for (name, url, n) in backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::default();
        settings.data.dir = dir.path().join("data");
        settings.keys.master_key_file = dir.path().join("k").display().to_string();
        settings.database.url = url;
        if let Some(b) = std::env::var("PSEUDO_BENCH_BATCH")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            settings.pseudonymize.batch_size = b;
        }
        let app = rt
            .block_on(App::build(settings, Arc::new(clock.clone())))
            .expect("app");
        let account = rt
            .block_on(create_account(&app, "bench", Some(30)))
            .expect("account");
        let id: AccountId = account.id.clone();
        let seeding = Instant::now();
        rt.block_on(seed(&app, &id, n, now));
        eprintln!("{name}: seeded {n} orders in {:.1?}", seeding.elapsed());
        let how = rt.block_on(async {
            let store = app.store.account(&id).await.expect("store");
            match store.pool() {
                Pool::Sqlite(_) => {
                    store.purge_erased(false).await.expect("checkpoint");
                    let live = dir
                        .path()
                        .join("data/accounts")
                        .join(format!("{}.db", id.as_str()));
                    let snapshot = dir.path().join("snapshot.db");
                    // The WAL is checkpointed and empty: the file alone is the database.
                    std::fs::copy(&live, &snapshot).expect("snapshot");
                    Reset::SqliteFile { snapshot, live }
                }
                Pool::Postgres(pool) => {
                    let p = store.prefix().to_owned();
                    sqlx::query(&format!(
                        "CREATE TABLE {p}snapshot AS SELECT * FROM {p}orders"
                    ))
                    .execute(pool)
                    .await
                    .expect("snapshot");
                    Reset::PgTable
                }
            }
        });
        if std::env::var("PSEUDO_BENCH_QUICK").is_ok() {
            // One timed sweep, no statistics: for trying changes quickly.
            rt.block_on(async {
                reset(&app, &id, &how).await;
                let start = Instant::now();
                let report = sweep(&app, Some(&id)).await.expect("sweep");
                let t = start.elapsed();
                eprintln!(
                    "{name}: {} orders in {t:.2?}: {:.0} orders/s",
                    report.pseudonymized,
                    report.pseudonymized as f64 / t.as_secs_f64()
                );
            });
            continue;
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{name}_{n}_due_orders"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        reset(&app, &id, &how).await;
                        let start = Instant::now();
                        let report = sweep(&app, Some(&id)).await.expect("sweep");
                        total += start.elapsed();
                        assert_eq!(report.pseudonymized, n as u64, "{report:?}");
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
