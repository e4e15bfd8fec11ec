//! Epochs and wrapped data keys (issue 16). Only ciphertext under epoch keys and key
//! names are stored here; the epoch keys themselves never touch the database.

use sqlx::{FromRow, Row};

use super::{Catalog, StoreError};
use crate::store::dialect::{DataKeyInsert, KeyLookup};

/// One key-encryption epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochRow {
    pub epoch: i64,
    pub started_at: i64,
    pub destroyed_at: Option<i64>,
}

/// One stored data key.
#[derive(Clone, sqlx::FromRow)]
pub struct DataKeyRow {
    pub account_id: String,
    pub kind: String,
    pub scope: String,
    pub day: Option<i64>,
    pub epoch: i64,
    pub wrapped_key: Vec<u8>,
}

impl std::fmt::Debug for DataKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DataKeyRow({} {} epoch {})",
            self.account_id, self.kind, self.epoch
        )
    }
}

/// Data key counts for `keys status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataKeyCounts {
    pub live: i64,
    pub destroyed: i64,
}

const KEY_COLUMNS: &str = "account_id, kind, scope, day, epoch, wrapped_key";

/// The rows grouped by epoch (in practice one group: a batch is wrapped under the
/// current epoch), in the order each epoch first appears.
fn by_epoch(rows: &[DataKeyRow]) -> Vec<(i64, Vec<&DataKeyRow>)> {
    let mut groups: Vec<(i64, Vec<&DataKeyRow>)> = Vec::new();
    for r in rows {
        match groups.iter_mut().find(|(e, _)| *e == r.epoch) {
            Some((_, g)) => g.push(r),
            None => groups.push((r.epoch, vec![r])),
        }
    }
    groups
}

impl Catalog {
    /// Every epoch not yet destroyed, oldest first. The last one is current.
    pub async fn live_epochs(&self) -> Result<Vec<EpochRow>, StoreError> {
        self.epochs("WHERE destroyed_at IS NULL").await
    }

    /// Every epoch ever started, oldest first.
    pub async fn all_epochs(&self) -> Result<Vec<EpochRow>, StoreError> {
        self.epochs("").await
    }

    async fn epochs(&self, filter: &str) -> Result<Vec<EpochRow>, StoreError> {
        let sql = format!(
            "SELECT epoch, started_at, destroyed_at FROM {}key_epochs {filter} ORDER BY epoch",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(EpochRow {
                        epoch: r.try_get("epoch")?,
                        started_at: r.try_get("started_at")?,
                        destroyed_at: r.try_get("destroyed_at")?,
                    })
                })
                .collect()
        })
    }

    /// Starts epoch `epoch`, unless it exists. Returns whether this call started it (two
    /// processes rotating at once: exactly one wins).
    pub async fn start_epoch(&self, epoch: i64, now_ms: i64) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO {}key_epochs (epoch, started_at) VALUES ($1, $2) \
             ON CONFLICT (epoch) DO NOTHING",
            self.p
        );
        on_pool!(&self.pool, p => {
            let done = sqlx::query(&sql).bind(epoch).bind(now_ms).execute(p).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// SQL condition: epoch `param` is live and not retiring, so a key may be stored
    /// under it. On PostgreSQL it share-locks the epoch row until the writing
    /// transaction ends, so [`Catalog::mark_epoch_retiring`] waits for every write that
    /// passed it, and a write that comes after the mark re-reads the row and fails. (On
    /// SQLite writes are serialized and always see the latest epochs.)
    #[doc(hidden)]
    pub fn epoch_open_for_keys(&self, param: &str) -> String {
        let lock = self.pool.sql().share_lock();
        format!(
            "EXISTS (SELECT 1 FROM {}key_epochs WHERE epoch = {param} AND destroyed_at IS NULL \
             AND retiring_at IS NULL{lock})",
            self.p
        )
    }

    /// Marks an old epoch as retiring: from then on no key is stored under it, and (on
    /// PostgreSQL) this waits until every transaction that stored one under it has
    /// committed or rolled back, so the rewrap that follows sees all of them. Idempotent.
    pub async fn mark_epoch_retiring(&self, epoch: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}key_epochs SET retiring_at = $1 WHERE epoch = $2 AND retiring_at IS NULL",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(now_ms).bind(epoch).execute(p).await?;
        });
        Ok(())
    }

    /// Records that an epoch's key was destroyed (idempotent).
    pub async fn mark_epoch_destroyed(&self, epoch: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}key_epochs SET destroyed_at = $1 WHERE epoch = $2 AND destroyed_at IS NULL",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(now_ms).bind(epoch).execute(p).await?;
        });
        Ok(())
    }

    /// The stored keys among `scopes` of one kind of one account.
    ///
    /// On PostgreSQL each scope is one probe of the primary key (a lateral join over the
    /// scopes), whatever the table's statistics: with `scope IN (…)` and no statistics
    /// (autovacuum off, a fresh installation), the planner walked every key of the account
    /// per lookup and filtered the list, which made a first sync quadratic in its
    /// customers (issue 18).
    pub async fn data_keys(
        &self,
        account: &str,
        kind: &str,
        scopes: &[String],
    ) -> Result<Vec<DataKeyRow>, StoreError> {
        let table = format!("{}data_keys", self.p);
        let lookup = KeyLookup {
            columns: KEY_COLUMNS,
            table: &table,
            fixed: &[("account_id", account), ("kind", kind)],
            key: "scope",
        };
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.pool.select_by_keys(&lookup, &scopes).await
    }

    /// Stores new data keys in one transaction, each only if its epoch is still the
    /// newest live one (a key wrapped under an epoch that a rotation has already left
    /// behind could be missed by the rewrap and lost) and no key of that name exists.
    /// Returns how many it stored.
    ///
    /// One multi-row statement per epoch (per chunk of rows), not one round trip per key:
    /// a first sync stores a customer key per order, and those round trips were most of
    /// its time on PostgreSQL (issue 18). The epoch condition does not depend on the row,
    /// so a statement stores all of its rows or none of them.
    pub async fn insert_data_keys(
        &self,
        rows: &[DataKeyRow],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        self.pool
            .insert_data_keys(&self.key_insert(), &by_epoch(rows), now_ms)
            .await
    }

    fn key_insert(&self) -> DataKeyInsert<'_> {
        DataKeyInsert {
            prefix: self.p,
            guard: Box::new(|param| self.epoch_open_for_keys(param)),
        }
    }

    /// [`Catalog::insert_data_keys`] inside a PostgreSQL transaction the caller owns
    /// (tests hold it open across a rotation).
    #[doc(hidden)]
    pub async fn insert_data_keys_pg(
        &self,
        conn: &mut sqlx::PgConnection,
        rows: &[DataKeyRow],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        crate::store::postgres::dialect::insert_data_keys(
            conn,
            &self.key_insert(),
            &by_epoch(rows),
            now_ms,
        )
        .await
    }

    /// [`Catalog::insert_data_keys`] inside a SQLite transaction the caller owns.
    #[doc(hidden)]
    pub async fn insert_data_keys_sqlite(
        &self,
        conn: &mut sqlx::SqliteConnection,
        rows: &[DataKeyRow],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        crate::store::sqlite::dialect::insert_data_keys(
            conn,
            &self.key_insert(),
            &by_epoch(rows),
            now_ms,
        )
        .await
    }

    /// Up to `limit` keys still wrapped under `epoch`.
    pub async fn data_keys_in_epoch(
        &self,
        epoch: i64,
        limit: i64,
    ) -> Result<Vec<DataKeyRow>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM {}data_keys WHERE epoch = $1 LIMIT $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(epoch).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(DataKeyRow::from_row(r)?)).collect()
        })
    }

    /// Replaces wrapped keys in one transaction, each only if it is still under its old
    /// epoch (a concurrent rotation never double-wraps). Returns how many it replaced.
    pub async fn rewrap_data_keys(
        &self,
        rows: &[(DataKeyRow, Vec<u8>)],
        new_epoch: i64,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {}data_keys SET wrapped_key = $1, epoch = $2 \
             WHERE account_id = $3 AND kind = $4 AND scope = $5 AND epoch = $6",
            self.p
        );
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let mut n = 0;
            for (row, wrapped) in rows {
                n += sqlx::query(&sql)
                    .bind(wrapped)
                    .bind(new_epoch)
                    .bind(&row.account_id)
                    .bind(&row.kind)
                    .bind(&row.scope)
                    .bind(row.epoch)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Deletes data keys matching `filter` (with `$1` = account, `$2` = argument) and
    /// counts them as destroyed, in one transaction.
    async fn destroy_data_keys(
        &self,
        filter: &str,
        account: &str,
        arg: DestroyArg<'_>,
    ) -> Result<u64, StoreError> {
        let delete = format!(
            "DELETE FROM {}data_keys WHERE account_id = $1 AND {filter}",
            self.p
        );
        let count = format!(
            "UPDATE {}key_counters SET value = value + $1 WHERE name = 'data_keys_destroyed'",
            self.p
        );
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let q = sqlx::query(&delete).bind(account);
            let q = match arg {
                DestroyArg::None => q,
                DestroyArg::Int(v) => q.bind(v),
                DestroyArg::Text(v) => q.bind(v),
            };
            let n = q.execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                sqlx::query(&count).bind(n as i64).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Destroys an account's day keys of days before `day`. Returns how many.
    pub async fn destroy_day_keys_before(
        &self,
        account: &str,
        day: i64,
    ) -> Result<u64, StoreError> {
        self.destroy_data_keys("kind = 'day' AND day < $2", account, DestroyArg::Int(day))
            .await
    }

    /// Destroys one data key of an account by kind and scope. Returns how many (0 or 1).
    pub async fn destroy_data_key(
        &self,
        account: &str,
        kind: &str,
        scope: &str,
    ) -> Result<u64, StoreError> {
        let filter = match kind {
            "hour" => "kind = 'hour' AND scope = $2",
            "day" => "kind = 'day' AND scope = $2",
            _ => "kind = 'customer' AND scope = $2",
        };
        self.destroy_data_keys(filter, account, DestroyArg::Text(scope))
            .await
    }

    /// The scopes and creation times of an account's live keys of `kind` in the given
    /// buckets (hours or days).
    pub async fn bucket_key_scopes(
        &self,
        account: &str,
        kind: &str,
        buckets: &[i64],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for chunk in buckets.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT scope, created_at FROM {}data_keys WHERE account_id = $1 AND kind = $2 \
                 AND day IN ({})",
                self.p,
                list.join(", ")
            );
            on_pool!(&self.pool, p => {
                let mut q = sqlx::query_as::<_, (String, i64)>(&sql).bind(account).bind(kind);
                for b in chunk {
                    q = q.bind(*b);
                }
                out.extend(q.fetch_all(p).await?);
            });
        }
        Ok(out)
    }

    /// The scopes of an account's live keys of `kind` created before `before_ms`.
    pub async fn key_scopes_created_before(
        &self,
        account: &str,
        kind: &str,
        before_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT scope FROM {}data_keys WHERE account_id = $1 AND kind = $2 AND created_at < $3",
            self.p
        );
        on_pool!(&self.pool, p => {
            Ok(sqlx::query_scalar::<_, String>(&sql)
                .bind(account)
                .bind(kind)
                .bind(before_ms)
                .fetch_all(p)
                .await?)
        })
    }

    /// The scopes of an account's live keys of `kind` whose bucket is at most `last`.
    pub async fn bucket_key_scopes_upto(
        &self,
        account: &str,
        kind: &str,
        last: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT scope FROM {}data_keys WHERE account_id = $1 AND kind = $2 AND day <= $3",
            self.p
        );
        on_pool!(&self.pool, p => {
            Ok(sqlx::query_scalar::<_, String>(&sql)
                .bind(account)
                .bind(kind)
                .bind(last)
                .fetch_all(p)
                .await?)
        })
    }

    /// Destroys one customer key of an account. Returns how many (0 or 1).
    pub async fn destroy_customer_key(
        &self,
        account: &str,
        scope: &str,
    ) -> Result<u64, StoreError> {
        self.destroy_data_keys(
            "kind = 'customer' AND scope = $2",
            account,
            DestroyArg::Text(scope),
        )
        .await
    }

    /// Destroys every data key of an account (closure). Returns how many.
    pub async fn destroy_account_data_keys(&self, account: &str) -> Result<u64, StoreError> {
        self.destroy_data_keys("1 = 1", account, DestroyArg::None)
            .await
    }

    /// Live data keys (all, or of one account) and keys destroyed so far.
    pub async fn data_key_counts(&self) -> Result<DataKeyCounts, StoreError> {
        let live = format!("SELECT count(*) FROM {}data_keys", self.p);
        let destroyed = format!(
            "SELECT value FROM {}key_counters WHERE name = 'data_keys_destroyed'",
            self.p
        );
        on_pool!(&self.pool, p => {
            let live: i64 = sqlx::query_scalar(&live).fetch_one(p).await?;
            let destroyed: Option<i64> = sqlx::query_scalar(&destroyed).fetch_optional(p).await?;
            Ok(DataKeyCounts { live, destroyed: destroyed.unwrap_or(0) })
        })
    }

    /// Live data keys of one account.
    pub async fn account_data_key_count(&self, account: &str) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM {}data_keys WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => Ok(sqlx::query_scalar(&sql).bind(account).fetch_one(p).await?))
    }

    /// Where the reseal migration of an account stands: (after id, done).
    pub async fn reseal_progress(&self, account: &str) -> Result<Option<(i64, bool)>, StoreError> {
        let sql = format!(
            "SELECT after_id, done_at FROM {}reseal_progress WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&sql).bind(account).fetch_optional(p).await?;
            Ok(match row {
                Some(r) => {
                    let after: i64 = r.try_get("after_id")?;
                    let done: Option<i64> = r.try_get("done_at")?;
                    Some((after, done.is_some()))
                }
                None => None,
            })
        })
    }

    /// The key floor of an account's pending or finished reseal: set when its retention
    /// changed; hour keys created before it are retired once the reseal is done.
    pub async fn reseal_floor(&self, account: &str) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT floor_ms FROM {}reseal_progress WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let v: Option<Option<i64>> = sqlx::query_scalar(&sql)
                .bind(account)
                .fetch_optional(p)
                .await?;
            Ok(v.flatten())
        })
    }

    /// Restarts an account's reseal from its first order with a new key floor: every
    /// live order moves to keys created at or after `floor_ms` (retention changed).
    pub async fn schedule_reseal(&self, account: &str, floor_ms: i64) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}reseal_progress (account_id, after_id, done_at, floor_ms) \
             VALUES ($1, 0, NULL, $2) \
             ON CONFLICT (account_id) DO UPDATE SET after_id = 0, done_at = NULL, \
             floor_ms = excluded.floor_ms",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(account).bind(floor_ms).execute(p).await?;
        });
        Ok(())
    }

    /// Records reseal progress (and completion, with `done_at`).
    pub async fn set_reseal_progress(
        &self,
        account: &str,
        after_id: i64,
        done_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}reseal_progress (account_id, after_id, done_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO UPDATE SET after_id = excluded.after_id, \
             done_at = excluded.done_at",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(account).bind(after_id).bind(done_at).execute(p).await?;
        });
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum DestroyArg<'a> {
    None,
    Int(i64),
    Text(&'a str),
}
