//! eBay Sell Fulfillment API v1 connector.
//!
//! A seller's connection holds an OAuth refresh token (from the authorization-code
//! consent flow, valid about 18 months). The client trades it for a 2-hour user access
//! token, cached in memory and reused until it expires (one token request per lifetime),
//! and pages through `GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[from..to]`.
//! getOrders already carries every order's full details and the personal data eBay
//! releases, so no per-order detail call is needed.
//!
//! Never logs or returns in an error a token, a secret or any personal value: tracing
//! carries order ids, counts, offsets and status codes only.
//!
//! Files: [`wire`] (serde types named after the OpenAPI schemas), [`normalize`] (wire →
//! canonical), [`client`] (auth, paging, retries), [`budget`] (pacing to the quota eBay
//! reports).

pub mod budget;
pub mod client;
pub mod normalize;
mod pacer;
mod shipments;
pub mod wire;

use std::time::Duration;

use zeroize::{Zeroize, ZeroizeOnDrop};

pub use client::EbayClient;
pub use shipments::EbayFulfilment;

/// The scope createShippingFulfillment needs (read and write).
pub const SCOPE_FULFILLMENT: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment";

/// The scope getOrders needs; read-only, because ordervault never writes to eBay.
pub const SCOPE_FULFILLMENT_READONLY: &str =
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly";

/// eBay's maximum `limit` for getOrders (31100 above it).
pub const MAX_PAGE_SIZE: u32 = 200;

/// Where the client sends its calls and how hard it pushes. Defaults are production.
#[derive(Debug, Clone)]
pub struct EbayConfig {
    /// API root without a path: `https://api.ebay.com`. getOrders lives under
    /// `/sell/fulfillment/v1`, the quota report under `/developer/analytics/v1_beta`.
    pub api_base: String,
    /// The identity service's token endpoint.
    pub token_url: String,
    /// Scope asked for on refresh: must be a subset of what the seller consented to.
    pub scope: String,
    /// getOrders `limit`: 200 (the maximum) spends the fewest calls of the daily quota.
    pub page_size: u32,
    /// Fixed pacing for when eBay's rate-limit report cannot be read (getOrders then
    /// paces to the report, see [`budget`]), and for shipment pushes.
    pub pacing: Pacing,
}

/// A token bucket on real time: `per_second` calls refill, up to `burst` at once.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub per_second: f64,
    pub burst: u32,
}

impl Default for Pacing {
    /// One call a second per connection with a burst of ten: a full sync of a busy
    /// seller (2,000 changed orders = 10 pages) goes through at once, and a connection
    /// can never use more than 86,400 calls a day on its own.
    fn default() -> Self {
        Self {
            per_second: 1.0,
            burst: 10,
        }
    }
}

impl Default for EbayConfig {
    fn default() -> Self {
        Self {
            api_base: "https://api.ebay.com".into(),
            token_url: "https://api.ebay.com/identity/v1/oauth2/token".into(),
            scope: SCOPE_FULFILLMENT_READONLY.into(),
            page_size: MAX_PAGE_SIZE,
            pacing: Pacing::default(),
        }
    }
}

impl EbayConfig {
    /// Production settings pointed at another root (the sandbox, `http://127.0.0.1:port`,
    /// or eBay's own `https://api.sandbox.ebay.com`): API and token endpoint both move.
    pub fn for_base(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        Self {
            api_base: base.to_string(),
            token_url: format!("{base}/identity/v1/oauth2/token"),
            ..Self::default()
        }
    }
}

/// What a seller's eBay connection file holds: the app's client id and secret and the
/// seller's refresh token. Debug shows none of it; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EbayCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for EbayCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EbayCredentials(<redacted>)")
    }
}

/// Why a connection file could not be read. Names fields, never echoes content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("connection file is not a JSON object")]
    NotAnObject,
    #[error("connection file: `{0}` is missing or not a non-empty string")]
    Missing(&'static str),
}

impl EbayCredentials {
    /// Reads a connection file: `{"client_id": …, "client_secret": …, "refresh_token": …}`
    /// (camelCase keys are accepted too). Unknown keys are ignored.
    pub fn from_json(json: &str) -> Result<Self, CredentialsError> {
        let mut value: serde_json::Value =
            serde_json::from_str(json).map_err(|_| CredentialsError::NotAnObject)?;
        let obj = value.as_object().ok_or(CredentialsError::NotAnObject)?;
        let field = |snake: &'static str, camel: &str| {
            obj.get(snake)
                .or_else(|| obj.get(camel))
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or(CredentialsError::Missing(snake))
        };
        let creds = Self {
            client_id: field("client_id", "clientId")?,
            client_secret: field("client_secret", "clientSecret")?,
            refresh_token: field("refresh_token", "refreshToken")?,
        };
        zeroize_value(&mut value);
        Ok(creds)
    }
}

/// Wipes the strings of a parsed connection file before it is dropped.
fn zeroize_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(zeroize_value),
        serde_json::Value::Object(o) => o.values_mut().for_each(zeroize_value),
        _ => {}
    }
}

/// A retry delay the HTTP layer can wait out; longer ones go back to the sync worker.
pub(crate) fn short(d: Duration, policy: &crate::http::RetryPolicy) -> bool {
    d <= policy.max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_file_parses_and_never_prints() {
        let c = EbayCredentials::from_json(
            r#"{"client_id":"app-1","clientSecret":"s3cret","refresh_token":"v^1.1#r","marketplace":"ebay"}"#,
        )
        .unwrap();
        assert_eq!(c.client_secret, "s3cret");
        assert_eq!(c.refresh_token, "v^1.1#r");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret") && !dbg.contains("v^1"), "{dbg}");
        let err = EbayCredentials::from_json(r#"{"client_id":"a","client_secret":"b"}"#);
        assert_eq!(err.unwrap_err(), CredentialsError::Missing("refresh_token"));
        let err = EbayCredentials::from_json("s3cret").unwrap_err();
        assert!(!err.to_string().contains("s3cret"));
    }

    #[test]
    fn for_base_moves_both_endpoints() {
        let c = EbayConfig::for_base("http://127.0.0.1:9/");
        assert_eq!(c.api_base, "http://127.0.0.1:9");
        assert_eq!(c.token_url, "http://127.0.0.1:9/identity/v1/oauth2/token");
        assert_eq!(EbayConfig::default().page_size, 200);
    }
}
