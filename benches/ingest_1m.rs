//! Large ingest: 1,000,000 orders from an eBay sandbox running in its own process
//! (`ordervault sandbox`, rate limits off) through a sync worker into SQLite, reporting
//! orders/s and this process's peak RSS (goal: under 200 MB). Set `OV_BENCH_ORDERS` to
//! change the size.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::SystemClock;
use ordervault::connectors::MarketplaceKind;
use ordervault::ingest::connections::{add_connection, ClientOptions, NewConnection};
use ordervault::ingest::sync::SyncWorker;
use zeroize::Zeroizing;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let orders: usize = std::env::var("OV_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ordervault"))
        .args([
            "sandbox",
            "--marketplace",
            "ebay",
            "--no-rate-limits",
            "--seed",
            "5",
            "--orders",
            &orders.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the sandbox");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("sandbox banner");
    // Keep draining, so the sandbox never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("address")
        .to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let result = rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::default();
        settings.data.dir = dir.path().join("data");
        settings.keys.master_key_file = dir.path().join("k").display().to_string();
        settings.sync.initial_lookback_days = 8;
        let app = App::build(settings, Arc::new(SystemClock)).await.expect("app");
        let account = create_account(&app, "bench", None).await.expect("account");
        add_connection(
            &app,
            NewConnection {
                account: account.id.clone(),
                marketplace: MarketplaceKind::Ebay,
                credentials_json: Zeroizing::new(
                    r#"{"client_id":"sandbox-client","client_secret":"sandbox-secret","refresh_token":"sandbox-refresh-token"}"#.into(),
                ),
                settings: ordervault::connectors::ConnectionSettings::legacy(MarketplaceKind::Ebay, Some(&format!("http://{addr}"))),
                interval: Duration::from_secs(60),
            },
        )
        .await
        .expect("connection");
        let worker = SyncWorker::new(app.clone(), ClientOptions { unpaced: true, ..ClientOptions::default() });
        let start = Instant::now();
        let r = worker.run_due(1).await.expect("run");
        let secs = start.elapsed().as_secs_f64();
        app.store.close().await;
        (r[0].inserted, r[0].outcome, secs)
    });
    let _ = child.kill();
    let _ = child.wait();
    let (inserted, outcome, secs) = result;
    println!(
        "ingest_1m: {inserted} orders ({outcome}) in {secs:.1} s = {:.0} orders/s; peak RSS {:.0} MB",
        inserted as f64 / secs,
        peak_rss_mb()
    );
}
