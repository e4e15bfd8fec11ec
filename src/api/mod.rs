//! The HTTP API (axum): `/api/v1` with bearer tokens and problem+json errors, the OpenAPI
//! document, `/healthz`, and the `/support` and `/console` pages; Prometheus `/metrics`
//! on its own listener ([`metrics_router`]), never on the API's.

mod accounts;
pub mod auth;
mod console;
mod fulfilment;
mod limits;
mod metrics;
mod openapi;
mod openapi_fulfilment;
mod openapi_health;
mod orders;
mod page;
mod privacy;
pub mod problem;
pub mod server;
mod support;
mod webhooks;

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::app::App;

/// The API's request body types, for the fuzz targets in `fuzz/` (not a stable API).
#[doc(hidden)]
pub mod bodies {
    pub use super::orders::AckBody;
    pub use super::webhooks::{NewBody, ReplayBody};
    pub use crate::fulfilment::request::{CancellationBody, ShipmentBody};
}

/// Largest request body the API reads (64 KiB): every API body is a small JSON object,
/// so anything bigger is refused with a 413 before it is buffered further.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The service's router: every error it answers is problem+json.
pub fn router(app: App) -> Router {
    let body_timeout = std::time::Duration::from_millis(app.settings.server.body_read_timeout_ms);
    let v1 = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/accounts", get(accounts::list).post(accounts::create))
        .route("/accounts/{id}/close", post(accounts::close))
        .route("/accounts/{id}/privacy", get(privacy::summary))
        .route("/subject/export", post(privacy::export))
        .route("/subject/erase", post(privacy::erase))
        .route("/connections", get(accounts::connections))
        .route(
            "/connections/{id}",
            axum::routing::patch(accounts::update_connection),
        )
        .route("/orders/new", get(orders::list_new))
        .route("/orders/{order_number}", get(orders::get_one))
        .route("/orders/{order_number}/ack", post(orders::ack))
        .route(
            "/orders/{order_number}/shipments",
            get(fulfilment::list_shipments).post(fulfilment::create_shipment),
        )
        .route(
            "/orders/{order_number}/cancellations",
            get(fulfilment::list_cancellations).post(fulfilment::create_cancellation),
        )
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", axum::routing::delete(webhooks::remove))
        .route("/webhooks/{id}/enable", post(webhooks::enable))
        .route("/webhooks/{id}/dead-letters", get(webhooks::dead_letters))
        .route("/webhooks/{id}/replay", post(webhooks::replay))
        .merge(support_api(&app))
        .merge(console_api());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/support", get(support::page))
        .route("/support/app.js", get(support::page_js))
        .route("/support/app.css", get(support::page_css))
        .route("/console", get(console::page))
        .route("/console/app.js", get(console::page_js))
        .route("/console/app.css", get(console::page_css))
        .nest("/api/v1", v1)
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            limits::read_body,
        ))
        .layer(axum::middleware::map_response(problem::ensure_problem))
        .with_state(app)
}

/// `GET /metrics` alone, for the `metrics.bind` listener: its series name accounts, so
/// it is kept off the API's address.
pub fn metrics_router(app: App) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .fallback(not_found)
        .layer(axum::middleware::map_response(problem::ensure_problem))
        .with_state(app)
}

/// Support lookup and its audit, with `no-store` responses and the per-process
/// per-token rate limiter (`support.rate_limit_per_minute`).
fn support_api(app: &App) -> Router<App> {
    let limiter = std::sync::Arc::new(crate::support::limiter::RateLimiter::new(
        app.settings.support.rate_limit_per_minute,
    ));
    Router::new()
        .route(
            "/support/accounts/{account}/orders/{order_number}",
            get(support::lookup),
        )
        .route("/support/accounts", get(support::accounts))
        .route("/audit", get(support::audit))
        .layer(axum::middleware::map_response(support::no_store))
        .layer(axum::Extension(limiter))
}

/// The console's admin endpoints, `no-store` like the support API.
fn console_api() -> Router<App> {
    Router::new()
        .route("/health", get(console::report))
        .route("/health/series", get(console::series))
        .layer(axum::middleware::map_response(support::no_store))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn not_found() -> problem::ApiError {
    problem::ApiError::not_found("resource")
}
