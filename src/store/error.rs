//! Store errors. Messages name tables, constraints and accounts, never row values.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A migration of one store (schema or file) failed; nothing of it was applied.
    #[error("database migration of {scope} failed: {source}")]
    MigrationOf {
        scope: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("account {0} has no store (closed, or never created)")]
    NoAccountStore(String),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("internal store error: {0}")]
    Internal(String),
}
