//! Shipments and cancellations of one account store: the request rows that are at once
//! the backoffice's record and the outbox the pusher delivers to the marketplace.
//!
//! A request is checked against the order and its earlier requests and inserted in one
//! transaction that holds the order's write lock, so two concurrent requests can never
//! both take the same open units. Finishing a request (accepted / rejected) bumps the
//! order's version and writes its webhook event in one transaction, so pull mode and
//! webhooks see it together. Stores business data only.

use sqlx::Row;

use super::tx::{on_tx, TxConn};
use super::{AccountStore, StoreError};

/// A shipment or a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    Shipment,
    Cancellation,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shipment => "shipment",
            Self::Cancellation => "cancellation",
        }
    }
}

/// A request as the API accepted it, ready to store.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub order_id: i64,
    pub marketplace: String,
    pub order_number: String,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub shipped_at: Option<i64>,
    pub reason: Option<String>,
    pub reference: Option<String>,
}

/// A stored request and where its delivery stands.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: i64,
    pub kind: String,
    pub order_id: i64,
    pub marketplace: String,
    pub order_number: String,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub lines: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub shipped_at: Option<i64>,
    pub reason: Option<String>,
    pub reference: Option<String>,
    /// `pending`, `sent`, `accepted`, `rejected` or `failed`.
    pub state: String,
    pub marketplace_ref: Option<String>,
    pub process_ids: Option<String>,
    pub reject_reason: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One request to finish, for [`AccountStore::finish_requests`].
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    pub id: i64,
    /// `accepted`, `rejected` or `failed`.
    pub state: &'a str,
    pub marketplace_ref: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// What an insert did.
#[derive(Debug, Clone)]
pub enum Inserted {
    Created(RequestRow),
    /// The idempotency key was used before: the earlier request, unchanged.
    Existing(RequestRow),
}

const COLUMNS: &str = "id, kind, order_id, marketplace, order_number, idempotency_key, \
    request_hash, lines, carrier, tracking_number, shipped_at, reason, reference, \
    state, marketplace_ref, process_ids, reject_reason, attempts, next_attempt_at, last_error, \
    created_at, updated_at";

macro_rules! request_row {
    ($r:expr) => {
        RequestRow {
            id: $r.try_get("id")?,
            kind: $r.try_get("kind")?,
            order_id: $r.try_get("order_id")?,
            marketplace: $r.try_get("marketplace")?,
            order_number: $r.try_get("order_number")?,
            idempotency_key: $r.try_get("idempotency_key")?,
            request_hash: $r.try_get("request_hash")?,
            lines: $r.try_get("lines")?,
            carrier: $r.try_get("carrier")?,
            tracking_number: $r.try_get("tracking_number")?,
            shipped_at: $r.try_get("shipped_at")?,
            reason: $r.try_get("reason")?,
            reference: $r.try_get("reference")?,
            state: $r.try_get("state")?,
            marketplace_ref: $r.try_get("marketplace_ref")?,
            process_ids: $r.try_get("process_ids")?,
            reject_reason: $r.try_get("reject_reason")?,
            attempts: $r.try_get("attempts")?,
            next_attempt_at: $r.try_get("next_attempt_at")?,
            last_error: $r.try_get("last_error")?,
            created_at: $r.try_get("created_at")?,
            updated_at: $r.try_get("updated_at")?,
        }
    };
}

impl AccountStore {
    /// Inserts a request after `check` approved it against the order's current lines
    /// (JSON) and its earlier requests, all under the order's write lock; `check` returns
    /// the request's lines (`[{"line_id": …, "quantity": …}]`). With an idempotency key
    /// already used for this kind, returns the earlier request instead.
    /// `Ok(Err(e))`: `check` refused.
    pub async fn insert_request<E>(
        &self,
        new: &NewRequest,
        now_ms: i64,
        check: impl FnOnce(&str, &[RequestRow]) -> Result<String, E>,
    ) -> Result<Result<Inserted, E>, StoreError> {
        let p = self.prefix().to_owned();
        let lock = self.pool().sql().lock_row(&format!("{p}orders"), "lines");
        let by_key = format!(
            "SELECT {COLUMNS} FROM {p}fulfilment_requests WHERE kind = $1 AND idempotency_key = $2"
        );
        let of_order =
            format!("SELECT {COLUMNS} FROM {p}fulfilment_requests WHERE order_id = $1 ORDER BY id");
        let insert = format!(
            "INSERT INTO {p}fulfilment_requests (kind, order_id, marketplace, order_number, \
                idempotency_key, request_hash, lines, carrier, tracking_number, \
                shipped_at, reason, reference, state, attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', 0, $13, $13, $13) \
             RETURNING {COLUMNS}"
        );
        let mut tx = TxConn::begin(self.pool()).await?;
        let result = on_tx!(&mut tx, t => {
            let lines: Option<String> = sqlx::query_scalar(&lock)
                .bind(new.order_id)
                .fetch_optional(&mut **t)
                .await?;
            let Some(lines) = lines else {
                return Err(StoreError::Corrupt("request for an order that does not exist".into()));
            };
            if let Some(key) = &new.idempotency_key {
                let found = sqlx::query(&by_key)
                    .bind(new.kind.as_str())
                    .bind(key)
                    .fetch_optional(&mut **t)
                    .await?;
                if let Some(r) = found {
                    Ok(Inserted::Existing(request_row!(r)))
                } else {
                    Err(lines)
                }
            } else {
                Err(lines)
            }
        });
        let lines = match result {
            Ok(existing) => {
                tx.commit().await?;
                return Ok(Ok(existing));
            }
            Err(lines) => lines,
        };
        let earlier: Vec<RequestRow> = on_tx!(&mut tx, t => {
            let rows = sqlx::query(&of_order).bind(new.order_id).fetch_all(&mut **t).await?;
            rows.iter().map(|r| Ok(request_row!(r))).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let lines = match check(&lines, &earlier) {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        let row = on_tx!(&mut tx, t => {
            let r = sqlx::query(&insert)
                .bind(new.kind.as_str())
                .bind(new.order_id)
                .bind(&new.marketplace)
                .bind(&new.order_number)
                .bind(&new.idempotency_key)
                .bind(&new.request_hash)
                .bind(&lines)
                .bind(&new.carrier)
                .bind(&new.tracking_number)
                .bind(new.shipped_at)
                .bind(&new.reason)
                .bind(&new.reference)
                .bind(now_ms)
                .fetch_one(&mut **t)
                .await?;
            request_row!(r)
        });
        tx.commit().await?;
        Ok(Ok(Inserted::Created(row)))
    }

    /// Every request of an order, oldest first.
    pub async fn requests_for_order(&self, order_id: i64) -> Result<Vec<RequestRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}fulfilment_requests WHERE order_id = $1 ORDER BY id",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            let rows = sqlx::query(&sql).bind(order_id).fetch_all(pl).await?;
            rows.iter().map(|r| Ok(request_row!(r))).collect()
        })
    }

    /// One request by id.
    pub async fn request(&self, id: i64) -> Result<Option<RequestRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}fulfilment_requests WHERE id = $1",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pl).await?;
            match row {
                Some(r) => Ok(Some(request_row!(r))),
                None => Ok(None),
            }
        })
    }

    /// Requests due for an attempt, oldest first: unfinished, due, not leased, and the
    /// oldest unfinished request of their order (requests of one order go in order).
    pub async fn due_requests(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let p = self.prefix();
        let sql = format!(
            "SELECT {COLUMNS} FROM {p}fulfilment_requests r \
             WHERE r.state IN ('pending', 'sent') AND r.next_attempt_at <= $1 \
               AND (r.lease_until IS NULL OR r.lease_until < $1) \
               AND NOT EXISTS (SELECT 1 FROM {p}fulfilment_requests e \
                   WHERE e.order_id = r.order_id AND e.id < r.id AND e.state IN ('pending', 'sent')) \
             ORDER BY r.next_attempt_at, r.id LIMIT $2"
        );
        on_pool!(self.pool(), pl => {
            let rows = sqlx::query(&sql).bind(now_ms).bind(limit).fetch_all(pl).await?;
            rows.iter().map(|r| Ok(request_row!(r))).collect()
        })
    }

    /// Takes a request for one attempt until `lease_until_ms`, marking it `sent` before
    /// anything goes out. False when another worker holds it or it is finished.
    pub async fn claim_request(
        &self,
        id: i64,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}fulfilment_requests SET state = 'sent', attempts = attempts + 1, \
                lease_until = $3, updated_at = $2 \
             WHERE id = $1 AND state IN ('pending', 'sent') \
               AND (lease_until IS NULL OR lease_until < $2)",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            let done = sqlx::query(&sql).bind(id).bind(now_ms).bind(lease_until_ms).execute(pl).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Schedules the next attempt (a transient failure, or a process still running at the
    /// marketplace whose ids are kept in `process_ids`).
    pub async fn reschedule_request(
        &self,
        id: i64,
        next_at_ms: i64,
        error: Option<&str>,
        process_ids: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}fulfilment_requests SET next_attempt_at = $2, lease_until = NULL, \
                last_error = COALESCE($3, last_error), process_ids = COALESCE($4, process_ids), \
                updated_at = $5 \
             WHERE id = $1 AND state IN ('pending', 'sent')",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            sqlx::query(&sql)
                .bind(id)
                .bind(next_at_ms)
                .bind(error)
                .bind(process_ids)
                .bind(now_ms)
                .execute(pl)
                .await?;
        });
        Ok(())
    }

    /// Finishes a request as `accepted`, `rejected` or `failed`. Accepted and rejected
    /// requests bump the order's version (pull mode shows the order again) and write their
    /// webhook event for that version (`webhook-id` `evt_<order>_<version>`, like every
    /// order event), in the same transaction. Returns false if it was already finished.
    pub async fn finish_request(
        &self,
        id: i64,
        state: &str,
        marketplace_ref: Option<&str>,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = self
            .finish_requests(
                &[Finish {
                    id,
                    state,
                    marketplace_ref,
                    reason,
                }],
                now_ms,
            )
            .await?;
        Ok(done == 1)
    }

    /// [`AccountStore::finish_request`] for many requests in one transaction (one commit
    /// per pusher batch, not per request). Returns how many were finished now.
    pub async fn finish_requests(
        &self,
        items: &[Finish<'_>],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        if items.is_empty() {
            return Ok(0);
        }
        let p = self.prefix().to_owned();
        let finish = format!(
            "UPDATE {p}fulfilment_requests SET state = $2, marketplace_ref = COALESCE($3, marketplace_ref), \
                reject_reason = $4, lease_until = NULL, process_ids = NULL, updated_at = $5 \
             WHERE id = $1 AND state IN ('pending', 'sent') RETURNING order_id, kind"
        );
        let bump = format!(
            "UPDATE {p}orders SET version = version + 1, changed_at = $2 WHERE id = $1 RETURNING version"
        );
        let event = format!(
            "INSERT INTO {p}outbox (order_id, order_version, event_type, event_id, created_at, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        );
        let mut tx = TxConn::begin(self.pool()).await?;
        let mut done = 0u64;
        for f in items {
            on_tx!(&mut tx, t => {
                let row = sqlx::query(&finish)
                    .bind(f.id)
                    .bind(f.state)
                    .bind(f.marketplace_ref)
                    .bind(f.reason)
                    .bind(now_ms)
                    .fetch_optional(&mut **t)
                    .await?;
                if let Some(row) = row {
                    done += 1;
                    let order_id: i64 = row.try_get(0)?;
                    let kind: String = row.try_get(1)?;
                    if f.state == "accepted" || f.state == "rejected" {
                        let version: Option<i64> = sqlx::query_scalar(&bump)
                            .bind(order_id)
                            .bind(now_ms)
                            .fetch_optional(&mut **t)
                            .await?;
                        if let Some(version) = version {
                            sqlx::query(&event)
                                .bind(order_id)
                                .bind(version)
                                .bind(format!("{kind}.{}", f.state))
                                .bind(super::outbox::event_id(order_id, version))
                                .bind(now_ms)
                                .bind(f.id)
                                .execute(&mut **t)
                                .await?;
                        }
                    }
                }
            });
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Takes many requests for one attempt each (one statement); returns the ids taken.
    pub async fn claim_requests(
        &self,
        ids: &[i64],
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE {}fulfilment_requests SET state = 'sent', attempts = attempts + 1, \
                lease_until = $2, updated_at = $1 \
             WHERE id IN ({list}) AND state IN ('pending', 'sent') \
               AND (lease_until IS NULL OR lease_until < $1) RETURNING id",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            let ids: Vec<i64> = sqlx::query_scalar(&sql)
                .bind(now_ms)
                .bind(lease_until_ms)
                .fetch_all(pl)
                .await?;
            Ok(ids)
        })
    }

    /// How many requests are in each state (benchmarks, metrics).
    pub async fn request_states(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = format!(
            "SELECT state, count(*) FROM {}fulfilment_requests GROUP BY state ORDER BY state",
            self.prefix()
        );
        on_pool!(self.pool(), pl => {
            let rows = sqlx::query(&sql).fetch_all(pl).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }
}
