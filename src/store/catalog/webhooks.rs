//! Webhook endpoints: URL, sealed signing secret, status, and the lease that lets one
//! forwarder at a time deliver to an endpoint (so events of an order stay in order).

use serde::Serialize;
use sqlx::Row;

use super::Catalog;
use crate::ids::{AccountId, WebhookId};
use crate::store::StoreError;

/// Whether an endpoint receives events; stored and sent as `active` / `disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Events are delivered to it.
    Active,
    /// The receiver answered 410 Gone, or an operator disabled it; events wait until it
    /// is enabled again.
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            _ => Err(StoreError::Corrupt(
                "stored webhook status is unknown".into(),
            )),
        }
    }
}

/// An endpoint as the catalog holds it, without its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookEndpoint {
    pub id: WebhookId,
    pub account_id: AccountId,
    pub url: String,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, account_id, url, status, disabled_reason, created_at, updated_at";

fn endpoint<R: Row>(r: &R) -> Result<WebhookEndpoint, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = r.try_get("status")?;
    Ok(WebhookEndpoint {
        id: super::stored_id(r.try_get("id")?, "webhook id")?,
        account_id: super::stored_account_id(r.try_get("account_id")?)?,
        url: r.try_get("url")?,
        status: WebhookStatus::parse(&status)?,
        disabled_reason: r.try_get("disabled_reason")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Catalog {
    pub async fn insert_webhook(
        &self,
        e: &WebhookEndpoint,
        secret_ct: &[u8],
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}webhook_endpoints (id, account_id, url, secret_ct, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql)
                .bind(e.id.as_str()).bind(e.account_id.as_str()).bind(&e.url).bind(secret_ct)
                .bind(e.status.as_str()).bind(e.created_at).bind(e.updated_at)
                .execute(p).await?;
        });
        Ok(())
    }

    /// Endpoints of one account, or all active endpoints (`None`).
    pub async fn webhooks(
        &self,
        account: Option<&AccountId>,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}webhook_endpoints \
             WHERE ($1 IS NULL AND status = 'active') OR account_id = $1 ORDER BY created_at, id",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).bind(account.map(AccountId::as_str)).fetch_all(p).await?;
            rows.iter().map(endpoint).collect()
        })
    }

    pub async fn webhook(&self, id: &WebhookId) -> Result<Option<WebhookEndpoint>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}webhook_endpoints WHERE id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(p).await?;
            row.as_ref().map(endpoint).transpose()
        })
    }

    pub async fn webhook_secret(&self, id: &WebhookId) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = format!(
            "SELECT secret_ct FROM {}webhook_endpoints WHERE id = $1",
            self.p
        );
        on_pool!(&self.pool, p => Ok(sqlx::query_scalar(&sql).bind(id.as_str()).fetch_optional(p).await?))
    }

    /// Sets an endpoint's status (disable on 410, re-enable by the seller).
    pub async fn set_webhook_status(
        &self,
        id: &WebhookId,
        status: WebhookStatus,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}webhook_endpoints SET status = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4",
            self.p
        );
        on_pool!(&self.pool, p => {
            let n = sqlx::query(&sql).bind(status.as_str()).bind(reason).bind(now_ms).bind(id.as_str()).execute(p).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    pub async fn delete_webhook(&self, id: &WebhookId) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM {}webhook_endpoints WHERE id = $1", self.p);
        on_pool!(&self.pool, p => Ok(sqlx::query(&sql).bind(id.as_str()).execute(p).await?.rows_affected() == 1))
    }

    pub async fn delete_account_webhooks(
        &self,
        account: &crate::ids::AccountId,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM {}webhook_endpoints WHERE account_id = $1",
            self.p
        );
        on_pool!(&self.pool, p => Ok(sqlx::query(&sql).bind(account.as_str()).execute(p).await?.rows_affected()))
    }

    /// Leases an active endpoint of an active account to `owner`; `false` if another
    /// forwarder holds it.
    pub async fn claim_webhook(
        &self,
        id: &WebhookId,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let p = self.p;
        let sql = format!(
            "UPDATE {p}webhook_endpoints SET lease_owner = $1, lease_until_ms = $2 \
             WHERE id = $3 AND status = 'active' \
               AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until_ms < $4) \
               AND account_id IN (SELECT a.id FROM {p}accounts a WHERE a.status = 'active')"
        );
        on_pool!(&self.pool, pl => {
            let n = sqlx::query(&sql).bind(owner).bind(until_ms).bind(id.as_str()).bind(now_ms).execute(pl).await?;
            Ok(n.rows_affected() == 1)
        })
    }

    pub async fn release_webhook(&self, id: &WebhookId, owner: &str) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}webhook_endpoints SET lease_owner = NULL, lease_until_ms = NULL \
             WHERE id = $1 AND lease_owner = $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(id.as_str()).bind(owner).execute(p).await?;
        });
        Ok(())
    }
}
