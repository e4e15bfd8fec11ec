//! Pseudonymization leases and the audit of subject-rights requests. No personal data:
//! a subject appears only as a keyed hash.
//!
//! Why a lease row rather than `pg_try_advisory_lock`: advisory locks belong to a
//! session, and with pooled connections the lock would have to pin one connection for
//! the whole sweep; a lease row works the same on SQLite and PostgreSQL, survives a
//! crashed holder (it expires), and is the pattern the sync workers already use.

use serde::Serialize;
use sqlx::Row;

use super::{Catalog, StoreError};
use crate::ids::AccountId;

/// One subject-rights request as audited: who (account), what, when, how many orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivacyRequestRecord {
    pub id: String,
    pub account_id: AccountId,
    /// `export` or `erase`.
    pub kind: String,
    /// Keyed hash identifying the subject within the account (never the email).
    pub subject_hash: String,
    pub orders_found: i64,
    pub with_personal_data: i64,
    pub created_at: i64,
}

impl Catalog {
    /// Takes (or renews) the pseudonymization lease of an account until `until_ms`.
    /// Returns false while another owner holds an unexpired lease. One conditional
    /// UPDATE: of two racing processes exactly one sees a row affected.
    pub async fn claim_sweep_lease(
        &self,
        account: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let insert = format!(
            "INSERT INTO {}privacy_sweeps (account_id) VALUES ($1) ON CONFLICT (account_id) DO NOTHING",
            self.p
        );
        let claim = format!(
            "UPDATE {}privacy_sweeps SET lease_owner = $2, lease_until_ms = $3, \
                last_started_at = CASE WHEN lease_owner = $4 THEN last_started_at ELSE $5 END \
             WHERE account_id = $1 AND (lease_owner IS NULL OR lease_owner = $6 OR lease_until_ms < $7)",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&insert).bind(account).execute(p).await?;
            let done = sqlx::query(&claim)
                .bind(account)
                .bind(owner)
                .bind(until_ms)
                .bind(owner)
                .bind(now_ms)
                .bind(owner)
                .bind(now_ms)
                .execute(p)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Releases a lease held by `owner` and records the sweep's outcome.
    pub async fn finish_sweep(
        &self,
        account: &str,
        owner: &str,
        now_ms: i64,
        pseudonymized: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}privacy_sweeps SET lease_owner = NULL, lease_until_ms = NULL, \
                last_finished_at = $3, last_pseudonymized = $4 \
             WHERE account_id = $1 AND lease_owner = $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(account).bind(owner).bind(now_ms).bind(pseudonymized).execute(p).await?;
        });
        Ok(())
    }

    /// Releases a lease without recording an outcome (after a failed sweep).
    pub async fn release_sweep_lease(&self, account: &str, owner: &str) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}privacy_sweeps SET lease_owner = NULL, lease_until_ms = NULL \
             WHERE account_id = $1 AND lease_owner = $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(account).bind(owner).execute(p).await?;
        });
        Ok(())
    }

    /// When the last completed sweep of an account finished (Unix ms).
    pub async fn last_sweep(&self, account: &str) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT last_finished_at FROM {}privacy_sweeps WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let v: Option<Option<i64>> = sqlx::query_scalar(&sql).bind(account).fetch_optional(p).await?;
            Ok(v.flatten())
        })
    }

    /// When the last sweep of an account started (Unix ms), finished or not.
    pub async fn last_sweep_started(&self, account: &str) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT last_started_at FROM {}privacy_sweeps WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let v: Option<Option<i64>> = sqlx::query_scalar(&sql).bind(account).fetch_optional(p).await?;
            Ok(v.flatten())
        })
    }

    /// How many orders the last completed sweep of an account pseudonymized (0 if none).
    pub async fn last_sweep_changes(&self, account: &str) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT last_pseudonymized FROM {}privacy_sweeps WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let v: Option<Option<i64>> = sqlx::query_scalar(&sql).bind(account).fetch_optional(p).await?;
            Ok(v.flatten().unwrap_or(0))
        })
    }

    /// Records a subject export or erasure.
    pub async fn insert_privacy_request(&self, r: &PrivacyRequestRecord) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}privacy_requests (id, account_id, kind, subject_hash, orders_found, \
                with_personal_data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql)
                .bind(&r.id)
                .bind(r.account_id.as_str())
                .bind(&r.kind)
                .bind(&r.subject_hash)
                .bind(r.orders_found)
                .bind(r.with_personal_data)
                .bind(r.created_at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// An account's subject-rights requests, oldest first.
    pub async fn privacy_requests(
        &self,
        account: &str,
    ) -> Result<Vec<PrivacyRequestRecord>, StoreError> {
        let sql = format!(
            "SELECT id, account_id, kind, subject_hash, orders_found, with_personal_data, created_at \
             FROM {}privacy_requests WHERE account_id = $1 ORDER BY created_at, id",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(account).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(PrivacyRequestRecord {
                        id: r.try_get("id")?,
                        account_id: super::stored_id(r.try_get("account_id")?, "account id")?,
                        kind: r.try_get("kind")?,
                        subject_hash: r.try_get("subject_hash")?,
                        orders_found: r.try_get("orders_found")?,
                        with_personal_data: r.try_get("with_personal_data")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .collect()
        })
    }
}
