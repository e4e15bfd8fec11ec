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

/// Merges each order into its stored version field by field, seals it (under its
/// erasure-day and customer keys) and upserts `orders` in transactions of
/// [`WRITE_BATCH`]; returns one result per order, in order. Every write seals every
/// personal field the merged order holds, so a field kept from an earlier payload moves
/// to the order's current keys too (an earlier erasure day once it is fulfilled). Each
/// batch commits on its own: a failure leaves earlier batches stored, which is safe
/// because upserts are idempotent and the sync cursor only moves after all batches of a
/// window are in.
pub async fn write_orders(
    store: &AccountStore,
    keys: &Arc<AccountKeyset>,
    orders: &[Order],
    now_ms: i64,
) -> Result<Vec<UpsertResult>, ServiceError> {
    let now = crate::time::datetime(now_ms);
    let mut results = Vec::with_capacity(orders.len());
    let mut pending: Option<(Pending, HashSet<(String, String)>)> = None;
    for chunk in orders.chunks(WRITE_BATCH) {
        let chunk_keys: HashSet<(String, String)> = chunk.iter().map(key).collect();
        // The same order in the batch still being written: read after that write.
        if pending
            .as_ref()
            .is_some_and(|(_, k)| !k.is_disjoint(&chunk_keys))
        {
            let (h, _) = pending.take().expect("checked");
            results.extend(join(h).await?);
        }
        let stored = stored_orders(store, keys, chunk).await?;
        let merged: Vec<Order> = chunk
            .iter()
            .map(|o| {
                let mut o = o.clone();
                let k = key(&o);
                merge_into(&mut o, stored.get(&k), now);
                o
            })
            .collect();
        let seal = keys.seal_keys(&merged).await?;
        let sealed: Vec<SealedOrder> = merged.iter().map(|o| seal_order(&seal, o)).collect();
        drop(seal);
        if let Some((h, _)) = pending.take() {
            results.extend(join(h).await?);
        }
        let store = store.clone();
        pending = Some((
            tokio::spawn(async move { store.upsert_orders_detailed(&sealed, now_ms).await }),
            chunk_keys,
        ));
    }
    if let Some((h, _)) = pending.take() {
        results.extend(join(h).await?);
    }
    Ok(results)
}

fn key(o: &Order) -> (String, String) {
    (
        o.marketplace.as_str().to_owned(),
        o.order_number.as_str().to_owned(),
    )
}

/// The stored versions of the chunk's orders that exist, opened (decrypted).
async fn stored_orders(
    store: &AccountStore,
    keys: &AccountKeyset,
    chunk: &[Order],
) -> Result<HashMap<(String, String), Order>, StoreError> {
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
                opened.order,
            );
        }
    }
    Ok(out)
}

async fn join(h: Pending) -> Result<Vec<UpsertResult>, StoreError> {
    h.await
        .map_err(|e| StoreError::Internal(format!("order write task failed: {e}")))?
}
