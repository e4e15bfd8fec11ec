//! Writing normalized orders into an account store: merge with what is stored, seal
//! (encrypt) and upsert, with the sealing of one batch overlapping the database write of
//! the previous one, so a sync or an import keeps both the CPU and the database busy.
//!
//! The merge reads the stored rows of a batch first, so that a later payload that lacks
//! or blanks a personal field keeps the stored value (field by field), and so that
//! `fulfilled_at` keeps the earliest evidence (see [`super::merge`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ordervault_connectors::Order;

use super::merge::merge_into;
use crate::error::ServiceError;
use crate::keyring::AccountKeyset;
use crate::orders::{open_order, seal_order};
use crate::store::{AccountStore, SealedOrder, StoreError, UpsertResult};

/// Orders per transaction when writing a large set (a sync page is usually smaller).
pub const WRITE_BATCH: usize = 500;

type Pending = tokio::task::JoinHandle<Result<Vec<UpsertResult>, StoreError>>;

/// A batch being written: its task, its orders' keys, and which of them should write.
type InFlight = (Pending, HashSet<(String, String)>, Vec<bool>);

/// How often one order's merge is redone because another writer stored that order
/// between the read and the write. Each retry means another write landed, so this only
/// runs out under a flood of writers to one order; the sync then fails and retries later.
const MAX_MERGE_RETRIES: usize = 5;

/// Merges each order into its stored version field by field, seals it (under its
/// erasure-day and customer keys) and upserts `orders` in transactions of
/// [`WRITE_BATCH`]; returns one result per order, in order. Every write seals every
/// personal field the merged order holds, so a field kept from an earlier payload moves
/// to the order's current keys too (an earlier erasure day once it is fulfilled). Each
/// batch commits on its own: a failure leaves earlier batches stored, which is safe
/// because upserts are idempotent and the sync cursor only moves after all batches of a
/// window are in.
///
/// Each write applies only over the version its merge read (see
/// [`SealedOrder::base_version`]): when another writer stored an order in between (two
/// connections listing the same order), that order is read, merged and written again,
/// so neither writer's fields are lost.
pub async fn write_orders(
    store: &AccountStore,
    keys: &Arc<AccountKeyset>,
    orders: &[Order],
    now_ms: i64,
) -> Result<Vec<UpsertResult>, ServiceError> {
    write_orders_between(store, keys, orders, now_ms, &NoPause).await
}

/// Runs between a batch's read and its write. Only tests pause there, to put another
/// writer in between.
#[doc(hidden)]
#[async_trait::async_trait]
pub trait BetweenReadAndWrite: Send + Sync {
    async fn pause(&self, attempt: usize);
}

struct NoPause;

#[async_trait::async_trait]
impl BetweenReadAndWrite for NoPause {
    async fn pause(&self, _attempt: usize) {}
}

/// [`write_orders`], calling `between` after each batch's read (a test seam).
#[doc(hidden)]
pub async fn write_orders_between(
    store: &AccountStore,
    keys: &Arc<AccountKeyset>,
    orders: &[Order],
    now_ms: i64,
    between: &dyn BetweenReadAndWrite,
) -> Result<Vec<UpsertResult>, ServiceError> {
    let mut results = write_once(store, keys, orders, now_ms, between, 0).await?;
    let mut attempt = 0;
    loop {
        let stale: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, (_, stale))| *stale)
            .map(|(i, _)| i)
            .collect();
        if stale.is_empty() {
            break;
        }
        attempt += 1;
        if attempt > MAX_MERGE_RETRIES {
            return Err(ServiceError::internal(format!(
                "{} orders kept changing under the write; giving up after {MAX_MERGE_RETRIES} merges",
                stale.len()
            )));
        }
        tracing::debug!(
            orders = stale.len(),
            attempt,
            "orders changed between read and write: merging again"
        );
        let again: Vec<Order> = stale.iter().map(|&i| orders[i].clone()).collect();
        let redone = write_once(store, keys, &again, now_ms, between, attempt).await?;
        for (&i, r) in stale.iter().zip(redone) {
            results[i] = r;
        }
    }
    Ok(results.into_iter().map(|(r, _)| r).collect())
}

/// One pass: each result with whether the write was refused because its base moved.
async fn write_once(
    store: &AccountStore,
    keys: &Arc<AccountKeyset>,
    orders: &[Order],
    now_ms: i64,
    between: &dyn BetweenReadAndWrite,
    attempt: usize,
) -> Result<Vec<(UpsertResult, bool)>, ServiceError> {
    let now = crate::time::datetime(now_ms);
    let mut results = Vec::with_capacity(orders.len());
    let mut pending: Option<InFlight> = None;
    for chunk in orders.chunks(WRITE_BATCH) {
        let chunk_keys: HashSet<(String, String)> = chunk.iter().map(key).collect();
        // The same order in the batch still being written: read after that write.
        if pending
            .as_ref()
            .is_some_and(|(_, k, _)| !k.is_disjoint(&chunk_keys))
        {
            let (h, _, expect) = pending.take().expect("checked");
            results.extend(settle(join(h).await?, expect));
        }
        let stored = stored_orders(store, keys, chunk).await?;
        let mut expect = Vec::with_capacity(chunk.len());
        let mut bases = Vec::with_capacity(chunk.len());
        let merged: Vec<Order> = chunk
            .iter()
            .map(|o| {
                let mut o = o.clone();
                let before = stored.get(&key(&o));
                merge_into(&mut o, before.map(|(s, _)| s), now);
                // The upsert writes only a newer update; anything else stays as stored.
                expect.push(before.is_none_or(|(s, _)| o.updated_at > s.updated_at));
                bases.push(before.map_or(0, |(_, v)| *v));
                o
            })
            .collect();
        let seal = keys.seal_keys(&merged).await?;
        let sealed: Vec<SealedOrder> = merged
            .iter()
            .zip(bases)
            .map(|(o, base)| SealedOrder {
                base_version: Some(base),
                ..seal_order(&seal, o)
            })
            .collect();
        drop(seal);
        between.pause(attempt).await;
        if let Some((h, _, expect)) = pending.take() {
            results.extend(settle(join(h).await?, expect));
        }
        let store = store.clone();
        pending = Some((
            tokio::spawn(async move { store.upsert_orders_detailed(&sealed, now_ms).await }),
            chunk_keys,
            expect,
        ));
    }
    if let Some((h, _, expect)) = pending.take() {
        results.extend(settle(join(h).await?, expect));
    }
    Ok(results)
}

/// Pairs each result with whether it was refused although newer: its base version moved
/// (another writer stored the order after the read), so the merge must be redone. An
/// older duplicate of an order in the same batch is refused too and redone harmlessly:
/// its second read finds the newer version stored and leaves it.
fn settle(results: Vec<UpsertResult>, expected_write: Vec<bool>) -> Vec<(UpsertResult, bool)> {
    results
        .into_iter()
        .zip(expected_write)
        .map(|(r, expected)| {
            let stale = expected && r.written.is_none();
            (r, stale)
        })
        .collect()
}

fn key(o: &Order) -> (String, String) {
    (
        o.marketplace.as_str().to_owned(),
        o.order_number.as_str().to_owned(),
    )
}

/// The stored versions of the chunk's orders that exist, opened (decrypted), with their
/// row versions.
async fn stored_orders(
    store: &AccountStore,
    keys: &AccountKeyset,
    chunk: &[Order],
) -> Result<HashMap<(String, String), (Order, i64)>, StoreError> {
    let mut by_marketplace: HashMap<&str, Vec<&str>> = HashMap::new();
    for o in chunk {
        by_marketplace
            .entry(o.marketplace.as_str())
            .or_default()
            .push(o.order_number.as_str());
    }
    let mut out = HashMap::new();
    for (marketplace, numbers) in by_marketplace {
        for row in store.get_many(marketplace, &numbers).await? {
            let opened = open_order(keys, &row).await.map_err(|e| {
                StoreError::Internal(format!("stored order could not be opened: {e}"))
            })?;
            out.insert(
                (row.marketplace.clone(), row.order_number.clone()),
                (opened.order, row.version),
            );
        }
    }
    Ok(out)
}

async fn join(h: Pending) -> Result<Vec<UpsertResult>, StoreError> {
    h.await
        .map_err(|e| StoreError::Internal(format!("order write task failed: {e}")))?
}
