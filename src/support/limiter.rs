//! Per-token rate limit for support lookups: a token bucket per token id on the injected
//! clock. It lives in the process, so with N `serve` processes behind a balancer a token
//! gets up to N times the limit; that still bounds enumeration, which is its job.

use std::collections::HashMap;
use std::sync::Mutex;

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// Token buckets keyed by API token id: `per_minute` lookups in a burst, refilled evenly
/// over a minute.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_ms: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let capacity = f64::from(per_minute.max(1));
        Self {
            capacity,
            per_ms: capacity / 60_000.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one lookup from `key`'s bucket at `now_ms`; when it is empty, returns the
    /// whole seconds until the next lookup is allowed (for `Retry-After`).
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (cap, rate) = (self.capacity, self.per_ms);
            buckets.retain(|_, b| b.tokens + (now_ms - b.last_ms).max(0) as f64 * rate < cap);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            last_ms: now_ms,
        });
        // A clock that steps back refills nothing (and takes nothing back).
        let elapsed = (now_ms - b.last_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * self.per_ms).min(self.capacity);
        b.last_ms = b.last_ms.max(now_ms);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - b.tokens) / self.per_ms;
            Err(((wait_ms / 1000.0).ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = RateLimiter::new(60);
        for _ in 0..60 {
            assert!(l.check("a", 0).is_ok());
        }
        assert_eq!(l.check("a", 0), Err(1));
        assert!(l.check("b", 0).is_ok(), "buckets are per token");
        assert_eq!(l.check("a", 500), Err(1));
        assert!(l.check("a", 1000).is_ok());
        assert!(l.check("a", 1000).is_err());
        // A minute later the bucket is full again, not fuller.
        for _ in 0..60 {
            assert!(l.check("a", 70_000).is_ok());
        }
        assert!(l.check("a", 70_000).is_err());
        // A clock step back does not refill.
        assert!(l.check("a", 10_000).is_err());
    }

    #[test]
    fn slow_rates_wait_longer() {
        let l = RateLimiter::new(1);
        assert!(l.check("a", 0).is_ok());
        assert_eq!(l.check("a", 0), Err(60));
        assert_eq!(l.check("a", 30_000), Err(30));
    }
}
