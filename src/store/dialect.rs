//! Where the two backends' SQL differs, and nothing else.
//!
//! Most store SQL is written once and runs unchanged on both backends (`$n` placeholders,
//! `ON CONFLICT` upserts, `RETURNING`) through `on_pool!` / `on_tx!`. What cannot be is
//! here, in two shapes:
//! - [`Dialect`]: SQL text that differs (lock clauses, `LEAST` vs `MIN`, how a generated
//!   multi-row statement numbers its parameters), asked of a pool or transaction with
//!   `.sql()`;
//! - one [`Pool`] method per operation whose statements or bound types differ (lookups
//!   that need a lateral join and arrays on PostgreSQL, the pseudonymizing batch update,
//!   the purge after erasure, a file copy of a database).
//!
//! The bodies live in `sqlite/dialect.rs` and `postgres/dialect.rs`; the functions below
//! only pick one. Store modules call these and never branch on the backend themselves. A
//! third backend implements both in its own file, adds an arm to each function here, and
//! a variant to [`Pool`] and [`super::tx::TxConn`].

use std::path::Path;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;

use super::catalog::DataKeyRow;
use super::{postgres, sqlite, Pool, StoreError};

/// SQL text that differs between the backends.
pub(crate) trait Dialect: Sync {
    /// `rows` parenthesised tuples of `cols` parameters each, for a multi-row `VALUES`,
    /// bound row by row; where the backend numbers parameters the first is `first + 1`.
    fn value_rows(&self, rows: usize, cols: usize, first: usize) -> String;

    /// The smaller of two SQL expressions.
    fn least(&self, a: &str, b: &str) -> String;

    /// Appended to a `SELECT` whose rows must stay as read until the transaction ends
    /// (a shared lock); empty where writers are serialized anyway.
    fn share_lock(&self) -> &'static str;

    /// Appended to a claiming `SELECT … LIMIT n` so that concurrent claimers take
    /// disjoint rows instead of waiting for each other.
    fn skip_locked(&self) -> &'static str;

    /// Whether `Pool::purge` is next to free when there is nothing to purge.
    fn purge_is_cheap(&self) -> bool;

    /// A statement that write-locks row `id = $1` of `table` until the transaction ends
    /// and returns its `column` (no row: the id does not exist).
    fn lock_row(&self, table: &str, column: &str) -> String;
}

/// Rows of a lookup, mapped by the caller's row type (which reads them by column name).
pub(crate) trait AnyFromRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyFromRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl Pool {
    /// This pool's SQL dialect.
    pub(crate) fn sql(&self) -> &'static dyn Dialect {
        match self {
            Pool::Sqlite(_) => &sqlite::dialect::SQLITE,
            Pool::Postgres(_) => &postgres::dialect::POSTGRES,
        }
    }

    /// `SELECT {columns} FROM {table} WHERE {fixed} = $1 AND {key} = <each of keys>`:
    /// one index probe per key whatever the table's statistics (see the PostgreSQL body).
    pub(crate) async fn select_by_keys<T: AnyFromRow>(
        &self,
        lookup: &KeyLookup<'_>,
        keys: &[&str],
    ) -> Result<Vec<T>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Pool::Sqlite(p) => sqlite::dialect::select_by_keys(p, lookup, keys).await,
            Pool::Postgres(p) => postgres::dialect::select_by_keys(p, lookup, keys).await,
        }
    }

    /// Stores data keys (grouped by epoch) in one transaction, one multi-row statement
    /// per epoch and chunk, each statement only while no newer epoch exists and
    /// `insert.guard` holds for its epoch. Returns how many it stored.
    pub(crate) async fn insert_data_keys(
        &self,
        insert: &DataKeyInsert<'_>,
        groups: &[(i64, Vec<&DataKeyRow>)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        match self {
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await?;
                let n = sqlite::dialect::insert_data_keys(&mut tx, insert, groups, now_ms).await?;
                tx.commit().await?;
                Ok(n)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                let n =
                    postgres::dialect::insert_data_keys(&mut tx, insert, groups, now_ms).await?;
                tx.commit().await?;
                Ok(n)
            }
        }
    }

    /// Pseudonymizes the given order rows in one transaction: `erase_set` clears the
    /// personal columns, `pseudonym` and `pseudonymized_at` are stamped; rows already
    /// pseudonymized are skipped. Returns how many rows it changed.
    pub(crate) async fn pseudonymize_orders(
        &self,
        prefix: &str,
        erase_set: &str,
        rows: &[(i64, Option<[u8; 32]>)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        match self {
            Pool::Sqlite(p) => {
                sqlite::dialect::pseudonymize_orders(p, prefix, erase_set, rows, now_ms).await
            }
            Pool::Postgres(p) => {
                postgres::dialect::pseudonymize_orders(p, prefix, erase_set, rows, now_ms).await
            }
        }
    }

    /// One attempt at making deleted or erased rows of `table` unreadable from the
    /// database files; `rewrite` also rewrites the table where that is what drops the old
    /// bytes. `Ok(false)`: readers held old pages, try again later.
    pub(crate) async fn purge(
        &self,
        prefix: &str,
        table: &str,
        rewrite: bool,
    ) -> Result<bool, StoreError> {
        match self {
            Pool::Sqlite(p) => sqlite::dialect::purge(p).await,
            Pool::Postgres(p) => postgres::dialect::purge(p, prefix, table, rewrite).await,
        }
    }

    /// Folds a write-ahead log kept beside the database back into it (SQLite: a
    /// checkpoint, best effort); nothing where the server manages its own log.
    pub(crate) async fn fold_log(&self) -> Result<(), StoreError> {
        match self {
            Pool::Sqlite(p) => sqlite::dialect::purge(p).await.map(drop),
            Pool::Postgres(_) => Ok(()),
        }
    }

    /// Writes a consistent copy of this database into the new file `path`. Only where a
    /// database is a file; elsewhere backups are the database's own dump.
    pub(crate) async fn copy_to_file(&self, path: &Path) -> Result<(), StoreError> {
        match self {
            Pool::Sqlite(p) => sqlite::dialect::copy_to_file(p, path).await,
            Pool::Postgres(_) => Err(StoreError::Internal(
                "a PostgreSQL store is backed up with pg_dump, not copied to a file".into(),
            )),
        }
    }
}

/// What [`Pool::select_by_keys`] reads: `columns` of `table` (prefixed) where
/// `fixed.0 = fixed.1` and `key` is one of the keys.
pub(crate) struct KeyLookup<'a> {
    pub columns: &'a str,
    pub table: &'a str,
    /// Equality conditions every row meets, bound first (`$1`, `$2`, …).
    pub fixed: &'a [(&'a str, &'a str)],
    pub key: &'a str,
}

/// How [`Pool::insert_data_keys`] writes: into `{prefix}data_keys`, guarded per row set
/// by `guard(param)`, an SQL condition on the epoch bound at `param`.
pub(crate) struct DataKeyInsert<'a> {
    pub prefix: &'a str,
    pub guard: Box<dyn Fn(&str) -> String + Send + Sync + 'a>,
}
