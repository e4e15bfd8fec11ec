//! The service under test: the whole service (`startup::serve`: API, and the background
//! loops a test asks for) on a free loopback port, a method per endpoint, and tokens for
//! each role.

use std::sync::Arc;

use ordervault::app::App;
use ordervault::ids::{AccountId, Role};
use ordervault::startup::{self, ServeOptions, ShutdownHandle};
use secrecy::ExposeSecret;

use super::TestEnv;

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

/// Which background loops a spawned service runs besides its API. Tests drive sync,
/// forwarding, pushing, sweeps and key rotation by hand (with the manual clock), so by
/// default none runs and nothing races a test's own steps; a test that wants the
/// service to do the work itself turns its loop on.
#[derive(Clone, Copy, Default)]
pub struct Loops {
    /// `sync.enabled`: sync workers lease due connections.
    pub sync: bool,
    /// The outbox forwarder delivers to webhook endpoints.
    pub forwarder: bool,
    /// `fulfilment.enabled`: the pusher sends shipments and cancellations.
    pub pusher: bool,
    /// The cron sweep (`pseudonymize.enabled` stays as the settings say: the console
    /// reports the next sweep from it).
    pub scheduler: bool,
    /// Key epoch rotation.
    pub key_rotation: bool,
    /// The metrics listener (`metrics.bind`), on a port of its own.
    pub metrics: bool,
}

/// The service under test, reached over HTTP, with a method per endpoint the tests use,
/// so a test reads as what it asks, not how it builds requests. Dropping it stops the
/// service it spawned.
pub struct TestApp {
    /// `http://addr` of the API.
    pub base: String,
    /// `http://addr` of the metrics listener, when [`Loops::metrics`] asked for it.
    pub metrics: Option<String>,
    http: reqwest::Client,
    stop: Option<ShutdownHandle>,
}

/// No connection reuse: the server closes a connection whose oversized body it refused
/// unread, and a pooled client would send the next request into that closed socket.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("HTTP client")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            stop.shutdown();
        }
    }
}

impl TestApp {
    /// Spawns `env`'s service (API only, no background loop) on a free loopback port.
    pub async fn spawn(env: &TestEnv) -> Self {
        Self::spawn_app(&env.app, Loops::default()).await
    }

    /// Spawns `env`'s service with the background loops `loops` asks for.
    pub async fn spawn_with(env: &TestEnv, loops: Loops) -> Self {
        Self::spawn_app(&env.app, loops).await
    }

    /// Spawns the whole service of `app` (e.g. one restarted with other settings)
    /// through `startup::serve`, as `ordervault serve` does, on port 0.
    pub async fn spawn_app(app: &App, loops: Loops) -> Self {
        let mut settings = (*app.settings).clone();
        settings.server.bind = "127.0.0.1:0".into();
        settings.metrics.bind = if loops.metrics { "127.0.0.1:0" } else { "" }.into();
        settings.sync.enabled = loops.sync;
        settings.fulfilment.enabled = loops.pusher;
        let mut app = app.clone();
        app.settings = Arc::new(settings);
        let options = ServeOptions {
            forwarder: loops.forwarder,
            key_rotation: loops.key_rotation,
            scheduler: loops.scheduler,
            ..ServeOptions::default()
        };
        let running = startup::serve(app, options)
            .await
            .expect("the service starts");
        let stop = running.shutdown_handle();
        let (api, metrics) = (running.api, running.metrics);
        // Runs until the handle stops it (on drop) or the test's runtime ends.
        tokio::spawn(running.stopped());
        Self {
            base: format!("http://{api}"),
            metrics: metrics.map(|m| format!("http://{m}")),
            http: client(),
            stop: Some(stop),
        }
    }

    /// The API of a server already listening at `base` (`http://addr`).
    pub fn at(base: String) -> Self {
        Self {
            base,
            metrics: None,
            http: client(),
            stop: None,
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
        self.call_with(method, path, token, body, &[]).await
    }

    /// [`TestApp::call`] with extra request headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
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
        for (name, value) in headers {
            req = req.header(*name, *value);
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

    /// `PATCH /api/v1/connections/{id}`: sets or removes (`null`) the connection's cap
    /// on requests per second; `id` as it goes into the path.
    pub async fn cap_connection(&self, token: &str, id: &str, body: serde_json::Value) -> Resp {
        self.call(
            "PATCH",
            &format!("/api/v1/connections/{id}"),
            Some(token),
            Some(body),
        )
        .await
    }

    /// `GET /api/v1/orders/new?limit=n`.
    pub async fn new_orders_limit(&self, token: &str, limit: u32) -> Resp {
        self.call(
            "GET",
            &format!("/api/v1/orders/new?limit={limit}"),
            Some(token),
            None,
        )
        .await
    }

    /// `POST /api/v1/orders/{number}/shipments`, with an `Idempotency-Key` when given.
    pub async fn create_shipment(
        &self,
        token: &str,
        number: &str,
        body: serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> Resp {
        let path = format!("/api/v1/orders/{number}/shipments");
        self.post_keyed(&path, token, body, idempotency_key).await
    }

    /// `POST /api/v1/orders/{number}/cancellations`, with an `Idempotency-Key` when given.
    pub async fn create_cancellation(
        &self,
        token: &str,
        number: &str,
        body: serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> Resp {
        let path = format!("/api/v1/orders/{number}/cancellations");
        self.post_keyed(&path, token, body, idempotency_key).await
    }

    async fn post_keyed(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> Resp {
        let headers: Vec<(&str, &str)> = idempotency_key
            .map(|k| ("Idempotency-Key", k))
            .into_iter()
            .collect();
        self.call_with("POST", path, Some(token), Some(body), &headers)
            .await
    }

    /// `GET /api/v1/orders/{number}/shipments`.
    pub async fn shipments(&self, token: &str, number: &str) -> Resp {
        let path = format!("/api/v1/orders/{number}/shipments");
        self.call("GET", &path, Some(token), None).await
    }

    /// `GET /api/v1/orders/{number}/cancellations`.
    pub async fn cancellations(&self, token: &str, number: &str) -> Resp {
        let path = format!("/api/v1/orders/{number}/cancellations");
        self.call("GET", &path, Some(token), None).await
    }

    /// `POST /api/v1/webhooks`: `body` as sent (`{"url": ..., "secret": ...}`).
    pub async fn create_webhook(&self, token: &str, body: serde_json::Value) -> Resp {
        self.call("POST", "/api/v1/webhooks", Some(token), Some(body))
            .await
    }

    /// `POST /api/v1/webhooks/{id}/replay`: `id` as it goes into the path.
    pub async fn replay_webhook(&self, token: &str, id: &str, body: serde_json::Value) -> Resp {
        let path = format!("/api/v1/webhooks/{id}/replay");
        self.call("POST", &path, Some(token), Some(body)).await
    }

    /// `POST /api/v1/accounts` (admin): `body` as sent (`{"name": ..., "retention_days": ...}`).
    pub async fn create_account(&self, token: &str, body: serde_json::Value) -> Resp {
        self.call("POST", "/api/v1/accounts", Some(token), Some(body))
            .await
    }

    /// `GET /api/v1/openapi.json`: the served OpenAPI document.
    pub async fn openapi(&self) -> serde_json::Value {
        let resp = self.call("GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(resp.status, 200, "openapi.json");
        resp.json()
    }

    /// `GET /metrics` on the metrics listener ([`Loops::metrics`]): the Prometheus text.
    pub async fn metrics_text(&self) -> String {
        let base = self.metrics.as_ref().expect("spawned with Loops::metrics");
        let resp = self
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "/metrics");
        resp.text().await.unwrap()
    }
}
