//! Webhook endpoints of an account: the signing secret is generated (or given), shown
//! once, and stored only sealed under the account's secrets key.

use zeroize::Zeroizing;

use super::signing::{generate_secret, secret_key};
use crate::app::App;
use crate::crypto::{Ciphertext, FieldContext};
use crate::error::ServiceError;
use crate::ids::{AccountId, WebhookId};
use crate::store::catalog::{WebhookEndpoint, WebhookStatus};

fn ctx(id: &WebhookId) -> FieldContext<'_> {
    FieldContext {
        table: "webhook_endpoints",
        column: "secret",
        row: id.as_str(),
    }
}

/// What adding an endpoint takes.
pub struct NewWebhook {
    pub account: AccountId,
    pub url: String,
    /// A `whsec_` secret to use; generated when `None`.
    pub secret: Option<Zeroizing<String>>,
}

/// Parses and checks a webhook URL (see [`super::target`]): a malformed URL is invalid
/// input (400), an internal or unresolvable target is refused by rule (422).
async fn validate_url(app: &App, raw: &str) -> Result<String, ServiceError> {
    let to_service = |e: super::target::TargetError| {
        if e.is_refusal() {
            ServiceError::Unprocessable(e.to_string())
        } else {
            ServiceError::Invalid(e.to_string())
        }
    };
    let url = super::target::parse_url(raw).map_err(to_service)?;
    super::target::check_target(&url, app.settings.forward.allow_private_targets)
        .await
        .map_err(to_service)?;
    Ok(url.to_string())
}

/// Adds an endpoint; returns it with the secret (to show once).
pub async fn add_webhook(
    app: &App,
    new: NewWebhook,
) -> Result<(WebhookEndpoint, Zeroizing<String>), ServiceError> {
    let account = crate::accounts::active_account(app, &new.account).await?;
    let url = validate_url(app, &new.url).await?;
    let secret = match new.secret {
        Some(s) => {
            secret_key(&s).ok_or_else(|| {
                ServiceError::Invalid("secret must be whsec_ + base64 of 24 to 64 bytes".into())
            })?;
            s
        }
        None => generate_secret(),
    };
    let id = WebhookId::generate();
    let keys = app.keyring.keys(&account).await?;
    let ct = keys.current().secrets.encrypt(ctx(&id), secret.as_bytes());
    let now = app.now_ms();
    let endpoint = WebhookEndpoint {
        id,
        account_id: account.clone(),
        url,
        status: WebhookStatus::Active,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    app.store.catalog().insert_webhook(&endpoint, &ct.0).await?;
    tracing::info!(webhook = %endpoint.id, account = %endpoint.account_id, "webhook endpoint added");
    Ok((endpoint, secret))
}

/// Removes an endpoint and purges its row at once (its secret's ciphertext with it):
/// the API's `DELETE /webhooks/{id}` and `webhook remove` both call this.
pub async fn remove_webhook(app: &App, id: &WebhookId) -> Result<(), ServiceError> {
    let catalog = app.store.catalog();
    if !catalog.delete_webhook(id).await? {
        return Err(ServiceError::NotFound(format!("webhook {id}")));
    }
    catalog.purge_deleted("webhook_endpoints").await?;
    tracing::info!(webhook = %id, "webhook endpoint removed");
    Ok(())
}

/// Re-enables an endpoint (disabled by a 410) and wakes the forwarder, so what waited
/// for it is delivered without waiting for the next tick.
pub async fn enable_webhook(app: &App, id: &WebhookId) -> Result<(), ServiceError> {
    if !app
        .store
        .catalog()
        .set_webhook_status(id, WebhookStatus::Active, None, app.now_ms())
        .await?
    {
        return Err(ServiceError::NotFound(format!("webhook {id}")));
    }
    app.outbox_notify.notify_one();
    Ok(())
}

/// The signing key of an endpoint.
pub async fn open_secret(
    app: &App,
    endpoint: &WebhookEndpoint,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let account = endpoint.account_id.clone();
    let ct = app
        .store
        .catalog()
        .webhook_secret(&endpoint.id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("webhook".into()))?;
    let ct = Ciphertext(ct);
    let keyset = app.keyring.keys(&account).await?;
    let keys = keyset
        .version(ct.key_version()?)
        .ok_or_else(|| ServiceError::internal("secret sealed under an unknown key version"))?;
    let plain = keys.secrets.decrypt(ctx(&endpoint.id), &ct)?;
    let text = std::str::from_utf8(&plain)
        .map_err(|_| ServiceError::internal("stored secret is not text"))?;
    secret_key(text).ok_or_else(|| ServiceError::internal("stored secret is malformed"))
}
