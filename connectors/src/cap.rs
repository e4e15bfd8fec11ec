//! A connection's own cap on how fast its client calls the marketplace.
//!
//! Clients pace themselves to what each API states (eBay's rate-limit report, Amazon's
//! usage plans and `x-amzn-RateLimit-Limit`, bol's `X-RateLimit-*`), which lets a sync go
//! as fast as the marketplace allows. A seller who shares an application's quota with
//! other tools, or an operator who wants a gentler first sync, caps one connection with
//! `max_requests_per_second`: its client then never sends more than that, on top of what
//! the API allows.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::amazon::pacing::{Pacer, Sleeper, UsagePlan};
use crate::clock::SharedClock;

/// The highest cap a connection may set: beyond it a cap means nothing on one host.
pub const MAX_RATE: f64 = 100_000.0;

/// Requests per second, finite and in `(0, MAX_RATE]` (checked by [`RequestRate::new`]
/// and on deserialization, so a stored setting is always a usable rate).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "f64", into = "f64")]
pub struct RequestRate(f64);

// A `RequestRate` is never NaN, so equality is total.
impl Eq for RequestRate {}

/// Why a cap was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("max_requests_per_second must be a number above 0 and at most {MAX_RATE}")]
pub struct InvalidRate;

impl RequestRate {
    pub fn new(per_second: f64) -> Result<Self, InvalidRate> {
        if per_second.is_finite() && per_second > 0.0 && per_second <= MAX_RATE {
            Ok(Self(per_second))
        } else {
            Err(InvalidRate)
        }
    }

    pub fn per_second(self) -> f64 {
        self.0
    }

    /// The pacer that holds a client to this rate: a bucket of one request (no burst
    /// above the cap) refilling at the rate, on the injected clock.
    pub fn pacer(self, clock: SharedClock, sleeper: Arc<dyn Sleeper>) -> Arc<Pacer> {
        Arc::new(Pacer::new(
            UsagePlan {
                rate: self.0,
                burst: 1,
            },
            clock,
            sleeper,
        ))
    }
}

impl TryFrom<f64> for RequestRate {
    type Error = InvalidRate;
    fn try_from(v: f64) -> Result<Self, InvalidRate> {
        Self::new(v)
    }
}

impl From<RequestRate> for f64 {
    fn from(r: RequestRate) -> f64 {
        r.0
    }
}

impl std::str::FromStr for RequestRate {
    type Err = InvalidRate;
    fn from_str(s: &str) -> Result<Self, InvalidRate> {
        Self::new(s.trim().parse().map_err(|_| InvalidRate)?)
    }
}

impl std::fmt::Display for RequestRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_finite_rates_are_caps() {
        assert_eq!(RequestRate::new(2.5).unwrap().per_second(), 2.5);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_RATE * 2.0] {
            assert!(RequestRate::new(bad).is_err(), "{bad}");
        }
        assert!("abc".parse::<RequestRate>().is_err());
        assert!(serde_json::from_str::<RequestRate>("0").is_err());
        let r: RequestRate = serde_json::from_str("12").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "12.0");
    }
}
