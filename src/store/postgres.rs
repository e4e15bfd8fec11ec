//! The PostgreSQL backend: the catalog in schema `ordervault`, one schema `acct_<id>`
//! per account, one shared pool. No cross-schema foreign keys, so the layout runs
//! unchanged on Citus schema-based sharding. Migrations run per schema through our own
//! migrator (`migrate.rs`), one statement per query.
//!
//! It never migrates or creates a schema because it happens to exist in `pg_namespace`:
//! which account schemas to migrate is the catalog's decision (`Store::open`).

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

pub(super) mod dialect;
pub(super) mod migrate;

use super::migrate::StatementHook;
use super::{AccountStore, Pool, StoreError};
use crate::config::DatabaseSettings;
use crate::ids::AccountId;
use migrate::run_postgres;

static CATALOG: Migrator = sqlx::migrate!("migrations/catalog/postgres");
static ACCOUNT: Migrator = sqlx::migrate!("migrations/account/postgres");

/// The schema holding the catalog.
pub(super) const CATALOG_SCHEMA: &str = "ordervault";

pub(super) struct PgBackend {
    pool: PgPool,
    hook: Option<StatementHook>,
}

impl PgBackend {
    /// Connects and brings the catalog schema up to date (no DDL when it already is).
    pub(super) async fn open(
        settings: &DatabaseSettings,
        url: &str,
        hook: Option<StatementHook>,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .connect(url)
            .await?;
        run_postgres(&pool, CATALOG_SCHEMA, &CATALOG, hook.as_ref()).await?;
        Ok(Self { pool, hook })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the account's schema if needed and applies pending migrations.
    pub(super) async fn create(&self, account: &AccountId) -> Result<(), StoreError> {
        run_postgres(
            &self.pool,
            &account.schema_name(),
            &ACCOUNT,
            self.hook.as_ref(),
        )
        .await?;
        Ok(())
    }

    /// Applies pending migrations to an existing account schema; `false` when the
    /// schema does not exist (nothing is created).
    pub(super) async fn upgrade(&self, account: &AccountId) -> Result<bool, StoreError> {
        if !self.exists(account).await? {
            return Ok(false);
        }
        self.create(account).await?;
        Ok(true)
    }

    pub(super) async fn create_empty_schema(&self, account: &AccountId) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{}\"",
            account.schema_name()
        ))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) fn location(account: &AccountId) -> String {
        format!("postgres schema {}", account.schema_name())
    }

    pub(super) fn account(&self, account: &AccountId) -> AccountStore {
        AccountStore::new(
            account.clone(),
            Pool::Postgres(self.pool.clone()),
            format!("\"{}\".", account.schema_name()),
        )
    }

    pub(super) async fn exists(&self, account: &AccountId) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = $1")
            .bind(account.schema_name())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Every schema that looks like an account store (`acct_*`), by name.
    pub(super) async fn store_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'acct\\_%' ORDER BY nspname",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub(super) async fn drop_store(&self, account: &AccountId) -> Result<bool, StoreError> {
        let existed = self.exists(account).await?;
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            account.schema_name()
        ))
        .execute(&self.pool)
        .await?;
        Ok(existed)
    }
}
