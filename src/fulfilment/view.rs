//! How a shipment or cancellation is shown: to the backoffice (API, CLI, webhooks) and,
//! reduced to state, carrier and tracking number, to support. Business data only.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::request::RequestLine;
use crate::store::fulfilment::RequestRow;
use crate::store::{AccountStore, OrderRow, StoreError};
use crate::time::datetime;

/// A request as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FulfilmentRequest)]
pub struct RequestView {
    /// `shp_<n>` or `cnl_<n>`: stable, unique within the account.
    pub id: String,
    pub kind: String,
    pub marketplace: String,
    pub order_number: String,
    pub lines: Vec<RequestLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `pending`, `sent`, `accepted`, `rejected` or `failed` (after retries).
    pub state: String,
    /// The marketplace's reason when `rejected`, the last error when `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_reason: Option<String>,
    /// The marketplace's reference (bol process id, eBay fulfillment id, Amazon package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_ref: Option<String>,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The public id of a request.
pub fn public_id(kind: &str, id: i64) -> String {
    match kind {
        "shipment" => format!("shp_{id}"),
        _ => format!("cnl_{id}"),
    }
}

/// The requests of one kind (`shipment` or `cancellation`) made for an order, oldest
/// first, as the API and the CLI list them.
pub async fn requests_of(
    store: &AccountStore,
    order: &OrderRow,
    kind: &str,
) -> Result<Vec<RequestView>, StoreError> {
    Ok(store
        .requests_for_order(order.id)
        .await?
        .iter()
        .filter(|r| r.kind == kind)
        .map(request_view)
        .collect())
}

pub fn request_view(r: &RequestRow) -> RequestView {
    RequestView {
        id: public_id(&r.kind, r.id),
        kind: r.kind.clone(),
        marketplace: r.marketplace.clone(),
        order_number: r.order_number.clone(),
        lines: serde_json::from_str(&r.lines).unwrap_or_default(),
        carrier: r.carrier.clone(),
        tracking_number: r.tracking_number.clone(),
        shipped_at: r.shipped_at.map(datetime),
        reason: r.reason.clone(),
        reference: r.reference.clone(),
        state: r.state.clone(),
        marketplace_reason: r.reject_reason.clone(),
        marketplace_ref: r.marketplace_ref.clone(),
        attempts: r.attempts,
        last_error: r.last_error.clone(),
        created_at: datetime(r.created_at),
        updated_at: datetime(r.updated_at),
    }
}

/// What support sees of a shipment: its state, carrier and tracking number.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SupportShipment {
    pub state: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
}

pub fn support_view(rows: &[RequestRow]) -> Vec<SupportShipment> {
    rows.iter()
        .filter(|r| r.kind == "shipment")
        .map(|r| SupportShipment {
            state: r.state.clone(),
            carrier: r.carrier.clone(),
            tracking_number: r.tracking_number.clone(),
        })
        .collect()
}

/// An order with its shipments and cancellations (API and webhooks), so the tracking
/// number travels with the order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderWithRequests {
    #[serde(flatten)]
    pub order: crate::orders::view::OrderView,
    pub shipments: Vec<RequestView>,
    pub cancellations: Vec<RequestView>,
}

impl OrderWithRequests {
    /// `order` with the requests of `rows` that belong to it, split by kind.
    pub fn new(order: crate::orders::view::OrderView, rows: &[RequestRow]) -> Self {
        let pick = |kind: &str| {
            rows.iter()
                .filter(|r| r.kind == kind)
                .map(request_view)
                .collect::<Vec<_>>()
        };
        Self {
            order,
            shipments: pick("shipment"),
            cancellations: pick("cancellation"),
        }
    }
}
