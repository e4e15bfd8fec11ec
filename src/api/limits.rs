//! Per-request body limits: a declared `Content-Length` over [`super::BODY_LIMIT`] is
//! refused with 413 before a byte of the body is read, and a body that does not arrive
//! within `server.body_read_timeout_ms` is answered 408 (the connection then closes, as
//! the body was not read to its end).
//!
//! Every API body is a small JSON object, so the body is read here, whole, under the
//! deadline, and handed on in memory; the size limit still applies while reading.
//! Never logs or echoes body contents.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::ApiError;
use super::BODY_LIMIT;

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Payload Too Large",
        format!("request bodies are limited to {BODY_LIMIT} bytes"),
    )
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The middleware; `timeout` is `server.body_read_timeout_ms`.
pub async fn read_body(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .map(|v| v.to_str().ok().and_then(|s| s.parse::<u64>().ok()));
    match declared {
        Some(None) => {
            return ApiError::bad_request("the Content-Length header is not a number")
                .into_response()
        }
        Some(Some(n)) if n > BODY_LIMIT as u64 => return too_large().into_response(),
        Some(Some(0)) => return next.run(request).await,
        None if !request.headers().contains_key(header::TRANSFER_ENCODING) => {
            return next.run(request).await
        }
        _ => {}
    }
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) if is_length_limit(&e) => return too_large().into_response(),
        Ok(Err(_)) => {
            return ApiError::bad_request("the request body could not be read").into_response()
        }
        Err(_) => {
            let mut resp = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout",
                "the request body did not arrive in time",
            )
            .into_response();
            resp.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            return resp;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
