//! ordervault-connectors: the canonical order model, the [`Marketplace`] trait that every
//! marketplace client implements, and (behind the `sandbox` feature) faithful fake
//! marketplaces for tests and demos.
//!
//! This crate knows nothing of storage or crypto: it turns marketplace payloads into
//! [`model::Order`]s and never logs their personal data.
//!
//! # Layout
//! - [`marketplace`]: the `Marketplace` trait, the one seam the sync loop uses.
//! - [`connect`]: the connector seam for the service: connection settings (API and auth
//!   URLs, Amazon region, marketplaces, API version), real production defaults, `connect`.
//! - [`amazon`], [`bol`], [`ebay`]: one module per marketplace (wire types, normalizer,
//!   client); Amazon has Orders v2026-01-01 (default) and v0.
//! - [`http`], [`quota`], [`cap`]: shared plumbing: token cache, retries, quotas shared
//!   across connections of one application, a connection's own cap on requests/s.
//! - `sandbox` (feature): faithful fakes, `sandbox::start(kind, …)`.

pub mod amazon;
pub mod bol;
pub mod cap;
pub mod carriers;
pub mod clock;
pub mod connect;
pub mod ebay;
pub mod fulfilment;
pub mod http;
pub mod marketplace;
pub mod model;
pub mod quota;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use connect::{
    connect, describe, validate_credentials, ConnectError, ConnectOptions, ConnectionInfo,
    ConnectionSettings, Endpoints,
};
pub use marketplace::{
    AnnouncedRates, ConnectorError, FetchedOrder, Marketplace, OrderPage, PageToken, SyncHints,
    SyncWindow,
};
pub use model::{
    Address, Amounts, Customer, DeliveryWindow, Difference, FulfilmentMethod, InvalidOrderNumber,
    MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms, PaymentStatus,
    PersonalText, PickupPoint,
};
