//! PostgreSQL's side of [`crate::store::dialect`]: the SQL text and the operations that
//! differ from SQLite's.
//!
//! Lookups by a list of keys are lateral joins over an array, one index probe per key,
//! whatever the table's statistics: with `key IN (…)` on a table never analyzed (a first
//! sync, a fresh installation, autovacuum off) the planner walked every row sharing the
//! leading key columns per lookup and filtered the list, which made a first sync
//! quadratic in its orders and customers (issue 18).

use sqlx::{PgConnection, PgPool};

use crate::store::catalog::DataKeyRow;
use crate::store::dialect::{AnyFromRow, DataKeyInsert, Dialect, KeyLookup};
use crate::store::StoreError;

/// Keys per statement (arrays: one parameter per column, whatever the count).
const KEYS_PER_STATEMENT: usize = 2000;

/// PostgreSQL's SQL text.
pub(in crate::store) struct Postgres;

/// The one instance, handed out by `Pool::sql`.
pub(in crate::store) static POSTGRES: Postgres = Postgres;

impl Dialect for Postgres {
    fn value_rows(&self, rows: usize, cols: usize, first: usize) -> String {
        let mut out = String::with_capacity(rows * cols * 5);
        for r in 0..rows {
            if r > 0 {
                out.push_str(", ");
            }
            out.push('(');
            for c in 0..cols {
                if c > 0 {
                    out.push_str(", ");
                }
                out.push('$');
                out.push_str(&(first + r * cols + c + 1).to_string());
            }
            out.push(')');
        }
        out
    }

    fn least(&self, a: &str, b: &str) -> String {
        format!("LEAST({a}, {b})")
    }

    fn share_lock(&self) -> &'static str {
        " FOR SHARE"
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn purge_is_cheap(&self) -> bool {
        // VACUUM reads the whole table.
        false
    }

    fn lock_row(&self, table: &str, column: &str) -> String {
        format!("SELECT {column} FROM {table} WHERE id = $1 FOR UPDATE")
    }
}

pub(in crate::store) async fn select_by_keys<T: AnyFromRow>(
    pool: &PgPool,
    lookup: &KeyLookup<'_>,
    keys: &[&str],
) -> Result<Vec<T>, StoreError> {
    let fixed: String = lookup
        .fixed
        .iter()
        .enumerate()
        .map(|(i, (col, _))| format!("{col} = ${} AND ", i + 1))
        .collect();
    // OFFSET 0 keeps the subquery from being flattened into a join the planner may
    // then reorder.
    let sql = format!(
        "SELECT k.* FROM unnest(${}::text[]) AS s(wanted) CROSS JOIN LATERAL \
         (SELECT {} FROM {} WHERE {fixed}{} = s.wanted OFFSET 0) k",
        lookup.fixed.len() + 1,
        lookup.columns,
        lookup.table,
        lookup.key,
    );
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut q = sqlx::query_as::<_, T>(&sql);
        for (_, v) in lookup.fixed {
            q = q.bind(*v);
        }
        out.extend(q.bind(chunk).fetch_all(pool).await?);
    }
    Ok(out)
}

pub(in crate::store) async fn insert_data_keys(
    conn: &mut PgConnection,
    insert: &DataKeyInsert<'_>,
    groups: &[(i64, Vec<&DataKeyRow>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    let p = insert.prefix;
    let sql = format!(
        "INSERT INTO {p}data_keys (account_id, kind, scope, day, epoch, wrapped_key, created_at) \
         SELECT k.account_id, k.kind, k.scope, k.day, $1, k.wrapped_key, $2 \
         FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[]) \
             AS k(account_id, kind, scope, day, wrapped_key) \
         WHERE NOT EXISTS (SELECT 1 FROM {p}key_epochs WHERE epoch > $1) \
         AND {} \
         ON CONFLICT (account_id, kind, scope) DO NOTHING",
        (insert.guard)("$1")
    );
    let mut n = 0;
    for (epoch, group) in groups {
        for chunk in group.chunks(KEYS_PER_STATEMENT) {
            let accounts: Vec<&str> = chunk.iter().map(|r| r.account_id.as_str()).collect();
            let kinds: Vec<&str> = chunk.iter().map(|r| r.kind.as_str()).collect();
            let scopes: Vec<&str> = chunk.iter().map(|r| r.scope.as_str()).collect();
            let days: Vec<Option<i64>> = chunk.iter().map(|r| r.day).collect();
            let wrapped: Vec<&[u8]> = chunk.iter().map(|r| r.wrapped_key.as_slice()).collect();
            n += sqlx::query(&sql)
                .bind(epoch)
                .bind(now_ms)
                .bind(&accounts)
                .bind(&kinds)
                .bind(&scopes)
                .bind(&days)
                .bind(&wrapped)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
    }
    Ok(n)
}

pub(in crate::store) async fn pseudonymize_orders(
    pool: &PgPool,
    prefix: &str,
    erase_set: &str,
    rows: &[(i64, Option<[u8; 32]>)],
    now_ms: i64,
) -> Result<u64, StoreError> {
    // One statement per batch: the rows travel as two arrays. The id range bounds the
    // table side of the join: without it every batch scanned the whole table to
    // hash-join it with the batch (a sweep of 200,000 orders in four batches read the
    // table four times).
    let sql = format!(
        "UPDATE {prefix}orders AS o SET {erase_set}, pseudonym = v.p, pseudonymized_at = $3 \
         FROM UNNEST($1::BIGINT[], $2::BYTEA[]) AS v(id, p) \
         WHERE o.id = v.id AND o.pseudonymized_at IS NULL \
         AND o.id >= $4 AND o.id <= $5"
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

/// `VACUUM` removes dead row versions, so no query (nor `pg_dump`) can read them, but it
/// does not zero their bytes in the table file; `VACUUM FULL` (`rewrite`) writes the
/// table and its indexes anew and drops the old files, at the cost of locking the table
/// while it runs.
pub(in crate::store) async fn purge(
    pool: &PgPool,
    prefix: &str,
    table: &str,
    rewrite: bool,
) -> Result<bool, StoreError> {
    let full = if rewrite { "FULL " } else { "" };
    sqlx::query(&format!("VACUUM {full}{prefix}{table}"))
        .execute(pool)
        .await?;
    Ok(true)
}
