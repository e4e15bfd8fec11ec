//! Privacy queries on one account's orders: finding orders due for pseudonymization,
//! erasing their personal columns in bulk, erasing a subject's orders, counting for the
//! privacy summary, and purging erased bytes from the database files.
//!
//! Like the rest of the store this sees only ciphertexts, blind indexes and pseudonyms it
//! is handed; it never decrypts and never logs row values.

use sqlx::Row;

use super::{AccountStore, Pool, StoreError};

/// Rows per bulk pseudonymization statement on SQLite: two anonymous `?` per row, far
/// below SQLite's parameter limit; full chunks reuse one prepared statement.
const SQLITE_UPDATE_CHUNK: usize = 500;

/// The columns a pseudonymization or erasure clears.
const ERASE_SET: &str = "shipping_ct = NULL, billing_ct = NULL, email_ct = NULL, \
    phone_ct = NULL, notes_ct = NULL, billing_email_ct = NULL, buyer_ct = NULL, \
    pickup_ct = NULL, email_index = NULL";

/// Subject rights find pseudonymized orders by this index (account migration
/// `orders_by_pseudonym`); a PostgreSQL sweep drops it while it erases and builds it again
/// after the rewrite ([`AccountStore::suspend_pseudonym_index`]).
const PSEUDONYM_INDEX: &str = "orders_by_pseudonym";

/// Whether a row still holds any personal data (ciphertext or index).
pub(super) const HAS_PERSONAL: &str = "(shipping_ct IS NOT NULL OR billing_ct IS NOT NULL OR \
    email_ct IS NOT NULL OR phone_ct IS NOT NULL OR notes_ct IS NOT NULL OR \
    billing_email_ct IS NOT NULL OR buyer_ct IS NOT NULL OR pickup_ct IS NOT NULL OR \
    email_index IS NOT NULL)";

/// When orders become due: fulfilled or cancelled at or before the retention cutoff, or
/// never fulfilled nor cancelled and placed at or before the maximum-age cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCutoffs {
    /// `now − retention` in Unix ms.
    pub closed_before_ms: i64,
    /// `now − maximum age` in Unix ms.
    pub placed_before_ms: i64,
}

/// SQL condition for [`DueCutoffs`], with its three parameters starting at `$first`.
pub(super) fn due_condition(first: usize) -> String {
    let (a, b, c) = (first, first + 1, first + 2);
    format!(
        "((fulfilled_at IS NOT NULL AND fulfilled_at <= ${a}) \
          OR (cancelled_at IS NOT NULL AND cancelled_at <= ${b}) \
          OR (fulfilled_at IS NULL AND cancelled_at IS NULL AND placed_at <= ${c}))"
    )
}

/// An order due for pseudonymization: what the sweep needs to compute its pseudonym.
#[derive(Clone)]
pub struct DueRow {
    pub id: i64,
    pub marketplace: String,
    pub order_number: String,
    pub email_ct: Option<Vec<u8>>,
}

impl std::fmt::Debug for DueRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DueRow({}/{})", self.marketplace, self.order_number)
    }
}

/// Order counts of one account for the privacy summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrivacyCounts {
    pub total: i64,
    pub with_personal_data: i64,
    pub pseudonymized: i64,
    pub overdue: i64,
}

impl AccountStore {
    /// Up to `limit` not yet pseudonymized orders that are due, with ids above
    /// `after_id`, in id order (keyset paging keeps a sweep linear in the due rows).
    pub async fn due_for_pseudonymization(
        &self,
        cutoffs: DueCutoffs,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<DueRow>, StoreError> {
        let sql = format!(
            "SELECT id, marketplace, order_number, email_ct FROM {}orders \
             WHERE pseudonymized_at IS NULL AND id > $1 AND {} ORDER BY id LIMIT $5",
            self.prefix(),
            due_condition(2)
        );
        on_pool!(self.pool(), p => {
            let rows = sqlx::query(&sql)
                .bind(after_id)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.placed_before_ms)
                .bind(limit)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(DueRow {
                        id: r.try_get("id")?,
                        marketplace: r.try_get("marketplace")?,
                        order_number: r.try_get("order_number")?,
                        email_ct: r.try_get("email_ct")?,
                    })
                })
                .collect()
        })
    }

    /// Pseudonymizes the given rows in one transaction: clears every personal column and
    /// the email index, stores the given pseudonym (or NULL), stamps `pseudonymized_at`.
    /// Rows already pseudonymized (by a concurrent sweep) are left alone and not counted,
    /// so the returned count is exact even if two processes raced.
    pub async fn pseudonymize_rows(
        &self,
        rows: &[(i64, Option<[u8; 32]>)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        match self.pool() {
            Pool::Sqlite(pool) => {
                // No automatic checkpoint after this commit: the sweep checkpoints every
                // few batches and at the end, so index pages touched by every batch are
                // written back once instead of once per batch. The setting is per
                // connection and restored before the connection goes back to the pool.
                let mut conn = pool.acquire().await?;
                sqlx::query("PRAGMA wal_autocheckpoint = 0")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("PRAGMA cache_size = -262144")
                    .execute(&mut *conn)
                    .await?;
                let result = sqlite_pseudonymize(&mut conn, rows, now_ms).await;
                if sqlx::query("PRAGMA wal_autocheckpoint = 1000")
                    .execute(&mut *conn)
                    .await
                    .is_err()
                    || sqlx::query("PRAGMA cache_size = -8192")
                        .execute(&mut *conn)
                        .await
                        .is_err()
                {
                    conn.close_on_drop();
                }
                result
            }
            Pool::Postgres(pool) => {
                // One statement per batch: the rows travel as two arrays. The id range
                // bounds the table side of the join: without it every batch scanned the
                // whole table to hash-join it with the batch (a sweep of 200,000 orders
                // in four batches read the table four times).
                let sql = format!(
                    "UPDATE {p}orders AS o SET {ERASE_SET}, pseudonym = v.p, pseudonymized_at = $3 \
                     FROM UNNEST($1::BIGINT[], $2::BYTEA[]) AS v(id, p) \
                     WHERE o.id = v.id AND o.pseudonymized_at IS NULL \
                     AND o.id >= $4 AND o.id <= $5",
                    p = self.prefix()
                );
                let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
                let first = ids.iter().copied().min().unwrap_or(0);
                let last = ids.iter().copied().max().unwrap_or(0);
                let pseudonyms: Vec<Option<&[u8]>> = rows
                    .iter()
                    .map(|(_, p)| p.as_ref().map(|p| &p[..]))
                    .collect();
                let done = sqlx::query(&sql)
                    .bind(ids)
                    .bind(pseudonyms)
                    .bind(now_ms)
                    .bind(first)
                    .bind(last)
                    .execute(pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    }

    /// PostgreSQL, before a bulk erasure that ends in `VACUUM FULL`: drops the index of
    /// pseudonyms (`orders_by_pseudonym`), which [`AccountStore::restore_pseudonym_index`]
    /// builds again after the rewrite. Every erased row would otherwise insert a random
    /// 32-byte key into it, a third of the erasing UPDATEs' time (200,000 orders:
    /// about 10 s with the index, 7 s without, under the same load), and the rewrite
    /// rebuilds every index from scratch anyway. Until it is back, finding an order by
    /// pseudonym reads the table instead of the index: slower, never wrong.
    ///
    /// Waits at most two seconds for the table lock (a backup or a long query may hold
    /// it) and then gives up: `false`, and the sweep erases with the index in place.
    /// SQLite: nothing to do (`false`).
    pub async fn suspend_pseudonym_index(&self) -> Result<bool, StoreError> {
        let Pool::Postgres(pool) = self.pool() else {
            return Ok(false);
        };
        let mut tx = pool.begin().await?;
        sqlx::query("SET LOCAL lock_timeout = '2s'")
            .execute(&mut *tx)
            .await?;
        let drop = format!("DROP INDEX IF EXISTS {}{PSEUDONYM_INDEX}", self.prefix());
        match sqlx::query(&drop).execute(&mut *tx).await {
            Ok(_) => {
                tx.commit().await?;
                Ok(true)
            }
            // lock_not_available: the transaction rolls back, the index stays.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Builds the pseudonym index if it is missing: after a sweep suspended it
    /// ([`AccountStore::suspend_pseudonym_index`]), or when one stopped before it could
    /// rebuild it. The same definition as the account migration. Only a catalog lookup
    /// when the index exists (`CREATE INDEX IF NOT EXISTS` would lock the table first).
    /// SQLite never drops it.
    pub async fn restore_pseudonym_index(&self) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = self.pool() else {
            return Ok(());
        };
        let present: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(format!("{}{PSEUDONYM_INDEX}", self.prefix()))
            .fetch_one(pool)
            .await?;
        if present {
            return Ok(());
        }
        let create = format!(
            "CREATE INDEX IF NOT EXISTS {PSEUDONYM_INDEX} ON {}orders (pseudonym) \
             WHERE pseudonym IS NOT NULL",
            self.prefix()
        );
        sqlx::query(&create).execute(pool).await?;
        Ok(())
    }

    /// Erases a data subject's orders completely: personal columns, email index and
    /// pseudonym. Marks them pseudonymized (keeping an earlier stamp), so a later
    /// marketplace update cannot bring the data back. Returns how many rows it changed.
    pub async fn erase_rows(&self, ids: &[i64], now_ms: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {}orders SET {ERASE_SET}, pseudonym = NULL, \
             pseudonymized_at = COALESCE(pseudonymized_at, $1) WHERE id = $2",
            self.prefix()
        );
        let mut n = 0;
        on_pool!(self.pool(), p => {
            let mut tx = p.begin().await?;
            for id in ids {
                n += sqlx::query(&sql).bind(now_ms).bind(id).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Totals for the privacy summary; `overdue` counts due orders that still hold
    /// personal data.
    pub async fn privacy_counts(&self, cutoffs: DueCutoffs) -> Result<PrivacyCounts, StoreError> {
        let sql = format!(
            "SELECT count(*) AS total, \
               CAST(COALESCE(SUM(CASE WHEN pseudonymized_at IS NULL AND {HAS_PERSONAL} THEN 1 ELSE 0 END), 0) AS BIGINT) AS personal, \
               CAST(COALESCE(SUM(CASE WHEN pseudonymized_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS pseudonymized, \
               CAST(COALESCE(SUM(CASE WHEN pseudonymized_at IS NULL AND {HAS_PERSONAL} AND {} THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue \
             FROM {}orders",
            due_condition(1),
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let r = sqlx::query(&sql)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.placed_before_ms)
                .fetch_one(p)
                .await?;
            Ok(PrivacyCounts {
                total: r.try_get("total")?,
                with_personal_data: r.try_get("personal")?,
                pseudonymized: r.try_get("pseudonymized")?,
                overdue: r.try_get("overdue")?,
            })
        })
    }

    /// Makes erased values unrecoverable from the database files. SQLite: zeroing of
    /// freed space is on (`secure_delete`), so checkpointing the WAL into the database
    /// and truncating it leaves no old page image behind; retried while readers hold the
    /// WAL. PostgreSQL: `VACUUM` removes the dead row versions, so no query (nor
    /// `pg_dump`) can read them, but it does not zero their bytes in the table file;
    /// with `rewrite`, `VACUUM FULL` writes the table and its indexes anew and drops the
    /// old files, at the cost of locking the account's orders while it runs.
    pub async fn purge_erased(&self, rewrite: bool) -> Result<(), StoreError> {
        match self.pool() {
            Pool::Sqlite(p) => {
                for attempt in 0..20 {
                    let busy: i64 = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(p)
                        .await?
                        .try_get(0)?;
                    if busy == 0 {
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 * (attempt + 1))).await;
                }
                Err(StoreError::Internal(
                    "WAL checkpoint stayed busy; erased data is purged at the next sweep".into(),
                ))
            }
            Pool::Postgres(p) => {
                let full = if rewrite { "FULL " } else { "" };
                sqlx::query(&format!("VACUUM {full}{}orders", self.prefix()))
                    .execute(p)
                    .await?;
                Ok(())
            }
        }
    }
}

async fn sqlite_pseudonymize(
    conn: &mut sqlx::SqliteConnection,
    rows: &[(i64, Option<[u8; 32]>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    use sqlx::Connection;
    let full = sqlite_pseudonymize_sql(SQLITE_UPDATE_CHUNK);
    let mut tx = conn.begin().await?;
    let mut n = 0;
    for chunk in rows.chunks(SQLITE_UPDATE_CHUNK) {
        let tail;
        let sql = if chunk.len() == SQLITE_UPDATE_CHUNK {
            full.as_str()
        } else {
            tail = sqlite_pseudonymize_sql(chunk.len());
            tail.as_str()
        };
        let mut q = sqlx::query(sql);
        for (id, pseudonym) in chunk {
            q = q.bind(*id).bind(pseudonym.map(|p| p.to_vec()));
        }
        n += q.bind(now_ms).execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}

/// `WITH v(id, p) AS (VALUES (?, ?), …) UPDATE … FROM v`: one statement pseudonymizes
/// `rows` rows, each with its own pseudonym, by rowid lookups.
fn sqlite_pseudonymize_sql(rows: usize) -> String {
    let mut values = String::with_capacity(rows * 8);
    for i in 0..rows {
        if i > 0 {
            values.push_str(", ");
        }
        values.push_str("(?, ?)");
    }
    format!(
        "WITH v(id, p) AS (VALUES {values}) \
         UPDATE orders SET {ERASE_SET}, pseudonym = v.p, pseudonymized_at = ? \
         FROM v WHERE orders.id = v.id AND orders.pseudonymized_at IS NULL"
    )
}
