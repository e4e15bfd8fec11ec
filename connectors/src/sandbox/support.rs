//! Pieces every sandbox marketplace shares: issued access tokens with expiry and
//! revocation, token-bucket rate limits, seeded fault injection and the server loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::clock::SharedClock;

/// Access tokens a sandbox has issued, checked against the injected clock.
#[derive(Debug)]
pub struct TokenRegistry {
    clock: SharedClock,
    tokens: Mutex<HashMap<String, DateTime<Utc>>>,
    issued: AtomicU64,
    revoked: AtomicBool,
    rng: Mutex<StdRng>,
}

/// What a presented access token turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    Expired,
    Unknown,
}

impl TokenRegistry {
    pub fn new(clock: SharedClock, seed: u64) -> Self {
        Self {
            clock,
            tokens: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
            revoked: AtomicBool::new(false),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x7f4a_7c15)),
        }
    }

    /// Issues a fresh token that lives `lifetime`, with the marketplace's prefix.
    pub fn issue(&self, prefix: &str, lifetime: Duration) -> String {
        self.issued.fetch_add(1, Ordering::Relaxed);
        let n: u128 = self.rng.lock().unwrap().gen();
        let token = format!("{prefix}{n:032x}");
        self.tokens
            .lock()
            .unwrap()
            .insert(token.clone(), self.clock.now() + lifetime);
        token
    }

    pub fn check(&self, token: &str) -> TokenCheck {
        match self.tokens.lock().unwrap().get(token) {
            None => TokenCheck::Unknown,
            Some(exp) if *exp <= self.clock.now() => TokenCheck::Expired,
            Some(_) => TokenCheck::Valid,
        }
    }

    /// Makes every issued token expired now.
    pub fn expire_all(&self) {
        let now = self.clock.now();
        for exp in self.tokens.lock().unwrap().values_mut() {
            *exp = now;
        }
    }

    /// After this, the credential is refused and existing tokens stop working.
    pub fn revoke(&self) {
        self.revoked.store(true, Ordering::SeqCst);
        self.tokens.lock().unwrap().clear();
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked.load(Ordering::SeqCst)
    }

    /// How many tokens were issued (a client that caches well asks rarely).
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }
}

/// A token bucket on the injected clock: `rate` requests per second refill, `burst` max.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, DateTime<Utc>)>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32, now: DateTime<Utc>) -> Self {
        Self {
            rate,
            burst: f64::from(burst),
            state: Mutex::new((f64::from(burst), now)),
        }
    }

    /// Takes one request's worth; on refusal says how long until one is available.
    pub fn try_take(&self, now: DateTime<Utc>) -> Result<(), std::time::Duration> {
        let mut s = self.state.lock().unwrap();
        let elapsed = (now - s.1).num_milliseconds().max(0) as f64 / 1000.0;
        s.0 = (s.0 + elapsed * self.rate).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else {
            let secs = (1.0 - s.0) / self.rate.max(f64::MIN_POSITIVE);
            Err(std::time::Duration::from_secs_f64(secs.min(86_400.0)))
        }
    }

    /// Requests left right now (for `X-RateLimit-Remaining`-style headers).
    pub fn remaining(&self) -> u32 {
        self.state.lock().unwrap().0 as u32
    }
}

/// The injected fault a request gets, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A 500/503 with the marketplace's error body.
    ServerError,
    /// A 502 with an HTML body, as a load balancer sends.
    Html,
    /// A 429 outside the normal rate limit.
    Throttle,
}

/// Decides, deterministically from the seed, which requests fail.
#[derive(Debug)]
pub struct FaultInjector {
    rate: f64,
    rng: Mutex<StdRng>,
}

impl FaultInjector {
    pub fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate: rate.clamp(0.0, 1.0),
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed_fa17)),
        }
    }

    pub fn next(&self) -> Option<Fault> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().unwrap();
        if !rng.gen_bool(self.rate) {
            return None;
        }
        Some(match rng.gen_range(0..3) {
            0 => Fault::ServerError,
            1 => Fault::Html,
            _ => Fault::Throttle,
        })
    }
}

/// The HTML page a load balancer returns on a 502.
pub const HTML_502: &str = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>";

/// Binds 127.0.0.1:`port` and serves `router` until the returned sender fires or drops.
pub async fn serve(
    router: axum::Router,
    port: u16,
) -> std::io::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok((addr, tx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;

    #[test]
    fn tokens_expire_on_the_injected_clock_and_revocation_kills_them() {
        let clock = ManualClock::new(Utc::now());
        let reg = TokenRegistry::new(Arc::new(clock.clone()), 1);
        let t = reg.issue("tok-", Duration::seconds(299));
        assert_eq!(reg.check(&t), TokenCheck::Valid);
        clock.advance(Duration::seconds(300));
        assert_eq!(reg.check(&t), TokenCheck::Expired);
        let t2 = reg.issue("tok-", Duration::seconds(299));
        reg.revoke();
        assert_eq!(reg.check(&t2), TokenCheck::Unknown);
        assert!(reg.is_revoked());
        assert_eq!(reg.issued(), 2);
    }

    #[test]
    fn bucket_refills_at_its_rate() {
        let t0 = Utc::now();
        let b = TokenBucket::new(0.5, 2, t0);
        assert!(b.try_take(t0).is_ok());
        assert!(b.try_take(t0).is_ok());
        let wait = b.try_take(t0).unwrap_err();
        assert_eq!(wait.as_secs(), 2);
        assert!(b.try_take(t0 + Duration::seconds(2)).is_ok());
    }
}
