//! Online backups and restores (issue 16).
//!
//! `backup create` writes a consistent copy of the catalog and every active account store
//! with a manifest: SQLite through `VACUUM INTO` (a transactionally consistent copy made
//! while the service runs), PostgreSQL through `pg_dump` of the catalog and account
//! schemas (custom format). Epoch keys are never in a backup: they stay in the keyring
//! directory, so a backup forgets erased data within the erasure window like any copy.
//!
//! `backup restore` puts the account stores of a backup of any age back into this
//! installation, with today's catalog and keyring: accounts closed since the backup are
//! not restored, and every order whose data keys were destroyed since (pseudonymized,
//! subject-erased) is erased again at once, so what comes back is every live order and
//! no erased personal data. Reports carry ids and counts only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::crypto::{Ciphertext, SealRef};
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::AccountStatus;
use crate::store::BackendKind;

const MANIFEST: &str = "manifest.json";
const PG_DUMP_FILE: &str = "postgres.dump";

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at_ms: i64,
    pub backend: String,
    /// SQLite: `catalog.db`; PostgreSQL: the dump file holding every schema.
    pub catalog: String,
    pub accounts: Vec<ManifestAccount>,
    /// The key epoch current when the backup was taken: its data keys become
    /// unreadable when that epoch ends (live ones are rewrapped in the live catalog).
    pub key_epoch: i64,
    /// Always false: epoch keys are never part of a backup.
    pub epoch_keys_included: bool,
}

/// One account store in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestAccount {
    pub id: String,
    /// SQLite: file under the backup directory; PostgreSQL: the schema in the dump.
    pub location: String,
    pub orders: i64,
}

/// What a restore did to one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRestore {
    pub account_id: String,
    pub restored: bool,
    /// Why it was not restored (e.g. closed since the backup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub orders: i64,
    /// Orders whose personal data was erased again because their keys are gone.
    pub erased_since_backup: u64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub backup_created_at_ms: i64,
    pub accounts: Vec<AccountRestore>,
}

fn io(action: &str, path: &Path, e: std::io::Error) -> ServiceError {
    ServiceError::Invalid(format!("{action} {}: {e}", path.display()))
}

/// Writes a backup into `out` (created; must not hold a backup already).
pub async fn create(app: &App, out: &Path) -> Result<Manifest, ServiceError> {
    if out.join(MANIFEST).exists() {
        return Err(ServiceError::Conflict(format!(
            "{} already holds a backup",
            out.display()
        )));
    }
    std::fs::create_dir_all(out.join("accounts")).map_err(|e| io("cannot create", out, e))?;
    let catalog = app.store.catalog();
    let key_epoch = app.keyring.data.status().await?.current_epoch;
    let mut accounts = Vec::new();
    for a in catalog.accounts().await? {
        if a.status != AccountStatus::Active {
            continue;
        }
        let id = a.id;
        let store = app.store.account(&id).await?;
        let orders = store.count_orders().await?;
        let location = match app.store.kind() {
            BackendKind::Sqlite => {
                let file = format!("accounts/{}.db", id.as_str());
                store.copy_to_file(&out.join(&file)).await?;
                file
            }
            BackendKind::Postgres => id.schema_name(),
        };
        accounts.push(ManifestAccount {
            id: id.to_string(),
            location,
            orders,
        });
    }
    let catalog_file = match app.store.kind() {
        BackendKind::Sqlite => {
            catalog.copy_to_file(&out.join("catalog.db")).await?;
            "catalog.db".to_owned()
        }
        BackendKind::Postgres => {
            pg_dump(app, &out.join(PG_DUMP_FILE)).await?;
            PG_DUMP_FILE.to_owned()
        }
    };
    let manifest = Manifest {
        format: 1,
        created_at_ms: app.now_ms(),
        backend: app.store.kind().as_str().to_owned(),
        catalog: catalog_file,
        accounts,
        key_epoch,
        epoch_keys_included: false,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    write_synced(&out.join(MANIFEST), &json)?;
    Ok(manifest)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| io("cannot create", path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io("cannot write", path, e))
}

async fn run_tool(mut cmd: tokio::process::Command, tool: &str) -> Result<(), ServiceError> {
    let out = cmd.output().await.map_err(|e| {
        ServiceError::Invalid(format!(
            "cannot run {tool} ({e}); install the PostgreSQL client tools, or back up with the operator's own tools (README, \"Backups\")"
        ))
    })?;
    if !out.status.success() {
        // The tool's stderr names objects and statements, never row values; its first
        // lines say what went wrong.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let head: String = stderr.lines().take(3).collect::<Vec<_>>().join(" / ");
        return Err(ServiceError::Invalid(format!("{tool} failed: {head}")));
    }
    Ok(())
}

async fn pg_dump(app: &App, file: &Path) -> Result<(), ServiceError> {
    let mut cmd = tokio::process::Command::new("pg_dump");
    cmd.arg("--format=custom")
        .arg("--no-owner")
        .arg("--schema=ordervault")
        .arg("--schema=acct_*")
        .arg("--file")
        .arg(file)
        .arg("--dbname")
        .arg(app.settings.database.url.trim());
    run_tool(cmd, "pg_dump").await
}

/// Restores the account stores of the backup in `from` into this installation.
pub async fn restore(app: &App, from: &Path) -> Result<RestoreReport, ServiceError> {
    let path = from.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| io("cannot read", &path, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        ServiceError::Invalid(format!("{} is not a backup manifest: {e}", path.display()))
    })?;
    if manifest.backend != app.store.kind().as_str() {
        return Err(ServiceError::Invalid(format!(
            "the backup is of a {} installation; this one runs {}",
            manifest.backend,
            app.store.kind().as_str()
        )));
    }
    let mut report = RestoreReport {
        backup_created_at_ms: manifest.created_at_ms,
        accounts: Vec::with_capacity(manifest.accounts.len()),
    };
    for entry in &manifest.accounts {
        report
            .accounts
            .push(restore_account(app, from, &manifest, entry).await?);
    }
    Ok(report)
}

async fn restore_account(
    app: &App,
    from: &Path,
    manifest: &Manifest,
    entry: &ManifestAccount,
) -> Result<AccountRestore, ServiceError> {
    let mut out = AccountRestore {
        account_id: entry.id.clone(),
        restored: false,
        skipped: None,
        orders: 0,
        erased_since_backup: 0,
    };
    let id = AccountId::parse(&entry.id)
        .map_err(|_| ServiceError::Invalid("backup names an invalid account id".into()))?;
    match app.store.catalog().account(&id).await? {
        Some(a) if a.status == AccountStatus::Active => {}
        Some(_) => {
            out.skipped = Some("closed since the backup: its keys are destroyed".into());
            return Ok(out);
        }
        None => {
            out.skipped = Some("unknown to this installation's catalog".into());
            return Ok(out);
        }
    }
    app.store.drop_account_store(&id).await?;
    match app.store.kind() {
        BackendKind::Sqlite => {
            let src: PathBuf = from.join(&entry.location);
            let dst = app
                .store
                .account_file(&id)
                .ok_or_else(|| ServiceError::Invalid("no account file path".into()))?;
            std::fs::copy(&src, &dst).map_err(|e| io("cannot copy", &src, e))?;
            std::fs::File::open(&dst)
                .and_then(|f| f.sync_all())
                .map_err(|e| io("cannot sync", &dst, e))?;
        }
        BackendKind::Postgres => {
            // pg_restore --schema restores the schema's objects, not the schema itself.
            app.store.create_empty_account_schema(&id).await?;
            let mut cmd = tokio::process::Command::new("pg_restore");
            cmd.arg("--no-owner")
                .arg("--schema")
                .arg(id.schema_name())
                .arg("--dbname")
                .arg(app.settings.database.url.trim())
                .arg(from.join(&manifest.catalog));
            run_tool(cmd, "pg_restore").await?;
        }
    }
    // Brings an older store up to today's migrations.
    app.store.create_account_store(&id).await?;
    app.keyring.forget(&id);
    out.erased_since_backup = erase_shredded(app, &id).await?;
    let store = app.store.account(&id).await?;
    // Orders due since the backup: the regular sweep erases them and shreds their days.
    crate::privacy::sweep(app, Some(&id)).await?;
    out.orders = store.count_orders().await?;
    out.restored = true;
    Ok(out)
}

/// Erases every order of the account that still holds ciphertext whose data keys are
/// destroyed: what a restored (or otherwise old) store holds of data erased since.
pub async fn erase_shredded(app: &App, id: &AccountId) -> Result<u64, ServiceError> {
    let keys = app.keyring.keys(id).await?;
    let store = app.store.account(id).await?;
    let mut after = 0;
    let mut erase = Vec::new();
    loop {
        let rows = store.list_after(after, 1_000).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows.iter().filter(|r| r.pseudonymized_at.is_none()) {
            for ct in row.personal_ciphertexts().into_iter().flatten() {
                if let Ok(SealRef::Data { bucket, customer }) = Ciphertext(ct.clone()).seal_ref() {
                    if keys.opener(bucket, customer).await?.is_none() {
                        erase.push(row.id);
                        break;
                    }
                }
            }
        }
    }
    if erase.is_empty() {
        return Ok(0);
    }
    let n = store.erase_rows(&erase, app.now_ms()).await?;
    store
        .purge_erased(app.settings.pseudonymize.postgres_vacuum_full)
        .await?;
    Ok(n)
}
