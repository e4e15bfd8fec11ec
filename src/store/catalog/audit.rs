//! The support audit log: who looked up which order of which account, and what came of
//! it. Written before a support answer is sent; read by the account's backoffice.
//!
//! Rows hold no personal data: token id, account id, the order number only when it
//! matched, marketplace, result and time.

use serde::Serialize;
use sqlx::Row;

use super::{Catalog, StoreError};

/// The outcome of one support lookup, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditResult {
    Found,
    NotFound,
    /// The request was malformed (bad account id or order number); nothing was read.
    Invalid,
    /// The order was found but could not be opened; nothing was answered.
    Error,
}

impl AuditResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::NotFound => "not_found",
            Self::Invalid => "invalid",
            Self::Error => "error",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "found" => Self::Found,
            "not_found" => Self::NotFound,
            "invalid" => Self::Invalid,
            "error" => Self::Error,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown audit result {other:?}"
                )))
            }
        })
    }
}

/// One support lookup to record.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub token_id: &'a str,
    pub account_id: Option<&'a str>,
    /// Only set when the number matched an order.
    pub order_number: Option<&'a str>,
    pub marketplace: Option<&'a str>,
    pub result: AuditResult,
    /// How many orders matched (two marketplaces may share a number).
    pub matches: i64,
    pub at: i64,
}

/// A recorded support lookup, as the backoffice reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub token_id: String,
    /// The support token's label (e.g. the helpdesk member), when it has one.
    pub token_label: Option<String>,
    pub account_id: Option<String>,
    pub order_number: Option<String>,
    pub marketplace: Option<String>,
    pub result: AuditResult,
    pub matches: i64,
    /// Unix milliseconds.
    pub at: i64,
}

impl Catalog {
    /// Records a support lookup. An error here must stop the answer (fail closed).
    pub async fn insert_support_audit(&self, e: &NewAuditEntry<'_>) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}support_audit (token_id, account_id, order_number, marketplace, result, matches, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql)
                .bind(e.token_id)
                .bind(e.account_id)
                .bind(e.order_number)
                .bind(e.marketplace)
                .bind(e.result.as_str())
                .bind(e.matches)
                .bind(e.at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Support lookups of one account, newest first.
    pub async fn support_audit(
        &self,
        account: &str,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let p = self.p;
        let sql = format!(
            "SELECT s.id, s.token_id, t.label, s.account_id, s.order_number, s.marketplace, \
                s.result, s.matches, s.at \
             FROM {p}support_audit s LEFT JOIN {p}api_tokens t ON t.id = s.token_id \
             WHERE s.account_id = $1 ORDER BY s.at DESC, s.id DESC LIMIT $2"
        );
        on_pool!(&self.pool, pl => {
            let rows = sqlx::query(&sql).bind(account).bind(limit).fetch_all(pl).await?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        id: r.try_get(0)?,
                        token_id: r.try_get(1)?,
                        token_label: r.try_get(2)?,
                        account_id: r.try_get(3)?,
                        order_number: r.try_get(4)?,
                        marketplace: r.try_get(5)?,
                        result: AuditResult::parse(&r.try_get::<String, _>(6)?)?,
                        matches: r.try_get(7)?,
                        at: r.try_get(8)?,
                    })
                })
                .collect()
        })
    }
}
