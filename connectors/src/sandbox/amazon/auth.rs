//! The sandbox's auth endpoints: the LWA refresh-token grant (`POST /auth/o2/token`)
//! and createRestrictedDataToken (`POST /tokens/2021-03-01/restrictedDataToken`).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Access, Op, Shared};
use crate::amazon::wire;

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = wire::LwaError {
        error: error.into(),
        error_description: Some(description.into()),
    };
    (status, axum::Json(body)).into_response()
}

/// `POST /auth/o2/token`: the LWA refresh-token grant.
pub(super) async fn lwa_token(
    State(s): State<Shared>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter or is otherwise malformed.",
        );
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("grant_type") != "refresh_token" {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    let creds = &s.config.credentials;
    if field("client_id") != creds.client_id || field("client_secret") != creds.client_secret {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if s.lwa.is_revoked() || field("refresh_token") != creds.refresh_token {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let body = wire::LwaTokenResponse {
        access_token: s.lwa.issue("Atza|", s.lifetime),
        token_type: "bearer".into(),
        expires_in: s.lifetime.num_seconds(),
        refresh_token: Some(creds.refresh_token.clone()),
    };
    let mut r = axum::Json(body).into_response();
    r.headers_mut().insert("x-amzn-RequestId", s.request_id());
    r
}

/// `POST /tokens/2021-03-01/restrictedDataToken`.
pub(super) async fn restricted_data_token(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let op = Op::CreateRestrictedDataToken;
    match s.gate(op, &headers, "/tokens/2021-03-01/restrictedDataToken") {
        Ok(Access::Lwa) => {}
        Ok(Access::Rdt(_)) => {
            return s.denied("A restricted data token cannot create restricted data tokens.")
        }
        Err(r) => return r,
    }
    let Ok(req) = serde_json::from_slice::<wire::CreateRestrictedDataTokenRequest>(&body) else {
        return s.invalid(
            op,
            "The request body is not a CreateRestrictedDataTokenRequest.",
        );
    };
    let n = req.restricted_resources.len();
    if n == 0 || n > 50 {
        return s.invalid(op, "restrictedResources must hold 1 to 50 resources.");
    }
    for r in &req.restricted_resources {
        if !["GET", "PUT", "POST", "DELETE"].contains(&r.method.as_str())
            || !r.path.starts_with('/')
        {
            return s.invalid(op, "Each restricted resource needs a method and a path.");
        }
        let known = ["buyerInfo", "shippingAddress", "buyerTaxInformation"];
        if r.data_elements
            .iter()
            .flatten()
            .any(|d| !known.contains(&d.as_str()))
        {
            return s.invalid(op, "Unknown dataElements value.");
        }
    }
    let token = s.rdt.issue("Atz.sprdt|", s.lifetime);
    s.rdt_resources
        .lock()
        .unwrap()
        .insert(token.clone(), req.restricted_resources.clone());
    s.stats
        .restricted_data_tokens
        .fetch_add(1, Ordering::SeqCst);
    s.ok(
        op,
        &wire::CreateRestrictedDataTokenResponse {
            restricted_data_token: token,
            expires_in: s.lifetime.num_seconds(),
        },
    )
}
