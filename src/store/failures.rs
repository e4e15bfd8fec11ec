//! Orders that could not be normalized, kept per account so an operator sees them and the
//! sync goes on. The error text names fields, never values.

use serde::Serialize;
use sqlx::Row;

use super::{AccountStore, StoreError};

/// One order the marketplace sent that did not normalize.
#[derive(Debug, Clone, Serialize)]
pub struct IngestFailure {
    pub marketplace: String,
    pub marketplace_order_id: String,
    pub error: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub attempts: i64,
}

impl AccountStore {
    /// Records (or re-records) failures; returns how many were new.
    pub async fn record_failures(
        &self,
        marketplace: &str,
        failures: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if failures.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {}ingest_failures AS f (marketplace, marketplace_order_id, error, \
                first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (marketplace, marketplace_order_id) DO UPDATE SET \
                error = excluded.error, last_seen_at = excluded.last_seen_at, \
                attempts = f.attempts + 1",
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
