//! The connector seam: everything the service needs to turn a stored connection into a
//! live [`Marketplace`] client, so that no caller outside this crate matches on
//! [`MarketplaceKind`].
//!
//! - [`ConnectionSettings`]: the non-secret, per-connection settings (API and auth URL
//!   overrides, Amazon region, marketplace ids and Orders API version), checked once by
//!   [`ConnectionSettings::validate`].
//! - [`validate_credentials`]: checks a connection file without echoing it.
//! - [`endpoints`]: where a connection's calls go; the defaults are each marketplace's
//!   real production API and auth hosts.
//! - [`connect`]: builds the client.
//! - [`describe`]: what `connection list` and `GET /connections` show (hosts, marketplaces,
//!   a deprecation warning).
//!
//! Never puts a credential's value into an error or a log.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::amazon::{
    self, region, AmazonClient, AmazonConfig, AmazonCredentials, ApiVersion, Region, Sleeper,
};
use crate::bol::{BolClient, BolConfig, BolCredentials};
use crate::cap::RequestRate;
use crate::clock::SharedClock;
use crate::ebay::{EbayClient, EbayConfig, EbayCredentials};
use crate::http::RetryPolicy;
use crate::marketplace::Marketplace;
use crate::model::MarketplaceKind;
use crate::quota::Quotas;

/// A connection's settings besides its credentials. Every field is optional: the default
/// is the real marketplace in production (Amazon: region `eu`, Amazon.nl, v2026-01-01).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSettings {
    /// Replaces the marketplace's API root (a sandbox, a proxy, eBay's sandbox host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Replaces the token endpoint (full URL). Independent of `base_url`: a proxy for the
    /// API does not move LWA, bol's login or eBay's identity service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    /// Amazon: the selling region (`na`, `eu`, `fe`), which picks the production host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Amazon: the marketplaces to pull (ids from Amazon's published list, 1–50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marketplace_ids: Vec<String>,
    /// Amazon: `2026-01-01` (default) or `v0` (deprecated, removed 2027-03-27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<ApiVersion>,
    /// A cap on the client's requests per second, below whatever the API allows (the
    /// default: as fast as the marketplace's stated limits let it go).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_second: Option<RequestRate>,
}

/// Why a connection cannot be built. Messages name fields, never credential values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("{kind} credentials: {reason}")]
    Credentials {
        kind: MarketplaceKind,
        reason: String,
    },
    #[error("{0}")]
    Settings(String),
}

/// Checks a URL override: http(s), a host, no user info, no query or fragment. Returns
/// it without a trailing slash.
pub fn validate_url(what: &str, raw: &str) -> Result<String, ConnectError> {
    let bad = |why: &str| ConnectError::Settings(format!("{what}: {why}"));
    let u = url::Url::parse(raw.trim()).map_err(|_| bad("not a valid URL"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("must not carry user info"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("must not carry a query or fragment"));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

impl ConnectionSettings {
    /// Checks the settings for `kind` and returns them normalized: URLs parsed, Amazon
    /// marketplace ids checked against Amazon's list and the region, Amazon-only settings
    /// refused elsewhere.
    pub fn validate(&self, kind: MarketplaceKind) -> Result<Self, ConnectError> {
        let base_url = self
            .base_url
            .as_deref()
            .map(|u| validate_url("base URL", u))
            .transpose()?;
        let auth_url = self
            .auth_url
            .as_deref()
            .map(|u| validate_url("auth URL", u))
            .transpose()?;
        if kind != MarketplaceKind::Amazon {
            if self.region.is_some() || !self.marketplace_ids.is_empty() {
                return Err(ConnectError::Settings(format!(
                    "region and marketplace ids are Amazon settings, not {kind}"
                )));
            }
            if self.api_version.is_some() {
                return Err(ConnectError::Settings(format!(
                    "api_version is an Amazon setting, not {kind}"
                )));
            }
            return Ok(Self {
                base_url,
                auth_url,
                max_requests_per_second: self.max_requests_per_second,
                ..Self::default()
            });
        }
        let region = self.region.unwrap_or_default();
        let ids = if self.marketplace_ids.is_empty() {
            vec![region::default_marketplace(region).to_string()]
        } else {
            self.marketplace_ids.clone()
        };
        let checked = region::validate_marketplaces(region, &ids)
            .map_err(|e| ConnectError::Settings(e.to_string()))?;
        Ok(Self {
            base_url,
            auth_url,
            region: Some(region),
            marketplace_ids: checked.iter().map(|m| m.id.to_string()).collect(),
            api_version: Some(self.api_version.unwrap_or_default()),
            max_requests_per_second: self.max_requests_per_second,
        })
    }

    /// Settings of a connection stored before settings existed: its base URL served the
    /// token endpoint too (the sandboxes do), so auth follows it as it did then.
    pub fn legacy(kind: MarketplaceKind, base_url: Option<&str>) -> Self {
        let auth_url = base_url.map(|b| {
            let b = b.trim_end_matches('/');
            match kind {
                MarketplaceKind::Bol => format!("{b}/token"),
                MarketplaceKind::Amazon => format!("{b}/auth/o2/token"),
                MarketplaceKind::Ebay => format!("{b}/identity/v1/oauth2/token"),
            }
        });
        Self {
            base_url: base_url.map(str::to_owned),
            auth_url,
            ..Self::default()
        }
    }
}

/// Where a connection's calls go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    /// The API root.
    pub api: String,
    /// The token endpoint.
    pub auth: String,
}

/// Each marketplace's real production hosts (Amazon: per region).
pub fn production(kind: MarketplaceKind, region: Option<Region>) -> Endpoints {
    match kind {
        MarketplaceKind::Bol => {
            let c = BolConfig::default();
            Endpoints {
                api: c.api_base,
                auth: c.token_url,
            }
        }
        MarketplaceKind::Amazon => Endpoints {
            api: region.unwrap_or_default().endpoint().into(),
            auth: amazon::LWA_TOKEN_URL.into(),
        },
        MarketplaceKind::Ebay => {
            let c = EbayConfig::default();
            Endpoints {
                api: c.api_base,
                auth: c.token_url,
            }
        }
    }
}

/// The hosts a connection uses: production, with `base_url` and `auth_url` each
/// replacing its part.
pub fn endpoints(kind: MarketplaceKind, settings: &ConnectionSettings) -> Endpoints {
    let p = production(kind, settings.region);
    Endpoints {
        api: settings.base_url.clone().unwrap_or(p.api),
        auth: settings.auth_url.clone().unwrap_or(p.auth),
    }
}

/// Checks a connection file for the marketplace without echoing any of it.
pub fn validate_credentials(kind: MarketplaceKind, json: &str) -> Result<(), ConnectError> {
    let bad = |reason: String| ConnectError::Credentials { kind, reason };
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

/// How clients are built: production defaults, or test knobs.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// Retry and backoff of marketplace calls.
    pub retry: RetryPolicy,
    /// How clients wait for their rate budget and caps (tests advance a manual clock).
    /// Named for Amazon, which needed it first; eBay and connection caps use it too.
    pub amazon_sleeper: Option<Arc<dyn Sleeper>>,
    /// Drop client-side pacing: only for sandboxes started without rate limits
    /// (benchmarks, demos). Against a real marketplace this would earn 429s.
    pub unpaced: bool,
    /// The process's shared quotas: connections of one application (and, for Amazon,
    /// one seller) pace against one bucket. `None`: each client paces alone.
    pub quotas: Option<Arc<Quotas>>,
    /// The rates the marketplace announced to this connection in an earlier process
    /// (Amazon's `x-amzn-RateLimit-Limit`), paced at until it announces others.
    pub announced: crate::AnnouncedRates,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("retry", &self.retry)
            .field("unpaced", &self.unpaced)
            .finish_non_exhaustive()
    }
}

/// Builds the marketplace client for a connection.
pub fn connect(
    kind: MarketplaceKind,
    settings: &ConnectionSettings,
    credentials_json: &str,
    clock: SharedClock,
    options: &ConnectOptions,
) -> Result<Arc<dyn Marketplace>, ConnectError> {
    let settings = settings.validate(kind)?;
    let ep = endpoints(kind, &settings);
    let bad = |reason: String| ConnectError::Credentials { kind, reason };
    let sleeper: Arc<dyn Sleeper> = options
        .amazon_sleeper
        .clone()
        .unwrap_or_else(|| Arc::new(amazon::TokioSleeper));
    let cap = settings
        .max_requests_per_second
        .map(|r| r.pacer(clock.clone(), sleeper.clone()));
    Ok(match kind {
        MarketplaceKind::Bol => {
            let creds =
                BolCredentials::from_json(credentials_json).map_err(|e| bad(e.to_string()))?;
            let config = BolConfig {
                api_base: ep.api,
                token_url: ep.auth,
            };
            let client = BolClient::new(config, creds, clock, options.retry);
            match cap {
                Some(cap) => Arc::new(client.with_cap(cap)),
                None => Arc::new(client),
            }
        }
        MarketplaceKind::Amazon => {
            let creds = AmazonCredentials::from_json(credentials_json).map_err(|e| bad(e.0))?;
            let mut config = AmazonConfig {
                api_version: settings.api_version.unwrap_or_default(),
                lwa_url: ep.auth,
                endpoint: ep.api,
                marketplace_ids: settings.marketplace_ids.clone(),
                ..AmazonConfig::default()
            };
            if options.unpaced {
                let open = amazon::UsagePlan {
                    rate: 1e6,
                    burst: 1_000_000,
                };
                config.get_orders = open;
                config.get_order_items = open;
                config.restricted_data_token = open;
                config.search_orders = open;
                config.get_order = open;
            }
            let shared = options
                .quotas
                .as_ref()
                .filter(|_| !options.unpaced)
                .map(|q| q.amazon(&config, &creds, &clock, options.amazon_sleeper.clone()));
            let mut client = AmazonClient::new(config, creds, clock, options.retry);
            if let Some(s) = &options.amazon_sleeper {
                client = client.with_sleeper(s.clone());
            }
            if let Some(p) = shared {
                client = client.with_shared_pacers(p);
            }
            if !options.unpaced {
                client = client.with_announced_rates(&options.announced);
            }
            if let Some(cap) = cap {
                client = client.with_cap(cap);
            }
            Arc::new(client)
        }
        MarketplaceKind::Ebay => {
            let creds =
                EbayCredentials::from_json(credentials_json).map_err(|e| bad(e.to_string()))?;
            let mut config = EbayConfig {
                api_base: ep.api,
                token_url: ep.auth,
                ..EbayConfig::default()
            };
            if options.unpaced {
                config.pacing = crate::ebay::Pacing {
                    per_second: 1e6,
                    burst: 1_000_000,
                };
            }
            let shared = options.quotas.as_ref().map(|q| q.ebay(&creds.client_id));
            let mut client =
                EbayClient::new(config, creds, clock, options.retry).with_sleeper(sleeper);
            if options.unpaced {
                client = client.without_report();
            }
            if let Some(quota) = shared {
                client = client.with_shared_quota(quota);
            }
            if let Some(cap) = cap {
                client = client.with_cap(cap);
            }
            Arc::new(client)
        }
    })
}

/// One marketplace a connection pulls, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketplaceInfo {
    pub id: String,
    pub name: String,
    pub country: String,
    pub country_code: String,
}

/// What an operator sees about a connection's marketplace side (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionInfo {
    pub api_url: String,
    pub auth_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marketplaces: Vec<MarketplaceInfo>,
    /// Set when the connection uses an API the marketplace is retiring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<String>,
    /// The connection's own cap on requests per second; absent: as fast as the API allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_second: Option<RequestRate>,
}

/// Describes a connection's settings for `connection list` and `GET /connections`.
pub fn describe(kind: MarketplaceKind, settings: &ConnectionSettings) -> ConnectionInfo {
    let settings = settings.validate(kind).unwrap_or_else(|_| settings.clone());
    let ep = endpoints(kind, &settings);
    let amazon = kind == MarketplaceKind::Amazon;
    let version = settings.api_version.unwrap_or_default();
    ConnectionInfo {
        api_url: ep.api,
        auth_url: ep.auth,
        region: settings.region,
        api_version: amazon.then(|| version.as_str()),
        marketplaces: settings
            .marketplace_ids
            .iter()
            .filter_map(|id| region::marketplace(id))
            .map(|m| MarketplaceInfo {
                id: m.id.into(),
                name: m.name.into(),
                country: m.country.into(),
                country_code: m.country_code.into(),
            })
            .collect(),
        deprecation: if amazon { version.deprecation() } else { None },
        max_requests_per_second: settings.max_requests_per_second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_real_production_hosts() {
        let none = ConnectionSettings::default();
        let bol = endpoints(MarketplaceKind::Bol, &none);
        assert_eq!(bol.api, "https://api.bol.com");
        assert_eq!(bol.auth, "https://login.bol.com/token");
        let ebay = endpoints(MarketplaceKind::Ebay, &none);
        assert_eq!(ebay.api, "https://api.ebay.com");
        assert_eq!(ebay.auth, "https://api.ebay.com/identity/v1/oauth2/token");
        let amazon = endpoints(
            MarketplaceKind::Amazon,
            &none.validate(MarketplaceKind::Amazon).unwrap(),
        );
        assert_eq!(amazon.api, "https://sellingpartnerapi-eu.amazon.com");
        assert_eq!(amazon.auth, "https://api.amazon.com/auth/o2/token");
        for (region, host) in [
            (Region::Na, "https://sellingpartnerapi-na.amazon.com"),
            (Region::Eu, "https://sellingpartnerapi-eu.amazon.com"),
            (Region::Fe, "https://sellingpartnerapi-fe.amazon.com"),
        ] {
            let s = ConnectionSettings {
                region: Some(region),
                ..ConnectionSettings::default()
            }
            .validate(MarketplaceKind::Amazon)
            .unwrap();
            let ep = endpoints(MarketplaceKind::Amazon, &s);
            assert_eq!(ep.api, host);
            assert_eq!(ep.auth, "https://api.amazon.com/auth/o2/token");
        }
    }

    #[test]
    fn base_and_auth_urls_override_separately() {
        let s = ConnectionSettings {
            base_url: Some("http://proxy.internal:8080/".into()),
            ..ConnectionSettings::default()
        }
        .validate(MarketplaceKind::Bol)
        .unwrap();
        let ep = endpoints(MarketplaceKind::Bol, &s);
        assert_eq!(ep.api, "http://proxy.internal:8080");
        assert_eq!(ep.auth, "https://login.bol.com/token", "auth stays put");
        let s = ConnectionSettings {
            auth_url: Some("http://127.0.0.1:9/auth/o2/token".into()),
            ..ConnectionSettings::default()
        }
        .validate(MarketplaceKind::Amazon)
        .unwrap();
        let ep = endpoints(MarketplaceKind::Amazon, &s);
        assert_eq!(ep.api, "https://sellingpartnerapi-eu.amazon.com");
        assert_eq!(ep.auth, "http://127.0.0.1:9/auth/o2/token");
        for bad in [
            "ftp://x",
            "https://user:pw@host",
            "http://",
            "https://h/?q=1",
        ] {
            let s = ConnectionSettings {
                base_url: Some(bad.into()),
                ..ConnectionSettings::default()
            };
            assert!(s.validate(MarketplaceKind::Ebay).is_err(), "{bad}");
        }
    }

    #[test]
    fn amazon_settings_are_validated_and_described() {
        let s = ConnectionSettings {
            region: Some(Region::Eu),
            marketplace_ids: vec!["A1PA6795UKMFR9".into(), "A1F83G8C2ARO7P".into()],
            api_version: Some(ApiVersion::V0),
            ..ConnectionSettings::default()
        };
        let info = describe(MarketplaceKind::Amazon, &s);
        assert_eq!(
            info.marketplaces
                .iter()
                .map(|m| (m.name.as_str(), m.country.as_str()))
                .collect::<Vec<_>>(),
            [("Amazon.de", "Germany"), ("Amazon.co.uk", "United Kingdom")]
        );
        assert_eq!(info.api_version, Some("v0"));
        assert!(info.deprecation.unwrap().contains("2027-03-27"));
        let v2026 = describe(MarketplaceKind::Amazon, &ConnectionSettings::default());
        assert_eq!(v2026.api_version, Some("2026-01-01"));
        assert_eq!(v2026.deprecation, None);
        assert_eq!(v2026.marketplaces[0].name, "Amazon.nl");

        let wrong = ConnectionSettings {
            region: Some(Region::Na),
            marketplace_ids: vec!["A1PA6795UKMFR9".into()],
            ..ConnectionSettings::default()
        };
        assert!(wrong.validate(MarketplaceKind::Amazon).is_err());
        let bol = ConnectionSettings {
            region: Some(Region::Eu),
            ..ConnectionSettings::default()
        };
        assert!(bol.validate(MarketplaceKind::Bol).is_err());
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
