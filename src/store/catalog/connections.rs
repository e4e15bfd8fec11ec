//! Marketplace connections: credentials (ciphertext), schedule, cursor, status and the
//! lease that keeps two workers from syncing one connection at once.

use serde::Serialize;
use sqlx::Row;

use super::Catalog;
use crate::ids::{AccountId, ConnectionId};
use crate::store::StoreError;

/// Lifecycle of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Synced on its interval.
    Active,
    /// The marketplace rejected the credentials; a human must re-authorize.
    NeedsReauth,
    /// Stopped by the seller or an operator.
    Paused,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReauth => "needs_reauth",
            Self::Paused => "paused",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "active" => Self::Active,
            "needs_reauth" => Self::NeedsReauth,
            "paused" => Self::Paused,
            other => return Err(StoreError::Corrupt(format!("connection status {other:?}"))),
        })
    }
}

/// A connection as the catalog holds it, without its credentials.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionRecord {
    pub id: ConnectionId,
    pub account_id: AccountId,
    pub marketplace: String,
    pub base_url: Option<String>,
    /// The connection's settings as JSON (`ordervault_connectors::ConnectionSettings`);
    /// `None` on connections made before settings existed.
    #[serde(skip)]
    pub settings: Option<String>,
    /// The rates the marketplace announced to this connection, as JSON
    /// (`ordervault_connectors::AnnouncedRates`); `None` until it announced any.
    #[serde(skip)]
    pub announced_rates: Option<String>,
    pub interval_secs: i64,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub cursor_ms: Option<i64>,
    pub last_reconciled_ms: Option<i64>,
    pub next_run_ms: i64,
    pub last_run_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub last_error: Option<String>,
    pub consecutive_failures: i64,
    pub orders_synced: i64,
    #[serde(skip)]
    pub lease_owner: Option<String>,
    #[serde(skip)]
    pub lease_until_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, account_id, marketplace, base_url, settings, announced_rates, interval_secs, status, \
    status_reason, cursor_ms, last_reconciled_ms, next_run_ms, last_run_ms, last_success_ms, \
    last_error, consecutive_failures, orders_synced, lease_owner, lease_until_ms, created_at, \
    updated_at";

fn record<R: Row>(r: &R) -> Result<ConnectionRecord, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    Ok(ConnectionRecord {
        id: super::stored_id(r.try_get("id")?, "connection id")?,
        account_id: super::stored_account_id(r.try_get("account_id")?)?,
        marketplace: r.try_get("marketplace")?,
        base_url: r.try_get("base_url")?,
        settings: r.try_get("settings")?,
        announced_rates: r.try_get("announced_rates")?,
        interval_secs: r.try_get("interval_secs")?,
        status: ConnectionStatus::parse(&status)?,
        status_reason: r.try_get("status_reason")?,
        cursor_ms: r.try_get("cursor_ms")?,
        last_reconciled_ms: r.try_get("last_reconciled_ms")?,
        next_run_ms: r.try_get("next_run_ms")?,
        last_run_ms: r.try_get("last_run_ms")?,
        last_success_ms: r.try_get("last_success_ms")?,
        last_error: r.try_get("last_error")?,
        consecutive_failures: r.try_get("consecutive_failures")?,
        orders_synced: r.try_get("orders_synced")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_until_ms: r.try_get("lease_until_ms")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// How a sync run ended, as recorded on the connection.
#[derive(Debug, Clone)]
pub enum RunEnd {
    /// All windows synced; next run after the interval.
    Success { next_run_ms: i64 },
    /// A transient failure; retry at `next_run_ms` (backoff).
    Failed { error: String, next_run_ms: i64 },
    /// Credentials rejected: stop until re-authorized.
    NeedsReauth { reason: String },
}

impl Catalog {
    /// Stores a new connection with its sealed credentials.
    pub async fn insert_connection(
        &self,
        c: &ConnectionRecord,
        credentials_ct: &[u8],
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}connections (id, account_id, marketplace, base_url, credentials_ct, \
             interval_secs, status, next_run_ms, created_at, updated_at, settings) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql)
                .bind(c.id.as_str())
                .bind(c.account_id.as_str())
                .bind(&c.marketplace)
                .bind(&c.base_url)
                .bind(credentials_ct)
                .bind(c.interval_secs)
                .bind(c.status.as_str())
                .bind(c.next_run_ms)
                .bind(c.created_at)
                .bind(c.updated_at)
                .bind(&c.settings)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    pub async fn connection(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {}connections WHERE id = $1", self.p);
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(p).await?;
            row.as_ref().map(record).transpose()
        })
    }

    /// Connections of one account, or of all accounts.
    pub async fn connections(
        &self,
        account: Option<&AccountId>,
    ) -> Result<Vec<ConnectionRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}connections WHERE ($1 IS NULL OR account_id = $1) \
             ORDER BY account_id, created_at, id",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(account.map(AccountId::as_str)).fetch_all(p).await?;
            rows.iter().map(record).collect()
        })
    }

    /// The sealed credentials of a connection.
    pub async fn connection_credentials(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!(
            "SELECT credentials_ct FROM {}connections WHERE id = $1",
            self.p
        );
        on_pool!(&self.pool, p => Ok(sqlx::query_scalar(&sql).bind(id.as_str()).fetch_optional(p).await?))
    }

    /// Leases up to `limit` due connections of active accounts to `owner` until `until_ms`.
    /// On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets concurrent workers claim disjoint sets.
    pub async fn claim_due_connections(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<ConnectionRecord>, StoreError> {
        let p = self.p;
        let lock = self.pool.sql().skip_locked();
        let sql = format!(
            "UPDATE {p}connections SET lease_owner = $1, lease_until_ms = $2 \
             WHERE id IN (SELECT c.id FROM {p}connections c \
                 WHERE c.status = 'active' AND c.next_run_ms <= $3 \
                   AND (c.lease_until_ms IS NULL OR c.lease_until_ms < $3) \
                   AND c.account_id IN (SELECT a.id FROM {p}accounts a WHERE a.status = 'active') \
                 ORDER BY c.next_run_ms, c.id LIMIT $4{lock}) \
             RETURNING {COLUMNS}"
        );
        on_pool!(&self.pool, pl => {
            let rows = sqlx::query(&sql)
                .bind(owner)
                .bind(until_ms)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(pl)
                .await?;
            rows.iter().map(record).collect()
        })
    }

    /// Leases one active connection now, due or not (an operator's "sync now"); `None` if it
    /// is not active or another worker holds it.
    pub async fn claim_connection(
        &self,
        id: &ConnectionId,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Option<ConnectionRecord>, StoreError> {
        let p = self.p;
        let sql = format!(
            "UPDATE {p}connections SET lease_owner = $1, lease_until_ms = $2 \
             WHERE id = $3 AND status = 'active' \
               AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
               AND account_id IN (SELECT a.id FROM {p}accounts a WHERE a.status = 'active') \
             RETURNING {COLUMNS}"
        );
        on_pool!(&self.pool, pl => {
            let row = sqlx::query(&sql)
                .bind(owner)
                .bind(until_ms)
                .bind(id.as_str())
                .bind(now_ms)
                .fetch_optional(pl)
                .await?;
            row.as_ref().map(record).transpose()
        })
    }

    /// Extends a lease this owner still holds; `false` if it was lost.
    pub async fn renew_lease(
        &self,
        id: &ConnectionId,
        owner: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql).bind(until_ms).bind(id.as_str()).bind(owner).execute(p).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Drops every lease `owner` holds, leaving the connections due: a worker that stops
    /// mid-run (shutdown) hands its connections over at once instead of after the lease.
    pub async fn release_leases(&self, owner: &str) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET lease_owner = NULL, lease_until_ms = NULL \
             WHERE lease_owner = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            Ok(sqlx::query(&sql).bind(owner).execute(p).await?.rows_affected())
        })
    }

    /// Moves the cursor after a window's orders are committed; only the lease holder may.
    pub async fn advance_cursor(
        &self,
        id: &ConnectionId,
        owner: &str,
        cursor_ms: i64,
        reconciled_ms: Option<i64>,
        orders: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET cursor_ms = $1, \
                last_reconciled_ms = COALESCE($2, last_reconciled_ms), \
                orders_synced = orders_synced + $3, updated_at = $4 \
             WHERE id = $5 AND lease_owner = $6",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql)
                .bind(cursor_ms)
                .bind(reconciled_ms)
                .bind(orders)
                .bind(now_ms)
                .bind(id.as_str())
                .bind(owner)
                .execute(p)
                .await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Records how a run ended and releases the lease.
    pub async fn finish_run(
        &self,
        id: &ConnectionId,
        owner: &str,
        end: &RunEnd,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let p = self.p;
        let (sql, a, b): (String, Option<String>, Option<i64>) = match end {
            RunEnd::Success { next_run_ms } => (
                format!(
                    "UPDATE {p}connections SET next_run_ms = $2, last_run_ms = $3, \
                     last_success_ms = $3, last_error = $1, consecutive_failures = 0, \
                     lease_owner = NULL, lease_until_ms = NULL, updated_at = $3 \
                     WHERE id = $4 AND lease_owner = $5"
                ),
                None,
                Some(*next_run_ms),
            ),
            RunEnd::Failed { error, next_run_ms } => (
                format!(
                    "UPDATE {p}connections SET next_run_ms = $2, last_run_ms = $3, \
                     last_error = $1, consecutive_failures = consecutive_failures + 1, \
                     lease_owner = NULL, lease_until_ms = NULL, updated_at = $3 \
                     WHERE id = $4 AND lease_owner = $5"
                ),
                Some(error.clone()),
                Some(*next_run_ms),
            ),
            RunEnd::NeedsReauth { reason } => (
                format!(
                    "UPDATE {p}connections SET status = 'needs_reauth', status_reason = $1, \
                     last_error = $1, next_run_ms = COALESCE($2, next_run_ms), last_run_ms = $3, \
                     consecutive_failures = consecutive_failures + 1, \
                     lease_owner = NULL, lease_until_ms = NULL, updated_at = $3 \
                     WHERE id = $4 AND lease_owner = $5"
                ),
                Some(reason.clone()),
                None,
            ),
        };
        on_pool!(&self.pool, pl => {
            let n = sqlx::query(&sql)
                .bind(a)
                .bind(b)
                .bind(now_ms)
                .bind(id.as_str())
                .bind(owner)
                .execute(pl)
                .await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Sets a connection's status by hand (pause, resume) or after re-authorization, with
    /// new sealed credentials when given. Resuming makes it due at once.
    pub async fn set_connection_status(
        &self,
        id: &ConnectionId,
        status: ConnectionStatus,
        reason: Option<&str>,
        credentials_ct: Option<&[u8]>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET status = $1, status_reason = $2, \
                credentials_ct = COALESCE($3, credentials_ct), \
                next_run_ms = CASE WHEN $1 = 'active' THEN $4 ELSE next_run_ms END, \
                consecutive_failures = CASE WHEN $1 = 'active' THEN 0 ELSE consecutive_failures END, \
                updated_at = $4 \
             WHERE id = $5",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql)
                .bind(status.as_str())
                .bind(reason)
                .bind(credentials_ct)
                .bind(now_ms)
                .bind(id.as_str())
                .execute(p)
                .await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Points a connection at another API root (re-authorization against a new endpoint).
    pub async fn set_connection_base_url(
        &self,
        id: &ConnectionId,
        base_url: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET base_url = $1, updated_at = $2 WHERE id = $3",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql).bind(base_url).bind(now_ms).bind(id.as_str()).execute(p).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Stores a connection's settings (JSON) and its API root column together, e.g. after
    /// re-authorization against a new API or auth endpoint.
    pub async fn set_connection_settings(
        &self,
        id: &ConnectionId,
        base_url: Option<&str>,
        settings_json: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET base_url = $1, settings = $2, updated_at = $3 WHERE id = $4",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql)
                .bind(base_url)
                .bind(settings_json)
                .bind(now_ms)
                .bind(id.as_str())
                .execute(p)
                .await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Remembers the rates the marketplace announced to a connection (JSON), for the
    /// next process that syncs it.
    pub async fn set_announced_rates(
        &self,
        id: &ConnectionId,
        rates_json: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET announced_rates = $1 WHERE id = $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql).bind(rates_json).bind(id.as_str()).execute(p).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Makes a connection due now (an operator's "sync now").
    pub async fn make_due(&self, id: &ConnectionId, now_ms: i64) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}connections SET next_run_ms = $1 WHERE id = $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql).bind(now_ms).bind(id.as_str()).execute(p).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    /// Removes a connection (account closure, or the seller disconnects).
    pub async fn delete_connection(&self, id: &ConnectionId) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM {}connections WHERE id = $1", self.p);
        on_pool!(&self.pool, p => {
            Ok(sqlx::query(&sql).bind(id.as_str()).execute(p).await?.rows_affected() == 1)
        })
    }

    /// Removes all connections of an account (closure).
    pub async fn delete_account_connections(
        &self,
        account: &crate::ids::AccountId,
    ) -> Result<u64, StoreError> {
        let sql = format!("DELETE FROM {}connections WHERE account_id = $1", self.p);
        on_pool!(&self.pool, p => {
            Ok(sqlx::query(&sql).bind(account.as_str()).execute(p).await?.rows_affected())
        })
    }
}
