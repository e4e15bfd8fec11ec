//! Chaos: the real `ordervault serve` binary, SIGKILLed at random points and restarted at
//! least ten times, while three sandbox marketplaces inject 429/5xx/HTML faults and expire
//! tokens mid-paging, and a webhook receiver is down, slow or failing part of the time.
//! After a final clean run, the account store must equal the marketplaces (no order lost,
//! none duplicated) and every stored order's latest event must have reached the receiver.
//!
//! Shipments too (issue 15): while the kills go on, the test confirms shipments of synced
//! open orders through the CLI; every kill may fall between the outbox write and the
//! marketplace's answer. After the clean run every requested shipment must exist exactly
//! once at its sandbox marketplace and be `accepted` in the store.
//!
//! Default: about 45 s of chaos and 12 kills per backend, so `cargo test` stays short.
//! Longer: `ORDERVAULT_CHAOS_SECS=600 ORDERVAULT_CHAOS_KILLS=100 cargo test --test chaos`.
//!
//! Time. The service reads the wall clock and syncs only up to `now − visibility delay`
//! (2–3 min, per marketplace). Each sandbox therefore runs on an [`OffsetClock`] that lags
//! the wall clock by a little less than its client's visibility delay (and no more than its
//! API allows: eBay refuses windows in its future, Amazon wants `*Before` two minutes in its
//! past). Orders that arrive during the run then become syncable within seconds (eBay) or
//! a minute (bol) instead of minutes. The check is exact for every order whose last change
//! lies before its connection's committed cursor; a later change may not be stored yet
//! (the cursor says so), but nothing may be missing, duplicated or invented.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use ordervault::app::App;
use ordervault::config::Settings;
use ordervault::connectors::clock::{OffsetClock, SystemClock};
use ordervault::connectors::sandbox::{self, SandboxConfig, SandboxHandle};
use ordervault::connectors::{MarketplaceKind, Order};
use ordervault::ids::AccountId;
use ordervault::orders::open_order;
use ordervault::store::outbox::event_id;
use rand::Rng;

use common::{fresh_pg, PgDatabase};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------
// The webhook receiver: a seller backoffice that is sometimes down, slow or failing.

const HEALTHY: u8 = 0;
const DOWN: u8 = 1;
const SLOW: u8 = 2;
const FLAKY: u8 = 3;

#[derive(Default)]
struct Receiver {
    key: Mutex<Option<Vec<u8>>>,
    mode: AtomicU8,
    /// `webhook-id` → (marketplace, order number) of every event answered with 2xx.
    seen: Mutex<HashMap<String, (String, String)>>,
    requests: AtomicU64,
    accepted: AtomicU64,
    bad_signatures: AtomicU64,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.requests.fetch_add(1, Ordering::SeqCst);
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (id, ts, sig) = (
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
    );
    let key = r.key.lock().unwrap().clone().unwrap_or_default();
    let valid = ts.parse::<i64>().is_ok_and(|ts| {
        ordervault::forward::signing::verify(&key, &id, ts, &body, &sig)
            && (chrono::Utc::now().timestamp() - ts).abs() < 300
    });
    if !valid {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::BAD_REQUEST;
    }
    match r.mode.load(Ordering::SeqCst) {
        DOWN => return StatusCode::SERVICE_UNAVAILABLE,
        SLOW => {
            let ms = rand::thread_rng().gen_range(300..2500);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        FLAKY if rand::thread_rng().gen_bool(0.5) => {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        _ => {}
    }
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let d = &v["data"];
    let (m, n) = (
        d["marketplace"].as_str().unwrap_or_default().to_string(),
        d["order_number"].as_str().unwrap_or_default().to_string(),
    );
    r.seen.lock().unwrap().insert(id, (m, n));
    r.accepted.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn start_receiver() -> (SocketAddr, Arc<Receiver>) {
    let r = Arc::new(Receiver::default());
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, r)
}

// ---------------------------------------------------------------------------------------
// The marketplaces.

struct Market {
    kind: MarketplaceKind,
    handle: SandboxHandle,
}

/// How far each sandbox's clock lags the wall clock (see the module doc).
fn lag(kind: MarketplaceKind) -> chrono::Duration {
    match kind {
        // bol hides changes for 60 s itself; the client syncs to now − 2 min.
        MarketplaceKind::Bol => chrono::Duration::seconds(60),
        // Client: now − 3 min; sandbox: *Before ≤ its now − 2 min.
        MarketplaceKind::Amazon => chrono::Duration::seconds(55),
        // Client: now − 2 min; sandbox: no window end in its future.
        MarketplaceKind::Ebay => chrono::Duration::seconds(115),
    }
}

async fn start_market(kind: MarketplaceKind, orders: usize, seed: u64) -> Market {
    let clock = OffsetClock::new();
    clock.advance(-lag(kind));
    let config = SandboxConfig {
        orders,
        seed,
        // Amazon's getOrders allows one call a minute after a burst of 20, and a restarted
        // worker re-walks its uncommitted windows: with real limits a 90 s run would mostly
        // wait. The client still paces itself, and injected faults still include 429s.
        rate_limits: kind != MarketplaceKind::Amazon,
        fault_rate: 0.2,
        // Tokens expire every few seconds: mid-paging expiry on every walk.
        token_lifetime: Some(Duration::from_secs(4)),
        // Amazon orders are Pending for their first 10 minutes, then change; some arrive
        // while the test runs.
        history: chrono::Duration::minutes(10),
        arrival_span: chrono::Duration::seconds(40),
        ..SandboxConfig::default()
    };
    let clock = Arc::new(clock);
    let handle = match kind {
        // A raised searchOrders plan, announced in `x-amzn-RateLimit-Limit` as Amazon does:
        // the client adopts it, so an injected 429 costs one refill of a fast bucket
        // instead of 179 s of the default plan (longer than the settle bound).
        MarketplaceKind::Amazon => sandbox::amazon::start_with(
            config,
            clock,
            sandbox::amazon::AmazonSandboxOptions {
                search_orders_plan: Some((2.0, 20)),
                ..Default::default()
            },
        )
        .await
        .map(|(handle, _)| handle)
        .expect("sandbox starts"),
        _ => common::market::start_sandbox(kind, config, clock).await,
    };
    Market { kind, handle }
}

fn credentials(kind: MarketplaceKind) -> String {
    SandboxConfig::default().credentials.connection_file(kind)
}

// ---------------------------------------------------------------------------------------
// The service under test, as a child process.

struct Service {
    dir: PathBuf,
    database_url: String,
    runs: u32,
}

impl Service {
    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ordervault"));
        c.current_dir(&self.dir)
            .env_remove("ORDERVAULT_MASTER_KEY")
            .env_remove("ORDERVAULT_CONFIG")
            .env("RUST_LOG", "info")
            .env("ORDERVAULT__DATA__DIR", self.dir.join("data"))
            .env("ORDERVAULT__DATABASE__URL", &self.database_url)
            .env("ORDERVAULT__DATABASE__MAX_CONNECTIONS", "5")
            .env("ORDERVAULT__SERVER__BIND", "127.0.0.1:0")
            .env("ORDERVAULT__METRICS__BIND", "127.0.0.1:0")
            // The test's webhook receiver listens on 127.0.0.1.
            .env("ORDERVAULT__FORWARD__ALLOW_PRIVATE_TARGETS", "true")
            .env("ORDERVAULT__SYNC__TICK_MS", "200")
            .env("ORDERVAULT__SYNC__LEASE_SECS", "10")
            .env("ORDERVAULT__SYNC__MAX_BACKOFF_SECS", "10")
            .env("ORDERVAULT__SYNC__INITIAL_LOOKBACK_DAYS", "1")
            .env("ORDERVAULT__SYNC__RECONCILE_DAYS", "1")
            .env("ORDERVAULT__FORWARD__TICK_MS", "200")
            .env("ORDERVAULT__FORWARD__LEASE_SECS", "5")
            .env("ORDERVAULT__FORWARD__MAX_BACKOFF_SECS", "2")
            .env("ORDERVAULT__FULFILMENT__TICK_MS", "200")
            .env("ORDERVAULT__FULFILMENT__LEASE_SECS", "3")
            .env("ORDERVAULT__FULFILMENT__POLL_MS", "200")
            .env("ORDERVAULT__FULFILMENT__MAX_BACKOFF_SECS", "2");
        c
    }

    /// Runs a CLI command to completion and returns its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run ordervault");
        assert!(
            out.status.success(),
            "ordervault {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn serve(&mut self) -> Child {
        self.runs += 1;
        let log = std::fs::File::create(self.dir.join(format!("serve-{}.log", self.runs)))
            .expect("log file");
        self.command()
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start ordervault serve")
    }

    fn settings(&self) -> Settings {
        let mut s = Settings::default();
        s.data.dir = self.dir.join("data");
        s.database.url = self.database_url.clone();
        s.database.max_connections = 3;
        s
    }

    fn logs(&self) -> String {
        (1..=self.runs)
            .map(|i| std::fs::read_to_string(self.dir.join(format!("serve-{i}.log"))))
            .filter_map(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn sigkill(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
}

/// SIGTERM, then wait for a clean exit: the graceful path must work after all the chaos.
fn stop_gracefully(child: &mut Child) {
    // SAFETY: `kill` on our own child's pid, which has not been reaped yet.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0, "SIGTERM sent");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
            return;
        }
        if Instant::now() > deadline {
            sigkill(child);
            panic!("serve did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------
// Checking the outcome.

/// What the store holds compared with the marketplaces and the receiver.
#[derive(Debug, Default)]
struct Verdict {
    stored: usize,
    exact: usize,
    pending: usize,
    problems: Vec<String>,
    /// Per marketplace: ground truth, stored, cursor age.
    summary: Vec<String>,
    stored_per_market: HashMap<String, usize>,
}

/// The visibility delay of each marketplace's client: a sync reaches `now − this`.
fn visibility(kind: MarketplaceKind) -> i64 {
    match kind {
        MarketplaceKind::Amazon => 180_000,
        _ => 120_000,
    }
}

/// A shipment the test asked for: marketplace, order number, tracking number.
type Requested = (MarketplaceKind, String, String);

/// Confirms shipments of up to `n` synced open orders not shipped yet, through the CLI
/// (which only stores them: the running `serve` delivers them).
async fn ship_some(
    service: &Service,
    account: &AccountId,
    requested: &mut Vec<Requested>,
    n: usize,
) {
    let Ok(app) = App::build(service.settings(), Arc::new(SystemClock)).await else {
        return;
    };
    let store = app.store.account(account).await.unwrap();
    let rows = store.list_after(0, 1_000_000).await.unwrap();
    app.store.close().await;
    let mut picked = Vec::new();
    // Marketplace-fulfilled orders (FBB/AFN/eBay-fulfilled) are the marketplace's to ship.
    let sellers = |r: &&ordervault::store::OrderRow| {
        r.status == "open" && r.fulfilment_method.as_deref() != Some("marketplace")
    };
    for row in rows.iter().filter(sellers) {
        if picked.len() >= n {
            break;
        }
        if requested.iter().any(|(_, o, _)| o == &row.order_number) {
            continue;
        }
        picked.push((row.marketplace.clone(), row.order_number.clone()));
    }
    for (m, order) in picked {
        let tracking = format!("3SCHAOS{}", requested.len());
        service.cli(&[
            "shipment",
            "add",
            "--account",
            account.as_str(),
            "--order",
            &order,
            "--marketplace",
            &m,
            "--carrier",
            "dhl",
            "--tracking",
            &tracking,
        ]);
        requested.push((m.parse().unwrap(), order, tracking));
    }
}

/// Every requested shipment is accepted in the store and exists once at its marketplace.
async fn shipment_problems(
    app: &App,
    account: &AccountId,
    markets: &[Market],
    requested: &[Requested],
    problems: &mut Vec<String>,
) {
    let store = app.store.account(account).await.unwrap();
    for (kind, order, tracking) in requested {
        let rows = store.find_by_number(order).await.unwrap();
        let Some(row) = rows.iter().find(|r| r.marketplace == kind.as_str()) else {
            problems.push(format!("shipped order {order} is not stored"));
            continue;
        };
        let reqs = store.requests_for_order(row.id).await.unwrap();
        let states: Vec<&str> = reqs.iter().map(|r| r.state.as_str()).collect();
        if states != ["accepted"] {
            problems.push(format!("shipment of {kind} {order}: states {states:?}"));
        }
        let market = markets.iter().find(|m| m.kind == *kind).unwrap();
        let at_marketplace = market
            .handle
            .pushes
            .records()
            .iter()
            .filter(|r| r.kind == "shipment" && &r.order_number == order)
            .filter(|r| r.tracking_number.as_deref() == Some(tracking.as_str()))
            .count();
        if at_marketplace != 1 {
            problems.push(format!(
                "shipment of {kind} {order} exists {at_marketplace} times at the marketplace"
            ));
        }
    }
}

/// Compares store, marketplaces and receiver. `synced_since` (wall-clock ms): every
/// connection must have committed a sync that started after it.
async fn verdict(
    service: &Service,
    account: &AccountId,
    markets: &[Market],
    receiver: &Receiver,
    synced_since: i64,
    requested: &[Requested],
) -> Verdict {
    let mut v = Verdict::default();
    let app = match App::build(service.settings(), Arc::new(SystemClock)).await {
        Ok(a) => a,
        Err(e) => {
            v.problems.push(format!("cannot open the store: {e}"));
            return v;
        }
    };
    let store = app.store.account(account).await.unwrap();
    let keys = app.keyring.keys(account).await.unwrap();
    let rows = store.list_after(0, 1_000_000).await.unwrap();
    let cursors: HashMap<String, i64> = app
        .store
        .catalog()
        .connections(Some(account))
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.marketplace, c.cursor_ms.unwrap_or(0)))
        .collect();
    let seen = receiver.seen.lock().unwrap().clone();
    let seen_numbers: HashSet<&(String, String)> = seen.values().collect();

    let mut stored: BTreeMap<(String, String), Order> = BTreeMap::new();
    for row in &rows {
        let o = open_order(&keys, row)
            .await
            .expect("stored order decrypts")
            .order;
        let key = (o.marketplace.to_string(), o.order_number.to_string());
        if stored.insert(key.clone(), o).is_some() {
            v.problems.push(format!("duplicate order {key:?}"));
        }
        if !seen.contains_key(&event_id(row.id, row.version)) {
            v.problems.push(format!(
                "latest event {} of {key:?} not delivered",
                event_id(row.id, row.version)
            ));
        }
        if !seen_numbers.contains(&key) {
            v.problems
                .push(format!("order {key:?} never reached the receiver"));
        }
    }
    v.stored = stored.len();
    let mut truth_keys = HashSet::new();
    for m in markets {
        let cursor = cursors[m.kind.as_str()];
        if cursor < synced_since - visibility(m.kind) {
            v.problems.push(format!(
                "{} has not completed a sync since the clean run started",
                m.kind
            ));
        }
        let truth = (m.handle.ground_truth)();
        let n = stored.keys().filter(|k| k.0 == m.kind.as_str()).count();
        v.stored_per_market.insert(m.kind.to_string(), n);
        v.summary.push(format!(
            "{}: {} at the marketplace, {} stored, cursor {} s behind",
            m.kind,
            truth.len(),
            n,
            (chrono::Utc::now().timestamp_millis() - cursor) / 1000
        ));
        for t in truth {
            let key = (t.marketplace.to_string(), t.order_number.to_string());
            truth_keys.insert(key.clone());
            let settled = t.updated_at.timestamp_millis() < cursor;
            match stored.get(&key) {
                Some(s) if s == &t => v.exact += 1,
                Some(s) if !settled && s.updated_at <= t.updated_at => v.pending += 1,
                None if !settled => v.pending += 1,
                Some(_) => v.problems.push(format!("order {key:?} differs")),
                None => v.problems.push(format!("order {key:?} lost")),
            }
        }
    }
    for key in stored.keys() {
        if !truth_keys.contains(key) {
            v.problems
                .push(format!("order {key:?} is not at the marketplace"));
        }
    }
    shipment_problems(&app, account, markets, requested, &mut v.problems).await;
    app.store.close().await;
    v
}

// ---------------------------------------------------------------------------------------
// The run.

async fn chaos(database: Option<PgDatabase>) {
    let secs = env_u64("ORDERVAULT_CHAOS_SECS", 45);
    let kills = env_u64("ORDERVAULT_CHAOS_KILLS", 12).max(10);
    let tmp = tempfile::tempdir().unwrap();
    // ORDERVAULT_CHAOS_KEEP=1 keeps the data dir and the serve logs for a post-mortem.
    let tmp_path = if std::env::var_os("ORDERVAULT_CHAOS_KEEP").is_some() {
        tmp.keep()
    } else {
        tmp.path().to_path_buf()
    };
    let mut service = Service {
        dir: tmp_path.clone(),
        database_url: database.as_ref().map(|d| d.url.clone()).unwrap_or_default(),
        runs: 0,
    };
    let seed = rand::thread_rng().gen_range(0..1_000_000);
    eprintln!(
        "chaos: seed {seed}, {secs} s, {kills} kills, dir {}",
        tmp_path.display()
    );

    let (recv_addr, receiver) = start_receiver().await;
    let markets = vec![
        start_market(MarketplaceKind::Bol, 50, seed).await,
        start_market(MarketplaceKind::Amazon, 8, seed + 1).await,
        start_market(MarketplaceKind::Ebay, 80, seed + 2).await,
    ];

    // Set-up through the CLI, as an operator would.
    let account: serde_json::Value =
        serde_json::from_str(&service.cli(&["account", "create", "Chaos shop"])).unwrap();
    let account: AccountId = account["id"].as_str().unwrap().parse().unwrap();
    for m in &markets {
        let file = tmp_path.join(format!("{}.json", m.kind));
        std::fs::write(&file, credentials(m.kind)).unwrap();
        service.cli(&[
            "connection",
            "add",
            "--account",
            account.as_str(),
            "--marketplace",
            m.kind.as_str(),
            "--credentials-file",
            file.to_str().unwrap(),
            "--base-url",
            &m.handle.base_url(),
            "--auth-url",
            &m.handle.auth_url(m.kind),
            "--interval",
            "10s",
        ]);
    }
    let secret = service.cli(&[
        "webhook",
        "add",
        "--account",
        account.as_str(),
        "--url",
        &format!("http://{recv_addr}/hooks"),
    ]);
    *receiver.key.lock().unwrap() = Some(
        ordervault::forward::signing::secret_key(secret.trim())
            .unwrap()
            .to_vec(),
    );

    // The receiver changes its mood every second or so.
    let moods = {
        let r = receiver.clone();
        tokio::spawn(async move {
            loop {
                let mode = match rand::thread_rng().gen_range(0..10) {
                    0..=4 => HEALTHY,
                    5..=6 => DOWN,
                    7 => SLOW,
                    _ => FLAKY,
                };
                r.mode.store(mode, Ordering::SeqCst);
                let ms = rand::thread_rng().gen_range(500..2000);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
        })
    };

    // Kill at random points: spread `kills` over `secs`, each gap 30–170 % of the mean.
    let mean_ms = secs * 1000 / kills;
    let mut child = service.serve();
    let mut requested: Vec<Requested> = Vec::new();
    for k in 0..kills {
        // From the second kill on, shipments are requested while serve may die any time.
        if k >= 1 && requested.len() < 12 {
            ship_some(&service, &account, &mut requested, 2).await;
        }
        let gap = rand::thread_rng().gen_range(mean_ms * 3 / 10..=mean_ms * 17 / 10);
        tokio::time::sleep(Duration::from_millis(gap)).await;
        assert!(
            child.try_wait().unwrap().is_none(),
            "serve died by itself:\n{}",
            service.logs()
        );
        sigkill(&mut child);
        child = service.serve();
    }

    // The final clean run: a healthy receiver, no more kills; wait for everything to settle.
    moods.abort();
    receiver.mode.store(HEALTHY, Ordering::SeqCst);
    let clean_start = chrono::Utc::now().timestamp_millis();
    // An upper bound: the loop ends as soon as everything checks out (typically 10–30 s:
    // a killed run's lease, then one paced Amazon run re-listing its overlap window).
    let settle = Duration::from_secs(env_u64("ORDERVAULT_CHAOS_SETTLE_SECS", 60));
    let deadline = Instant::now() + settle;
    let mut last;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        last = verdict(
            &service,
            &account,
            &markets,
            &receiver,
            clean_start,
            &requested,
        )
        .await;
        if last.problems.is_empty() && last.stored > 0 {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
    }
    stop_gracefully(&mut child);
    let v = verdict(
        &service,
        &account,
        &markets,
        &receiver,
        clean_start,
        &requested,
    )
    .await;
    let logs = service.logs();
    eprintln!(
        "chaos: {} kills, {} serve runs; {} orders stored, {} exactly as the marketplace, \
         {} changed after the cursor; receiver: {} requests, {} accepted, {} distinct ids",
        kills,
        service.runs,
        v.stored,
        v.exact,
        v.pending,
        receiver.requests.load(Ordering::SeqCst),
        receiver.accepted.load(Ordering::SeqCst),
        receiver.seen.lock().unwrap().len(),
    );
    eprintln!("chaos: {}", v.summary.join("; "));
    assert!(
        v.problems.is_empty(),
        "after the clean run ({} problems, first 20): {:#?}\nlast log lines:\n{}",
        v.problems.len(),
        &v.problems[..v.problems.len().min(20)],
        logs.lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(receiver.bad_signatures.load(Ordering::SeqCst), 0);
    assert!(v.stored >= 80, "the marketplaces' orders were synced");
    assert!(
        v.exact * 10 >= v.stored * 9,
        "most orders are settled: {v:?}"
    );
    for m in &markets {
        assert!(
            v.stored_per_market
                .get(m.kind.as_str())
                .copied()
                .unwrap_or(0)
                > 0,
            "{} was synced: {v:?}",
            m.kind
        );
    }
    assert!(
        requested.len() >= 4,
        "shipments were requested during the kills: {requested:?}"
    );
    eprintln!(
        "chaos: {} shipments requested, each accepted once",
        requested.len()
    );
    assert!(!logs.contains("panicked"), "no panic in any run:\n{logs}");
    drop(database);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_kills_and_faults() {
    chaos(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_kills_and_faults() {
    if let Some(db) = fresh_pg().await {
        chaos(Some(db)).await;
    }
}
