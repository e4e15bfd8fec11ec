//! The operator's view of the pipeline, per account: connection health, webhook
//! delivery, ship-back (once it exists), privacy and key status, and whether anything
//! needs a person. Served by `GET /api/v1/health` and drawn by the `/console` page, so
//! the page and a script see the same numbers.
//!
//! Everything here is read from what the service already keeps (catalog rows, account
//! stores, settings); nothing is stored. It reports counts, ids, states and times: never
//! customer personal data, never an order number, never key material.

pub mod series;

use chrono::{TimeZone, Utc};
use serde::Serialize;

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::{AccountId, ConnectionId, WebhookId};
use crate::store::catalog::{
    AccountRecord, AccountStatus, ConnectionRecord, ConnectionStatus, WebhookStatus,
};
use crate::time::rfc3339_secs;

/// Why an account needs attention. Stable snake_case names, so scripts can filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// A marketplace rejected the credentials; someone must re-authorize.
    ConnectionNeedsReauth,
    /// A connection's last runs failed; it retries with backoff.
    ConnectionFailing,
    /// A webhook endpoint was disabled (410 Gone or an operator).
    WebhookDisabled,
    /// Events were given up after the retry window.
    DeadLetters,
    /// A shipment or cancellation was rejected by the marketplace.
    ShipBackRejected,
    /// The oldest undelivered event is older than [`STALE_DELIVERY_MS`].
    DeliveryLagging,
    /// Orders that were due when the last sweep started, unchanged since, still hold
    /// personal data: the sweep missed them (or no sweep has run while orders are overdue).
    PrivacyOverdue,
}

/// Undelivered for this long (15 minutes) counts as lagging.
pub const STALE_DELIVERY_MS: i64 = 15 * 60 * 1000;

/// The whole view: every active account, and when the next sweep runs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// The instant everything was measured against (RFC 3339).
    pub as_of: String,
    /// Next scheduled pseudonymization sweep (RFC 3339); `None` when the scheduler is off.
    pub next_sweep_at: Option<String>,
    pub accounts: Vec<AccountHealth>,
}

/// One account's health.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountHealth {
    pub account_id: AccountId,
    pub name: String,
    pub needs_attention: bool,
    pub attention: Vec<Attention>,
    pub connections: Vec<ConnectionHealth>,
    pub webhooks: WebhookHealth,
    /// Shipments and cancellations pushed back to the marketplaces. `None` until the
    /// service keeps ship-back state (issue 15); the console hides the section then.
    pub ship_back: Option<ShipBackHealth>,
    pub privacy: PrivacyHealth,
    pub keys: KeyHealth,
}

/// A connection as an operator judges it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionHealth {
    pub id: ConnectionId,
    pub marketplace: String,
    /// `active`, `needs_reauth`, `failing` (active with failed runs) or `paused`.
    pub state: &'static str,
    /// Why it needs re-authorization (as the marketplace said, no credentials).
    pub reason: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    /// When the next run (or retry after backoff) is due (RFC 3339).
    pub next_attempt_at: String,
    pub last_success_at: Option<String>,
    /// How far the sync cursor is behind now, in seconds (`None`: never synced).
    pub cursor_lag_seconds: Option<i64>,
    pub orders_synced: i64,
}

/// Webhook delivery of one account, summed over its endpoints.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct WebhookHealth {
    pub endpoints: usize,
    /// Events not yet delivered (pending or retrying), over active endpoints.
    pub backlog: i64,
    /// Age of the oldest undelivered event at an active endpoint, in seconds.
    pub oldest_undelivered_seconds: Option<i64>,
    pub dead_letters: i64,
    pub disabled_endpoints: Vec<DisabledEndpoint>,
}

/// An endpoint that no longer receives events.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisabledEndpoint {
    pub id: WebhookId,
    pub reason: Option<String>,
}

/// Ship-back state (shipments and cancellations to push to marketplaces). Filled in once
/// the service keeps it; kept here so the API shape and the console section exist.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ShipBackHealth {
    pub pending: i64,
    pub rejected: i64,
}

/// Privacy state: the overdue count must be 0 after every sweep.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrivacyHealth {
    pub retention_days: i64,
    pub with_personal_data: i64,
    /// Past their deadline now and still holding personal data. Above 0 between two
    /// sweeps for orders whose deadline passed (or that shipped) since the last one.
    pub overdue: i64,
    /// Of those, orders already due when the last sweep started and unchanged since:
    /// the sweep should have erased them. Must be 0 (the console's "needs attention").
    /// Without any sweep yet, equal to `overdue`.
    pub missed_by_last_sweep: i64,
    pub pseudonymized: i64,
    pub last_sweep_at: Option<String>,
    /// Orders the last completed sweep pseudonymized.
    pub last_sweep_pseudonymized: i64,
}

/// Key status: the stored versions of the account key and whether each is wrapped under
/// the master key in use. An object, so later fields (rotation age, epoch keys) fit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyHealth {
    pub current_version: Option<i64>,
    pub versions: Vec<KeyVersionHealth>,
}

/// One stored account-key version (never the key).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyVersionHealth {
    pub version: i64,
    pub wrapped_under_current_master_key: bool,
}

/// The health of every active account (`only_attention`: only those needing a person).
pub async fn health_report(app: &App, only_attention: bool) -> Result<HealthReport, ServiceError> {
    let now = app.now_ms();
    let mut accounts = Vec::new();
    for record in app.store.catalog().accounts().await? {
        if record.status != AccountStatus::Active {
            continue;
        }
        let h = account_health(app, &record, now).await?;
        if !only_attention || h.needs_attention {
            accounts.push(h);
        }
    }
    Ok(HealthReport {
        as_of: rfc3339_secs(now),
        next_sweep_at: next_sweep_ms(app, now).map(rfc3339_secs),
        accounts,
    })
}

/// When the scheduled sweep runs next after `now_ms`, by `pseudonymize.cron` (UTC).
pub fn next_sweep_ms(app: &App, now_ms: i64) -> Option<i64> {
    let settings = &app.settings.pseudonymize;
    if !settings.enabled {
        return None;
    }
    let cron = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(&settings.cron)
        .ok()?;
    let now = Utc.timestamp_millis_opt(now_ms).single()?;
    cron.find_next_occurrence(&now, false)
        .ok()
        .map(|t| t.timestamp_millis())
}

async fn account_health(
    app: &App,
    record: &AccountRecord,
    now: i64,
) -> Result<AccountHealth, ServiceError> {
    let id: AccountId = record.id.clone();
    let catalog = app.store.catalog();
    let connections: Vec<ConnectionHealth> = catalog
        .connections(Some(&id))
        .await?
        .iter()
        .map(|c| connection_health(c, now))
        .collect();
    let webhooks = webhook_health(app, &id, now).await?;
    let summary = crate::privacy::privacy_summary(app, &id).await?;
    let missed_by_last_sweep = match catalog.last_sweep_started(id.as_str()).await? {
        Some(started) if summary.overdue > 0 => {
            let cutoffs = crate::privacy::pseudonymize::cutoffs(
                started,
                record.retention_days,
                app.settings.pseudonymize.max_age_days,
            );
            let store = app.store.account(&id).await?;
            store.missed_by_sweep(cutoffs, started).await?
        }
        _ => summary.overdue,
    };
    let privacy = PrivacyHealth {
        retention_days: summary.retention_days,
        with_personal_data: summary.with_personal_data,
        overdue: summary.overdue,
        missed_by_last_sweep,
        pseudonymized: summary.pseudonymized,
        last_sweep_at: summary.last_sweep_at,
        last_sweep_pseudonymized: catalog.last_sweep_changes(id.as_str()).await?,
    };
    let fingerprint = app.keyring.fingerprint();
    let versions: Vec<KeyVersionHealth> = catalog
        .account_keys(&id)
        .await?
        .iter()
        .map(|k| KeyVersionHealth {
            version: k.version,
            wrapped_under_current_master_key: k.kek_fingerprint == fingerprint,
        })
        .collect();
    let keys = KeyHealth {
        current_version: versions.iter().map(|v| v.version).max(),
        versions,
    };
    // Shipments and cancellations sent back to the marketplaces (issue 15): open ones,
    // and ones the marketplace refused or that failed after retries (both need a person).
    let states = app.store.account(&id).await?.request_states().await?;
    let count = |names: &[&str]| -> i64 {
        states
            .iter()
            .filter(|(s, _)| names.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let ship_back = (!states.is_empty()).then(|| ShipBackHealth {
        pending: count(&["pending", "sent"]),
        rejected: count(&["rejected", "failed"]),
    });
    let attention = attention(&connections, &webhooks, ship_back.as_ref(), &privacy);
    Ok(AccountHealth {
        account_id: record.id.clone(),
        name: record.name.clone(),
        needs_attention: !attention.is_empty(),
        attention,
        connections,
        webhooks,
        ship_back,
        privacy,
        keys,
    })
}

fn connection_health(c: &ConnectionRecord, now: i64) -> ConnectionHealth {
    let state = match c.status {
        ConnectionStatus::NeedsReauth => "needs_reauth",
        ConnectionStatus::Paused => "paused",
        ConnectionStatus::Active if c.consecutive_failures > 0 => "failing",
        ConnectionStatus::Active => "active",
    };
    ConnectionHealth {
        id: c.id.clone(),
        marketplace: c.marketplace.clone(),
        state,
        reason: c.status_reason.clone(),
        last_error: c.last_error.clone(),
        consecutive_failures: c.consecutive_failures,
        next_attempt_at: rfc3339_secs(c.next_run_ms),
        last_success_at: c.last_success_ms.map(rfc3339_secs),
        cursor_lag_seconds: c.cursor_ms.map(|cur| (now - cur).max(0) / 1000),
        orders_synced: c.orders_synced,
    }
}

async fn webhook_health(
    app: &App,
    id: &AccountId,
    now: i64,
) -> Result<WebhookHealth, ServiceError> {
    let endpoints = app.store.catalog().webhooks(Some(id)).await?;
    let mut h = WebhookHealth {
        endpoints: endpoints.len(),
        ..WebhookHealth::default()
    };
    if endpoints.is_empty() {
        return Ok(h);
    }
    let store = app.store.account(id).await?;
    for e in &endpoints {
        let backlog = store.endpoint_backlog(e.id.as_str(), e.created_at).await?;
        h.dead_letters += backlog.dead;
        if e.status != WebhookStatus::Active {
            h.disabled_endpoints.push(DisabledEndpoint {
                id: e.id.clone(),
                reason: e.disabled_reason.clone(),
            });
            continue;
        }
        h.backlog += backlog.pending;
        if let Some(age) = store
            .oldest_undelivered_ms(e.id.as_str(), e.created_at, now)
            .await?
        {
            let secs = age.max(0) / 1000;
            h.oldest_undelivered_seconds =
                Some(h.oldest_undelivered_seconds.map_or(secs, |s| s.max(secs)));
        }
    }
    Ok(h)
}

/// The reasons an account needs a person, in a fixed order.
fn attention(
    connections: &[ConnectionHealth],
    webhooks: &WebhookHealth,
    ship_back: Option<&ShipBackHealth>,
    privacy: &PrivacyHealth,
) -> Vec<Attention> {
    let mut out = Vec::new();
    if connections.iter().any(|c| c.state == "needs_reauth") {
        out.push(Attention::ConnectionNeedsReauth);
    }
    if connections.iter().any(|c| c.state == "failing") {
        out.push(Attention::ConnectionFailing);
    }
    if !webhooks.disabled_endpoints.is_empty() {
        out.push(Attention::WebhookDisabled);
    }
    if webhooks.dead_letters > 0 {
        out.push(Attention::DeadLetters);
    }
    if ship_back.is_some_and(|s| s.rejected > 0) {
        out.push(Attention::ShipBackRejected);
    }
    if webhooks
        .oldest_undelivered_seconds
        .is_some_and(|s| s * 1000 > STALE_DELIVERY_MS)
    {
        out.push(Attention::DeliveryLagging);
    }
    if privacy.missed_by_last_sweep > 0 {
        out.push(Attention::PrivacyOverdue);
    }
    out
}
