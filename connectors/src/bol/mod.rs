//! bol.com Retailer API v10 connector: pulls a seller's orders through the client-credentials
//! flow, the `GET /retailer/orders` list and one `GET /retailer/orders/{id}` per order (the
//! list carries no personal data), and normalizes them into canonical [`Order`]s.
//!
//! Never logs or puts into an error: tokens, the client secret, or any personal value. Log
//! lines carry order ids, counts and HTTP statuses only.
//!
//! # How a window is listed
//! bol's list has no time-range filter. It offers `change-interval-minute` (the last ≤ 60
//! minutes, relative to bol's clock) and `latest-change-date` (one calendar day, up to three
//! months back). [`BolClient`] picks per window:
//! - **interval mode** when the window starts well inside the last hour (the normal 5–15
//!   minute poll): one walk with `change-interval-minute=60`, filtered client-side. The
//!   spare minutes are paging time: the interval slides with bol's clock while the walk
//!   pages, and if the window start would slide out of it, the walk continues in day mode;
//! - **day mode** otherwise (catch-up after downtime, daily reconciliation): one walk per
//!   calendar day the window touches, with `latest-change-date`.
//!
//! In both modes every order with an item whose `latestChangedDateTime` is at or after the
//! window start is fetched in detail (the detail is the current state, so returning an order
//! changed again after the window end is harmless). Both modes send `status=ALL` and
//! `fulfilment-method=ALL` explicitly (older spec defaults were `OPEN`/`FBR`).
//!
//! # Paging quirks
//! The list is sorted newest first by creation time, 50 per page, without a cursor. A new
//! order arriving mid-walk pushes everything down (duplicates); an item leaving the filter
//! pulls everything up (skips). Each page after the first therefore re-reads the previous
//! page too, and a walk remembers which orders it already returned (dedupe on `orderId`).
//!
//! [`Order`]: crate::model::Order

mod client;
pub mod normalize;
mod shipments;
mod transport;
pub mod wire;

use std::fmt;

use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use client::BolClient;
pub use shipments::BolFulfilment;

/// Where the bol API lives. Production by default; [`BolConfig::for_base`] points every URL
/// at a sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BolConfig {
    /// Base of the Retailer API, without a trailing slash; paths start with `/retailer`.
    pub api_base: String,
    /// The OAuth2 token endpoint (bol serves it from a different host than the API).
    pub token_url: String,
}

impl Default for BolConfig {
    fn default() -> Self {
        Self {
            api_base: "https://api.bol.com".into(),
            token_url: "https://login.bol.com/token".into(),
        }
    }
}

impl BolConfig {
    /// Both the API and the token endpoint on one server (the sandbox serves `/token` and
    /// `/retailer/...`), e.g. `BolConfig::for_base("http://127.0.0.1:4000")`.
    pub fn for_base(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        Self {
            api_base: base.to_owned(),
            token_url: format!("{base}/token"),
        }
    }
}

/// A seller's bol API credentials (client id and secret from the seller dashboard). This is
/// what a bol connection file holds. `Debug` shows nothing and both values are zeroized on
/// drop, because either one lets anyone read the seller's customers.
#[derive(Clone, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct BolCredentials {
    #[serde(alias = "clientId")]
    pub client_id: String,
    #[serde(alias = "clientSecret")]
    pub client_secret: String,
}

/// Why a connection file could not be read. Never echoes the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("connection file is not a JSON object with client_id and client_secret")]
    Malformed,
    #[error("connection file lacks {0}")]
    Missing(&'static str),
}

impl BolCredentials {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }

    /// Reads a connection file: `{"client_id": "...", "client_secret": "..."}` (camelCase
    /// keys accepted). Errors name the missing key only, never a value.
    pub fn from_json(json: &str) -> Result<Self, CredentialsError> {
        // serde_json's messages can quote the offending value, which here is a secret, so
        // they are never passed on.
        let creds: Self = serde_json::from_str(json).map_err(|e| {
            let msg = e.to_string();
            if msg.starts_with("missing field `client_id`") {
                CredentialsError::Missing("client_id")
            } else if msg.starts_with("missing field `client_secret`") {
                CredentialsError::Missing("client_secret")
            } else {
                CredentialsError::Malformed
            }
        })?;
        if creds.client_id.trim().is_empty() {
            return Err(CredentialsError::Missing("client_id"));
        }
        if creds.client_secret.trim().is_empty() {
            return Err(CredentialsError::Missing("client_secret"));
        }
        Ok(creds)
    }
}

impl fmt::Debug for BolCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BolCredentials(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_and_never_print() {
        let c = BolCredentials::from_json(r#"{"client_id":"abc-id","client_secret":"s3cr3t"}"#)
            .unwrap();
        assert_eq!(c.client_id, "abc-id");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t") && !dbg.contains("abc-id"), "{dbg}");
        let camel =
            BolCredentials::from_json(r#"{"clientId":"abc-id","clientSecret":"s3cr3t"}"#).unwrap();
        assert_eq!(camel.client_secret, "s3cr3t");
        assert_eq!(
            BolCredentials::from_json(r#"{"client_id":"abc-id"}"#).unwrap_err(),
            CredentialsError::Missing("client_secret")
        );
        let bad = BolCredentials::from_json(r#"{"client_id":"abc-id","client_secret":42}"#)
            .unwrap_err()
            .to_string();
        assert!(!bad.contains("42") && !bad.contains("abc-id"), "{bad}");
    }

    #[test]
    fn for_base_points_both_urls_at_the_sandbox() {
        let c = BolConfig::for_base("http://127.0.0.1:9/");
        assert_eq!(c.api_base, "http://127.0.0.1:9");
        assert_eq!(c.token_url, "http://127.0.0.1:9/token");
        assert_eq!(
            BolConfig::default().token_url,
            "https://login.bol.com/token"
        );
    }
}
