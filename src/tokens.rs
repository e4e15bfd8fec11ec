//! API tokens: `ov_` + 32 random bytes (base64url). Shown once at creation; only the
//! SHA-256 is stored, so a catalog leak yields no usable token.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::accounts::active_account;
use crate::app::App;
use crate::error::ServiceError;
use crate::ids::Role;
use crate::store::catalog::TokenRecord;

/// Prefix that makes ordervault tokens recognisable to secret scanners.
pub const TOKEN_PREFIX: &str = "ov_";

/// SHA-256 of a presented token, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Creates a token. Backoffice tokens belong to exactly one active account; admin and
/// support tokens belong to none.
pub async fn create_token(
    app: &App,
    role: Role,
    account: Option<&str>,
    label: Option<&str>,
) -> Result<(SecretString, TokenRecord), ServiceError> {
    let account_id = match (role, account) {
        (Role::Backoffice, Some(a)) => {
            let a = crate::accounts::parse_account_id(a)?;
            Some(active_account(app, &a).await?)
        }
        (Role::Backoffice, None) => {
            return Err(ServiceError::Invalid(
                "a backoffice token needs --account".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(ServiceError::Invalid(format!(
                "a {} token is not tied to an account; leave out --account",
                role.as_str()
            )))
        }
        (_, None) => None,
    };
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = SecretString::from(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)));
    let mut id = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let record = TokenRecord {
        id: hex::encode(id),
        role: role.as_str().to_owned(),
        account_id,
        label: label.map(|l| l.chars().take(100).collect()),
        created_at: app.now_ms(),
        revoked_at: None,
    };
    app.store
        .catalog()
        .insert_token(&record, &token_hash(token.expose_secret()))
        .await?;
    Ok((token, record))
}
