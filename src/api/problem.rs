//! RFC 9457 problem details: every API error is `application/problem+json` with a title
//! an integrator can act on, and never a secret or personal data.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ServiceError;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    /// Set on server faults ([`ApiError::internal`]): the id under which the cause was
    /// logged, answered as the `correlation_id` member so an integrator can quote it.
    pub correlation_id: Option<String>,
}

/// The only wording a client gets for a server fault: the cause is in the log.
pub const INTERNAL_DETAIL: &str = "the request could not be completed; see the server log";

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            correlation_id: None,
        }
    }
    /// A server fault (500): logs `cause` (ids and kinds, never personal data) under a
    /// fresh correlation id and answers fixed wording with that id, nothing of the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let correlation_id = new_correlation_id();
        tracing::error!(correlation_id = %correlation_id, error = %cause, "request failed");
        Self {
            correlation_id: Some(correlation_id),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                INTERNAL_DETAIL,
            )
        }
    }
    pub fn unauthorized(detail: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }
    pub fn forbidden(detail: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            format!("{what} not found"),
        )
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }
}

/// The body of every error the API answers (`application/problem+json`, RFC 9457), as
/// one type so the OpenAPI document describes exactly what is sent.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say what happened.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// What went wrong, naming fields, never their values.
    pub detail: String,
    /// On a 500: the id under which the server logged the cause; quote it when reporting
    /// the fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail,
            correlation_id: self.correlation_id,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// Turns any error response that is not already problem+json (axum's own rejections of
/// a path or query, 405 with an empty body, …) into one with fixed wording by status:
/// the parser's text, which can quote what the client sent, is dropped. Headers such as
/// `Allow` are kept.
pub async fn ensure_problem(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if is_problem {
        return resp;
    }
    let (title, detail) = match status {
        StatusCode::BAD_REQUEST => ("Bad Request", "a path or query parameter is invalid"),
        StatusCode::NOT_FOUND => ("Not Found", "resource not found"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "Method Not Allowed",
            "this method is not allowed on this resource",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("Payload Too Large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "Unsupported Media Type",
            "expected content-type: application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "Unprocessable Content",
            "the request could not be processed",
        ),
        s if s.is_server_error() => ("Internal Server Error", INTERNAL_DETAIL),
        s => (
            s.canonical_reason().unwrap_or("Error"),
            "the request could not be processed",
        ),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut fresh = ApiError::new(status, title, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fresh
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match &e {
            ServiceError::NotFound(what) => Self::not_found(what),
            ServiceError::Invalid(_) => Self::bad_request(e.to_string()),
            ServiceError::Conflict(_) => Self::new(StatusCode::CONFLICT, "Conflict", e.to_string()),
            ServiceError::Unprocessable(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Content",
                e.to_string(),
            ),
            // Internal, Store, Crypto, Keyring, Config: the server's fault. The detail
            // goes to the operator's log, not to the client.
            ServiceError::Internal(_)
            | ServiceError::Store(_)
            | ServiceError::Crypto(_)
            | ServiceError::Keyring(_)
            | ServiceError::Config(_) => Self::internal(&e),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<crate::keyring::KeyringError> for ApiError {
    fn from(e: crate::keyring::KeyringError) -> Self {
        ServiceError::from(e).into()
    }
}

/// A correlation id: 16 random hex digits, enough to find one failure in a log and
/// nothing that says anything about the request.
fn new_correlation_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// JSON bodies that fail to parse become problems too. The detail names the kind of
/// fault and where it is, never the text: serde's messages quote the offending value
/// (`invalid type: string "…"`), and a client may have posted personal data. A body
/// over the size limit is a 413.
pub fn json_rejection(e: axum::extract::rejection::JsonRejection) -> ApiError {
    use axum::extract::rejection::JsonRejection as J;
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            format!("request bodies are limited to {} bytes", super::BODY_LIMIT),
        );
    }
    let what = match &e {
        J::JsonDataError(_) => "a field is missing, unknown or of the wrong type",
        J::JsonSyntaxError(_) => "the body is not valid JSON",
        J::MissingJsonContentType(_) => "expected content-type: application/json",
        _ => "the body could not be read",
    };
    let mut source = std::error::Error::source(&e);
    let mut position = String::new();
    while let Some(s) = source {
        if let Some(j) = s.downcast_ref::<serde_json::Error>() {
            position = format!(" (line {}, column {})", j.line(), j.column());
            break;
        }
        source = s.source();
    }
    ApiError::bad_request(format!("invalid JSON body: {what}{position}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(e: ApiError) -> (StatusCode, serde_json::Value) {
        let resp = e.into_response();
        let status = resp.status();
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bytes = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// Server faults (a died task, a stored value that does not open, the scheduler)
    /// answer 500 with fixed wording and a correlation id, never their cause.
    #[tokio::test]
    async fn internal_faults_are_500_with_fixed_wording() {
        for e in [
            ServiceError::internal("page write task failed: task 7 panicked"),
            ServiceError::Store(crate::store::StoreError::Corrupt("orders row 3".into())),
        ] {
            let (status, v) = body(e.into()).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(v["detail"], INTERNAL_DETAIL);
            let text = v.to_string();
            assert!(
                !text.contains("panicked") && !text.contains("row 3"),
                "{text}"
            );
            let id = v["correlation_id"].as_str().unwrap();
            assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    /// Client faults keep their status and wording, and carry no correlation id.
    #[tokio::test]
    async fn client_faults_keep_their_status() {
        for (e, status) in [
            (
                ServiceError::Invalid("name".into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                ServiceError::NotFound("webhook".into()),
                StatusCode::NOT_FOUND,
            ),
            (
                ServiceError::Conflict("closing".into()),
                StatusCode::CONFLICT,
            ),
            (
                ServiceError::Unprocessable("loopback".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ] {
            let (got, v) = body(e.into()).await;
            assert_eq!(got, status);
            assert!(v.get("correlation_id").is_none());
        }
    }
}
