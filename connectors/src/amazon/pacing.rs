//! Client-side pacing per SP-API operation, on the injected clock.
//!
//! Amazon meters every operation with its own token bucket (getOrders refills one request
//! a minute). The client keeps a mirror of each bucket and waits before a call would be
//! throttled, so 429s only happen when someone else (another app of the same seller)
//! spends the shared bucket. Waiting goes through a [`Sleeper`], so tests can replace
//! real sleeping by moving a [`ManualClock`] or [`OffsetClock`]: an hour of Amazon's
//! pacing then takes milliseconds.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::{ManualClock, OffsetClock, SharedClock};

/// Waits for a while. The production sleeper sleeps; test sleepers move a clock.
#[async_trait::async_trait]
pub trait Sleeper: Send + Sync + fmt::Debug {
    async fn sleep(&self, duration: Duration);
}

/// Real sleeping with `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

#[async_trait::async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Virtual time for tests and demos: "sleeping" advances the clock the client and the
/// sandbox share, then yields so the sandbox can run.
#[derive(Debug, Clone)]
pub enum ClockSleeper {
    Manual(ManualClock),
    Offset(OffsetClock),
}

#[async_trait::async_trait]
impl Sleeper for ClockSleeper {
    async fn sleep(&self, duration: Duration) {
        let by = chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::zero());
        match self {
            Self::Manual(c) => c.advance(by),
            Self::Offset(c) => c.advance(by),
        }
        tokio::task::yield_now().await;
    }
}

/// An operation's documented usage plan: sustained requests per second and burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePlan {
    pub rate: f64,
    pub burst: u32,
}

impl UsagePlan {
    /// The time one request's worth of the bucket takes to refill: how long to back off
    /// after a 429, which carries no `Retry-After`.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate.max(1e-6))
    }
}

/// A local mirror of one operation's token bucket.
pub struct Pacer {
    clock: SharedClock,
    sleeper: Arc<dyn Sleeper>,
    state: Mutex<Bucket>,
}

struct Bucket {
    /// The plan in force: the documented default, then what Amazon announces.
    plan: UsagePlan,
    /// The rate Amazon last announced (or one remembered from an earlier process).
    announced: Option<f64>,
    /// Tokens left (negative while a Retry-After holds calls back) and when counted.
    tokens: f64,
    at: DateTime<Utc>,
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer").field("plan", &self.plan()).finish()
    }
}

impl Pacer {
    /// A pacer that starts with a full burst, as Amazon's bucket does for a quiet seller.
    pub fn new(plan: UsagePlan, clock: SharedClock, sleeper: Arc<dyn Sleeper>) -> Self {
        let now = clock.now();
        Self {
            clock,
            sleeper,
            state: Mutex::new(Bucket {
                plan,
                announced: None,
                tokens: f64::from(plan.burst),
                at: now,
            }),
        }
    }

    /// The plan currently in force.
    pub fn plan(&self) -> UsagePlan {
        self.lock().plan
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Amazon's `x-amzn-RateLimit-Limit` told the rate it applies to this seller and
    /// app (larger plans are granted on request): refill at that rate from now on.
    pub fn observe_rate(&self, rate: f64) {
        self.set_rate(rate, true);
    }

    /// Paces at `rate`, remembered from an earlier process, unless this bucket has heard
    /// an announcement of its own (which is fresher).
    pub fn remember(&self, rate: f64) {
        self.set_rate(rate, false);
    }

    fn set_rate(&self, rate: f64, fresh: bool) {
        if !(rate.is_finite() && rate > 0.0) {
            return;
        }
        let now = self.clock.now();
        let mut b = self.lock();
        if !fresh && b.announced.is_some() {
            return;
        }
        b.announced = Some(rate);
        if (b.plan.rate - rate).abs() > f64::EPSILON {
            refill(&mut b, now);
            tracing::info!(
                from = b.plan.rate,
                to = rate,
                "pacing to the rate the marketplace announced"
            );
            b.plan.rate = rate;
        }
    }

    /// The rate Amazon last announced for this bucket, if any.
    pub fn announced(&self) -> Option<f64> {
        self.lock().announced
    }

    /// Takes a token, first waiting (on the injected clock) until one has refilled.
    pub async fn acquire(&self) {
        loop {
            let wait = self.try_take();
            match wait {
                None => return,
                Some(d) => self.sleeper.sleep(d).await,
            }
        }
    }

    fn try_take(&self) -> Option<Duration> {
        let now = self.clock.now();
        let mut b = self.lock();
        refill(&mut b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            None
        } else {
            // Round up to whole milliseconds plus one: the server's bucket counts in
            // milliseconds too, and arriving a hair early is a 429.
            let secs = (1.0 - b.tokens) / b.plan.rate.max(1e-6);
            Some(Duration::from_millis((secs * 1000.0).ceil() as u64 + 1))
        }
    }

    /// The server said 429: its bucket is empty whatever ours says (other apps share it).
    pub fn drain(&self) {
        self.throttled(None);
    }

    /// The server said 429. The next call waits exactly `retry_after` when the server
    /// gave one, else one refill interval: a 429 costs at most the wait asked for, and
    /// then the bucket refills at the advertised rate.
    pub fn throttled(&self, retry_after: Option<Duration>) {
        let now = self.clock.now();
        let mut b = self.lock();
        b.at = now;
        b.tokens = match retry_after {
            Some(ra) => 1.0 - ra.as_secs_f64() * b.plan.rate,
            None => 0.0,
        };
    }
}

fn refill(b: &mut Bucket, now: DateTime<Utc>) {
    let elapsed = (now - b.at).num_milliseconds().max(0) as f64 / 1000.0;
    b.tokens = (b.tokens + elapsed * b.plan.rate).min(f64::from(b.plan.burst));
    b.at = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[tokio::test]
    async fn paces_to_the_plan_on_virtual_time() {
        let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        let pacer = Pacer::new(
            UsagePlan {
                rate: 0.5,
                burst: 3,
            },
            Arc::new(clock.clone()),
            Arc::new(ClockSleeper::Manual(clock.clone())),
        );
        for _ in 0..3 {
            pacer.acquire().await;
        }
        assert_eq!(clock.now(), start, "the burst costs no time");
        for _ in 0..4 {
            pacer.acquire().await;
        }
        let waited = (clock.now() - start).num_milliseconds();
        assert!((8_000..8_100).contains(&waited), "{waited} ms");
        pacer.drain();
        let before = clock.now();
        pacer.acquire().await;
        let waited = (clock.now() - before).num_milliseconds();
        assert!((2_000..2_010).contains(&waited), "one refill, {waited} ms");

        pacer.throttled(Some(Duration::from_secs(7)));
        let before = clock.now();
        pacer.acquire().await;
        let waited = (clock.now() - before).num_milliseconds();
        assert!((7_000..7_010).contains(&waited), "Retry-After, {waited} ms");

        pacer.observe_rate(2.0);
        assert_eq!(pacer.plan().rate, 2.0);
        pacer.drain();
        let before = clock.now();
        pacer.acquire().await;
        let waited = (clock.now() - before).num_milliseconds();
        assert!((500..510).contains(&waited), "announced rate, {waited} ms");
    }

    /// A remembered rate applies until Amazon announces one; it never overrides an
    /// announcement this bucket has heard.
    #[test]
    fn a_remembered_rate_yields_to_an_announced_one() {
        let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        let plan = UsagePlan {
            rate: 0.0056,
            burst: 20,
        };
        let pacer = Pacer::new(
            plan,
            Arc::new(clock.clone()),
            Arc::new(ClockSleeper::Manual(clock.clone())),
        );
        assert_eq!(pacer.announced(), None);
        pacer.remember(2.0);
        assert_eq!(pacer.plan().rate, 2.0);
        pacer.observe_rate(0.5);
        assert_eq!(pacer.plan().rate, 0.5);
        pacer.remember(2.0);
        assert_eq!(pacer.plan().rate, 0.5, "the announcement is fresher");
        assert_eq!(pacer.announced(), Some(0.5));
        pacer.remember(f64::NAN);
        assert_eq!(pacer.plan().rate, 0.5);
    }
}
