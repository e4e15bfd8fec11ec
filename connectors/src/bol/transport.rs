//! One authenticated GET against the bol API, with everything around it: the cached
//! client-credentials token, pacing on the `X-RateLimit-*` headers, retries with backoff,
//! and the mapping of bol's answers onto [`ConnectorError`].
//!
//! Waits that the server measures (Retry-After, rate-limit resets) run on the injected
//! clock, capped by the retry policy's `max` in real time: production waits out the real
//! server's clock, while a test with a `ManualClock` moves that clock and never hangs.
//! Never logs a token, the secret, a URL with query values, or a response body.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::wire::{self, MEDIA_TYPE};
use super::{BolConfig, BolCredentials};
use crate::clock::SharedClock;
use crate::http::{self, AccessToken, RetryPolicy, TokenCache};
use crate::marketplace::ConnectorError;

/// bol limits per endpoint; the client paces each one on its own headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    List,
    Detail,
    /// `POST /retailer/shipments`, `PUT /retailer/orders/cancellation`.
    Push,
    /// `GET /shared/process-status/{id}`.
    ProcessStatus,
}

/// What a successful exchange gave back.
#[derive(Debug)]
pub(crate) enum Reply {
    Json(Value),
    NotFound,
}

/// Last rate-limit state a response reported for one endpoint.
#[derive(Debug, Clone, Copy)]
struct RateState {
    remaining: u64,
    reset_at: DateTime<Utc>,
}

/// What bol's rate limits reset after when a response does not say (`X-RateLimit-Reset: 1`
/// in every captured response: per-second windows).
const DEFAULT_RESET: Duration = Duration::from_secs(1);
/// Token lifetime to assume if the token response lacks `expires_in` (bol sends 299).
const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 299;

pub(crate) struct Transport {
    http: reqwest::Client,
    config: BolConfig,
    credentials: BolCredentials,
    clock: SharedClock,
    policy: RetryPolicy,
    tokens: TokenCache,
    pacing: Mutex<HashMap<Endpoint, RateState>>,
    /// The connection's own cap on requests per second (`crate::cap`), if set.
    cap: Option<std::sync::Arc<crate::amazon::pacing::Pacer>>,
}

impl Transport {
    pub(crate) fn new(
        config: BolConfig,
        credentials: BolCredentials,
        clock: SharedClock,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            http: http::client(),
            config,
            credentials,
            tokens: TokenCache::new(clock.clone()),
            clock,
            policy,
            pacing: Mutex::new(HashMap::new()),
            cap: None,
        }
    }

    pub(crate) fn set_cap(&mut self, cap: std::sync::Arc<crate::amazon::pacing::Pacer>) {
        self.cap = Some(cap);
    }

    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Requests a client-credentials token (Basic auth, `grant_type` in the query as bol
    /// documents it). A refused credential means the seller must act: `NeedsReauth`.
    async fn fetch_token(&self) -> Result<AccessToken, ConnectorError> {
        let resp = self
            .http
            .post(&self.config.token_url)
            .query(&[("grant_type", "client_credentials")])
            .basic_auth(
                &self.credentials.client_id,
                Some(&self.credentials.client_secret),
            )
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| ConnectorError::Unavailable(format!("token: {}", http::describe(&e))))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body =
            Zeroizing::new(resp.text().await.map_err(|e| {
                ConnectorError::Unavailable(format!("token: {}", http::describe(&e)))
            })?);
        tracing::debug!(status = status.as_u16(), "bol token response");
        match status {
            s if s.is_success() => {
                let t: wire::TokenResponse = serde_json::from_str(&body).map_err(|_| {
                    ConnectorError::Protocol("token response is not the expected JSON".into())
                })?;
                let lifetime = t
                    .expires_in
                    .filter(|s| *s > 0)
                    .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS);
                Ok(AccessToken {
                    value: Zeroizing::new(t.access_token),
                    expires_at: self.clock.now() + chrono::Duration::seconds(lifetime),
                })
            }
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let e: wire::OAuthError = serde_json::from_str(&body).unwrap_or_default();
                let code = e
                    .error
                    .filter(|c| {
                        c.len() <= 40 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    })
                    .unwrap_or_else(|| "unauthorized".into());
                Err(ConnectorError::NeedsReauth {
                    reason: format!("bol token endpoint refused the client credentials ({code})"),
                })
            }
            StatusCode::TOO_MANY_REQUESTS => Err(ConnectorError::RateLimited {
                retry_after: http::retry_after(&headers),
            }),
            s => Err(ConnectorError::Unavailable(format!(
                "token endpoint answered HTTP {}",
                s.as_u16()
            ))),
        }
    }

    async fn token(&self) -> Result<AccessToken, ConnectorError> {
        self.tokens.get(|| self.fetch_token()).await
    }

    /// Waits on the injected clock until `deadline`, but never longer than the policy's
    /// `max` in real time.
    async fn wait_until(&self, deadline: DateTime<Utc>) {
        let started = Instant::now();
        loop {
            let now = self.clock.now();
            let elapsed = started.elapsed();
            if now >= deadline || elapsed >= self.policy.max {
                return;
            }
            let left = (deadline - now).to_std().unwrap_or_default();
            let step = left
                .min(Duration::from_millis(5))
                .min(self.policy.max - elapsed)
                .max(Duration::from_millis(1));
            tokio::time::sleep(step).await;
        }
    }

    /// Holds back a call while the endpoint's last response said its budget is spent.
    async fn pace(&self, endpoint: Endpoint) {
        let state = self.pacing.lock().await.get(&endpoint).copied();
        if let Some(s) = state {
            if s.remaining == 0 && s.reset_at > self.clock.now() {
                tracing::debug!(?endpoint, "bol rate budget spent, pacing");
                self.wait_until(s.reset_at).await;
            }
        }
    }

    /// Reads `X-RateLimit-Reset` as seconds; values that look like epoch seconds (an older
    /// fixture shows one) are turned into a delay, anything absurd falls back to 1 s.
    fn reset_delay(&self, headers: &HeaderMap) -> Option<Duration> {
        let raw: u64 = headers
            .get("x-ratelimit-reset")?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let secs = if raw > 1_000_000_000 {
            (raw as i64 - self.clock.now().timestamp()).max(1) as u64
        } else {
            raw
        };
        Some(Duration::from_secs(secs.clamp(1, 3600)))
    }

    async fn record_rate(&self, endpoint: Endpoint, headers: &HeaderMap) {
        let remaining = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(remaining) = remaining {
            let reset = self.reset_delay(headers).unwrap_or(DEFAULT_RESET);
            let reset_at = self.clock.now()
                + chrono::Duration::from_std(reset).unwrap_or(chrono::Duration::seconds(1));
            self.pacing.lock().await.insert(
                endpoint,
                RateState {
                    remaining,
                    reset_at,
                },
            );
        }
    }

    /// GETs `path` (under the API base) with bearer auth and the v10 media type, retrying
    /// what is worth retrying. 404 is an answer, not an error: the caller decides.
    pub(crate) async fn get(
        &self,
        endpoint: Endpoint,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Reply, ConnectorError> {
        let url = format!("{}{}", self.config.api_base, path);
        let mut refreshed = false;
        let mut last = ConnectorError::Unavailable("no attempt made".into());
        let mut attempt = 0u32;
        while attempt < self.policy.max_attempts.max(1) {
            attempt += 1;
            if attempt > 1 {
                tokio::time::sleep(self.policy.delay(attempt - 1, None)).await;
            }
            self.pace(endpoint).await;
            if let Some(cap) = &self.cap {
                cap.acquire().await;
            }
            let token = match self.token().await {
                Ok(t) => t,
                Err(e @ (ConnectorError::Unavailable(_) | ConnectorError::RateLimited { .. })) => {
                    last = e;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let sent = self
                .http
                .get(&url)
                .query(query)
                .bearer_auth(&*token.value)
                .header(ACCEPT, MEDIA_TYPE)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(?endpoint, attempt, "bol request failed");
                    last = ConnectorError::Unavailable(http::describe(&e));
                    continue;
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            self.record_rate(endpoint, &headers).await;
            let body = match resp.text().await {
                Ok(b) => b,
                Err(e) => {
                    last = ConnectorError::Unavailable(http::describe(&e));
                    continue;
                }
            };
            let html = looks_like_html(&headers, &body);
            tracing::debug!(?endpoint, status = status.as_u16(), attempt, "bol response");
            match status {
                s if s.is_success() => {
                    if html {
                        last = ConnectorError::Unavailable("HTML body instead of JSON".into());
                        continue;
                    }
                    return serde_json::from_str(&body).map(Reply::Json).map_err(|_| {
                        ConnectorError::Protocol(format!(
                            "HTTP {} body is not valid JSON",
                            s.as_u16()
                        ))
                    });
                }
                StatusCode::NOT_FOUND if !html => return Ok(Reply::NotFound),
                StatusCode::UNAUTHORIZED => {
                    // "Expired JWT" (or a token the API no longer knows): refresh once.
                    self.tokens.invalidate(&token).await;
                    if refreshed {
                        return Err(ConnectorError::NeedsReauth {
                            reason: "bol rejected a freshly issued access token".into(),
                        });
                    }
                    refreshed = true;
                    attempt -= 1; // the refresh is not a failed attempt
                }
                StatusCode::FORBIDDEN => {
                    return Err(ConnectorError::NeedsReauth {
                        reason: format!("bol denied access: {}", problem_summary(&body)),
                    })
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = http::retry_after(&headers)
                        .or_else(|| self.reset_delay(&headers))
                        .unwrap_or(DEFAULT_RESET);
                    tracing::debug!(
                        ?endpoint,
                        wait_ms = wait.as_millis() as u64,
                        "bol throttled"
                    );
                    let deadline = self.clock.now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1));
                    self.wait_until(deadline).await;
                    let now = self.clock.now();
                    if now < deadline {
                        // Out of patience before bol's wait is over: never retry early
                        // (bol watches clients that hammer); the worker comes back then.
                        return Err(ConnectorError::RateLimited {
                            retry_after: (deadline - now).to_std().ok(),
                        });
                    }
                    last = ConnectorError::RateLimited {
                        retry_after: Some(wait),
                    };
                }
                s if s.is_server_error() || html => {
                    last = ConnectorError::Unavailable(format!("HTTP {}", s.as_u16()));
                }
                s => {
                    return Err(ConnectorError::Rejected(format!(
                        "HTTP {}: {}",
                        s.as_u16(),
                        problem_summary(&body)
                    )))
                }
            }
        }
        Err(last)
    }
}

/// What one push exchange answered: status, headers and the body text.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Transport {
    /// One call with an optional JSON body (shipments, cancellations, process status):
    /// paced on `endpoint`'s rate-limit headers, an expired token refreshed once. No
    /// retries: the service's outbox owns those and repeats with the same request.
    pub(crate) async fn exchange(
        &self,
        endpoint: Endpoint,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let url = format!("{}{}", self.config.api_base, path);
        let mut refreshed = false;
        loop {
            self.pace(endpoint).await;
            let token = self.token().await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(&*token.value)
                .header(ACCEPT, MEDIA_TYPE);
            if let Some(b) = body {
                req = req.header(CONTENT_TYPE, MEDIA_TYPE).body(b.to_string());
            }
            let resp = req
                .send()
                .await
                .map_err(|e| ConnectorError::Unavailable(http::describe(&e)))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            self.record_rate(endpoint, &headers).await;
            let body = resp
                .text()
                .await
                .map_err(|e| ConnectorError::Unavailable(http::describe(&e)))?;
            tracing::debug!(?endpoint, status = status.as_u16(), "bol push response");
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                self.tokens.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            return Ok(Answer {
                status,
                headers,
                body,
            });
        }
    }

    /// How long a 429 asks to wait: `Retry-After`, else the rate-limit reset.
    pub(crate) fn throttle_wait(&self, headers: &HeaderMap) -> Duration {
        http::retry_after(headers)
            .or_else(|| self.reset_delay(headers))
            .unwrap_or(DEFAULT_RESET)
    }
}

pub(crate) fn looks_like_html(headers: &HeaderMap, body: &str) -> bool {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    ct.contains("text/html") || body.trim_start().starts_with('<')
}

/// A Problem's `title` and violation names: never `detail` or `reason`, which may echo
/// request values.
pub(crate) fn problem_summary(body: &str) -> String {
    let p: wire::Problem = serde_json::from_str(body).unwrap_or_default();
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || " -_.:".contains(*c))
            .take(80)
            .collect()
    };
    let mut out = p
        .title
        .as_deref()
        .map(clean)
        .unwrap_or_else(|| "no problem title".into());
    let names: Vec<String> = p
        .violations
        .iter()
        .filter_map(|v| v.name.as_deref().map(clean))
        .collect();
    if !names.is_empty() {
        out.push_str(&format!(" (violations: {})", names.join(", ")));
    }
    out
}
