//! Bearer-token authentication: the token's SHA-256 is looked up in the catalog; the
//! role and (for backoffice tokens) the one account it may see come from there.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::problem::ApiError;
use crate::app::App;
use crate::ids::{AccountId, Role};
use crate::tokens::{token_hash, TOKEN_PREFIX};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub role: Role,
    /// Set for backoffice tokens: the only account they may touch.
    pub account: Option<AccountId>,
}

impl Principal {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role == role {
            Ok(())
        } else {
            Err(ApiError::forbidden(&format!(
                "this endpoint needs a {} token",
                role.as_str()
            )))
        }
    }

    /// The backoffice token's account; other roles are refused.
    pub fn backoffice_account(&self) -> Result<AccountId, ApiError> {
        self.require(Role::Backoffice)?;
        self.account
            .clone()
            .ok_or_else(|| ApiError::forbidden("backoffice token without an account"))
    }
}

impl FromRequestParts<App> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        // RFC 7235: the scheme name is case-insensitive.
        let token = header
            .trim_start()
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| t.starts_with(TOKEN_PREFIX))
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer ov_…"))?;
        let record = app
            .store
            .catalog()
            .token_by_hash(&token_hash(token))
            .await?
            .filter(|r| r.revoked_at.is_none())
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
        let role: Role = record
            .role
            .parse()
            .map_err(|_| ApiError::unauthorized("token has an unknown role"))?;
        let account = match &record.account_id {
            Some(id) => {
                // A closed or closing account's tokens stop working at once.
                match app.store.catalog().account(id).await? {
                    Some(acc) if acc.status.as_str() == "active" => Some(id.clone()),
                    _ => return Err(ApiError::unauthorized("the token's account is closed")),
                }
            }
            None => None,
        };
        Ok(Principal {
            token_id: record.id,
            role,
            account,
        })
    }
}
