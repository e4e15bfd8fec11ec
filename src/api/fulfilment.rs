//! Backoffice shipments and cancellations: `POST`/`GET /orders/{n}/shipments` and
//! `/orders/{n}/cancellations` (backoffice role, own account only). A request is stored
//! with its outbox entry and answered at once (`201`, state `pending`); the pusher takes
//! it to the marketplace. The same `Idempotency-Key` gets the same answer (`200` with the
//! earlier request). Refusals are problem+json: 422 for a request that cannot be right,
//! 409 for one the order's state forbids.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};

use super::auth::Principal;
use super::orders::{find, Which};
use super::problem::{json_rejection, ApiError};
use crate::app::App;
use crate::fulfilment::request::{
    submit_cancellation, submit_shipment, CancellationBody, Refusal, ShipmentBody, Submitted,
};
use crate::fulfilment::view::request_view;

type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Unprocessable(d) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", d)
        }
        Refusal::Conflict(d) => ApiError::new(StatusCode::CONFLICT, "Conflict", d),
        // The store error itself was logged where it became a refusal.
        Refusal::Store(e) => ApiError::internal(&format_args!("fulfilment request: {e}")),
    }
}

fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.to_owned())).map_err(|_| {
            refusal(Refusal::Unprocessable(
                "Idempotency-Key must be visible ASCII".into(),
            ))
        }),
    }
}

fn answer(app: &App, s: Submitted) -> (StatusCode, Json<Value>) {
    if s.created {
        app.push_notify.notify_one();
    }
    let status = if s.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(json!(request_view(&s.row))))
}

/// `POST /api/v1/orders/{order_number}/shipments`.
pub async fn create_shipment(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
    headers: HeaderMap,
    body: Body<ShipmentBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let row = find(&store, &number, w.marketplace.as_deref()).await?;
    let key = key(&headers)?;
    let s = submit_shipment(&store, &row, &body, key.as_deref(), app.clock.now())
        .await
        .map_err(refusal)?;
    Ok(answer(&app, s))
}

/// `POST /api/v1/orders/{order_number}/cancellations`.
pub async fn create_cancellation(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
    headers: HeaderMap,
    body: Body<CancellationBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let row = find(&store, &number, w.marketplace.as_deref()).await?;
    let key = key(&headers)?;
    let s = submit_cancellation(&store, &row, &body, key.as_deref(), app.clock.now())
        .await
        .map_err(refusal)?;
    Ok(answer(&app, s))
}

async fn list(
    app: &App,
    p: &Principal,
    number: &str,
    w: &Which,
    kind: &str,
) -> Result<Json<Value>, ApiError> {
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let row = find(&store, number, w.marketplace.as_deref()).await?;
    let items: Vec<Value> = store
        .requests_for_order(row.id)
        .await?
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| json!(request_view(r)))
        .collect();
    let field = if kind == "shipment" {
        "shipments"
    } else {
        "cancellations"
    };
    Ok(Json(json!({
        "marketplace": row.marketplace,
        "order_number": row.order_number,
        field: items,
    })))
}

/// `GET /api/v1/orders/{order_number}/shipments`.
pub async fn list_shipments(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
) -> Result<Json<Value>, ApiError> {
    list(&app, &p, &number, &w, "shipment").await
}

/// `GET /api/v1/orders/{order_number}/cancellations`.
pub async fn list_cancellations(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
) -> Result<Json<Value>, ApiError> {
    list(&app, &p, &number, &w, "cancellation").await
}
