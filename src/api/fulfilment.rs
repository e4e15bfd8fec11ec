//! Backoffice shipments and cancellations: `POST`/`GET /orders/{n}/shipments` and
//! `/orders/{n}/cancellations` (backoffice role, own account only). A request is stored
//! with its outbox entry and answered at once (`201`, state `pending`); the pusher takes
//! it to the marketplace. The same `Idempotency-Key` gets the same answer (`200` with the
//! earlier request). Refusals are problem+json: 422 for a request that cannot be right,
//! 409 for one the order's state forbids.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Principal;
use super::openapi::TAG_FULFILMENT;
use super::orders::{find, Which};
use super::problem::{json_rejection, ApiError, Problem};
use crate::app::App;
use crate::fulfilment::request::{
    submit_cancellation, submit_shipment, CancellationBody, Refusal, ShipmentBody, Submitted,
};
use crate::fulfilment::view::{request_view, requests_of, RequestView};
use crate::store::OrderRow;

/// An order's shipments.
#[derive(Serialize, ToSchema)]
pub struct ShipmentList {
    pub marketplace: String,
    pub order_number: String,
    pub shipments: Vec<RequestView>,
}

/// An order's cancellations.
#[derive(Serialize, ToSchema)]
pub struct CancellationList {
    pub marketplace: String,
    pub order_number: String,
    pub cancellations: Vec<RequestView>,
}

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

fn answer(app: &App, s: Submitted) -> (StatusCode, Json<RequestView>) {
    if s.created {
        app.push_notify.notify_one();
    }
    let status = if s.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(request_view(&s.row)))
}

/// Confirm a shipment at the marketplace.
///
/// bol: POST /retailer/shipments (202, process status polled until SUCCESS/FAILURE);
/// Amazon: confirmShipment (204); eBay: createShippingFulfillment (201). Webhook events
/// shipment.accepted / shipment.rejected follow, and the order shows again in
/// GET /orders/new.
#[utoipa::path(post, path = "/orders/{order_number}/shipments", tag = TAG_FULFILMENT,
    request_body = ShipmentBody,
    params(("order_number" = String, Path, max_length = 64), Which,
        ("Idempotency-Key" = Option<String>, Header, max_length = 200,
            description = "1–200 visible ASCII characters. The same key with the same request returns the earlier answer (200); with another request, 409.")),
    responses(
        (status = 201, description = "Stored (state pending); delivered to the marketplace by the outbox", body = RequestView),
        (status = 200, description = "The earlier answer to this Idempotency-Key", body = RequestView),
        (status = 409, description = "The order's state forbids it: fulfilled by the marketplace (FBB/AFN), cancelled, shipped units to cancel, Idempotency-Key reused with another request",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Lines or quantities that do not exist or exceed what is open, bad carrier or reason, a marketplace whose API takes no cancellations through ordervault (eBay, Amazon)",
            body = Problem, content_type = "application/problem+json")))]
pub async fn create_shipment(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
    headers: HeaderMap,
    body: Body<ShipmentBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
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

/// Cancel lines at the marketplace.
///
/// bol only: PUT /retailer/orders/cancellation, one call per order item (bol cancels
/// whole items). eBay cancels through its Post-Order API and Amazon through feeds: both
/// answer 422. Webhook events cancellation.accepted / cancellation.rejected follow.
#[utoipa::path(post, path = "/orders/{order_number}/cancellations", tag = TAG_FULFILMENT,
    request_body = CancellationBody,
    params(("order_number" = String, Path, max_length = 64), Which,
        ("Idempotency-Key" = Option<String>, Header, max_length = 200,
            description = "1–200 visible ASCII characters. The same key with the same request returns the earlier answer (200); with another request, 409.")),
    responses(
        (status = 201, description = "Stored (state pending); delivered to the marketplace by the outbox", body = RequestView),
        (status = 200, description = "The earlier answer to this Idempotency-Key", body = RequestView),
        (status = 409, description = "The order's state forbids it: fulfilled by the marketplace (FBB/AFN), cancelled, shipped units to cancel, Idempotency-Key reused with another request",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Lines or quantities that do not exist or exceed what is open, bad carrier or reason, a marketplace whose API takes no cancellations through ordervault (eBay, Amazon)",
            body = Problem, content_type = "application/problem+json")))]
pub async fn create_cancellation(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
    headers: HeaderMap,
    body: Body<CancellationBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
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

/// The order's requests of one kind (`shipment` or `cancellation`).
async fn list(
    app: &App,
    p: &Principal,
    number: &str,
    w: &Which,
    kind: &str,
) -> Result<(OrderRow, Vec<RequestView>), ApiError> {
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let row = find(&store, number, w.marketplace.as_deref()).await?;
    let items = requests_of(&store, &row, kind).await?;
    Ok((row, items))
}

/// Shipments of an order with their state at the marketplace.
///
/// `GET /api/v1/orders/{order_number}/shipments`.
#[utoipa::path(get, path = "/orders/{order_number}/shipments", tag = TAG_FULFILMENT,
    params(("order_number" = String, Path, max_length = 64), Which),
    responses((status = 200, description = "OK", body = ShipmentList)))]
pub async fn list_shipments(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
) -> Result<Json<ShipmentList>, ApiError> {
    let (row, shipments) = list(&app, &p, &number, &w, "shipment").await?;
    Ok(Json(ShipmentList {
        marketplace: row.marketplace,
        order_number: row.order_number,
        shipments,
    }))
}

/// Cancellations of an order with their state at the marketplace.
///
/// `GET /api/v1/orders/{order_number}/cancellations`.
#[utoipa::path(get, path = "/orders/{order_number}/cancellations", tag = TAG_FULFILMENT,
    params(("order_number" = String, Path, max_length = 64), Which),
    responses((status = 200, description = "OK", body = CancellationList)))]
pub async fn list_cancellations(
    State(app): State<App>,
    p: Principal,
    Path(number): Path<String>,
    Query(w): Query<Which>,
) -> Result<Json<CancellationList>, ApiError> {
    let (row, cancellations) = list(&app, &p, &number, &w, "cancellation").await?;
    Ok(Json(CancellationList {
        marketplace: row.marketplace,
        order_number: row.order_number,
        cancellations,
    }))
}
