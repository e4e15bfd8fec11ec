//! The Amazon sandbox's `confirmShipment`
//! (`POST /orders/v0/orders/{orderId}/shipmentConfirmation`): 204 on success; 400
//! `InvalidInput` with Amazon's error list for a body that breaks the v0 schema
//! (`marketplaceId`, `packageDetail` and its required fields, `carrierName` with carrier
//! `Other`) or units that are not open; 404 `NotFound` for an unknown order. A package
//! reference already confirmed for the order is not shipped again (204, no second shipment).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::{view, Op, Shared};
use crate::model::OrderStatus;
use crate::sandbox::world::{PushFault, PushRecord};

/// What a confirmation asks for: package reference, lines, carrier code, tracking number.
type Confirmation = (String, Vec<(String, Option<u32>)>, String, String);

/// Reads the request's package; the error is the `details` of a 400.
fn parse(body: &str) -> Result<Confirmation, String> {
    let v: Value = serde_json::from_str(body).map_err(|_| "Request body is not valid JSON.")?;
    let text = |v: &Value, k: &str| {
        v[k].as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    if text(&v, "marketplaceId").is_none() {
        return Err("Missing required field: marketplaceId.".into());
    }
    let p = &v["packageDetail"];
    if !p.is_object() {
        return Err("Missing required field: packageDetail.".into());
    }
    let reference = text(p, "packageReferenceId")
        .filter(|r| r.bytes().all(|b| b.is_ascii_digit()) && !r.trim_start_matches('0').is_empty())
        .ok_or("packageReferenceId must be a positive numeric value.")?;
    let carrier = text(p, "carrierCode").ok_or("Missing required field: carrierCode.")?;
    if carrier == "Other" && text(p, "carrierName").is_none() {
        return Err("carrierName is required when carrierCode is Other.".into());
    }
    let tracking = text(p, "trackingNumber").ok_or("Missing required field: trackingNumber.")?;
    text(p, "shipDate")
        .filter(|d| chrono::DateTime::parse_from_rfc3339(d).is_ok())
        .ok_or("shipDate must be an ISO 8601 date-time.")?;
    let items = p["orderItems"].as_array().filter(|a| !a.is_empty());
    let items = items.ok_or("Missing required field: orderItems.")?;
    let mut lines = Vec::new();
    for it in items {
        let id = text(it, "orderItemId").ok_or("Missing required field: orderItemId.")?;
        let q = it["quantity"]
            .as_u64()
            .filter(|q| *q >= 1)
            .ok_or("quantity must be a positive integer.")?;
        lines.push((id, Some(q.min(u64::from(u32::MAX)) as u32)));
    }
    Ok((reference, lines, carrier, tracking))
}

/// `POST /orders/v0/orders/{orderId}/shipmentConfirmation`.
pub(super) async fn confirm_shipment(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let op = Op::ConfirmShipment;
    let path = format!("/orders/v0/orders/{id}/shipmentConfirmation");
    if let Err(r) = s.gate(op, &headers, &path) {
        return r;
    }
    let server_error = || {
        s.error(
            None,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "We encountered an internal error. Please try again.",
            "",
        )
    };
    match s.world.pushes.next_fault() {
        None => {}
        Some(PushFault::Throttle) => return s.quota_exceeded(),
        Some(PushFault::ServerError) => return server_error(),
        Some(PushFault::LoseAnswer) => {
            drop(confirm(&s, &id, &body));
            return server_error();
        }
    }
    confirm(&s, &id, &body)
}

fn confirm(s: &super::Sandbox, id: &str, body: &str) -> Response {
    let op = Op::ConfirmShipment;
    let id = id.to_owned();
    let (reference, lines, carrier, tracking) = match parse(body) {
        Ok(p) => p,
        Err(details) => return s.invalid(op, &details),
    };
    let now = s.clock.now();
    let Some(plan) = s.world.plan(&id) else {
        return s.error(
            Some(op),
            StatusCode::NOT_FOUND,
            "NotFound",
            "Requested order not found.",
            "",
        );
    };
    match view::view(plan, now).map(|o| o.status) {
        None => {
            return s.error(
                Some(op),
                StatusCode::NOT_FOUND,
                "NotFound",
                "Requested order not found.",
                "",
            )
        }
        Some(OrderStatus::Pending) => {
            return s.invalid(op, "The order is pending and cannot be shipped yet.")
        }
        Some(_) => {}
    }
    let done = || s.respond(Some(op), StatusCode::NO_CONTENT, String::new(), false);
    if plan.pushes.find("shipment", &id, &reference).is_some() {
        return done();
    }
    match plan.pushes.push(plan, &lines, false, now) {
        Ok(applied) => {
            plan.pushes.record(PushRecord {
                kind: "shipment",
                order_number: id.clone(),
                key: Some(reference),
                lines: applied,
                carrier_code: Some(carrier),
                tracking_number: Some(tracking),
                at: now,
            });
            done()
        }
        Err(e) => s.invalid(op, &format!("Order items cannot be shipped: {}.", e.0)),
    }
}
