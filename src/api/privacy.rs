//! Privacy endpoints: the account's retention summary, and data subject rights (export
//! and erase by email) for the account's backoffice.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Principal;
use super::openapi::TAG_PRIVACY;
use super::problem::{json_rejection, ApiError};
use crate::app::App;
use crate::ids::{AccountId, Role};
use crate::privacy::pseudonymize::PrivacySummary;
use crate::privacy::subject::{ErasureReceipt, SubjectExport};

/// `POST /subject/export` and `/subject/erase`.
#[derive(Deserialize, ToSchema)]
pub struct SubjectBody {
    /// The customer's email; case and surrounding spaces do not matter.
    #[schema(value_type = String, min_length = 1, max_length = 320, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub email: ordervault_connectors::PersonalText,
}

/// Retention, orders with personal data, pseudonymized, overdue.
///
/// `GET /api/v1/accounts/{id}/privacy`: admin, or the account's own backoffice.
#[utoipa::path(get, path = "/accounts/{id}/privacy", tag = TAG_PRIVACY,
    params(("id" = String, Path, description = "The account id")),
    responses((status = 200, description = "OK", body = PrivacySummary)))]
pub async fn summary(
    State(app): State<App>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<PrivacySummary>, ApiError> {
    let account = AccountId::parse(&id).map_err(|_| ApiError::not_found("account"))?;
    match p.role {
        Role::Admin => {}
        Role::Backoffice if p.account.as_ref() == Some(&account) => {}
        Role::Backoffice => return Err(ApiError::not_found("account")),
        Role::Support => return Err(ApiError::forbidden("support tokens see masked orders only")),
    }
    let s = crate::privacy::privacy_summary(&app, &account).await?;
    Ok(Json(s))
}

type Body = Result<Json<SubjectBody>, axum::extract::rejection::JsonRejection>;

/// Export everything held for a customer email (backoffice).
///
/// `POST /api/v1/subject/export`: everything held for an email, machine-readable.
#[utoipa::path(post, path = "/subject/export", tag = TAG_PRIVACY, request_body = SubjectBody,
    responses((status = 200, description = "Export with receipt", body = SubjectExport)))]
pub async fn export(
    State(app): State<App>,
    p: Principal,
    body: Body,
) -> Result<Json<SubjectExport>, ApiError> {
    let account = p.backoffice_account()?;
    let Json(body) = body.map_err(json_rejection)?;
    let export = crate::privacy::export_subject(&app, &account, &body.email).await?;
    Ok(Json(export))
}

/// Erase everything held for a customer email (backoffice).
///
/// `POST /api/v1/subject/erase`: erases everything held for an email; returns the receipt.
#[utoipa::path(post, path = "/subject/erase", tag = TAG_PRIVACY, request_body = SubjectBody,
    responses((status = 200, description = "Erasure receipt", body = ErasureReceipt)))]
pub async fn erase(
    State(app): State<App>,
    p: Principal,
    body: Body,
) -> Result<Json<ErasureReceipt>, ApiError> {
    let account = p.backoffice_account()?;
    let Json(body) = body.map_err(json_rejection)?;
    let receipt = crate::privacy::erase_subject(&app, &account, &body.email).await?;
    Ok(Json(receipt))
}
