//! The `Marketplace` trait: the one seam between the sync loop and a marketplace client.
//!
//! A client pages through the orders changed in a time window and hands back canonical
//! orders. Paging state is an opaque [`PageToken`] so the sync loop can be shared by all
//! marketplaces (bol pages by number, Amazon by NextToken, eBay by offset).

use chrono::{DateTime, Utc};

use crate::model::{MarketplaceKind, Order};

/// The time window a poll covers: orders whose marketplace last-change time falls in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Opaque continuation of a paged listing, understood only by the client that issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(pub String);

/// One order from a page: normalized, or the reason it could not be. The error text never
/// holds personal data, only field names and the marketplace's order id.
#[derive(Debug, Clone)]
pub enum FetchedOrder {
    Ok(Box<Order>),
    Failed {
        marketplace_order_id: String,
        error: String,
    },
}

/// A page of orders and the token for the next page, if any.
#[derive(Debug, Clone, Default)]
pub struct OrderPage {
    pub orders: Vec<FetchedOrder>,
    pub next: Option<PageToken>,
}

/// What can go wrong talking to a marketplace. Messages carry no secrets and no personal data.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The credential was revoked or is wrong; a human must re-authorize the connection.
    #[error("credentials rejected, re-authorization needed: {reason}")]
    NeedsReauth { reason: String },
    /// Throttled and out of retries for now.
    #[error("rate limited by the marketplace")]
    RateLimited {
        retry_after: Option<std::time::Duration>,
    },
    /// A 5xx, timeout or connection failure that outlived the retries.
    #[error("marketplace unavailable: {0}")]
    Unavailable(String),
    /// The marketplace answered with something we cannot read (HTML, malformed JSON, wrong shape).
    #[error("unexpected response from the marketplace: {0}")]
    Protocol(String),
    /// The marketplace refused our request as invalid (a bug on our side or a config error).
    #[error("request rejected by the marketplace: {0}")]
    Rejected(String),
}

/// How the sync loop should shape its windows for a marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncHints {
    /// Changes younger than this may not be listed yet (Amazon: `*Before` ≥ 2 min ago);
    /// windows end this far before now.
    pub visibility_delay: chrono::Duration,
    /// How far each window reaches back before the last cursor, to catch late listings.
    pub overlap: chrono::Duration,
    /// The longest window one listing may cover (the loop splits longer ones).
    pub max_window: chrono::Duration,
}

impl Default for SyncHints {
    fn default() -> Self {
        Self {
            visibility_delay: chrono::Duration::minutes(2),
            overlap: chrono::Duration::minutes(15),
            max_window: chrono::Duration::days(1),
        }
    }
}

/// The request rates (requests per second, by operation name) a marketplace announced
/// for a connection, above or below its documented defaults. Kept across restarts so a
/// fresh process paces at what the marketplace last said instead of relearning it: a
/// throttled first call would otherwise wait a whole default refill (3 minutes for
/// Amazon's searchOrders) before the next response could announce the real rate.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AnnouncedRates(pub std::collections::BTreeMap<String, f64>);

impl AnnouncedRates {
    /// The announced rate of `operation`, if a usable one was announced.
    pub fn get(&self, operation: &str) -> Option<f64> {
        self.0
            .get(operation)
            .copied()
            .filter(|r| r.is_finite() && *r > 0.0)
    }

    /// Nothing announced.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A marketplace client bound to one seller's connection.
#[async_trait::async_trait]
pub trait Marketplace: Send + Sync {
    /// Which marketplace this client talks to.
    fn kind(&self) -> MarketplaceKind;

    /// Window shaping for this marketplace's listing semantics.
    fn sync_hints(&self) -> SyncHints {
        SyncHints::default()
    }

    /// The rates the marketplace announced to this client so far (empty where the
    /// marketplace announces none, or states its limits in every response anyway).
    fn announced_rates(&self) -> AnnouncedRates {
        AnnouncedRates::default()
    }

    /// Fetches one page of the orders changed within `window`, with full details and the
    /// personal data the marketplace releases. `page` is `None` for the first page.
    async fn fetch_page(
        &self,
        window: SyncWindow,
        page: Option<PageToken>,
    ) -> Result<OrderPage, ConnectorError>;
}
