//! Forwarding to the backoffice, on both backends: signed webhooks from the transactional
//! outbox (receiver down then up, 410, per-order ordering, crash between commit and send,
//! dead letters and replay), pull + ack, and cross-account isolation on every endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::common::api::token;
use crate::common::api::TestApp;
use crate::common::{order, TestEnv};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::connectors::{Order, OrderStatus};
use ordervault::forward::signing::verify;
use ordervault::forward::{add_webhook, Forwarder, NewWebhook};
use ordervault::ids::{AccountId, Role};
use ordervault::ingest::write_orders;
use serde_json::{json, Value};

/// What the test receiver does with the next requests.
#[derive(Clone, Debug)]
enum Mode {
    Accept,
    Status(u16),
    RetryAfter(u64),
    /// Fail this webhook-id once, accept everything else.
    FailOnce(String),
}

#[derive(Clone, Debug)]
struct Received {
    id: String,
    signature_ok: bool,
    body: Value,
    accepted: bool,
}

#[derive(Clone)]
struct Receiver {
    key: Arc<Mutex<Vec<u8>>>,
    mode: Arc<Mutex<Mode>>,
    log: Arc<Mutex<Vec<Received>>>,
    failed_once: Arc<Mutex<Vec<String>>>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> impl IntoResponse {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let id = h("webhook-id");
    let ts: i64 = h("webhook-timestamp").parse().unwrap_or(0);
    let key = r.key.lock().unwrap().clone();
    let signature_ok = verify(&key, &id, ts, &body, &h("webhook-signature"));
    let mode = r.mode.lock().unwrap().clone();
    let (status, retry_after) = match mode {
        Mode::Accept => (200, None),
        Mode::Status(s) => (s, None),
        Mode::RetryAfter(s) => (429, Some(s)),
        Mode::FailOnce(target) => {
            let mut f = r.failed_once.lock().unwrap();
            if id == target && !f.contains(&id) {
                f.push(id.clone());
                (500, None)
            } else {
                (200, None)
            }
        }
    };
    r.log.lock().unwrap().push(Received {
        id,
        signature_ok,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        accepted: status == 200,
    });
    let mut resp = StatusCode::from_u16(status).unwrap().into_response();
    if let Some(s) = retry_after {
        resp.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    resp
}

struct Setup {
    env: TestEnv,
    account: AccountId,
    receiver: Receiver,
    webhook: ordervault::ids::WebhookId,
    forwarder: Forwarder,
}

async fn setup(env: TestEnv) -> Setup {
    let receiver = Receiver {
        key: Arc::default(),
        mode: Arc::new(Mutex::new(Mode::Accept)),
        log: Arc::default(),
        failed_once: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let account: AccountId = create_account(&env.app, "Shop", None)
        .await
        .unwrap()
        .id
        .clone();
    let (endpoint, secret) = add_webhook(
        &env.app,
        NewWebhook {
            account: account.clone(),
            url: format!("http://{addr}/hook"),
            secret: None,
        },
    )
    .await
    .unwrap();
    *receiver.key.lock().unwrap() = ordervault::forward::signing::secret_key(&secret)
        .unwrap()
        .to_vec();
    let forwarder = Forwarder::with_owner(env.app.clone(), "fwd".into());
    Setup {
        env,
        account,
        receiver,
        webhook: endpoint.id,
        forwarder,
    }
}

impl Setup {
    async fn ingest(&self, orders: &[Order]) {
        let store = self.env.app.store.account(&self.account).await.unwrap();
        let keys = self.env.app.keyring.keys(&self.account).await.unwrap();
        write_orders(&store, &keys, orders, self.env.app.now_ms())
            .await
            .unwrap();
    }
    fn log(&self) -> Vec<Received> {
        self.receiver.log.lock().unwrap().clone()
    }
    fn set(&self, m: Mode) {
        *self.receiver.mode.lock().unwrap() = m;
    }
}

fn orders(n: usize) -> Vec<Order> {
    (0..n).map(|i| order(&format!("W{i}"), 0)).collect()
}

async fn signed_full_orders_arrive(env: TestEnv) {
    let s = setup(env).await;
    s.ingest(&orders(5)).await;
    let r = s.forwarder.run_once().await.unwrap();
    assert_eq!(r.delivered, 5);
    let log = s.log();
    assert_eq!(log.len(), 5);
    for rec in &log {
        assert!(rec.signature_ok, "signature verifies");
        assert_eq!(rec.body["type"], "order.created");
        assert!(
            rec.body["data"]["customer"]["shipping"]["street"].is_string(),
            "full order with customer data"
        );
    }
    // Nothing is sent twice once delivered.
    assert_eq!(s.forwarder.run_once().await.unwrap().delivered, 0);
}

async fn receiver_down_then_up_gets_everything_once_per_id(env: TestEnv) {
    let s = setup(env).await;
    s.ingest(&orders(4)).await;
    s.set(Mode::Status(503));
    s.forwarder.run_once().await.unwrap();
    s.env.clock.advance(Duration::minutes(1));
    s.forwarder.run_once().await.unwrap();
    s.set(Mode::Accept);
    s.env.clock.advance(Duration::hours(2));
    let r = s.forwarder.run_once().await.unwrap();
    assert_eq!(r.delivered, 4);
    let log = s.log();
    let accepted: Vec<&Received> = log.iter().filter(|r| r.accepted).collect();
    let mut ids: Vec<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every event arrived");
    assert_eq!(accepted.len(), 4, "each accepted exactly once");
    // Every attempt of an event carried the same webhook-id (duplicates are dedupable).
    let mut per_order: HashMap<String, Vec<String>> = HashMap::new();
    for r in &log {
        per_order
            .entry(r.body["data"]["order_number"].as_str().unwrap().to_string())
            .or_default()
            .push(r.id.clone());
    }
    for ids in per_order.values() {
        assert!(ids.windows(2).all(|w| w[0] == w[1]));
    }
}

async fn gone_disables_the_endpoint(env: TestEnv) {
    let s = setup(env).await;
    s.ingest(&orders(3)).await;
    s.set(Mode::Status(410));
    let r = s.forwarder.run_once().await.unwrap();
    assert_eq!(r.disabled_endpoints, 1);
    assert_eq!(s.log().len(), 1, "stops at the first 410");
    let e = s
        .env
        .app
        .store
        .catalog()
        .webhook(&s.webhook)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        e.status,
        ordervault::store::catalog::WebhookStatus::Disabled
    );
    assert!(e.disabled_reason.unwrap().contains("410"));
    s.set(Mode::Accept);
    s.env.clock.advance(Duration::hours(1));
    assert_eq!(
        s.forwarder.run_once().await.unwrap().delivered,
        0,
        "disabled: nothing sent"
    );
}

async fn events_of_one_order_arrive_in_order(env: TestEnv) {
    let s = setup(env).await;
    let v1 = order("SEQ-1", 0);
    s.ingest(std::slice::from_ref(&v1)).await;
    let mut v2 = order("SEQ-1", 10);
    v2.status = OrderStatus::PartiallyShipped;
    s.ingest(&[v2, order("OTHER", 0)]).await;
    let mut v3 = order("SEQ-1", 20);
    v3.status = OrderStatus::Shipped;
    s.ingest(&[v3]).await;
    // The first event of SEQ-1 fails once: its later events must wait, others go on.
    let first_id = {
        let store = s.env.app.store.account(&s.account).await.unwrap();
        store
            .pending_events(s.webhook.as_str(), 0, 1)
            .await
            .unwrap()[0]
            .event_id
            .clone()
    };
    s.set(Mode::FailOnce(first_id.clone()));
    let r = s.forwarder.run_once().await.unwrap();
    assert_eq!(r.delivered, 1, "only the other order went out");
    s.env.clock.advance(Duration::minutes(5));
    s.forwarder.run_once().await.unwrap();
    let seq: Vec<(String, bool)> = s
        .log()
        .into_iter()
        .filter(|r| r.body["data"]["order_number"] == "SEQ-1")
        .map(|r| (r.id, r.accepted))
        .collect();
    let accepted: Vec<&String> = seq.iter().filter(|(_, a)| *a).map(|(id, _)| id).collect();
    assert_eq!(accepted.len(), 3);
    assert_eq!(accepted[0], &first_id, "v1 first");
    let versions: Vec<i64> = accepted
        .iter()
        .map(|id| id.rsplit('_').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
}

async fn crash_between_commit_and_send_still_delivers(env: TestEnv) {
    let s = setup(env).await;
    s.ingest(&orders(3)).await;
    // The process that committed died before its forwarder ran; a new one starts.
    drop(s.forwarder);
    let fresh = Forwarder::with_owner(s.env.app.clone(), "after-restart".into());
    assert_eq!(fresh.run_once().await.unwrap().delivered, 3);
}

async fn retry_after_is_honoured_then_dead_letter_and_replay(env: TestEnv) {
    let s = setup(env).await;
    s.ingest(&orders(1)).await;
    s.set(Mode::RetryAfter(600));
    s.forwarder.run_once().await.unwrap();
    s.env.clock.advance(Duration::minutes(5));
    s.forwarder.run_once().await.unwrap();
    assert_eq!(s.log().len(), 1, "waits at least Retry-After");
    s.set(Mode::Status(500));
    // Keep failing for more than 72 hours.
    for _ in 0..120 {
        s.env.clock.advance(Duration::hours(1));
        s.forwarder.run_once().await.unwrap();
    }
    let store = s.env.app.store.account(&s.account).await.unwrap();
    let dead = store.dead_letters(s.webhook.as_str(), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.as_deref().unwrap().contains("500"));
    let attempts = s.log().len();
    s.env.clock.advance(Duration::hours(5));
    s.forwarder.run_once().await.unwrap();
    assert_eq!(s.log().len(), attempts, "dead letters are not retried");
    s.set(Mode::Accept);
    assert_eq!(
        store
            .replay(s.webhook.as_str(), Some("W0"), None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.forwarder.run_once().await.unwrap().delivered, 1);
    assert!(store
        .dead_letters(s.webhook.as_str(), 10)
        .await
        .unwrap()
        .is_empty());
}

/// The forwarder loop wakes on the ingest's signal instead of waiting for its tick.
async fn delivery_starts_when_ingest_signals(env: TestEnv) {
    let s = setup(env).await;
    let (stop, rx) = tokio::sync::watch::channel(false);
    let fwd = Arc::new(Forwarder::with_owner(s.env.app.clone(), "loop".into()));
    // A tick far longer than the wait below: only the signal can explain a delivery.
    let task = tokio::spawn(ordervault::forward::run_forwarder(
        fwd,
        std::time::Duration::from_secs(600),
        rx,
    ));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    s.ingest(&orders(2)).await;
    s.env.app.outbox_notify.notify_one();
    let mut delivered = 0;
    for _ in 0..100 {
        delivered = s.log().iter().filter(|r| r.accepted).count();
        if delivered == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        delivered, 2,
        "delivered after the signal, long before the tick"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

// ---- HTTP API -------------------------------------------------------------------------

async fn pull_and_ack_redelivers_until_acknowledged(env: TestEnv) {
    let s = setup(env).await;
    let api = TestApp::spawn(&s.env).await;
    let bo = token(&s.env, Role::Backoffice, Some(&s.account)).await;
    s.ingest(&orders(3)).await;
    let (st, _, v) = api
        .call("GET", "/api/v1/orders/new", Some(&bo), None)
        .await
        .parts();
    assert_eq!(st, 200);
    assert_eq!(v["orders"].as_array().unwrap().len(), 3);
    assert!(v["orders"][0]["customer"]["email"].is_string());
    // Crash between fetch and ack: the same orders come again.
    let (_, _, again) = api
        .call("GET", "/api/v1/orders/new", Some(&bo), None)
        .await
        .parts();
    assert_eq!(again["orders"].as_array().unwrap().len(), 3);
    let (st, _, a) = api
        .call(
            "POST",
            "/api/v1/orders/W0/ack",
            Some(&bo),
            Some(json!({"reference": "BO-1"})),
        )
        .await
        .parts();
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["acked_version"], 1);
    // Idempotent.
    let (st, _, a2) = api
        .call(
            "POST",
            "/api/v1/orders/W0/ack",
            Some(&bo),
            Some(json!({"reference": "BO-1"})),
        )
        .await
        .parts();
    assert_eq!(st, 200);
    assert_eq!(a2["acked_version"], 1);
    let (_, _, left) = api
        .call("GET", "/api/v1/orders/new", Some(&bo), None)
        .await
        .parts();
    assert_eq!(left["orders"].as_array().unwrap().len(), 2);
    // An update makes the order new again.
    let mut shipped = order("W0", 30);
    shipped.status = OrderStatus::Shipped;
    s.ingest(&[shipped]).await;
    let (_, _, after) = api
        .call("GET", "/api/v1/orders/new", Some(&bo), None)
        .await
        .parts();
    assert_eq!(after["orders"].as_array().unwrap().len(), 3);
    let (st, _, one) = api
        .call("GET", "/api/v1/orders/W0", Some(&bo), None)
        .await
        .parts();
    assert_eq!(st, 200);
    assert_eq!(one["status"], "shipped");
    assert_eq!(one["ack"]["reference"], "BO-1");
    let (st, ct, p) = api
        .call(
            "POST",
            "/api/v1/orders/W0/ack",
            Some(&bo),
            Some(json!({"nope": 1})),
        )
        .await
        .parts();
    assert_eq!(st, 400);
    assert_eq!(ct, "application/problem+json");
    assert_eq!(p["status"], 400);
}

async fn cross_account_access_is_refused_everywhere(env: TestEnv) {
    let s = setup(env).await;
    let api = TestApp::spawn(&s.env).await;
    s.ingest(&orders(1)).await;
    let other: AccountId = create_account(&s.env.app, "Other shop", None)
        .await
        .unwrap()
        .id
        .clone();
    let mine = token(&s.env, Role::Backoffice, Some(&s.account)).await;
    let theirs = token(&s.env, Role::Backoffice, Some(&other)).await;
    let support = token(&s.env, Role::Support, None).await;
    let admin = token(&s.env, Role::Admin, None).await;
    let wh = &s.webhook;
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/orders/W0".into(), None),
        (
            "POST",
            "/api/v1/orders/W0/ack".into(),
            Some(json!({"reference": "x"})),
        ),
        ("DELETE", format!("/api/v1/webhooks/{wh}"), None),
        ("POST", format!("/api/v1/webhooks/{wh}/enable"), None),
        ("GET", format!("/api/v1/webhooks/{wh}/dead-letters"), None),
        (
            "POST",
            format!("/api/v1/webhooks/{wh}/replay"),
            Some(json!({"order_number": "W0"})),
        ),
    ];
    for (m, path, body) in &calls {
        let (st, ct, _) = api.call(m, path, Some(&theirs), body.clone()).await.parts();
        assert_eq!(st, 404, "{m} {path} with another account's token");
        assert_eq!(ct, "application/problem+json");
        for t in [&support, &admin] {
            let (st, _, _) = api.call(m, path, Some(t), body.clone()).await.parts();
            assert_eq!(st, 403, "{m} {path} with a non-backoffice token");
        }
        let (st, _, _) = api.call(m, path, None, body.clone()).await.parts();
        assert_eq!(st, 401);
        let (st, _, _) = api
            .call(m, path, Some("ov_forged"), body.clone())
            .await
            .parts();
        assert_eq!(st, 401);
    }
    // A malformed or padded webhook id is parsed at the edge: not found, even with the
    // owner's token, as problem+json (never a panic, never the padded id reaching SQL).
    for bad in ["nope".to_string(), format!("%20{wh}"), format!("{wh}%0A")] {
        for path in [
            format!("/api/v1/webhooks/{bad}/enable"),
            format!("/api/v1/webhooks/{bad}/dead-letters"),
        ] {
            let method = if path.ends_with("enable") {
                "POST"
            } else {
                "GET"
            };
            let (st, ct, _) = api.call(method, &path, Some(&mine), None).await.parts();
            assert_eq!(st, 404, "{path}");
            assert_eq!(ct, "application/problem+json", "{path}");
        }
    }
    // Lists show only one's own.
    let (_, _, v) = api
        .call("GET", "/api/v1/orders/new", Some(&theirs), None)
        .await
        .parts();
    assert!(v["orders"].as_array().unwrap().is_empty());
    let (_, _, v) = api
        .call("GET", "/api/v1/webhooks", Some(&theirs), None)
        .await
        .parts();
    assert!(v["webhooks"].as_array().unwrap().is_empty());
    let (_, _, v) = api
        .call("GET", "/api/v1/webhooks", Some(&mine), None)
        .await
        .parts();
    assert_eq!(v["webhooks"].as_array().unwrap().len(), 1);
    // Admin-only endpoints refuse backoffice tokens.
    let (st, _, _) = api
        .call("GET", "/api/v1/accounts", Some(&mine), None)
        .await
        .parts();
    assert_eq!(st, 403);
    let (st, _, _) = api
        .call(
            "POST",
            &format!("/api/v1/accounts/{}/close", s.account.as_str()),
            Some(&mine),
            None,
        )
        .await
        .parts();
    assert_eq!(st, 403);
    // And the mine token still works.
    let (st, _, _) = api
        .call("GET", "/api/v1/orders/W0", Some(&mine), None)
        .await
        .parts();
    assert_eq!(st, 200);
}

/// The whole service as `ordervault serve` runs it (`startup::serve` on port 0): the API
/// answers on its bound address, metrics only on their own, the service's own forwarder
/// delivers what ingest wrote (nobody calls `run_once`), and the shutdown handle stops
/// everything: the API refuses connections afterwards.
async fn openapi_health_and_metrics(env: TestEnv) {
    let s = setup(env).await;
    let mut settings = s.env.settings.clone();
    settings.server.bind = "127.0.0.1:0".into();
    settings.metrics.bind = "127.0.0.1:0".into();
    settings.sync.enabled = false;
    settings.pseudonymize.enabled = false;
    let app = s.env.restart(settings).await.unwrap();
    let running = ordervault::startup::serve(app.clone(), Default::default())
        .await
        .unwrap();
    let base = format!("http://{}", running.api);
    let metrics = running.metrics.expect("metrics.bind is set");
    let http = reqwest::Client::new();
    let get = |url: String| http.get(url).send();
    let doc: Value = get(format!("{base}/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/orders/{order_number}/ack"]["post"].is_object());
    assert_eq!(get(format!("{base}/healthz")).await.unwrap().status(), 200);
    // Metrics are not on the API's listener; they have their own (`metrics.bind`).
    assert_eq!(get(format!("{base}/metrics")).await.unwrap().status(), 404);
    // Ingest through the service's own App: its signal wakes the service's forwarder.
    let store = app.store.account(&s.account).await.unwrap();
    let keys = app.keyring.keys(&s.account).await.unwrap();
    write_orders(&store, &keys, &orders(2), app.now_ms())
        .await
        .unwrap();
    app.outbox_notify.notify_one();
    for _ in 0..200 {
        if s.log().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let log = s.log();
    assert_eq!(
        log.len(),
        2,
        "the service's forwarder delivered both orders"
    );
    assert!(log.iter().all(|r| r.signature_ok && r.accepted));
    let text = get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!(
            "ordervault_oldest_undelivered_seconds{{account=\"{}\"}}",
            s.account.as_str()
        )),
        "{text}"
    );
    // No personal data in metrics.
    assert!(!text.contains("example") && !text.contains('@'));
    running.stop().await.unwrap();
    assert!(
        get(format!("{base}/healthz")).await.is_err(),
        "the API listener is closed after shutdown"
    );
}

both_backends!(
    delivery_starts_when_ingest_signals,
    signed_full_orders_arrive,
    receiver_down_then_up_gets_everything_once_per_id,
    gone_disables_the_endpoint,
    events_of_one_order_arrive_in_order,
    crash_between_commit_and_send_still_delivers,
    retry_after_is_honoured_then_dead_letter_and_replay,
    pull_and_ack_redelivers_until_acknowledged,
    cross_account_access_is_refused_everywhere,
    openapi_health_and_metrics,
);
