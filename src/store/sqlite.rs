//! The embedded SQLite backend: `DATA_DIR/catalog.db` and `DATA_DIR/accounts/<id>.db`,
//! WAL mode, `secure_delete=ON` (erased data is zeroed, not left in free pages), full
//! fsync on commit, and a bounded LRU of open account pools so one node can serve
//! thousands of accounts without running out of file handles.
//!
//! Account files are migrated when first opened in a process (through our migrator, no
//! DDL when nothing is pending); a file in `accounts/` is never opened because it exists,
//! only for an account id the caller got from the catalog.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use lru::LruCache;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::Mutex;

pub(super) mod dialect;
pub(super) mod migrate;

use super::migrate::StatementHook;
use super::{AccountStore, Pool, StoreError};
use crate::config::DatabaseSettings;
use crate::ids::AccountId;
use migrate::run_sqlite;

static CATALOG: Migrator = sqlx::migrate!("migrations/catalog/sqlite");
static ACCOUNT: Migrator = sqlx::migrate!("migrations/account/sqlite");

pub(super) struct SqliteBackend {
    accounts_dir: PathBuf,
    connections_per_account: u32,
    open: Mutex<LruCache<AccountId, SqlitePool>>,
    hook: Option<StatementHook>,
}

fn io_err(action: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

async fn connect(path: &Path, create: bool, max: u32) -> Result<SqlitePool, StoreError> {
    // Owner-only before SQLite opens it: the -wal and -shm files take the same mode.
    if create {
        crate::files::private_file(path).map_err(|e| io_err("cannot create", path, e))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        crate::files::tighten_if_exists(&p).map_err(|e| io_err("cannot restrict", &p, e))?;
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("secure_delete", "ON")
        // 8 MiB page cache per connection (grown only as used): index pages of a busy
        // account stay in memory instead of being re-read on every upsert.
        .pragma("cache_size", "-8192")
        .pragma("temp_store", "MEMORY");
    Ok(SqlitePoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .connect_with(options)
        .await?)
}

/// One connection of its own to `pool`'s database, with the same options (see
/// `Pool::dedicated_writer`).
pub(super) async fn dedicated_writer(pool: &SqlitePool) -> Result<SqlitePool, StoreError> {
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .connect_with((*pool.connect_options()).clone())
        .await?)
}

impl SqliteBackend {
    pub(super) async fn open(
        settings: &DatabaseSettings,
        data_dir: &Path,
        hook: Option<StatementHook>,
    ) -> Result<(Self, SqlitePool), StoreError> {
        let accounts_dir = data_dir.join("accounts");
        crate::files::private_dir(&accounts_dir)
            .map_err(|e| io_err("cannot create directory", &accounts_dir, e))?;
        let catalog = connect(&data_dir.join("catalog.db"), true, settings.max_connections).await?;
        run_sqlite(&catalog, "catalog", &CATALOG, hook.as_ref()).await?;
        let capacity = NonZeroUsize::new(settings.open_account_stores).unwrap_or(NonZeroUsize::MIN);
        Ok((
            Self {
                accounts_dir,
                connections_per_account: settings.connections_per_account,
                open: Mutex::new(LruCache::new(capacity)),
                hook,
            },
            catalog,
        ))
    }

    pub(super) fn path(&self, account: &AccountId) -> PathBuf {
        self.accounts_dir.join(format!("{}.db", account.as_str()))
    }

    pub(super) fn exists(&self, account: &AccountId) -> bool {
        self.path(account).exists()
    }

    async fn get_or_open(
        &self,
        account: &AccountId,
        create: bool,
    ) -> Result<SqlitePool, StoreError> {
        let mut open = self.open.lock().await;
        if let Some(pool) = open.get(account) {
            return Ok(pool.clone());
        }
        let path = self.path(account);
        if !create && !path.exists() {
            return Err(StoreError::NoAccountStore(account.to_string()));
        }
        let pool = connect(&path, create, self.connections_per_account).await?;
        if let Err(e) = run_sqlite(&pool, account.as_str(), &ACCOUNT, self.hook.as_ref()).await {
            pool.close().await;
            return Err(e);
        }
        // An evicted pool closes when its last user drops it.
        open.put(account.clone(), pool.clone());
        Ok(pool)
    }

    /// Creates the account's file if needed and applies pending migrations.
    pub(super) async fn create(&self, account: &AccountId) -> Result<(), StoreError> {
        self.get_or_open(account, true).await?;
        Ok(())
    }

    pub(super) fn location(&self, account: &AccountId) -> String {
        self.path(account).display().to_string()
    }

    /// Every file in `accounts/` that looks like an account store (`*.db`), by file name.
    pub(super) fn store_names(&self) -> Result<Vec<String>, StoreError> {
        let entries = std::fs::read_dir(&self.accounts_dir)
            .map_err(|e| io_err("cannot list", &self.accounts_dir, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_err("cannot list", &self.accounts_dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".db") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    pub(super) async fn open_account(
        &self,
        account: &AccountId,
    ) -> Result<AccountStore, StoreError> {
        let pool = self.get_or_open(account, false).await?;
        Ok(AccountStore::new(
            account.clone(),
            Pool::Sqlite(pool),
            String::new(),
        ))
    }

    /// Closes this process's pool of the account, if open.
    pub(super) async fn evict(&self, account: &AccountId) {
        let pool = self.open.lock().await.pop(account);
        if let Some(pool) = pool {
            pool.close().await;
        }
    }

    /// The accounts whose pools are open in this process.
    pub(super) async fn open_accounts(&self) -> Vec<AccountId> {
        self.open
            .lock()
            .await
            .iter()
            .map(|(a, _)| a.clone())
            .collect()
    }

    pub(super) async fn drop_store(&self, account: &AccountId) -> Result<bool, StoreError> {
        self.evict(account).await;
        let base = self.path(account);
        let mut removed = false;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let p = PathBuf::from(format!("{}{suffix}", base.display()));
            match std::fs::remove_file(&p) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("cannot delete", &p, e)),
            }
        }
        Ok(removed)
    }

    pub(super) async fn close(&self) {
        let mut open = self.open.lock().await;
        while let Some((_, pool)) = open.pop_lru() {
            pool.close().await;
        }
    }
}
