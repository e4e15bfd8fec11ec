//! Schema migrations, run by ordervault itself: one statement per query, one transaction
//! per migration, pending versions in ascending order (gaps between versions are fine),
//! and nothing at all sent — no DDL, no writes — when nothing is pending.
//!
//! The two runners are the backends' own (`postgres/migrate.rs`, `sqlite/migrate.rs`,
//! re-exported as `store::run_postgres` / `store::run_sqlite`); this module holds what they
//! share.
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
pub(in crate::store) type Applied = (i64, Vec<u8>, bool);

pub(in crate::store) fn failed(scope: &str, source: MigrateError) -> StoreError {
    StoreError::MigrationOf {
        scope: scope.to_owned(),
        source,
    }
}

/// The migrations still to apply, in version order, after checking the applied ones.
pub(in crate::store) fn pending<'m>(
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
pub(in crate::store) fn announce(
    hook: Option<&StatementHook>,
    stmt: Statement<'_>,
) -> Result<(), MigrateError> {
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
pub(in crate::store) fn check_recorded(
    found: Option<(Vec<u8>, bool)>,
    m: &Migration,
) -> Result<bool, MigrateError> {
    match found {
        None => Ok(false),
        Some((_, false)) => Err(MigrateError::Dirty(m.version)),
        Some((sum, true)) if sum.as_slice() != m.checksum.as_ref() => {
            Err(MigrateError::VersionMismatch(m.version))
        }
        Some(_) => Ok(true),
    }
}

pub(in crate::store) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(in crate::store) fn nanos(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
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
