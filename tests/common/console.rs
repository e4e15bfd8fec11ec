//! The operator console's test installation: one healthy account and one that needs
//! attention, with orders ingested, delivered and pseudonymized at known times, so the
//! health view and the plots have exact expected numbers.

use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::connectors::{MarketplaceKind, OrderStatus};
use ordervault::forward::{add_webhook, NewWebhook};
use ordervault::ids::{AccountId, ConnectionId};
use ordervault::ingest::connections::{add_connection, NewConnection};
use ordervault::ingest::write_orders;
use ordervault::store::catalog::{ConnectionStatus, RunEnd, WebhookStatus};
use ordervault::store::outbox::AttemptResult;
use ordervault::store::Buckets;
use zeroize::Zeroizing;

use super::corpus::corpus;
use super::{order, t0, TestEnv};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// What the fixture made, and what the console must show for it.
pub struct Fixture {
    /// "Fietsen Shop B.V.": 3 bol orders 2 h ago and 2 Amazon orders 30 h ago, all
    /// delivered to its webhook; an active bol connection synced up to 10 minutes ago.
    pub healthy: AccountId,
    /// "Boeken Online": 4 bol orders fulfilled 3 days ago (retention 1 day), swept now;
    /// its bol connection needs re-authorization, its Amazon connection failed twice
    /// (retry at t0 + 4 min), and its webhook endpoint is disabled.
    pub broken: AccountId,
    /// Every personal value the orders carried (none may appear in a response).
    pub personal_values: Vec<String>,
    /// Days (of the 7) with at least one delivery.
    pub delivery_days: usize,
}

/// Builds the installation at the test clock's `t0()`.
pub async fn console_fixture(env: &TestEnv) -> Fixture {
    let app = &env.app;
    let now = app.now_ms();
    assert_eq!(now, t0().timestamp_millis());

    let healthy: AccountId = create_account(app, "Fietsen Shop B.V.", Some(30))
        .await
        .unwrap()
        .id
        .clone();
    let (mut orders, personal_values) = corpus(5);
    for o in &mut orders[3..] {
        o.marketplace = MarketplaceKind::Amazon;
    }
    let store = app.store.account(&healthy).await.unwrap();
    let keys = app.keyring.keys(&healthy).await.unwrap();
    write_orders(&store, &keys, &orders[..3], now - 2 * HOUR_MS)
        .await
        .unwrap();
    write_orders(&store, &keys, &orders[3..], now - 30 * HOUR_MS)
        .await
        .unwrap();
    let conn = connection(env, &healthy, MarketplaceKind::Bol).await;
    let catalog = app.store.catalog();
    assert!(catalog
        .claim_connection(&conn, "test", now, now + 60_000)
        .await
        .unwrap()
        .is_some());
    catalog
        .advance_cursor(&conn, "test", now - 10 * 60_000, None, 5, now)
        .await
        .unwrap();
    let next_run_ms = now + 5 * 60_000;
    catalog
        .finish_run(&conn, "test", &RunEnd::Success { next_run_ms }, now)
        .await
        .unwrap();
    let (hook, _) = add_webhook(
        app,
        NewWebhook {
            account: healthy.clone(),
            url: "http://127.0.0.1:9/hook".into(),
            secret: None,
        },
    )
    .await
    .unwrap();
    let events = store
        .pending_events(hook.id.as_str(), 0, 100)
        .await
        .unwrap();
    assert_eq!(events.len(), 5);
    let days = Buckets::ending_at(now, DAY_MS, 7);
    let mut delivery_days = std::collections::BTreeSet::new();
    for (i, e) in events.iter().enumerate() {
        let at = e.created_at + 1000 * (i as i64 + 1);
        store
            .record_attempt(hook.id.as_str(), e.id, &AttemptResult::Delivered, at)
            .await
            .unwrap();
        delivery_days.insert(days.index(at).unwrap());
    }
    store.advance_floor(hook.id.as_str()).await.unwrap();

    let broken: AccountId = create_account(app, "Boeken Online", Some(1))
        .await
        .unwrap()
        .id
        .clone();
    let fulfilled = t0() - Duration::days(3);
    let old: Vec<_> = (0..4)
        .map(|i| {
            let mut o = order(&format!("BOEK-{i}"), 0);
            o.status = OrderStatus::Shipped;
            o.placed_at = fulfilled - Duration::days(1);
            o.updated_at = fulfilled;
            o.fulfilled_at = Some(fulfilled);
            o
        })
        .collect();
    let store = app.store.account(&broken).await.unwrap();
    let keys = app.keyring.keys(&broken).await.unwrap();
    write_orders(&store, &keys, &old, now - 50 * HOUR_MS)
        .await
        .unwrap();
    let conn = connection(env, &broken, MarketplaceKind::Bol).await;
    app.store
        .catalog()
        .set_connection_status(
            &conn,
            ConnectionStatus::NeedsReauth,
            Some("bol rejected the client credentials (401)"),
            None,
            now,
        )
        .await
        .unwrap();
    let failing = connection(env, &broken, MarketplaceKind::Amazon).await;
    for next_run_ms in [now, now + 4 * 60_000] {
        assert!(app
            .store
            .catalog()
            .claim_connection(&failing, "test", now, now + 60_000)
            .await
            .unwrap()
            .is_some());
        let end = RunEnd::Failed {
            error: "amazon answered 503 Service Unavailable".into(),
            next_run_ms,
        };
        app.store
            .catalog()
            .finish_run(&failing, "test", &end, now)
            .await
            .unwrap();
    }
    let (gone, _) = add_webhook(
        app,
        NewWebhook {
            account: broken.clone(),
            url: "http://127.0.0.1:9/gone".into(),
            secret: None,
        },
    )
    .await
    .unwrap();
    app.store
        .catalog()
        .set_webhook_status(&gone.id, WebhookStatus::Disabled, Some("410 Gone"), now)
        .await
        .unwrap();
    let swept = ordervault::privacy::pseudonymize::sweep(app, Some(&broken))
        .await
        .unwrap();
    assert_eq!(swept.pseudonymized, 4);

    Fixture {
        healthy,
        broken,
        personal_values,
        delivery_days: delivery_days.len(),
    }
}

/// An active connection of `account` (never synced); returns its id.
async fn connection(
    env: &TestEnv,
    account: &AccountId,
    marketplace: MarketplaceKind,
) -> ConnectionId {
    add_connection(
        &env.app,
        NewConnection {
            account: account.clone(),
            marketplace,
            credentials_json: Zeroizing::new(
                r#"{"client_id": "id", "client_secret": "secret", "refresh_token": "token"}"#
                    .into(),
            ),
            settings: ordervault::connectors::ConnectionSettings {
                base_url: Some("http://127.0.0.1:9".into()),
                auth_url: Some("http://127.0.0.1:9".into()),
                ..Default::default()
            },
            interval: std::time::Duration::from_secs(300),
        },
    )
    .await
    .unwrap()
    .id
}
