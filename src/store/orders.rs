//! One account's orders: idempotent upsert and reads of sealed (encrypted) rows.
//!
//! Upsert rules (each one a test): unique on (marketplace, order number); a newer
//! marketplace `updated_at` wins and an older or equal one changes nothing; a payload
//! that lacks a personal field keeps the stored ciphertext; a pseudonymized order never
//! gets personal data back.

use sqlx::Row;

use super::{Pool, StoreError};
use crate::ids::AccountId;

/// An order ready to store: business fields in clear, personal fields as ciphertext.
#[derive(Debug, Clone)]
pub struct SealedOrder {
    pub marketplace: &'static str,
    pub order_number: String,
    pub status: &'static str,
    pub placed_at: i64,
    pub updated_at: i64,
    pub fulfilled_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub currency: String,
    pub total_minor: i64,
    pub country_code: Option<String>,
    /// Order lines as JSON (business data).
    pub lines: String,
    pub shipping_ct: Option<Vec<u8>>,
    pub billing_ct: Option<Vec<u8>>,
    pub email_ct: Option<Vec<u8>>,
    pub phone_ct: Option<Vec<u8>>,
    pub notes_ct: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
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
    pub shipping_ct: Option<Vec<u8>>,
    pub billing_ct: Option<Vec<u8>>,
    pub email_ct: Option<Vec<u8>>,
    pub phone_ct: Option<Vec<u8>>,
    pub notes_ct: Option<Vec<u8>>,
    pub email_index: Option<Vec<u8>>,
    pub pseudonym: Option<Vec<u8>>,
    pub version: i64,
    pub ingested_at: i64,
    pub changed_at: Option<i64>,
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
    shipping_ct, billing_ct, email_ct, phone_ct, notes_ct, email_index, pseudonym, version, \
    ingested_at, changed_at";

fn upsert_sql(p: &str) -> String {
    // Personal columns: keep the stored ciphertext when the payload lacks the field;
    // a pseudonymized row stays empty (CASE without ELSE yields NULL).
    let keep = |c: &str| {
        format!("{c} = CASE WHEN o.pseudonymized_at IS NULL THEN COALESCE(excluded.{c}, o.{c}) END")
    };
    format!(
        "INSERT INTO {p}orders AS o (marketplace, order_number, status, placed_at, updated_at, \
            fulfilled_at, cancelled_at, currency, total_minor, country_code, lines, shipping_ct, \
            billing_ct, email_ct, phone_ct, notes_ct, email_index, ingested_at, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
         ON CONFLICT (marketplace, order_number) DO UPDATE SET \
            status = excluded.status, placed_at = excluded.placed_at, \
            updated_at = excluded.updated_at, fulfilled_at = excluded.fulfilled_at, \
            cancelled_at = excluded.cancelled_at, currency = excluded.currency, \
            total_minor = excluded.total_minor, country_code = excluded.country_code, \
            lines = excluded.lines, {}, {}, {}, {}, {}, {}, \
            version = o.version + 1, changed_at = excluded.changed_at \
         WHERE excluded.updated_at > o.updated_at \
         RETURNING version",
        keep("shipping_ct"),
        keep("billing_ct"),
        keep("email_ct"),
        keep("phone_ct"),
        keep("notes_ct"),
        keep("email_index"),
    )
}

macro_rules! bind_sealed {
    ($q:expr, $o:expr, $now:expr) => {
        $q.bind($o.marketplace)
            .bind(&$o.order_number)
            .bind($o.status)
            .bind($o.placed_at)
            .bind($o.updated_at)
            .bind($o.fulfilled_at)
            .bind($o.cancelled_at)
            .bind(&$o.currency)
            .bind($o.total_minor)
            .bind(&$o.country_code)
            .bind(&$o.lines)
            .bind(&$o.shipping_ct)
            .bind(&$o.billing_ct)
            .bind(&$o.email_ct)
            .bind(&$o.phone_ct)
            .bind(&$o.notes_ct)
            .bind(&$o.email_index)
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
            shipping_ct: $r.try_get("shipping_ct")?,
            billing_ct: $r.try_get("billing_ct")?,
            email_ct: $r.try_get("email_ct")?,
            phone_ct: $r.try_get("phone_ct")?,
            notes_ct: $r.try_get("notes_ct")?,
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
        let sql = upsert_sql(&self.prefix);
        let mut out = Vec::with_capacity(orders.len());
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            for o in orders {
                let v: Option<i64> = bind_sealed!(sqlx::query_scalar(&sql), o, now_ms)
                    .fetch_optional(&mut *tx)
                    .await?;
                out.push(outcome(v));
            }
            tx.commit().await?;
        });
        Ok(out)
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
