//! The order resource's call budget as eBay states it, so a sync goes exactly as fast as
//! the seller's quota allows and never past it.
//!
//! eBay reports each quota window of the order resource (`sell.fulfillment.order`) in the
//! Developer Analytics report (`getUserRateLimits`): its `limit`, what is `remaining` and
//! when it `reset`s. The client reads the report before its first call, then counts its
//! own calls against every window: a call goes out only while each window has one left;
//! when one is spent the client waits for its reset (a short wait) or hands the wait to
//! the sync worker (the daily quota). A window whose reset has passed is read again.
//!
//! - A report that lists the order resource without any rate: eBay states no limit (the
//!   sandbox started with `--no-rate-limits`), so calls are not paced at all.
//! - No report (an error, or the order resource missing from it): the fixed fallback
//!   pacing ([`super::Pacing`], one call a second, burst ten) until the report is tried
//!   again a few minutes later.
//!
//! The budget is shared by every client of one application in a process
//! ([`crate::quota::Quotas::ebay`]); several processes each count on their own, and eBay's
//! 429 (which makes the client read the report again) reconciles them.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use super::normalize::parse_timestamp;
use super::wire;

/// How long a client paces on the fallback before it asks for the report again.
const REPORT_RETRY: Duration = Duration::minutes(5);

/// One quota window of the order resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u64,
    pub remaining: u64,
    pub reset_at: DateTime<Utc>,
}

/// What the client knows about the order resource's quota.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Budget {
    /// Not read yet (or a window reset since): read the report before the next call.
    #[default]
    Unread,
    /// eBay states no limit for the resource: calls are not paced.
    Unlimited,
    /// The report could not be read: fixed fallback pacing until `retry_at`.
    Unavailable { retry_at: DateTime<Utc> },
    /// The windows eBay stated, counted down by each call.
    Windows(Vec<Window>),
}

/// What a caller must do before its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Call now (one call counted).
    Go,
    /// Call after the fallback pacing's wait.
    Fallback,
    /// Read the report first.
    Read,
    /// A window is spent: no call before it resets.
    WaitUntil(DateTime<Utc>),
}

impl Budget {
    /// The budget a report states for getOrders' resource at `now`.
    pub fn from_report(report: &wire::RateLimitsResponse, now: DateTime<Utc>) -> Self {
        let resources: Vec<&wire::RateLimitResource> = report
            .rate_limits
            .iter()
            .flat_map(|r| &r.resources)
            .filter(|r| is_order_resource(&r.name))
            .collect();
        if resources.is_empty() {
            return Self::Unavailable {
                retry_at: now + REPORT_RETRY,
            };
        }
        let windows: Vec<Window> = resources
            .iter()
            .flat_map(|r| &r.rates)
            .filter(|r| r.limit > 0)
            .map(|r| {
                let span = Duration::seconds(i64::try_from(r.time_window.max(1)).unwrap_or(1));
                let reset_at = r
                    .reset
                    .as_deref()
                    .and_then(parse_timestamp)
                    .filter(|t| *t > now)
                    .unwrap_or(now + span);
                Window {
                    limit: r.limit,
                    remaining: r.remaining.min(r.limit),
                    reset_at,
                }
            })
            .collect();
        if windows.is_empty() {
            Self::Unlimited
        } else {
            Self::Windows(windows)
        }
    }

    /// Decides the next call at `now`, counting it when it may go.
    pub fn take(&mut self, now: DateTime<Utc>) -> Step {
        match self {
            Self::Unread => Step::Read,
            Self::Unlimited => Step::Go,
            Self::Unavailable { retry_at } if now >= *retry_at => Step::Read,
            Self::Unavailable { .. } => Step::Fallback,
            Self::Windows(ws) => {
                if ws.iter().any(|w| now >= w.reset_at) {
                    return Step::Read;
                }
                if let Some(reset) = ws
                    .iter()
                    .filter(|w| w.remaining == 0)
                    .map(|w| w.reset_at)
                    .max()
                {
                    return Step::WaitUntil(reset);
                }
                for w in ws.iter_mut() {
                    w.remaining -= 1;
                }
                Step::Go
            }
        }
    }
}

/// getOrders and getOrder spend the `sell.fulfillment.order` resource.
fn is_order_resource(name: &str) -> bool {
    name.eq_ignore_ascii_case("sell.fulfillment.order") || name.eq_ignore_ascii_case("order")
}

/// An application's quota state, shared by its clients in this process.
#[derive(Debug, Default)]
pub struct QuotaState {
    /// While the daily quota is spent: when it resets (injected clock).
    pub blocked_until: Option<DateTime<Utc>>,
    /// The stated windows and what this process has spent of them.
    pub budget: Budget,
}

/// The quota state every client of one eBay application shares.
pub type SharedQuota = Arc<Mutex<QuotaState>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rates: Vec<wire::Rate>) -> wire::RateLimitsResponse {
        wire::RateLimitsResponse {
            rate_limits: vec![wire::RateLimit {
                api_name: Some("Fulfillment".into()),
                resources: vec![wire::RateLimitResource {
                    name: "sell.fulfillment.order".into(),
                    rates,
                }],
                ..Default::default()
            }],
        }
    }

    fn rate(limit: u64, remaining: u64, reset: DateTime<Utc>, window: u64) -> wire::Rate {
        wire::Rate {
            count: limit - remaining,
            limit,
            remaining,
            reset: Some(super::super::normalize::format_timestamp(reset)),
            time_window: window,
        }
    }

    #[test]
    fn counts_down_every_window_and_waits_for_the_spent_one() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let day_end = now + Duration::hours(5);
        let sec_end = now + Duration::seconds(1);
        let mut b = Budget::from_report(
            &report(vec![rate(100, 3, day_end, 86_400), rate(2, 2, sec_end, 1)]),
            now,
        );
        assert_eq!(b.take(now), Step::Go);
        assert_eq!(b.take(now), Step::Go);
        assert_eq!(
            b.take(now),
            Step::WaitUntil(sec_end),
            "the 1 s window is spent"
        );
        assert_eq!(b.take(sec_end), Step::Read, "a window reset: read again");
        let mut b = Budget::from_report(&report(vec![rate(100, 1, day_end, 86_400)]), now);
        assert_eq!(b.take(now), Step::Go);
        assert_eq!(b.take(now), Step::WaitUntil(day_end));
    }

    #[test]
    fn no_rate_is_unlimited_and_no_resource_is_the_fallback() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut b = Budget::from_report(&report(Vec::new()), now);
        assert_eq!(b, Budget::Unlimited);
        assert_eq!(b.take(now), Step::Go);
        let mut b = Budget::from_report(&wire::RateLimitsResponse::default(), now);
        assert_eq!(b.take(now), Step::Fallback);
        assert_eq!(b.take(now + REPORT_RETRY), Step::Read);
        assert_eq!(Budget::default().take(now), Step::Read);
    }
}
