//! Amazon Selling Partner API connector, bound to one seller's connection.
//!
//! Two Orders API versions, chosen per connection ([`ApiVersion`]):
//!
//! - **v2026-01-01 (default)**: one `searchOrders` call per page
//!   (`GET /orders/2026-01-01/orders` with `lastUpdatedAfter`/`Before`, the connection's
//!   `marketplaceIds` and `includedData=BUYER,RECIPIENT,PROCEEDS,FULFILLMENT`, paging by
//!   `paginationToken`) brings items, buyer and recipient in one answer: no Restricted
//!   Data Token, no per-order calls. `getOrder` refreshes one order. Usage plans:
//!   searchOrders 0.0056 rps / burst 20, getOrder 0.5 / 30.
//! - **v0 (deprecated; Amazon removes it on 2027-03-27)**, as follows.
//!
//! How a v0 sync page is fetched (APIS.md §2):
//! 1. A Login with Amazon (LWA) access token from the seller's refresh token, cached for
//!    its hour and refreshed when the API answers 403 `Unauthorized` (expired).
//! 2. A Restricted Data Token (RDT) for `GET /orders/v0/orders` with the `buyerInfo` and
//!    `shippingAddress` data elements, also cached for its hour: getOrders then carries
//!    the buyer's name, address and phone in bulk, instead of two per-order PII calls at
//!    0.5 requests per second each.
//! 3. getOrders with `LastUpdatedAfter`/`LastUpdatedBefore` = the window, repeating the
//!    filters with every `NextToken`; then getOrderItems (own `NextToken`) per order.
//!
//! Each operation is paced on the injected clock to its usage plan (getOrders: one call a
//! minute after a burst of 20), 429s back off by the known rate, 5xx/HTML/timeouts are
//! retried. This module never logs or returns a token, a secret or a buyer's data:
//! logs carry operation names, order ids, counts and Amazon's request ids only.

mod client;
pub mod normalize;
pub mod normalize_v2026;
pub mod pacing;
pub mod region;
mod response;
mod search;
mod shipments;
pub mod wire;
pub mod wire_v2026;

use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use client::AmazonClient;
pub use pacing::{ClockSleeper, Sleeper, TokioSleeper, UsagePlan};
pub use region::{AmazonMarketplace, InvalidMarketplace, Region};
pub use shipments::{AmazonFulfilment, CONFIRM_SHIPMENT_PLAN};

/// Which Orders API a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ApiVersion {
    /// Orders v0 (getOrders + getOrderItems + RDT). Deprecated by Amazon.
    #[serde(rename = "v0")]
    V0,
    /// Orders API v2026-01-01 (searchOrders with includedData, getOrder).
    #[default]
    #[serde(rename = "2026-01-01")]
    V2026,
}

/// The day Amazon removes Orders v0 (getOrders, getOrderItems, …).
pub const V0_REMOVAL_DATE: &str = "2027-03-27";

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0 => "v0",
            Self::V2026 => "2026-01-01",
        }
    }

    /// A warning for the operator when the version is on its way out, else `None`.
    pub fn deprecation(self) -> Option<String> {
        match self {
            Self::V0 => Some(format!(
                "Amazon Orders API v0 is deprecated and will be removed on {V0_REMOVAL_DATE}; \
                 switch this connection to api_version 2026-01-01"
            )),
            Self::V2026 => None,
        }
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "v0" | "0" => Ok(Self::V0),
            "2026-01-01" | "v2026-01-01" | "v2026" => Ok(Self::V2026),
            _ => Err("unknown Amazon api_version: expected v0 or 2026-01-01".into()),
        }
    }
}

/// The Login with Amazon token endpoint (all regions).
pub const LWA_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
/// The SP-API endpoint for Europe (incl. UK, TR, EG, IN, SA, AE).
pub const EU_ENDPOINT: &str = "https://sellingpartnerapi-eu.amazon.com";
/// The SP-API endpoint for North America.
pub const NA_ENDPOINT: &str = "https://sellingpartnerapi-na.amazon.com";
/// The SP-API endpoint for the Far East.
pub const FE_ENDPOINT: &str = "https://sellingpartnerapi-fe.amazon.com";
/// Amazon.nl.
pub const MARKETPLACE_NL: &str = "A1805IZSGTT6HS";

/// getOrders' documented plan: 0.0167 rps (one a minute), burst 20.
pub const GET_ORDERS_PLAN: UsagePlan = UsagePlan {
    rate: 0.0167,
    burst: 20,
};
/// getOrderItems' (and getOrder, getOrderAddress, getOrderBuyerInfo) plan: 0.5 rps, burst 30.
pub const GET_ORDER_ITEMS_PLAN: UsagePlan = UsagePlan {
    rate: 0.5,
    burst: 30,
};
/// searchOrders' (v2026-01-01) documented plan: 0.0056 rps (one call in 3 minutes), burst 20.
pub const SEARCH_ORDERS_PLAN: UsagePlan = UsagePlan {
    rate: 0.0056,
    burst: 20,
};
/// getOrder's (v2026-01-01) documented plan: 0.5 rps, burst 30.
pub const GET_ORDER_PLAN: UsagePlan = UsagePlan {
    rate: 0.5,
    burst: 30,
};
/// createRestrictedDataToken's plan: 1 rps, burst 10.
pub const RESTRICTED_DATA_TOKEN_PLAN: UsagePlan = UsagePlan {
    rate: 1.0,
    burst: 10,
};

/// Where and how to talk to Amazon for one connection. Defaults: Orders v2026-01-01,
/// production LWA, the EU endpoint, Amazon.nl, 100 orders a page, the documented default
/// usage plans (replaced by what `x-amzn-RateLimit-Limit` says once Amazon answers).
#[derive(Debug, Clone)]
pub struct AmazonConfig {
    /// Which Orders API to call.
    pub api_version: ApiVersion,
    /// The LWA token endpoint.
    pub lwa_url: String,
    /// The regional SP-API endpoint, without a trailing slash.
    pub endpoint: String,
    /// `MarketplaceIds` sent with every getOrders call (1–50).
    pub marketplace_ids: Vec<String>,
    /// `MaxResultsPerPage` for getOrders (1–100).
    pub page_size: u8,
    /// Pacing for searchOrders (v2026-01-01).
    pub search_orders: UsagePlan,
    /// Pacing for getOrder (v2026-01-01).
    pub get_order: UsagePlan,
    /// Pacing for getOrders; raise only if Amazon granted the seller a larger plan.
    pub get_orders: UsagePlan,
    /// Pacing for getOrderItems.
    pub get_order_items: UsagePlan,
    /// Pacing for createRestrictedDataToken.
    pub restricted_data_token: UsagePlan,
}

impl Default for AmazonConfig {
    fn default() -> Self {
        Self {
            api_version: ApiVersion::default(),
            lwa_url: LWA_TOKEN_URL.into(),
            endpoint: EU_ENDPOINT.into(),
            marketplace_ids: vec![MARKETPLACE_NL.into()],
            page_size: 100,
            search_orders: SEARCH_ORDERS_PLAN,
            get_order: GET_ORDER_PLAN,
            get_orders: GET_ORDERS_PLAN,
            get_order_items: GET_ORDER_ITEMS_PLAN,
            restricted_data_token: RESTRICTED_DATA_TOKEN_PLAN,
        }
    }
}

impl AmazonConfig {
    /// The production hosts of `region`, with its home marketplace.
    pub fn for_region(region: Region) -> Self {
        Self {
            endpoint: region.endpoint().into(),
            marketplace_ids: vec![region::default_marketplace(region).into()],
            ..Self::default()
        }
    }

    /// Points LWA and the SP-API at one base URL (a sandbox): LWA at
    /// `{base}/auth/o2/token`, the API at `{base}/orders/…`.
    pub fn for_base(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        Self {
            lwa_url: format!("{base}/auth/o2/token"),
            endpoint: base.to_string(),
            ..Self::default()
        }
    }
}

/// A seller's LWA credentials, as the connection file holds them. `Debug` shows only the
/// (public) client id; everything is zeroized on drop.
#[derive(Clone, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct AmazonCredentials {
    #[serde(alias = "clientId")]
    pub client_id: String,
    #[serde(alias = "clientSecret")]
    pub client_secret: String,
    #[serde(alias = "refreshToken")]
    pub refresh_token: String,
}

impl std::fmt::Debug for AmazonCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

/// Why a connection file could not be read. Never quotes the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Amazon connection file: {0}")]
pub struct InvalidCredentials(pub String);

impl AmazonCredentials {
    /// Reads `{"client_id", "client_secret", "refresh_token"}` (or the SDKs' camelCase
    /// `clientId`, `clientSecret`, `refreshToken`). Errors name the problem, not the
    /// content: serde's own messages may quote a secret.
    pub fn from_json(json: &str) -> Result<Self, InvalidCredentials> {
        let creds: Self = serde_json::from_str(json).map_err(|e| {
            InvalidCredentials(match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    format!("not valid JSON (line {}, column {})", e.line(), e.column())
                }
                _ => "expected string fields client_id, client_secret and refresh_token".into(),
            })
        })?;
        for (name, value) in [
            ("client_id", &creds.client_id),
            ("client_secret", &creds.client_secret),
            ("refresh_token", &creds.refresh_token),
        ] {
            if value.trim().is_empty() {
                return Err(InvalidCredentials(format!("{name} is empty")));
            }
        }
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_both_spellings_and_never_echo_secrets() {
        let a = AmazonCredentials::from_json(
            r#"{"client_id":"amzn1.application-oa2-client.x","client_secret":"s3cr3t","refresh_token":"Atzr|r3fr3sh"}"#,
        )
        .unwrap();
        let b = AmazonCredentials::from_json(
            r#"{"clientId":"amzn1.application-oa2-client.x","clientSecret":"s3cr3t","refreshToken":"Atzr|r3fr3sh"}"#,
        )
        .unwrap();
        assert_eq!(a.refresh_token, b.refresh_token);
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("s3cr3t") && !dbg.contains("r3fr3sh"), "{dbg}");

        let e = AmazonCredentials::from_json(
            r#"{"client_id":"x","client_secret":7,"refresh_token":"Atzr|r3fr3sh"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("r3fr3sh"), "{e}");
        let e = AmazonCredentials::from_json(
            r#"{"client_id":"x","client_secret":"s3cr3t","refresh_token":" "}"#,
        )
        .unwrap_err();
        assert_eq!(e.0, "refresh_token is empty");
        assert!(AmazonCredentials::from_json("Atzr|r3fr3sh")
            .unwrap_err()
            .0
            .starts_with("not valid JSON"));
    }

    #[test]
    fn for_base_points_everything_at_the_sandbox() {
        let c = AmazonConfig::for_base("http://127.0.0.1:9/");
        assert_eq!(c.lwa_url, "http://127.0.0.1:9/auth/o2/token");
        assert_eq!(c.endpoint, "http://127.0.0.1:9");
        assert_eq!(AmazonConfig::default().lwa_url, LWA_TOKEN_URL);
    }
}
