//! Admin account endpoints and the connection status view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ordervault_connectors::ConnectionInfo;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::Principal;
use super::openapi::{TAG_ACCOUNTS, TAG_CONNECTIONS};
use super::problem::{json_rejection, ApiError, Problem};
use crate::app::App;
use crate::ids::{ConnectionId, Role};
use crate::privacy::closure::DeletionReceipt;
use crate::store::catalog::{AccountRecord, ConnectionRecord};
use crate::store::IngestFailure;

/// `POST /accounts`.
#[derive(Deserialize, ToSchema)]
pub struct NewAccount {
    /// Trimmed; 1 to 100 printable characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub name: String,
    /// Days after fulfilment or cancellation before personal data is erased (the
    /// configured default when absent).
    #[schema(minimum = 1, maximum = 3650)]
    pub retention_days: Option<u32>,
}

/// `GET /accounts`.
#[derive(Serialize, ToSchema)]
pub struct AccountList {
    pub accounts: Vec<AccountRecord>,
}

/// List accounts.
#[utoipa::path(get, path = "/accounts", tag = TAG_ACCOUNTS,
    responses((status = 200, description = "OK", body = AccountList)))]
pub async fn list(State(app): State<App>, p: Principal) -> Result<Json<AccountList>, ApiError> {
    p.require(Role::Admin)?;
    let accounts = crate::accounts::list_accounts(&app).await?;
    Ok(Json(AccountList { accounts }))
}

/// Create an account.
#[utoipa::path(post, path = "/accounts", tag = TAG_ACCOUNTS, request_body = NewAccount,
    responses((status = 201, description = "Created", body = AccountRecord)))]
pub async fn create(
    State(app): State<App>,
    p: Principal,
    body: Result<Json<NewAccount>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<AccountRecord>), ApiError> {
    p.require(Role::Admin)?;
    let Json(body) = body.map_err(json_rejection)?;
    let a = crate::accounts::create_account(&app, &body.name, body.retention_days).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Close an account: shred keys, drop its store; returns the deletion receipt (same on
/// repeat).
///
/// Same steps as the CLI. 409 when a closure cannot complete; the account then stays
/// closing and a repeat resumes it.
#[utoipa::path(post, path = "/accounts/{id}/close", tag = TAG_ACCOUNTS,
    params(("id" = String, Path, description = "The account id")),
    responses(
        (status = 200, description = "Deletion receipt", body = DeletionReceipt),
        (status = 409, description = "The closure cannot complete now; a repeat resumes it",
            body = Problem, content_type = "application/problem+json")))]
pub async fn close(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<DeletionReceipt>, ApiError> {
    p.require(Role::Admin)?;
    // Parsed once here; closure works on this value only (never the raw path text).
    let id = crate::ids::AccountId::parse(&id).map_err(|_| ApiError::not_found("account"))?;
    let receipt = crate::privacy::closure::close_account(&app, &id).await?;
    Ok(Json(receipt))
}

/// `GET /connections`.
#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionView>,
}

/// A connection with its status, its marketplace side and the orders it could not store.
#[derive(Serialize, ToSchema)]
pub struct ConnectionView {
    #[serde(flatten)]
    pub connection: ConnectionRecord,
    /// Hosts, Amazon region, marketplaces and Orders API version; absent when the
    /// connection's settings do not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_side: Option<ConnectionInfo>,
    /// Set when the connection uses an API the marketplace is retiring (Amazon Orders v0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<String>,
    /// How many orders the marketplace listed that are not stored.
    pub failed_orders_total: usize,
    /// The first 50 of them (`FAILED_ORDERS_SHOWN`): order id, reason naming fields
    /// only, attempts.
    pub failed_orders: Vec<IngestFailure>,
}

/// A connection after a change of its settings.
#[derive(Serialize, ToSchema)]
pub struct ConnectionSettingsView {
    #[serde(flatten)]
    pub connection: ConnectionRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace_side: Option<ConnectionInfo>,
}

/// `PATCH /connections/{id}`: only this field, and it is required (null removes the cap).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Documents the body `request_cap` reads field by field.
pub struct CapBody {
    /// Requests per second to the marketplace, above 0 and at most 100000; null removes
    /// the cap.
    #[schema(required = true, exclusive_minimum = 0, maximum = 100000)]
    pub max_requests_per_second: Option<f64>,
}

/// Most failed orders listed per connection; `failed_orders_total` gives the count.
const FAILED_ORDERS_SHOWN: usize = 50;

/// Connections with status (`needs_reauth` and its reason), cursor, last error,
/// marketplace side (with a `deprecation` warning for Amazon Orders v0), and the orders
/// the marketplace listed that are not stored (`failed_orders`: order id, reason naming
/// fields only, attempts): a backoffice token sees its account's, an admin sees all.
#[utoipa::path(get, path = "/connections", tag = TAG_CONNECTIONS,
    summary = "Marketplace connections with status (needs_reauth + reason), cursor, last error, marketplace side (hosts, Amazon region, marketplaces, API version), a deprecation warning for Amazon Orders v0, and the orders that could not be stored",
    responses((status = 200, description = "OK", body = ConnectionList)))]
pub async fn connections(
    State(app): State<App>,
    p: Principal,
) -> Result<Json<ConnectionList>, ApiError> {
    let account = match p.role {
        Role::Admin => None,
        Role::Backoffice => Some(p.backoffice_account()?),
        Role::Support => return Err(ApiError::forbidden("support tokens see masked orders only")),
    };
    let list = app.store.catalog().connections(account.as_ref()).await?;
    let mut out = Vec::with_capacity(list.len());
    for c in &list {
        let failures = if app.store.account_store_exists(&c.account_id).await? {
            let store = app.store.account(&c.account_id).await?;
            store
                .connection_failures(&c.marketplace, c.id.as_str())
                .await?
        } else {
            Vec::new()
        };
        // Its marketplace side: hosts, Amazon region, marketplaces and Orders API version,
        // and a `deprecation` warning when that API is being retired.
        let marketplace_side = crate::ingest::connections::describe(c);
        out.push(ConnectionView {
            connection: c.clone(),
            deprecation: marketplace_side
                .as_ref()
                .and_then(|i| i.deprecation.clone()),
            marketplace_side,
            failed_orders_total: failures.len(),
            failed_orders: failures.into_iter().take(FAILED_ORDERS_SHOWN).collect(),
        });
    }
    Ok(Json(ConnectionList { connections: out }))
}

/// `PATCH /connections/{id}`: sets (`{"max_requests_per_second": 5}`) or removes
/// (`null`) a connection's cap on requests per second to its marketplace. An admin may
/// change any connection, a backoffice token its own account's; another account's
/// connection is "not found", as is one that does not exist.
#[utoipa::path(patch, path = "/connections/{id}", tag = TAG_CONNECTIONS,
    summary = "Cap a connection's requests per second to its marketplace (a number above 0, at most 100000), or remove the cap (null): the sync then goes as fast as the marketplace's stated rate limits allow. Admin: any connection; backoffice: its account's",
    params(("id" = String, Path, description = "The connection id")),
    request_body = CapBody,
    responses((status = 200, description = "The connection with its new settings", body = ConnectionSettingsView)))]
pub async fn update_connection(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ConnectionSettingsView>, ApiError> {
    let account = match p.role {
        Role::Admin => None,
        Role::Backoffice => Some(p.backoffice_account()?),
        Role::Support => return Err(ApiError::forbidden("support tokens see masked orders only")),
    };
    let Json(body) = body.map_err(json_rejection)?;
    let cap = request_cap(&body)?;
    // The path's id is parsed here, at the edge: a malformed one is not found.
    let id = ConnectionId::parse(&id).map_err(|_| ApiError::not_found("connection"))?;
    let rec = app
        .store
        .catalog()
        .connection(&id)
        .await?
        .filter(|c| account.as_ref().is_none_or(|a| a == &c.account_id))
        .ok_or_else(|| ApiError::not_found("connection"))?;
    let rec = crate::ingest::connections::set_request_cap(&app, &rec.id, cap).await?;
    Ok(Json(ConnectionSettingsView {
        marketplace_side: crate::ingest::connections::describe(&rec),
        connection: rec,
    }))
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
