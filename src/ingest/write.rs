//! Writing normalized orders into an account store: seal (encrypt) and upsert, with the
//! sealing of one batch overlapping the database write of the previous one, so a sync
//! or an import keeps both the CPU and the database busy.

use std::sync::Arc;

use ordervault_connectors::Order;

use crate::error::ServiceError;
use crate::keyring::AccountKeyset;
use crate::orders::seal_order;
use crate::store::{AccountStore, SealedOrder, StoreError, UpsertResult};

/// Orders per transaction when writing a large set (a sync page is usually smaller).
pub const WRITE_BATCH: usize = 500;

/// Seals (under each order's erasure-day and customer keys) and upserts `orders` in transactions of [`WRITE_BATCH`]; returns one result per
/// order, in order. Each batch commits on its own: a failure leaves earlier batches stored,
/// which is safe because upserts are idempotent and the sync cursor only moves after all
/// batches of a window are in.
pub async fn write_orders(
    store: &AccountStore,
    keys: &Arc<AccountKeyset>,
    orders: &[Order],
    now_ms: i64,
) -> Result<Vec<UpsertResult>, ServiceError> {
    let mut results = Vec::with_capacity(orders.len());
    let mut pending: Option<tokio::task::JoinHandle<Result<Vec<UpsertResult>, StoreError>>> = None;
    for chunk in orders.chunks(WRITE_BATCH) {
        let seal = keys.seal_keys(chunk).await?;
        let sealed: Vec<SealedOrder> = chunk.iter().map(|o| seal_order(&seal, o)).collect();
        drop(seal);
        if let Some(h) = pending.take() {
            results.extend(join(h).await?);
        }
        let store = store.clone();
        pending = Some(tokio::spawn(async move {
            store.upsert_orders_detailed(&sealed, now_ms).await
        }));
    }
    if let Some(h) = pending.take() {
        results.extend(join(h).await?);
    }
    Ok(results)
}

async fn join(
    h: tokio::task::JoinHandle<Result<Vec<UpsertResult>, StoreError>>,
) -> Result<Vec<UpsertResult>, StoreError> {
    h.await
        .map_err(|e| StoreError::Internal(format!("order write task failed: {e}")))?
}
