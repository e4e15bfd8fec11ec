//! Writing normalized orders into an account store: seal (encrypt) and upsert, with the
//! sealing of one batch overlapping the database write of the previous one, so a sync
//! or an import keeps both the CPU and the database busy.

use std::sync::Arc;

use ordervault_connectors::Order;

use crate::crypto::{Ciphertext, SealRef};
use crate::error::ServiceError;
use crate::keyring::AccountKeyset;
use crate::orders::seal_order;
use crate::store::{AccountStore, SealedOrder, StoreError, UpsertOutcome, UpsertResult};

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
    // Only an update can keep an older field, and only fulfilment or cancellation moves
    // an order's erasure day.
    for (order, r) in orders.iter().zip(&results) {
        let moved = order.fulfilled_at.is_some() || order.cancelled_at.is_some();
        if let (UpsertOutcome::Updated, Some((id, version))) = (r.outcome, r.written) {
            if moved && lacks_a_field(order) {
                reseal_kept_fields(store, keys, id, version).await?;
            }
        }
    }
    Ok(results)
}

fn lacks_a_field(o: &Order) -> bool {
    let c = &o.customer;
    c.shipping.is_none()
        || c.billing.is_none()
        || c.email.is_none()
        || c.phone.is_none()
        || c.delivery_notes.is_none()
}

/// A payload that lacks a personal field keeps the stored ciphertext of it, sealed under
/// the keys the order had then. When the order's erasure day or customer changed since
/// (it was fulfilled, so its data falls due earlier), that kept field would outlive its
/// due day in every copy: reseal the row so every field is under today's keys.
async fn reseal_kept_fields(
    store: &AccountStore,
    keys: &AccountKeyset,
    id: i64,
    version: i64,
) -> Result<(), ServiceError> {
    let Some(row) = store.get_by_id(id).await? else {
        return Ok(());
    };
    if row.pseudonymized_at.is_some() {
        return Ok(());
    }
    let opened = match crate::orders::open_order(keys, &row).await {
        Ok(o) => o,
        Err(e) => {
            // Never fail ingest over this: the sweep still erases the row on its due day.
            tracing::warn!(order_id = id, error = %e, "kept fields could not be resealed");
            return Ok(());
        }
    };
    let wanted = SealRef::Data {
        day: keys.erasure_day(&opened.order),
        customer: keys.customer_of(&opened.order),
    };
    let stale = [
        &row.shipping_ct,
        &row.billing_ct,
        &row.email_ct,
        &row.phone_ct,
        &row.notes_ct,
    ]
    .into_iter()
    .flatten()
    .any(|ct| Ciphertext(ct.clone()).seal_ref().ok() != Some(wanted));
    if stale {
        let seal = keys.seal_keys(std::slice::from_ref(&opened.order)).await?;
        let sealed = seal_order(&seal, &opened.order);
        store.replace_sealed(id, version, &sealed).await?;
    }
    Ok(())
}

async fn join(
    h: tokio::task::JoinHandle<Result<Vec<UpsertResult>, StoreError>>,
) -> Result<Vec<UpsertResult>, StoreError> {
    h.await
        .map_err(|e| StoreError::Internal(format!("order write task failed: {e}")))?
}
