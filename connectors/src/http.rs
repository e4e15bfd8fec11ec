//! Client plumbing every marketplace connector shares: a cached access token that is
//! fetched once and refreshed on expiry, and a retry policy with capped exponential
//! backoff that honours `Retry-After`.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use crate::clock::SharedClock;
use crate::marketplace::ConnectorError;

/// An access token and when it stops working. Debug never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    pub value: Zeroizing<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Holds the current access token. Concurrent callers share one fetch (marketplaces
/// block clients that ask for too many tokens); the token is replaced a margin before it
/// expires, or at once after the API said it expired.
#[derive(Debug)]
pub struct TokenCache {
    clock: SharedClock,
    margin: chrono::Duration,
    current: Mutex<Option<AccessToken>>,
}

impl TokenCache {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            margin: chrono::Duration::seconds(30),
            current: Mutex::new(None),
        }
    }

    /// The cached token, or a new one from `fetch` if none is valid for the margin.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken, ConnectorError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, ConnectorError>>,
    {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref() {
            if t.expires_at - self.margin > self.clock.now() {
                return Ok(t.clone());
            }
        }
        let fresh = fetch().await?;
        *guard = Some(fresh.clone());
        Ok(fresh)
    }

    /// Drops `token` if it is still the cached one (the API rejected it as expired).
    pub async fn invalidate(&self, token: &AccessToken) {
        let mut guard = self.current.lock().await;
        if guard.as_ref().map(|t| &*t.value) == Some(&*token.value) {
            *guard = None;
        }
    }
}

/// How often and how patiently to retry throttled or failed calls.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            max_attempts: 6,
        }
    }
}

impl RetryPolicy {
    /// Millisecond backoffs, for tests against sandboxes.
    pub fn fast() -> Self {
        Self {
            base: Duration::from_millis(1),
            max: Duration::from_millis(20),
            max_attempts: 8,
        }
    }

    /// Delay before attempt `attempt` (1-based retry count), capped, with the server's
    /// `Retry-After` winning when it is longer.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let backoff = exp.min(self.max);
        match retry_after {
            Some(ra) => ra
                .min(self.max.max(ra.min(Duration::from_secs(300))))
                .max(backoff),
            None => backoff,
        }
    }
}

/// Reads a `Retry-After` header given in seconds.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A reqwest client with the timeouts every connector wants.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("ordervault/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("static reqwest configuration is valid")
}

/// Describes a reqwest failure without its URL (query strings can carry ids) for errors.
pub fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "request timed out".into()
    } else if err.is_connect() {
        "connection failed".into()
    } else if err.is_decode() || err.is_body() {
        "response body could not be read".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn token_cache_fetches_once_until_expiry() {
        let clock = ManualClock::new(Utc::now());
        let cache = TokenCache::new(Arc::new(clock.clone()));
        let calls = AtomicU32::new(0);
        let fetch = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(AccessToken {
                value: Zeroizing::new(format!("t{}", calls.load(Ordering::SeqCst))),
                expires_at: crate::clock::Clock::now(&clock) + chrono::Duration::seconds(299),
            })
        };
        let a = cache.get(fetch).await.unwrap();
        let b = cache.get(fetch).await.unwrap();
        assert_eq!(*a.value, *b.value);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        clock.advance(chrono::Duration::seconds(280));
        let c = cache.get(fetch).await.unwrap();
        assert_ne!(*a.value, *c.value, "refreshed inside the margin");
        cache.invalidate(&c).await;
        cache.get(fetch).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn backoff_grows_caps_and_respects_retry_after() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None), Duration::from_millis(500));
        assert_eq!(p.delay(3, None), Duration::from_secs(2));
        assert_eq!(p.delay(20, None), Duration::from_secs(60));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(4))),
            Duration::from_secs(4)
        );
    }
}
