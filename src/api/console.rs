//! The operator console: `GET /console` (a static page, admin token in page memory only)
//! and the admin endpoints whose numbers it draws, `GET /api/v1/health` and
//! `GET /api/v1/health/series`, so every figure on the page is also scriptable.
//!
//! The endpoints answer admin tokens only, with `Cache-Control: no-store`; they report
//! counts, states and times, never customer personal data.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Principal;
use super::openapi::TAG_CONSOLE;
use super::page::asset;
use super::problem::ApiError;
use crate::app::App;
use crate::health::series::Series;
use crate::health::HealthReport;
use crate::ids::{AccountId, Role};

/// Query of the health view.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HealthQuery {
    /// Only accounts that need attention.
    #[param(default = false)]
    pub needs_attention: Option<bool>,
}

/// `GET /api/v1/health`: per active account, connections, webhook delivery, ship-back,
/// privacy and key status, with the reasons it needs attention.
#[utoipa::path(get, path = "/health", tag = TAG_CONSOLE,
    summary = "Per active account: connections, webhook delivery, ship-back, privacy, key status, and why it needs attention (admin tokens; what /console shows)",
    params(HealthQuery),
    responses((status = 200, description = "OK", body = HealthReport,
        headers(("Cache-Control" = String, description = "no-store")))))]
pub async fn report(
    State(app): State<App>,
    p: Principal,
    query: Result<Query<HealthQuery>, QueryRejection>,
) -> Result<Json<HealthReport>, ApiError> {
    p.require(Role::Admin)?;
    let Query(q) =
        query.map_err(|_| ApiError::bad_request("needs_attention must be true or false"))?;
    let report = crate::health::health_report(&app, q.needs_attention.unwrap_or(false)).await?;
    Ok(Json(report))
}

/// Query of the series.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// One account's series instead of all active accounts together.
    #[param(pattern = "^[0-9a-f]{16}$")]
    pub account: Option<String>,
}

/// `GET /api/v1/health/series`: orders ingested per hour per marketplace (7 days),
/// delivery latency percentiles per day, and orders pseudonymized per day.
#[utoipa::path(get, path = "/health/series", tag = TAG_CONSOLE,
    summary = "Plots of /console: orders ingested per hour per marketplace (168 hours), webhook delivery latency percentiles per day and orders pseudonymized per day (7 days), UTC-aligned buckets ending with the current one (admin tokens)",
    params(SeriesQuery),
    responses((status = 200, description = "OK", body = Series,
        headers(("Cache-Control" = String, description = "no-store")))))]
pub async fn series(
    State(app): State<App>,
    p: Principal,
    query: Result<Query<SeriesQuery>, QueryRejection>,
) -> Result<Json<Series>, ApiError> {
    p.require(Role::Admin)?;
    let Query(q) = query.map_err(|_| ApiError::bad_request("account must be an account id"))?;
    let account = match q.account.as_deref() {
        None | Some("") => None,
        Some(a) => Some(AccountId::parse(a).map_err(|_| ApiError::not_found("account"))?),
    };
    Ok(Json(
        crate::health::series::series(&app, account.as_ref()).await?,
    ))
}

const PAGE_HTML: &str = include_str!("console_page/index.html");
const PAGE_JS: &str = include_str!("console_page/app.js");
const PAGE_CSS: &str = include_str!("console_page/app.css");

/// `GET /console`: the operator console (HTML; the admin token stays in page memory).
pub async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE_HTML)
}

/// `GET /console/app.js`.
pub async fn page_js() -> Response {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}

/// `GET /console/app.css`.
pub async fn page_css() -> Response {
    asset("text/css; charset=utf-8", PAGE_CSS)
}
