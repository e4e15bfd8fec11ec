//! Admin account endpoints and the connection status view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Principal;
use super::problem::{json_rejection, ApiError};
use crate::app::App;
use crate::ids::Role;

#[derive(Deserialize)]
pub struct NewAccount {
    pub name: String,
    pub retention_days: Option<u32>,
}

pub async fn list(State(app): State<App>, p: Principal) -> Result<Json<Value>, ApiError> {
    p.require(Role::Admin)?;
    let accounts = crate::accounts::list_accounts(&app).await?;
    Ok(Json(json!({ "accounts": accounts })))
}

pub async fn create(
    State(app): State<App>,
    p: Principal,
    body: Result<Json<NewAccount>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    p.require(Role::Admin)?;
    let Json(body) = body.map_err(json_rejection)?;
    let a = crate::accounts::create_account(&app, &body.name, body.retention_days).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(a).unwrap_or_default()),
    ))
}

/// Closes an account: same steps as the CLI; closing twice returns the same receipt.
pub async fn close(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    p.require(Role::Admin)?;
    // Parsed once here; closure works on this value only (never the raw path text).
    let id = crate::ids::AccountId::parse(&id).map_err(|_| ApiError::not_found("account"))?;
    let receipt = crate::privacy::closure::close_account(&app, &id).await?;
    Ok(Json(serde_json::to_value(receipt).unwrap_or_default()))
}

/// Most failed orders listed per connection; `failed_orders_total` gives the count.
const FAILED_ORDERS_SHOWN: usize = 50;

/// Connections with status (`needs_reauth` and its reason), cursor, last error,
/// marketplace side (with a `deprecation` warning for Amazon Orders v0), and the orders
/// the marketplace listed that are not stored (`failed_orders`: order id, reason naming
/// fields only, attempts): a backoffice token sees its account's, an admin sees all.
pub async fn connections(State(app): State<App>, p: Principal) -> Result<Json<Value>, ApiError> {
    let account = match p.role {
        Role::Admin => None,
        Role::Backoffice => Some(p.backoffice_account()?),
        Role::Support => return Err(ApiError::forbidden("support tokens see masked orders only")),
    };
    let list = app
        .store
        .catalog()
        .connections(account.as_ref().map(|a| a.as_str()))
        .await?;
    let mut out = Vec::with_capacity(list.len());
    for c in &list {
        let failures = if app.store.account_store_exists(&c.account_id).await? {
            let store = app.store.account(&c.account_id).await?;
            store.connection_failures(&c.marketplace, &c.id).await?
        } else {
            Vec::new()
        };
        let mut v = serde_json::to_value(c).unwrap_or_default();
        // Its marketplace side: hosts, Amazon region, marketplaces and Orders API version,
        // and a `deprecation` warning when that API is being retired.
        if let Some(info) = crate::ingest::connections::describe(c) {
            v["marketplace_side"] = serde_json::to_value(&info).unwrap_or_default();
            if let Some(w) = info.deprecation {
                v["deprecation"] = Value::String(w);
            }
        }
        v["failed_orders_total"] = json!(failures.len());
        v["failed_orders"] = json!(failures
            .into_iter()
            .take(FAILED_ORDERS_SHOWN)
            .collect::<Vec<_>>());
        out.push(v);
    }
    Ok(Json(json!({ "connections": out })))
}

/// `PATCH /connections/{id}`: sets (`{"max_requests_per_second": 5}`) or removes
/// (`null`) a connection's cap on requests per second to its marketplace. An admin may
/// change any connection, a backoffice token its own account's; another account's
/// connection is "not found", as is one that does not exist.
pub async fn update_connection(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let account = match p.role {
        Role::Admin => None,
        Role::Backoffice => Some(p.backoffice_account()?),
        Role::Support => return Err(ApiError::forbidden("support tokens see masked orders only")),
    };
    let Json(body) = body.map_err(json_rejection)?;
    let cap = request_cap(&body)?;
    let rec = app
        .store
        .catalog()
        .connection(&id)
        .await?
        .filter(|c| {
            account
                .as_ref()
                .is_none_or(|a| a.as_str() == c.account_id.as_str())
        })
        .ok_or_else(|| ApiError::not_found("connection"))?;
    let rec = crate::ingest::connections::set_request_cap(&app, &rec.id, cap).await?;
    let mut v = serde_json::to_value(&rec).unwrap_or_default();
    if let Some(info) = crate::ingest::connections::describe(&rec) {
        v["marketplace_side"] = serde_json::to_value(&info).unwrap_or_default();
    }
    Ok(Json(v))
}

/// Reads `{"max_requests_per_second": number | null}`; nothing else is accepted.
fn request_cap(body: &Value) -> Result<Option<ordervault_connectors::cap::RequestRate>, ApiError> {
    const FIELD: &str = "max_requests_per_second";
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    if let Some(other) = obj.keys().find(|k| k.as_str() != FIELD) {
        return Err(ApiError::bad_request(format!(
            "unknown field `{}`: only {FIELD} can be changed",
            other.chars().take(64).collect::<String>()
        )));
    }
    match obj.get(FIELD) {
        None => Err(ApiError::bad_request(format!(
            "{FIELD} is required (null removes the cap)"
        ))),
        Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .and_then(|r| ordervault_connectors::cap::RequestRate::new(r).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(ordervault_connectors::cap::InvalidRate.to_string())
            }),
    }
}
