//! The PostgreSQL backend: the catalog in schema `ordervault`, one schema `acct_<id>`
//! per account, one shared pool. No cross-schema foreign keys, so the layout runs
//! unchanged on Citus schema-based sharding. Migrations run per schema with the
//! connection's `search_path` pointed at it.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::{AccountStore, Pool, StoreError};
use crate::config::DatabaseSettings;
use crate::ids::AccountId;

static CATALOG: Migrator = sqlx::migrate!("migrations/catalog/postgres");
static ACCOUNT: Migrator = sqlx::migrate!("migrations/account/postgres");

/// The schema holding the catalog.
pub(super) const CATALOG_SCHEMA: &str = "ordervault";

pub(super) struct PgBackend {
    pool: PgPool,
}

/// Creates `schema` if needed and applies `migrator` inside it.
async fn migrate_schema(
    pool: &PgPool,
    schema: &str,
    migrator: &Migrator,
) -> Result<(), StoreError> {
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(pool)
        .await?;
    let mut conn = pool.acquire().await?;
    // The search_path change must not leak to other users of this pooled connection.
    conn.close_on_drop();
    sqlx::query(&format!("SET search_path TO \"{schema}\""))
        .execute(&mut *conn)
        .await?;
    migrator.run_direct(&mut *conn).await?;
    Ok(())
}

impl PgBackend {
    pub(super) async fn open(settings: &DatabaseSettings, url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .connect(url)
            .await?;
        migrate_schema(&pool, CATALOG_SCHEMA, &CATALOG).await?;
        // Bring every existing account schema up to the current migrations (an upgrade
        // adds tables to stores created by an older version).
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'acct\\_%' ORDER BY nspname",
        )
        .fetch_all(&pool)
        .await?;
        for schema in schemas {
            migrate_schema(&pool, &schema, &ACCOUNT).await?;
        }
        Ok(Self { pool })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) async fn create(&self, account: &AccountId) -> Result<String, StoreError> {
        let schema = account.schema_name();
        migrate_schema(&self.pool, &schema, &ACCOUNT).await?;
        Ok(format!("postgres schema {schema}"))
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
