//! Reading SP-API and LWA responses: which ones to retry, which mean "re-authorize",
//! which are our own mistake, and how to describe them without quoting a value (serde
//! and some error bodies echo input, and input can be a buyer's data).

use std::time::Duration;

use reqwest::StatusCode;

use super::wire;
use crate::marketplace::ConnectorError;

/// What one attempt's response means.
pub(super) enum Outcome {
    Ok,
    /// 401/403: expired, revoked or missing role. Refresh once, then re-authorize.
    Denied(String),
    Throttled,
    /// Worth retrying: 5xx, HTML from a load balancer, an unreadable body.
    Retry(String),
    /// A 4xx that retrying will not fix.
    Rejected(String),
}

/// Why an attempt is being retried.
pub(super) enum Failure {
    Throttled(Option<Duration>),
    Unavailable(String),
}

pub(super) fn looks_like_html(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// An order id fit for logs and errors: its id characters only, at most 64.
pub(super) fn safe_id(raw: &str) -> String {
    let id: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    if id.is_empty() {
        "unknown".into()
    } else {
        id
    }
}

/// serde's messages may quote the offending value; keep only "missing field `X`".
pub(super) fn schema_error(schema: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some(field) = rest.split('`').next() {
            return format!("{schema}: required field {field} is missing");
        }
    }
    format!("{schema}: a field has the wrong type or an unreadable value")
}

fn error_code(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<wire::ErrorList>(body) {
        Ok(list) => match list.errors.into_iter().next() {
            Some(e) => (e.code, e.message.chars().take(200).collect()),
            None => ("no error code".into(), String::new()),
        },
        Err(_) => ("unreadable error body".into(), String::new()),
    }
}

pub(super) fn classify(op: &str, status: StatusCode, body: &[u8]) -> Outcome {
    if looks_like_html(body) {
        return Outcome::Retry(format!("HTML body with HTTP {}", status.as_u16()));
    }
    match status.as_u16() {
        200..=299 => Outcome::Ok,
        401 | 403 => Outcome::Denied(error_code(body).0),
        429 => Outcome::Throttled,
        408 | 500..=599 => Outcome::Retry(format!("HTTP {}", status.as_u16())),
        s => {
            let (code, message) = error_code(body);
            Outcome::Rejected(format!("{op} HTTP {s}: {code}: {message}"))
        }
    }
}

/// The OAuth2 error of a refused LWA request: a bad credential needs the seller.
pub(super) fn lwa_refusal(status: StatusCode, body: &[u8]) -> ConnectorError {
    let error = serde_json::from_slice::<wire::LwaError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| "unreadable error body".into());
    let error: String = error.chars().take(64).collect();
    match error.as_str() {
        "invalid_grant" | "invalid_client" | "unauthorized_client" | "invalid_scope" => {
            ConnectorError::NeedsReauth {
                reason: format!("Login with Amazon refused the credentials ({error})"),
            }
        }
        _ => ConnectorError::Rejected(format!(
            "Login with Amazon HTTP {}: {error}",
            status.as_u16()
        )),
    }
}

pub(super) fn exhausted(
    failure: Failure,
    what: &str,
    interval: Option<Duration>,
) -> ConnectorError {
    match failure {
        Failure::Throttled(ra) => ConnectorError::RateLimited {
            retry_after: ra.or(interval),
        },
        Failure::Unavailable(m) => ConnectorError::Unavailable(format!("{what}: {m}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_errors_keep_field_names_and_drop_values() {
        let e = serde_json::from_str::<wire::Order>(r#"{"AmazonOrderId":"1"}"#).unwrap_err();
        assert_eq!(
            schema_error("Order", &e),
            "Order: required field PurchaseDate is missing"
        );
        let e = serde_json::from_str::<wire::Order>(
            r#"{"AmazonOrderId":"1","PurchaseDate":"x","LastUpdateDate":"x","OrderStatus":"Shipped","NumberOfItemsShipped":"jan@example.com"}"#,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("jan@example.com"),
            "serde quotes values"
        );
        assert!(!schema_error("Order", &e).contains("jan@"));
    }

    #[test]
    fn responses_are_classified() {
        let ok = classify("getOrders", StatusCode::OK, b"{}");
        assert!(matches!(ok, Outcome::Ok));
        let html = classify("getOrders", StatusCode::OK, b"  <html>");
        assert!(matches!(html, Outcome::Retry(_)));
        let denied = classify(
            "getOrders",
            StatusCode::FORBIDDEN,
            br#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#,
        );
        assert!(matches!(denied, Outcome::Denied(c) if c == "Unauthorized"));
        let bad = classify(
            "getOrders",
            StatusCode::BAD_REQUEST,
            br#"{"errors":[{"code":"InvalidInput","message":"Invalid Input"}]}"#,
        );
        assert!(
            matches!(bad, Outcome::Rejected(m) if m == "getOrders HTTP 400: InvalidInput: Invalid Input")
        );
        assert!(matches!(
            classify("getOrders", StatusCode::TOO_MANY_REQUESTS, b"{}"),
            Outcome::Throttled
        ));
        assert!(matches!(
            classify("getOrders", StatusCode::SERVICE_UNAVAILABLE, b"{}"),
            Outcome::Retry(_)
        ));
        assert_eq!(safe_id("302-12\"; DROP"), "302-12DROP");
    }
}
