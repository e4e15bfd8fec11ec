//! `ordervault demo`: the whole product in one command, on a fresh checkout. Three sandbox
//! marketplaces, a local "backoffice" that prints what it receives, the service on an
//! embedded SQLite store in a temporary directory, and a demo clock that can jump a month.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::State;
use axum::http::HeaderMap;
use ordervault_connectors::clock::OffsetClock;
use ordervault_connectors::sandbox::{self, SandboxConfig, SandboxHandle};
use ordervault_connectors::MarketplaceKind;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::app::App;
use crate::config::Settings;
use crate::forward::{add_webhook, Forwarder, NewWebhook};
use crate::ids::{AccountId, Role};
use crate::ingest::connections::{add_connection, ClientOptions, NewConnection};
use crate::ingest::sync::SyncWorker;

/// Knobs of the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Orders per marketplace.
    pub orders: usize,
    pub seed: u64,
    /// After the month jump, add a second account that needs attention, print the
    /// console's URL and an admin token, and keep syncing until Ctrl-C; then close.
    pub keep_running: bool,
}

#[derive(Clone)]
struct Backoffice {
    key: Arc<Mutex<Vec<u8>>>,
    received: Arc<AtomicU64>,
    bad_signatures: Arc<AtomicU64>,
    ids: Arc<Mutex<std::collections::HashSet<String>>>,
}

async fn receive(
    State(b): State<Backoffice>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> &'static str {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let id = h("webhook-id");
    let ts: i64 = h("webhook-timestamp").parse().unwrap_or(0);
    let key = b.key.lock().expect("key").clone();
    if !crate::forward::signing::verify(&key, &id, ts, &body, &h("webhook-signature")) {
        b.bad_signatures.fetch_add(1, Ordering::Relaxed);
    }
    let n = b.received.fetch_add(1, Ordering::Relaxed) + 1;
    b.ids.lock().expect("ids").insert(id);
    if n <= 3 {
        // Show what the backoffice gets: business fields only on the terminal.
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        println!(
            "    backoffice received {} {}/{} (status {}, fulfilled by {}, signature verified)",
            v["type"].as_str().unwrap_or("?"),
            v["data"]["marketplace"].as_str().unwrap_or("?"),
            v["data"]["order_number"].as_str().unwrap_or("?"),
            v["data"]["status"].as_str().unwrap_or("?"),
            v["data"]["terms"]["fulfilment_method"]
                .as_str()
                .unwrap_or("?"),
        );
    }
    "ok"
}

/// Runs the demo to the end and prints a summary.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let clock = OffsetClock::new();
    println!(
        "ordervault demo — everything runs locally, in {}",
        dir.path().display()
    );

    // 1. Marketplaces.
    let config = SandboxConfig {
        orders: options.orders,
        seed: options.seed,
        // The demo runs unthrottled; rate limits are exercised by the test suite.
        rate_limits: false,
        history: chrono::Duration::days(5),
        arrival_span: chrono::Duration::minutes(1),
        ..SandboxConfig::default()
    };
    let shared: ordervault_connectors::clock::SharedClock = Arc::new(clock.clone());
    let mut sandboxes: Vec<(MarketplaceKind, SandboxHandle)> = Vec::new();
    for kind in MarketplaceKind::ALL {
        let h = sandbox::start(kind, config.clone(), shared.clone()).await?;
        println!(
            "  {kind:<6} sandbox on http://{} ({} orders)",
            h.addr, options.orders
        );
        sandboxes.push((kind, h));
    }

    // 2. The backoffice.
    let backoffice = Backoffice {
        key: Arc::default(),
        received: Arc::default(),
        bad_signatures: Arc::default(),
        ids: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_addr = listener.local_addr()?;
    let router = axum::Router::new()
        .route("/webhook", axum::routing::post(receive))
        .route(
            "/gone",
            axum::routing::post(|| async { axum::http::StatusCode::GONE }),
        )
        .route("/accept", axum::routing::post(|| async { "ok" }))
        .with_state(backoffice.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    println!("  backoffice webhook receiver on http://{hook_addr}/webhook");

    // 3. The service.
    let mut settings = Settings::default();
    settings.data.dir = dir.path().join("data");
    settings.keys.master_key_file = dir.path().join("master.key").display().to_string();
    // The demo's backoffice receiver listens on 127.0.0.1.
    settings.forward.allow_private_targets = true;
    let app = App::build(settings, shared.clone()).await?;
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api_addr = api_listener.local_addr()?;
    let api = crate::api::router(app.clone());
    tokio::spawn(async move { axum::serve(api_listener, api).await });
    println!("  ordervault API on http://{api_addr}/api/v1 (SQLite store)");

    let account = crate::accounts::create_account(&app, "Demo Fietsen B.V.", Some(30)).await?;
    let account_id: AccountId = account.id.clone();
    println!(
        "\nAccount {} created (retention 30 days after fulfilment)",
        account.id
    );
    for (kind, h) in &sandboxes {
        add_connection(
            &app,
            NewConnection {
                account: account_id.clone(),
                marketplace: *kind,
                credentials_json: Zeroizing::new(config.credentials.connection_file(*kind)),
                settings: h.settings(*kind),
                interval: Duration::from_secs(60),
            },
        )
        .await?;
    }
    let (_, secret) = add_webhook(
        &app,
        NewWebhook {
            account: account_id.clone(),
            url: format!("http://{hook_addr}/webhook"),
            secret: None,
        },
    )
    .await?;
    *backoffice.key.lock().expect("key") = crate::forward::signing::secret_key(&secret)
        .map(|k| k.to_vec())
        .unwrap_or_default();
    println!("Connected to bol, amazon and ebay; webhook endpoint registered\n");

    // 4. Orders flow.
    println!("Syncing and forwarding:");
    let worker = SyncWorker::new(
        app.clone(),
        ClientOptions {
            unpaced: true,
            ..ClientOptions::default()
        },
    );
    let forwarder = Forwarder::new(app.clone());
    let store = app.store.account(&account_id).await?;
    let runs = worker.run_due(3).await?;
    for r in &runs {
        println!(
            "  {:<6} synced: {} new, {} updated, {} failed ({} pages)",
            r.marketplace, r.inserted, r.updated, r.failed, r.pages
        );
    }
    let stored = store.count_orders().await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        forwarder.run_once().await?;
        let got = backoffice.ids.lock().expect("ids").len() as i64;
        print!("\r  forwarded {got}/{stored} orders to the backoffice   ");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if got >= stored || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!();

    // 4b. The backoffice ships and cancels; the marketplaces answer.
    ship_step(&app, &account_id, api_addr, &clock, &worker).await?;
    forwarder.run_once().await?;

    // 5. Support lookup through the API, masked.
    let support = crate::tokens::create_token(&app, Role::Support, None, Some("demo support"))
        .await?
        .0;
    let sample = store.list_after(0, 1).await?;
    let number = sample.first().map(|r| r.order_number.clone());
    if let Some(n) = &number {
        println!("\nSupport looks up order {n} by its exact number:");
        support_lookup(api_addr, account.id.as_str(), n, support.expose_secret()).await?;
    }

    // 6. A month later.
    clock.advance(chrono::Duration::days(31));
    println!("\nDemo clock advanced 31 days: retention has passed for fulfilled orders.");
    let swept = pseudonymize_step(&app).await?;
    println!("  pseudonymized {swept} orders (customer data erased, pseudonym kept)");
    if let Some(n) = &number {
        println!("Support looks up order {n} again:");
        support_lookup(api_addr, account.id.as_str(), n, support.expose_secret()).await?;
    }

    if options.keep_running {
        let extra = keep_running(
            &app,
            api_addr,
            hook_addr,
            &config,
            shared.clone(),
            options.seed,
        )
        .await?;
        crate::privacy::closure::close_account(&app, &extra).await?;
    }

    // 7. Closure.
    let receipt = crate::privacy::closure::close_account(&app, &account.id).await?;
    println!(
        "\nAccount closed. Deletion receipt:\n{}",
        serde_json::to_string_pretty(&receipt)?
    );

    let bad = backoffice.bad_signatures.load(Ordering::Relaxed);
    println!(
        "\nSummary: {stored} orders from 3 marketplaces stored encrypted, {} webhook deliveries \
         ({} distinct events, {bad} bad signatures), {swept} pseudonymized, account closed — in {:.1} s.",
        backoffice.received.load(Ordering::Relaxed),
        backoffice.ids.lock().expect("ids").len(),
        started.elapsed().as_secs_f64()
    );
    app.store.close().await;
    Ok(())
}

/// The backoffice confirms a shipment on each marketplace and cancels a bol order through
/// the API; the pusher delivers them and the next sync shows the orders shipped.
async fn ship_step(
    app: &App,
    account: &AccountId,
    api_addr: std::net::SocketAddr,
    clock: &OffsetClock,
    worker: &SyncWorker,
) -> anyhow::Result<()> {
    let token = crate::tokens::create_token(app, Role::Backoffice, Some(account.as_str()), None)
        .await?
        .0;
    let store = app.store.account(account).await?;
    let mut open = store.list_after(0, 100_000).await?;
    open.retain(|r| r.status == "open");
    open.sort_by_key(|r| std::cmp::Reverse(r.placed_at));
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        http.post(format!("http://{api_addr}/api/v1{path}"))
            .bearer_auth(token.expose_secret())
            .header("Idempotency-Key", format!("demo-{path}"))
            .json(&body)
            .send()
    };
    println!("\nThe backoffice ships orders and cancels one (POST /orders/{{n}}/shipments, /cancellations):");
    let mut asked = Vec::new();
    for (kind, carrier) in [
        (MarketplaceKind::Bol, "postnl"),
        (MarketplaceKind::Amazon, "dhl"),
        (MarketplaceKind::Ebay, "ups"),
    ] {
        let Some(row) = open.iter().find(|r| r.marketplace == kind.as_str()) else {
            continue;
        };
        let body = serde_json::json!({"carrier": carrier,
            "tracking_number": format!("3SDEMO{}", row.id), "reference": format!("BO-{}", row.id)});
        let resp = post(
            format!("/orders/{}/shipments?marketplace={kind}", row.order_number),
            body,
        )
        .await?;
        println!(
            "  {:<6} order {:<20} shipment via {carrier:<6} → HTTP {}",
            kind.as_str(),
            row.order_number,
            resp.status().as_u16()
        );
        asked.push(row.id);
    }
    if let Some(row) = open.iter().filter(|r| r.marketplace == "bol").nth(1) {
        let resp = post(
            format!("/orders/{}/cancellations?marketplace=bol", row.order_number),
            serde_json::json!({"reason": "out_of_stock"}),
        )
        .await?;
        println!(
            "  bol    order {:<20} cancellation (out_of_stock) → HTTP {}",
            row.order_number,
            resp.status().as_u16()
        );
        asked.push(row.id);
    }
    if let Some(row) = open.iter().find(|r| r.marketplace == "ebay") {
        let resp = post(
            format!(
                "/orders/{}/cancellations?marketplace=ebay",
                row.order_number
            ),
            serde_json::json!({"reason": "out_of_stock"}),
        )
        .await?;
        let status = resp.status().as_u16();
        let p: serde_json::Value = resp.json().await.unwrap_or_default();
        println!(
            "  ebay   order {:<20} cancellation → HTTP {status}: {}",
            row.order_number,
            p["detail"].as_str().unwrap_or("")
        );
    }
    let pusher = crate::fulfilment::Pusher::new(
        app.clone(),
        ClientOptions {
            unpaced: true,
            ..ClientOptions::default()
        },
    );
    for _ in 0..10 {
        pusher.run_once().await?;
        clock.advance(chrono::Duration::seconds(2));
    }
    println!("The marketplaces answered:");
    for id in &asked {
        for r in store.requests_for_order(*id).await? {
            let v = crate::fulfilment::view::request_view(&r);
            println!(
                "  {:<6} {:<12} {:<8} {}",
                v.marketplace,
                v.kind,
                v.state,
                v.marketplace_ref
                    .or(v.marketplace_reason)
                    .unwrap_or_default()
            );
        }
    }
    clock.advance(chrono::Duration::minutes(5));
    for c in app.store.catalog().connections(Some(account)).await? {
        app.store.catalog().make_due(&c.id, app.now_ms()).await?;
    }
    worker.run_due(3).await?;
    println!("Next sync — the marketplaces now say:");
    for id in &asked {
        if let Some(r) = store.get_by_id(*id).await? {
            println!(
                "  {:<6} order {:<20} {}",
                r.marketplace, r.order_number, r.status
            );
        }
    }
    Ok(())
}

/// One masked lookup through the HTTP API, printed briefly.
async fn support_lookup(
    api: std::net::SocketAddr,
    account: &str,
    number: &str,
    token: &str,
) -> anyhow::Result<()> {
    let url = format!("http://{api}/api/v1/support/accounts/{account}/orders/{number}");
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await?;
    let status = resp.status();
    let v: serde_json::Value = resp.json().await.unwrap_or_default();
    let o = &v["orders"][0];
    let brief = serde_json::json!({
        "http": status.as_u16(), "order_number": o["order_number"], "marketplace": o["marketplace"],
        "status": o["status"], "customer": o["customer"],
        "forwarding": o["forwarding"]["webhooks"][0]["state"],
    });
    println!("{}", serde_json::to_string_pretty(&brief)?);
    Ok(())
}

/// The retention sweep the scheduler would run at this (advanced) time.
async fn pseudonymize_step(app: &App) -> anyhow::Result<u64> {
    Ok(crate::privacy::pseudonymize::sweep(app, None)
        .await?
        .pseudonymized)
}

/// `--keep-running`: a second account whose orders arrive now (a fresh bol sandbox on
/// the advanced clock) with an Amazon connection whose credentials are refused and two
/// webhook endpoints, one answering 410 Gone, so the console has something that needs
/// attention; then the console's URL and tokens, and sync + forwarding every 10 s until
/// Ctrl-C. Returns the second account's id, for closure.
async fn keep_running(
    app: &App,
    api_addr: std::net::SocketAddr,
    hook_addr: std::net::SocketAddr,
    config: &SandboxConfig,
    clock: ordervault_connectors::clock::SharedClock,
    seed: u64,
) -> anyhow::Result<AccountId> {
    let fresh = SandboxConfig {
        seed: seed + 1,
        ..config.clone()
    };
    let bol = sandbox::start(MarketplaceKind::Bol, fresh.clone(), clock.clone()).await?;
    let amazon = sandbox::start(MarketplaceKind::Amazon, fresh.clone(), clock).await?;
    let account = crate::accounts::create_account(app, "Demo Outdoor B.V.", Some(30)).await?;
    let id: AccountId = account.id.clone();
    add_connection(
        app,
        NewConnection {
            account: id.clone(),
            marketplace: MarketplaceKind::Bol,
            credentials_json: Zeroizing::new(
                fresh.credentials.connection_file(MarketplaceKind::Bol),
            ),
            settings: bol.settings(MarketplaceKind::Bol),
            interval: Duration::from_secs(60),
        },
    )
    .await?;
    let refused = serde_json::json!({"client_id": "demo", "client_secret": "wrong", "refresh_token": "wrong"});
    add_connection(
        app,
        NewConnection {
            account: id.clone(),
            marketplace: MarketplaceKind::Amazon,
            credentials_json: Zeroizing::new(refused.to_string()),
            settings: amazon.settings(MarketplaceKind::Amazon),
            interval: Duration::from_secs(60),
        },
    )
    .await?;
    for path in ["accept", "gone"] {
        add_webhook(
            app,
            NewWebhook {
                account: id.clone(),
                url: format!("http://{hook_addr}/{path}"),
                secret: None,
            },
        )
        .await?;
    }
    let worker = SyncWorker::new(
        app.clone(),
        ClientOptions {
            unpaced: true,
            ..ClientOptions::default()
        },
    );
    let forwarder = Forwarder::new(app.clone());
    worker.run_due(3).await?;
    forwarder.run_once().await?;
    let admin = crate::tokens::create_token(app, Role::Admin, None, Some("demo console"))
        .await?
        .0;
    let support = crate::tokens::create_token(app, Role::Support, None, Some("demo support page"))
        .await?
        .0;
    println!(
        "\nAccount {} (\"Demo Outdoor B.V.\") added: its Amazon credentials are refused and one \
         of its two webhooks answers 410 Gone, so it needs attention.",
        account.id
    );
    println!("\nOperator console: http://{api_addr}/console");
    println!("  admin token:   {}", admin.expose_secret());
    println!("Support page:    http://{api_addr}/support");
    println!("  support token: {}", support.expose_secret());
    println!("\nSyncing and forwarding every 10 s; press Ctrl-C to close the accounts and end.");
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {
                if let Err(e) = worker.run_due(3).await {
                    tracing::warn!(error = %e, "demo sync failed");
                }
                if let Err(e) = forwarder.run_once().await {
                    tracing::warn!(error = %e, "demo forwarding failed");
                }
            }
        }
    }
    println!();
    drop((bol, amazon));
    Ok(account.id)
}
