//! [`BolClient`]: the [`Marketplace`] implementation. Plans a window as list walks (see the
//! module docs of `bol`), pages through them, dedupes and fetches each order's detail.
//! Logs ids and counts only.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;

use super::normalize::{self, latest_change, parse_time};
use super::transport::{Endpoint, Reply, Transport};
use super::wire::{self, PAGE_SIZE};
use super::{BolConfig, BolCredentials};
use crate::clock::SharedClock;
use crate::http::RetryPolicy;
use crate::marketplace::{
    ConnectorError, FetchedOrder, Marketplace, OrderPage, PageToken, SyncHints, SyncWindow,
};
use crate::model::{MarketplaceKind, OrderNumber};

/// Minutes of slack between the window start and the edge of `change-interval-minute`:
/// the interval is measured on bol's clock (which may run ahead of ours) and slides while
/// the walk pages, so the window start must stay inside it until the last page.
const INTERVAL_MARGIN_MINUTES: i64 = 2;
/// Walks of recent windows ask for the largest interval bol accepts, leaving the time
/// between the window start and this edge for paging; filtering happens client-side.
const MAX_INTERVAL_MINUTES: i64 = 60;
/// An interval walk is only started if the window start stays inside the interval for at
/// least this long.
const INTERVAL_WALK_SLACK_MINUTES: i64 = 15;
/// `latest-change-date` reaches back "up to 3 months"; stay a little inside that.
const MAX_HISTORY_DAYS: i64 = 89;
/// Added to the window end before taking its date, so a day walk covers the window's end in
/// any offset bol may use for its dates (UTC, CET +1, CEST +2).
const DATE_OFFSET_SLACK: i64 = 2;
/// How many walks' seen-sets a client keeps (one per window being paged).
const WALK_MEMORY: usize = 16;

/// How one window is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One walk with `change-interval-minute=N`.
    Interval(u32),
    /// One walk per day from `first`, with `latest-change-date`.
    Days(NaiveDate),
}

/// Where a window's paging stands; serialized into the [`PageToken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    walk: u64,
    mode: Mode,
    step: u32,
    page: u32,
}

impl Cursor {
    fn encode(&self) -> PageToken {
        let mode = match self.mode {
            Mode::Interval(n) => format!("i{n}"),
            Mode::Days(d) => format!("d{}", d.format("%Y-%m-%d")),
        };
        PageToken(format!(
            "bol1.{:x}.{mode}.{}.{}",
            self.walk, self.step, self.page
        ))
    }

    fn decode(token: &PageToken) -> Option<Self> {
        let mut parts = token.0.split('.');
        if parts.next()? != "bol1" {
            return None;
        }
        let walk = u64::from_str_radix(parts.next()?, 16).ok()?;
        let mode = parts.next()?;
        let mode = if let Some(n) = mode.strip_prefix('i') {
            Mode::Interval(n.parse().ok()?)
        } else {
            Mode::Days(NaiveDate::parse_from_str(mode.strip_prefix('d')?, "%Y-%m-%d").ok()?)
        };
        let step = parts.next()?.parse().ok()?;
        let page = parts.next()?.parse().ok().filter(|p| *p >= 1)?;
        parts.next().is_none().then_some(Self {
            walk,
            mode,
            step,
            page,
        })
    }
}

/// The order ids each recent walk already returned, so an order pushed onto a later page
/// (or listed under two days) costs one detail call, not two. Losing this memory only costs
/// extra detail calls, never an order.
#[derive(Debug, Default)]
struct Walks {
    order: VecDeque<u64>,
    seen: HashMap<u64, HashSet<String>>,
}

impl Walks {
    fn contains(&self, walk: u64, id: &str) -> bool {
        self.seen.get(&walk).is_some_and(|s| s.contains(id))
    }

    fn remember(&mut self, walk: u64, ids: impl IntoIterator<Item = String>) {
        if !self.seen.contains_key(&walk) {
            self.order.push_back(walk);
            while self.order.len() > WALK_MEMORY {
                if let Some(old) = self.order.pop_front() {
                    self.seen.remove(&old);
                }
            }
        }
        self.seen.entry(walk).or_default().extend(ids);
    }
}

/// A bol.com Retailer API v10 client bound to one seller's credentials.
///
/// Holds one cached access token (bol IP-blocks clients that request too many), paces each
/// endpoint on its rate-limit headers, and turns every listed order into a full canonical
/// order with one detail call.
pub struct BolClient {
    transport: Transport,
    walks: Mutex<Walks>,
}

impl std::fmt::Debug for BolClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BolClient").finish_non_exhaustive()
    }
}

impl BolClient {
    /// Builds a client. `clock` drives token expiry, window planning and server-measured
    /// waits; `retry_policy` bounds retries and how long a wait may take in real time.
    pub fn new(
        config: BolConfig,
        credentials: BolCredentials,
        clock: SharedClock,
        retry_policy: RetryPolicy,
    ) -> Self {
        Self {
            transport: Transport::new(config, credentials, clock, retry_policy),
            walks: Mutex::new(Walks::default()),
        }
    }

    /// Never more than the cap's rate of calls, whatever bol's `X-RateLimit-*` allow (a
    /// per-connection setting).
    pub fn with_cap(mut self, cap: std::sync::Arc<crate::amazon::pacing::Pacer>) -> Self {
        self.transport.set_cap(cap);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.transport.clock().now()
    }

    /// Minutes of `change-interval-minute` needed right now to still cover `from`.
    fn minutes_needed(&self, from: DateTime<Utc>) -> Option<i64> {
        let span = self.now() - from;
        (span >= Duration::zero())
            .then(|| (span.num_seconds() + 59).div_euclid(60) + INTERVAL_MARGIN_MINUTES)
    }

    /// Chooses how to list `window`: the recent-changes interval when the window starts
    /// well inside the last hour, else one walk per calendar day.
    fn plan(&self, window: &SyncWindow) -> Mode {
        match self.minutes_needed(window.from) {
            Some(m) if m + INTERVAL_WALK_SLACK_MINUTES <= MAX_INTERVAL_MINUTES => {
                Mode::Interval(MAX_INTERVAL_MINUTES as u32)
            }
            _ => self.day_plan(window),
        }
    }

    fn day_plan(&self, window: &SyncWindow) -> Mode {
        let now = self.now();
        let oldest = (now + Duration::hours(DATE_OFFSET_SLACK)).date_naive()
            - Duration::days(MAX_HISTORY_DAYS);
        if window.from.date_naive() < oldest {
            tracing::warn!("bol window reaches past the 3-month history; older days skipped");
        }
        Mode::Days(window.from.date_naive().max(oldest))
    }

    /// How many walks a mode takes for `window`.
    fn steps(&self, mode: Mode, window: &SyncWindow) -> u32 {
        match mode {
            Mode::Interval(_) => 1,
            Mode::Days(first) => {
                let cap = (self.now() + Duration::hours(DATE_OFFSET_SLACK)).date_naive();
                let last = (window.to + Duration::hours(DATE_OFFSET_SLACK))
                    .date_naive()
                    .min(cap);
                ((last - first).num_days() + 1).clamp(0, 10_000) as u32
            }
        }
    }

    fn query(mode: Mode, step: u32, page: u32) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("status", "ALL".to_string()),
            ("fulfilment-method", "ALL".to_string()),
            ("page", page.to_string()),
        ];
        match mode {
            Mode::Interval(n) => q.push(("change-interval-minute", n.to_string())),
            Mode::Days(first) => q.push((
                "latest-change-date",
                (first + Duration::days(i64::from(step)))
                    .format("%Y-%m-%d")
                    .to_string(),
            )),
        }
        q
    }

    async fn list(&self, mode: Mode, step: u32, page: u32) -> Result<Vec<Value>, ConnectorError> {
        let query = Self::query(mode, step, page);
        match self
            .transport
            .get(Endpoint::List, "/retailer/orders", &query)
            .await?
        {
            Reply::Json(v) if v.is_object() => serde_json::from_value::<wire::ReducedOrders>(v)
                .map(|r| r.orders)
                .map_err(|_| ConnectorError::Protocol("order list is not ReducedOrders".into())),
            Reply::Json(_) => Err(ConnectorError::Protocol(
                "order list is not a JSON object".into(),
            )),
            Reply::NotFound => Err(ConnectorError::Protocol(
                "order list endpoint answered 404".into(),
            )),
        }
    }

    /// Picks the listed orders worth a detail call: changed at or after the window start,
    /// not yet returned by this walk, once each.
    fn select(
        &self,
        window: &SyncWindow,
        walk: u64,
        listed: Vec<Value>,
        failed: &mut Vec<FetchedOrder>,
    ) -> Vec<(String, Option<DateTime<Utc>>)> {
        let walks = self.walks.lock().expect("walk memory lock");
        let mut picks: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
        for raw in listed {
            let (id, placed, changed) =
                match serde_json::from_value::<wire::ReducedOrder>(raw.clone()) {
                    Ok(r) => {
                        let placed = r.order_placed_date_time.as_deref().and_then(parse_time);
                        let changed = latest_change(&r);
                        (r.order_id, placed, changed)
                    }
                    // The detail is authoritative; a listing we cannot read is still worth one.
                    Err(_) => match raw.get("orderId").and_then(Value::as_str) {
                        Some(id) => (id.to_owned(), None, None),
                        None => {
                            failed.push(FetchedOrder::Failed {
                                marketplace_order_id: String::new(),
                                error: "a listed order has no orderId".into(),
                            });
                            continue;
                        }
                    },
                };
            if changed.is_some_and(|c| c < window.from) {
                continue;
            }
            if walks.contains(walk, &id) || picks.iter().any(|(p, _)| *p == id) {
                continue;
            }
            picks.push((id, placed));
        }
        picks
    }

    /// One order's detail, normalized. Per-order problems become `Failed`; transient and
    /// auth errors fail the page so the sync loop retries the window.
    async fn detail(
        &self,
        id: &str,
        listed_placed_at: Option<DateTime<Utc>>,
    ) -> Result<FetchedOrder, ConnectorError> {
        let failed = |error: String| FetchedOrder::Failed {
            marketplace_order_id: loggable_id(id),
            error,
        };
        let Ok(number) = OrderNumber::parse(id) else {
            return Ok(failed("orderId is not a valid order number".into()));
        };
        let path = format!("/retailer/orders/{number}");
        let outcome = match self.transport.get(Endpoint::Detail, &path, &[]).await {
            Ok(Reply::Json(v)) => normalize::typed::<wire::Order>(v, "order")
                .and_then(|o| normalize::order_for(o, &number, listed_placed_at))
                .map_err(|e| e.0),
            Ok(Reply::NotFound) => Err("order detail not found (HTTP 404)".into()),
            Err(ConnectorError::Protocol(m)) => Err(m),
            Err(e) => return Err(e),
        };
        Ok(match outcome {
            Ok(order) => FetchedOrder::Ok(Box::new(order)),
            Err(error) => {
                tracing::warn!(order_id = %number, "bol order could not be normalized");
                failed(error)
            }
        })
    }
}

/// An id as it may appear in an error: the order-number alphabet only, bounded.
fn loggable_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect()
}

#[async_trait::async_trait]
impl Marketplace for BolClient {
    fn kind(&self) -> MarketplaceKind {
        MarketplaceKind::Bol
    }

    /// - `visibility_delay` 2 min: the interval filter runs on bol's clock and freshly
    ///   changed items can take a moment to be listed.
    /// - `overlap` 10 min: re-reads what a skipped page or clock skew might have hidden.
    /// - `max_window` 1 day: day walks are per calendar day anyway, and the cursor should
    ///   advance at least daily during a long catch-up.
    fn sync_hints(&self) -> SyncHints {
        SyncHints {
            visibility_delay: Duration::minutes(2),
            overlap: Duration::minutes(10),
            max_window: Duration::days(1),
        }
    }

    async fn fetch_page(
        &self,
        window: SyncWindow,
        page: Option<PageToken>,
    ) -> Result<OrderPage, ConnectorError> {
        if window.from > window.to {
            return Ok(OrderPage::default());
        }
        let mut cursor = match page {
            None => Cursor {
                walk: rand::random(),
                mode: self.plan(&window),
                step: 0,
                page: 1,
            },
            Some(t) => Cursor::decode(&t)
                .ok_or_else(|| ConnectorError::Rejected("not a bol page token".into()))?,
        };
        if let Mode::Interval(n) = cursor.mode {
            if self
                .minutes_needed(window.from)
                .is_none_or(|m| m > i64::from(n))
            {
                // The walk took so long that the window start slid out of the interval:
                // finish it as a day walk (same walk, so nothing is fetched twice).
                tracing::info!("bol interval walk outlived its interval, continuing by day");
                cursor = Cursor {
                    mode: self.day_plan(&window),
                    step: 0,
                    page: 1,
                    ..cursor
                };
            }
        }
        let steps = self.steps(cursor.mode, &window);
        loop {
            if cursor.step >= steps {
                return Ok(OrderPage::default());
            }
            let mut listed = self.list(cursor.mode, cursor.step, cursor.page).await?;
            let full = listed.len() >= PAGE_SIZE;
            if cursor.page > 1 {
                // Items that left the filter since the previous page pulled later orders
                // forward onto it: read it again so they are not skipped.
                listed.extend(self.list(cursor.mode, cursor.step, cursor.page - 1).await?);
            }
            let next = if full {
                Cursor {
                    page: cursor.page + 1,
                    ..cursor
                }
            } else {
                Cursor {
                    step: cursor.step + 1,
                    page: 1,
                    ..cursor
                }
            };
            let mut orders = Vec::new();
            let picks = self.select(&window, cursor.walk, listed, &mut orders);
            for (id, placed) in &picks {
                orders.push(self.detail(id, *placed).await?);
            }
            self.walks
                .lock()
                .expect("walk memory lock")
                .remember(cursor.walk, picks.into_iter().map(|(id, _)| id));
            let more = next.step < steps;
            if orders.is_empty() && more {
                cursor = next;
                continue;
            }
            let failed = orders
                .iter()
                .filter(|o| matches!(o, FetchedOrder::Failed { .. }))
                .count();
            tracing::info!(
                orders = orders.len(),
                failed,
                step = cursor.step,
                page = cursor.page,
                "bol page fetched"
            );
            return Ok(OrderPage {
                orders,
                next: more.then(|| next.encode()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        for mode in [
            Mode::Interval(17),
            Mode::Days(NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()),
        ] {
            let c = Cursor {
                walk: 0xdead_beef,
                mode,
                step: 2,
                page: 3,
            };
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        for bad in [
            "",
            "bol1",
            "bol1.zz.i1.0.1",
            "bol1.1.x.0.1",
            "bol1.1.i1.0.0",
            "x.1.i1.0.1",
        ] {
            assert_eq!(Cursor::decode(&PageToken(bad.into())), None, "{bad}");
        }
    }
}
