//! Account closure: stop the account's work, shred its keys, remove its store, and keep
//! a deletion receipt (ids, times, counts; no personal data).
//!
//! Every step is idempotent and the first counts are recorded before anything is
//! deleted, so a closure interrupted at any point is finished by running it again, and
//! closing twice returns the same receipt. Keys go before the store: once they are gone
//! the data is unreadable even if deleting the store is interrupted.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::{AccountStatus, ClosureCounts};
use crate::time::rfc3339;

/// Proof that an account's data was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Closes an account (or finishes an interrupted closure) and returns its receipt.
///
/// Takes a parsed [`AccountId`]: the API and CLI parse the id once, and every step below
/// (catalog rows, keys, the store) works on that same value.
pub async fn close_account(
    app: &App,
    account: &AccountId,
) -> Result<DeletionReceipt, ServiceError> {
    close_account_until(app, account, None)
        .await?
        .ok_or_else(|| ServiceError::internal("closure stopped before its end"))
}

/// [`close_account`] that stops after `stop_after` (returning `None`), as a crash would.
#[doc(hidden)]
pub async fn close_account_until(
    app: &App,
    account: &AccountId,
    stop_after: Option<ClosureStep>,
) -> Result<Option<DeletionReceipt>, ServiceError> {
    let not_found = || ServiceError::NotFound("account".into());
    let catalog = app.store.catalog();
    let record = catalog.account(account).await?.ok_or_else(not_found)?;
    if let Some(receipt) = stored_receipt(app, account).await? {
        return Ok(Some(receipt));
    }

    // 1. Stop new work, then record what is about to be deleted, before anything is.
    if record.status == AccountStatus::Creating {
        // An unfinished creation never held orders, and its store may be half-migrated:
        // its counts are recorded before it is marked closing, so a resumed closure never
        // has to count it.
        let key_versions =
            i64::try_from(catalog.account_keys(account).await?.len()).unwrap_or(i64::MAX);
        catalog
            .record_closure_counts(
                account,
                ClosureCounts {
                    orders: 0,
                    key_versions,
                },
            )
            .await?;
    }
    if record.status != AccountStatus::Closing {
        catalog.begin_closing(account, app.now_ms()).await?;
    }
    let counts = match catalog.closure_counts(account).await? {
        Some(counts) => counts,
        None => {
            let counts = count_before_deletion(app, account).await?;
            catalog.record_closure_counts(account, counts).await?;
            // Another closer may have recorded first: its counts are the ones kept.
            catalog.closure_counts(account).await?.unwrap_or(counts)
        }
    };
    tracing::info!(account = %account, "account closing");
    if stop_after == Some(ClosureStep::MarkedClosing) {
        return Ok(None);
    }

    // 2. Shred keys: from then on the data is unreadable.
    app.keyring.forget(account);
    let data_keys = app.keyring.data.destroy_account(account.as_str()).await?;
    crate::metrics::metrics().add(
        "ordervault_data_keys_destroyed_total",
        &[("kind", "account")],
        data_keys,
    );
    catalog.delete_account_keys(account).await?;
    catalog.delete_account_tokens(account).await?;
    // Connections hold the marketplace credentials (sealed under the shredded key).
    catalog.delete_account_connections(account).await?;
    catalog.delete_account_webhooks(account).await?;
    catalog.purge_deleted("account_keys").await?;
    catalog.purge_deleted("data_keys").await?;
    catalog.purge_deleted("connections").await?;
    catalog.purge_deleted("webhook_endpoints").await?;
    if stop_after == Some(ClosureStep::KeysShredded) {
        return Ok(None);
    }

    // 3. Remove the store itself.
    app.store.drop_account_store(account).await?;
    if stop_after == Some(ClosureStep::StoreDropped) {
        return Ok(None);
    }

    // 4. Receipt and final status, atomically.
    let started = catalog
        .account(account)
        .await?
        .and_then(|a| a.closing_started_at)
        .unwrap_or_else(|| app.now_ms());
    let kind = app.store.kind();
    let receipt = DeletionReceipt {
        account_id: account.to_string(),
        closing_started_at: rfc3339(started),
        closed_at: rfc3339(app.now_ms()),
        orders_deleted: counts.orders,
        key_versions_destroyed: counts.key_versions,
        api_tokens_revoked: true,
        store_removed: kind.store_label().into(),
        backend: kind.as_str().into(),
    };
    let json = serde_json::to_string(&receipt).expect("receipt serializes");
    catalog.finish_closing(account, app.now_ms(), &json).await?;
    tracing::info!(account = %account, orders = counts.orders, "account closed");
    // A concurrent closer may have written its receipt first: return the stored one.
    Ok(Some(stored_receipt(app, account).await?.unwrap_or(receipt)))
}

async fn stored_receipt(
    app: &App,
    account: &AccountId,
) -> Result<Option<DeletionReceipt>, ServiceError> {
    match app.store.catalog().receipt(account).await? {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|_| ServiceError::internal("stored deletion receipt is unreadable")),
        None => Ok(None),
    }
}

/// Orders and key versions as they are now. Runs only while nothing has been deleted:
/// counts are recorded before the first key is shredded, so a missing store here means
/// the counts can no longer be known, and the closure stops (`closing`, resumable by an
/// operator) rather than write a receipt that under-reports.
async fn count_before_deletion(
    app: &App,
    account: &AccountId,
) -> Result<ClosureCounts, ServiceError> {
    let key_versions =
        i64::try_from(app.store.catalog().account_keys(account).await?.len()).unwrap_or(i64::MAX);
    if !app.store.account_store_exists(account).await? {
        return Err(ServiceError::Conflict(
            "the account's store is missing before its closure counts were taken; \
             the account stays closing"
                .into(),
        ));
    }
    let orders = app
        .store
        .account_for_closure(account)
        .await?
        .count_orders()
        .await?;
    Ok(ClosureCounts {
        orders,
        key_versions,
    })
}
