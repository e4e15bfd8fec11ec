//! ordervault-connectors: the canonical order model, the [`Marketplace`] trait that every
//! marketplace client implements, and (behind the `sandbox` feature) faithful fake
//! marketplaces for tests and demos.
//!
//! This crate knows nothing of storage or crypto: it turns marketplace payloads into
//! [`model::Order`]s and never logs their personal data.

pub mod amazon;
pub mod bol;
pub mod clock;
pub mod ebay;
pub mod http;
pub mod marketplace;
pub mod model;
#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use marketplace::{
    ConnectorError, FetchedOrder, Marketplace, OrderPage, PageToken, SyncHints, SyncWindow,
};
pub use model::{
    Address, Amounts, Customer, DeliveryWindow, Difference, FulfilmentMethod, InvalidOrderNumber,
    MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus, OrderTerms, PaymentStatus,
    PersonalText, PickupPoint,
};
