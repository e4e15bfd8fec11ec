//! Issue 12 (security hardening), tried from outside as an attacker would: webhook
//! targets on internal addresses (at registration and at delivery), tenant-blind public
//! listener, slow and oversized requests, a connection cap, owner-only files and a
//! guarded master key file, and problem+json for every error.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::api::{Loops, TestApp};
use crate::common::{order, Backend, TestEnv};
use ordervault::accounts::create_account;
use ordervault::forward::{add_webhook, Forwarder, NewWebhook};
use ordervault::ids::{AccountId, Role};
use ordervault::ingest::write_orders;
use ordervault::store::Pool;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn account(env: &TestEnv) -> AccountId {
    create_account(&env.app, "Shop", None)
        .await
        .unwrap()
        .id
        .clone()
}

/// A receiver on 127.0.0.1 that counts what reaches it.
async fn counting_receiver() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

/// Point 2: with the default `forward.allow_private_targets = false`, every spelling of
/// an internal target is a 422 problem naming the rule; a malformed URL is a 400.
async fn internal_webhook_targets_are_refused(env: TestEnv) {
    let id = account(&env).await;
    let mut settings = env.settings.clone();
    settings.forward.allow_private_targets = false;
    let strict = env.restart(settings).await.unwrap();
    let service = TestApp::spawn_app(&strict, Loops::default()).await;
    let backoffice = common::api::token(&env, Role::Backoffice, Some(&id)).await;
    let post = |url: &str| service.create_webhook(&backoffice, json!({ "url": url }));
    for (url, rule) in [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost:8080/hook", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://127.1/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1:2375/containers/json", "private"),
        ("https://192.168.0.1/", "private"),
        ("http://[fd12::1]/", "unique-local"),
        ("http://224.0.0.1/", "multicast"),
    ] {
        let resp = post(url).await;
        assert_eq!(resp.status, 422, "{url}");
        assert_eq!(resp.header("content-type"), "application/problem+json");
        let body: Value = resp.json();
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(rule), "{url}: {detail}");
        assert!(!detail.contains(url), "the URL is not echoed: {detail}");
    }
    for url in [
        "http://[::1",
        "http://example.com/a\u{0}b",
        "gopher://example.com/",
        "https://user:pw@example.com/",
    ] {
        let resp = post(url).await;
        assert_eq!(resp.status, 400, "{url:?}");
        assert_eq!(resp.header("content-type"), "application/problem+json");
    }
    let catalog = strict.store.catalog();
    assert!(catalog.webhooks(Some(&id)).await.unwrap().is_empty());
}

/// Point 2, at delivery: targets registered while internal targets were allowed are
/// checked again before every request (an IP literal directly, a host name through the
/// forwarder's resolver), so nothing reaches them once the setting is off, and each
/// attempt records the rule instead of dropping the event silently.
async fn delivery_rechecks_the_target(env: TestEnv) {
    let id = account(&env).await;
    let (addr, hits) = counting_receiver().await;
    for url in [
        format!("http://{addr}/hook"),
        format!("http://localhost:{}/hook", addr.port()),
    ] {
        add_webhook(
            &env.app,
            NewWebhook {
                account: id.clone(),
                url,
                secret: None,
            },
        )
        .await
        .unwrap();
    }
    let store = env.app.store.account(&id).await.unwrap();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    write_orders(&store, &keys, &[order("S-1", 0)], env.app.now_ms())
        .await
        .unwrap();
    let mut settings = env.settings.clone();
    settings.forward.allow_private_targets = false;
    let strict = env.restart(settings).await.unwrap();
    let report = Forwarder::with_owner(strict, "strict".into())
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.delivered, 0);
    assert_eq!(report.retrying, 2);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused target was contacted"
    );
    let sql = format!(
        "SELECT last_error FROM {}deliveries ORDER BY endpoint_id",
        store.prefix()
    );
    let errors: Vec<Option<String>> = match store.pool() {
        Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
    };
    assert_eq!(errors.len(), 2);
    for e in errors {
        assert!(e.as_deref().unwrap_or("").contains("loopback"), "{e:?}");
    }
    // With the operator's switch on (as in these tests), the same targets receive.
    let report = Forwarder::with_owner(env.app.clone(), "open".into());
    env.clock.advance(chrono::Duration::hours(1));
    assert_eq!(report.run_once().await.unwrap().delivered, 2);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

/// Point 3: the public listener serves no metrics; the metrics listener does.
async fn metrics_only_on_their_own_listener(env: TestEnv) {
    let id = account(&env).await;
    let (addr, _) = counting_receiver().await;
    add_webhook(
        &env.app,
        NewWebhook {
            account: id.clone(),
            url: format!("http://{addr}/hook"),
            secret: None,
        },
    )
    .await
    .unwrap();
    let loops = common::api::Loops {
        metrics: true,
        ..Default::default()
    };
    let service = common::api::TestApp::spawn_with(&env, loops).await;
    let base = service.base.clone();
    let resp = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert!(!resp.text().await.unwrap().contains(id.as_str()));

    let text = service.metrics_text().await;
    assert!(text.contains(id.as_str()), "{text}");
    assert_eq!(
        ordervault::config::Settings::default().metrics.bind,
        "127.0.0.1:9898"
    );
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    // A liveness bound only: the server must close by itself.
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stream.read_to_end(&mut out),
    )
    .await;
    assert!(read.is_ok(), "the server kept a slow connection open");
    String::from_utf8_lossy(&out).into_owned()
}

/// Point 4: slow headers and slow bodies are cut off, a declared length over the limit
/// is refused at once, and connections beyond the cap wait.
async fn slow_and_oversized_requests_are_cut_off(env: TestEnv) {
    let mut settings = env.settings.clone();
    settings.server.header_read_timeout_ms = 300;
    settings.server.body_read_timeout_ms = 300;
    settings.server.max_connections = 2;
    let app = env.restart(settings).await.unwrap();
    let service = TestApp::spawn_app(&app, Loops::default()).await;
    let base = service.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    let admin = common::api::token(&env, Role::Admin, None).await;

    // Partial headers: closed without an answer.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    read_to_close(&mut slow).await;

    // Partial body: 408 problem, then closed.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\""
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // A declared length over the limit: 413 before any body byte is sent.
    let mut big = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 999999999999\r\n\r\n"
    );
    big.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = big.read(&mut buf).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    drop(big);
}

/// Point 4: with `server.max_connections = 2`, a third client is not served while two
/// connections are open, and is served as soon as one closes.
async fn connections_beyond_the_cap_wait(env: TestEnv) {
    let mut settings = env.settings.clone();
    settings.server.max_connections = 2;
    let app = env.restart(settings).await.unwrap();
    let service = TestApp::spawn_app(&app, Loops::default()).await;
    let base = service.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        // A complete request keeps the connection (keep-alive) and proves it is served.
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
    }
    let third = tokio::spawn(reqwest::get(format!("{base}/healthz")));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!third.is_finished(), "a third connection was served");
    held.pop();
    let resp = third.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
}

/// Point 6: the data directory is 0700 and every SQLite file 0600; a master key file
/// readable by others stops start-up with a message naming the file and the fix.
async fn files_are_owner_only(env: TestEnv) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let id = account(&env).await;
    let store = env.app.store.account(&id).await.unwrap();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    write_orders(&store, &keys, &[order("F-1", 0)], env.app.now_ms())
        .await
        .unwrap();
    let data = env.data_dir();
    assert_eq!(mode(&data), 0o700);
    if env.backend == Backend::Sqlite {
        assert_eq!(mode(&data.join("accounts")), 0o700);
        let mut files = 0;
        for dir in [data.clone(), data.join("accounts")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    files += 1;
                    assert_eq!(mode(&path), 0o600, "{}", path.display());
                }
            }
        }
        // catalog.db, its -wal/-shm, the account's .db, -wal, -shm.
        assert!(files >= 4, "{files} files");
    }
    let key_file = std::path::PathBuf::from(&env.settings.keys.master_key_file);
    assert_eq!(mode(&key_file), 0o600);
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = env
        .restart(env.settings.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&key_file.display().to_string()), "{err}");
    assert!(
        err.contains(&format!("chmod 600 {}", key_file.display())),
        "{err}"
    );
}

/// Point 7: every error on every route is problem+json with fixed wording (no parser
/// text), 405 included; the Bearer scheme is case-insensitive.
async fn every_error_is_a_problem(env: TestEnv) {
    let id = account(&env).await;
    let service = common::api::TestApp::spawn(&env).await;
    let backoffice = common::api::token(&env, Role::Backoffice, Some(&id)).await;
    let admin = common::api::token(&env, Role::Admin, None).await;
    let cases = [
        ("GET", "/api/v1/orders/new?limit=abc", &backoffice, 400),
        (
            "GET",
            "/api/v1/orders/new?limit=99999999999999999999",
            &backoffice,
            400,
        ),
        ("GET", "/api/v1/audit?limit=x", &backoffice, 400),
        (
            "GET",
            "/api/v1/webhooks/w/dead-letters?limit=1e3",
            &backoffice,
            400,
        ),
        ("GET", "/api/v1/orders/%FF%FE", &backoffice, 400),
        ("PUT", "/api/v1/accounts", &admin, 405),
        ("DELETE", "/api/v1/orders/new", &backoffice, 405),
        ("GET", "/api/v1/nothing-here", &admin, 404),
        ("PATCH", "/healthz", &admin, 405),
    ];
    for (method, path, token, status) in cases {
        // Malformed on purpose, so through the untyped `call`.
        let resp = service.call(method, path, Some(token), None).await;
        assert_eq!(resp.status, status, "{method} {path}");
        assert_eq!(
            resp.header("content-type"),
            "application/problem+json",
            "{method} {path}"
        );
        if status == 405 {
            assert!(resp.headers.contains_key("allow"), "{method} {path}");
        }
        let body: Value = resp.json();
        assert_eq!(body["status"], status);
        let detail = body["detail"].as_str().unwrap();
        for leak in ["invalid digit", "UTF-8", "deserialize", "abc", "limit:"] {
            assert!(!detail.contains(leak), "{method} {path}: {detail}");
        }
    }
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let authorization = format!("{scheme} {backoffice}");
        let resp = service
            .call_with(
                "GET",
                "/api/v1/webhooks",
                None,
                None,
                &[("authorization", &authorization)],
            )
            .await;
        assert_eq!(resp.status, 200, "{scheme}");
    }
}

/// Issue 17 point 4: a stored order that no longer decrypts is the server's fault, a 500
/// problem with fixed wording and a correlation id (16 hex digits) to quote, and nothing of
/// the cause or the order in the body; the other orders still answer.
async fn server_faults_are_500_with_a_correlation_id(env: TestEnv) {
    let id = account(&env).await;
    let store = env.app.store.account(&id).await.unwrap();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    write_orders(
        &store,
        &keys,
        &[order("BROKEN-1", 0), order("FINE-1", 0)],
        env.app.now_ms(),
    )
    .await
    .unwrap();
    // A ciphertext bound to another column: decryption fails, as after tampering.
    let changed = common::exec(
        &store,
        "UPDATE {p}orders SET shipping_ct = email_ct WHERE order_number = 'BROKEN-1'",
    )
    .await;
    assert_eq!(changed, 1);
    let service = TestApp::spawn(&env).await;
    let backoffice = common::api::token(&env, Role::Backoffice, Some(&id)).await;
    let mut ids = Vec::new();
    let answers = [
        (
            "/orders/BROKEN-1",
            service.order(&backoffice, "BROKEN-1").await,
        ),
        ("/orders/new", service.new_orders(&backoffice).await),
    ];
    for (path, resp) in answers {
        assert_eq!(resp.status, 500, "{path}");
        assert_eq!(resp.header("content-type"), "application/problem+json");
        let body: Value = resp.json();
        assert_eq!(body["status"], 500);
        assert_eq!(body["title"], "Internal Server Error");
        assert_eq!(
            body["detail"],
            ordervault::api::problem::INTERNAL_DETAIL,
            "{path}"
        );
        let cid = body["correlation_id"].as_str().unwrap().to_owned();
        assert!(
            cid.len() == 16 && cid.bytes().all(|b| b.is_ascii_hexdigit()),
            "{cid}"
        );
        let text = body.to_string();
        for leak in ["BROKEN", "decrypt", "shipping", "Bakker"] {
            assert!(!text.contains(leak), "{path}: {text}");
        }
        ids.push(cid);
    }
    assert_ne!(ids[0], ids[1], "one correlation id per failure");
    assert_eq!(service.order(&backoffice, "FINE-1").await.status, 200);
}

/// Issue 17, points 3 and 4: a connection row whose account id is not an id (padded, as
/// in the closure bug of issue 12) is caught where the catalog row is read, and the
/// listing answers a 500 problem with a correlation id, not a record with a raw string.
async fn corrupt_catalog_ids_are_server_faults(env: TestEnv) {
    use ordervault::ingest::connections::{add_connection, NewConnection};
    let id = account(&env).await;
    add_connection(
        &env.app,
        NewConnection {
            account: id.clone(),
            marketplace: ordervault::connectors::MarketplaceKind::Bol,
            credentials_json: zeroize::Zeroizing::new(
                json!({"client_id": "c", "client_secret": "s"}).to_string(),
            ),
            settings: Default::default(),
            interval: std::time::Duration::from_secs(60),
        },
    )
    .await
    .unwrap();
    let service = TestApp::spawn(&env).await;
    let admin = common::api::token(&env, Role::Admin, None).await;
    assert_eq!(service.connections(&admin).await.status, 200);
    let catalog = env.app.store.catalog();
    let sql = format!(
        "UPDATE {}connections SET account_id = account_id || ' '",
        catalog.prefix()
    );
    match catalog.pool() {
        Pool::Sqlite(p) => sqlx::query(&sql).execute(p).await.map(|_| ()).unwrap(),
        Pool::Postgres(p) => sqlx::query(&sql).execute(p).await.map(|_| ()).unwrap(),
    }
    let err = catalog.connections(None).await.unwrap_err();
    assert!(
        matches!(err, ordervault::store::StoreError::Corrupt(_)),
        "{err}"
    );
    let resp = service.connections(&admin).await;
    assert_eq!(resp.status, 500);
    let body: Value = resp.json();
    assert_eq!(body["detail"], ordervault::api::problem::INTERNAL_DETAIL);
    assert!(body["correlation_id"].is_string());
    assert!(!body.to_string().contains(id.as_str()), "{body}");
}

both_backends!(
    server_faults_are_500_with_a_correlation_id,
    corrupt_catalog_ids_are_server_faults,
    internal_webhook_targets_are_refused,
    delivery_rechecks_the_target,
    metrics_only_on_their_own_listener,
    files_are_owner_only,
    every_error_is_a_problem,
);

mod server {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_and_oversized_requests_are_cut_off() {
        crate::common::run(
            crate::common::Backend::Sqlite,
            super::slow_and_oversized_requests_are_cut_off,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_beyond_the_cap_wait() {
        crate::common::run(
            crate::common::Backend::Sqlite,
            super::connections_beyond_the_cap_wait,
        )
        .await;
    }
}
