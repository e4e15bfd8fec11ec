//! Storage: the catalog (control plane) and one store per account, on SQLite (embedded
//! default) or PostgreSQL (production), behind one interface.
//!
//! Most SQL is written once and runs on both backends: `$n` placeholders and
//! `ON CONFLICT` upserts work on both, table names carry a prefix (`""` for a SQLite
//! file, `acct_<id>.` / `ordervault.` for PostgreSQL schemas), and [`on_pool!`] (or
//! `on_tx!` in `tx.rs`) runs one query body against whichever concrete pool is in use.
//! Everything that differs lives in the backend's own files and nowhere else:
//! - `sqlite.rs` / `postgres.rs`: opening, creating and dropping stores (files and
//!   pragmas; schemas and search paths);
//! - `sqlite/dialect.rs` / `postgres/dialect.rs`: SQL that differs (lock clauses,
//!   placeholder styles, lateral lookups, the pseudonymizing update, purges, copies),
//!   behind the trait and dispatch functions of `dialect.rs`;
//! - `sqlite/migrate.rs` / `postgres/migrate.rs`: the migration runners (shared rules in
//!   `migrate/`).
//!
//! Adding a backend means those three files, a variant of [`Pool`], of `tx::TxConn` and
//! of `Backend` here, an arm in each `dialect.rs` function, and its migrations. No module
//! outside `store/` sees a pool, a table prefix or SQL (`seam.rs` checks all this);
//! the `pool()`/`prefix()` accessors exist for tests that inspect stored bytes.
//!
//! This layer stores ciphertext and blind indexes it is handed; it never sees keys or
//! plaintext personal data.

/// Runs `$body` with `$p` bound to the concrete sqlx pool inside a [`Pool`].
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($p) => $body,
            $crate::store::Pool::Postgres($p) => $body,
        }
    };
}

mod account;
pub mod catalog;
mod dialect;
mod error;
mod failures;
pub mod fulfilment;
mod health;
pub mod migrate;
mod orders;
pub mod outbox;
mod postgres;
mod privacy;
mod reseal;
#[cfg(test)]
mod seam;
mod sqlite;
pub(crate) mod tx;

use std::path::Path;
use std::sync::Arc;

use sqlx::{PgPool, SqlitePool};

pub use account::AccountStore;
pub use catalog::Catalog;
pub use error::StoreError;
pub use failures::IngestFailure;
pub use health::{Buckets, EndpointBacklog};
pub use migrate::StatementHook;
pub use orders::{OrderRow, SealedOrder, UpsertOutcome, UpsertResult};
pub use postgres::migrate::run_postgres;
pub use privacy::{DueCutoffs, DueRow, PrivacyCounts};
pub use sqlite::migrate::run_sqlite;

use crate::config::DatabaseSettings;
use crate::ids::AccountId;
use catalog::AccountStatus;

/// A connection pool of either backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    /// A pool of one connection of its own to the same SQLite database (the same pool on
    /// PostgreSQL), for a bulk writer. In WAL mode a SQLite connection drops its whole
    /// page cache whenever another connection has committed since its last transaction,
    /// and a pool hands its connections out in turn: a sync writing through the shared
    /// pool re-read every page it touched from the WAL in each transaction, and freed and
    /// reallocated the cache (a 20,000-order sync read 110 MB back from the WALs, issue
    /// 18). A connection that is the only writer keeps its cache between transactions.
    /// It closes when the returned pool is dropped.
    pub(crate) async fn dedicated_writer(&self) -> Result<Pool, StoreError> {
        Ok(match self {
            Pool::Sqlite(p) => Pool::Sqlite(sqlite::dedicated_writer(p).await?),
            Pool::Postgres(p) => Pool::Postgres(p.clone()),
        })
    }
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// What an account's store is on this backend, in words (closure receipts).
    pub fn store_label(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite file",
            Self::Postgres => "postgres schema",
        }
    }
}

enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgBackend),
}

/// The catalog plus access to every account store.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
    catalog: Catalog,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.kind().as_str())
    }
}

impl Store {
    /// Opens (and migrates) the catalog of the configured backend, then the stores of
    /// the accounts the catalog lists as active or being created.
    pub async fn open(settings: &DatabaseSettings, data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(settings, data_dir, None).await
    }

    /// [`Store::open`] with a hook that sees every migration statement before it is sent
    /// (tests: recording, fault injection). It stays for account stores created later.
    pub async fn open_with(
        settings: &DatabaseSettings,
        data_dir: &Path,
        hook: Option<StatementHook>,
    ) -> Result<Self, StoreError> {
        let url = settings.url.trim();
        let store = if url.is_empty() {
            let (backend, pool) = sqlite::SqliteBackend::open(settings, data_dir, hook).await?;
            Self {
                backend: Arc::new(Backend::Sqlite(backend)),
                catalog: Catalog::new(Pool::Sqlite(pool), ""),
            }
        } else {
            let backend = postgres::PgBackend::open(settings, url, hook).await?;
            let pool = backend.pool().clone();
            Self {
                backend: Arc::new(Backend::Postgres(backend)),
                catalog: Catalog::new(Pool::Postgres(pool), "ordervault."),
            }
        };
        store.upgrade_account_stores().await?;
        Ok(store)
    }

    /// Brings the account schemas up to the current migrations (an upgrade adds tables to
    /// stores created by an older version). Only accounts the catalog lists as active or
    /// creating; a failure is fatal for an active account (its code needs the new
    /// tables) and only logged for an unfinished creation, which `account create`
    /// resumes. SQLite files are migrated when first opened instead.
    async fn upgrade_account_stores(&self) -> Result<(), StoreError> {
        let Backend::Postgres(pg) = &*self.backend else {
            return Ok(());
        };
        for record in self.catalog.accounts_in_service().await? {
            let id = record.id.clone();
            match (pg.upgrade(&id).await, record.status) {
                (Ok(true), _) => {}
                (Ok(false), status) => {
                    if status == AccountStatus::Active {
                        tracing::warn!(account = %id, "active account has no store; `ordervault doctor` lists it");
                    }
                }
                (Err(e), AccountStatus::Creating) => {
                    tracing::warn!(account = %id, error = %e, "unfinished account creation not migrated; `account create` with its name resumes it");
                }
                (Err(e), _) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn kind(&self) -> BackendKind {
        match &*self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Creates (idempotently) and migrates an account's store; returns where it lives.
    pub async fn create_account_store(&self, account: &AccountId) -> Result<String, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.create(account).await?,
            Backend::Postgres(b) => b.create(account).await?,
        }
        Ok(self.account_store_location(account))
    }

    /// Where the account's store lives (or will live): a file path or a schema name.
    pub fn account_store_location(&self, account: &AccountId) -> String {
        match &*self.backend {
            Backend::Sqlite(b) => b.location(account),
            Backend::Postgres(_) => postgres::PgBackend::location(account),
        }
    }

    /// Names of every store present on disk or in the database (`<id>.db` files,
    /// `acct_<id>` schemas), whether or not the catalog knows them. For `doctor` only.
    pub async fn account_store_names(&self) -> Result<Vec<String>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.store_names(),
            Backend::Postgres(b) => b.store_names().await,
        }
    }

    /// The account id a store name belongs to (see [`Store::account_store_names`]).
    pub fn account_of_store_name(&self, name: &str) -> Option<AccountId> {
        let id = match &*self.backend {
            Backend::Sqlite(_) => name.strip_suffix(".db"),
            Backend::Postgres(_) => name.strip_prefix("acct_"),
        }?;
        AccountId::parse(id).ok()
    }

    /// Opens an existing account store, unless the account is closing or closed: then
    /// this process's pool of it is closed at once (no descriptor to a deleted file stays
    /// open) and the store is refused, whichever process started the closure.
    pub async fn account(&self, account: &AccountId) -> Result<AccountStore, StoreError> {
        if self.is_closing(account).await? {
            self.release(account).await;
            return Err(StoreError::NoAccountStore(account.to_string()));
        }
        self.open_account(account).await
    }

    /// The store without the closing check: only closure itself counts orders in a store
    /// whose account is already `closing`.
    pub(crate) async fn account_for_closure(
        &self,
        account: &AccountId,
    ) -> Result<AccountStore, StoreError> {
        self.open_account(account).await
    }

    async fn open_account(&self, account: &AccountId) -> Result<AccountStore, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.open_account(account).await,
            Backend::Postgres(b) => Ok(b.account(account)),
        }
    }

    /// SQLite: the account store's database file (backup and restore copy it).
    pub fn account_file(&self, account: &AccountId) -> Option<std::path::PathBuf> {
        match &*self.backend {
            Backend::Sqlite(b) => Some(b.path(account)),
            Backend::Postgres(_) => None,
        }
    }

    /// PostgreSQL: creates the account's schema, empty, for a restore to fill
    /// (`pg_restore --schema` restores a schema's objects, not the schema). Nothing to do
    /// where a store is a file.
    pub async fn create_empty_account_schema(&self, account: &AccountId) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(b) => b.create_empty_schema(account).await,
        }
    }

    async fn is_closing(&self, account: &AccountId) -> Result<bool, StoreError> {
        Ok(matches!(
            self.catalog.account(account).await?.map(|a| a.status),
            Some(catalog::AccountStatus::Closing | catalog::AccountStatus::Closed)
        ))
    }

    /// Closes this process's pool of an account's store, if it holds one (SQLite; the
    /// PostgreSQL pool is shared and holds no per-account files).
    async fn release(&self, account: &AccountId) {
        if let Backend::Sqlite(b) = &*self.backend {
            b.evict(account).await;
        }
    }

    /// Closes the pools this process holds for accounts that are now closing or closed
    /// (closed by another process, e.g. the CLI). `serve` calls it every few seconds so
    /// an idle pool does not keep a deleted store readable through `/proc/<pid>/fd`.
    /// Returns how many pools it closed.
    pub async fn release_closed_stores(&self) -> Result<usize, StoreError> {
        let Backend::Sqlite(b) = &*self.backend else {
            return Ok(0);
        };
        let mut released = 0;
        for account in b.open_accounts().await {
            if self.is_closing(&account).await? {
                b.evict(&account).await;
                released += 1;
            }
        }
        Ok(released)
    }

    /// Whether the account's store (file or schema) exists.
    pub async fn account_store_exists(&self, account: &AccountId) -> Result<bool, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => Ok(b.exists(account)),
            Backend::Postgres(b) => b.exists(account).await,
        }
    }

    /// Removes the account's store for good: closes it and deletes its files, or drops
    /// its schema. Returns whether anything was there. Idempotent.
    pub async fn drop_account_store(&self, account: &AccountId) -> Result<bool, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.drop_store(account).await,
            Backend::Postgres(b) => b.drop_store(account).await,
        }
    }

    /// Closes every pool (graceful shutdown).
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite(b) => b.close().await,
            Backend::Postgres(b) => b.pool().close().await,
        }
        if let Pool::Sqlite(p) = self.catalog.pool() {
            p.close().await;
        }
    }
}
