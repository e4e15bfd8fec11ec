//! Marketplaces and webhook receivers for the tests: a sandbox of any kind on
//! 127.0.0.1, and a receiver that keeps every webhook body it gets.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use ordervault::connectors::clock::SharedClock;
use ordervault::connectors::sandbox::{self, SandboxConfig, SandboxHandle};
use ordervault::connectors::MarketplaceKind;

/// Starts the sandbox of `kind` on a free loopback port, on `clock`.
pub async fn start_sandbox(
    kind: MarketplaceKind,
    config: SandboxConfig,
    clock: SharedClock,
) -> SandboxHandle {
    match kind {
        MarketplaceKind::Bol => sandbox::bol::start(config, clock).await,
        MarketplaceKind::Amazon => sandbox::amazon::start(config, clock).await,
        MarketplaceKind::Ebay => sandbox::ebay::start(config, clock).await,
    }
    .expect("sandbox starts")
}

/// A webhook receiver at `http://127.0.0.1:port/hooks` that answers 204 and keeps every
/// body, concatenated (they carry personal data by design: a leak test scans them).
pub async fn start_hook_collector() -> (String, Arc<Mutex<Vec<u8>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/hooks",
            post(
                |State(b): State<Arc<Mutex<Vec<u8>>>>, body: Bytes| async move {
                    b.lock().unwrap().extend_from_slice(&body);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(bodies.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, bodies)
}
