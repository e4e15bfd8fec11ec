//! Privacy queries on one account's orders: finding orders due for pseudonymization,
//! erasing their personal columns in bulk, erasing a subject's orders, counting for the
//! privacy summary, and purging erased bytes from the database files.
//!
//! Like the rest of the store this sees only ciphertexts, blind indexes and pseudonyms it
//! is handed; it never decrypts and never logs row values.

use sqlx::Row;

use super::{AccountStore, StoreError};

/// The columns a pseudonymization or erasure clears.
const ERASE_SET: &str = "shipping_ct = NULL, billing_ct = NULL, email_ct = NULL, \
    phone_ct = NULL, notes_ct = NULL, billing_email_ct = NULL, buyer_ct = NULL, \
    pickup_ct = NULL, email_index = NULL";

/// Whether a row still holds any personal data (ciphertext or index).
pub(super) const HAS_PERSONAL: &str = "(shipping_ct IS NOT NULL OR billing_ct IS NOT NULL OR \
    email_ct IS NOT NULL OR phone_ct IS NOT NULL OR notes_ct IS NOT NULL OR \
    billing_email_ct IS NOT NULL OR buyer_ct IS NOT NULL OR pickup_ct IS NOT NULL OR \
    email_index IS NOT NULL)";

/// When orders become due: fulfilled or cancelled at or before the retention cutoff, or
/// never fulfilled nor cancelled and placed at or before the maximum-age cutoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCutoffs {
    /// `now − retention` in Unix ms.
    pub closed_before_ms: i64,
    /// `now − maximum age` in Unix ms.
    pub placed_before_ms: i64,
}

/// SQL condition for [`DueCutoffs`], with its three parameters starting at `$first`.
pub(super) fn due_condition(first: usize) -> String {
    let (a, b, c) = (first, first + 1, first + 2);
    format!(
        "((fulfilled_at IS NOT NULL AND fulfilled_at <= ${a}) \
          OR (cancelled_at IS NOT NULL AND cancelled_at <= ${b}) \
          OR (fulfilled_at IS NULL AND cancelled_at IS NULL AND placed_at <= ${c}))"
    )
}

/// An order due for pseudonymization: what the sweep needs to compute its pseudonym.
#[derive(Clone)]
pub struct DueRow {
    pub id: i64,
    pub marketplace: String,
    pub order_number: String,
    pub email_ct: Option<Vec<u8>>,
}

impl std::fmt::Debug for DueRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DueRow({}/{})", self.marketplace, self.order_number)
    }
}

/// Order counts of one account for the privacy summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrivacyCounts {
    pub total: i64,
    pub with_personal_data: i64,
    pub pseudonymized: i64,
    pub overdue: i64,
}

impl AccountStore {
    /// Up to `limit` not yet pseudonymized orders that are due, with ids above
    /// `after_id`, in id order (keyset paging keeps a sweep linear in the due rows).
    pub async fn due_for_pseudonymization(
        &self,
        cutoffs: DueCutoffs,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<DueRow>, StoreError> {
        let sql = format!(
            "SELECT id, marketplace, order_number, email_ct FROM {}orders \
             WHERE pseudonymized_at IS NULL AND id > $1 AND {} ORDER BY id LIMIT $5",
            self.prefix(),
            due_condition(2)
        );
        on_pool!(self.pool(), p => {
            let rows = sqlx::query(&sql)
                .bind(after_id)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.placed_before_ms)
                .bind(limit)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(DueRow {
                        id: r.try_get("id")?,
                        marketplace: r.try_get("marketplace")?,
                        order_number: r.try_get("order_number")?,
                        email_ct: r.try_get("email_ct")?,
                    })
                })
                .collect()
        })
    }

    /// Pseudonymizes the given rows in one transaction: clears every personal column and
    /// the email index, stores the given pseudonym (or NULL), stamps `pseudonymized_at`.
    /// Rows already pseudonymized (by a concurrent sweep) are left alone and not counted,
    /// so the returned count is exact even if two processes raced.
    pub async fn pseudonymize_rows(
        &self,
        rows: &[(i64, Option<[u8; 32]>)],
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        if rows.is_empty() {
            return Ok(0);
        }
        self.pool()
            .pseudonymize_orders(self.prefix(), ERASE_SET, rows, now_ms)
            .await
    }

    /// Erases a data subject's orders completely: personal columns, email index and
    /// pseudonym. Marks them pseudonymized (keeping an earlier stamp), so a later
    /// marketplace update cannot bring the data back. Returns how many rows it changed.
    pub async fn erase_rows(&self, ids: &[i64], now_ms: i64) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {}orders SET {ERASE_SET}, pseudonym = NULL, \
             pseudonymized_at = COALESCE(pseudonymized_at, $1) WHERE id = $2",
            self.prefix()
        );
        let mut n = 0;
        on_pool!(self.pool(), p => {
            let mut tx = p.begin().await?;
            for id in ids {
                n += sqlx::query(&sql).bind(now_ms).bind(id).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// Totals for the privacy summary; `overdue` counts due orders that still hold
    /// personal data.
    pub async fn privacy_counts(&self, cutoffs: DueCutoffs) -> Result<PrivacyCounts, StoreError> {
        let sql = format!(
            "SELECT count(*) AS total, \
               CAST(COALESCE(SUM(CASE WHEN pseudonymized_at IS NULL AND {HAS_PERSONAL} THEN 1 ELSE 0 END), 0) AS BIGINT) AS personal, \
               CAST(COALESCE(SUM(CASE WHEN pseudonymized_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS pseudonymized, \
               CAST(COALESCE(SUM(CASE WHEN pseudonymized_at IS NULL AND {HAS_PERSONAL} AND {} THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue \
             FROM {}orders",
            due_condition(1),
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let r = sqlx::query(&sql)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.closed_before_ms)
                .bind(cutoffs.placed_before_ms)
                .fetch_one(p)
                .await?;
            Ok(PrivacyCounts {
                total: r.try_get("total")?,
                with_personal_data: r.try_get("personal")?,
                pseudonymized: r.try_get("pseudonymized")?,
                overdue: r.try_get("overdue")?,
            })
        })
    }

    /// Makes erased values unrecoverable from the database files (how, per backend: its
    /// `dialect.rs`, `purge`); retried while readers hold old pages. `rewrite` also
    /// rewrites the table where only that drops the old bytes (PostgreSQL's
    /// `VACUUM FULL`, which locks the account's orders while it runs).
    /// Whether [`AccountStore::purge_erased`] costs next to nothing when there is nothing
    /// to purge (a WAL checkpoint), so a sweep may run it every time.
    pub fn purge_is_cheap(&self) -> bool {
        self.pool().sql().purge_is_cheap()
    }

    /// Folds the write-ahead log of a long bulk update back into the database, so that it
    /// stays bounded while the update runs (where the backend keeps such a log in the
    /// store's own files: SQLite; elsewhere nothing). Waits for nobody.
    pub async fn fold_log(&self) -> Result<(), StoreError> {
        self.pool().fold_log().await
    }

    pub async fn purge_erased(&self, rewrite: bool) -> Result<(), StoreError> {
        for attempt in 0..20 {
            if self.pool().purge(self.prefix(), "orders", rewrite).await? {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 * (attempt + 1))).await;
        }
        Err(StoreError::Internal(
            "WAL checkpoint stayed busy; erased data is purged at the next sweep".into(),
        ))
    }
}
