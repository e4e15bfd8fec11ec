//! The identity side of the eBay sandbox: the consent page (auto-approving) and the
//! token endpoint with eBay's two user grants and OAuth error bodies.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Duration;

use super::{fault, json, query, Shared, REFRESH_TOKEN_LIFETIME_SECS, SCOPES};
use crate::ebay::wire;

/// Prefix of the sandbox's access tokens (eBay's user tokens start like this).
const ACCESS_TOKEN_PREFIX: &str = "v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4s";

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json(
        status,
        &wire::OAuthError {
            error: error.into(),
            error_description: Some(description.into()),
        },
    )
}

pub(super) async fn authorize(State(s): State<Shared>, RawQuery(raw): RawQuery) -> Response {
    let params: HashMap<String, String> = query::pairs(raw.as_deref().unwrap_or(""))
        .into_iter()
        .map(|(k, v)| (k, query::decode(&v)))
        .collect();
    let p = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    if p("client_id") != s.config.credentials.client_id || p("response_type") != "code" {
        return oauth_error(
            400,
            "invalid_request",
            "client_id or response_type is invalid",
        );
    }
    if !p("scope").split(' ').all(|sc| SCOPES.contains(&sc)) {
        return oauth_error(400, "invalid_scope", "The requested scope is invalid");
    }
    let code = s
        .tokens
        .issue("v^1.1#i^1#I^3#f^0#r^1#p^3#t^Ul41", Duration::zero());
    s.codes.lock().unwrap().insert(
        code.clone(),
        (
            p("redirect_uri").to_string(),
            s.clock.now() + Duration::seconds(299),
        ),
    );
    // The sandbox treats the RuName as the accept URL itself.
    let location = format!(
        "{}?state={}&code={}&expires_in=299",
        p("redirect_uri"),
        encode(p("state")),
        encode(&code)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) async fn token(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    if let Some(f) = s.faults.next() {
        return fault(f);
    }
    let creds = &s.config.credentials;
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.client_id, creds.client_secret));
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if basic != Some(expected.as_str()) {
        return oauth_error(401, "invalid_client", "client authentication failed");
    }
    let form_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_ok {
        return oauth_error(
            400,
            "invalid_request",
            "request is missing a required parameter",
        );
    }
    let form: HashMap<String, String> = query::pairs(&body)
        .into_iter()
        .map(|(k, v)| (k, query::decode(&v)))
        .collect();
    let f = |k: &str| form.get(k).map(String::as_str);
    if let Some(scope) = f("scope") {
        if !scope.split(' ').all(|sc| SCOPES.contains(&sc)) {
            return oauth_error(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
            );
        }
    }
    let lifetime = s.token_lifetime();
    match f("grant_type") {
        Some("refresh_token") => {
            if s.tokens.is_revoked() || f("refresh_token") != Some(creds.refresh_token.as_str()) {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the provided authorization refresh token is invalid or was issued to another client",
                );
            }
            json(
                200,
                &wire::TokenResponse {
                    access_token: s.tokens.issue(ACCESS_TOKEN_PREFIX, lifetime),
                    expires_in: lifetime.num_seconds(),
                    token_type: "User Access Token".into(),
                    refresh_token: None,
                    refresh_token_expires_in: None,
                },
            )
        }
        Some("authorization_code") => {
            let code = f("code").unwrap_or("");
            let entry = s.codes.lock().unwrap().remove(code);
            match entry {
                Some((uri, exp))
                    if exp > s.clock.now() && Some(uri.as_str()) == f("redirect_uri") =>
                {
                    json(
                        200,
                        &wire::TokenResponse {
                            access_token: s.tokens.issue(ACCESS_TOKEN_PREFIX, lifetime),
                            expires_in: lifetime.num_seconds(),
                            token_type: "User Access Token".into(),
                            refresh_token: Some(creds.refresh_token.clone()),
                            refresh_token_expires_in: Some(REFRESH_TOKEN_LIFETIME_SECS),
                        },
                    )
                }
                _ => oauth_error(
                    400,
                    "invalid_grant",
                    "the provided authorization grant code is invalid or was issued to another client",
                ),
            }
        }
        _ => oauth_error(
            400,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        ),
    }
}
