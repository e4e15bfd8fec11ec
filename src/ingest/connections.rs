//! Marketplace connections as the service manages them: adding one (credentials checked,
//! then sealed under the account's secrets key), re-authorizing, and turning a stored
//! connection into a live marketplace client.

use std::sync::Arc;
use std::time::Duration;

use ordervault_connectors::cap::RequestRate;
use ordervault_connectors::clock::SharedClock;
use ordervault_connectors::connect::{self, ConnectError};
use ordervault_connectors::{ConnectOptions, ConnectionInfo, ConnectionSettings};
use ordervault_connectors::{Marketplace, MarketplaceKind};
use zeroize::Zeroizing;

use crate::app::App;
use crate::crypto::{Ciphertext, FieldContext};
use crate::error::ServiceError;
use crate::ids::{AccountId, ConnectionId};
use crate::store::catalog::{ConnectionRecord, ConnectionStatus};

const TABLE: &str = "connections";
const COLUMN: &str = "credentials";

/// What `connection add` asks for.
pub struct NewConnection {
    pub account: AccountId,
    pub marketplace: MarketplaceKind,
    /// The connection file's JSON (client id/secret, refresh token).
    pub credentials_json: Zeroizing<String>,
    /// Where the marketplace lives (API and auth URL overrides; Amazon region,
    /// marketplaces, API version). The default is the real marketplace.
    pub settings: ConnectionSettings,
    pub interval: Duration,
}

/// How clients are built: production defaults, or test knobs (the connectors crate's
/// [`ConnectOptions`]).
pub type ClientOptions = ConnectOptions;

fn invalid(e: ConnectError) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

/// Checks a connection file for the marketplace without echoing any of it.
pub fn validate_credentials(kind: MarketplaceKind, json: &str) -> Result<(), ServiceError> {
    connect::validate_credentials(kind, json).map_err(invalid)
}

/// Accepts `http(s)://host[:port][/path]` so a connection can point at a sandbox.
pub fn validate_base_url(url: &str) -> Result<String, ServiceError> {
    connect::validate_url("base URL", url).map_err(invalid)
}

/// The settings a stored connection runs with: its own, or (made before settings
/// existed) the legacy reading of its base URL.
pub fn settings_of(
    rec: &ConnectionRecord,
) -> Result<(MarketplaceKind, ConnectionSettings), ServiceError> {
    let kind: MarketplaceKind = rec
        .marketplace
        .parse()
        .map_err(|_| ServiceError::internal("stored marketplace is unknown"))?;
    let settings = match rec.settings.as_deref() {
        Some(json) => {
            let mut s: ConnectionSettings = serde_json::from_str(json)
                .map_err(|_| ServiceError::internal("stored connection settings are unreadable"))?;
            // `reauth --base-url` moves the API root; the column is authoritative.
            if rec.base_url.is_some() {
                s.base_url = rec.base_url.clone();
            }
            s
        }
        None => ConnectionSettings::legacy(kind, rec.base_url.as_deref()),
    };
    Ok((kind, settings))
}

/// What `connection list` and `GET /connections` show about a connection's marketplace
/// side: hosts, region, marketplaces, API version and any deprecation warning.
pub fn describe(rec: &ConnectionRecord) -> Option<ConnectionInfo> {
    let (kind, settings) = settings_of(rec).ok()?;
    Some(ordervault_connectors::describe(kind, &settings))
}

/// Parses an interval like `60s`, `5m`, `1h` or plain seconds; 10 s to 1 day.
pub fn parse_interval(text: &str) -> Result<Duration, ServiceError> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| ServiceError::Invalid(format!("interval {t:?}: expected e.g. 60s, 5m, 1h")))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => {
            return Err(ServiceError::Invalid(format!(
                "interval {t:?}: unit must be s, m or h"
            )))
        }
    };
    if !(10..=86_400).contains(&secs) {
        return Err(ServiceError::Invalid(format!(
            "interval {t:?}: must be between 10s and 24h"
        )));
    }
    Ok(Duration::from_secs(secs))
}

fn ctx(id: &ConnectionId) -> FieldContext<'_> {
    FieldContext {
        table: TABLE,
        column: COLUMN,
        row: id.as_str(),
    }
}

/// Adds a connection: the account must be active, the credentials must parse; they are
/// stored only as ciphertext bound to the connection's row.
pub async fn add_connection(
    app: &App,
    new: NewConnection,
) -> Result<ConnectionRecord, ServiceError> {
    crate::accounts::active_account(app, &new.account).await?;
    validate_credentials(new.marketplace, &new.credentials_json)?;
    let settings = new.settings.validate(new.marketplace).map_err(invalid)?;
    let base_url = settings.base_url.clone();
    let settings_json = serde_json::to_string(&settings)
        .map_err(|_| ServiceError::internal("connection settings cannot be encoded"))?;
    let interval = new.interval.as_secs().clamp(10, 86_400) as i64;
    let id = ConnectionId::generate();
    let keys = app.keyring.keys(&new.account).await?;
    let ct = keys
        .current()
        .secrets
        .encrypt(ctx(&id), new.credentials_json.as_bytes());
    let now = app.now_ms();
    let rec = ConnectionRecord {
        id,
        account_id: new.account.clone(),
        marketplace: new.marketplace.as_str().to_string(),
        base_url,
        settings: Some(settings_json),
        announced_rates: None,
        interval_secs: interval,
        status: ConnectionStatus::Active,
        status_reason: None,
        cursor_ms: None,
        last_reconciled_ms: None,
        next_run_ms: now,
        last_run_ms: None,
        last_success_ms: None,
        last_error: None,
        consecutive_failures: 0,
        orders_synced: 0,
        lease_owner: None,
        lease_until_ms: None,
        created_at: now,
        updated_at: now,
    };
    app.store.catalog().insert_connection(&rec, &ct.0).await?;
    if let Some(warning) = describe(&rec).and_then(|i| i.deprecation) {
        tracing::warn!(connection = %rec.id, %warning, "connection uses a deprecated marketplace API");
    }
    tracing::info!(connection = %rec.id, account = %rec.account_id, marketplace = %rec.marketplace, "connection added");
    Ok(rec)
}

/// Replaces a connection's credentials (after `needs_reauth`), and its API root and
/// token endpoint when given (each on its own), and makes it active and due.
pub async fn reauthorize(
    app: &App,
    id: &ConnectionId,
    credentials_json: &str,
    base_url: Option<&str>,
    auth_url: Option<&str>,
) -> Result<(), ServiceError> {
    let rec = app
        .store
        .catalog()
        .connection(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("connection {id}")))?;
    let (kind, mut settings) = settings_of(&rec)?;
    validate_credentials(kind, credentials_json)?;
    let account = rec.account_id.clone();
    let keys = app.keyring.keys(&account).await?;
    if let Some(url) = base_url {
        settings.base_url = Some(url.to_owned());
    }
    if let Some(url) = auth_url {
        settings.auth_url = Some(url.to_owned());
    }
    let settings = settings.validate(kind).map_err(invalid)?;
    let settings_json = serde_json::to_string(&settings)
        .map_err(|_| ServiceError::internal("connection settings cannot be encoded"))?;
    let ct = keys
        .current()
        .secrets
        .encrypt(ctx(id), credentials_json.as_bytes());
    let catalog = app.store.catalog();
    if base_url.is_some() || auth_url.is_some() {
        catalog
            .set_connection_settings(
                id,
                settings.base_url.as_deref(),
                &settings_json,
                app.now_ms(),
            )
            .await?;
    }
    catalog
        .set_connection_status(
            id,
            ConnectionStatus::Active,
            None,
            Some(&ct.0),
            app.now_ms(),
        )
        .await?;
    Ok(())
}

/// Pauses a connection: workers skip it until [`resume_connection`].
pub async fn pause_connection(app: &App, id: &ConnectionId) -> Result<(), ServiceError> {
    set_status(
        app,
        id,
        ConnectionStatus::Paused,
        Some("paused by operator"),
    )
    .await
}

/// Makes a paused (or failed) connection active again, with its reason cleared.
pub async fn resume_connection(app: &App, id: &ConnectionId) -> Result<(), ServiceError> {
    set_status(app, id, ConnectionStatus::Active, None).await
}

async fn set_status(
    app: &App,
    id: &ConnectionId,
    status: ConnectionStatus,
    reason: Option<&str>,
) -> Result<(), ServiceError> {
    let found = app
        .store
        .catalog()
        .set_connection_status(id, status, reason, None, app.now_ms())
        .await?;
    if !found {
        return Err(ServiceError::NotFound(format!("connection {id}")));
    }
    tracing::info!(connection = %id, status = status.as_str(), "connection status set");
    Ok(())
}

/// Removes a connection and purges its row at once (its sealed credentials with it).
pub async fn remove_connection(app: &App, id: &ConnectionId) -> Result<(), ServiceError> {
    let catalog = app.store.catalog();
    if !catalog.delete_connection(id).await? {
        return Err(ServiceError::NotFound(format!("connection {id}")));
    }
    catalog.purge_deleted("connections").await?;
    tracing::info!(connection = %id, "connection removed");
    Ok(())
}

/// Sets or (with `None`) removes a connection's cap on requests per second; the next sync
/// builds its client with it (a running worker notices the changed settings).
pub async fn set_request_cap(
    app: &App,
    id: &ConnectionId,
    cap: Option<RequestRate>,
) -> Result<ConnectionRecord, ServiceError> {
    let catalog = app.store.catalog();
    let mut rec = catalog
        .connection(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("connection {id}")))?;
    let (kind, mut settings) = settings_of(&rec)?;
    settings.max_requests_per_second = cap;
    let settings = settings.validate(kind).map_err(invalid)?;
    let settings_json = serde_json::to_string(&settings)
        .map_err(|_| ServiceError::Invalid("connection settings cannot be stored".into()))?;
    let now = app.now_ms();
    if !catalog
        .set_connection_settings(id, settings.base_url.as_deref(), &settings_json, now)
        .await?
    {
        return Err(ServiceError::NotFound(format!("connection {id}")));
    }
    rec.base_url = settings.base_url;
    rec.settings = Some(settings_json);
    rec.updated_at = now;
    tracing::info!(connection = %id, cap = ?cap.map(RequestRate::per_second), "connection request cap set");
    Ok(rec)
}

/// The decrypted connection file of a connection.
pub async fn open_credentials(
    app: &App,
    rec: &ConnectionRecord,
) -> Result<Zeroizing<String>, ServiceError> {
    let account = rec.account_id.clone();
    let ct = app
        .store
        .catalog()
        .connection_credentials(&rec.id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("connection {}", rec.id)))?;
    let ct = Ciphertext(ct);
    let keyset = app.keyring.keys(&account).await?;
    let keys = keyset
        .version(ct.key_version()?)
        .ok_or_else(|| ServiceError::internal("credentials sealed under an unknown key version"))?;
    let plain = keys.secrets.decrypt(ctx(&rec.id), &ct)?;
    let text = String::from_utf8(plain.to_vec())
        .map_err(|_| ServiceError::internal("stored credentials are not text"))?;
    Ok(Zeroizing::new(text))
}

/// Builds the marketplace client for a stored connection.
pub fn build_client(
    rec: &ConnectionRecord,
    credentials_json: &str,
    clock: SharedClock,
    options: &ClientOptions,
) -> Result<Arc<dyn Marketplace>, ServiceError> {
    let (kind, settings) = settings_of(rec)?;
    connect::connect(kind, &settings, credentials_json, clock, options).map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_urls() {
        assert_eq!(parse_interval("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_interval("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_interval("90").unwrap(), Duration::from_secs(90));
        assert!(parse_interval("1s").is_err());
        assert!(parse_interval("2d").is_err());
        assert!(parse_interval("abc").is_err());
        assert_eq!(
            validate_base_url("http://127.0.0.1:9000/").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(validate_base_url("ftp://x").is_err());
        assert!(validate_base_url("https://user:pw@host").is_err());
    }
}
