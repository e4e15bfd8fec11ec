//! Moving existing stores onto erasure-hour keys (issue 16): orders sealed before
//! crypto-shredding (v1, under the account key) or under the first design's day keys
//! (v2) are opened and resealed under their erasure-hour and customer keys, a page at a
//! time, online (each row is rewritten only if no update or erasure overtook it).
//! Progress is kept per account in the catalog, so an interrupted run resumes where it
//! stopped; a finished account is not scanned again. New writes seal under hour keys
//! only, so nothing creates v1 or v2 ciphertext again. The sweep runs this first, and
//! destroys an account's day keys once it is done (catalog migration 0060 restarts it
//! for every account that had finished the move onto day keys).
//!
//! Reports carry account ids and counts only.

use serde::Serialize;

use crate::app::App;
use crate::crypto::{Ciphertext, DataKeyRef, SealRef};
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::orders::{open_order, seal_order};
use crate::store::catalog::AccountStatus;
use crate::store::OrderRow;

/// Orders read per page.
const PAGE: i64 = 500;

/// What a reseal run did to one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReseal {
    pub account_id: AccountId,
    /// Orders looked at in this run.
    pub scanned: u64,
    /// Orders rewritten under data keys in this run.
    pub resealed: u64,
    /// Whether every order of the account is now on data keys.
    pub done: bool,
}

/// What a reseal run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResealReport {
    pub accounts: Vec<AccountReseal>,
}

/// Whether a row holds ciphertext not yet under an hour key (v1 or v2).
fn needs_reseal(row: &OrderRow) -> bool {
    row.personal_ciphertexts().into_iter().flatten().any(|ct| {
        !matches!(
            Ciphertext(ct.clone()).seal_ref(),
            Ok(SealRef::Data {
                bucket: DataKeyRef::Hour { .. },
                ..
            })
        )
    })
}

/// Reseals one account, or every active account when `account` is `None`.
pub async fn reseal(app: &App, account: Option<&AccountId>) -> Result<ResealReport, ServiceError> {
    let ids: Vec<AccountId> = match account {
        Some(id) => vec![crate::accounts::active_account(app, id).await?],
        None => app
            .store
            .catalog()
            .accounts()
            .await?
            .into_iter()
            .filter(|a| a.status == AccountStatus::Active)
            .map(|a| a.id)
            .collect(),
    };
    let mut report = ResealReport {
        accounts: Vec::with_capacity(ids.len()),
    };
    for id in ids {
        report.accounts.push(reseal_account(app, &id, None).await?);
    }
    Ok(report)
}

/// Reseals one account; stops after `max_pages` pages when given (an interruption, for
/// tests), leaving the progress recorded.
#[doc(hidden)]
pub async fn reseal_account(
    app: &App,
    id: &AccountId,
    max_pages: Option<usize>,
) -> Result<AccountReseal, ServiceError> {
    let catalog = app.store.catalog();
    let (mut after, done) = catalog.reseal_progress(id).await?.unwrap_or((0, false));
    let mut out = AccountReseal {
        account_id: id.clone(),
        scanned: 0,
        resealed: 0,
        done,
    };
    if done {
        return Ok(out);
    }
    // After a retention change every live order moves, to keys created at or after the
    // floor; not before every process has dropped its cached keys of the old retention.
    let floor = catalog.reseal_floor(id).await?;
    if floor.is_some_and(|f| app.now_ms() < f + crate::keyring::KEY_CACHE_TTL_MS) {
        return Ok(out);
    }
    let keys = app.keyring.keys(id).await?;
    let store = app.store.account(id).await?;
    let mut pages = 0;
    loop {
        if max_pages.is_some_and(|m| pages >= m) {
            return Ok(out);
        }
        let rows = store.list_after(after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        let last_id = last.id;
        let mut opened = Vec::new();
        for row in rows
            .iter()
            .filter(|r| r.pseudonymized_at.is_none() && (floor.is_some() || needs_reseal(r)))
        {
            // A row whose keys are destroyed already cannot move; the sweep or a
            // restore's erase pass empties it.
            if let Ok(o) = open_order(&keys, row).await {
                opened.push((row, o.order));
            }
        }
        let orders: Vec<_> = opened.iter().map(|(_, o)| o.clone()).collect();
        let seal = keys.seal_keys(&orders).await?;
        for (row, order) in &opened {
            let sealed = seal_order(&seal, order);
            if store.replace_sealed(row.id, row.version, &sealed).await? {
                out.resealed += 1;
            }
        }
        drop(seal);
        out.scanned += rows.len() as u64;
        after = last_id;
        catalog.set_reseal_progress(id, after, None).await?;
        pages += 1;
    }
    catalog
        .set_reseal_progress(id, after, Some(app.now_ms()))
        .await?;
    // The v1 bytes leave the files like erased data does.
    store
        .purge_erased(app.settings.pseudonymize.postgres_vacuum_full)
        .await?;
    out.done = true;
    Ok(out)
}
