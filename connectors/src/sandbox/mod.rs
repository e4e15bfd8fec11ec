//! Sandbox marketplaces: faithful fakes of the bol.com, Amazon SP-API and eBay order APIs
//! (paths, auth, paging, token expiry, rate limits, injected faults), deterministic from a
//! seed, served on 127.0.0.1. Tests, benchmarks and the demo use them; a seller can point
//! a connection at one to try ordervault without marketplace credentials.
//!
//! Each marketplace module exposes `start(SandboxConfig, SharedClock) -> SandboxHandle`;
//! [`start`] picks one by [`MarketplaceKind`], and [`SandboxHandle::settings`] gives the
//! connection settings (API and auth URL) that point a connection at it.

pub mod amazon;
pub mod bol;
pub mod ebay;
pub mod listing;
pub mod support;
pub mod world;

use std::net::SocketAddr;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::connect::ConnectionSettings;
use crate::model::{MarketplaceKind, Order};

/// Starts the sandbox of `kind` with default marketplace-specific options.
pub async fn start(
    kind: MarketplaceKind,
    config: SandboxConfig,
    clock: SharedClock,
) -> std::io::Result<SandboxHandle> {
    match kind {
        MarketplaceKind::Bol => bol::start(config, clock).await,
        MarketplaceKind::Amazon => amazon::start(config, clock).await,
        MarketplaceKind::Ebay => ebay::start(config, clock).await,
    }
}

/// The token endpoint's path on each sandbox (the same path as in production).
pub fn auth_path(kind: MarketplaceKind) -> &'static str {
    match kind {
        MarketplaceKind::Bol => "/token",
        MarketplaceKind::Amazon => "/auth/o2/token",
        MarketplaceKind::Ebay => "/identity/v1/oauth2/token",
    }
}

/// How a sandbox behaves. Every knob has a default that makes a realistic but fast fake.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// How many orders the sandbox's world holds.
    pub orders: usize,
    /// Seed for every random choice: same seed, same orders, same faults.
    pub seed: u64,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Emulate the marketplace's rate limits (429s). Off for throughput benchmarks.
    pub rate_limits: bool,
    /// Fraction (0.0–1.0) of API calls answered with an injected fault (5xx, HTML body, 429).
    pub fault_rate: f64,
    /// Override of the access-token lifetime (the marketplace's own when `None`).
    pub token_lifetime: Option<Duration>,
    /// Client id and secret (or refresh token) the sandbox accepts.
    pub credentials: SandboxCredentials,
    /// How far before the clock's start time the world's orders begin.
    pub history: chrono::Duration,
    /// Orders keep arriving over this span after start (new orders while syncing).
    pub arrival_span: chrono::Duration,
    /// The first this-many orders of the world are served malformed (a field a client
    /// cannot read, sometimes holding a buyer's data): each must fail alone, leaking
    /// nothing. Every sandbox honours it, so the contract suite can test it generically.
    pub malformed_orders: usize,
}

impl SandboxConfig {
    /// The world this configuration describes, anchored at `anchor` (the clock at start).
    pub fn world_spec(
        &self,
        marketplace: crate::model::MarketplaceKind,
        anchor: chrono::DateTime<chrono::Utc>,
    ) -> world::WorldSpec {
        world::WorldSpec {
            marketplace,
            orders: self.orders,
            seed: self.seed,
            anchor,
            history: self.history,
            arrival_span: self.arrival_span,
        }
    }
}

/// The credentials a sandbox accepts; a connection file with these values works against it.
#[derive(Debug, Clone)]
pub struct SandboxCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// Amazon and eBay: the seller's refresh token.
    pub refresh_token: String,
}

impl SandboxCredentials {
    /// The connection file (credentials JSON) of `kind` with these values.
    pub fn connection_file(&self, kind: MarketplaceKind) -> String {
        match kind {
            MarketplaceKind::Bol => serde_json::json!({
                "client_id": self.client_id, "client_secret": self.client_secret
            }),
            MarketplaceKind::Amazon | MarketplaceKind::Ebay => serde_json::json!({
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": self.refresh_token
            }),
        }
        .to_string()
    }
}

impl Default for SandboxCredentials {
    fn default() -> Self {
        Self {
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            refresh_token: "sandbox-refresh-token".into(),
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            orders: 200,
            seed: 1,
            port: 0,
            rate_limits: true,
            fault_rate: 0.0,
            token_lifetime: None,
            credentials: SandboxCredentials::default(),
            history: chrono::Duration::days(7),
            arrival_span: chrono::Duration::hours(2),
            malformed_orders: 0,
        }
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    /// Where it listens; the connection's base URL is `http://{addr}`.
    pub addr: SocketAddr,
    /// What the marketplace holds right now, in canonical form, with the personal data a
    /// fully authorized client would see: the ground truth a sync must converge to.
    pub ground_truth: Box<dyn Fn() -> Vec<Order> + Send + Sync>,
    /// Forces every issued access token to expire now (for mid-paging expiry tests).
    pub expire_tokens: Box<dyn Fn() + Send + Sync>,
    /// Revokes the credential: every later token request fails as the real API would.
    pub revoke_credentials: Box<dyn Fn() + Send + Sync>,
    /// How many token requests the sandbox has answered (to catch token-cache bugs).
    pub token_requests: Box<dyn Fn() -> u64 + Send + Sync>,
    /// The shipments and cancellations the sandbox accepted (each exactly once).
    pub pushes: world::Pushes,
    /// Stops the server.
    pub shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SandboxHandle {
    /// The API root of this sandbox (`--base-url`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token endpoint of this sandbox (`--auth-url`) when it plays `kind`.
    pub fn auth_url(&self, kind: MarketplaceKind) -> String {
        format!("http://{}{}", self.addr, auth_path(kind))
    }

    /// Connection settings that point both the API and auth at this sandbox.
    pub fn settings(&self, kind: MarketplaceKind) -> ConnectionSettings {
        ConnectionSettings {
            base_url: Some(self.base_url()),
            auth_url: Some(self.auth_url(kind)),
            ..ConnectionSettings::default()
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
