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

use super::auth::Principal;
use super::page::asset;
use super::problem::ApiError;
use crate::app::App;
use crate::health::series::Series;
use crate::health::HealthReport;
use crate::ids::{AccountId, Role};

/// Query of the health view.
#[derive(Deserialize)]
pub struct HealthQuery {
    /// Only accounts that need attention.
    pub needs_attention: Option<bool>,
}

/// `GET /api/v1/health`: per active account, connections, webhook delivery, ship-back,
/// privacy and key status, with the reasons it needs attention.
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
#[derive(Deserialize)]
pub struct SeriesQuery {
    /// One account's series instead of all active accounts together.
    pub account: Option<String>,
}

/// `GET /api/v1/health/series`: orders ingested per hour per marketplace (7 days),
/// delivery latency percentiles per day, and orders pseudonymized per day.
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
