//! Account closure with 1,000,000 orders: keys shredded, store dropped, receipt written.
//! Seeds the account with `ingest::write_orders` (not timed), then times the closure on
//! SQLite and, when `DATABASE_URL` reaches a server, PostgreSQL. `OV_BENCH_ORDERS`
//! changes the size.

mod common;

use std::sync::Arc;
use std::time::Instant;

use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::ManualClock;
use ordervault::connectors::sandbox::world::{World, WorldSpec};
use ordervault::connectors::MarketplaceKind;
use ordervault::ingest::write_orders;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("OV_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let anchor = chrono::Utc::now();
        let orders = World::generate(
            &WorldSpec {
                marketplace: MarketplaceKind::Bol,
                orders: n,
                seed: 9,
                anchor,
                history: chrono::Duration::days(60),
                arrival_span: chrono::Duration::zero(),
            },
            |_, i| format!("{}", 1_000_000_000 + i),
        )
        .snapshot(anchor);
        let mut backends = vec![("sqlite", String::new())];
        if let Some(url) = common::postgres_url("close").await {
            backends.push(("postgres", url));
        }
        for (name, url) in backends {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut settings = Settings::default();
            settings.data.dir = dir.path().join("data");
            settings.keys.master_key_file = dir.path().join("k").display().to_string();
            settings.database.url = url;
            let app = App::build(settings, Arc::new(ManualClock::new(anchor))).await.expect("app");
            let account = create_account(&app, "bench", None).await.expect("account");
            let id = account.id.clone();
            let store = app.store.account(&id).await.expect("store");
            let keys = app.keyring.keys(&id).await.expect("keys");
            let seed = Instant::now();
            write_orders(&store, &keys, &orders, 0).await.expect("seed");
            let seeded = seed.elapsed().as_secs_f64();
            drop(store);
            let start = Instant::now();
            let receipt = ordervault::privacy::closure::close_account(&app, &id).await.expect("close");
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(receipt.orders_deleted as usize, orders.len());
            println!("closure_{name}: account with {} orders closed in {secs:.2} s (seeding took {seeded:.0} s)", orders.len());
            app.store.close().await;
        }
    });
}
