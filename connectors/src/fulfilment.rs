//! The second seam between the service and a marketplace: pushing what the seller did
//! (shipments with tracking, cancellations) back to the marketplace.
//!
//! A [`Fulfilment`] client makes exactly one attempt per call and says what happened;
//! retries, backoff and ordering belong to the service's outbox, which calls again with
//! the same [`ShipmentPush::idempotency_key`] so a retry never creates a second shipment.
//! Requests carry business data only (line ids, quantities, carrier, tracking number);
//! errors and reasons never quote personal data.

use chrono::{DateTime, Utc};

use crate::carriers::Carrier;
use crate::marketplace::ConnectorError;
use crate::model::{MarketplaceKind, OrderNumber};

/// A line and how many of its units a push covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushLine {
    /// The marketplace's line id (bol `orderItemId`, Amazon `OrderItemId`, eBay `lineItemId`).
    pub line_id: String,
    pub quantity: u32,
}

/// A shipment to confirm at the marketplace.
#[derive(Debug, Clone)]
pub struct ShipmentPush {
    pub order_number: OrderNumber,
    pub lines: Vec<PushLine>,
    pub carrier: Carrier,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub shipped_at: DateTime<Utc>,
    /// Stable for this request across every retry (bol `shipmentReference`).
    pub idempotency_key: String,
    /// A positive number unique per request (Amazon `packageReferenceId`).
    pub package_number: i64,
}

/// The common cancellation reasons a backoffice picks from; each marketplace gets its
/// own code for it ([`CancelReason::bol_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    OutOfStock,
    RequestedByCustomer,
    BadCondition,
    IncorrectPrice,
    NotAvailableInTime,
    Other,
}

impl CancelReason {
    /// Every reason, in the order the API documents them.
    pub const ALL: [CancelReason; 6] = [
        Self::OutOfStock,
        Self::RequestedByCustomer,
        Self::BadCondition,
        Self::IncorrectPrice,
        Self::NotAvailableInTime,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfStock => "out_of_stock",
            Self::RequestedByCustomer => "requested_by_customer",
            Self::BadCondition => "bad_condition",
            Self::IncorrectPrice => "incorrect_price",
            Self::NotAvailableInTime => "not_available_in_time",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// bol's `reasonCode` (enum of `OrderItemCancellation` in the v10 spec).
    pub fn bol_code(self) -> &'static str {
        match self {
            Self::OutOfStock => "OUT_OF_STOCK",
            Self::RequestedByCustomer => "REQUESTED_BY_CUSTOMER",
            Self::BadCondition => "BAD_CONDITION",
            Self::IncorrectPrice => "INCORRECT_PRICE",
            Self::NotAvailableInTime => "NOT_AVAIL_IN_TIME",
            Self::Other => "OTHER",
        }
    }
}

/// A cancellation to send to the marketplace.
#[derive(Debug, Clone)]
pub struct CancellationPush {
    pub order_number: OrderNumber,
    pub lines: Vec<PushLine>,
    pub reason: CancelReason,
    pub idempotency_key: String,
}

/// What one attempt achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The marketplace took it; its reference (process id, fulfillment id, package id).
    Accepted { marketplace_ref: Option<String> },
    /// Accepted for processing; ask again with [`Fulfilment::poll`] (bol process status).
    Processing { process_ids: Vec<String> },
    /// The marketplace refused it, with its reason (codes and titles, no request values).
    Rejected { reason: String },
}

/// Why a marketplace cannot take a kind of request through ordervault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub &'static str);

/// A marketplace client that pushes shipments and cancellations for one connection.
#[async_trait::async_trait]
pub trait Fulfilment: Send + Sync {
    fn kind(&self) -> MarketplaceKind;

    /// Confirms a shipment. One attempt; transient failures come back as errors
    /// (`RateLimited`, `Unavailable`) for the outbox to retry with the same key.
    async fn ship(&self, push: &ShipmentPush) -> Result<PushOutcome, ConnectorError>;

    /// Cancels lines. One attempt, like [`Fulfilment::ship`].
    async fn cancel(&self, push: &CancellationPush) -> Result<PushOutcome, ConnectorError>;

    /// Asks after requests the marketplace is still processing.
    async fn poll(&self, process_ids: &[String]) -> Result<PushOutcome, ConnectorError> {
        let _ = process_ids;
        Ok(PushOutcome::Accepted {
            marketplace_ref: None,
        })
    }
}

/// Whether `kind`'s API takes cancellations through ordervault, and why not. Only bol
/// does: eBay cancels through its Post-Order API and Amazon through feeds, neither of
/// which ordervault's connection grants.
pub fn cancellation_support(kind: MarketplaceKind) -> Result<(), Unsupported> {
    match kind {
        MarketplaceKind::Bol => Ok(()),
        MarketplaceKind::Ebay => Err(Unsupported(
            "eBay cancellations are not supported by this marketplace's API through ordervault: eBay cancels orders through its Post-Order API; cancel in the eBay seller hub",
        )),
        MarketplaceKind::Amazon => Err(Unsupported(
            "Amazon cancellations are not supported by this marketplace's API through ordervault: Amazon cancels through order-acknowledgement feeds; cancel in Seller Central",
        )),
    }
}

/// Keeps a marketplace's reason text printable and short: codes and titles only.
pub fn clean_reason(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || " -_.:,()'/".contains(*c))
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}
