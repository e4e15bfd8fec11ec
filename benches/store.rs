//! Storing orders: 100,000 sandbox orders sealed (personal fields encrypted, email
//! indexed) and upserted into one account on embedded SQLite by `ingest::write_orders` (transactions of
//! `WRITE_BATCH`, sealing the next batch while the previous one is written). Goal: ≥ 30,000 orders/s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::ManualClock;
use ordervault::connectors::sandbox::world::{World, WorldSpec};
use ordervault::connectors::{MarketplaceKind, Order};
use ordervault::ingest::{write_orders, WRITE_BATCH};

const ORDERS: usize = 100_000;

fn orders(anchor: chrono::DateTime<chrono::Utc>) -> Vec<Order> {
    let spec = WorldSpec {
        marketplace: MarketplaceKind::Bol,
        orders: ORDERS,
        seed: 42,
        anchor,
        history: chrono::Duration::days(30),
        arrival_span: chrono::Duration::zero(),
    };
    World::generate(&spec, |_, i| format!("{}", 1_000_000_000 + i)).snapshot(anchor)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let anchor = chrono::Utc::now();
    let orders = orders(anchor);
    let mut g = c.benchmark_group("store_sqlite");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(orders.len() as u64));
    g.bench_function("seal_and_upsert_100k_orders", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let mut settings = Settings::default();
                    settings.data.dir = dir.path().join("data");
                    settings.keys.master_key_file = dir.path().join("k").display().to_string();
                    let clock = Arc::new(ManualClock::new(anchor));
                    let app = App::build(settings, clock).await.expect("app");
                    let acct = ordervault::accounts::create_account(&app, "bench", None)
                        .await
                        .expect("account");
                    let id = acct.id.clone();
                    let store = app.store.account(&id).await.expect("store");
                    let keys = app.keyring.keys(&id).await.expect("keys");
                    let start = Instant::now();
                    write_orders(&store, &keys, &orders, 0)
                        .await
                        .expect("write");
                    total += start.elapsed();
                    assert_eq!(store.count_orders().await.expect("count"), ORDERS as i64);
                    app.store.close().await;
                }
                total
            })
        })
    });
    g.finish();
    let _ = WRITE_BATCH;
}

criterion_group!(benches, bench);
criterion_main!(benches);
