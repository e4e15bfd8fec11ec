//! Account closure: stop the account's work, shred its keys, remove its store, and keep
//! a deletion receipt (ids, times, counts; no personal data).
//!
//! Every step is idempotent and the first counts are recorded before anything is
//! deleted, so a closure interrupted at any point is finished by running it again, and
//! closing twice returns the same receipt. Keys go before the store: once they are gone
//! the data is unreadable even if deleting the store is interrupted.

use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::{AccountStatus, ClosureCounts};

/// Proof that an account's data was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionReceipt {
    pub account_id: String,
    pub closing_started_at: String,
    pub closed_at: String,
    pub orders_deleted: i64,
    pub key_versions_destroyed: i64,
    pub api_tokens_revoked: bool,
    /// What was removed: `sqlite file` or `postgres schema`.
    pub store_removed: String,
    pub backend: String,
}

/// A point at which a test can interrupt a closure, to prove it resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureStep {
    MarkedClosing,
    KeysShredded,
    StoreDropped,
}

fn rfc3339(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339()
}

/// Closes an account (or finishes an interrupted closure) and returns its receipt.
pub async fn close_account(app: &App, id: &str) -> Result<DeletionReceipt, ServiceError> {
    close_account_until(app, id, None)
        .await
        .map(|r| r.expect("ran to the end"))
}

/// [`close_account`] that stops after `stop_after` (returning `None`), as a crash would.
#[doc(hidden)]
pub async fn close_account_until(
    app: &App,
    id: &str,
    stop_after: Option<ClosureStep>,
) -> Result<Option<DeletionReceipt>, ServiceError> {
    let not_found = || ServiceError::NotFound("account".into());
    let account = AccountId::parse(id).map_err(|_| not_found())?;
    let catalog = app.store.catalog();
    let record = catalog
        .account(account.as_str())
        .await?
        .ok_or_else(not_found)?;
    if let Some(json) = catalog.receipt(account.as_str()).await? {
        let receipt = serde_json::from_str(&json)
            .map_err(|_| ServiceError::Invalid("stored deletion receipt is unreadable".into()))?;
        return Ok(Some(receipt));
    }

    // 1. Stop new work and record what is about to be deleted (first run only).
    if record.status == AccountStatus::Active || catalog.closure_counts(id).await?.is_none() {
        // An unfinished creation never held orders, and its store may be half-migrated.
        let orders = if record.status != AccountStatus::Creating
            && app.store.account_store_exists(&account).await?
        {
            app.store.account(&account).await?.count_orders().await?
        } else {
            0
        };
        let key_versions = i64::try_from(catalog.account_keys(id).await?.len()).unwrap_or(0);
        catalog
            .begin_closing(
                id,
                app.now_ms(),
                ClosureCounts {
                    orders,
                    key_versions,
                },
            )
            .await?;
    }
    tracing::info!(account = %account, "account closing");
    if stop_after == Some(ClosureStep::MarkedClosing) {
        return Ok(None);
    }

    // 2. Shred keys: from then on the data is unreadable.
    app.keyring.forget(&account);
    catalog.delete_account_keys(id).await?;
    catalog.delete_account_tokens(id).await?;
    // Connections hold the marketplace credentials (sealed under the shredded key).
    catalog.delete_account_connections(id).await?;
    catalog.delete_account_webhooks(id).await?;
    catalog.purge_deleted("account_keys").await?;
    catalog.purge_deleted("connections").await?;
    catalog.purge_deleted("webhook_endpoints").await?;
    if stop_after == Some(ClosureStep::KeysShredded) {
        return Ok(None);
    }

    // 3. Remove the store itself.
    app.store.drop_account_store(&account).await?;
    if stop_after == Some(ClosureStep::StoreDropped) {
        return Ok(None);
    }

    // 4. Receipt and final status, atomically.
    let counts = catalog
        .closure_counts(id)
        .await?
        .ok_or_else(|| ServiceError::Invalid("closure counts missing".into()))?;
    let started = catalog
        .account(id)
        .await?
        .and_then(|a| a.closing_started_at)
        .unwrap_or_else(|| app.now_ms());
    let kind = app.store.kind();
    let receipt = DeletionReceipt {
        account_id: id.to_owned(),
        closing_started_at: rfc3339(started),
        closed_at: rfc3339(app.now_ms()),
        orders_deleted: counts.orders,
        key_versions_destroyed: counts.key_versions,
        api_tokens_revoked: true,
        store_removed: match kind {
            crate::store::BackendKind::Sqlite => "sqlite file".into(),
            crate::store::BackendKind::Postgres => "postgres schema".into(),
        },
        backend: kind.as_str().into(),
    };
    let json = serde_json::to_string(&receipt).expect("receipt serializes");
    catalog.finish_closing(id, app.now_ms(), &json).await?;
    tracing::info!(account = %account, orders = counts.orders, "account closed");
    // A concurrent closer may have written its receipt first: return the stored one.
    let stored = catalog.receipt(id).await?.unwrap_or(json);
    serde_json::from_str(&stored)
        .map(Some)
        .map_err(|_| ServiceError::Invalid("stored deletion receipt is unreadable".into()))
}
