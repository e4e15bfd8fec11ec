//! The HTTP API (axum): `/api/v1` with bearer tokens and problem+json errors, the OpenAPI
//! document, `/healthz`, and the `/support` and `/console` pages; Prometheus `/metrics`
//! on its own listener ([`metrics_router`]), never on the API's.

mod accounts;
pub mod auth;
mod console;
mod fulfilment;
mod limits;
mod metrics;
pub mod openapi;
mod orders;
mod page;
mod privacy;
pub mod problem;
pub mod server;
mod support;
mod webhooks;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    // The support lookup's per-process per-token rate limiter (`support.rate_limit_per_minute`).
    let limiter = std::sync::Arc::new(crate::support::limiter::RateLimiter::new(
        app.settings.support.rate_limit_per_minute,
    ));
    let (v1, _) = v1().split_for_parts();
    let v1 = v1
        .route("/openapi.json", get(openapi::document))
        .layer(axum::Extension(limiter));
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

/// `/api/v1`: every route with its OpenAPI description, from the handlers'
/// `#[utoipa::path]` annotations (the `openapi.json` route itself is added by [`router`]).
pub(crate) fn v1() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(openapi::Frame::openapi())
        .routes(routes!(accounts::list, accounts::create))
        .routes(routes!(accounts::close))
        .routes(routes!(privacy::summary))
        .routes(routes!(privacy::export))
        .routes(routes!(privacy::erase))
        .routes(routes!(accounts::connections))
        .routes(routes!(accounts::update_connection))
        .routes(routes!(orders::list_new))
        .routes(routes!(orders::get_one))
        .routes(routes!(orders::ack))
        .routes(routes!(
            fulfilment::list_shipments,
            fulfilment::create_shipment
        ))
        .routes(routes!(
            fulfilment::list_cancellations,
            fulfilment::create_cancellation
        ))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::remove))
        .routes(routes!(webhooks::enable))
        .routes(routes!(webhooks::dead_letters))
        .routes(routes!(webhooks::replay))
        .merge(support_api())
        .merge(console_api())
}

/// Support lookup and its audit, with `no-store` responses (the rate limiter is added
/// by [`router`]).
fn support_api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(support::lookup))
        .routes(routes!(support::accounts))
        .routes(routes!(support::audit))
        .layer(axum::middleware::map_response(support::no_store))
}

/// The console's admin endpoints, `no-store` like the support API.
fn console_api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(console::report))
        .routes(routes!(console::series))
        .layer(axum::middleware::map_response(support::no_store))
}

/// `GET /healthz`: the process answers.
#[derive(serde::Serialize)]
struct Healthz {
    status: &'static str,
}

async fn healthz() -> Json<Healthz> {
    Json(Healthz { status: "ok" })
}

async fn not_found() -> problem::ApiError {
    problem::ApiError::not_found("resource")
}
