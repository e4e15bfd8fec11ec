//! Account life cycle: creation (catalog row and key, store, then active) and listing. Closure lives in
//! `privacy::closure`, since it is a deletion guarantee.

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::{AccountRecord, AccountStatus};

/// Checks an account's display name: 1–100 printable characters.
fn validate_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(
            "account name must be 1–100 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// Creates an account, as a resumable state machine: first the catalog row (status
/// `creating`) with its wrapped key, then the store (file or schema, migrated), then
/// `creating` → `active`. A failure leaves a row that says so; creating an account with
/// the same name again resumes that row (same id, key and retention) instead of making
/// a second one. Nothing serves an account before it is active, and start-up never
/// fails because a creation did.
pub async fn create_account(
    app: &App,
    name: &str,
    retention_days: Option<u32>,
) -> Result<AccountRecord, ServiceError> {
    let name = validate_name(name)?;
    let retention = retention_days.unwrap_or(app.settings.accounts.default_retention_days);
    if !(1..=3650).contains(&retention) {
        return Err(ServiceError::Invalid(
            "retention days must be between 1 and 3650".into(),
        ));
    }
    let catalog = app.store.catalog();
    let record = match catalog.creating_account_named(&name).await? {
        Some(unfinished) => {
            tracing::info!(account = %unfinished.id, "resuming an unfinished account creation");
            unfinished
        }
        None => {
            let id = AccountId::generate();
            let mut record = AccountRecord {
                id: id.clone(),
                name,
                status: AccountStatus::Creating,
                retention_days: i64::from(retention),
                store_location: app.store.account_store_location(&id),
                created_at: app.now_ms(),
                closing_started_at: None,
                closed_at: None,
            };
            // The key's outer layer is under the current epoch; if a rotation moves on
            // between wrapping and storing, wrap again under the new one.
            let mut stored = false;
            for _ in 0..5 {
                let (version, wrapped, epoch) = app.keyring.new_account_key(&id).await?;
                record.created_at = app.now_ms();
                if catalog
                    .insert_account(
                        &record,
                        &wrapped.0,
                        i64::from(version),
                        &app.keyring.fingerprint(),
                        epoch,
                    )
                    .await?
                {
                    stored = true;
                    break;
                }
            }
            if !stored {
                return Err(crate::shredding::ShredError::Contended(id.to_string()).into());
            }
            // A new account has nothing sealed under older keys to move (issue 16).
            catalog
                .set_reseal_progress(&id, 0, Some(app.now_ms()))
                .await?;
            record
        }
    };
    finish_creation(app, record).await
}

/// Changes an active account's retention. Existing orders move to the erasure keys of
/// their new due hours: the account's reseal restarts with a key floor (now), the next
/// sweep at least [`crate::keyring::KEY_CACHE_TTL_MS`] later (when every process has
/// dropped keys cached under the old retention) moves every live order to keys created
/// after the floor and then destroys the older keys. Until it has, that account's sweeps
/// pseudonymize under the new retention but destroy no keys, so for orders erased in
/// between the erasure window starts at that sweep.
pub async fn set_retention(
    app: &App,
    id: &AccountId,
    retention_days: u32,
) -> Result<AccountRecord, ServiceError> {
    if !(1..=3650).contains(&retention_days) {
        return Err(ServiceError::Invalid(
            "retention days must be between 1 and 3650".into(),
        ));
    }
    let id = active_account(app, id).await?;
    let catalog = app.store.catalog();
    // Keys created up to this very millisecond belong to the old retention.
    catalog.schedule_reseal(&id, app.now_ms() + 1).await?;
    if !catalog
        .set_retention(&id, i64::from(retention_days))
        .await?
    {
        return Err(ServiceError::NotFound("account".into()));
    }
    app.keyring.forget(&id);
    catalog
        .account(&id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("account".into()))
}

/// The steps after the catalog row: store, then `active`. Idempotent.
async fn finish_creation(
    app: &App,
    mut record: AccountRecord,
) -> Result<AccountRecord, ServiceError> {
    let id = record.id.clone();
    app.store.create_account_store(&id).await?;
    if !app.store.catalog().finish_creating(&id).await? {
        // Someone else finished it, or closed it meanwhile: report what the catalog says.
        let now = app.store.catalog().account(&id).await?;
        match now {
            Some(a) if a.status == AccountStatus::Active => return Ok(a),
            _ => {
                return Err(ServiceError::Conflict(
                    "account creation was abandoned".into(),
                ))
            }
        }
    }
    record.status = AccountStatus::Active;
    tracing::info!(account = %id, "account created");
    Ok(record)
}

/// All accounts, oldest first.
pub async fn list_accounts(app: &App) -> Result<Vec<AccountRecord>, ServiceError> {
    Ok(app.store.catalog().accounts().await?)
}

/// An account id given as text (a CLI argument, a token's account): parsed here, at the
/// edge; a malformed one is "not found", like an id that never existed.
pub fn parse_account_id(id: &str) -> Result<AccountId, ServiceError> {
    AccountId::parse(id).map_err(|_| ServiceError::NotFound("account".into()))
}

/// An active account, or a not-found error that does not say whether it ever existed.
pub async fn active_account(app: &App, id: &AccountId) -> Result<AccountId, ServiceError> {
    match app.store.catalog().account(id).await? {
        Some(a) if a.status == AccountStatus::Active => Ok(id.clone()),
        _ => Err(ServiceError::NotFound("account".into())),
    }
}
