//! A faithful fake of Amazon's SP-API Orders API v2026-01-01 and Orders v0 (plus LWA and
//! the Tokens API), serving the sandbox world on 127.0.0.1. What it emulates (APIS.md §2,
//! "What a faithful Amazon fake server must do"):
//!
//! - Orders v2026-01-01 (see [`search`]): searchOrders with `includedData`,
//!   `paginationToken` (24-hour tokens) and its usage plan 0.0056/20; getOrder at 0.5/30.
//! - `POST /auth/o2/token`: the form-encoded LWA refresh-token grant, `expires_in` 3600
//!   (or `token_lifetime`); a wrong client → 401 `invalid_client`, a wrong or revoked
//!   refresh token → 400 `invalid_grant`.
//! - Tokens only in `x-amz-access-token`; an expired one → 403 `Unauthorized` with "The
//!   access token you provided has expired." in `details`. Bodies use `{"payload":…}` /
//!   `{"errors":[…]}`.
//! - `POST /tokens/2021-03-01/restrictedDataToken`; without an RDT that names the path
//!   and data element, the restricted parts of `ShippingAddress`/`BuyerInfo` are absent.
//! - getOrders validation (MarketplaceIds, CreatedAfter XOR LastUpdatedAfter, `*Before`
//!   ≥ 2 min before now, MaxResultsPerPage 1–100, last two years) → 400 `InvalidInput`;
//!   oldest-first; NextToken requires the same filters; `LastUpdatedBefore` echoed.
//! - getOrder, getOrderItems (own NextToken, two items a page to exercise it),
//!   getOrderAddress, getOrderBuyerInfo.
//! - Per-operation token buckets (getOrders 0.0167/20, the others 0.5/30, RDT 1/10) on
//!   the injected clock: 429 `QuotaExceeded` without `x-amzn-RateLimit-Limit`, which
//!   successes (and 400/404) carry; `x-amzn-RequestId` on every response.
//! - Seeded faults at `fault_rate`: 500/503 with an SP-API body, 502 HTML, extra 429s.
//!
//! Not emulated: the optional listing quirks (an order missing from a list, a repeated
//! page); CreatedAfter listing is supported but not the other getOrders filters.

mod auth;
mod orders;
mod push;
pub mod search;
pub mod view;
pub mod view_v2026;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::support::{
    serve, Fault, FaultInjector, TokenBucket, TokenCheck, TokenRegistry, HTML_502,
};
use super::{SandboxConfig, SandboxHandle};
use crate::amazon::wire;
use crate::clock::SharedClock;
use crate::model::MarketplaceKind;
use crate::sandbox::world::World;

/// Extra knobs beyond [`SandboxConfig`], for tests of the unhappy paths.
#[derive(Debug, Clone, Default)]
pub struct AmazonSandboxOptions {
    /// The first this-many orders of the world are served corrupted by getOrders (see
    /// [`view::corrupt`]); the client must fail exactly those, without their data.
    pub malformed_orders: usize,
    /// A larger searchOrders plan (rate, burst) granted to this seller: the bucket uses
    /// it and `x-amzn-RateLimit-Limit` announces it, as Amazon does for raised plans.
    pub search_orders_plan: Option<(f64, u32)>,
}

/// Counters a test can read to see what the client did to the server.
#[derive(Debug, Default)]
pub struct AmazonSandboxStats {
    /// 429s from the rate limits (injected throttles not included).
    pub throttled: AtomicU64,
    /// Injected faults of any kind.
    pub faults: AtomicU64,
    /// getOrders calls that passed auth and the rate limit.
    pub get_orders: AtomicU64,
    /// getOrderItems calls that passed auth and the rate limit.
    pub get_order_items: AtomicU64,
    /// searchOrders (v2026-01-01) calls that passed auth and the rate limit.
    pub search_orders: AtomicU64,
    /// Restricted data tokens issued.
    pub restricted_data_tokens: AtomicU64,
}

impl AmazonSandboxStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
}

/// Rate-limited SP-API operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    GetOrders,
    GetOrder,
    GetOrderItems,
    GetOrderAddress,
    GetOrderBuyerInfo,
    CreateRestrictedDataToken,
    ConfirmShipment,
    SearchOrders,
    GetOrderV2026,
}

impl Op {
    const ALL: [Op; 9] = [
        Op::GetOrders,
        Op::GetOrder,
        Op::GetOrderItems,
        Op::GetOrderAddress,
        Op::GetOrderBuyerInfo,
        Op::CreateRestrictedDataToken,
        Op::ConfirmShipment,
        Op::SearchOrders,
        Op::GetOrderV2026,
    ];

    /// The default usage plan: (rate, burst, the `x-amzn-RateLimit-Limit` value).
    fn plan(self) -> (f64, u32, &'static str) {
        match self {
            Op::GetOrders => (0.0167, 20, "0.0167"),
            Op::SearchOrders => (0.0056, 20, "0.0056"),
            Op::CreateRestrictedDataToken => (1.0, 10, "1.0"),
            Op::ConfirmShipment => (2.0, 10, "2.0"),
            _ => (0.5, 30, "0.5"),
        }
    }
}

/// Who is calling: an LWA token, or an RDT with the resources it names.
enum Access {
    Lwa,
    Rdt(Vec<wire::RestrictedResource>),
}

/// Does a restricted resource path (generic `{orderId}` or specific) cover `path`?
fn covers(pattern: &str, path: &str) -> bool {
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| a == b || a.starts_with('{'))
}

impl Access {
    /// What this caller may see at `path`. getOrders, getOrder and getOrderItems release
    /// by data element; the address and buyerInfo operations by path alone.
    fn grants(&self, path: &str, by_element: bool) -> view::Grants {
        let Access::Rdt(resources) = self else {
            return view::Grants::default();
        };
        let Some(r) = resources
            .iter()
            .find(|r| r.method == "GET" && covers(&r.path, path))
        else {
            return view::Grants::default();
        };
        if !by_element {
            return view::Grants {
                buyer_info: true,
                shipping_address: true,
            };
        }
        let has = |e: &str| r.data_elements.iter().flatten().any(|d| d == e);
        view::Grants {
            buyer_info: has("buyerInfo"),
            shipping_address: has("shippingAddress"),
        }
    }
}

struct Sandbox {
    clock: SharedClock,
    world: World,
    config: SandboxConfig,
    options: AmazonSandboxOptions,
    lifetime: chrono::Duration,
    lwa: TokenRegistry,
    rdt: TokenRegistry,
    rdt_resources: Mutex<HashMap<String, Vec<wire::RestrictedResource>>>,
    buckets: HashMap<Op, TokenBucket>,
    /// The `x-amzn-RateLimit-Limit` value per operation.
    limits: HashMap<Op, HeaderValue>,
    faults: FaultInjector,
    request_seq: AtomicU64,
    stats: Arc<AmazonSandboxStats>,
}

type Shared = Arc<Sandbox>;

/// The `x-amzn-RateLimit-Limit` a sandbox without rate limits announces.
pub const UNLIMITED_RATE: u32 = 1_000_000;

impl Sandbox {
    fn request_id(&self) -> HeaderValue {
        let n = self.request_seq.fetch_add(1, Ordering::Relaxed);
        let s = format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            (self.config.seed as u32) ^ 0x5eed,
            n >> 32 & 0xffff,
            n >> 20 & 0xfff,
            n >> 8 & 0xfff,
            n
        );
        HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("0"))
    }

    /// Any response, with `x-amzn-RequestId` and (unless a 429) the operation's limit.
    fn respond(&self, op: Option<Op>, status: StatusCode, body: String, html: bool) -> Response {
        let mut r = (status, body).into_response();
        let h = r.headers_mut();
        h.insert("x-amzn-RequestId", self.request_id());
        let ctype = if html {
            "text/html"
        } else {
            "application/json"
        };
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        if let Some(op) = op {
            if matches!(status.as_u16(), 200 | 400 | 404) {
                if let Some(v) = self.limits.get(&op) {
                    h.insert("x-amzn-RateLimit-Limit", v.clone());
                }
            }
        }
        r
    }

    fn ok(&self, op: Op, body: &impl serde::Serialize) -> Response {
        let json = serde_json::to_string(body).unwrap_or_default();
        self.respond(Some(op), StatusCode::OK, json, false)
    }

    fn error(
        &self,
        op: Option<Op>,
        status: StatusCode,
        code: &str,
        message: &str,
        details: &str,
    ) -> Response {
        let body = wire::ErrorList {
            errors: vec![wire::Error {
                code: code.into(),
                message: message.into(),
                details: Some(details.into()),
            }],
        };
        let json = serde_json::to_string(&body).unwrap_or_default();
        self.respond(op, status, json, false)
    }

    fn invalid(&self, op: Op, details: &str) -> Response {
        self.error(
            Some(op),
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "Invalid Input",
            details,
        )
    }

    fn denied(&self, details: &str) -> Response {
        self.error(
            None,
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Access to requested resource is denied.",
            details,
        )
    }

    /// Fault injection, then auth, then the rate limit: what every SP-API call passes.
    // The error is the ready response handlers return as is; boxing it buys nothing.
    #[allow(clippy::result_large_err)]
    fn gate(&self, op: Op, headers: &HeaderMap, path: &str) -> Result<Access, Response> {
        if let Some(fault) = self.faults.next() {
            self.stats.faults.fetch_add(1, Ordering::SeqCst);
            return Err(match fault {
                Fault::ServerError if self.request_seq.load(Ordering::Relaxed) % 2 == 0 => self
                    .error(
                        None,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalFailure",
                        "We encountered an internal error. Please try again.",
                        "",
                    ),
                Fault::ServerError => self.error(
                    None,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "Service is temporarily unavailable. Please try again.",
                    "",
                ),
                Fault::Html => self.respond(None, StatusCode::BAD_GATEWAY, HTML_502.into(), true),
                Fault::Throttle => self.quota_exceeded(),
            });
        }
        let Some(token) = headers
            .get("x-amz-access-token")
            .and_then(|v| v.to_str().ok())
        else {
            return Err(self.denied(""));
        };
        let access = match (self.lwa.check(token), self.rdt.check(token)) {
            (TokenCheck::Valid, _) => Access::Lwa,
            (_, TokenCheck::Valid) => {
                let resources = self
                    .rdt_resources
                    .lock()
                    .unwrap()
                    .get(token)
                    .cloned()
                    .unwrap_or_default();
                if !resources
                    .iter()
                    .any(|r| r.method == "GET" && covers(&r.path, path))
                {
                    return Err(
                        self.denied("The restricted data token does not cover this resource.")
                    );
                }
                Access::Rdt(resources)
            }
            (TokenCheck::Expired, _) | (_, TokenCheck::Expired) => {
                return Err(self.denied("The access token you provided has expired."))
            }
            _ => {
                return Err(
                    self.denied("The access token you provided is revoked, malformed or invalid.")
                )
            }
        };
        if self.config.rate_limits {
            if let Some(bucket) = self.buckets.get(&op) {
                if bucket.try_take(self.clock.now()).is_err() {
                    self.stats.throttled.fetch_add(1, Ordering::SeqCst);
                    return Err(self.quota_exceeded());
                }
            }
        }
        Ok(access)
    }

    /// Amazon's 429: no Retry-After and no `x-amzn-RateLimit-Limit`.
    fn quota_exceeded(&self) -> Response {
        self.error(
            None,
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
            "",
        )
    }
}

/// An operation's plan: the documented default, or the one granted in `options`.
fn plan_of(op: Op, options: &AmazonSandboxOptions) -> (f64, u32) {
    match (op, options.search_orders_plan) {
        (Op::SearchOrders, Some(plan)) => plan,
        _ => (op.plan().0, op.plan().1),
    }
}

/// Starts the Amazon sandbox with default options.
pub async fn start(config: SandboxConfig, clock: SharedClock) -> std::io::Result<SandboxHandle> {
    start_with(config, clock, AmazonSandboxOptions::default())
        .await
        .map(|(handle, _)| handle)
}

/// Starts the Amazon sandbox; also returns its counters. `token_requests` on the handle
/// counts LWA grants (restricted data tokens are counted in the stats).
pub async fn start_with(
    config: SandboxConfig,
    clock: SharedClock,
    mut options: AmazonSandboxOptions,
) -> std::io::Result<(SandboxHandle, Arc<AmazonSandboxStats>)> {
    options.malformed_orders = options.malformed_orders.max(config.malformed_orders);
    let now = clock.now();
    let mut world = World::generate(
        &config.world_spec(MarketplaceKind::Amazon, now),
        view::order_number,
    );
    view::adapt(&mut world, config.seed);
    let lifetime = config
        .token_lifetime
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .unwrap_or(chrono::Duration::seconds(3600));
    let stats = Arc::new(AmazonSandboxStats::default());
    let state = Arc::new(Sandbox {
        lwa: TokenRegistry::new(clock.clone(), config.seed),
        rdt: TokenRegistry::new(clock.clone(), config.seed.wrapping_add(1)),
        rdt_resources: Mutex::new(HashMap::new()),
        buckets: Op::ALL
            .iter()
            .map(|op| {
                let (rate, burst) = plan_of(*op, &options);
                (*op, TokenBucket::new(rate, burst, now))
            })
            .collect(),
        limits: Op::ALL
            .iter()
            .map(|op| {
                // An explicitly raised plan is announced as given; otherwise, without
                // rate limits, the sandbox announces a rate no client reaches, so a
                // client that paces to the announcement runs unpaced.
                let value = match (op, options.search_orders_plan) {
                    (Op::SearchOrders, Some((rate, _))) => rate.to_string(),
                    _ if !config.rate_limits => UNLIMITED_RATE.to_string(),
                    _ => op.plan().2.to_string(),
                };
                let header =
                    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("0.5"));
                (*op, header)
            })
            .collect(),
        faults: FaultInjector::new(config.fault_rate, config.seed),
        request_seq: AtomicU64::new(0),
        stats: stats.clone(),
        lifetime,
        options,
        world,
        clock,
        config,
    });
    let router = Router::new()
        .route("/auth/o2/token", post(auth::lwa_token))
        .route(
            "/tokens/2021-03-01/restrictedDataToken",
            post(auth::restricted_data_token),
        )
        .route("/orders/2026-01-01/orders", get(search::search_orders))
        .route(
            "/orders/2026-01-01/orders/{orderId}",
            get(search::get_order),
        )
        .route("/orders/v0/orders", get(orders::get_orders))
        .route("/orders/v0/orders/{orderId}", get(orders::get_order))
        .route(
            "/orders/v0/orders/{orderId}/orderItems",
            get(orders::get_order_items),
        )
        .route(
            "/orders/v0/orders/{orderId}/address",
            get(orders::get_order_address),
        )
        .route(
            "/orders/v0/orders/{orderId}/buyerInfo",
            get(orders::get_order_buyer_info),
        )
        .route(
            "/orders/v0/orders/{orderId}/shipmentConfirmation",
            post(push::confirm_shipment),
        )
        .with_state(state.clone());
    let pushes = state.world.pushes.clone();
    let (addr, shutdown) = serve(router, state.config.port).await?;
    let (gt, ex, rv, tr) = (state.clone(), state.clone(), state.clone(), state);
    let handle = SandboxHandle {
        addr,
        pushes,
        ground_truth: Box::new(move || {
            let now = gt.clock.now();
            gt.world
                .plans
                .iter()
                .filter_map(|p| view::view(p, now))
                .collect()
        }),
        expire_tokens: Box::new(move || {
            ex.lwa.expire_all();
            ex.rdt.expire_all();
        }),
        revoke_credentials: Box::new(move || {
            rv.lwa.revoke();
            rv.rdt.revoke();
        }),
        token_requests: Box::new(move || tr.lwa.issued()),
        shutdown: Some(shutdown),
    };
    Ok((handle, stats))
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn restricted_paths_match_generic_and_specific() {
        assert!(covers("/orders/v0/orders", "/orders/v0/orders"));
        assert!(covers(
            "/orders/v0/orders/{orderId}/address",
            "/orders/v0/orders/302-1-2/address"
        ));
        assert!(covers(
            "/orders/v0/orders/302-1-2",
            "/orders/v0/orders/302-1-2"
        ));
        assert!(!covers("/orders/v0/orders", "/orders/v0/orders/302-1-2"));
        assert!(!covers(
            "/orders/v0/orders/{orderId}",
            "/orders/v0/orders/302-1-2/address"
        ));
    }
}
