//! Privacy endpoints: the account's retention summary, and data subject rights (export
//! and erase by email) for the account's backoffice.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Principal;
use super::problem::{json_rejection, ApiError};
use crate::app::App;
use crate::ids::{AccountId, Role};

#[derive(Deserialize)]
pub struct SubjectBody {
    /// The customer's email; case and surrounding spaces do not matter.
    pub email: ordervault_connectors::PersonalText,
}

/// `GET /api/v1/accounts/{id}/privacy`: admin, or the account's own backoffice.
pub async fn summary(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let account = AccountId::parse(&id).map_err(|_| ApiError::not_found("account"))?;
    match p.role {
        Role::Admin => {}
        Role::Backoffice if p.account.as_ref() == Some(&account) => {}
        Role::Backoffice => return Err(ApiError::not_found("account")),
        Role::Support => return Err(ApiError::forbidden("support tokens see masked orders only")),
    }
    let s = crate::privacy::privacy_summary(&app, &account).await?;
    Ok(Json(serde_json::to_value(s).unwrap_or_default()))
}

type Body = Result<Json<SubjectBody>, axum::extract::rejection::JsonRejection>;

/// `POST /api/v1/subject/export`: everything held for an email, machine-readable.
pub async fn export(
    State(app): State<App>,
    p: Principal,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let account = p.backoffice_account()?;
    let Json(body) = body.map_err(json_rejection)?;
    let export = crate::privacy::export_subject(&app, &account, &body.email).await?;
    Ok(Json(serde_json::to_value(export).unwrap_or_default()))
}

/// `POST /api/v1/subject/erase`: erases everything held for an email; returns the receipt.
pub async fn erase(
    State(app): State<App>,
    p: Principal,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let account = p.backoffice_account()?;
    let Json(body) = body.map_err(json_rejection)?;
    let receipt = crate::privacy::erase_subject(&app, &account, &body.email).await?;
    Ok(Json(serde_json::to_value(receipt).unwrap_or_default()))
}
