//! One account's orders: idempotent upsert and reads of sealed (encrypted) rows.
//!
//! Upsert rules (each one a test): unique on (marketplace, order number); a newer
//! marketplace `updated_at` wins and an older or equal one changes nothing; a payload
//! that lacks a personal field keeps the stored ciphertext; a pseudonymized order never
//! gets personal data back.

use sqlx::{FromRow, Row};

use ordervault_connectors::{MarketplaceKind, OrderStatus};

use super::dialect::{Dialect, KeyLookup};
use super::tx::{on_tx, TxConn};
use super::{AccountStore, StoreError};

/// An order ready to store: business fields in clear, personal fields as ciphertext.
#[derive(Debug, Clone)]
pub struct SealedOrder {
    pub marketplace: MarketplaceKind,
    pub order_number: String,
    pub status: OrderStatus,
    pub placed_at: i64,
    pub updated_at: i64,
    pub fulfilled_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub currency: String,
    pub total_minor: i64,
    pub country_code: Option<String>,
    /// Order lines as JSON (business data).
    pub lines: String,
    /// `seller` or `marketplace` when the marketplace says.
    pub fulfilment_method: Option<&'static str>,
    /// Business terms as JSON (no personal data).
    pub terms: String,
    pub shipping_ct: Option<Vec<u8>>,
    pub billing_ct: Option<Vec<u8>>,
    pub email_ct: Option<Vec<u8>>,
    pub phone_ct: Option<Vec<u8>>,
    pub notes_ct: Option<Vec<u8>>,
    pub billing_email_ct: Option<Vec<u8>>,
    pub buyer_ct: Option<Vec<u8>>,
    pub pickup_ct: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
    /// The stored version this order was merged with: `Some(v)` writes only over
    /// version `v`, `Some(0)` only where no row exists yet, `None` unconditionally (for
    /// writers that do not merge). A write whose base moved meanwhile is refused
    /// (reported unchanged), so a merge made from a stale read never overwrites what a
    /// concurrent writer stored; the ingest path reads again and retries.
    pub base_version: Option<i64>,
}

/// A stored order row as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub marketplace: String,
    pub order_number: String,
    pub status: String,
    pub placed_at: i64,
    pub updated_at: i64,
    pub fulfilled_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub pseudonymized_at: Option<i64>,
    pub currency: String,
    pub total_minor: i64,
    pub country_code: Option<String>,
    pub lines: String,
    /// `None` on rows written before issue 14 and when the marketplace does not say.
    pub fulfilment_method: Option<String>,
    /// `None` on rows written before issue 14.
    pub terms: Option<String>,
    pub shipping_ct: Option<Vec<u8>>,
    pub billing_ct: Option<Vec<u8>>,
    pub email_ct: Option<Vec<u8>>,
    pub phone_ct: Option<Vec<u8>>,
    pub notes_ct: Option<Vec<u8>>,
    pub billing_email_ct: Option<Vec<u8>>,
    pub buyer_ct: Option<Vec<u8>>,
    pub pickup_ct: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
    pub pseudonym: Option<Vec<u8>>,
    pub version: i64,
    pub ingested_at: i64,
    pub changed_at: Option<i64>,
}

impl OrderRow {
    /// Every personal ciphertext column of the row, in one place, so that code which
    /// must look at all of them (reseal, restore, key checks) cannot miss one added later.
    pub fn personal_ciphertexts(&self) -> [&Option<Vec<u8>>; 8] {
        [
            &self.shipping_ct,
            &self.billing_ct,
            &self.email_ct,
            &self.phone_ct,
            &self.notes_ct,
            &self.billing_email_ct,
            &self.buyer_ct,
            &self.pickup_ct,
        ]
    }
}

/// What an upsert did to one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Inserted,
    Updated,
    /// Same or older marketplace update: nothing changed.
    Unchanged,
}

const ORDER_COLUMNS: &str = "id, marketplace, order_number, status, placed_at, updated_at, \
    fulfilled_at, cancelled_at, pseudonymized_at, currency, total_minor, country_code, lines, \
    fulfilment_method, terms, shipping_ct, billing_ct, email_ct, phone_ct, notes_ct, \
    billing_email_ct, buyer_ct, pickup_ct, email_index, pseudonym, version, ingested_at, \
    changed_at";

/// Rows per multi-row upsert statement: 24 parameters each stays far below SQLite's and
/// PostgreSQL's parameter limits, and full chunks reuse one prepared statement.
const UPSERT_CHUNK: usize = 64;
const UPSERT_PARAMS: usize = 25;

fn upsert_sql(p: &str, rows: usize, sql: &dyn Dialect) -> String {
    // Personal columns: keep the stored ciphertext when the payload lacks the field;
    // a pseudonymized row stays empty (CASE without ELSE yields NULL).
    let keep = |c: &str| {
        format!("{c} = CASE WHEN o.pseudonymized_at IS NULL THEN COALESCE(excluded.{c}, o.{c}) END")
    };
    let values = sql.value_rows(rows, UPSERT_PARAMS, 0);
    format!(
        "INSERT INTO {p}orders AS o (marketplace, order_number, status, placed_at, updated_at, \
            fulfilled_at, cancelled_at, currency, total_minor, country_code, lines, \
            fulfilment_method, terms, shipping_ct, billing_ct, email_ct, phone_ct, notes_ct, \
            billing_email_ct, buyer_ct, pickup_ct, email_index, base_version, ingested_at, \
            changed_at) \
         VALUES {values} \
         ON CONFLICT (marketplace, order_number) DO UPDATE SET \
            status = excluded.status, placed_at = excluded.placed_at, \
            updated_at = excluded.updated_at, fulfilled_at = excluded.fulfilled_at, \
            cancelled_at = excluded.cancelled_at, currency = excluded.currency, \
            total_minor = excluded.total_minor, country_code = excluded.country_code, \
            lines = excluded.lines, fulfilment_method = excluded.fulfilment_method, \
            terms = excluded.terms, {}, {}, {}, {}, {}, {}, {}, {}, {}, \
            version = o.version + 1, base_version = excluded.base_version, \
            changed_at = excluded.changed_at \
         WHERE excluded.updated_at > o.updated_at \
            AND (excluded.base_version IS NULL OR excluded.base_version = o.version) \
         RETURNING id, marketplace, order_number, version",
        keep("shipping_ct"),
        keep("billing_ct"),
        keep("email_ct"),
        keep("phone_ct"),
        keep("notes_ct"),
        keep("billing_email_ct"),
        keep("buyer_ct"),
        keep("pickup_ct"),
        keep("email_index"),
    )
}

/// Indexes of the orders to write: one per (marketplace, number), the newest update (the
/// later one on a tie). PostgreSQL refuses to touch a row twice in one statement, and the
/// older duplicates would change nothing anyway.
fn newest_per_key(orders: &[SealedOrder]) -> Vec<usize> {
    let mut best: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::with_capacity(orders.len());
    for (i, o) in orders.iter().enumerate() {
        best.entry((o.marketplace.as_str(), o.order_number.as_str()))
            .and_modify(|j| {
                if o.updated_at >= orders[*j].updated_at {
                    *j = i;
                }
            })
            .or_insert(i);
    }
    let mut keep: Vec<usize> = best.into_values().collect();
    keep.sort_unstable();
    keep
}

fn row_tuple<R: Row>(r: R) -> Result<(i64, String, String, i64), sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
}

/// What one upsert did: the row's id and version when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpsertResult {
    pub outcome: UpsertOutcome,
    /// Row id and new version when inserted or updated.
    pub written: Option<(i64, i64)>,
}

macro_rules! bind_sealed {
    ($q:expr, $o:expr, $now:expr) => {
        $q.bind($o.marketplace.as_str())
            .bind(&$o.order_number)
            .bind($o.status.as_str())
            .bind($o.placed_at)
            .bind($o.updated_at)
            .bind($o.fulfilled_at)
            .bind($o.cancelled_at)
            .bind(&$o.currency)
            .bind($o.total_minor)
            .bind(&$o.country_code)
            .bind(&$o.lines)
            .bind($o.fulfilment_method)
            .bind(&$o.terms)
            .bind(&$o.shipping_ct)
            .bind(&$o.billing_ct)
            .bind(&$o.email_ct)
            .bind(&$o.phone_ct)
            .bind(&$o.notes_ct)
            .bind(&$o.billing_email_ct)
            .bind(&$o.buyer_ct)
            .bind(&$o.pickup_ct)
            .bind(&$o.email_index)
            .bind($o.base_version)
            .bind($now)
            // changed_at starts equal to ingested_at
            .bind($now)
    };
}

fn outcome(version: Option<i64>) -> UpsertOutcome {
    match version {
        None => UpsertOutcome::Unchanged,
        Some(1) => UpsertOutcome::Inserted,
        Some(_) => UpsertOutcome::Updated,
    }
}

impl AccountStore {
    /// Upserts a batch in one transaction; returns what happened to each order, in order.
    pub async fn upsert_orders(
        &self,
        orders: &[SealedOrder],
        now_ms: i64,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let results = self.upsert_orders_detailed(orders, now_ms).await?;
        Ok(results.into_iter().map(|r| r.outcome).collect())
    }

    /// Like [`AccountStore::upsert_orders`], with the written row ids and versions, which
    /// the ingest path needs for the outbox.
    pub async fn upsert_orders_detailed(
        &self,
        orders: &[SealedOrder],
        now_ms: i64,
    ) -> Result<Vec<UpsertResult>, StoreError> {
        let mut tx = TxConn::begin(&self.pool).await?;
        let out = self.upsert_in_tx(&mut tx, orders, now_ms).await?;
        // The outbox events commit with the orders, or not at all.
        let events: Vec<(i64, i64)> = out.iter().filter_map(|r| r.written).collect();
        super::outbox::insert_events(&mut tx, self.prefix(), &events, now_ms).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Writes `orders` with multi-row upserts inside an open transaction `tx`.
    async fn upsert_in_tx(
        &self,
        tx: &mut TxConn<'_>,
        orders: &[SealedOrder],
        now_ms: i64,
    ) -> Result<Vec<UpsertResult>, StoreError> {
        let mut out = vec![
            UpsertResult {
                outcome: UpsertOutcome::Unchanged,
                written: None,
            };
            orders.len()
        ];
        let keep = newest_per_key(orders);
        let mut by_key: std::collections::HashMap<(&str, &str), usize> =
            std::collections::HashMap::with_capacity(keep.len());
        for &i in &keep {
            by_key.insert(
                (
                    orders[i].marketplace.as_str(),
                    orders[i].order_number.as_str(),
                ),
                i,
            );
        }
        let dialect = tx.sql();
        let full_sql = upsert_sql(self.prefix(), UPSERT_CHUNK, dialect);
        for chunk in keep.chunks(UPSERT_CHUNK) {
            let tail_sql;
            let sql = if chunk.len() == UPSERT_CHUNK {
                full_sql.as_str()
            } else {
                tail_sql = upsert_sql(self.prefix(), chunk.len(), dialect);
                tail_sql.as_str()
            };
            let rows = on_tx!(&mut *tx, t => {
                let mut q = sqlx::query(sql);
                for &i in chunk {
                    q = bind_sealed!(q, orders[i], now_ms);
                }
                q.fetch_all(&mut **t)
                    .await?
                    .into_iter()
                    .map(row_tuple)
                    .collect::<Result<Vec<_>, _>>()?
            });
            for (id, mp, num, version) in rows {
                if let Some(&i) = by_key.get(&(mp.as_str(), num.as_str())) {
                    out[i] = UpsertResult {
                        outcome: outcome(Some(version)),
                        written: Some((id, version)),
                    };
                }
            }
        }
        Ok(out)
    }

    /// The row with this id (outbox events refer to orders by id).
    pub async fn get_by_id(&self, id: i64) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE id = $1",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(Some(OrderRow::from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// Orders whose current version the backoffice has not acknowledged, oldest change
    /// first (pull mode). Re-fetching without an ack returns them again.
    pub async fn unacknowledged(&self, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders \
             WHERE acked_version IS NULL OR acked_version < version \
             ORDER BY changed_at, id LIMIT $1",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let rows = sqlx::query(&sql).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(OrderRow::from_row(r)?)).collect()
        })
    }

    /// Acknowledges an order up to `version` (its current one when `None`) with the
    /// backoffice's reference. Idempotent; never moves an ack backwards. Returns the row's
    /// (acked version, reference, acked at), or `None` if the order does not exist.
    pub async fn acknowledge(
        &self,
        id: i64,
        version: Option<i64>,
        reference: &str,
        now_ms: i64,
    ) -> Result<Option<(i64, Option<String>, Option<i64>)>, StoreError> {
        let p = &self.prefix;
        // min(requested, current): an ack can't reach past the version that exists.
        let least = self.pool().sql().least("COALESCE($4, version)", "version");
        let sql = format!(
            "UPDATE {p}orders SET \
                acked_at = CASE WHEN acked_version IS NULL OR acked_version < {least} THEN $1 ELSE acked_at END, \
                backoffice_ref = CASE WHEN acked_version IS NULL OR acked_version < {least} THEN $2 ELSE backoffice_ref END, \
                acked_version = CASE WHEN acked_version IS NULL OR acked_version < {least} THEN {least} ELSE acked_version END \
             WHERE id = $3 \
             RETURNING acked_version, backoffice_ref, acked_at"
        );
        on_pool!(&self.pool(), pl => {
            let row = sqlx::query(&sql)
                .bind(now_ms)
                .bind(reference)
                .bind(id)
                .bind(version)
                .fetch_optional(pl)
                .await?;
            match row {
                Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))),
                None => Ok(None),
            }
        })
    }

    /// The ack state of an order: (acked version, reference, acked at).
    pub async fn ack_state(
        &self,
        id: i64,
    ) -> Result<Option<(Option<i64>, Option<String>, Option<i64>)>, StoreError> {
        let sql = format!(
            "SELECT acked_version, backoffice_ref, acked_at FROM {}orders WHERE id = $1",
            self.prefix()
        );
        on_pool!(&self.pool(), pl => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pl).await?;
            match row {
                Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))),
                None => Ok(None),
            }
        })
    }

    /// Every order with this exact number (normally one; two marketplaces could share one).
    pub async fn find_by_number(&self, order_number: &str) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE order_number = $1 ORDER BY marketplace",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let rows = sqlx::query(&sql).bind(order_number).fetch_all(p).await?;
            rows.iter().map(|r| Ok(OrderRow::from_row(r)?)).collect()
        })
    }

    /// The order with this marketplace and number, if stored.
    pub async fn get(
        &self,
        marketplace: &str,
        order_number: &str,
    ) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE marketplace = $1 AND order_number = $2",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let row = sqlx::query(&sql).bind(marketplace).bind(order_number).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(Some(OrderRow::from_row(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// The stored rows of these orders of one marketplace (those that exist), for the
    /// per-field merge before an upsert. One query per call; callers pass a batch.
    ///
    /// Each number is one probe of the (marketplace, number) index whatever the table's
    /// statistics (see `postgres/dialect.rs`: a first sync was quadratic without it).
    pub async fn get_many(
        &self,
        marketplace: &str,
        order_numbers: &[&str],
    ) -> Result<Vec<OrderRow>, StoreError> {
        let table = format!("{}orders", self.prefix);
        let lookup = KeyLookup {
            columns: ORDER_COLUMNS,
            table: &table,
            fixed: &[("marketplace", marketplace)],
            key: "order_number",
        };
        self.pool().select_by_keys(&lookup, order_numbers).await
    }

    /// Orders whose email blind index equals `index`.
    pub async fn find_by_email_index(&self, index: &[u8]) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE email_index = $1 ORDER BY id",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let rows = sqlx::query(&sql).bind(index).fetch_all(p).await?;
            rows.iter().map(|r| Ok(OrderRow::from_row(r)?)).collect()
        })
    }

    /// Orders whose pseudonym equals `pseudonym` (a customer's pseudonymized orders).
    pub async fn find_by_pseudonym(&self, pseudonym: &[u8]) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE pseudonym = $1 ORDER BY id",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let rows = sqlx::query(&sql).bind(pseudonym).fetch_all(p).await?;
            rows.iter().map(|r| Ok(OrderRow::from_row(r)?)).collect()
        })
    }

    /// A page of orders by id (for exports and scans), ids greater than `after_id`.
    pub async fn list_after(&self, after_id: i64, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE id > $1 ORDER BY id LIMIT $2",
            self.prefix()
        );
        on_pool!(&self.pool(), p => {
            let rows = sqlx::query(&sql).bind(after_id).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(OrderRow::from_row(r)?)).collect()
        })
    }

    /// How many orders the account holds.
    pub async fn count_orders(&self) -> Result<i64, StoreError> {
        let sql = format!("SELECT count(*) FROM {}orders", self.prefix);
        on_pool!(&self.pool(), p => Ok(sqlx::query_scalar(&sql).fetch_one(p).await?))
    }
}
