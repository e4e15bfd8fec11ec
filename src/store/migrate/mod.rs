//! Schema migrations, run by ordervault itself: one statement per query, one transaction
//! per migration, pending versions in ascending order (gaps between versions are fine),
//! and nothing at all sent — no DDL, no writes — when nothing is pending.
//!
//! Why not sqlx's runner: it sends a whole migration file as one query string, which
//! Citus cannot forward to its workers (`cannot insert multiple commands into a prepared
//! statement`), and it runs `CREATE TABLE IF NOT EXISTS _sqlx_migrations` on every start,
//! a cluster-wide two-phase DDL on Citus. What stays sqlx's: the embedded files
//! (`sqlx::migrate!`), the `_sqlx_migrations` table with its columns, and the checksums
//! (SHA-384 of the whole file, computed by the macro), so an installation migrated by
//! sqlx's runner is accepted and continued here, and vice versa.
//!
//! Each statement goes out on its own through the extended protocol (unnamed statement),
//! which PostgreSQL itself refuses for a string holding two statements: a splitting
//! mistake fails on plain PostgreSQL exactly as it would on Citus. Every statement passes
//! an optional [`StatementHook`] first (tests record them or inject failures there).
//!
//! It never applies anything over a migration that failed half-way (`success = false`),
//! over an applied migration whose checksum changed, or over an applied version this
//! binary does not know. `-- no-transaction` files are not supported: every migration runs
//! in one transaction, together with its row in `_sqlx_migrations`.
//!
//! Locking: on PostgreSQL each run takes a transaction-scoped advisory lock per schema
//! (`pg_advisory_xact_lock`), and re-checks the version under it, so concurrent starts
//! apply each migration once. Advisory locks are per server: on Citus this holds only
//! when every migrating process goes through the same coordinator. On SQLite each
//! migration starts with `BEGIN IMMEDIATE`, the file's write lock.

mod split;

use std::sync::Arc;
use std::time::Instant;

use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::{PgPool, SqlitePool};

pub use split::{split_statements, Dialect};

use super::StoreError;

/// One statement the migrator is about to send.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    /// What is being migrated: a PostgreSQL schema name, or a SQLite store's label.
    pub scope: &'a str,
    /// The migration it belongs to; `None` for the bookkeeping set-up (schema, table).
    pub version: Option<i64>,
    /// Exactly one SQL statement.
    pub sql: &'a str,
}

/// Called before each statement the migrator sends; an `Err` aborts the migration (its
/// transaction rolls back) with that reason. For tests: recording, fault injection.
pub type StatementHook = Arc<dyn Fn(&Statement<'_>) -> Result<(), String> + Send + Sync>;

/// A row of `_sqlx_migrations`, as far as deciding what to run needs it.
type Applied = (i64, Vec<u8>, bool);

fn failed(scope: &str, source: MigrateError) -> StoreError {
    StoreError::MigrationOf {
        scope: scope.to_owned(),
        source,
    }
}

/// The migrations still to apply, in version order, after checking the applied ones.
fn pending<'m>(
    migrator: &'m Migrator,
    applied: &[Applied],
) -> Result<Vec<&'m Migration>, MigrateError> {
    let ups = || {
        migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
    };
    for (version, checksum, success) in applied {
        if !success {
            return Err(MigrateError::Dirty(*version));
        }
        match ups().find(|m| m.version == *version) {
            None => return Err(MigrateError::VersionMissing(*version)),
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                return Err(MigrateError::VersionMismatch(*version))
            }
            Some(_) => {}
        }
    }
    let mut todo: Vec<&Migration> = ups()
        .filter(|m| !applied.iter().any(|(v, _, _)| *v == m.version))
        .collect();
    todo.sort_by_key(|m| m.version);
    Ok(todo)
}

/// Passes `stmt` to the hook, if any.
fn announce(hook: Option<&StatementHook>, stmt: Statement<'_>) -> Result<(), MigrateError> {
    match hook {
        Some(h) => h(&stmt).map_err(|reason| {
            MigrateError::ExecuteMigration(
                sqlx::Error::Protocol(format!("stopped before a statement: {reason}")),
                stmt.version.unwrap_or(0),
            )
        }),
        None => Ok(()),
    }
}

/// The checksum already recorded for `version`, if another process applied it meanwhile.
fn check_recorded(found: Option<(Vec<u8>, bool)>, m: &Migration) -> Result<bool, MigrateError> {
    match found {
        None => Ok(false),
        Some((_, false)) => Err(MigrateError::Dirty(m.version)),
        Some((sum, true)) if sum.as_slice() != m.checksum.as_ref() => {
            Err(MigrateError::VersionMismatch(m.version))
        }
        Some(_) => Ok(true),
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn nanos(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
}

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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};

    use super::pending;

    fn migrator(versions: &[i64]) -> Migrator {
        let migrations: Vec<Migration> = versions
            .iter()
            .map(|v| {
                Migration::new(
                    *v,
                    Cow::Owned(format!("m{v}")),
                    MigrationType::Simple,
                    Cow::Owned(format!("SELECT {v};")),
                    false,
                )
            })
            .collect();
        Migrator {
            migrations: Cow::Owned(migrations),
            ..Migrator::DEFAULT
        }
    }

    fn applied(m: &Migrator, versions: &[i64]) -> Vec<(i64, Vec<u8>, bool)> {
        m.iter()
            .filter(|x| versions.contains(&x.version))
            .map(|x| (x.version, x.checksum.to_vec(), true))
            .collect()
    }

    #[test]
    fn a_version_below_the_newest_applied_one_still_runs() {
        // 0008 merged after an installation already ran 0010: it runs, once, in order.
        let m = migrator(&[10, 1, 8, 30]);
        let todo = pending(&m, &applied(&m, &[1, 10])).unwrap();
        assert_eq!(todo.iter().map(|m| m.version).collect::<Vec<_>>(), [8, 30]);
        assert!(pending(&m, &applied(&m, &[1, 8, 10, 30]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn refuses_changed_unknown_or_half_applied_history() {
        let m = migrator(&[1, 2]);
        let mut changed = applied(&m, &[1]);
        changed[0].1[0] ^= 1;
        assert!(matches!(
            pending(&m, &changed),
            Err(MigrateError::VersionMismatch(1))
        ));
        let mut unknown = applied(&m, &[1]);
        unknown.push((7, vec![0], true));
        assert!(matches!(
            pending(&m, &unknown),
            Err(MigrateError::VersionMissing(7))
        ));
        let mut dirty = applied(&m, &[1]);
        dirty[0].2 = false;
        assert!(matches!(pending(&m, &dirty), Err(MigrateError::Dirty(1))));
    }
}
