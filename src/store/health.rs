//! Read-only counts over one account's store for the operator console: orders ingested
//! and pseudonymized per time bucket, delivery latencies, and webhook backlog per
//! endpoint. Everything is derived from columns the store already keeps (no new table).
//!
//! It returns counts, timestamps and marketplace names only: never a row's personal
//! columns, and never an order number.

use sqlx::Row;

use super::privacy::{due_condition, HAS_PERSONAL};
use super::{AccountStore, DueCutoffs, StoreError};

/// Fixed-width time buckets `[start_ms, start_ms + width_ms × count)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buckets {
    pub start_ms: i64,
    pub width_ms: i64,
    pub count: usize,
}

impl Buckets {
    /// The `count` buckets of `width_ms` ending with the one that holds `now_ms`,
    /// aligned to multiples of the width since the Unix epoch (UTC hours or days).
    pub fn ending_at(now_ms: i64, width_ms: i64, count: usize) -> Self {
        let current = now_ms.div_euclid(width_ms) * width_ms;
        Self {
            start_ms: current - width_ms * (count as i64 - 1),
            width_ms,
            count,
        }
    }

    /// First instant after the last bucket.
    pub fn end_ms(&self) -> i64 {
        self.start_ms + self.width_ms * self.count as i64
    }

    /// Index of the bucket holding `t_ms`, if any.
    pub fn index(&self, t_ms: i64) -> Option<usize> {
        if t_ms < self.start_ms || t_ms >= self.end_ms() {
            return None;
        }
        usize::try_from((t_ms - self.start_ms) / self.width_ms).ok()
    }
}

/// Webhook delivery state of one endpoint: events not yet finished and events given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointBacklog {
    /// Events at or above the endpoint's floor with no delivery yet or still retrying.
    pub pending: i64,
    /// Dead-lettered events.
    pub dead: i64,
}

impl AccountStore {
    /// Orders first ingested in each bucket, per marketplace: `(marketplace, bucket, n)`.
    pub async fn ingested_per_bucket(
        &self,
        b: Buckets,
    ) -> Result<Vec<(String, usize, i64)>, StoreError> {
        self.count_per_bucket("ingested_at", b).await
    }

    /// Orders pseudonymized in each bucket, per marketplace: `(marketplace, bucket, n)`.
    pub async fn pseudonymized_per_bucket(
        &self,
        b: Buckets,
    ) -> Result<Vec<(String, usize, i64)>, StoreError> {
        self.count_per_bucket("pseudonymized_at", b).await
    }

    async fn count_per_bucket(
        &self,
        column: &'static str,
        b: Buckets,
    ) -> Result<Vec<(String, usize, i64)>, StoreError> {
        let sql = format!(
            "SELECT marketplace, ({column} - $1) / $2 AS bucket, count(*) AS n FROM {}orders \
             WHERE {column} >= $3 AND {column} < $4 GROUP BY marketplace, bucket",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let rows = sqlx::query(&sql)
                .bind(b.start_ms)
                .bind(b.width_ms)
                .bind(b.start_ms)
                .bind(b.end_ms())
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    let bucket: i64 = r.try_get("bucket")?;
                    Ok((
                        r.try_get("marketplace")?,
                        usize::try_from(bucket).unwrap_or(0).min(b.count.saturating_sub(1)),
                        r.try_get("n")?,
                    ))
                })
                .collect()
        })
    }

    /// Orders that were already due at `cutoffs` (the last sweep's start), have not
    /// changed since `unchanged_since_ms`, and still hold personal data: orders a sweep
    /// should have pseudonymized but did not. Unlike the summary's `overdue`, this is 0
    /// between sweeps too (an order shipped after a sweep waits for the next one).
    pub async fn missed_by_sweep(
        &self,
        cutoffs: DueCutoffs,
        unchanged_since_ms: i64,
    ) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM {}orders WHERE pseudonymized_at IS NULL AND {HAS_PERSONAL} \
               AND changed_at <= $1 AND {}",
            self.prefix(),
            due_condition(2)
        );
        on_pool!(self.pool(), p => {
            Ok(sqlx::query_scalar(&sql)
                .bind(unchanged_since_ms)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.placed_before_ms)
                .fetch_one(p)
                .await?)
        })
    }

    /// `(delivered_at, latency_ms)` of every webhook delivery completed in
    /// `[from_ms, to_ms)`: the time from the outbox event to its successful delivery.
    pub async fn delivery_latencies(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let p = self.prefix();
        let sql = format!(
            "SELECT d.delivered_at, d.delivered_at - e.created_at AS latency \
             FROM {p}deliveries d JOIN {p}outbox e ON e.id = d.outbox_id \
             WHERE d.status = 'delivered' AND d.delivered_at >= $1 AND d.delivered_at < $2"
        );
        on_pool!(self.pool(), pl => {
            let rows = sqlx::query(&sql).bind(from_ms).bind(to_ms).fetch_all(pl).await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }

    /// Pending and dead-lettered events of one endpoint (events created since
    /// `since_ms`, the endpoint's creation, as the forwarder counts them).
    pub async fn endpoint_backlog(
        &self,
        endpoint_id: &str,
        since_ms: i64,
    ) -> Result<EndpointBacklog, StoreError> {
        let p = self.prefix();
        let pending = format!(
            "SELECT count(*) FROM {p}outbox e \
             LEFT JOIN {p}deliveries d ON d.outbox_id = e.id AND d.endpoint_id = $1 \
             WHERE e.id >= COALESCE((SELECT floor FROM {p}delivery_floors WHERE endpoint_id = $2), 0) \
               AND e.created_at >= $3 AND (d.status IS NULL OR d.status = 'retrying')"
        );
        let dead = format!(
            "SELECT count(*) FROM {p}deliveries WHERE endpoint_id = $1 AND status = 'dead'"
        );
        on_pool!(self.pool(), pl => {
            let pending: i64 = sqlx::query_scalar(&pending)
                .bind(endpoint_id)
                .bind(endpoint_id)
                .bind(since_ms)
                .fetch_one(pl)
                .await?;
            let dead: i64 = sqlx::query_scalar(&dead).bind(endpoint_id).fetch_one(pl).await?;
            Ok(EndpointBacklog { pending, dead })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Buckets;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn buckets_end_with_the_current_one() {
        let now = 100 * HOUR + 5;
        let b = Buckets::ending_at(now, HOUR, 168);
        assert_eq!(b.start_ms, (100 - 167) * HOUR);
        assert_eq!(b.end_ms(), 101 * HOUR);
        assert_eq!(b.index(now), Some(167));
        assert_eq!(b.index(b.start_ms), Some(0));
        assert_eq!(b.index(b.start_ms - 1), None);
        assert_eq!(b.index(101 * HOUR), None);
    }
}
