//! Crypto-shredding cost (issue 16): how fast orders become unreadable when their
//! erasure-hour keys are destroyed (including moving the orders of a started hour that
//! are not due yet to a new key), separately from the physical cleanup (nulling columns,
//! WAL checkpoint / VACUUM) that keeps the live store small, and how long an epoch
//! rotation (rewrapping every live data key) takes.
//!
//! One account with `SHRED_BENCH_ORDERS` orders (default 1,000,000; SQLite) spread over
//! 30 erasure days and `orders / 4` customers: 99% due, 1% due half an hour after the
//! sweep in the hour it runs in (they move to a new key); on PostgreSQL (when reachable)
//! `SHRED_BENCH_PG_ORDERS` (default 200,000). Plain timing, one run: the sweep is
//! destructive and the interesting split is inside one run. Run in release through
//! `scripts/bench-shred.sh`, which records the machine load.

mod common;

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::ManualClock;
use ordervault::connectors::{Address, Customer, MarketplaceKind, Order, OrderNumber, OrderStatus};
use ordervault::ids::AccountId;
use ordervault::ingest::write_orders;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fulfilled 31 to 60 days before `now` (30 erasure days under 30-day retention); every
/// hundredth order falls due half an hour after `now`.
fn gen_order(i: usize, n: usize, now: chrono::DateTime<Utc>) -> Order {
    let day = (i * 30 / n.max(1)) as i64;
    let fulfilled = if i % 100 == 0 {
        now - chrono::Duration::days(30) + chrono::Duration::minutes(30)
    } else {
        now - chrono::Duration::days(60 - day) + chrono::Duration::seconds(i as i64 % 3_600)
    };
    let customer = i % (n / 4).max(1);
    Order {
        marketplace: MarketplaceKind::Bol,
        order_number: OrderNumber::parse(&format!("B{i:09}")).expect("number"),
        status: OrderStatus::Shipped,
        placed_at: fulfilled - chrono::Duration::days(2),
        updated_at: fulfilled,
        fulfilled_at: Some(fulfilled),
        cancelled_at: None,
        currency: "EUR".into(),
        total_minor: 1000,
        country_code: Some("NL".into()),
        lines: Vec::new(),
        customer: Customer {
            email: Some(format!("klant{customer}@voorbeeld.nl").into()),
            phone: Some(format!("+316{customer:08}").into()),
            shipping: Some(Address {
                last_name: Some(format!("Jansen{customer}").into()),
                street: Some("Dorpsstraat".into()),
                city: Some("Utrecht".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        terms: Default::default(),
    }
}

async fn run(name: &str, url: String, n: usize) {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let clock = ManualClock::new(now);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::default();
    settings.data.dir = dir.path().join("data");
    settings.keys.master_key_file = dir.path().join("k").display().to_string();
    settings.database.url = url;
    let app = App::build(settings, Arc::new(clock.clone()))
        .await
        .expect("app");
    let id: AccountId = create_account(&app, "bench", Some(30))
        .await
        .expect("account")
        .id
        .clone();
    let keys = app.keyring.keys(&id).await.expect("keys");
    let store = app.store.account(&id).await.expect("store");
    let seeding = Instant::now();
    for start in (0..n).step_by(50_000) {
        let orders: Vec<Order> = (start..(start + 50_000).min(n))
            .map(|i| gen_order(i, n, now))
            .collect();
        write_orders(&store, &keys, &orders, now.timestamp_millis())
            .await
            .expect("seed");
    }
    let status = app.keyring.data.status().await.expect("status");
    eprintln!(
        "{name}: seeded {n} orders ({} data keys) in {:.1?}",
        status.data_keys_live,
        seeding.elapsed()
    );

    let rotating = Instant::now();
    clock.advance(chrono::Duration::milliseconds(
        app.keyring.data.epoch_period_ms(),
    ));
    let r = app.keyring.data.rotate(None).await.expect("rotate");
    eprintln!(
        "{name}: epoch rotation rewrapped {} keys in {:.2?}",
        r.rewrapped,
        rotating.elapsed()
    );

    let report = ordervault::privacy::sweep(&app, Some(&id))
        .await
        .expect("sweep");
    let a = &report.accounts[0];
    let shred_s = (a.shred_ms.max(1)) as f64 / 1000.0;
    eprintln!(
        "{name}: {} orders made unreadable by destroying {} hour keys (after moving {} orders not yet due to new keys) in {} ms ({:.0} orders/s); physical cleanup (columns nulled, files purged) {} ms ({:.0} orders/s)",
        a.pseudonymized,
        a.day_keys_destroyed,
        a.moved_to_new_keys,
        a.shred_ms,
        a.pseudonymized as f64 / shred_s,
        a.cleanup_ms,
        a.pseudonymized as f64 / (a.cleanup_ms.max(1) as f64 / 1000.0),
    );
    app.store.close().await;
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(run(
        "sqlite",
        String::new(),
        count("SHRED_BENCH_ORDERS", 1_000_000),
    ));
    match rt.block_on(common::postgres_url("shred")) {
        Some(url) => rt.block_on(run(
            "postgres",
            url,
            count("SHRED_BENCH_PG_ORDERS", 200_000),
        )),
        None => eprintln!("PostgreSQL unreachable: SQLite only"),
    }
}
