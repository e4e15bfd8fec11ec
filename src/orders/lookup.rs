//! Finding one stored order by its exact order number, the one way the API (orders,
//! shipments, cancellations) and the CLI (`shipment`, `cancellation`) address an order.
//! No search, no prefix match: an exact number, and its marketplace when two share it.

use crate::store::{AccountStore, OrderRow, StoreError};

/// Longest order number any marketplace issues; a longer one cannot be stored.
const MAX_NUMBER_LEN: usize = 64;

/// Why no single order answers a number. Callers word it for their audience (the API
/// names `?marketplace=`, the CLI `--marketplace`).
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("order not found")]
    NotFound,
    #[error("orders on several marketplaces share this number")]
    Ambiguous,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The order numbered `number` (exactly), on `marketplace` when given.
pub async fn find_order(
    store: &AccountStore,
    number: &str,
    marketplace: Option<&str>,
) -> Result<OrderRow, FindError> {
    if number.is_empty() || number.len() > MAX_NUMBER_LEN {
        return Err(FindError::NotFound);
    }
    let mut rows = store.find_by_number(number).await?;
    if let Some(m) = marketplace {
        rows.retain(|r| r.marketplace == m);
    }
    match rows.len() {
        0 => Err(FindError::NotFound),
        1 => Ok(rows.remove(0)),
        _ => Err(FindError::Ambiguous),
    }
}
