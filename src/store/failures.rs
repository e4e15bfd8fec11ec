//! Orders a marketplace listed that could not be stored (not normalized, a detail for
//! another id, money that does not add up), kept per account so an operator sees them,
//! the sync goes on, and later syncs list their window again. The error text names
//! fields, never values.

use serde::Serialize;
use sqlx::Row;

use super::{AccountStore, StoreError};

/// A failure stops widening later syncs' windows after this many attempts; it stays
/// listed (and the connection unhealthy) until the order stores or an operator acts.
pub const MAX_RETRY_ATTEMPTS: i64 = 24;

/// One order the marketplace sent that did not normalize.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestFailure {
    pub marketplace: String,
    pub marketplace_order_id: String,
    pub error: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub attempts: i64,
}

impl AccountStore {
    /// Records (or re-records) failures of orders listed in a window starting at
    /// `retry_from_ms`; the earliest such window is kept for retries.
    pub async fn record_failures(
        &self,
        marketplace: &str,
        failures: &[(String, String)],
        now_ms: i64,
        retry_from_ms: i64,
    ) -> Result<(), StoreError> {
        if failures.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {}ingest_failures AS f (marketplace, marketplace_order_id, error, \
                first_seen_at, last_seen_at, retry_from) VALUES ($1, $2, $3, $4, $4, $5) \
             ON CONFLICT (marketplace, marketplace_order_id) DO UPDATE SET \
                error = excluded.error, last_seen_at = excluded.last_seen_at, \
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

    /// How many of `marketplace`'s listed orders are missing from the store.
    pub async fn failure_count(&self, marketplace: &str) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM {}ingest_failures WHERE marketplace = $1",
            self.prefix()
        );
        on_pool!(self.pool(), p => Ok(sqlx::query_scalar(&sql).bind(marketplace).fetch_one(p).await?))
    }

    /// The start of the earliest window whose failed orders are still being retried.
    pub async fn retry_from(&self, marketplace: &str) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT MIN(retry_from) FROM {}ingest_failures \
             WHERE marketplace = $1 AND attempts < $2",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            Ok(sqlx::query_scalar(&sql)
                .bind(marketplace)
                .bind(MAX_RETRY_ATTEMPTS)
                .fetch_one(p)
                .await?)
        })
    }

    /// All recorded failures, newest first.
    pub async fn failures(&self) -> Result<Vec<IngestFailure>, StoreError> {
        let sql = format!(
            "SELECT marketplace, marketplace_order_id, error, first_seen_at, last_seen_at, attempts \
             FROM {}ingest_failures ORDER BY last_seen_at DESC, marketplace_order_id",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(IngestFailure {
                        marketplace: r.try_get("marketplace")?,
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
