//! Support lookup latency: `GET /api/v1/support/accounts/{account}/orders/{number}` over
//! HTTP on loopback against one account holding 1,000,000 orders, audit row included
//! (every lookup writes one before it answers). Embedded SQLite, and PostgreSQL when
//! `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) is reachable.
//! Prints p50/p90/p99/max; goal p99 ≤ 5 ms. The rate limit is raised through settings.
//!
//! `ORDERS` (environment) overrides the order count for a quick run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::SystemClock;
use ordervault::connectors::{
    Address, Customer, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus,
};
use ordervault::ids::{AccountId, Role};
use ordervault::ingest::write_orders;
use rand::{Rng, SeedableRng};
use secrecy::ExposeSecret;
use sqlx::Connection;

const SEED_CHUNK: usize = 50_000;

fn number(i: usize) -> String {
    format!("BENCH-{i:07}")
}

/// A full order (every personal group present), generated cheaply from its index.
fn order(i: usize) -> Order {
    let placed =
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(i as i64);
    Order {
        marketplace: MarketplaceKind::Bol,
        order_number: OrderNumber::parse(&number(i)).unwrap(),
        status: OrderStatus::Open,
        placed_at: placed,
        updated_at: placed,
        fulfilled_at: None,
        cancelled_at: None,
        currency: "EUR".into(),
        total_minor: 1999 + (i % 1000) as i64,
        country_code: Some("NL".into()),
        lines: vec![OrderLine {
            line_id: "1".into(),
            sku: Some(format!("SKU-{}", i % 500)),
            ean: Some("8712345678906".into()),
            title: "Stainless teapot 1.2 l".into(),
            quantity: 1,
            quantity_shipped: 0,
            quantity_cancelled: 0,
            unit_price_minor: Some(1999),
            total_minor: 1999,
            discount_minor: 0,
            tax_minor: None,
        }],
        customer: Customer {
            email: Some(format!("klant.{i}@voorbeeld.nl").into()),
            phone: Some(format!("+316{:08}", i).into()),
            shipping: Some(Address {
                first_name: Some("Anna".into()),
                last_name: Some(format!("de Vries {i}").into()),
                street: Some("Keizersgracht".into()),
                house_number: Some(format!("{}", i % 400)).map(Into::into),
                postcode: Some("1015CJ".into()),
                city: Some("Amsterdam".into()),
                country_code: Some("NL".into()),
                ..Default::default()
            }),
            billing: None,
            delivery_notes: Some("Bel twee keer".into()),
            ..Customer::default()
        },
        terms: Default::default(),
    }
}

struct Run {
    label: &'static str,
    seed_secs: f64,
    lat: Vec<Duration>,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run(label: &'static str, mut settings: Settings, orders: usize, lookups: usize) -> Run {
    let warmup = (lookups / 10).min(300);
    settings.support.rate_limit_per_minute = 10_000_000;
    let app = App::build(settings, Arc::new(SystemClock))
        .await
        .expect("app builds");
    let acct: AccountId = ordervault::accounts::create_account(&app, "bench", None)
        .await
        .expect("account")
        .id
        .clone();
    let store = app.store.account(&acct).await.expect("store");
    let keys = app.keyring.keys(&acct).await.expect("keys");
    let start = Instant::now();
    let mut done = 0;
    while done < orders {
        let n = SEED_CHUNK.min(orders - done);
        let batch: Vec<Order> = (done..done + n).map(order).collect();
        write_orders(&store, &keys, &batch, app.now_ms())
            .await
            .expect("seed");
        done += n;
    }
    let seed_secs = start.elapsed().as_secs_f64();
    assert_eq!(store.count_orders().await.expect("count"), orders as i64);
    eprintln!("{label}: seeded {orders} orders in {seed_secs:.1} s");
    // Let the database settle (SQLite checkpoints, PostgreSQL statistics) before timing.
    if let ordervault::store::Pool::Postgres(p) = store.pool() {
        sqlx::query(&format!("ANALYZE {}orders", store.prefix()))
            .execute(p)
            .await
            .expect("analyze");
    }

    let (token, _) = ordervault::tokens::create_token(&app, Role::Support, None, Some("bench"))
        .await
        .expect("token");
    let token = token.expose_secret().to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = ordervault::api::router(app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut lat = Vec::with_capacity(lookups);
    for k in 0..warmup + lookups {
        // One lookup in ten misses (a mistyped number): same path, audited as not_found.
        let i = rng.gen_range(0..orders);
        let n = if rng.gen_ratio(1, 10) {
            format!("MISS-{i:07}")
        } else {
            number(i)
        };
        let url = format!("http://{addr}/api/v1/support/accounts/{acct}/orders/{n}");
        let t = Instant::now();
        let resp = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        let _ = resp.bytes().await.expect("body");
        let d = t.elapsed();
        assert!(status == 200 || status == 404, "status {status}");
        if k >= warmup {
            lat.push(d);
        }
    }
    server.abort();
    app.store.close().await;
    Run {
        label,
        seed_secs,
        lat,
    }
}

async fn fresh_pg() -> Option<(String, String, String)> {
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("PostgreSQL unreachable ({e}); SQLite only");
            return None;
        }
    };
    let name = format!("ov_bench_{}", AccountId::generate());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .expect("create database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some((admin.clone(), format!("{base}/{name}"), name))
}

fn report(r: &Run) {
    let mut l = r.lat.clone();
    l.sort();
    println!(
        "support_lookup/{:<8} orders seeded in {:>6.1} s | {} lookups: p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        r.label,
        r.seed_secs,
        l.len(),
        pct(&l, 0.50),
        pct(&l, 0.90),
        pct(&l, 0.99),
        l.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run tiny then.
    let benching = std::env::args().any(|a| a == "--bench");
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1_000_000 } else { 1_000 });
    let lookups = if benching { 5_000 } else { 200 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::default();
        settings.data.dir = dir.path().join("data");
        settings.keys.master_key_file = dir.path().join("master.key").display().to_string();
        let r = run("sqlite", settings.clone(), orders, lookups).await;
        report(&r);
        drop(dir);
        if let Some((admin, url, name)) = fresh_pg().await {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut settings = Settings::default();
            settings.data.dir = dir.path().join("data");
            settings.keys.master_key_file = dir.path().join("master.key").display().to_string();
            settings.database.url = url;
            let r = run("postgres", settings, orders, lookups).await;
            report(&r);
            let mut c = sqlx::PgConnection::connect(&admin).await.expect("admin");
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut c)
                .await
                .expect("drop database");
        }
    });
}
