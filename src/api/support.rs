//! Support endpoints: the masked lookup and the account picker (`support` tokens), the
//! audit of support access (`backoffice` tokens, own account), and the support web page.
//!
//! Every support API response carries `Cache-Control: no-store`. Checks run in this
//! order: token (401), role (403), rate limit (429, not audited: nothing was looked up),
//! then the lookup itself, which audits before it answers (DESIGN.md, "Roles").

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Principal;
use super::openapi::TAG_SUPPORT;
use super::page::asset;
use super::problem::{ApiError, Problem};
use crate::app::App;
use crate::ids::Role;
use crate::store::catalog::{AccountName, AuditEntry};
use crate::support::limiter::RateLimiter;
use crate::support::{lookup as run_lookup, LookupError, LookupRequest, MaskedOrder};

/// Optional query of the lookup.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// Narrows to one marketplace when two share the order number.
    #[param(value_type = Option<ordervault_connectors::MarketplaceKind>)]
    pub marketplace: Option<String>,
}

/// The masked order(s) with one number.
#[derive(Serialize, ToSchema)]
pub struct MaskedOrders {
    pub orders: Vec<MaskedOrder>,
}

/// Accounts support may pick.
#[derive(Serialize, ToSchema)]
pub struct AccountNames {
    #[schema(max_items = 10)]
    pub accounts: Vec<AccountName>,
}

/// Support lookups of one account.
#[derive(Serialize, ToSchema)]
pub struct AuditEntries {
    pub entries: Vec<AuditEntry>,
}

/// `GET /api/v1/support/accounts/{account}/orders/{order_number}`: the masked order(s)
/// with exactly this number. A 404 is the same for an unknown account, a closed account
/// and an unknown order.
#[utoipa::path(get, path = "/support/accounts/{account}/orders/{order_number}", tag = TAG_SUPPORT,
    summary = "Masked order(s) with exactly this number (support tokens)",
    description = "Audited before it answers; 404 is the same for an unknown account, a closed account and an unknown order. When two marketplaces share the number both are returned, unless ?marketplace= narrows it.",
    params(
        ("account" = String, Path, pattern = "^[0-9a-f]{16}$"),
        ("order_number" = String, Path, pattern = "^[A-Za-z0-9-]{1,64}$",
            description = "Exact; surrounding white space is trimmed"),
        LookupQuery),
    responses(
        (status = 200, description = "OK", body = MaskedOrders,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 429, description = "Rate limited (support.rate_limit_per_minute per token, per process)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "Seconds to wait")))))]
pub async fn lookup(
    State(app): State<App>,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    p: Principal,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<LookupQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    p.require(Role::Support)?;
    if let Err(retry_after) = limiter.check(&p.token_id, app.now_ms()) {
        tracing::warn!(token = %p.token_id, "support lookup rate limited");
        let mut resp = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "support lookup rate limit reached; retry later",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return Ok(resp);
    }
    // A path or query that does not even decode is still a lookup: it is audited as
    // invalid (with nothing of the input) before the 400.
    let (account, number) = match &path {
        Ok(Path((a, n))) => (a.as_str(), n.as_str()),
        Err(_) => ("", ""),
    };
    let marketplace = match &query {
        Ok(Query(q)) => q.marketplace.as_deref(),
        Err(_) => Some(""),
    };
    let result = run_lookup(
        &app,
        LookupRequest {
            token_id: &p.token_id,
            account,
            order_number: number,
            marketplace,
        },
    )
    .await;
    match result {
        Ok(orders) => Ok(Json(MaskedOrders { orders }).into_response()),
        Err(LookupError::Invalid(msg)) => Err(ApiError::bad_request(msg)),
        Err(LookupError::NotFound) => Err(ApiError::not_found("order")),
        Err(e @ (LookupError::AuditFailed | LookupError::Internal)) => {
            Err(ApiError::internal(&format_args!("support lookup: {e}")))
        }
    }
}

/// Query of the account picker.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Part of the account's name, or the start of its id.
    #[param(required = true, value_type = String, min_length = 2, max_length = 100)]
    pub q: Option<String>,
}

/// Most accounts the picker returns: enough to choose from, too few to list a catalog.
pub const ACCOUNT_MATCHES: i64 = 10;

/// `GET /api/v1/support/accounts?q=`: active accounts whose name contains `q` (2–100
/// characters) or whose id starts with it, as id and name only (support tokens). No
/// counts and no other field, so the picker tells support nothing about an account but
/// what a seller's name and id are; the order lookup stays as strict as before.
#[utoipa::path(get, path = "/support/accounts", tag = TAG_SUPPORT,
    summary = "Active accounts whose name contains q, or whose id starts with q: id and name only, at most 10, by name (support tokens; the account picker of /support)",
    params(AccountQuery),
    responses((status = 200, description = "OK", body = AccountNames,
        headers(("Cache-Control" = String, description = "no-store")))))]
pub async fn accounts(
    State(app): State<App>,
    p: Principal,
    query: Result<Query<AccountQuery>, QueryRejection>,
) -> Result<Json<AccountNames>, ApiError> {
    p.require(Role::Support)?;
    let Query(q) = query.map_err(|_| ApiError::bad_request("q must be text"))?;
    let text = q.q.as_deref().unwrap_or("").trim();
    let len = text.chars().count();
    if !(2..=100).contains(&len) || text.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "q must be 2–100 printable characters of the account's name or id",
        ));
    }
    let accounts = app
        .store
        .catalog()
        .search_active_accounts(text, ACCOUNT_MATCHES)
        .await?;
    Ok(Json(AccountNames { accounts }))
}

/// Query of the audit read.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many to return; values outside 1–1000 are clamped into that range.
    #[param(default = 100)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/audit`: support lookups of the backoffice token's own account, newest
/// first (`limit` 1–1000, default 100).
#[utoipa::path(get, path = "/audit", tag = TAG_SUPPORT,
    summary = "Support lookups of the token's own account, newest first (backoffice tokens)",
    params(AuditQuery),
    responses((status = 200, description = "OK", body = AuditEntries,
        headers(("Cache-Control" = String, description = "no-store")))))]
pub async fn audit(
    State(app): State<App>,
    p: Principal,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditEntries>, ApiError> {
    let account = p.backoffice_account()?;
    let Query(q) = query.map_err(|_| ApiError::bad_request("limit must be an integer"))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = app
        .store
        .catalog()
        .support_audit(account.as_str(), limit)
        .await?;
    Ok(Json(AuditEntries { entries }))
}

/// Adds `Cache-Control: no-store` (and `nosniff`) to support API responses, errors
/// included, so no masked order lingers in a browser or proxy cache.
pub async fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

const PAGE_HTML: &str = include_str!("support_page/index.html");
const PAGE_JS: &str = include_str!("support_page/app.js");
const PAGE_CSS: &str = include_str!("support_page/app.css");

/// `GET /support`: the support page (HTML; the token stays in the page's memory).
pub async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE_HTML)
}

/// `GET /support/app.js`.
pub async fn page_js() -> Response {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}

/// `GET /support/app.css`.
pub async fn page_css() -> Response {
    asset("text/css; charset=utf-8", PAGE_CSS)
}
