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

/// One HTTP response, kept whole: status, headers and the raw body (leak scans read all
/// of it).
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub raw: Vec<u8>,
}

impl Resp {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.raw).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Status, content type and JSON body, for tests that only look at those.
    pub fn parts(&self) -> (u16, String, serde_json::Value) {
        (
            self.status,
            self.header("content-type").to_string(),
            self.json(),
        )
    }

    /// Body and every header, as one haystack for leak scans.
    pub fn everything(&self) -> Vec<u8> {
        let mut all = self.raw.clone();
        for (k, v) in &self.headers {
            all.extend_from_slice(k.as_str().as_bytes());
            all.push(b':');
            all.extend_from_slice(v.as_bytes());
            all.push(b'\n');
        }
        all
    }
}

/// The service's HTTP API under test (its router on 127.0.0.1), with a method per
/// endpoint the tests use, so a test reads as what it asks, not how it builds requests.
pub struct TestApp {
    pub base: String,
    http: reqwest::Client,
}

impl TestApp {
    /// Serves `env`'s router on a free loopback port.
    pub async fn spawn(env: &TestEnv) -> Self {
        Self {
            base: serve(env).await,
            http: reqwest::Client::new(),
        }
    }

    /// The API of a router already served at `base` (`http://addr`), e.g. one built
    /// from changed settings.
    pub fn at(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::new(),
        }
    }

    /// Any request: `method` on `path` (from `/api/...`), with a bearer token and a JSON
    /// body when given.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        Resp {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            raw: resp.bytes().await.unwrap().to_vec(),
        }
    }

    /// `GET /api/v1/orders/new`: the backoffice's orders not yet acknowledged.
    pub async fn new_orders(&self, token: &str) -> Resp {
        self.call("GET", "/api/v1/orders/new", Some(token), None)
            .await
    }

    /// `GET /api/v1/orders/{number}`: one order of the token's account.
    pub async fn order(&self, token: &str, number: &str) -> Resp {
        self.call(
            "GET",
            &format!("/api/v1/orders/{number}"),
            Some(token),
            None,
        )
        .await
    }

    /// `POST /api/v1/orders/{number}/ack`: the backoffice stored an order.
    pub async fn ack(&self, token: &str, number: &str, body: serde_json::Value) -> Resp {
        self.call(
            "POST",
            &format!("/api/v1/orders/{number}/ack"),
            Some(token),
            Some(body),
        )
        .await
    }

    /// `GET /api/v1/support/accounts/{account}/orders/{number}`: the masked lookup.
    pub async fn support_lookup(&self, token: &str, account: &str, number: &str) -> Resp {
        self.call(
            "GET",
            &format!("/api/v1/support/accounts/{account}/orders/{number}"),
            Some(token),
            None,
        )
        .await
    }

    /// `POST /api/v1/accounts/{id}/close` (admin): `id` as it goes into the path.
    pub async fn close_account(&self, token: &str, id: &str) -> Resp {
        self.call(
            "POST",
            &format!("/api/v1/accounts/{id}/close"),
            Some(token),
            None,
        )
        .await
    }

    /// `GET /api/v1/connections`.
    pub async fn connections(&self, token: &str) -> Resp {
        self.call("GET", "/api/v1/connections", Some(token), None)
            .await
    }

    /// `GET /api/v1/webhooks`.
    pub async fn webhooks(&self, token: &str) -> Resp {
        self.call("GET", "/api/v1/webhooks", Some(token), None)
            .await
    }

    /// `GET /api/v1/accounts` (admin).
    pub async fn accounts(&self, token: &str) -> Resp {
        self.call("GET", "/api/v1/accounts", Some(token), None)
            .await
    }

    /// `GET /api/v1/audit`: the support lookups of the token's account.
    pub async fn audit(&self, token: &str) -> Resp {
        self.call("GET", "/api/v1/audit", Some(token), None).await
    }
}
