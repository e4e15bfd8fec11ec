//! The transactional outbox and webhook delivery state of one account store.
//!
//! Events are written with the order upsert (same transaction). Delivery state is kept
//! per (endpoint, event); a per-endpoint floor marks everything below it as finished, so
//! the forwarder never rescans delivered history.

use serde::Serialize;
use sqlx::Row;

use super::tx::{on_tx, TxConn};
use super::{AccountStore, StoreError};

/// Rows per multi-row outbox insert.
const CHUNK: usize = 100;

/// Inserts `order.created` (version 1) or `order.updated` events for written rows.
pub(crate) async fn insert_events(
    tx: &mut TxConn<'_>,
    prefix: &str,
    written: &[(i64, i64)],
    now_ms: i64,
) -> Result<(), StoreError> {
    for chunk in written.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO {prefix}outbox (order_id, order_version, event_type, event_id, created_at) VALUES {}",
            tx.sql().value_rows(chunk.len(), 5, 0)
        );
        macro_rules! bind_all {
            ($q:expr) => {{
                let mut q = $q;
                for (order_id, version) in chunk {
                    let kind = if *version == 1 {
                        "order.created"
                    } else {
                        "order.updated"
                    };
                    q = q
                        .bind(*order_id)
                        .bind(*version)
                        .bind(kind)
                        .bind(event_id(*order_id, *version))
                        .bind(now_ms);
                }
                q
            }};
        }
        on_tx!(tx, t => {
            bind_all!(sqlx::query(&sql)).execute(&mut **t).await?;
        });
    }
    Ok(())
}

/// The `webhook-id` of an order event: stable across retries and replays, no personal data.
pub fn event_id(order_id: i64, version: i64) -> String {
    format!("evt_{order_id}_{version}")
}

/// An outbox event with what the forwarder needs to build its body.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEvent {
    pub id: i64,
    pub order_id: i64,
    pub order_version: i64,
    pub event_type: String,
    pub event_id: String,
    pub created_at: i64,
    /// Delivery state for the endpoint asked about (None: never attempted).
    pub attempts: i64,
    pub first_attempt_at: Option<i64>,
    pub next_attempt_at: Option<i64>,
    /// The shipment or cancellation a `shipment.*` / `cancellation.*` event is about.
    pub request_id: Option<i64>,
}

/// A dead-lettered delivery, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub event_id: String,
    pub event_type: String,
    pub marketplace: String,
    pub order_number: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub enum AttemptResult {
    Delivered,
    /// Try again at `next_at`.
    Retry {
        next_at: i64,
        status: Option<i64>,
        error: String,
    },
    /// Give up: dead-letter.
    Dead {
        status: Option<i64>,
        error: String,
    },
}

impl AccountStore {
    /// Unfinished events for an endpoint in outbox order, created at or after `since_ms`,
    /// starting at the endpoint's floor.
    pub async fn pending_events(
        &self,
        endpoint_id: &str,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let p = self.prefix();
        let sql = format!(
            "SELECT e.id, e.order_id, e.order_version, e.event_type, e.event_id, e.created_at, \
                COALESCE(d.attempts, 0) AS attempts, d.first_attempt_at, d.next_attempt_at, \
                e.request_id \
             FROM {p}outbox e \
             LEFT JOIN {p}deliveries d ON d.outbox_id = e.id AND d.endpoint_id = $1 \
             WHERE e.id >= COALESCE((SELECT floor FROM {p}delivery_floors WHERE endpoint_id = $1), 0) \
               AND e.created_at >= $2 \
               AND (d.status IS NULL OR d.status = 'retrying') \
             ORDER BY e.id LIMIT $3"
        );
        on_pool!(self.pool(), pl => {
            let rows = sqlx::query(&sql)
                .bind(endpoint_id)
                .bind(since_ms)
                .bind(limit)
                .fetch_all(pl)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(OutboxEvent {
                        id: r.try_get("id")?,
                        order_id: r.try_get("order_id")?,
                        order_version: r.try_get("order_version")?,
                        event_type: r.try_get("event_type")?,
                        event_id: r.try_get("event_id")?,
                        created_at: r.try_get("created_at")?,
                        attempts: r.try_get("attempts")?,
                        first_attempt_at: r.try_get("first_attempt_at")?,
                        next_attempt_at: r.try_get("next_attempt_at")?,
                        request_id: r.try_get("request_id")?,
                    })
                })
                .collect()
        })
    }

    /// Records an attempt's result for (endpoint, event).
    pub async fn record_attempt(
        &self,
        endpoint_id: &str,
        outbox_id: i64,
        result: &AttemptResult,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (status, next, code, error, delivered) = match result {
            AttemptResult::Delivered => ("delivered", None, Some(200i64), None, Some(now_ms)),
            AttemptResult::Retry {
                next_at,
                status,
                error,
            } => (
                "retrying",
                Some(*next_at),
                *status,
                Some(error.as_str()),
                None,
            ),
            AttemptResult::Dead { status, error } => {
                ("dead", None, *status, Some(error.as_str()), None)
            }
        };
        let sql = format!(
            "INSERT INTO {}deliveries AS d (endpoint_id, outbox_id, status, attempts, first_attempt_at, \
                last_attempt_at, next_attempt_at, last_status, last_error, delivered_at) \
             VALUES ($1, $2, $3, 1, $4, $4, $5, $6, $7, $8) \
             ON CONFLICT (endpoint_id, outbox_id) DO UPDATE SET status = excluded.status, \
                attempts = d.attempts + 1, \
                first_attempt_at = COALESCE(d.first_attempt_at, excluded.first_attempt_at), \
                last_attempt_at = excluded.last_attempt_at, next_attempt_at = excluded.next_attempt_at, \
                last_status = excluded.last_status, last_error = excluded.last_error, \
                delivered_at = excluded.delivered_at",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            sqlx::query(&sql)
                .bind(endpoint_id)
                .bind(outbox_id)
                .bind(status)
                .bind(now_ms)
                .bind(next)
                .bind(code)
                .bind(error)
                .bind(delivered)
                .execute(pl)
                .await?;
        });
        Ok(())
    }

    /// Moves the endpoint's floor past every finished event at its bottom.
    pub async fn advance_floor(&self, endpoint_id: &str) -> Result<(), StoreError> {
        let p = self.prefix();
        let sql = format!(
            "INSERT INTO {p}delivery_floors AS f (endpoint_id, floor) \
             SELECT $1, COALESCE( \
                (SELECT MIN(e.id) FROM {p}outbox e LEFT JOIN {p}deliveries d \
                   ON d.outbox_id = e.id AND d.endpoint_id = $1 \
                 WHERE e.id >= COALESCE((SELECT floor FROM {p}delivery_floors WHERE endpoint_id = $1), 0) \
                   AND (d.status IS NULL OR d.status = 'retrying')), \
                (SELECT COALESCE(MAX(id), 0) + 1 FROM {p}outbox)) \
             ON CONFLICT (endpoint_id) DO UPDATE SET floor = excluded.floor"
        );
        on_pool!(self.pool(), pl => {
            sqlx::query(&sql).bind(endpoint_id).execute(pl).await?;
        });
        Ok(())
    }

    /// Dead-lettered deliveries of an endpoint, newest first.
    pub async fn dead_letters(
        &self,
        endpoint_id: &str,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let p = self.prefix();
        let sql = format!(
            "SELECT e.event_id, e.event_type, o.marketplace, o.order_number, d.attempts, \
                d.last_status, d.last_error, d.last_attempt_at \
             FROM {p}deliveries d JOIN {p}outbox e ON e.id = d.outbox_id \
             JOIN {p}orders o ON o.id = e.order_id \
             WHERE d.endpoint_id = $1 AND d.status = 'dead' ORDER BY e.id DESC LIMIT $2"
        );
        on_pool!(self.pool(), pl => {
            let rows = sqlx::query(&sql).bind(endpoint_id).bind(limit).fetch_all(pl).await?;
            rows.iter()
                .map(|r| {
                    Ok(DeadLetter {
                        event_id: r.try_get("event_id")?,
                        event_type: r.try_get("event_type")?,
                        marketplace: r.try_get("marketplace")?,
                        order_number: r.try_get("order_number")?,
                        attempts: r.try_get("attempts")?,
                        last_status: r.try_get("last_status")?,
                        last_error: r.try_get("last_error")?,
                        last_attempt_at: r.try_get("last_attempt_at")?,
                    })
                })
                .collect()
        })
    }

    /// Queues events again for an endpoint: those of one order, or those created in a
    /// time range. Returns how many were re-queued. Receivers dedupe on the same ids.
    pub async fn replay(
        &self,
        endpoint_id: &str,
        order_number: Option<&str>,
        range_ms: Option<(i64, i64)>,
    ) -> Result<u64, StoreError> {
        let p = self.prefix();
        let (from, to) = range_ms.unwrap_or((i64::MIN, i64::MAX));
        let select = format!(
            "SELECT e.id FROM {p}outbox e JOIN {p}orders o ON o.id = e.order_id \
             WHERE ($1 IS NULL OR o.order_number = $1) AND e.created_at >= $2 AND e.created_at <= $3 \
             ORDER BY e.id"
        );
        let del = format!("DELETE FROM {p}deliveries WHERE endpoint_id = $1 AND outbox_id = $2");
        let floor = format!(
            "UPDATE {p}delivery_floors SET floor = $2 WHERE endpoint_id = $1 AND floor > $2"
        );
        on_pool!(self.pool(), pl => {
            let mut tx = pl.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(&select)
                .bind(order_number).bind(from).bind(to)
                .fetch_all(&mut *tx).await?;
            for id in &ids {
                sqlx::query(&del).bind(endpoint_id).bind(*id).execute(&mut *tx).await?;
            }
            if let Some(min) = ids.first() {
                sqlx::query(&floor).bind(endpoint_id).bind(*min).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(ids.len() as u64)
        })
    }

    /// Age in ms of the oldest event not yet delivered to `endpoint_id` (None: all done).
    pub async fn oldest_undelivered_ms(
        &self,
        endpoint_id: &str,
        since_ms: i64,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let events = self.pending_events(endpoint_id, since_ms, 1).await?;
        Ok(events.first().map(|e| now_ms - e.created_at))
    }
}

/// The delivery state of an order's latest event at one endpoint (support's view).
#[derive(Debug, Clone, Serialize)]
pub struct LatestDelivery {
    /// The order version the latest event carries.
    pub order_version: i64,
    pub event_created_at: i64,
    /// `delivered`, `retrying`, `dead`, or `None` when not attempted yet.
    pub status: Option<String>,
    pub attempts: i64,
    pub last_attempt_at: Option<i64>,
}

impl AccountStore {
    /// The latest outbox event of an order and its delivery state at `endpoint_id`
    /// (`None`: the order has no event). Uses the `(order_id, id)` index.
    pub async fn latest_delivery(
        &self,
        order_id: i64,
        endpoint_id: &str,
    ) -> Result<Option<LatestDelivery>, StoreError> {
        let p = self.prefix();
        let sql = format!(
            "SELECT e.order_version, e.created_at, d.status, COALESCE(d.attempts, 0) AS attempts, \
                d.last_attempt_at \
             FROM {p}outbox e LEFT JOIN {p}deliveries d ON d.outbox_id = e.id AND d.endpoint_id = $2 \
             WHERE e.order_id = $1 ORDER BY e.id DESC LIMIT 1"
        );
        on_pool!(self.pool(), pl => {
            let row = sqlx::query(&sql).bind(order_id).bind(endpoint_id).fetch_optional(pl).await?;
            match row {
                Some(r) => Ok(Some(LatestDelivery {
                    order_version: r.try_get(0)?,
                    event_created_at: r.try_get(1)?,
                    status: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    last_attempt_at: r.try_get(4)?,
                })),
                None => Ok(None),
            }
        })
    }
}
