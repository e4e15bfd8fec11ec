//! Bad input at the service's edges, on both backends: malformed marketplace payloads end
//! as recorded ingest failures while the rest of the page is stored and the cursor moves
//! (bol and Amazon here; eBay is in `tests/it/sync.rs`), and oversized API bodies are refused
//! with a problem+json 413 before they are parsed.

use std::sync::Arc;

use crate::common::TestEnv;
use ordervault::accounts::create_account;
use ordervault::connectors::amazon::ClockSleeper;
use ordervault::connectors::http::RetryPolicy;
use ordervault::connectors::sandbox::{self, SandboxConfig, SandboxHandle};
use ordervault::connectors::MarketplaceKind;
use ordervault::ids::{AccountId, ConnectionId, Role};
use ordervault::ingest::connections::{add_connection, ClientOptions, NewConnection};
use ordervault::ingest::sync::{SyncOutcome, SyncWorker};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

fn config() -> SandboxConfig {
    SandboxConfig {
        orders: 20,
        seed: 5,
        rate_limits: false,
        history: chrono::Duration::days(2),
        arrival_span: chrono::Duration::minutes(1),
        ..SandboxConfig::default()
    }
}

async fn connect(
    env: &TestEnv,
    kind: MarketplaceKind,
    handle: &SandboxHandle,
) -> (AccountId, ConnectionId) {
    let a = create_account(&env.app, "bad input shop", None)
        .await
        .unwrap();
    let account: AccountId = a.id.clone();
    let c = config().credentials;
    let creds = serde_json::json!({
        "client_id": c.client_id, "client_secret": c.client_secret,
        "refresh_token": c.refresh_token
    });
    let conn = add_connection(
        &env.app,
        NewConnection {
            account: account.clone(),
            marketplace: kind,
            credentials_json: Zeroizing::new(creds.to_string()),
            settings: handle.settings(kind),
            interval: std::time::Duration::from_secs(60),
        },
    )
    .await
    .unwrap();
    (account, conn.id)
}

/// Syncs once and checks: the run went through but is not reported as a success while
/// broken orders are missing (`incomplete`), exactly `broken` orders were recorded as
/// failures (ids and field names only), every other order was stored, the cursor moved.
async fn sync_and_check(
    env: &TestEnv,
    handle: &SandboxHandle,
    account: &AccountId,
    conn: &ConnectionId,
    broken: usize,
) {
    let options = ClientOptions {
        retry: RetryPolicy::fast(),
        amazon_sleeper: Some(Arc::new(ClockSleeper::Manual(env.clock.clone()))),
        unpaced: true,
        quotas: None,
        announced: Default::default(),
    };
    let worker = SyncWorker::with_owner(env.app.clone(), options, "bad-input".into());
    let runs = worker.run_due(1).await.unwrap();
    assert_eq!(runs.len(), 1);
    let expected = if broken > 0 {
        SyncOutcome::Incomplete
    } else {
        SyncOutcome::Ok
    };
    assert_eq!(runs[0].outcome, expected, "{:?}", runs[0].error);
    // A broken order may be listed more than once in a run (bol walks day by day).
    assert!(runs[0].failed >= broken as u64, "{:?}", runs[0]);
    let store = env.app.store.account(account).await.unwrap();
    let failures = store.failures().await.unwrap();
    assert_eq!(failures.len(), broken, "{failures:?}");
    let truth = (handle.ground_truth)();
    assert_eq!(
        store.count_orders().await.unwrap(),
        (truth.len() - broken) as i64,
        "every other order of the page was stored"
    );
    for f in &failures {
        for o in &truth {
            let email = o.customer.email.as_deref().unwrap_or("@@none@@");
            assert!(!f.error.contains(email), "failure text carries an email");
        }
    }
    let c = env
        .app
        .store
        .catalog()
        .connection(conn)
        .await
        .unwrap()
        .unwrap();
    assert!(
        c.cursor_ms.is_some(),
        "the cursor moved past the broken orders"
    );
}

async fn bol_malformed_detail_is_recorded_not_fatal(env: TestEnv) {
    let (handle, probe) = sandbox::bol::start_with_probe(config(), Arc::new(env.clock.clone()))
        .await
        .unwrap();
    let victims: Vec<String> = (handle.ground_truth)()
        .iter()
        .take(2)
        .map(|o| o.order_number.to_string())
        .collect();
    for v in &victims {
        probe.corrupt_order(v);
    }
    let (account, conn) = connect(&env, MarketplaceKind::Bol, &handle).await;
    sync_and_check(&env, &handle, &account, &conn, victims.len()).await;
}

async fn amazon_malformed_order_is_recorded_not_fatal(env: TestEnv) {
    let (handle, _) = sandbox::amazon::start_with(
        config(),
        Arc::new(env.clock.clone()),
        sandbox::amazon::AmazonSandboxOptions {
            malformed_orders: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (account, conn) = connect(&env, MarketplaceKind::Amazon, &handle).await;
    sync_and_check(&env, &handle, &account, &conn, 2).await;
}

/// Bodies over 64 KiB get a problem+json 413 on every route that reads one; a large but
/// allowed body is parsed (and here refused as 400 for its content, not its size).
async fn oversized_bodies_are_refused_with_413(env: TestEnv) {
    let a = create_account(&env.app, "limits", None).await.unwrap();
    let (token, _) =
        ordervault::tokens::create_token(&env.app, Role::Backoffice, Some(a.id.as_str()), None)
            .await
            .unwrap();
    let (admin, _) = ordervault::tokens::create_token(&env.app, Role::Admin, None, None)
        .await
        .unwrap();
    let service = crate::common::api::TestApp::spawn(&env).await;
    let (token, admin) = (token.expose_secret(), admin.expose_secret());
    let big =
        |n: usize| serde_json::json!({ "url": format!("https://example.com/{}", "a".repeat(n)) });
    let too_big = big(200 * 1024);
    let answers = [
        (
            "webhooks",
            service.create_webhook(token, too_big.clone()).await,
        ),
        ("ack", service.ack(token, "X-1", too_big.clone()).await),
        (
            "replay",
            service.replay_webhook(token, "nope", too_big.clone()).await,
        ),
        ("accounts", service.create_account(admin, too_big).await),
    ];
    for (what, r) in answers {
        assert_eq!(r.status, 413, "{what}");
        assert_eq!(
            r.header("content-type"),
            "application/problem+json",
            "{what}"
        );
        assert_eq!(r.json()["status"], 413);
    }
    // Just under the limit: read and judged on its content.
    let r = service.create_webhook(token, big(60 * 1024)).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.raw));
}

both_backends!(
    bol_malformed_detail_is_recorded_not_fatal,
    amazon_malformed_order_is_recorded_not_fatal,
    oversized_bodies_are_refused_with_413,
);
