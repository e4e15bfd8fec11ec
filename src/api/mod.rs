//! The HTTP API (axum). For now the health endpoint; the resources of the forwarding,
//! privacy and support issues mount here.

use axum::{routing::get, Json, Router};
use serde_json::json;

use crate::app::App;

/// The service's router.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(app)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}
