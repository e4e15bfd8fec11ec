//! Pseudonymization: customer personal data is erased a retention period after an order
//! is fulfilled or cancelled (per account, `retention_days`), or `pseudonymize.max_age_days`
//! after it was placed if it never was. What stays is business data and a pseudonym
//! (HMAC of the normalized email under the account's pseudonym key), so repeat
//! customers remain countable without anyone being identifiable.
//!
//! The sweep is batched (one transaction per at most `pseudonymize.batch_size` orders;
//! the first batches are smaller, see [`first_batch_size`]), so it resumes where it stopped; idempotent (a pseudonymized row is never due again); and
//! safe with several processes on one database: a lease row per account in the catalog
//! lets one process sweep an account at a time, and every UPDATE re-checks
//! `pseudonymized_at IS NULL`, so even a lost lease cannot count a row twice. After a
//! sweep the erased bytes are purged from the files (WAL checkpoint / VACUUM).
//!
//! The only per-row crypto is decrypting the email to compute the pseudonym; the
//! erasure itself is set-based. Nothing here logs or reports personal data: reports
//! carry account ids and counts only.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::accounts::active_account;
use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::keyring::AccountKeyset;
use crate::orders::{data_key_pair, pseudonym_with};
use crate::store::catalog::AccountStatus;
use crate::store::{AccountStore, DueCutoffs};
use crate::time::rfc3339;

const DAY_MS: i64 = 86_400_000;

/// How long a sweep holds an account's lease without renewing it (it renews after every
/// batch). A crashed sweeper's account is picked up by the next run after this.
pub const SWEEP_LEASE_MS: i64 = 10 * 60_000;

/// How one account's sweep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepOutcome {
    /// Every due order was pseudonymized.
    Done,
    /// Another process is sweeping this account right now; it was skipped.
    Busy,
    /// The sweep failed part-way; committed batches stay done, the next run resumes.
    Failed,
}

/// What a sweep did to one account. Counts and ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSweep {
    pub account_id: String,
    pub outcome: SweepOutcome,
    /// Orders this sweep pseudonymized (exact, even under concurrent sweeps).
    pub pseudonymized: u64,
    /// Of the due orders, how many had an email and so keep a pseudonym.
    pub with_pseudonym: u64,
    /// Due orders whose email could not be decrypted (unknown key version, damaged
    /// ciphertext): erased all the same, without a pseudonym.
    pub undecryptable: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Erasure keys destroyed (issue 16; hour keys, and legacy day keys): every order
    /// due so far is now unreadable in the live store and, within the erasure window, in
    /// every copy. (Named for the day keys it counted first.)
    pub day_keys_destroyed: u64,
    /// Orders not due yet that were moved off a started hour's key to a new generation
    /// before that key was destroyed.
    pub moved_to_new_keys: u64,
    /// Time spent destroying keys (making orders unreadable) and moving orders not yet
    /// due off them, in milliseconds.
    pub shred_ms: u64,
    /// Time spent erasing columns and purging files (physical cleanup), in milliseconds.
    pub cleanup_ms: u64,
    /// Of `cleanup_ms`, the purge at the end (PostgreSQL `VACUUM [FULL]`, SQLite WAL
    /// checkpoint): the rest is reading due orders, computing pseudonyms and the UPDATEs.
    pub purge_ms: u64,
    pub duration_ms: u64,
    /// Why the sweep failed (no personal data), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What one sweep run did, per account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// The instant deadlines were measured against (RFC 3339).
    pub as_of: String,
    /// Orders pseudonymized across all accounts.
    pub pseudonymized: u64,
    pub accounts: Vec<AccountSweep>,
}

/// Retention and age limits of one account, as applied at `now_ms`.
pub(crate) fn cutoffs(now_ms: i64, retention_days: i64, max_age_days: u32) -> DueCutoffs {
    DueCutoffs {
        closed_before_ms: now_ms - retention_days * DAY_MS,
        placed_before_ms: now_ms - i64::from(max_age_days) * DAY_MS,
    }
}

/// Pseudonymizes every due order of one account, or of every active account when
/// `account` is `None`. With one account, a failure is returned as an error; across all
/// accounts, one account's failure is reported and the others still run.
pub async fn sweep(app: &App, account: Option<&AccountId>) -> Result<SweepReport, ServiceError> {
    let now = app.now_ms();
    let accounts: Vec<(AccountId, i64)> = match account {
        Some(id) => {
            let id = active_account(app, id).await?;
            let record = app.store.catalog().account(&id).await?;
            let retention = record.map(|r| r.retention_days).unwrap_or_default();
            vec![(id, retention)]
        }
        None => app
            .store
            .catalog()
            .accounts()
            .await?
            .into_iter()
            .filter(|a| a.status == AccountStatus::Active)
            .map(|a| (a.id, a.retention_days))
            .collect(),
    };
    // One owner id per run: a run never competes with itself for a lease.
    let owner = format!("sweep-{}", AccountId::generate());
    let mut report = SweepReport {
        as_of: rfc3339(now),
        pseudonymized: 0,
        accounts: Vec::with_capacity(accounts.len()),
    };
    for (id, retention_days) in accounts {
        let started = Instant::now();
        let result = sweep_account(app, &id, retention_days, &owner, now).await;
        let mut done = match result {
            Ok(done) => done,
            Err(e) if account.is_some() => return Err(e),
            Err(e) => {
                tracing::warn!(account = %id, error = %e, "pseudonymization sweep failed");
                AccountSweep {
                    outcome: SweepOutcome::Failed,
                    error: Some(e.to_string()),
                    ..empty(&id, SweepOutcome::Failed)
                }
            }
        };
        done.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report.pseudonymized += done.pseudonymized;
        report.accounts.push(done);
    }
    Ok(report)
}

fn empty(id: &AccountId, outcome: SweepOutcome) -> AccountSweep {
    AccountSweep {
        account_id: id.to_string(),
        outcome,
        pseudonymized: 0,
        with_pseudonym: 0,
        undecryptable: 0,
        batches: 0,
        day_keys_destroyed: 0,
        moved_to_new_keys: 0,
        shred_ms: 0,
        cleanup_ms: 0,
        purge_ms: 0,
        duration_ms: 0,
        error: None,
    }
}

/// Sweeps one account under its lease; the lease is released however the sweep ends.
async fn sweep_account(
    app: &App,
    id: &AccountId,
    retention_days: i64,
    owner: &str,
    now: i64,
) -> Result<AccountSweep, ServiceError> {
    let catalog = app.store.catalog();
    if !catalog
        .claim_sweep_lease(
            id.as_str(),
            owner,
            app.now_ms(),
            app.now_ms() + SWEEP_LEASE_MS,
        )
        .await?
    {
        return Ok(empty(id, SweepOutcome::Busy));
    }
    match sweep_leased(app, id, retention_days, owner, now).await {
        Ok(done) => {
            catalog
                .finish_sweep(id.as_str(), owner, app.now_ms(), done.pseudonymized as i64)
                .await?;
            if done.pseudonymized > 0 {
                tracing::info!(account = %id, orders = done.pseudonymized, "orders pseudonymized");
            }
            Ok(done)
        }
        Err(e) => {
            // Best effort: an unreleased lease only expires later.
            let _ = catalog.release_sweep_lease(id.as_str(), owner).await;
            Err(e)
        }
    }
}

async fn sweep_leased(
    app: &App,
    id: &AccountId,
    retention_days: i64,
    owner: &str,
    now: i64,
) -> Result<AccountSweep, ServiceError> {
    let settings = &app.settings.pseudonymize;
    // Stores written before hour keys move onto them first (resumable; a no-op once
    // done): until then only legacy day keys of past days are destroyed.
    let rekeyed = super::reseal::reseal_account(app, id, None).await?.done;
    let keys = app.keyring.keys(id).await?;
    let store = app.store.account(id).await?;
    let due = cutoffs(now, retention_days, settings.max_age_days);
    let limit = i64::from(settings.batch_size.max(1));
    let mut done = empty(id, SweepOutcome::Done);
    let cleanup_started = Instant::now();
    let checkpoint_every = (100_000 / limit.max(1)).max(1) as u64;
    // Two batches in flight: while the database erases one, this process reads the next
    // and computes its pseudonyms (on a blocking thread), so the sweep takes about as
    // long as its UPDATEs. The next batch starts after the current one's last id, so the
    // two never touch the same row.
    // Complete unless a lease loss stops the loop early: only then are the started
    // hours' keys destroyed, because only then is every due order of them erased.
    let mut complete = true;
    // The first batch is prepared with nothing to overlap it with, so it starts small and
    // each batch doubles up to `limit`: a batch is prepared while the one half its size is
    // erased. (Preparing a first full batch of 50,000 alone took about a quarter of a
    // 100,000-order sweep: its key lookups and decryptions waited on nothing else.)
    let mut size = first_batch_size(limit);
    let mut current = prepare_batch(&store, &keys, due, 0, size).await?;
    while let Some(batch) = current {
        let more = batch.rows.len() as i64 >= size;
        let next_size = size.saturating_mul(2).min(limit);
        let (erased, next) = tokio::join!(store.pseudonymize_rows(&batch.rows, now), async {
            if more {
                prepare_batch(&store, &keys, due, batch.last_id, next_size).await
            } else {
                Ok(None)
            }
        });
        size = next_size;
        done.pseudonymized += erased?;
        done.with_pseudonym += batch.with_pseudonym;
        done.undecryptable += batch.undecryptable;
        done.batches += 1;
        current = next?;
        // Every ~100,000 orders: keeps a write-ahead log bounded (the batches skip
        // automatic checkpoints) and purges as it goes.
        if done.batches % checkpoint_every == 0 {
            store.fold_log().await?;
        }
        // Renew the lease; if another process took it over (ours expired), stop: the
        // rows it sweeps are never counted twice, but two sweepers would waste work.
        let t = app.now_ms();
        if !app
            .store
            .catalog()
            .claim_sweep_lease(id.as_str(), owner, t, t + SWEEP_LEASE_MS)
            .await?
        {
            complete = false;
            break;
        }
    }
    done.cleanup_ms = elapsed_ms(cleanup_started);
    // Every due order is erased now: destroy the keys of every hour that has started,
    // in this same run (after moving the orders under them that are not due yet), so
    // copies forget these orders one epoch period after this moment (issue 16).
    let shred_started = Instant::now();
    let data = &app.keyring.data;
    done.day_keys_destroyed = data
        .destroy_days_before(id.as_str(), crate::shredding::day_of(now))
        .await?;
    if complete && rekeyed {
        done.day_keys_destroyed += data.destroy_all_days(id.as_str()).await?;
        if let Some(floor) = app.store.catalog().reseal_floor(id.as_str()).await? {
            done.day_keys_destroyed += data
                .destroy_hours_created_before(id.as_str(), floor)
                .await?;
        }
        let retired = super::retire::retire_started_hours(app, id, retention_days, now).await?;
        done.day_keys_destroyed += retired.keys_destroyed;
        done.moved_to_new_keys = retired.moved;
    }
    done.shred_ms = elapsed_ms(shred_started);
    crate::metrics::metrics().add(
        "ordervault_data_keys_destroyed_total",
        &[("kind", "day")],
        done.day_keys_destroyed,
    );
    let cleanup_started = Instant::now();
    // A cheap purge (SQLite's checkpoint, when there is nothing to do) runs every time:
    // it also finishes a purge an earlier sweep could not. PostgreSQL vacuums after
    // changes, and once more at the next sweep: a vacuum must keep row versions that a
    // transaction still running anywhere on the server might see, so bytes erased while
    // other work was in flight leave the files only at the following vacuum.
    let cheap = store.purge_is_cheap();
    let previous = if cheap || done.pseudonymized > 0 {
        0
    } else {
        app.store.catalog().last_sweep_changes(id.as_str()).await?
    };
    if done.pseudonymized > 0 || done.moved_to_new_keys > 0 || cheap || previous > 0 {
        let purge_started = Instant::now();
        store
            .purge_erased(app.settings.pseudonymize.postgres_vacuum_full)
            .await?;
        done.purge_ms = elapsed_ms(purge_started);
    }
    done.cleanup_ms += elapsed_ms(cleanup_started);
    Ok(done)
}

/// The size of a sweep's first batch: a sixteenth of the batch size, at least 1,000
/// orders (or the batch size, if smaller).
fn first_batch_size(limit: i64) -> i64 {
    (limit / 16).max(limit.min(1000))
}

/// One batch of due orders, ready to erase: ids with their pseudonyms.
struct PreparedBatch {
    rows: Vec<(i64, Option<[u8; 32]>)>,
    last_id: i64,
    with_pseudonym: u64,
    undecryptable: u64,
}

/// Reads up to `limit` due orders after `after_id` and computes their pseudonyms: the
/// data keys of the whole batch in one lookup ([`AccountKeyset::openers`]), then the
/// decryption and HMACs on a blocking thread. `None` when nothing is due any more.
async fn prepare_batch(
    store: &AccountStore,
    keys: &Arc<AccountKeyset>,
    due: DueCutoffs,
    after_id: i64,
    limit: i64,
) -> Result<Option<PreparedBatch>, ServiceError> {
    let rows = store.due_for_pseudonymization(due, after_id, limit).await?;
    let Some(last_id) = rows.last().map(|r| r.id) else {
        return Ok(None);
    };
    let pairs: HashSet<_> = rows
        .iter()
        .filter_map(|r| r.email_ct.as_deref().and_then(data_key_pair))
        .collect();
    let open = keys.openers(&pairs).await?;
    let keys = keys.clone();
    let batch = tokio::task::spawn_blocking(move || {
        let mut batch = PreparedBatch {
            rows: Vec::with_capacity(rows.len()),
            last_id,
            with_pseudonym: 0,
            undecryptable: 0,
        };
        for r in &rows {
            let pseudonym =
                match pseudonym_with(&keys, &open, &r.marketplace, &r.order_number, &r.email_ct) {
                    Ok(p) => p,
                    Err(_) => {
                        // Erasing matters more than the pseudonym: erase it anyway.
                        batch.undecryptable += 1;
                        None
                    }
                };
            batch.with_pseudonym += u64::from(pseudonym.is_some());
            batch.rows.push((r.id, pseudonym));
        }
        batch
    })
    .await
    .map_err(|e| {
        ServiceError::Store(crate::store::StoreError::Internal(format!(
            "pseudonym computation stopped: {e}"
        )))
    })?;
    Ok(Some(batch))
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Retention state of one account's orders (counts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PrivacySummary {
    pub account_id: String,
    /// Days after fulfilment or cancellation before personal data is erased.
    pub retention_days: i64,
    /// Days after placement before an order never fulfilled nor cancelled is erased.
    pub max_age_days: u32,
    pub orders_total: i64,
    /// Orders that still hold personal data.
    pub with_personal_data: i64,
    pub pseudonymized: i64,
    /// Orders past their deadline that still hold personal data. Between two scheduled
    /// sweeps this can be above zero for orders whose deadline passed since the last run
    /// (at most one cron interval); after a sweep it is zero.
    pub overdue: i64,
    /// When the last completed sweep of this account finished (RFC 3339).
    pub last_sweep_at: Option<String>,
    /// The instant the deadlines were measured against (RFC 3339).
    pub as_of: String,
}

/// The account's retention settings and how many orders are in which state.
pub async fn privacy_summary(
    app: &App,
    account: &AccountId,
) -> Result<PrivacySummary, ServiceError> {
    let id = active_account(app, account).await?;
    let catalog = app.store.catalog();
    let record = catalog
        .account(&id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("account".into()))?;
    let now = app.now_ms();
    let max_age_days = app.settings.pseudonymize.max_age_days;
    let store = app.store.account(&id).await?;
    let counts = store
        .privacy_counts(cutoffs(now, record.retention_days, max_age_days))
        .await?;
    Ok(PrivacySummary {
        account_id: id.to_string(),
        retention_days: record.retention_days,
        max_age_days,
        orders_total: counts.total,
        with_personal_data: counts.with_personal_data,
        pseudonymized: counts.pseudonymized,
        overdue: counts.overdue,
        last_sweep_at: catalog.last_sweep(id.as_str()).await?.map(rfc3339),
        as_of: rfc3339(now),
    })
}
