//! API request bodies (ack, webhook, replay) through axum's `Json` extractor and the
//! problem mapping, as a handler sees them. Besides not panicking, a rejection's detail
//! must be one of the fixed phrases plus a position: it must never quote the input.
#![no_main]

use axum::body::Bytes;
use axum::Json;
use libfuzzer_sys::fuzz_target;
use ordervault::api::bodies::{AckBody, NewBody, ReplayBody};
use ordervault::api::problem::json_rejection;

const PHRASES: &[&str] = &[
    "a field is missing, unknown or of the wrong type",
    "the body is not valid JSON",
    "expected content-type: application/json",
    "the body could not be read",
];

fn check(detail: &str) {
    let rest = detail
        .strip_prefix("invalid JSON body: ")
        .unwrap_or_else(|| panic!("unexpected detail {detail:?}"));
    let phrase = PHRASES
        .iter()
        .find(|p| rest.starts_with(*p))
        .unwrap_or_else(|| panic!("unexpected detail {detail:?}"));
    let tail = &rest[phrase.len()..];
    assert!(
        tail.is_empty()
            || (tail.starts_with(" (line ")
                && tail.ends_with(')')
                && tail
                    .chars()
                    .all(|c| c.is_ascii_digit() || " (line,column)".contains(c))),
        "detail quotes input: {detail:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let bytes = Bytes::copy_from_slice(data);
    if let Err(e) = Json::<AckBody>::from_bytes(&bytes) {
        check(&json_rejection(e).detail);
    }
    if let Err(e) = Json::<NewBody>::from_bytes(&bytes) {
        check(&json_rejection(e).detail);
    }
    if let Err(e) = Json::<ReplayBody>::from_bytes(&bytes) {
        check(&json_rejection(e).detail);
    }
});
