//! SQLite's side of [`crate::store::dialect`]: the SQL text and the operations that differ
//! from PostgreSQL's.
//!
//! Generated multi-row statements use anonymous `?` parameters: sqlx resolves numbered
//! names with a lookup per parameter that is linear in the statement's parameter count.

use std::path::Path;

use sqlx::{Connection, Row, SqliteConnection, SqlitePool};

use crate::store::catalog::DataKeyRow;
use crate::store::dialect::{AnyFromRow, DataKeyInsert, Dialect, KeyLookup};
use crate::store::StoreError;

/// Keys per data-key insert: 5 parameters each, far below SQLite's limit.
const KEYS_PER_STATEMENT: usize = 500;
/// Keys per lookup statement.
const KEYS_PER_LOOKUP: usize = 500;
/// Rows per pseudonymizing statement (2 parameters each).
const PSEUDONYMIZE_CHUNK: usize = 500;

/// SQLite's SQL text.
pub(in crate::store) struct Sqlite;

/// The one instance, handed out by `Pool::sql`.
pub(in crate::store) static SQLITE: Sqlite = Sqlite;

impl Dialect for Sqlite {
    fn value_rows(&self, rows: usize, cols: usize, _first: usize) -> String {
        let mut one = String::with_capacity(cols * 3 + 2);
        one.push('(');
        for i in 0..cols {
            one.push_str(if i == 0 { "?" } else { ", ?" });
        }
        one.push(')');
        vec![one; rows].join(", ")
    }

    fn least(&self, a: &str, b: &str) -> String {
        // Scalar MIN with two arguments; SQLite has no LEAST.
        format!("MIN({a}, {b})")
    }

    fn share_lock(&self) -> &'static str {
        // Writers are serialized (one write transaction at a time) and always see the
        // latest committed rows.
        ""
    }

    fn skip_locked(&self) -> &'static str {
        ""
    }

    fn purge_is_cheap(&self) -> bool {
        // A WAL checkpoint with nothing in the WAL.
        true
    }

    fn lock_row(&self, table: &str, column: &str) -> String {
        // A no-op write takes the database's write lock now, not at the transaction's
        // first real write, so nothing can change the row between this read and that write.
        format!("UPDATE {table} SET version = version WHERE id = $1 RETURNING {column}")
    }
}

pub(in crate::store) async fn select_by_keys<T: AnyFromRow>(
    pool: &SqlitePool,
    lookup: &KeyLookup<'_>,
    keys: &[&str],
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::with_capacity(keys.len());
    let fixed: String = lookup
        .fixed
        .iter()
        .enumerate()
        .map(|(i, (col, _))| format!("{col} = ${} AND ", i + 1))
        .collect();
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        let list: Vec<String> = (0..chunk.len())
            .map(|i| format!("${}", lookup.fixed.len() + i + 1))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {fixed}{} IN ({})",
            lookup.columns,
            lookup.table,
            lookup.key,
            list.join(", ")
        );
        let mut q = sqlx::query_as::<_, T>(&sql);
        for (_, v) in lookup.fixed {
            q = q.bind(*v);
        }
        for k in chunk {
            q = q.bind(*k);
        }
        out.extend(q.fetch_all(pool).await?);
    }
    Ok(out)
}

pub(in crate::store) async fn insert_data_keys(
    conn: &mut SqliteConnection,
    insert: &DataKeyInsert<'_>,
    groups: &[(i64, Vec<&DataKeyRow>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    let p = insert.prefix;
    let mut n = 0;
    for (epoch, group) in groups {
        for chunk in group.chunks(KEYS_PER_STATEMENT) {
            // Anonymous parameters, bound in the order they appear.
            let sql = format!(
                "INSERT INTO {p}data_keys (account_id, kind, scope, day, epoch, wrapped_key, created_at) \
                 SELECT column1, column2, column3, column4, ?, column5, ? FROM (VALUES {}) \
                 WHERE NOT EXISTS (SELECT 1 FROM {p}key_epochs WHERE epoch > ?) \
                 AND {} \
                 ON CONFLICT (account_id, kind, scope) DO NOTHING",
                SQLITE.value_rows(chunk.len(), 5, 0),
                (insert.guard)("?"),
            );
            let mut q = sqlx::query(&sql).bind(epoch).bind(now_ms);
            for r in chunk {
                q = q
                    .bind(&r.account_id)
                    .bind(&r.kind)
                    .bind(&r.scope)
                    .bind(r.day)
                    .bind(&r.wrapped_key);
            }
            n += q
                .bind(epoch)
                .bind(epoch)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
    }
    Ok(n)
}

pub(in crate::store) async fn pseudonymize_orders(
    pool: &SqlitePool,
    prefix: &str,
    erase_set: &str,
    rows: &[(i64, Option<[u8; 32]>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    // No automatic checkpoint after this commit: the sweep checkpoints every few batches
    // and at the end, so index pages touched by every batch are written back once instead
    // of once per batch. The setting is per connection and restored before the
    // connection goes back to the pool.
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA wal_autocheckpoint = 0")
        .execute(&mut *conn)
        .await?;
    sqlx::query("PRAGMA cache_size = -262144")
        .execute(&mut *conn)
        .await?;
    let result = pseudonymize_in(&mut conn, prefix, erase_set, rows, now_ms).await;
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

async fn pseudonymize_in(
    conn: &mut SqliteConnection,
    prefix: &str,
    erase_set: &str,
    rows: &[(i64, Option<[u8; 32]>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    let full = pseudonymize_sql(prefix, erase_set, PSEUDONYMIZE_CHUNK);
    let mut tx = conn.begin().await?;
    let mut n = 0;
    for chunk in rows.chunks(PSEUDONYMIZE_CHUNK) {
        let tail;
        let sql = if chunk.len() == PSEUDONYMIZE_CHUNK {
            full.as_str()
        } else {
            tail = pseudonymize_sql(prefix, erase_set, chunk.len());
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
fn pseudonymize_sql(prefix: &str, erase_set: &str, rows: usize) -> String {
    format!(
        "WITH v(id, p) AS (VALUES {}) \
         UPDATE {prefix}orders SET {erase_set}, pseudonym = v.p, pseudonymized_at = ? \
         FROM v WHERE {prefix}orders.id = v.id AND {prefix}orders.pseudonymized_at IS NULL",
        SQLITE.value_rows(rows, 2, 0)
    )
}

/// Zeroing of freed space is on (`secure_delete`), so checkpointing the WAL into the
/// database and truncating it leaves no old page image behind; `false` while readers
/// still hold the WAL.
pub(in crate::store) async fn purge(pool: &SqlitePool) -> Result<bool, StoreError> {
    let busy: i64 = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(busy == 0)
}

pub(in crate::store) async fn copy_to_file(
    pool: &SqlitePool,
    path: &Path,
) -> Result<(), StoreError> {
    let quoted = path.display().to_string().replace('\'', "''");
    sqlx::query(&format!("VACUUM INTO '{quoted}'"))
        .execute(pool)
        .await?;
    Ok(())
}
