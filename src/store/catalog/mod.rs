//! The catalog (control plane): accounts, wrapped account keys, API tokens, deletion
//! receipts and installation metadata. It holds no customer personal data.

mod accounts;
mod audit;
mod connections;
mod data_keys;
mod keys;
mod privacy;
mod tokens;
mod webhooks;

pub use accounts::{AccountName, AccountRecord, AccountStatus, ClosureCounts};
pub use audit::{AuditEntry, AuditResult, NewAuditEntry};
pub use connections::{ConnectionRecord, ConnectionStatus, RunEnd};
pub use data_keys::{DataKeyCounts, DataKeyRow, EpochRow};
pub use keys::KeyRow;
pub use privacy::PrivacyRequestRecord;
pub use tokens::TokenRecord;
pub use webhooks::{WebhookEndpoint, WebhookStatus};

use super::{Pool, StoreError};
use crate::ids::AccountId;

/// An account id read back from a catalog row: parsed here, once, so every record
/// carries an [`AccountId`] and no caller re-parses it; a malformed one is corruption.
fn stored_account_id(s: String) -> Result<AccountId, StoreError> {
    stored_id(s, "account id")
}

/// Any typed id read back from a catalog row (connection, webhook): parsed here, once; a
/// malformed one is corruption, named by `what` (never echoing the value).
fn stored_id<T: TryFrom<String>>(s: String, what: &str) -> Result<T, StoreError> {
    T::try_from(s).map_err(|_| StoreError::Corrupt(format!("stored {what} is malformed")))
}

/// Handle on the catalog. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Catalog {
    pool: Pool,
    /// `""` (SQLite file) or `"ordervault."` (PostgreSQL schema).
    p: &'static str,
}

impl Catalog {
    pub(in crate::store) fn new(pool: Pool, prefix: &'static str) -> Self {
        Self { pool, p: prefix }
    }

    /// The catalog through a connection of its own (SQLite; the same pool on
    /// PostgreSQL), for a writer of many batches in turn: the data keys a sync creates
    /// (see [`Pool::dedicated_writer`]).
    pub(crate) async fn for_bulk_writes(&self) -> Result<Catalog, StoreError> {
        Ok(Self {
            pool: self.pool.dedicated_writer().await?,
            p: self.p,
        })
    }

    /// The raw pool, for tests that inspect stored bytes. The service's own modules
    /// outside `store/` never use it.
    #[doc(hidden)]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Prefix of the catalog's table names, for the same tests.
    #[doc(hidden)]
    pub fn prefix(&self) -> &'static str {
        self.p
    }

    /// Writes a consistent copy of the catalog into the new file `path` (backups of an
    /// embedded installation; PostgreSQL's catalog is dumped with the database instead).
    pub async fn copy_to_file(&self, path: &std::path::Path) -> Result<(), StoreError> {
        self.pool.copy_to_file(path).await
    }

    /// Reads an installation setting (e.g. the master key fingerprint).
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let sql = format!("SELECT value FROM {}meta WHERE key = $1", self.p);
        on_pool!(&self.pool, p => Ok(sqlx::query_scalar(&sql).bind(key).fetch_optional(p).await?))
    }

    /// Writes an installation setting.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(key).bind(value).execute(p).await?;
        });
        Ok(())
    }

    /// Stored deletion receipt (JSON) of a closed account.
    pub async fn receipt(&self, account: &AccountId) -> Result<Option<String>, StoreError> {
        let sql = format!(
            "SELECT receipt FROM {}deletion_receipts WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => Ok(sqlx::query_scalar(&sql).bind(account.as_str()).fetch_optional(p).await?))
    }

    /// Makes deleted catalog rows unrecoverable from the files: on SQLite, checkpoints the
    /// WAL (secure_delete already zeroes freed pages); on PostgreSQL, vacuums the table so
    /// dead tuples are gone.
    pub async fn purge_deleted(&self, table: &str) -> Result<(), StoreError> {
        // Best effort on SQLite: a checkpoint that readers kept from finishing is
        // completed by the next one.
        self.pool.purge(self.p, table, false).await?;
        Ok(())
    }
}
