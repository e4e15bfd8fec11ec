//! Orders a marketplace listed that could not be stored (not normalized, a detail for
//! another id, money that does not add up), kept per account and connection so an
//! operator sees them where they happened,
//! the sync goes on, and later syncs list their window again. The error text names
//! fields, never values.

use serde::Serialize;
use sqlx::Row;

use super::{AccountStore, StoreError};

/// A failure stops widening later syncs' windows after this many attempts; it stays
/// listed (and the connection unhealthy) until the order stores or an operator acts.
pub const MAX_RETRY_ATTEMPTS: i64 = 24;

/// A connection's failures: `$1` its marketplace, `$2` its id. Failures recorded before
/// connections were told apart (no connection id) count for each of the marketplace's.
const OF_CONNECTION: &str = "marketplace = $1 AND (connection_id = $2 OR connection_id IS NULL)";

/// One order the marketplace sent that did not normalize.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestFailure {
    pub marketplace: String,
    /// The connection that listed the order (`None` for failures recorded before
    /// connections were told apart: they count for every connection of the marketplace).
    pub connection_id: Option<String>,
    pub marketplace_order_id: String,
    pub error: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub attempts: i64,
}

impl AccountStore {
    /// Records (or re-records) failures of orders `connection_id` listed in a window
    /// starting at `retry_from_ms`; the earliest such window is kept for retries.
    pub async fn record_failures(
        &self,
        marketplace: &str,
        connection_id: &str,
        failures: &[(String, String)],
        now_ms: i64,
        retry_from_ms: i64,
    ) -> Result<(), StoreError> {
        if failures.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {}ingest_failures AS f (marketplace, marketplace_order_id, error, \
                first_seen_at, last_seen_at, retry_from, connection_id) \
             VALUES ($1, $2, $3, $4, $4, $5, $6) \
             ON CONFLICT (marketplace, marketplace_order_id) DO UPDATE SET \
                error = excluded.error, last_seen_at = excluded.last_seen_at, \
                connection_id = excluded.connection_id, \
                attempts = f.attempts + 1, \
                retry_from = COALESCE(f.retry_from, excluded.retry_from)",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let mut tx = p.begin().await?;
            for (id, error) in failures {
                sqlx::query(&sql)
                    .bind(marketplace)
                    .bind(id)
                    .bind(error)
                    .bind(now_ms)
                    .bind(retry_from_ms)
                    .bind(connection_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Forgets failures of orders that have since been stored.
    pub async fn clear_failures(&self, marketplace: &str, ids: &[&str]) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM {}ingest_failures WHERE marketplace = $1 AND marketplace_order_id = $2",
            self.prefix()
        );
        let mut n = 0;
        on_pool!(self.pool(), p => {
            let mut tx = p.begin().await?;
            for id in ids {
                n += sqlx::query(&sql).bind(marketplace).bind(id).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Whether any failure is recorded (checked once per sync run, so it must stay cheap).
    pub async fn has_failures(&self) -> Result<bool, StoreError> {
        let sql = format!("SELECT 1 FROM {}ingest_failures LIMIT 1", self.prefix());
        on_pool!(self.pool(), p => {
            let row: Option<i32> = sqlx::query_scalar(&sql).fetch_optional(p).await?;
            Ok(row.is_some())
        })
    }

    /// How many of the orders a connection of `marketplace` listed are missing from the
    /// store.
    pub async fn failure_count(
        &self,
        marketplace: &str,
        connection_id: &str,
    ) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM {}ingest_failures WHERE {OF_CONNECTION}",
            self.prefix()
        );
        on_pool!(self.pool(), p => Ok(sqlx::query_scalar(&sql)
            .bind(marketplace)
            .bind(connection_id)
            .fetch_one(p)
            .await?))
    }

    /// The start of the earliest window whose failed orders (of this connection) are
    /// still being retried.
    pub async fn retry_from(
        &self,
        marketplace: &str,
        connection_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT MIN(retry_from) FROM {}ingest_failures \
             WHERE {OF_CONNECTION} AND attempts < $3",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            Ok(sqlx::query_scalar(&sql)
                .bind(marketplace)
                .bind(connection_id)
                .bind(MAX_RETRY_ATTEMPTS)
                .fetch_one(p)
                .await?)
        })
    }

    /// All recorded failures, newest first.
    pub async fn failures(&self) -> Result<Vec<IngestFailure>, StoreError> {
        self.failures_where("1 = 1", None).await
    }

    /// The failures of one connection (of `marketplace`), newest first.
    pub async fn connection_failures(
        &self,
        marketplace: &str,
        connection_id: &str,
    ) -> Result<Vec<IngestFailure>, StoreError> {
        self.failures_where(OF_CONNECTION, Some((marketplace, connection_id)))
            .await
    }

    async fn failures_where(
        &self,
        filter: &str,
        connection: Option<(&str, &str)>,
    ) -> Result<Vec<IngestFailure>, StoreError> {
        let sql = format!(
            "SELECT marketplace, connection_id, marketplace_order_id, error, first_seen_at, \
                last_seen_at, attempts \
             FROM {}ingest_failures WHERE {filter} \
             ORDER BY last_seen_at DESC, marketplace_order_id",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let mut q = sqlx::query(&sql);
            if let Some((marketplace, id)) = connection {
                q = q.bind(marketplace).bind(id);
            }
            let rows = q.fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(IngestFailure {
                        marketplace: r.try_get("marketplace")?,
                        connection_id: r.try_get("connection_id")?,
                        marketplace_order_id: r.try_get("marketplace_order_id")?,
                        error: r.try_get("error")?,
                        first_seen_at: r.try_get("first_seen_at")?,
                        last_seen_at: r.try_get("last_seen_at")?,
                        attempts: r.try_get("attempts")?,
                    })
                })
                .collect()
        })
    }
}
