//! The OpenAPI 3.1 description of `/api/v1`, served so integrators can generate clients.
//!
//! Generated, not written: every route of [`super::v1`] is added through utoipa-axum's
//! `routes!` from its handler's `#[utoipa::path]` annotation, and the schemas come from
//! the `ToSchema` types the handlers answer and read, so the document cannot drift from
//! the routes or the bodies. This module adds what is common to every operation: the
//! bearer scheme and the problem+json answers any operation can give.
//! `tests/openapi.rs` checks real answers against it, and `scripts/schemathesis.sh` (run
//! by `.ci/run`) fuzzes the running server with it.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::OpenApi;

use super::problem::Problem;

/// Tags grouping the operations by who calls them.
pub const TAG_ORDERS: &str = "orders (backoffice)";
pub const TAG_FULFILMENT: &str = "shipments and cancellations (backoffice)";
pub const TAG_WEBHOOKS: &str = "webhooks (backoffice)";
pub const TAG_CONNECTIONS: &str = "connections";
pub const TAG_ACCOUNTS: &str = "accounts (admin)";
pub const TAG_PRIVACY: &str = "privacy";
pub const TAG_SUPPORT: &str = "support";
pub const TAG_CONSOLE: &str = "console (admin)";

/// The problems any operation can answer: a bad path, query or body (400), no or a bad
/// token (401), the wrong role (403), not found (404), a body too slow (408) or too large
/// (413), and an internal error (500).
pub const COMMON_PROBLEMS: [&str; 7] = ["400", "401", "403", "404", "408", "413", "500"];

/// The document's frame; the paths are added by the router ([`super::v1`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ordervault API",
        description = "Marketplace orders for the seller's backoffice. Bearer tokens (`ov_…`) with roles admin, backoffice (one account) and support. Errors are application/problem+json. Webhooks follow Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature v1 = base64 HMAC-SHA256 of `id.timestamp.body`)."
    ),
    servers((url = "/api/v1")),
    security(("bearer" = [])),
    components(schemas(Problem))
)]
pub struct Frame;

/// Adds the bearer scheme, the shared `Problem` response, and [`COMMON_PROBLEMS`] to every
/// operation (an operation's own description of a status wins).
fn finish(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    components.responses.insert(
        "Problem".into(),
        RefOr::T(
            ResponseBuilder::new()
                .description("Problem details (RFC 9457)")
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        ),
    );
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            for status in COMMON_PROBLEMS {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Problem")));
            }
        }
    }
    doc
}

/// The whole document, as `GET /api/v1/openapi.json` serves it.
pub fn spec() -> Document {
    let (_, doc) = super::v1().split_for_parts();
    finish(doc)
}

/// `GET /api/v1/openapi.json`: built once per process.
pub async fn document() -> Json<&'static Document> {
    static DOC: OnceLock<Document> = OnceLock::new();
    Json(DOC.get_or_init(spec))
}
