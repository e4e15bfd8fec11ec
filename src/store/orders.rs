//! One account's orders: idempotent upsert and reads of sealed (encrypted) rows.
//!
//! Upsert rules (each one a test): unique on (marketplace, order number); a newer
//! marketplace `updated_at` wins and an older or equal one changes nothing; a payload
//! that lacks a personal field keeps the stored ciphertext; a pseudonymized order never
//! gets personal data back.

use sqlx::Row;

use ordervault_connectors::{MarketplaceKind, OrderStatus};

use super::{Pool, StoreError};
use crate::ids::AccountId;

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
#[derive(Debug, Clone)]
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

/// Handle on one account's store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AccountStore {
    account: AccountId,
    pool: Pool,
    /// Table-name prefix: `""` (SQLite file) or `"acct_<id>".` (PostgreSQL schema).
    prefix: String,
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

fn upsert_sql(p: &str, rows: usize, numbered: bool) -> String {
    // Personal columns: keep the stored ciphertext when the payload lacks the field;
    // a pseudonymized row stays empty (CASE without ELSE yields NULL).
    let keep = |c: &str| {
        format!("{c} = CASE WHEN o.pseudonymized_at IS NULL THEN COALESCE(excluded.{c}, o.{c}) END")
    };
    let mut values = String::with_capacity(rows * 80);
    for r in 0..rows {
        let b = r * UPSERT_PARAMS;
        if r > 0 {
            values.push_str(", ");
        }
        values.push('(');
        // SQLite gets anonymous `?`: sqlx resolves numbered names with a lookup per
        // parameter that is linear in the statement's parameter count.
        for i in 1..=UPSERT_PARAMS {
            let sep = if i == UPSERT_PARAMS { ")" } else { ", " };
            if numbered {
                values.push_str(&format!("${}{sep}", b + i));
            } else {
                values.push('?');
                values.push_str(sep);
            }
        }
    }
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

/// An open transaction on either backend.
pub(crate) enum TxConn<'a> {
    Sqlite(sqlx::Transaction<'a, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'a, sqlx::Postgres>),
}

impl TxConn<'static> {
    pub(crate) async fn begin(pool: &Pool) -> Result<Self, StoreError> {
        Ok(match pool {
            Pool::Sqlite(p) => Self::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Self::Postgres(p.begin().await?),
        })
    }
}

impl TxConn<'_> {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(t) => t.commit().await?,
            Self::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
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

macro_rules! order_row {
    ($r:expr) => {
        OrderRow {
            id: $r.try_get("id")?,
            marketplace: $r.try_get("marketplace")?,
            order_number: $r.try_get("order_number")?,
            status: $r.try_get("status")?,
            placed_at: $r.try_get("placed_at")?,
            updated_at: $r.try_get("updated_at")?,
            fulfilled_at: $r.try_get("fulfilled_at")?,
            cancelled_at: $r.try_get("cancelled_at")?,
            pseudonymized_at: $r.try_get("pseudonymized_at")?,
            currency: $r.try_get("currency")?,
            total_minor: $r.try_get("total_minor")?,
            country_code: $r.try_get("country_code")?,
            lines: $r.try_get("lines")?,
            fulfilment_method: $r.try_get("fulfilment_method")?,
            terms: $r.try_get("terms")?,
            shipping_ct: $r.try_get("shipping_ct")?,
            billing_ct: $r.try_get("billing_ct")?,
            email_ct: $r.try_get("email_ct")?,
            phone_ct: $r.try_get("phone_ct")?,
            notes_ct: $r.try_get("notes_ct")?,
            billing_email_ct: $r.try_get("billing_email_ct")?,
            buyer_ct: $r.try_get("buyer_ct")?,
            pickup_ct: $r.try_get("pickup_ct")?,
            email_index: $r.try_get("email_index")?,
            pseudonym: $r.try_get("pseudonym")?,
            version: $r.try_get("version")?,
            ingested_at: $r.try_get("ingested_at")?,
            changed_at: $r.try_get("changed_at")?,
        }
    };
}

impl AccountStore {
    pub(super) fn new(account: AccountId, pool: Pool, prefix: String) -> Self {
        Self {
            account,
            pool,
            prefix,
        }
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// This store through a connection of its own (SQLite; the same pool on PostgreSQL),
    /// for a sync that reads and writes many batches in turn: its page cache stays warm
    /// between transactions (see [`Pool::dedicated_writer`]). Dropped with the handle.
    pub async fn for_bulk_writes(&self) -> Result<AccountStore, StoreError> {
        Ok(Self {
            account: self.account.clone(),
            pool: self.pool.dedicated_writer().await?,
            prefix: self.prefix.clone(),
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Prefix for table names in hand-written queries of other modules.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

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
        super::outbox::insert_events(&mut tx, &self.prefix, &events, now_ms).await?;
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
        let numbered = matches!(tx, TxConn::Postgres(_));
        let full_sql = upsert_sql(&self.prefix, UPSERT_CHUNK, numbered);
        for chunk in keep.chunks(UPSERT_CHUNK) {
            let tail_sql;
            let sql = if chunk.len() == UPSERT_CHUNK {
                full_sql.as_str()
            } else {
                tail_sql = upsert_sql(&self.prefix, chunk.len(), numbered);
                tail_sql.as_str()
            };
            let rows = match tx {
                TxConn::Sqlite(t) => {
                    let mut q = sqlx::query(sql);
                    for &i in chunk {
                        q = bind_sealed!(q, orders[i], now_ms);
                    }
                    q.fetch_all(&mut **t)
                        .await?
                        .into_iter()
                        .map(row_tuple)
                        .collect::<Result<Vec<_>, _>>()?
                }
                TxConn::Postgres(t) => {
                    let mut q = sqlx::query(sql);
                    for &i in chunk {
                        q = bind_sealed!(q, orders[i], now_ms);
                    }
                    q.fetch_all(&mut **t)
                        .await?
                        .into_iter()
                        .map(row_tuple)
                        .collect::<Result<Vec<_>, _>>()?
                }
            };
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
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(Some(order_row!(r))),
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
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(order_row!(r))).collect()
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
        let sql = format!(
            "UPDATE {p}orders SET \
                acked_at = CASE WHEN acked_version IS NULL OR acked_version < LEAST_V THEN $1 ELSE acked_at END, \
                backoffice_ref = CASE WHEN acked_version IS NULL OR acked_version < LEAST_V THEN $2 ELSE backoffice_ref END, \
                acked_version = CASE WHEN acked_version IS NULL OR acked_version < LEAST_V THEN LEAST_V ELSE acked_version END \
             WHERE id = $3 \
             RETURNING acked_version, backoffice_ref, acked_at"
        );
        // min(requested, current): an ack can't reach past the version that exists.
        let least = match self.pool {
            Pool::Sqlite(_) => "MIN(COALESCE($4, version), version)",
            Pool::Postgres(_) => "LEAST(COALESCE($4, version), version)",
        };
        let sql = sql.replace("LEAST_V", least);
        on_pool!(&self.pool, pl => {
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
            self.prefix
        );
        on_pool!(&self.pool, pl => {
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
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(order_number).fetch_all(p).await?;
            rows.iter().map(|r| Ok(order_row!(r))).collect()
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
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&sql).bind(marketplace).bind(order_number).fetch_optional(p).await?;
            match row {
                Some(r) => Ok(Some(order_row!(r))),
                None => Ok(None),
            }
        })
    }

    /// The stored rows of these orders of one marketplace (those that exist), for the
    /// per-field merge before an upsert. One query per call; callers pass a batch.
    ///
    /// On PostgreSQL each number is one probe of the (marketplace, number) index (a
    /// lateral join over the numbers), whatever the table's statistics: with
    /// `order_number IN (…)` on a table never analyzed (a first sync, autovacuum off) the
    /// planner walked every stored order of the marketplace per call and filtered the
    /// list, which made a first sync quadratic in its orders (issue 18).
    pub async fn get_many(
        &self,
        marketplace: &str,
        order_numbers: &[&str],
    ) -> Result<Vec<OrderRow>, StoreError> {
        if order_numbers.is_empty() {
            return Ok(Vec::new());
        }
        match &self.pool {
            Pool::Postgres(p) => {
                let sql = format!(
                    "SELECT k.* FROM unnest($2::text[]) AS s(wanted) CROSS JOIN LATERAL \
                     (SELECT {ORDER_COLUMNS} FROM {}orders \
                      WHERE marketplace = $1 AND order_number = s.wanted OFFSET 0) k",
                    self.prefix
                );
                let rows = sqlx::query(&sql)
                    .bind(marketplace)
                    .bind(order_numbers)
                    .fetch_all(p)
                    .await?;
                rows.iter().map(|r| Ok(order_row!(r))).collect()
            }
            Pool::Sqlite(p) => {
                // Anonymous parameters: sqlx resolves numbered ones with a lookup per
                // parameter that is linear in their count.
                let sql = format!(
                    "SELECT {ORDER_COLUMNS} FROM {}orders WHERE marketplace = ? AND order_number IN ({})",
                    self.prefix,
                    vec!["?"; order_numbers.len()].join(", ")
                );
                let mut q = sqlx::query(&sql).bind(marketplace);
                for n in order_numbers {
                    q = q.bind(*n);
                }
                let rows = q.fetch_all(p).await?;
                rows.iter().map(|r| Ok(order_row!(r))).collect()
            }
        }
    }

    /// Orders whose email blind index equals `index`.
    pub async fn find_by_email_index(&self, index: &[u8]) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE email_index = $1 ORDER BY id",
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(index).fetch_all(p).await?;
            rows.iter().map(|r| Ok(order_row!(r))).collect()
        })
    }

    /// Orders whose pseudonym equals `pseudonym` (a customer's pseudonymized orders).
    pub async fn find_by_pseudonym(&self, pseudonym: &[u8]) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE pseudonym = $1 ORDER BY id",
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(pseudonym).fetch_all(p).await?;
            rows.iter().map(|r| Ok(order_row!(r))).collect()
        })
    }

    /// A page of orders by id (for exports and scans), ids greater than `after_id`.
    pub async fn list_after(&self, after_id: i64, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {}orders WHERE id > $1 ORDER BY id LIMIT $2",
            self.prefix
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(after_id).bind(limit).fetch_all(p).await?;
            rows.iter().map(|r| Ok(order_row!(r))).collect()
        })
    }

    /// How many orders the account holds.
    pub async fn count_orders(&self) -> Result<i64, StoreError> {
        let sql = format!("SELECT count(*) FROM {}orders", self.prefix);
        on_pool!(&self.pool, p => Ok(sqlx::query_scalar(&sql).fetch_one(p).await?))
    }
}
