//! SQLite's migration runner (see `store/migrate` for the rules both runners keep): each
//! migration starts with `BEGIN IMMEDIATE`, the file's write lock, and re-checks its
//! version under it.

use std::time::Instant;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::SqlitePool;

use crate::store::migrate::{
    announce, check_recorded, failed, nanos, pending, split_statements, Applied, Dialect,
    Statement, StatementHook,
};
use crate::store::StoreError;

/// Brings the SQLite database behind `pool` up to `migrator`; `scope` names it in errors
/// and for the hook. Returns the versions it applied.
pub async fn run_sqlite(
    pool: &SqlitePool,
    scope: &str,
    migrator: &Migrator,
    hook: Option<&StatementHook>,
) -> Result<Vec<i64>, StoreError> {
    let table_exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    let applied: Vec<Applied> = if table_exists {
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let todo = pending(migrator, &applied).map_err(|e| failed(scope, e))?;
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    if !table_exists {
        let sql = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\n    version BIGINT PRIMARY KEY,\n    description TEXT NOT NULL,\n    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    success BOOLEAN NOT NULL,\n    checksum BLOB NOT NULL,\n    execution_time BIGINT NOT NULL\n)";
        announce(
            hook,
            Statement {
                scope,
                version: None,
                sql,
            },
        )
        .map_err(|e| failed(scope, e))?;
        sqlx::query(sql).persistent(false).execute(pool).await?;
    }
    let mut done = Vec::with_capacity(todo.len());
    for m in todo {
        let start = Instant::now();
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let found: Option<(Vec<u8>, bool)> =
            sqlx::query_as("SELECT checksum, success FROM _sqlx_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if check_recorded(found, m).map_err(|e| failed(scope, e))? {
            continue;
        }
        for sql in split_statements(&m.sql, Dialect::Sqlite) {
            let stmt = Statement {
                scope,
                version: Some(m.version),
                sql,
            };
            announce(hook, stmt).map_err(|e| failed(scope, e))?;
            sqlx::query(sql)
                .persistent(false)
                .execute(&mut *tx)
                .await
                .map_err(|e| failed(scope, MigrateError::ExecuteMigration(e, m.version)))?;
        }
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ($1, $2, TRUE, $3, $4)",
        )
        .bind(m.version)
        .bind(&*m.description)
        .bind(&*m.checksum)
        .bind(nanos(start))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done.push(m.version);
    }
    Ok(done)
}
