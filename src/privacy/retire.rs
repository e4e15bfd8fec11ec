//! Retiring erasure-hour keys in the sweep (issue 16): after the due orders of an account
//! are pseudonymized, every hour key whose hour has started is destroyed, in the same
//! run. Orders under such a key that are not due yet (the rest of the current hour, and
//! orders still unfulfilled past their retention) are first resealed under a new
//! generation, so nothing is erased before it is due.
//!
//! Why this gives the bound: an order is always sealed under an hour that starts no
//! later than its pseudonymization ([`crate::keyring::AccountKeyset::erasure_hour`]), so
//! the sweep that pseudonymizes it destroys every key it was ever sealed under. A copy
//! holds those keys wrapped under epochs that end within an epoch period plus one
//! rotation tick of that destruction.
//!
//! Counts only; never personal data or key bytes.

use std::collections::HashSet;

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::orders::{open_order, seal_order};
use crate::shredding::{hour_of, DAY_MS, HOUR_MS};
use crate::store::DueCutoffs;

/// Rows moved per page.
const PAGE: i64 = 500;

/// What retiring started hours did to one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retired {
    /// Orders not yet due moved to a new generation.
    pub moved: u64,
    /// Hour keys destroyed.
    pub keys_destroyed: u64,
}

/// The orders that can sit under a started hour key and are not due: those whose
/// earliest due hour is at most the current one (the due ones were just pseudonymized).
fn started_cutoffs(now_ms: i64, retention_days: i64, max_age_days: u32) -> DueCutoffs {
    let hour_end = (i64::from(hour_of(now_ms)) + 1) * HOUR_MS;
    let earliest_open = retention_days.min(i64::from(max_age_days));
    DueCutoffs {
        closed_before_ms: hour_end - retention_days * DAY_MS - 1,
        placed_before_ms: hour_end - earliest_open * DAY_MS - 1,
    }
}

/// Moves the not yet due orders off every started hour key of the account, then
/// destroys those keys. Call only after every due order was pseudonymized.
pub async fn retire_started_hours(
    app: &App,
    id: &AccountId,
    retention_days: i64,
    now_ms: i64,
) -> Result<Retired, ServiceError> {
    let data = &app.keyring.data;
    let retiring = data.started_hour_keys(id, now_ms).await?;
    if retiring.is_empty() {
        return Ok(Retired::default());
    }
    let avoid: HashSet<_> = retiring.iter().copied().collect();
    let keys = app.keyring.keys(id).await?;
    let store = app.store.account(id).await?;
    let cutoffs = started_cutoffs(
        now_ms,
        retention_days,
        app.settings.pseudonymize.max_age_days,
    );
    let mut out = Retired::default();
    let mut after = 0;
    loop {
        let due = store.due_for_pseudonymization(cutoffs, after, PAGE).await?;
        let Some(last) = due.last() else { break };
        after = last.id;
        let mut rows = Vec::with_capacity(due.len());
        for d in &due {
            if let Some(row) = store.get_by_id(d.id).await? {
                rows.push(row);
            }
        }
        let mut opened = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for row in rows {
            match open_order(&keys, &row).await {
                Ok(o) => opened.push((row, o.order)),
                // Its keys are gone already: nothing to move, erase what is left.
                Err(_) => unreadable.push(row.id),
            }
        }
        if !unreadable.is_empty() {
            store.erase_rows(&unreadable, now_ms).await?;
        }
        let orders: Vec<_> = opened.iter().map(|(_, o)| o.clone()).collect();
        let seal = keys.seal_keys_avoiding(&orders, &avoid).await?;
        for (row, order) in &opened {
            let sealed = seal_order(&seal, order);
            if store.replace_sealed(row.id, row.version, &sealed).await? {
                out.moved += 1;
            }
        }
        if (due.len() as i64) < PAGE {
            break;
        }
    }
    out.keys_destroyed = data.destroy_keys(id, &retiring).await?;
    Ok(out)
}
