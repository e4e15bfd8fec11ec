//! The HTTP API under test: the service's router on 127.0.0.1 and tokens for each role.

use ordervault::ids::{AccountId, Role};
use secrecy::ExposeSecret;

use super::TestEnv;

/// Serves the router of `env` on a free loopback port; returns `http://addr`.
pub async fn serve(env: &TestEnv) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = ordervault::api::router(env.app.clone());
    let limits = ordervault::api::server::ConnectionLimits::from_settings(&env.app.settings.server);
    tokio::spawn(ordervault::api::server::serve(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// A fresh bearer token of `role` (backoffice tokens belong to `account`).
pub async fn token(env: &TestEnv, role: Role, account: Option<&AccountId>) -> String {
    let (t, _) =
        ordervault::tokens::create_token(&env.app, role, account.map(|a| a.as_str()), None)
            .await
            .unwrap();
    t.expose_secret().to_string()
}
