//! PostgreSQL's migration runner (see `store/migrate` for the rules both runners keep):
//! a transaction-scoped advisory lock per schema, re-checked under the lock, so concurrent
//! starts apply each migration once; `SET LOCAL search_path` points the file's unqualified
//! names at the schema.

use std::time::Instant;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::PgPool;

use crate::store::migrate::{
    announce, check_recorded, failed, nanos, pending, quote_ident, split_statements, Applied,
    Dialect, Statement, StatementHook,
};
use crate::store::StoreError;

/// Brings PostgreSQL schema `schema` up to `migrator`, creating the schema and the
/// migrations table only when they are missing. Returns the versions it applied.
pub async fn run_postgres(
    pool: &PgPool,
    schema: &str,
    migrator: &Migrator,
    hook: Option<&StatementHook>,
) -> Result<Vec<i64>, StoreError> {
    let qs = quote_ident(schema);
    let table = format!("{qs}._sqlx_migrations");
    let (schema_exists, table_exists): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1), to_regclass($2) IS NOT NULL",
    )
    .bind(schema)
    .bind(&table)
    .fetch_one(pool)
    .await?;
    let applied: Vec<Applied> = if table_exists {
        sqlx::query_as(&format!(
            "SELECT version, checksum, success FROM {table} ORDER BY version"
        ))
        .fetch_all(pool)
        .await?
    } else {
        Vec::new()
    };
    let todo = pending(migrator, &applied).map_err(|e| failed(schema, e))?;
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    let lock = format!("ordervault.migrate.{schema}");
    if !table_exists {
        let mut setup = Vec::new();
        if !schema_exists {
            setup.push(format!("CREATE SCHEMA IF NOT EXISTS {qs}"));
        }
        setup.push(format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    version BIGINT PRIMARY KEY,\n    description TEXT NOT NULL,\n    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),\n    success BOOLEAN NOT NULL,\n    checksum BYTEA NOT NULL,\n    execution_time BIGINT NOT NULL\n)"
        ));
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&lock)
            .execute(&mut *tx)
            .await?;
        for sql in &setup {
            announce(
                hook,
                Statement {
                    scope: schema,
                    version: None,
                    sql,
                },
            )
            .map_err(|e| failed(schema, e))?;
            sqlx::query(sql).persistent(false).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let mut done = Vec::with_capacity(todo.len());
    for m in todo {
        let start = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&lock)
            .execute(&mut *tx)
            .await?;
        let found: Option<(Vec<u8>, bool)> = sqlx::query_as(&format!(
            "SELECT checksum, success FROM {table} WHERE version = $1"
        ))
        .bind(m.version)
        .fetch_optional(&mut *tx)
        .await?;
        if check_recorded(found, m).map_err(|e| failed(schema, e))? {
            continue;
        }
        // Unqualified names in the file land in this schema; LOCAL ends with the transaction.
        sqlx::query(&format!("SET LOCAL search_path TO {qs}"))
            .execute(&mut *tx)
            .await?;
        for sql in split_statements(&m.sql, Dialect::Postgres) {
            let stmt = Statement {
                scope: schema,
                version: Some(m.version),
                sql,
            };
            announce(hook, stmt).map_err(|e| failed(schema, e))?;
            sqlx::query(sql)
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(|e| failed(schema, MigrateError::ExecuteMigration(e, m.version)))?;
        }
        sqlx::query(&format!(
            "INSERT INTO {table} (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, $4)"
        ))
        .bind(m.version)
        .bind(&*m.description)
        .bind(&*m.checksum)
        .bind(nanos(start))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(scope = schema, version = m.version, "migration applied");
        done.push(m.version);
    }
    Ok(done)
}
