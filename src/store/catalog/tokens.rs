//! API tokens: only the SHA-256 of each token is stored, never the token.

use sqlx::Row;

use super::{Catalog, StoreError};
use crate::ids::AccountId;

/// A stored API token (without the token itself).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: String,
    pub role: String,
    pub account_id: Option<AccountId>,
    pub label: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl Catalog {
    pub async fn insert_token(&self, t: &TokenRecord, sha256: &[u8]) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {}api_tokens (id, token_sha256, role, account_id, label, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql)
                .bind(&t.id)
                .bind(sha256)
                .bind(&t.role)
                .bind(t.account_id.as_ref().map(AccountId::as_str))
                .bind(&t.label)
                .bind(t.created_at)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, sha256: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!(
            "SELECT id, role, account_id, label, created_at, revoked_at FROM {}api_tokens \
             WHERE token_sha256 = $1 AND revoked_at IS NULL",
            self.p
        );
        on_pool!(&self.pool, p => {
            let Some(r) = sqlx::query(&sql).bind(sha256).fetch_optional(p).await? else {
                return Ok(None);
            };
            Ok(Some(TokenRecord {
                id: r.try_get("id")?,
                role: r.try_get("role")?,
                account_id: r
                    .try_get::<Option<String>, _>("account_id")?
                    .map(|s| super::stored_id(s, "account id"))
                    .transpose()?,
                label: r.try_get("label")?,
                created_at: r.try_get("created_at")?,
                revoked_at: r.try_get("revoked_at")?,
            }))
        })
    }

    /// Deletes every token of an account (on closure). Returns how many.
    pub async fn delete_account_tokens(
        &self,
        account: &crate::ids::AccountId,
    ) -> Result<u64, StoreError> {
        let sql = format!("DELETE FROM {}api_tokens WHERE account_id = $1", self.p);
        on_pool!(&self.pool, p => {
            Ok(sqlx::query(&sql).bind(account.as_str()).execute(p).await?.rows_affected())
        })
    }
}
