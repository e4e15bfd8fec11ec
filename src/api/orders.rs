//! Backoffice order endpoints: pull new orders, acknowledge them, read one in full.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Principal;
use super::problem::{json_rejection, ApiError};
use crate::app::App;
use crate::orders::view::order_view;
use crate::store::{AccountStore, OrderRow};

#[derive(Deserialize)]
pub struct NewQuery {
    pub limit: Option<i64>,
}

#[derive(Deserialize)]
pub struct Which {
    pub marketplace: Option<String>,
}

#[derive(Deserialize)]
pub struct AckBody {
    /// The backoffice's own id for the order.
    pub reference: String,
    /// The version taken over (default: the current one).
    pub version: Option<i64>,
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
    if number.is_empty() || number.len() > 64 {
        return Err(ApiError::not_found("order"));
    }
    let mut rows = store.find_by_number(number).await?;
    if let Some(m) = marketplace {
        rows.retain(|r| r.marketplace == m);
    }
    match rows.len() {
        0 => Err(ApiError::not_found("order")),
        1 => Ok(rows.remove(0)),
        _ => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "Ambiguous order number",
            "orders on several marketplaces share this number; add ?marketplace=bol|amazon|ebay",
        )),
    }
}

async fn view_json(
    keys: &crate::keyring::AccountKeyset,
    row: &OrderRow,
) -> Result<Value, ApiError> {
    // A stored order that does not open (decrypt, parse) or encode is the server's fault.
    let view = order_view(keys, row)
        .await
        .map_err(|e| ApiError::internal(&format_args!("stored order could not be opened: {e}")))?;
    serde_json::to_value(view)
        .map_err(|e| ApiError::internal(&format_args!("order could not be encoded: {e}")))
}

/// `GET /api/v1/orders/new`: unacknowledged orders (or versions), oldest change first.
pub async fn list_new(
    State(app): State<App>,
    p: Principal,
    Query(q): Query<NewQuery>,
) -> Result<Json<Value>, ApiError> {
    let (store, keys) = open(&app, &p).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let rows = store.unacknowledged(limit).await?;
    let mut orders = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut v = view_json(&keys, r).await?;
        // Shipment and cancellation answers bump the order's version: pull mode shows them.
        crate::fulfilment::view::attach(&mut v, &store.requests_for_order(r.id).await?);
        orders.push(v);
    }
    Ok(Json(json!({ "orders": orders })))
}

/// `GET /api/v1/orders/{order_number}`: the full order with customer data.
pub async fn get_one(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
) -> Result<Json<Value>, ApiError> {
    let (store, keys) = open(&app, &p).await?;
    let row = find(&store, &number, w.marketplace.as_deref()).await?;
    let mut v = view_json(&keys, &row).await?;
    crate::fulfilment::view::attach(&mut v, &store.requests_for_order(row.id).await?);
    if let Some((acked, reference, at)) = store.ack_state(row.id).await? {
        v["ack"] = json!({ "version": acked, "reference": reference, "acked_at": at });
    }
    Ok(Json(v))
}

/// `POST /api/v1/orders/{order_number}/ack`: idempotent acknowledgement.
pub async fn ack(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
    body: Result<Json<AckBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({
        "marketplace": row.marketplace,
        "order_number": row.order_number,
        "acked_version": version,
        "current_version": row.version,
        "reference": reference,
        "acked_at": at,
    })))
}
