//! A fault-injecting HTTP proxy on 127.0.0.1 for the contract suite: it forwards every
//! request to a sandbox unchanged, except that the next N API requests (token requests
//! go straight to the sandbox through `auth_url`) get a scripted answer: a 429 with or
//! without `Retry-After`, or a load balancer's 502 HTML page. Marketplace-agnostic, so
//! every connector meets the same faults.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use ordervault_connectors::clock::SharedClock;

/// A scripted answer in place of the upstream's.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After: secs` (when given) and a generic body.
    TooManyRequests { retry_after: Option<u64> },
    /// 502 with an HTML body, as a load balancer sends it.
    BadGatewayHtml,
}

#[derive(Default)]
struct Script {
    faults: VecDeque<Fault>,
    injected: u64,
    forwarded: u64,
    /// Every request's path, time on the injected clock, and whether it got a fault.
    log: Vec<(String, chrono::DateTime<chrono::Utc>, bool)>,
}

/// A running proxy. Dropping it stops the server.
pub struct Proxy {
    pub addr: SocketAddr,
    clock: SharedClock,
    script: Arc<Mutex<Script>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, clock: SharedClock) -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let state = (
            format!("http://{upstream}"),
            reqwest::Client::new(),
            script.clone(),
            clock.clone(),
        );
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::new(state));
        let (addr, stop) = ordervault_connectors::sandbox::support::serve(router, 0)
            .await
            .expect("proxy starts");
        Self {
            addr,
            clock,
            script,
            _stop: stop,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next `n` requests with `fault`.
    pub fn inject(&self, fault: Fault, n: usize) {
        let mut s = self.script.lock().unwrap();
        for _ in 0..n {
            s.faults.push_back(fault.clone());
        }
    }

    /// Faults answered so far.
    pub fn injected(&self) -> u64 {
        self.script.lock().unwrap().injected
    }

    /// For each injected fault, how long (on the injected clock) until the client asked
    /// the same path again: what the fault cost. (Other calls in between, such as eBay's
    /// rate-limit report, are not retries.)
    pub fn waits_after_faults(&self) -> Vec<chrono::Duration> {
        let log = &self.script.lock().unwrap().log;
        log.iter()
            .enumerate()
            .filter(|(_, (_, _, fault))| *fault)
            // eBay's rate-limit report is read, not retried: a 429 on it leaves the
            // client on its fallback pacing, and the next read comes whenever it is due.
            .filter(|(_, (path, _, _))| !path.contains("/developer/analytics/"))
            .filter_map(|(i, (path, at, _))| {
                log[i + 1..]
                    .iter()
                    .find(|(p, _, _)| p == path)
                    .map(|(_, next, _)| *next - *at)
            })
            .collect()
    }

    /// The clock the proxy stamps requests with.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Requests passed through to the sandbox.
    pub fn forwarded(&self) -> u64 {
        self.script.lock().unwrap().forwarded
    }
}

type Shared = Arc<(String, reqwest::Client, Arc<Mutex<Script>>, SharedClock)>;

async fn forward(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (upstream, http, script, clock) = &*state;
    let fault = {
        let mut s = script.lock().unwrap();
        let f = s.faults.pop_front();
        s.log
            .push((uri.path().to_owned(), clock.now(), f.is_some()));
        if f.is_some() {
            s.injected += 1;
        } else {
            s.forwarded += 1;
        }
        f
    };
    match fault {
        Some(Fault::TooManyRequests { retry_after }) => {
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"errors":[{"code":"QuotaExceeded","message":"Too many requests."}]}"#,
            )
                .into_response();
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            return r;
        }
        Some(Fault::BadGatewayHtml) => {
            let mut r = (
                StatusCode::BAD_GATEWAY,
                "<html><head><title>502 Bad Gateway</title></head><body>502</body></html>",
            )
                .into_response();
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("text/html"));
            return r;
        }
        None => {}
    }
    let url = format!(
        "{upstream}{}",
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut req = http.request(method, url).body(body);
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    let Ok(resp) = req.send().await else {
        return (StatusCode::BAD_GATEWAY, "upstream unreachable").into_response();
    };
    let status = resp.status();
    let mut out = HeaderMap::new();
    for (k, v) in resp.headers() {
        if k != "content-length" && k != "transfer-encoding" {
            out.insert(k.clone(), v.clone());
        }
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    (status, out, bytes).into_response()
}
