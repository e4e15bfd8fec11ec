//! The eBay sandbox's `createShippingFulfillment`
//! (`POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment`): 201 with
//! `Location: …/shipping_fulfillment/{fulfillmentId}`, where the id is the tracking number
//! when one is given (as eBay does); 409 for a fulfillment that already exists; 400 with
//! eBay's error body for a malformed request (no line items, tracking number without
//! carrier or the reverse, units that are not open); 404 for an unknown order.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::query::ApiError;
use super::{api_error, error_response, throttled, Shared};
use crate::sandbox::world::{PushFault, PushRecord};

struct Request {
    lines: Vec<(String, Option<u32>)>,
    carrier: Option<String>,
    tracking: Option<String>,
}

fn parse(body: &str) -> Result<Request, ApiError> {
    let v: Value =
        serde_json::from_str(body).map_err(|_| ApiError::bad(32100, "Invalid request body."))?;
    let items = v["lineItems"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::bad(32100, "lineItems is required."))?;
    let mut lines = Vec::new();
    for it in items {
        let id = it["lineItemId"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad(32100, "lineItemId is required."))?;
        let q = match it.get("quantity") {
            None => 1,
            Some(q) => q
                .as_u64()
                .filter(|q| *q >= 1)
                .ok_or_else(|| ApiError::bad(32100, "quantity must be greater than zero."))?,
        };
        lines.push((id.to_owned(), Some(q.min(u64::from(u32::MAX)) as u32)));
    }
    let text = |k: &str| v[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let (carrier, tracking) = (text("shippingCarrierCode"), text("trackingNumber"));
    if carrier.is_some() != tracking.is_some() {
        return Err(ApiError::bad(
            32100,
            "shippingCarrierCode and trackingNumber must be given together.",
        ));
    }
    if let Some(d) = text("shippedDate") {
        if chrono::DateTime::parse_from_rfc3339(&d).is_err() {
            return Err(ApiError::bad(32100, "Invalid shippedDate."));
        }
    }
    Ok(Request {
        lines,
        carrier,
        tracking,
    })
}

/// `POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment`.
pub(super) async fn create_fulfillment(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    body: String,
) -> Response {
    if let Some(r) = s.gate(&headers, true) {
        return r;
    }
    let server_error = || {
        error_response(
            500,
            30500,
            "API_FULFILLMENT",
            "System error",
            "There was a problem with an eBay internal system or process.",
        )
    };
    match s.world.pushes.next_fault() {
        None => {}
        Some(PushFault::Throttle) => return throttled(),
        Some(PushFault::ServerError) => return server_error(),
        Some(PushFault::LoseAnswer) => {
            drop(fulfil(&s, &headers, &order_id, &body));
            return server_error();
        }
    }
    fulfil(&s, &headers, &order_id, &body)
}

fn fulfil(s: &super::Inner, headers: &HeaderMap, order_id: &str, body: &str) -> Response {
    let order_id = order_id.to_owned();
    let req = match parse(body) {
        Ok(r) => r,
        Err(e) => return api_error(e),
    };
    let now = s.clock.now();
    let Some(plan) = s
        .world
        .plan(&order_id)
        .filter(|p| p.state_at(now).is_some())
    else {
        return error_response(
            404,
            32200,
            "API_FULFILLMENT",
            "Order not found.",
            "The order ID in the path does not match an order of this seller.",
        );
    };
    let seq = plan.pushes.records().len() + 1;
    let id = req
        .tracking
        .clone()
        .unwrap_or_else(|| format!("{:016X}", 0x5EED_0000_0000u64 + seq as u64));
    if plan.pushes.find("shipment", &order_id, &id).is_some() {
        return error_response(
            409,
            32500,
            "API_FULFILLMENT",
            "Duplicate shipping fulfillment.",
            "A shipping fulfillment with this tracking number already exists for this order.",
        );
    }
    match plan.pushes.push(plan, &req.lines, false, now) {
        Ok(applied) => {
            plan.pushes.record(PushRecord {
                kind: "shipment",
                order_number: order_id.clone(),
                key: Some(id.clone()),
                lines: applied,
                carrier_code: req.carrier,
                tracking_number: req.tracking,
                at: now,
            });
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            let location = format!(
                "http://{host}/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/{id}"
            );
            let mut r = (axum::http::StatusCode::CREATED, "{}").into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(e) => api_error(ApiError::bad(
            32100,
            format!("Line items cannot be shipped: {}.", e.0),
        )),
    }
}
