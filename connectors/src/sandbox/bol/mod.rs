//! A faithful fake of the bol.com Retailer API v10 order endpoints (APIS.md §1, "What a
//! faithful bol fake server must do"):
//!
//! - `POST /token`: client credentials in Basic auth, `grant_type` in the query or a form
//!   body; `expires_in: 299` (or the configured lifetime); `401 invalid_client` on a wrong or
//!   revoked credential.
//! - Every API call needs `Accept: application/vnd.retailer.v10+json` (406 Problem otherwise)
//!   and a live bearer token (401 "Expired JWT" Problem after its lifetime; 401 for unknown).
//! - `GET /retailer/orders`: 50 per page, newest first by placement, `page`, `status`,
//!   `fulfilment-method` (missing = the old defaults `OPEN`/`FBR`, to punish clients that rely
//!   on them), `change-interval-minute` (> 60 → 400 Problem with violations),
//!   `latest-change-date` (≤ 3 months back), `vvb-only`; `{}` when empty; handled items drop
//!   out 48 h after their last change unless a `latest-change-date` is asked for (that filter
//!   is documented as reaching 3 months back); newly changed items become visible after
//!   [`VISIBILITY_DELAY_SECS`].
//! - `GET /retailer/orders/{order-id}`: the detail with personal data; 404 Problem for ids
//!   it does not know.
//! - `X-RateLimit-Limit/Remaining/Reset` on every API response; 429 + `Retry-After` (omitted
//!   on every third 429) past a per-endpoint token bucket on the injected clock.
//! - Faults at `fault_rate`: 500 with nginx's `text/html` body, 502 HTML, extra 429s.
//!
//! Orders come from the shared [`World`], reshaped by `render::adapt` into what bol holds.

mod filter;
mod push;
mod render;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::support::{
    serve, Fault, FaultInjector, TokenBucket, TokenCheck, TokenRegistry, HTML_502,
};
use super::world::World;
use super::{SandboxConfig, SandboxCredentials, SandboxHandle};
use crate::clock::SharedClock;
use crate::model::MarketplaceKind;
use filter::{parse_filter, ListFilter};

/// How long a change takes to show up in the order list.
pub const VISIBILITY_DELAY_SECS: i64 = 60;
/// bol's access-token lifetime.
pub const TOKEN_LIFETIME_SECS: u64 = 299;
/// Requests per second (and burst) for `GET /retailer/orders`.
pub const LIST_RATE: u32 = 10;
/// Requests per second (and burst) for `GET /retailer/orders/{id}`.
pub const DETAIL_RATE: u32 = 25;
/// Requests per second (and burst) for shipments and cancellations.
pub const PUSH_RATE: u32 = 25;
/// Requests per second (and burst) for process-status polls.
pub const PROCESS_RATE: u32 = 50;

const MEDIA_TYPE: &str = "application/vnd.retailer.v10+json";
const MEDIA_TYPE_UTF8: &str = "application/vnd.retailer.v10+json;charset=UTF-8";
const JWT_PREFIX: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6WyJSRVRBSUxFUiJdfQ.";
const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, Copy)]
enum Ep {
    List,
    Detail,
    /// Shipments and cancellations.
    Push,
    /// Process status polls.
    Process,
}

struct Sandbox {
    clock: SharedClock,
    world: World,
    extras: Vec<render::Extra>,
    index: HashMap<String, usize>,
    credentials: SandboxCredentials,
    tokens: TokenRegistry,
    token_lifetime: Duration,
    rate_limits: bool,
    list_bucket: TokenBucket,
    detail_bucket: TokenBucket,
    push_bucket: TokenBucket,
    process_bucket: TokenBucket,
    /// Order item id → plan index, for shipments and cancellations (built on first use).
    items: std::sync::OnceLock<HashMap<String, usize>>,
    processes: Mutex<HashMap<String, push::Process>>,
    process_seq: AtomicU64,
    push_calls: AtomicU64,
    faults: FaultInjector,
    corrupt: Mutex<HashSet<String>>,
    /// Order ids whose detail answers for another order.
    misdirect: Mutex<HashSet<String>>,
    list_calls: AtomicU64,
    detail_calls: AtomicU64,
    throttled: AtomicU64,
}

/// Test hooks and counters of a running bol sandbox, beyond what [`SandboxHandle`] offers.
#[derive(Clone)]
pub struct BolSandboxProbe(Arc<Sandbox>);

impl std::fmt::Debug for BolSandboxProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BolSandboxProbe").finish_non_exhaustive()
    }
}

impl BolSandboxProbe {
    /// `GET /retailer/orders` calls received (including refused ones).
    pub fn list_calls(&self) -> u64 {
        self.0.list_calls.load(Ordering::SeqCst)
    }

    /// `GET /retailer/orders/{id}` calls received (including refused ones).
    pub fn detail_calls(&self) -> u64 {
        self.0.detail_calls.load(Ordering::SeqCst)
    }

    /// 429s answered (rate limit and injected).
    pub fn throttled(&self) -> u64 {
        self.0.throttled.load(Ordering::SeqCst)
    }

    /// From now on the detail of `order_id` has malformed item fields.
    pub fn corrupt_order(&self, order_id: &str) {
        self.0.corrupt.lock().unwrap().insert(order_id.to_owned());
    }

    /// Shipment and cancellation calls received (including refused ones).
    pub fn push_calls(&self) -> u64 {
        self.0.push_calls.load(Ordering::SeqCst)
    }

    /// From now on the detail of `order_id` answers with another order's id (as a
    /// misrouted or cached response would); `false` restores it.
    pub fn misdirect_order(&self, order_id: &str, on: bool) {
        let mut set = self.0.misdirect.lock().unwrap();
        if on {
            set.insert(order_id.to_owned());
        } else {
            set.remove(order_id);
        }
    }

    /// Spends both endpoints' rate budgets, so the next calls get 429 until they refill.
    pub fn exhaust_rate_limits(&self) {
        let now = self.0.clock.now();
        for bucket in [&self.0.list_bucket, &self.0.detail_bucket] {
            while bucket.try_take(now).is_ok() {}
        }
    }
}

/// Starts a bol sandbox on 127.0.0.1 (see the module docs for what it emulates).
pub async fn start(config: SandboxConfig, clock: SharedClock) -> std::io::Result<SandboxHandle> {
    Ok(start_with_probe(config, clock).await?.0)
}

/// [`start`], plus a probe for tests that need counters or fault hooks.
pub async fn start_with_probe(
    config: SandboxConfig,
    clock: SharedClock,
) -> std::io::Result<(SandboxHandle, BolSandboxProbe)> {
    let now = clock.now();
    let spec = config.world_spec(MarketplaceKind::Bol, now);
    let mut world = World::generate(&spec, render::order_number);
    let extras = render::adapt(&mut world, config.seed);
    let index = world
        .plans
        .iter()
        .enumerate()
        .map(|(i, p)| (p.order.order_number.as_str().to_owned(), i))
        .collect();
    let lifetime = config
        .token_lifetime
        .unwrap_or(std::time::Duration::from_secs(TOKEN_LIFETIME_SECS));
    let state = Arc::new(Sandbox {
        tokens: TokenRegistry::new(clock.clone(), config.seed),
        token_lifetime: Duration::from_std(lifetime).unwrap_or(Duration::seconds(299)),
        rate_limits: config.rate_limits,
        list_bucket: TokenBucket::new(f64::from(LIST_RATE), LIST_RATE, now),
        detail_bucket: TokenBucket::new(f64::from(DETAIL_RATE), DETAIL_RATE, now),
        push_bucket: TokenBucket::new(f64::from(PUSH_RATE), PUSH_RATE, now),
        process_bucket: TokenBucket::new(f64::from(PROCESS_RATE), PROCESS_RATE, now),
        items: std::sync::OnceLock::new(),
        processes: Mutex::new(HashMap::new()),
        process_seq: AtomicU64::new(0),
        push_calls: AtomicU64::new(0),
        faults: FaultInjector::new(config.fault_rate, config.seed),
        credentials: config.credentials.clone(),
        corrupt: Mutex::new(
            world
                .plans
                .iter()
                .take(config.malformed_orders)
                .map(|p| p.order.order_number.as_str().to_owned())
                .collect::<HashSet<_>>(),
        ),
        misdirect: Mutex::new(HashSet::new()),
        list_calls: AtomicU64::new(0),
        detail_calls: AtomicU64::new(0),
        throttled: AtomicU64::new(0),
        clock,
        world,
        extras,
        index,
    });
    let router = Router::new()
        .route("/token", post(token))
        .route("/retailer/orders", get(list))
        .route("/retailer/orders/{order_id}", get(detail))
        .route("/retailer/shipments", post(push::create_shipment))
        .route("/retailer/orders/cancellation", put(push::cancel_items))
        .route(
            "/shared/process-status/{process_status_id}",
            get(push::process_status),
        )
        .fallback(not_found)
        .with_state(state.clone());
    let pushes = state.world.pushes.clone();
    let (addr, tx) = serve(router, config.port).await?;
    let (g, e, r, t) = (state.clone(), state.clone(), state.clone(), state.clone());
    let handle = SandboxHandle {
        addr,
        pushes,
        ground_truth: Box::new(move || g.world.snapshot(g.clock.now())),
        expire_tokens: Box::new(move || e.tokens.expire_all()),
        revoke_credentials: Box::new(move || r.tokens.revoke()),
        token_requests: Box::new(move || t.tokens.issued()),
        shutdown: Some(tx),
    };
    Ok((handle, BolSandboxProbe(state)))
}

fn respond(status: StatusCode, content_type: &str, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("static content type"),
    );
    r
}

fn problem(status: StatusCode, title: &str, detail: &str, extra: Value) -> Response {
    let mut body = json!({
        "type": "https://api.bol.com/problems",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "host": "Instance-042",
    });
    if let (Some(b), Value::Object(x)) = (body.as_object_mut(), extra) {
        b.extend(x);
    }
    respond(status, MEDIA_TYPE_UTF8, body.to_string())
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    respond(status, "application/json;charset=UTF-8", body.to_string())
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        "Resource not found.",
        json!({}),
    )
}

fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(
    State(s): State<Arc<Sandbox>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    let grant = query
        .get("grant_type")
        .cloned()
        .or_else(|| form_value(&body, "grant_type"));
    match grant.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant type",
            )
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing grant type",
            )
        }
    }
    let expected = (
        s.credentials.client_id.clone(),
        s.credentials.client_secret.clone(),
    );
    if s.tokens.is_revoked() || basic_credentials(&headers) != Some(expected) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Bad client credentials",
        );
    }
    let token = s.tokens.issue(JWT_PREFIX, s.token_lifetime);
    let body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": s.token_lifetime.num_seconds(),
        "scope": "RETAILER",
    });
    respond(
        StatusCode::OK,
        "application/json;charset=UTF-8",
        body.to_string(),
    )
}

impl Sandbox {
    fn bucket(&self, ep: Ep) -> (&TokenBucket, u32) {
        match ep {
            Ep::List => (&self.list_bucket, LIST_RATE),
            Ep::Detail => (&self.detail_bucket, DETAIL_RATE),
            Ep::Push => (&self.push_bucket, PUSH_RATE),
            Ep::Process => (&self.process_bucket, PROCESS_RATE),
        }
    }

    fn throttle(&self, wait_secs: u64) -> Response {
        let n = self.throttled.fetch_add(1, Ordering::SeqCst) + 1;
        let mut r = respond(
            StatusCode::TOO_MANY_REQUESTS,
            MEDIA_TYPE,
            json!({
                "title": "Too Many Requests",
                "status": 429,
                "detail": format!("Too many requests, retry in {wait_secs} seconds."),
            })
            .to_string(),
        );
        // bol sometimes leaves Retry-After out.
        if n % 3 != 0 {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait_secs));
        }
        r
    }

    /// Why a call is refused, if it is: Accept header, bearer token, rate limit and
    /// injected faults, in that order.
    fn refusal(&self, headers: &HeaderMap, ep: Ep) -> Option<Response> {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !accept.contains(MEDIA_TYPE) {
            return Some(problem(
                StatusCode::NOT_ACCEPTABLE,
                "Not Acceptable",
                "The requested media type is not supported; use application/vnd.retailer.v10+json.",
                json!({"violations": [{"name": "Accept", "reason": "Unsupported media type."}]}),
            ));
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        match self.tokens.check(bearer) {
            TokenCheck::Valid => {}
            TokenCheck::Expired => return Some(respond(
                StatusCode::UNAUTHORIZED,
                MEDIA_TYPE,
                json!({
                    "title": "Expired JWT",
                    "status": 401,
                    "detail": format!(
                        "JWT expired. Current time: {}.  Allowed clock skew: 1000 milliseconds.",
                        self.clock.now().format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                })
                .to_string(),
            )),
            TokenCheck::Unknown => {
                return Some(problem(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "Invalid or missing JWT.",
                    json!({}),
                ))
            }
        }
        if self.rate_limits {
            let (bucket, _) = self.bucket(ep);
            if let Err(wait) = bucket.try_take(self.clock.now()) {
                return Some(self.throttle(wait.as_secs_f64().ceil().max(1.0) as u64));
            }
        }
        match self.faults.next() {
            None => None,
            Some(Fault::ServerError) => Some(respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/html; charset=UTF-8",
                "Internal Server Error\n".into(),
            )),
            Some(Fault::Html) => Some(respond(
                StatusCode::BAD_GATEWAY,
                "text/html",
                HTML_502.into(),
            )),
            Some(Fault::Throttle) => Some(self.throttle(1)),
        }
    }

    /// `X-RateLimit-*` on every API answer.
    fn with_rate_headers(&self, ep: Ep, mut r: Response) -> Response {
        let (limit, remaining) = if self.rate_limits {
            let (bucket, limit) = self.bucket(ep);
            (limit, bucket.remaining())
        } else {
            (10_000, 9_999)
        };
        let h = r.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(1u32));
        r
    }

    /// The list as of now: filters applied at item level, newest order first.
    fn listing(&self, f: &ListFilter) -> Vec<Value> {
        let now = self.clock.now();
        let at = now - Duration::seconds(VISIBILITY_DELAY_SECS);
        let mut rows: Vec<(DateTime<Utc>, &str, Value)> = Vec::new();
        for (plan, extra) in self.world.plans.iter().zip(&self.extras) {
            let Some(order) = plan.state_at(at) else {
                continue;
            };
            let times = render::line_times(plan, at);
            let items: Vec<Value> = order
                .lines
                .iter()
                .enumerate()
                .filter(|(l, line)| {
                    let open = line.quantity_shipped + line.quantity_cancelled < line.quantity;
                    let changed = times[*l];
                    let status_ok = match f.status {
                        "OPEN" => open,
                        "SHIPPED" => !open && line.quantity_shipped > 0,
                        _ => true,
                    };
                    let method_ok = match f.method {
                        "FBR" => !extra.fbb,
                        "FBB" => extra.fbb,
                        _ => true,
                    };
                    let day_ok = match f.date {
                        Some(d) => render::bol_date(changed) == d,
                        None => open || changed >= now - Duration::hours(48),
                    };
                    let interval_ok = f
                        .interval
                        .is_none_or(|m| changed >= now - Duration::minutes(m));
                    status_ok && method_ok && day_ok && interval_ok
                })
                .map(|(l, _)| render::reduced_item(&order, l, times[l], extra))
                .collect();
            if !items.is_empty() {
                let placed = order.placed_at;
                rows.push((
                    placed,
                    plan.order.order_number.as_str(),
                    render::reduced_order(&order, items),
                ));
            }
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(a.1)));
        rows.into_iter()
            .skip((f.page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|r| r.2)
            .collect()
    }
}

async fn list(
    State(s): State<Arc<Sandbox>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    s.list_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = s.refusal(&headers, Ep::List) {
        return s.with_rate_headers(Ep::List, r);
    }
    let today = render::bol_date(s.clock.now());
    let r = match parse_filter(&q, today) {
        Err(violations) => problem(
            StatusCode::BAD_REQUEST,
            "Error validating request. Consult the bol.com API documentation for more information.",
            "Bad request",
            json!({"instance": "https://api.bol.com/retailer/orders", "violations": violations}),
        ),
        Ok(f) => {
            let orders = if f.vvb_only {
                Vec::new()
            } else {
                s.listing(&f)
            };
            // An empty result is `{}`, not `{"orders":[]}`.
            let body = if orders.is_empty() {
                "{}".to_string()
            } else {
                json!({ "orders": orders }).to_string()
            };
            respond(StatusCode::OK, MEDIA_TYPE_UTF8, body)
        }
    };
    s.with_rate_headers(Ep::List, r)
}

async fn detail(
    State(s): State<Arc<Sandbox>>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    s.detail_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = s.refusal(&headers, Ep::Detail) {
        return s.with_rate_headers(Ep::Detail, r);
    }
    let now = s.clock.now();
    let found = s.index.get(&order_id).and_then(|&i| {
        let plan = &s.world.plans[i];
        plan.state_at(now).map(|o| (i, plan, o))
    });
    let r = match found {
        Some((i, plan, order)) => {
            let corrupt = s.corrupt.lock().unwrap().contains(&order_id);
            let times = render::line_times(plan, now);
            let mut body = render::order_detail(&order, &times, &s.extras[i], corrupt);
            if s.misdirect.lock().unwrap().contains(&order_id) {
                let other = &s.world.plans[(i + 1) % s.world.plans.len()].order;
                body["orderId"] = json!(other.order_number.as_str());
            }
            respond(StatusCode::OK, MEDIA_TYPE_UTF8, body.to_string())
        }
        None => {
            let id: String = order_id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(64)
                .collect();
            problem(
                StatusCode::NOT_FOUND,
                "Not Found",
                &format!("Order for order id {id} not found."),
                json!({"instance": format!("https://api.bol.com/retailer/orders/{id}")}),
            )
        }
    };
    s.with_rate_headers(Ep::Detail, r)
}
