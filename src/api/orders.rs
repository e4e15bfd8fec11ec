//! Backoffice order endpoints: pull new orders, acknowledge them, read one in full.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use super::openapi::TAG_ORDERS;
use super::problem::{json_rejection, ApiError, Problem};
use crate::app::App;
use crate::fulfilment::view::OrderWithRequests;
use crate::orders::view::{order_view, OrderView};
use crate::orders::FindError;
use crate::store::{AccountStore, OrderRow};

/// Query of `GET /orders/new`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NewQuery {
    /// How many to return; values outside 1–500 are clamped into that range.
    #[param(default = 100)]
    pub limit: Option<i64>,
}

/// Which marketplace's order, when two share the number.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Which {
    #[param(value_type = Option<ordervault_connectors::MarketplaceKind>)]
    pub marketplace: Option<String>,
}

/// `POST /orders/{order_number}/ack`.
#[derive(Deserialize, ToSchema)]
#[schema(as = Ack)]
pub struct AckBody {
    /// The backoffice's own id for the order (trimmed; 1 to 200 printable characters).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub reference: String,
    /// The version taken over (default: the current one).
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

/// `GET /orders/new`.
#[derive(Serialize, ToSchema)]
pub struct NewOrders {
    pub orders: Vec<OrderWithRequests>,
}

/// One order in full: with its shipments, cancellations and acknowledgement.
#[derive(Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: OrderWithRequests,
    /// The latest acknowledgement; absent while the order was never acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<AckState>,
}

/// What the backoffice acknowledged of an order.
#[derive(Serialize, ToSchema)]
pub struct AckState {
    pub version: Option<i64>,
    pub reference: Option<String>,
    /// Unix milliseconds.
    pub acked_at: Option<i64>,
}

/// The answer to an acknowledgement.
#[derive(Serialize, ToSchema)]
pub struct AckReceipt {
    pub marketplace: String,
    pub order_number: String,
    pub acked_version: i64,
    pub current_version: i64,
    pub reference: Option<String>,
    /// Unix milliseconds.
    pub acked_at: Option<i64>,
}

async fn open(
    app: &App,
    p: &Principal,
) -> Result<(AccountStore, std::sync::Arc<crate::keyring::AccountKeyset>), ApiError> {
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let keys = app.keyring.keys(&account).await?;
    Ok((store, keys))
}

/// One order by exact number (and marketplace when two share the number).
pub(super) async fn find(
    store: &AccountStore,
    number: &str,
    marketplace: Option<&str>,
) -> Result<OrderRow, ApiError> {
    crate::orders::find_order(store, number, marketplace)
        .await
        .map_err(|e| match e {
            FindError::NotFound => ApiError::not_found("order"),
            FindError::Ambiguous => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "Ambiguous order number",
                "orders on several marketplaces share this number; add ?marketplace=bol|amazon|ebay",
            ),
            FindError::Store(e) => e.into(),
        })
}

async fn view(keys: &crate::keyring::AccountKeyset, row: &OrderRow) -> Result<OrderView, ApiError> {
    // A stored order that does not open (decrypt, parse) is the server's fault.
    order_view(keys, row)
        .await
        .map_err(|e| ApiError::internal(&format_args!("stored order could not be opened: {e}")))
}

/// Unacknowledged orders, oldest change first.
///
/// `GET /api/v1/orders/new`: unacknowledged orders (or versions), oldest change first.
#[utoipa::path(get, path = "/orders/new", tag = TAG_ORDERS, params(NewQuery),
    responses((status = 200, description = "OK", body = NewOrders)))]
pub async fn list_new(
    State(app): State<App>,
    p: Principal,
    Query(q): Query<NewQuery>,
) -> Result<Json<NewOrders>, ApiError> {
    let (store, keys) = open(&app, &p).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let rows = store.unacknowledged(limit).await?;
    let mut orders = Vec::with_capacity(rows.len());
    for r in &rows {
        // Shipment and cancellation answers bump the order's version: pull mode shows them.
        orders.push(OrderWithRequests::new(
            view(&keys, r).await?,
            &store.requests_for_order(r.id).await?,
        ));
    }
    Ok(Json(NewOrders { orders }))
}

/// One order in full, with customer data.
///
/// `GET /api/v1/orders/{order_number}`: the full order with customer data.
#[utoipa::path(get, path = "/orders/{order_number}", tag = TAG_ORDERS,
    params(("order_number" = String, Path, max_length = 64), Which),
    responses(
        (status = 200, description = "OK", body = OrderDetail),
        (status = 409, description = "Orders on several marketplaces share this number; add ?marketplace=",
            body = Problem, content_type = "application/problem+json")))]
pub async fn get_one(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
) -> Result<Json<OrderDetail>, ApiError> {
    let (store, keys) = open(&app, &p).await?;
    let row = find(&store, &number, w.marketplace.as_deref()).await?;
    let order = OrderWithRequests::new(
        view(&keys, &row).await?,
        &store.requests_for_order(row.id).await?,
    );
    let ack = store
        .ack_state(row.id)
        .await?
        .map(|(version, reference, acked_at)| AckState {
            version,
            reference,
            acked_at,
        });
    Ok(Json(OrderDetail { order, ack }))
}

/// Acknowledge an order version (idempotent).
///
/// `POST /api/v1/orders/{order_number}/ack`: idempotent acknowledgement.
#[utoipa::path(post, path = "/orders/{order_number}/ack", tag = TAG_ORDERS,
    params(("order_number" = String, Path, max_length = 64), Which),
    request_body = AckBody,
    responses(
        (status = 200, description = "Acknowledged", body = AckReceipt),
        (status = 409, description = "Orders on several marketplaces share this number; add ?marketplace=",
            body = Problem, content_type = "application/problem+json")))]
pub async fn ack(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
    body: Result<Json<AckBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AckReceipt>, ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let reference = body.reference.trim();
    if reference.is_empty() || reference.len() > 200 || reference.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "reference must be 1 to 200 printable characters",
        ));
    }
    if body.version.is_some_and(|v| v < 1) {
        return Err(ApiError::bad_request("version must be at least 1"));
    }
    let (store, _) = open(&app, &p).await?;
    let row = find(&store, &number, w.marketplace.as_deref()).await?;
    let (version, reference, at) = store
        .acknowledge(row.id, body.version, reference, app.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(AckReceipt {
        marketplace: row.marketplace,
        order_number: row.order_number,
        acked_version: version,
        current_version: row.version,
        reference,
        acked_at: at,
    }))
}
