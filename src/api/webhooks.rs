//! Backoffice webhook endpoints: add, list, remove, re-enable, dead letters, replay.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::auth::Principal;
use super::problem::{json_rejection, ApiError};
use crate::app::App;
use crate::forward::{add_webhook, enable_webhook, remove_webhook, NewWebhook};
use crate::store::catalog::WebhookEndpoint;

#[derive(Deserialize)]
pub struct NewBody {
    pub url: String,
    pub secret: Option<String>,
}

#[derive(Deserialize)]
pub struct ReplayBody {
    pub order_number: Option<String>,
    /// RFC 3339 bounds on the event time.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
pub struct Limit {
    pub limit: Option<i64>,
}

/// An endpoint of the caller's own account, or 404 (never "forbidden", which would
/// confirm that the id exists elsewhere).
async fn own(app: &App, p: &Principal, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let account = p.backoffice_account()?;
    match app.store.catalog().webhook(id).await? {
        Some(e) if e.account_id == account => Ok(e),
        _ => Err(ApiError::not_found("webhook")),
    }
}

pub async fn create(
    State(app): State<App>,
    p: Principal,
    body: Result<Json<NewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let account = p.backoffice_account()?;
    let (endpoint, secret) = add_webhook(
        &app,
        NewWebhook {
            account,
            url: body.url,
            secret: body.secret.map(Zeroizing::new),
        },
    )
    .await?;
    let mut v = serde_json::to_value(&endpoint).unwrap_or_default();
    // Shown once; only the ciphertext is kept.
    v["secret"] = json!(secret.as_str());
    Ok((StatusCode::CREATED, Json(v)))
}

pub async fn list(State(app): State<App>, p: Principal) -> Result<Json<Value>, ApiError> {
    let account = p.backoffice_account()?;
    let list = app.store.catalog().webhooks(Some(account.as_str())).await?;
    Ok(Json(json!({ "webhooks": list })))
}

pub async fn remove(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let e = own(&app, &p, &id).await?;
    remove_webhook(&app, &e.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-enables an endpoint disabled by a 410.
pub async fn enable(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let e = own(&app, &p, &id).await?;
    enable_webhook(&app, &e.id).await?;
    Ok(Json(json!({ "id": e.id, "status": "active" })))
}

pub async fn dead_letters(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<Limit>,
) -> Result<Json<Value>, ApiError> {
    let e = own(&app, &p, &id).await?;
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let dead = store
        .dead_letters(&e.id, q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    Ok(Json(
        json!({ "webhook": e.id, "status": e.status, "disabled_reason": e.disabled_reason, "dead_letters": dead }),
    ))
}

/// Queues events again by order number or time range (same `webhook-id`s).
pub async fn replay(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
    body: Result<Json<ReplayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let e = own(&app, &p, &id).await?;
    if body.order_number.is_none() && body.from.is_none() && body.to.is_none() {
        return Err(ApiError::bad_request(
            "give order_number, or from/to, to choose what to replay",
        ));
    }
    let range = match (body.from, body.to) {
        (None, None) => None,
        (f, t) => Some((
            f.map_or(i64::MIN, |d| d.timestamp_millis()),
            t.map_or(i64::MAX, |d| d.timestamp_millis()),
        )),
    };
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let n = store
        .replay(&e.id, body.order_number.as_deref(), range)
        .await?;
    app.outbox_notify.notify_one();
    Ok(Json(json!({ "webhook": e.id, "requeued": n })))
}
