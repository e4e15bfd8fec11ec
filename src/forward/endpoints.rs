//! Webhook endpoints of an account: the signing secret is generated (or given), shown
//! once, and stored only sealed under the account's secrets key.

use zeroize::Zeroizing;

use super::signing::{generate_secret, secret_key};
use crate::app::App;
use crate::crypto::{Ciphertext, FieldContext};
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::WebhookEndpoint;

fn ctx(id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "webhook_endpoints",
        column: "secret",
        row: id,
    }
}

/// What adding an endpoint takes.
pub struct NewWebhook {
    pub account: AccountId,
    pub url: String,
    /// A `whsec_` secret to use; generated when `None`.
    pub secret: Option<Zeroizing<String>>,
}

/// Only http(s) URLs without credentials in them.
fn validate_url(url: &str) -> Result<String, ServiceError> {
    let u = url.trim();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| {
            ServiceError::Invalid("webhook URL must start with https:// or http://".into())
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') || u.chars().any(char::is_whitespace) || u.len() > 2000
    {
        return Err(ServiceError::Invalid(
            "webhook URL has no valid host".into(),
        ));
    }
    Ok(u.to_string())
}

/// Adds an endpoint; returns it with the secret (to show once).
pub async fn add_webhook(
    app: &App,
    new: NewWebhook,
) -> Result<(WebhookEndpoint, Zeroizing<String>), ServiceError> {
    let account = crate::accounts::active_account(app, new.account.as_str()).await?;
    let url = validate_url(&new.url)?;
    let secret = match new.secret {
        Some(s) => {
            secret_key(&s).ok_or_else(|| {
                ServiceError::Invalid("secret must be whsec_ + base64 of 24 to 64 bytes".into())
            })?;
            s
        }
        None => generate_secret(),
    };
    let id = AccountId::generate().as_str().to_string();
    let keys = app.keyring.keys(&account).await?;
    let ct = keys.current().secrets.encrypt(ctx(&id), secret.as_bytes());
    let now = app.now_ms();
    let endpoint = WebhookEndpoint {
        id,
        account_id: account.as_str().to_string(),
        url,
        status: "active".into(),
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    app.store.catalog().insert_webhook(&endpoint, &ct.0).await?;
    tracing::info!(webhook = %endpoint.id, account = %endpoint.account_id, "webhook endpoint added");
    Ok((endpoint, secret))
}

/// The signing key of an endpoint.
pub async fn open_secret(
    app: &App,
    endpoint: &WebhookEndpoint,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let account: AccountId = endpoint
        .account_id
        .parse()
        .map_err(|_| ServiceError::Invalid("bad account id".into()))?;
    let ct = app
        .store
        .catalog()
        .webhook_secret(&endpoint.id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("webhook".into()))?;
    let ct = Ciphertext(ct);
    let keyset = app.keyring.keys(&account).await?;
    let keys = keyset.version(ct.key_version()?).ok_or_else(|| {
        ServiceError::Invalid("secret sealed under an unknown key version".into())
    })?;
    let plain = keys.secrets.decrypt(ctx(&endpoint.id), &ct)?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| ServiceError::Invalid("stored secret is not text".into()))?;
    secret_key(text).ok_or_else(|| ServiceError::Invalid("stored secret is malformed".into()))
}
