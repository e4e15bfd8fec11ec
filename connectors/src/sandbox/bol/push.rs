//! The bol sandbox's write side (issue 15): `POST /retailer/shipments` and
//! `PUT /retailer/orders/cancellation` answer 202 with a `ProcessStatus` (`PENDING`), and
//! `GET /shared/process-status/{id}` answers its outcome (`SUCCESS`, or `FAILURE` with
//! bol's error message) from the first poll on.
//!
//! Requests that break the spec get bol's 400 Problem with violations (missing items, an
//! unknown transporter code, more than one item in a cancellation); business refusals
//! (unknown item, quantity above what is open) come back as a `FAILURE` process, as bol
//! reports them. A shipment whose `shipmentReference` was already shipped is not shipped
//! again (the process succeeds without a second shipment), and cancelling an item that
//! is already cancelled succeeds without change.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{problem, render, respond, Ep, Sandbox, MEDIA_TYPE_UTF8};
use crate::sandbox::world::{PushFault, PushRecord};

/// bol's transporter codes (the v10 spec's enum).
pub const TRANSPORTERS: [&str; 6] = ["POSTNL", "DHL", "DPD", "GLS", "UPS", "OTHER"];
/// bol's cancellation reason codes (the v10 spec's enum).
pub const REASONS: [&str; 12] = [
    "OUT_OF_STOCK",
    "REQUESTED_BY_CUSTOMER",
    "BAD_CONDITION",
    "HIGHER_SHIPCOST",
    "INCORRECT_PRICE",
    "NOT_AVAIL_IN_TIME",
    "NO_BOL_GUARANTEE",
    "ORDERED_TWICE",
    "RETAIN_ITEM",
    "TECH_ISSUE",
    "UNFINDABLE_ITEM",
    "OTHER",
];

/// One asynchronous process and how it ends.
#[derive(Debug, Clone)]
pub(super) struct Process {
    entity_id: String,
    event_type: &'static str,
    created: chrono::DateTime<chrono::Utc>,
    outcome: Result<(), String>,
}

fn violations(list: Vec<(String, String)>) -> Response {
    let v: Vec<Value> = list
        .into_iter()
        .map(|(name, reason)| json!({"name": name, "reason": reason}))
        .collect();
    problem(
        StatusCode::BAD_REQUEST,
        "Error validating request. Consult the bol.com API documentation for more information.",
        "Bad request",
        json!({"violations": v}),
    )
}

impl Sandbox {
    /// Order item id → plan index, built on first use.
    fn item_plan(&self, item: &str) -> Option<usize> {
        let items = self.items.get_or_init(|| {
            let mut m = HashMap::new();
            for (i, p) in self.world.plans.iter().enumerate() {
                for l in &p.order.lines {
                    m.insert(l.line_id.clone(), i);
                }
            }
            m
        });
        items.get(item).copied()
    }

    fn start_process(
        &self,
        entity_id: &str,
        event_type: &'static str,
        outcome: Result<(), String>,
    ) -> Response {
        let id = (1_000_000 + self.process_seq.fetch_add(1, Ordering::SeqCst)).to_string();
        let p = Process {
            entity_id: entity_id.to_owned(),
            event_type,
            created: self.clock.now(),
            outcome,
        };
        let body = process_json(&id, &p, "PENDING");
        self.processes.lock().unwrap().insert(id, p);
        respond(StatusCode::ACCEPTED, MEDIA_TYPE_UTF8, body.to_string())
    }
}

fn process_json(id: &str, p: &Process, status: &str) -> Value {
    let mut v = json!({
        "processStatusId": id,
        "entityId": p.entity_id,
        "eventType": p.event_type,
        "description": format!("Example process status description for processing {}.", p.entity_id),
        "status": status,
        "createTimestamp": render::bol_time(p.created),
        "links": [{
            "rel": "self",
            "href": format!("https://api.bol.com/shared/process-status/{id}"),
            "method": "GET",
        }],
    });
    if let (Err(msg), "FAILURE") = (&p.outcome, status) {
        v["errorMessage"] = json!(msg);
    }
    v
}

// The error is the ready response handlers return as is; boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn parse_body(body: &str) -> Result<Value, Response> {
    serde_json::from_str::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            violations(vec![(
                "body".into(),
                "Request body is not valid JSON.".into(),
            )])
        })
}

/// `POST /retailer/shipments`.
pub(super) async fn create_shipment(
    State(s): State<Arc<Sandbox>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.push_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = s.refusal(&headers, Ep::Push) {
        return s.with_rate_headers(Ep::Push, r);
    }
    let r = with_fault(&s, |s| shipment(s, &body));
    s.with_rate_headers(Ep::Push, r)
}

/// Applies an injected [`PushFault`] around a push handler.
fn with_fault(s: &Sandbox, handle: impl FnOnce(&Sandbox) -> Response) -> Response {
    let server_error = || {
        respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/html; charset=UTF-8",
            "Internal Server Error\n".into(),
        )
    };
    match s.world.pushes.next_fault() {
        None => handle(s),
        Some(PushFault::Throttle) => s.throttle(1),
        Some(PushFault::ServerError) => server_error(),
        Some(PushFault::LoseAnswer) => {
            drop(handle(s));
            server_error()
        }
    }
}

fn shipment(s: &Sandbox, body: &str) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut bad = Vec::new();
    let items = v["orderItems"].as_array().cloned().unwrap_or_default();
    if items.is_empty() || items.len() > 100 {
        bad.push(("orderItems".into(), "size must be between 1 and 100".into()));
    }
    let mut lines = Vec::new();
    for (i, it) in items.iter().enumerate() {
        match it["orderItemId"].as_str().filter(|x| !x.is_empty()) {
            Some(id) => lines.push((
                id.to_owned(),
                it["quantity"]
                    .as_u64()
                    .map(|q| q.min(u64::from(u32::MAX)) as u32),
            )),
            None => bad.push((
                format!("orderItems[{i}].orderItemId"),
                "must not be empty".into(),
            )),
        }
    }
    let reference = v["shipmentReference"].as_str().map(str::to_owned);
    if reference.as_deref() == Some("") || reference.as_ref().is_some_and(|r| r.len() > 90) {
        bad.push((
            "shipmentReference".into(),
            "Only 'null' or non-empty strings of at most 90 characters accepted.".into(),
        ));
    }
    let code = v["transport"]["transporterCode"]
        .as_str()
        .map(str::to_owned);
    match (&code, v.get("shippingLabelId")) {
        (Some(c), _) if !TRANSPORTERS.contains(&c.as_str()) => bad.push((
            "transport.transporterCode".into(),
            format!(
                "Request contains invalid value(s): '{}', allowed values: {}.",
                c.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(30)
                    .collect::<String>(),
                TRANSPORTERS.join(", ")
            ),
        )),
        (None, None) => bad.push((
            "transport".into(),
            "Either transport or shippingLabelId must be given.".into(),
        )),
        _ => {}
    }
    if !bad.is_empty() {
        return violations(bad);
    }
    let first = &lines[0].0;
    let Some(idx) = s.item_plan(first) else {
        return s.start_process(
            first,
            "CONFIRM_SHIPMENT",
            Err(format!("Order item {first} not found.")),
        );
    };
    let plan = &s.world.plans[idx];
    let number = plan.order.order_number.as_str().to_owned();
    if let Some(r) = &reference {
        if plan.pushes.find("shipment", &number, r).is_some() {
            return s.start_process(first, "CONFIRM_SHIPMENT", Ok(()));
        }
    }
    let now = s.clock.now();
    let outcome = plan
        .pushes
        .push(plan, &lines, false, now)
        .map(|applied| {
            plan.pushes.record(PushRecord {
                kind: "shipment",
                order_number: number.clone(),
                key: reference.clone(),
                lines: applied,
                carrier_code: code.clone(),
                tracking_number: v["transport"]["trackAndTrace"].as_str().map(str::to_owned),
                at: now,
            });
        })
        .map_err(|e| format!("Shipment of {}: {}.", first, e.0));
    s.start_process(first, "CONFIRM_SHIPMENT", outcome)
}

/// `PUT /retailer/orders/cancellation`.
pub(super) async fn cancel_items(
    State(s): State<Arc<Sandbox>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.push_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = s.refusal(&headers, Ep::Push) {
        return s.with_rate_headers(Ep::Push, r);
    }
    let r = with_fault(&s, |s| cancellation(s, &body));
    s.with_rate_headers(Ep::Push, r)
}

fn cancellation(s: &Sandbox, body: &str) -> Response {
    let v = match parse_body(body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let items = v["orderItems"].as_array().cloned().unwrap_or_default();
    let mut bad = Vec::new();
    if items.len() != 1 {
        bad.push(("orderItems".into(), "size must be between 1 and 1".into()));
    }
    let item = items.first().cloned().unwrap_or(Value::Null);
    let id = item["orderItemId"].as_str().unwrap_or("").to_owned();
    if id.is_empty() && items.len() == 1 {
        bad.push((
            "orderItems[0].orderItemId".into(),
            "must not be empty".into(),
        ));
    }
    let reason = item["reasonCode"].as_str().unwrap_or("");
    if items.len() == 1 && !REASONS.contains(&reason) {
        bad.push((
            "orderItems[0].reasonCode".into(),
            format!(
                "Request contains invalid value(s), allowed values: {}.",
                REASONS.join(", ")
            ),
        ));
    }
    if !bad.is_empty() {
        return violations(bad);
    }
    let Some(idx) = s.item_plan(&id) else {
        return s.start_process(
            &id,
            "CANCEL_ORDER",
            Err(format!("Order item {id} not found.")),
        );
    };
    let plan = &s.world.plans[idx];
    let now = s.clock.now();
    let number = plan.order.order_number.as_str().to_owned();
    let key = format!("{id}:{reason}");
    if plan.pushes.find("cancellation", &number, &key).is_some() {
        return s.start_process(&id, "CANCEL_ORDER", Ok(()));
    }
    let outcome = plan
        .pushes
        .push(plan, &[(id.clone(), None)], true, now)
        .map(|applied| {
            plan.pushes.record(PushRecord {
                kind: "cancellation",
                order_number: number.clone(),
                key: Some(key.clone()),
                lines: applied,
                carrier_code: None,
                tracking_number: None,
                at: now,
            })
        })
        .map_err(|e| format!("Cancellation of {id}: {}.", e.0));
    s.start_process(&id, "CANCEL_ORDER", outcome)
}

/// `GET /shared/process-status/{process-status-id}`.
pub(super) async fn process_status(
    State(s): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = s.refusal(&headers, Ep::Process) {
        return s.with_rate_headers(Ep::Process, r);
    }
    let found = s.processes.lock().unwrap().get(&id).cloned();
    let r = match found {
        Some(p) => {
            let status = if p.outcome.is_ok() {
                "SUCCESS"
            } else {
                "FAILURE"
            };
            respond(
                StatusCode::OK,
                MEDIA_TYPE_UTF8,
                process_json(&id, &p, status).to_string(),
            )
        }
        None => {
            let safe: String = id.chars().filter(char::is_ascii_digit).take(20).collect();
            problem(
                StatusCode::NOT_FOUND,
                "Not Found",
                &format!("Process status with id {safe} not found."),
                json!({}),
            )
        }
    };
    s.with_rate_headers(Ep::Process, r)
}
