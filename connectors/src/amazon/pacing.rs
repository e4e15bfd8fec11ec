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
    plan: UsagePlan,
    clock: SharedClock,
    sleeper: Arc<dyn Sleeper>,
    /// Tokens left and when they were counted.
    state: Mutex<(f64, DateTime<Utc>)>,
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer").field("plan", &self.plan).finish()
    }
}

impl Pacer {
    /// A pacer that starts with a full burst, as Amazon's bucket does for a quiet seller.
    pub fn new(plan: UsagePlan, clock: SharedClock, sleeper: Arc<dyn Sleeper>) -> Self {
        let now = clock.now();
        Self {
            plan,
            clock,
            sleeper,
            state: Mutex::new((f64::from(plan.burst), now)),
        }
    }

    pub fn plan(&self) -> UsagePlan {
        self.plan
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
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = (now - s.1).num_milliseconds().max(0) as f64 / 1000.0;
        s.0 = (s.0 + elapsed * self.plan.rate).min(f64::from(self.plan.burst));
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            None
        } else {
            // Round up to whole milliseconds plus one: the server's bucket counts in
            // milliseconds too, and arriving a hair early is a 429.
            let secs = (1.0 - s.0) / self.plan.rate.max(1e-6);
            Some(Duration::from_millis((secs * 1000.0).ceil() as u64 + 1))
        }
    }

    /// The server said 429: its bucket is empty whatever ours says (other apps share it).
    pub fn drain(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = 0.0;
        s.1 = self.clock.now();
    }
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
        assert!((clock.now() - before).num_milliseconds() >= 2_000);
    }
}
