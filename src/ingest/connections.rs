//! Marketplace connections as the service manages them: adding one (credentials checked,
//! then sealed under the account's secrets key), re-authorizing, and turning a stored
//! connection into a live marketplace client.

use std::sync::Arc;
use std::time::Duration;

use ordervault_connectors::amazon::{AmazonClient, AmazonConfig, AmazonCredentials, Sleeper};
use ordervault_connectors::bol::{BolClient, BolConfig, BolCredentials};
use ordervault_connectors::clock::SharedClock;
use ordervault_connectors::ebay::{EbayClient, EbayConfig, EbayCredentials};
use ordervault_connectors::http::RetryPolicy;
use ordervault_connectors::{Marketplace, MarketplaceKind};
use zeroize::Zeroizing;

use crate::app::App;
use crate::crypto::{Ciphertext, FieldContext};
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::{ConnectionRecord, ConnectionStatus};

const TABLE: &str = "connections";
const COLUMN: &str = "credentials";

/// What `connection add` asks for.
pub struct NewConnection {
    pub account: AccountId,
    pub marketplace: MarketplaceKind,
    /// The connection file's JSON (client id/secret, refresh token).
    pub credentials_json: Zeroizing<String>,
    /// Where the marketplace lives; `None` is the real marketplace.
    pub base_url: Option<String>,
    pub interval: Duration,
}

/// How clients are built: production defaults, or test knobs.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Retry and backoff of marketplace calls.
    pub retry: RetryPolicy,
    /// How the Amazon client waits for its rate budget (tests advance a manual clock).
    pub amazon_sleeper: Option<Arc<dyn Sleeper>>,
    /// Drop client-side pacing: only for sandboxes started without rate limits
    /// (benchmarks, demos). Against a real marketplace this would earn 429s.
    pub unpaced: bool,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Checks a connection file for the marketplace without echoing any of it.
pub fn validate_credentials(kind: MarketplaceKind, json: &str) -> Result<(), ServiceError> {
    let bad = |e: String| ServiceError::Invalid(format!("{kind} credentials: {e}"));
    match kind {
        MarketplaceKind::Bol => BolCredentials::from_json(json)
            .map(drop)
            .map_err(|e| bad(e.to_string())),
        MarketplaceKind::Amazon => AmazonCredentials::from_json(json)
            .map(drop)
            .map_err(|e| bad(e.0)),
        MarketplaceKind::Ebay => EbayCredentials::from_json(json)
            .map(drop)
            .map_err(|e| bad(e.to_string())),
    }
}

/// Accepts `http(s)://host[:port][/path]` so a connection can point at a sandbox.
pub fn validate_base_url(url: &str) -> Result<String, ServiceError> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| {
            ServiceError::Invalid("base URL must start with http:// or https://".into())
        })?;
    if rest.is_empty() || rest.contains(char::is_whitespace) || rest.contains('@') {
        return Err(ServiceError::Invalid("base URL has no valid host".into()));
    }
    Ok(u.to_string())
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

fn ctx(id: &str) -> FieldContext<'_> {
    FieldContext {
        table: TABLE,
        column: COLUMN,
        row: id,
    }
}

/// Adds a connection: the account must be active, the credentials must parse; they are
/// stored only as ciphertext bound to the connection's row.
pub async fn add_connection(
    app: &App,
    new: NewConnection,
) -> Result<ConnectionRecord, ServiceError> {
    crate::accounts::active_account(app, new.account.as_str()).await?;
    validate_credentials(new.marketplace, &new.credentials_json)?;
    let base_url = new.base_url.as_deref().map(validate_base_url).transpose()?;
    let interval = new.interval.as_secs().clamp(10, 86_400) as i64;
    let id = AccountId::generate().as_str().to_string();
    let keys = app.keyring.keys(&new.account).await?;
    let ct = keys
        .current()
        .secrets
        .encrypt(ctx(&id), new.credentials_json.as_bytes());
    let now = app.now_ms();
    let rec = ConnectionRecord {
        id,
        account_id: new.account.as_str().to_string(),
        marketplace: new.marketplace.as_str().to_string(),
        base_url,
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
    tracing::info!(connection = %rec.id, account = %rec.account_id, marketplace = %rec.marketplace, "connection added");
    Ok(rec)
}

/// Replaces a connection's credentials (after `needs_reauth`), and its base URL when
/// given, and makes it active and due.
pub async fn reauthorize(
    app: &App,
    id: &str,
    credentials_json: &str,
    base_url: Option<&str>,
) -> Result<(), ServiceError> {
    let rec = app
        .store
        .catalog()
        .connection(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("connection {id}")))?;
    let kind: MarketplaceKind = rec
        .marketplace
        .parse()
        .map_err(|_| ServiceError::Invalid("stored marketplace is unknown".into()))?;
    validate_credentials(kind, credentials_json)?;
    let account: AccountId = rec
        .account_id
        .parse()
        .map_err(|_| ServiceError::Invalid("bad account id".into()))?;
    let keys = app.keyring.keys(&account).await?;
    let base_url = base_url.map(validate_base_url).transpose()?;
    let ct = keys
        .current()
        .secrets
        .encrypt(ctx(id), credentials_json.as_bytes());
    let catalog = app.store.catalog();
    if let Some(url) = &base_url {
        catalog
            .set_connection_base_url(id, url, app.now_ms())
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

/// The decrypted connection file of a connection.
pub async fn open_credentials(
    app: &App,
    rec: &ConnectionRecord,
) -> Result<Zeroizing<String>, ServiceError> {
    let account: AccountId = rec
        .account_id
        .parse()
        .map_err(|_| ServiceError::Invalid("bad account id".into()))?;
    let ct = app
        .store
        .catalog()
        .connection_credentials(&rec.id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("connection {}", rec.id)))?;
    let ct = Ciphertext(ct);
    let keyset = app.keyring.keys(&account).await?;
    let keys = keyset.version(ct.key_version()?).ok_or_else(|| {
        ServiceError::Invalid("credentials sealed under an unknown key version".into())
    })?;
    let plain = keys.secrets.decrypt(ctx(&rec.id), &ct)?;
    let text = String::from_utf8(plain.to_vec())
        .map_err(|_| ServiceError::Invalid("stored credentials are not text".into()))?;
    Ok(Zeroizing::new(text))
}

/// Builds the marketplace client for a stored connection.
pub fn build_client(
    kind: MarketplaceKind,
    base_url: Option<&str>,
    credentials_json: &str,
    clock: SharedClock,
    options: &ClientOptions,
) -> Result<Arc<dyn Marketplace>, ServiceError> {
    let bad = |e: String| ServiceError::Invalid(format!("{kind} credentials: {e}"));
    Ok(match kind {
        MarketplaceKind::Bol => {
            let creds =
                BolCredentials::from_json(credentials_json).map_err(|e| bad(e.to_string()))?;
            let config = base_url.map(BolConfig::for_base).unwrap_or_default();
            Arc::new(BolClient::new(config, creds, clock, options.retry))
        }
        MarketplaceKind::Amazon => {
            let creds = AmazonCredentials::from_json(credentials_json).map_err(|e| bad(e.0))?;
            let mut config = base_url.map(AmazonConfig::for_base).unwrap_or_default();
            if options.unpaced {
                let open = ordervault_connectors::amazon::UsagePlan {
                    rate: 1e6,
                    burst: 1_000_000,
                };
                config.get_orders = open;
                config.get_order_items = open;
                config.restricted_data_token = open;
            }
            let client = AmazonClient::new(config, creds, clock, options.retry);
            match &options.amazon_sleeper {
                Some(s) => Arc::new(client.with_sleeper(s.clone())),
                None => Arc::new(client),
            }
        }
        MarketplaceKind::Ebay => {
            let creds =
                EbayCredentials::from_json(credentials_json).map_err(|e| bad(e.to_string()))?;
            let mut config = base_url.map(EbayConfig::for_base).unwrap_or_default();
            if options.unpaced {
                config.pacing = ordervault_connectors::ebay::Pacing {
                    per_second: 1e6,
                    burst: 1_000_000,
                };
            }
            Arc::new(EbayClient::new(config, creds, clock, options.retry))
        }
    })
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

    #[test]
    fn credential_errors_never_echo_the_file() {
        let secret = "s3cr3t-value-xyz";
        for kind in MarketplaceKind::ALL {
            let json = format!("{{\"client_secret\": \"{secret}\"}}");
            let err = validate_credentials(kind, &json).unwrap_err().to_string();
            assert!(!err.contains(secret), "{kind}: {err}");
            let err = validate_credentials(kind, &format!("{secret} not json"))
                .unwrap_err()
                .to_string();
            assert!(!err.contains(secret), "{kind}: {err}");
        }
    }
}
