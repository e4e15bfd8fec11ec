//! The handle on one account's store. Its operations are spread over the files of what
//! they are about (`orders.rs`, `outbox.rs`, `privacy.rs`, `fulfilment.rs`, `failures.rs`,
//! `health.rs`), each adding an `impl AccountStore` block, so that none of them has to
//! import another for the handle.

use super::{Pool, StoreError};
use crate::ids::AccountId;

/// Handle on one account's store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AccountStore {
    pub(in crate::store) account: AccountId,
    pub(in crate::store) pool: Pool,
    /// Table-name prefix: `""` (SQLite file) or `"acct_<id>".` (PostgreSQL schema).
    pub(in crate::store) prefix: String,
}

impl AccountStore {
    pub(super) fn new(account: AccountId, pool: Pool, prefix: String) -> Self {
        Self {
            account,
            pool,
            prefix,
        }
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// This store through a connection of its own (SQLite; the same pool on PostgreSQL),
    /// for a sync that reads and writes many batches in turn: its page cache stays warm
    /// between transactions (see [`Pool::dedicated_writer`]). Dropped with the handle.
    pub async fn for_bulk_writes(&self) -> Result<AccountStore, StoreError> {
        Ok(Self {
            account: self.account.clone(),
            pool: self.pool.dedicated_writer().await?,
            prefix: self.prefix.clone(),
        })
    }

    /// The raw pool, for tests that inspect stored bytes (forensic and leak tests). The
    /// service's own modules outside `store/` never use it.
    #[doc(hidden)]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Prefix of this store's table names, for the same tests.
    #[doc(hidden)]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Writes a consistent copy of the account's store into the new file `path` (backups
    /// of file-backed stores; a PostgreSQL schema is dumped with the database instead).
    pub async fn copy_to_file(&self, path: &std::path::Path) -> Result<(), StoreError> {
        self.pool.copy_to_file(path).await
    }
}
