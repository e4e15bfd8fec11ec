//! Backoffice webhook endpoints: add, list, remove, re-enable, dead letters, replay.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use super::auth::Principal;
use super::openapi::TAG_WEBHOOKS;
use super::problem::{json_rejection, ApiError, Problem};
use crate::app::App;
use crate::forward::{add_webhook, enable_webhook, remove_webhook, NewWebhook};
use crate::ids::WebhookId;
use crate::store::catalog::{WebhookEndpoint, WebhookStatus};
use crate::store::outbox::DeadLetter;

/// `POST /webhooks`.
#[derive(Deserialize, ToSchema)]
pub struct NewBody {
    /// http(s) only, no credentials; checked against internal addresses at registration
    /// and at every delivery.
    #[schema(max_length = 2000, pattern = "^https?://[^\\s@/?#]+([/?#]\\S*)?$")]
    pub url: String,
    /// `whsec_` + base64 of 24 to 64 bytes (generated when absent).
    #[schema(pattern = "^whsec_")]
    pub secret: Option<String>,
}

/// `POST /webhooks/{id}/replay`: an order number, a time range, or both.
#[derive(Deserialize, ToSchema)]
pub struct ReplayBody {
    pub order_number: Option<String>,
    /// RFC 3339 bounds on the event time.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// Query of the dead letters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// How many to return; values outside 1–1000 are clamped into that range.
    #[param(default = 100)]
    pub limit: Option<i64>,
}

/// A new endpoint, with its signing secret: shown this once, only the ciphertext is kept.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// `GET /webhooks`.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookEndpoint>,
}

/// An endpoint taking events again.
#[derive(Serialize, ToSchema)]
pub struct WebhookEnabled {
    pub id: WebhookId,
    /// Always `active`.
    pub status: WebhookStatus,
}

/// An endpoint's dead letters, with its state.
#[derive(Serialize, ToSchema)]
pub struct DeadLetters {
    pub webhook: WebhookId,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub dead_letters: Vec<DeadLetter>,
}

/// How many events were queued again.
#[derive(Serialize, ToSchema)]
pub struct Replayed {
    pub webhook: WebhookId,
    pub requeued: u64,
}

const ID: &str = "The webhook endpoint's id";

/// An endpoint of the caller's own account, or 404 (never "forbidden", which would
/// confirm that the id exists elsewhere). The path's id is parsed here, at the edge: a
/// malformed one is not found either.
async fn own(app: &App, p: &Principal, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let account = p.backoffice_account()?;
    let id = WebhookId::parse(id).map_err(|_| ApiError::not_found("webhook"))?;
    match app.store.catalog().webhook(&id).await? {
        Some(e) if e.account_id == account => Ok(e),
        _ => Err(ApiError::not_found("webhook")),
    }
}

/// Add a webhook endpoint; the secret is returned once.
#[utoipa::path(post, path = "/webhooks", tag = TAG_WEBHOOKS, request_body = NewBody,
    responses(
        (status = 201, description = "Created", body = CreatedWebhook),
        (status = 422, description = "The target is refused: it resolves to an internal address (loopback, private, link-local, unique-local, multicast, unspecified), or does not resolve; the detail names the rule",
            body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    body: Result<Json<NewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
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
    // Shown once; only the ciphertext is kept.
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            endpoint,
            secret: secret.as_str().to_owned(),
        }),
    ))
}

/// Webhook endpoints of the account.
#[utoipa::path(get, path = "/webhooks", tag = TAG_WEBHOOKS,
    responses((status = 200, description = "OK", body = WebhookList)))]
pub async fn list(State(app): State<App>, p: Principal) -> Result<Json<WebhookList>, ApiError> {
    let account = p.backoffice_account()?;
    let webhooks = app.store.catalog().webhooks(Some(&account)).await?;
    Ok(Json(WebhookList { webhooks }))
}

/// Remove an endpoint.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = TAG_WEBHOOKS,
    params(("id" = String, Path, description = ID)),
    responses((status = 204, description = "Removed")))]
pub async fn remove(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let e = own(&app, &p, &id).await?;
    remove_webhook(&app, &e.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-enable an endpoint disabled by 410 Gone.
#[utoipa::path(post, path = "/webhooks/{id}/enable", tag = TAG_WEBHOOKS,
    params(("id" = String, Path, description = ID)),
    responses((status = 200, description = "OK", body = WebhookEnabled)))]
pub async fn enable(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<WebhookEnabled>, ApiError> {
    let e = own(&app, &p, &id).await?;
    enable_webhook(&app, &e.id).await?;
    Ok(Json(WebhookEnabled {
        id: e.id,
        status: WebhookStatus::Active,
    }))
}

/// Events given up after 72 hours, with the last error.
#[utoipa::path(get, path = "/webhooks/{id}/dead-letters", tag = TAG_WEBHOOKS,
    params(("id" = String, Path, description = ID), Limit),
    responses((status = 200, description = "OK", body = DeadLetters)))]
pub async fn dead_letters(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<Limit>,
) -> Result<Json<DeadLetters>, ApiError> {
    let e = own(&app, &p, &id).await?;
    let account = p.backoffice_account()?;
    let store = app.store.account(&account).await?;
    let dead = store
        .dead_letters(e.id.as_str(), q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    Ok(Json(DeadLetters {
        webhook: e.id,
        status: e.status,
        disabled_reason: e.disabled_reason,
        dead_letters: dead,
    }))
}

/// Queue events again by order number or time range.
///
/// Same `webhook-id`s as the first delivery.
#[utoipa::path(post, path = "/webhooks/{id}/replay", tag = TAG_WEBHOOKS,
    params(("id" = String, Path, description = ID)),
    request_body = ReplayBody,
    responses((status = 200, description = "OK", body = Replayed)))]
pub async fn replay(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
    body: Result<Json<ReplayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Replayed>, ApiError> {
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
        .replay(e.id.as_str(), body.order_number.as_deref(), range)
        .await?;
    app.outbox_notify.notify_one();
    Ok(Json(Replayed {
        webhook: e.id,
        requeued: n,
    }))
}
