//! A faithful fake of eBay's Sell Fulfillment API v1 and the identity service, following
//! APIS.md §3 "What a faithful eBay fake server must do":
//!
//! - `GET /oauth2/authorize` (auto-consent, redirects with a one-time `code`) and
//!   `POST /identity/v1/oauth2/token` (authorization-code and refresh-token grants, Basic
//!   client auth, `expires_in: 7200`, no new refresh token on refresh, OAuth error bodies
//!   `invalid_client` / `invalid_grant` / `invalid_scope`). Expired or unknown access
//!   tokens get 401 errorId 1001.
//! - `GET /sell/fulfillment/v1/order`: `filter` with `creationdate` / `lastmodifieddate`
//!   ranges (inclusive, ISO with millis, brackets percent-encoded or refused with 30800;
//!   creationdate wins when both are given), the two `orderfulfillmentstatus` combos,
//!   the 30xxx errors, `limit` ≤ 200 (31100), `offset` (31000), `fieldGroups` (32800),
//!   `orderIds` (≤ 50, 30900) overriding everything, a 90-day creation window without a
//!   filter, `href/total/limit/offset/next/prev`. Orders are listed newest-created
//!   first and evaluated at the clock's time on every call, so orders that change during
//!   a walk leave the window and shift later pages, as on the real API.
//! - `GET /sell/fulfillment/v1/order/{orderId}` (32100, 404) with `cancelRequests`
//!   filled in; in getOrders they are always `[]`.
//! - personal data blanked after 14 days (email) and 90 days (names, phones, street lines).
//! - a daily call quota on the order resource: 429 errorId 2001 without `Retry-After`;
//!   `GET /developer/analytics/v1_beta/user_rate_limit/` reports `remaining` and `reset`
//!   (without rate limits it lists the order resource with no rate: no limit stated).
//! - injected faults (`fault_rate`): 500 errorId 30500, 502 HTML, 429 errorId 2001.
//!
//! Everything is on the injected clock; ground truth is the world's snapshot as eBay
//! releases it (see [`render::released`]).

mod auth;
mod push;
pub mod query;
pub mod render;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::listing::{Events, Listings, Query};
use super::support::{serve, Fault, FaultInjector, TokenCheck, TokenRegistry, HTML_502};
use super::world::World;
use super::{SandboxConfig, SandboxHandle};
use crate::clock::SharedClock;
use crate::ebay::normalize::format_timestamp;
use crate::ebay::wire;
use crate::model::{MarketplaceKind, Order};
use query::ApiError;

/// eBay's access-token lifetime.
pub const TOKEN_LIFETIME_SECS: i64 = 7200;
/// eBay's refresh-token lifetime (about 18 months).
pub const REFRESH_TOKEN_LIFETIME_SECS: i64 = 47_304_000;
/// Scopes a seller can grant this app.
pub const SCOPES: &[&str] = &[
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
];

/// eBay-specific knobs beyond [`SandboxConfig`].
#[derive(Debug, Clone)]
pub struct EbaySandboxOptions {
    /// Calls per UTC day on the order resource before 429 errorId 2001 (eBay's default
    /// is 100,000). Only enforced when `SandboxConfig::rate_limits` is on.
    pub daily_quota: u64,
    /// Serve the first N orders of the world malformed (a line's `quantity` holds the
    /// buyer's name), to prove a client fails that order alone and leaks nothing.
    pub malformed_orders: usize,
    /// Serve the Developer Analytics rate-limit report; off, it answers 404 (a client
    /// must then fall back to its fixed pacing).
    pub rate_report: bool,
}

impl Default for EbaySandboxOptions {
    fn default() -> Self {
        Self {
            daily_quota: 100_000,
            malformed_orders: 0,
            rate_report: true,
        }
    }
}

/// What the sandbox counted, for tests that check a client's pacing from the server side.
#[derive(Debug, Default)]
pub struct EbaySandboxStats {
    /// Order-resource calls let through, by second of the sandbox's clock (Unix seconds).
    pub calls_by_second: Mutex<std::collections::BTreeMap<i64, u64>>,
    /// 429s answered because the daily quota was spent (injected faults not included).
    pub throttled: AtomicU64,
}

impl EbaySandboxStats {
    /// Calls let through in `[from, to)` (Unix seconds of the sandbox's clock).
    pub fn calls_between(&self, from: i64, to: i64) -> u64 {
        let map = self
            .calls_by_second
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.range(from..to).map(|(_, n)| n).sum()
    }

    /// The most calls let through in any one second.
    pub fn busiest_second(&self) -> u64 {
        let map = self
            .calls_by_second
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.values().copied().max().unwrap_or(0)
    }
}

struct Inner {
    clock: SharedClock,
    config: SandboxConfig,
    options: EbaySandboxOptions,
    /// Plans sorted by placement time, so a listing only scans the plans that can match.
    world: World,
    /// The longest time from placement to an order's last change.
    max_settle: Duration,
    /// The world's changes by time, and the matching sets of recent filters they keep
    /// current: a page costs a page, not a pass over the world.
    events: Events,
    listings: Listings,
    tokens: TokenRegistry,
    faults: FaultInjector,
    token_requests: AtomicU64,
    /// Authorization codes → (redirect_uri, expiry).
    codes: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
    /// (UTC day number, calls made that day).
    quota: Mutex<(i64, u64)>,
    stats: Arc<EbaySandboxStats>,
}

type Shared = Arc<Inner>;

/// Starts the eBay sandbox with eBay's default quota.
pub async fn start(config: SandboxConfig, clock: SharedClock) -> std::io::Result<SandboxHandle> {
    start_with(config, clock, EbaySandboxOptions::default()).await
}

/// Starts the eBay sandbox with eBay-specific options (e.g. a tiny daily quota).
pub async fn start_with(
    config: SandboxConfig,
    clock: SharedClock,
    options: EbaySandboxOptions,
) -> std::io::Result<SandboxHandle> {
    start_counted(config, clock, options)
        .await
        .map(|(handle, _)| handle)
}

/// [`start_with`], also returning what the sandbox counts (calls per second, 429s).
pub async fn start_counted(
    config: SandboxConfig,
    clock: SharedClock,
    mut options: EbaySandboxOptions,
) -> std::io::Result<(SandboxHandle, Arc<EbaySandboxStats>)> {
    options.malformed_orders = options.malformed_orders.max(config.malformed_orders);
    // eBay timestamps have millisecond precision; so must the world's.
    let anchor = DateTime::from_timestamp_millis(clock.now().timestamp_millis())
        .unwrap_or_else(|| clock.now());
    let mut world = World::generate(
        &config.world_spec(MarketplaceKind::Ebay, anchor),
        render::order_number,
    );
    world.plans.sort_by_key(|p| p.order.placed_at);
    let max_settle = world
        .plans
        .iter()
        .map(|p| p.settles_at - p.order.placed_at)
        .max()
        .unwrap_or_else(Duration::zero);
    let inner = Arc::new(Inner {
        max_settle,
        events: Events::build(&world),
        listings: Listings::default(),
        tokens: TokenRegistry::new(clock.clone(), config.seed),
        faults: FaultInjector::new(config.fault_rate, config.seed),
        token_requests: AtomicU64::new(0),
        codes: Mutex::new(HashMap::new()),
        quota: Mutex::new((0, 0)),
        stats: Arc::new(EbaySandboxStats::default()),
        clock,
        config,
        options,
        world,
    });
    let router = Router::new()
        .route("/oauth2/authorize", get(auth::authorize))
        .route("/identity/v1/oauth2/token", post(auth::token))
        .route("/sell/fulfillment/v1/order", get(get_orders))
        .route("/sell/fulfillment/v1/order/{order_id}", get(get_order))
        .route(
            "/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment",
            post(push::create_fulfillment),
        )
        .route(
            "/developer/analytics/v1_beta/user_rate_limit/",
            get(user_rate_limit),
        )
        .with_state(inner.clone());
    let pushes = inner.world.pushes.clone();
    let stats = inner.stats.clone();
    let (addr, tx) = serve(router, inner.config.port).await?;
    let (gt, exp, rev, cnt) = (inner.clone(), inner.clone(), inner.clone(), inner);
    let handle = SandboxHandle {
        addr,
        pushes,
        ground_truth: Box::new(move || gt.ground_truth()),
        expire_tokens: Box::new(move || exp.tokens.expire_all()),
        revoke_credentials: Box::new(move || rev.tokens.revoke()),
        token_requests: Box::new(move || cnt.token_requests.load(Ordering::SeqCst)),
        shutdown: Some(tx),
    };
    Ok((handle, stats))
}

impl Inner {
    fn ground_truth(&self) -> Vec<Order> {
        let now = self.clock.now();
        self.world
            .snapshot(now)
            .into_iter()
            .map(|o| render::released(o, now))
            .collect()
    }

    /// Breaks the orders chosen by `malformed_orders` in a rendered page.
    fn corrupt(&self, page: &mut serde_json::Value) {
        let n = self.options.malformed_orders;
        if n == 0 {
            return;
        }
        let bad: Vec<&str> = self.world.plans[..n.min(self.world.plans.len())]
            .iter()
            .map(|p| p.order.order_number.as_str())
            .collect();
        let Some(orders) = page.get_mut("orders").and_then(|o| o.as_array_mut()) else {
            return;
        };
        for o in orders {
            if !o["orderId"].as_str().is_some_and(|id| bad.contains(&id)) {
                continue;
            }
            let name = o
                .pointer("/fulfillmentStartInstructions/0/shippingStep/shipTo/fullName")
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            if let Some(line) = o.pointer_mut("/lineItems/0") {
                line["quantity"] = name;
            }
        }
    }

    fn token_lifetime(&self) -> Duration {
        self.config
            .token_lifetime
            .and_then(|d| Duration::from_std(d).ok())
            .unwrap_or(Duration::seconds(TOKEN_LIFETIME_SECS))
    }

    /// Faults, bearer token and quota, in the order eBay's edge applies them; `Some` is
    /// the refusal to send.
    fn gate(&self, headers: &HeaderMap, counted: bool) -> Option<Response> {
        if counted {
            if let Some(f) = self.faults.next() {
                return Some(fault(f));
            }
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if self.tokens.check(token) != TokenCheck::Valid {
            return Some(error_response(
                401,
                1001,
                "OAuth",
                "Invalid access token",
                "Invalid access token. Check the value of the Authorization HTTP request header.",
            ));
        }
        if counted && self.config.rate_limits {
            let (day, _) = day_window(self.clock.now());
            let mut q = self.quota.lock().unwrap();
            if q.0 != day {
                *q = (day, 0);
            }
            if q.1 >= self.options.daily_quota {
                self.stats.throttled.fetch_add(1, Ordering::SeqCst);
                return Some(throttled());
            }
            q.1 += 1;
        }
        if counted {
            let second = self.clock.now().timestamp();
            let mut calls = self
                .stats
                .calls_by_second
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *calls.entry(second).or_default() += 1;
        }
        None
    }
}

/// The UTC day number and when it ends (eBay's daily quotas reset on a fixed clock).
fn day_window(now: DateTime<Utc>) -> (i64, DateTime<Utc>) {
    let day = now.timestamp().div_euclid(86_400);
    let reset = DateTime::from_timestamp((day + 1) * 86_400, 0).unwrap_or(now);
    (day, reset)
}

fn json<T: Serialize>(status: u16, body: &T) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn error_response(status: u16, id: i64, domain: &str, message: &str, long: &str) -> Response {
    json(
        status,
        &wire::ErrorDetailV3 {
            errors: vec![wire::Error {
                error_id: id,
                domain: Some(domain.into()),
                category: Some(
                    if status >= 500 {
                        "APPLICATION"
                    } else {
                        "REQUEST"
                    }
                    .into(),
                ),
                message: Some(message.into()),
                long_message: Some(long.into()),
                ..Default::default()
            }],
        },
    )
}

fn api_error(e: ApiError) -> Response {
    json(
        e.status,
        &wire::ErrorDetailV3 {
            errors: vec![wire::Error {
                error_id: e.error_id,
                domain: Some("API_FULFILLMENT".into()),
                category: Some("REQUEST".into()),
                message: Some(e.message.clone()),
                long_message: Some(e.message),
                parameters: e
                    .parameter
                    .map(|(name, value)| vec![wire::ErrorParameter { name, value }])
                    .unwrap_or_default(),
                ..Default::default()
            }],
        },
    )
}

fn throttled() -> Response {
    error_response(
        429,
        2001,
        "ACCESS",
        "Too many requests.",
        "The request limit has been reached for the resource.",
    )
}

fn fault(f: Fault) -> Response {
    match f {
        Fault::ServerError => error_response(
            500,
            30500,
            "API_FULFILLMENT",
            "System error",
            "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.",
        ),
        Fault::Html => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            HTML_502,
        )
            .into_response(),
        Fault::Throttle => throttled(),
    }
}

async fn get_orders(
    State(s): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = s.gate(&headers, true) {
        return r;
    }
    match list(&s, &headers, raw.as_deref().unwrap_or("")) {
        Ok(page) => {
            let mut body = serde_json::to_value(&page).unwrap_or_default();
            s.corrupt(&mut body);
            json(200, &body)
        }
        Err(e) => api_error(e),
    }
}

fn list(
    s: &Inner,
    headers: &HeaderMap,
    raw: &str,
) -> Result<wire::OrderSearchPagedCollection, ApiError> {
    let now = s.clock.now();
    let params = query::pairs(raw);
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}/sell/fulfillment/v1/order");
    let snapshot = || {
        s.world
            .snapshot(now)
            .into_iter()
            .map(|o| render::released(o, now))
    };

    if let Some(ids) = param("orderIds").map(query::decode) {
        let ids: Vec<&str> = ids
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .collect();
        if ids.len() > 50 {
            return Err(ApiError::bad(
                30900,
                "Exceeded maximum number of order IDs (the current limit is 50)",
            ));
        }
        let orders: Vec<wire::Order> = snapshot()
            .filter(|o| ids.contains(&o.order_number.as_str()))
            .map(|o| render::render(&o, now, false))
            .collect();
        return Ok(wire::OrderSearchPagedCollection {
            href: Some(format!("{base}?{raw}")),
            total: Some(orders.len() as u64),
            limit: Some(orders.len() as u64),
            offset: Some(0),
            next: None,
            prev: None,
            orders,
            warnings: Vec::new(),
        });
    }

    let limit = match param("limit").map(query::decode) {
        None => 50,
        Some(l) => match l.trim().parse::<u64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => return Err(ApiError::bad(31100, format!("Invalid limit: {l}"))),
        },
    };
    let offset = match param("offset").map(query::decode) {
        None => 0,
        Some(o) => o
            .trim()
            .parse::<u64>()
            .map_err(|_| ApiError::bad(31000, format!("Invalid offset: {o}")))?,
    };
    if let Some(g) = param("fieldGroups").map(query::decode) {
        if g != "TAX_BREAKDOWN" {
            return Err(ApiError::bad(32800, format!("Invalid field group: {g}")));
        }
    }
    let raw_filter = param("filter").unwrap_or("");
    let filter = query::parse_filter(raw_filter, now)?;
    let default_window = query::Range {
        from: now - Duration::days(90),
        to: None,
    };

    // Filter and sort on the plans' dates, then build and render only the page: a
    // world of tens of thousands of orders stays fast to page through.
    let render_one = |p: &crate::sandbox::world::OrderPlan| {
        p.state_at(now)
            .map(|o| render::render(&render::released(o, now), now, false))
    };
    // Only plans placed where a match is possible (a change lies within max_settle of
    // placement).
    let plans = &s.world.plans;
    let (lo, hi) = {
        let (from, to) = match (filter.creation, filter.modified) {
            (Some(c), _) => (c.from, c.to),
            (None, Some(m)) => (m.from - s.max_settle, m.to),
            (None, None) => (default_window.from, None),
        };
        let lo = plans.partition_point(|p| p.order.placed_at < from);
        let hi = to.map_or(plans.len(), |to| {
            plans.partition_point(|p| p.order.placed_at <= to)
        });
        (lo, hi.max(lo))
    };
    let matches = |p: &crate::sandbox::world::OrderPlan| {
        // Cheap bounds first: a change lies between placement and settling.
        if let (None, Some(m)) = (filter.creation, filter.modified) {
            if p.settles_at < m.from || m.to.is_some_and(|to| p.order.placed_at > to) {
                return false;
            }
        }
        let Some(changed) = p.last_change(now) else {
            return false;
        };
        let inside = match (filter.creation, filter.modified) {
            // creationdate wins when both are given.
            (Some(c), _) => c.contains(p.order.placed_at),
            (None, Some(m)) => m.contains(changed),
            (None, None) => default_window.contains(p.order.placed_at),
        };
        inside
            && filter.fulfillment.is_none_or(|set| {
                render_one(p).is_some_and(|w| {
                    w.order_fulfillment_status
                        .as_deref()
                        .is_some_and(|st| set.contains(&st))
                })
            })
    };
    // Newest first, as eBay lists them.
    let order = |a: u32, b: u32| {
        let (a, b) = (&plans[a as usize], &plans[b as usize]);
        b.order
            .placed_at
            .cmp(&a.order.placed_at)
            .then_with(|| b.order.order_number.cmp(&a.order.order_number))
    };
    let fresh = || {
        let mut rows: Vec<u32> = (lo..hi)
            .filter(|&i| matches(&plans[i]))
            .map(|i| i as u32)
            .collect();
        rows.sort_by(|a, b| order(*a, *b));
        rows
    };
    // A filter without dates moves with the clock (the last 90 days): not indexed.
    let matching = if filter.creation.is_none() && filter.modified.is_none() {
        std::sync::Arc::new(fresh())
    } else {
        s.listings.rows(
            &s.events,
            &Query {
                key: raw_filter,
                now,
                fresh: &fresh,
                matches: &|i| matches(&plans[i]),
                order: &order,
            },
            s.world.pushes.any(),
        )
    };
    let total = matching.len() as u64;
    let page_url = |off: u64| {
        let filter = if raw_filter.is_empty() {
            String::new()
        } else {
            format!("filter={raw_filter}&")
        };
        format!("{base}?{filter}limit={limit}&offset={off}")
    };
    let orders: Vec<wire::Order> = matching
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .filter_map(|&i| render_one(&plans[i as usize]))
        .collect();
    Ok(wire::OrderSearchPagedCollection {
        href: Some(page_url(offset)),
        total: Some(total),
        limit: Some(limit),
        offset: Some(offset),
        next: (offset + limit < total).then(|| page_url(offset + limit)),
        prev: (offset > 0).then(|| page_url(offset.saturating_sub(limit))),
        orders,
        warnings: Vec::new(),
    })
}

async fn get_order(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    if let Some(r) = s.gate(&headers, true) {
        return r;
    }
    let well_formed = order_id.len() == 14
        && order_id.bytes().enumerate().all(|(i, b)| match i {
            2 | 8 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !well_formed {
        return api_error(ApiError::bad(
            32100,
            format!("Invalid order ID: {order_id}"),
        ));
    }
    let now = s.clock.now();
    match s
        .world
        .snapshot(now)
        .into_iter()
        .find(|o| o.order_number.as_str() == order_id)
    {
        Some(o) => json(200, &render::render(&render::released(o, now), now, true)),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// getUserRateLimits: the order resource's daily window, or (started without rate
/// limits) the resource with no rate at all, which is how the sandbox states "no limit".
async fn user_rate_limit(State(s): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = s.gate(&headers, false) {
        return r;
    }
    if !s.options.rate_report {
        return StatusCode::NOT_FOUND.into_response();
    }
    let now = s.clock.now();
    let (day, reset) = day_window(now);
    let used = {
        let q = s.quota.lock().unwrap();
        if q.0 == day {
            q.1
        } else {
            0
        }
    };
    let limit = s.options.daily_quota;
    json(
        200,
        &wire::RateLimitsResponse {
            rate_limits: vec![wire::RateLimit {
                api_context: Some("sell".into()),
                api_name: Some("Fulfillment".into()),
                api_version: Some("v1".into()),
                resources: vec![wire::RateLimitResource {
                    name: "sell.fulfillment.order".into(),
                    rates: if !s.config.rate_limits {
                        Vec::new()
                    } else {
                        vec![wire::Rate {
                            count: used,
                            limit,
                            remaining: limit.saturating_sub(used),
                            reset: Some(format_timestamp(reset)),
                            time_window: 86_400,
                        }]
                    },
                }],
            }],
        },
    )
}
