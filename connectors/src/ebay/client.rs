//! The eBay client: token refresh, getOrders paging, retries, quota handling, pacing.
//!
//! Failure handling, by answer:
//! - 401 (errorId 1001, expired or unknown token): drop the cached token, refresh, retry
//!   once; a second 401 means the grant is gone → `NeedsReauth`.
//! - token endpoint `invalid_grant` / `invalid_client` / `invalid_scope` → `NeedsReauth`.
//! - 429 (errorId 2001): eBay sends no `Retry-After` and its quota is daily, so the client
//!   asks the Developer Analytics API when the quota resets. A reset beyond the retry
//!   policy's patience returns `RateLimited { retry_after: until reset }` at once (and
//!   later calls fail fast until then, spending no calls); a short throttle is retried.
//! - 5xx, HTML bodies, timeouts, connection failures: retried with backoff, then
//!   `Unavailable`. Unreadable JSON on a success → `Protocol`. Other 4xx → `Rejected`.
//!
//! Paging: offset/limit over eBay's live result set. The page token carries the next
//! offset and the `total` last seen; when `total` shrinks between pages (orders modified
//! during the walk left the window, shifting later orders towards the front), the next
//! offset steps back by the shrinkage so no order is skipped. Re-reads are harmless
//! (upserts are idempotent); skips would not be.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use tracing::{debug, warn};
use zeroize::Zeroizing;

use super::budget::{Budget, SharedQuota, Step};
use super::normalize::{format_timestamp, normalize_raw, parse_timestamp};
use super::{wire, EbayConfig, EbayCredentials, MAX_PAGE_SIZE};
use crate::amazon::pacing::{Pacer, Sleeper, TokioSleeper, UsagePlan};
use crate::clock::SharedClock;
use crate::http::{self, AccessToken, RetryPolicy, TokenCache};
use crate::marketplace::{
    ConnectorError, FetchedOrder, Marketplace, OrderPage, PageToken, SyncHints, SyncWindow,
};
use crate::model::MarketplaceKind;

/// getOrders, relative to the API root.
pub const ORDERS_PATH: &str = "/sell/fulfillment/v1/order";
/// getUserRateLimits, relative to the API root.
pub const USER_RATE_LIMIT_PATH: &str = "/developer/analytics/v1_beta/user_rate_limit/";

/// An eBay client bound to one seller's connection.
pub struct EbayClient {
    config: EbayConfig,
    credentials: EbayCredentials,
    clock: SharedClock,
    retry: RetryPolicy,
    http: reqwest::Client,
    tokens: TokenCache,
    /// How waits are spent: real sleeping, or moving a test clock.
    sleeper: Arc<dyn Sleeper>,
    /// The fixed pacing used while eBay's rate-limit report cannot be read.
    fallback: Pacer,
    /// The connection's own cap on requests per second, if it has one.
    cap: Option<Arc<Pacer>>,
    /// Read eBay's rate-limit report and pace to it; off only for `unpaced` sandboxes.
    follow_report: bool,
    /// The stated budget and, while the daily quota is spent, when it resets (injected
    /// clock). eBay counts the quota per application, so clients of one app share this
    /// (see [`EbayClient::with_shared_quota`]).
    quota: SharedQuota,
}

impl std::fmt::Debug for EbayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EbayClient")
            .field("api_base", &self.config.api_base)
            .finish_non_exhaustive()
    }
}

/// What went wrong on an attempt that is worth retrying.
enum Transient {
    Throttled(Option<Duration>),
    Unavailable(String),
}

impl EbayClient {
    /// Builds a client; no network traffic until the first `fetch_page`.
    pub fn new(
        config: EbayConfig,
        credentials: EbayCredentials,
        clock: SharedClock,
        retry_policy: RetryPolicy,
    ) -> Self {
        let sleeper: Arc<dyn Sleeper> = Arc::new(TokioSleeper);
        let fallback = Pacer::new(fallback_plan(&config), clock.clone(), sleeper.clone());
        Self {
            tokens: TokenCache::new(clock.clone()),
            config,
            credentials,
            clock,
            retry: retry_policy,
            http: http::client(),
            sleeper,
            fallback,
            cap: None,
            follow_report: true,
            quota: SharedQuota::default(),
        }
    }

    /// Shares the quota state with every other client of the same application: they
    /// count calls against one stated budget, and once one of them learns the daily
    /// quota is spent, none calls eBay until it resets.
    pub fn with_shared_quota(mut self, quota: SharedQuota) -> Self {
        self.quota = quota;
        self
    }

    /// Waits through `sleeper` (tests move an injected clock instead of sleeping).
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.fallback = Pacer::new(
            fallback_plan(&self.config),
            self.clock.clone(),
            sleeper.clone(),
        );
        self.sleeper = sleeper;
        self
    }

    /// Never more than the cap's rate of calls, whatever eBay allows (a per-connection
    /// setting).
    pub fn with_cap(mut self, cap: Arc<Pacer>) -> Self {
        self.cap = Some(cap);
        self
    }

    /// Skips eBay's rate-limit report and paces only on `config.pacing` (and the cap):
    /// for sandboxes started without rate limits, where the pacing is wide open.
    pub fn without_report(mut self) -> Self {
        self.follow_report = false;
        self
    }

    fn orders_url(&self, from: DateTime<Utc>, to: DateTime<Utc>, offset: u64) -> String {
        // eBay requires `[ ] { } |` percent-encoded; `:`, `,` and `.` stay literal.
        format!(
            "{}{ORDERS_PATH}?filter=lastmodifieddate:%5B{}..{}%5D&limit={}&offset={offset}",
            self.config.api_base,
            format_timestamp(from),
            format_timestamp(to),
            self.config.page_size.clamp(1, MAX_PAGE_SIZE),
        )
    }

    /// The user access token, for the shipment module (`shipments.rs`).
    pub(super) async fn token_for_push(&self) -> Result<AccessToken, ConnectorError> {
        self.access_token().await
    }

    /// Drops a refused access token, for the shipment module.
    pub(super) async fn drop_token(&self, token: &AccessToken) {
        self.tokens.invalidate(token).await
    }

    /// The HTTP client and configuration, for the shipment module.
    pub(super) fn parts(&self) -> (&reqwest::Client, &EbayConfig) {
        (&self.http, &self.config)
    }

    async fn access_token(&self) -> Result<AccessToken, ConnectorError> {
        self.tokens.get(|| self.refresh_access_token()).await
    }

    /// The refresh-token grant, with retries on transient failures.
    async fn refresh_access_token(&self) -> Result<AccessToken, ConnectorError> {
        let mut attempt = 0u32;
        loop {
            let sent = self
                .http
                .post(&self.config.token_url)
                .basic_auth(
                    &self.credentials.client_id,
                    Some(&self.credentials.client_secret),
                )
                .header(ACCEPT, "application/json")
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", self.credentials.refresh_token.as_str()),
                    ("scope", self.config.scope.as_str()),
                ])
                .send()
                .await;
            let failure = match sent {
                Err(e) => Transient::Unavailable(format!("token endpoint: {}", http::describe(&e))),
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Err(e) => Transient::Unavailable(format!(
                            "token endpoint: {}",
                            http::describe(&e)
                        )),
                        Ok(body) if status.is_success() && !looks_html(&headers, &body) => {
                            let reply: wire::TokenResponse = serde_json::from_slice(&body)
                                .map_err(|_| {
                                    ConnectorError::Protocol(
                                        "token endpoint: reply is not a token".into(),
                                    )
                                })?;
                            debug!(expires_in = reply.expires_in, "ebay access token issued");
                            return Ok(AccessToken {
                                value: Zeroizing::new(reply.access_token),
                                expires_at: self.clock.now()
                                    + chrono::Duration::seconds(reply.expires_in.max(0)),
                            });
                        }
                        Ok(body) if status.as_u16() == 400 || status.as_u16() == 401 => {
                            let code = serde_json::from_slice::<wire::OAuthError>(&body)
                                .map(|e| e.error)
                                .unwrap_or_default();
                            // Only a refused grant or client needs the seller; anything
                            // else (invalid_request, …) is our bug, not theirs.
                            return Err(match code.as_str() {
                                "invalid_grant"
                                | "invalid_client"
                                | "invalid_scope"
                                | "unauthorized_client" => ConnectorError::NeedsReauth {
                                    reason: format!(
                                        "eBay token endpoint refused the grant: {code}"
                                    ),
                                },
                                _ => ConnectorError::Rejected(format!(
                                    "token endpoint: HTTP {}",
                                    status.as_u16()
                                )),
                            });
                        }
                        Ok(_) if status.as_u16() == 429 => {
                            Transient::Throttled(http::retry_after(&headers))
                        }
                        Ok(body) if status.is_server_error() || looks_html(&headers, &body) => {
                            Transient::Unavailable(format!(
                                "token endpoint: HTTP {}",
                                status.as_u16()
                            ))
                        }
                        Ok(_) => {
                            return Err(ConnectorError::Rejected(format!(
                                "token endpoint: HTTP {}",
                                status.as_u16()
                            )))
                        }
                    }
                }
            };
            attempt += 1;
            self.backoff(attempt, failure).await?;
        }
    }

    /// Waits before the next attempt, or returns the final error once out of attempts.
    async fn backoff(&self, attempt: u32, failure: Transient) -> Result<(), ConnectorError> {
        let hint = match &failure {
            Transient::Throttled(ra) => *ra,
            Transient::Unavailable(_) => None,
        };
        if attempt >= self.retry.max_attempts.max(1) {
            return Err(match failure {
                Transient::Throttled(retry_after) => ConnectorError::RateLimited { retry_after },
                Transient::Unavailable(m) => ConnectorError::Unavailable(m),
            });
        }
        // A Retry-After is what eBay asked for: wait exactly that (never longer), or, when
        // it outlasts this call's patience, hand it to the worker instead of retrying early.
        let delay = match hint {
            Some(ra) if !super::short(ra, &self.retry) => {
                return Err(ConnectorError::RateLimited {
                    retry_after: Some(ra),
                })
            }
            Some(ra) => ra,
            None => self.retry.delay(attempt, None),
        };
        match &failure {
            Transient::Throttled(_) => warn!(attempt, ?delay, "ebay throttled, backing off"),
            Transient::Unavailable(m) => {
                warn!(attempt, ?delay, reason = %m, "ebay call failed, retrying")
            }
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    fn lock_quota(&self) -> std::sync::MutexGuard<'_, super::budget::QuotaState> {
        self.quota.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails fast while a spent daily quota has not reset.
    fn check_quota(&self) -> Result<(), ConnectorError> {
        let mut q = self.lock_quota();
        if let Some(until) = q.blocked_until {
            let now = self.clock.now();
            if now < until {
                return Err(ConnectorError::RateLimited {
                    retry_after: (until - now).to_std().ok(),
                });
            }
            q.blocked_until = None;
        }
        Ok(())
    }

    /// Waits until the next call fits the connection's cap and every window eBay states,
    /// and counts it. A spent window that resets within the retry policy's patience is
    /// waited out; a longer one (the daily quota) is handed to the sync worker.
    async fn spend_call(&self, token: &AccessToken) -> Result<(), ConnectorError> {
        if let Some(cap) = &self.cap {
            cap.acquire().await;
        }
        if !self.follow_report {
            self.fallback.acquire().await;
            return Ok(());
        }
        loop {
            let now = self.clock.now();
            let step = self.lock_quota().budget.take(now);
            match step {
                Step::Go => return Ok(()),
                Step::Fallback => {
                    self.fallback.acquire().await;
                    return Ok(());
                }
                Step::Read => {
                    let budget = match self.rate_report(token).await {
                        Some(report) => Budget::from_report(&report, self.clock.now()),
                        None => Budget::from_report(&Default::default(), self.clock.now()),
                    };
                    debug!(?budget, "ebay rate-limit report read");
                    self.lock_quota().budget = budget;
                }
                Step::WaitUntil(reset) => {
                    let wait = (reset - now).to_std().unwrap_or_default();
                    if !super::short(wait, &self.retry) {
                        self.lock_quota().blocked_until = Some(reset);
                        warn!(?wait, "ebay call quota spent, waiting for its reset");
                        return Err(ConnectorError::RateLimited {
                            retry_after: Some(wait),
                        });
                    }
                    self.sleeper.sleep(wait).await;
                }
            }
        }
    }

    /// A GET on the API with a bearer token, retries and the 401-refresh-once rule.
    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        what: &'static str,
    ) -> Result<T, ConnectorError> {
        self.check_quota()?;
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            let token = self.access_token().await?;
            self.spend_call(&token).await?;
            let sent = self
                .http
                .get(url)
                .bearer_auth(&*token.value)
                .header(ACCEPT, "application/json")
                .send()
                .await;
            let failure = match sent {
                Err(e) => Transient::Unavailable(format!("{what}: {}", http::describe(&e))),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) => {
                            attempt += 1;
                            let m = format!("{what}: {}", http::describe(&e));
                            self.backoff(attempt, Transient::Unavailable(m)).await?;
                            continue;
                        }
                    };
                    let html = looks_html(&headers, &body);
                    match status {
                        200..=299 if !html => {
                            return serde_json::from_slice(&body).map_err(|_| {
                                ConnectorError::Protocol(format!(
                                    "{what}: response is not JSON of the expected shape"
                                ))
                            });
                        }
                        401 if !refreshed => {
                            debug!(errors = %error_summary(&body), "ebay access token refused, refreshing");
                            refreshed = true;
                            self.tokens.invalidate(&token).await;
                            continue;
                        }
                        401 | 403 => {
                            return Err(ConnectorError::NeedsReauth {
                                reason: format!(
                                    "{what}: HTTP {status} with a fresh token ({})",
                                    error_summary(&body)
                                ),
                            });
                        }
                        429 => {
                            // Someone else spent the budget too: count from eBay's
                            // figures again.
                            self.lock_quota().budget = Budget::Unread;
                            let reset = self.quota_reset(&token).await;
                            if let Some(wait) = reset {
                                if !super::short(wait, &self.retry) {
                                    let until = self.clock.now()
                                        + chrono::Duration::from_std(wait).unwrap_or_default();
                                    self.lock_quota().blocked_until = Some(until);
                                    warn!(?wait, "ebay daily call quota spent");
                                    return Err(ConnectorError::RateLimited {
                                        retry_after: Some(wait),
                                    });
                                }
                            }
                            Transient::Throttled(reset.or_else(|| http::retry_after(&headers)))
                        }
                        _ if html || status >= 500 => {
                            Transient::Unavailable(format!("{what}: HTTP {status}"))
                        }
                        _ => {
                            return Err(ConnectorError::Rejected(format!(
                                "{what}: HTTP {status} ({})",
                                error_summary(&body)
                            )))
                        }
                    }
                }
            };
            attempt += 1;
            self.backoff(attempt, failure).await?;
        }
    }

    /// How long until the spent order quota resets, from getUserRateLimits; `None` when
    /// no quota is spent (a short throttle) or the report is unavailable.
    async fn quota_reset(&self, token: &AccessToken) -> Option<Duration> {
        let report = self.rate_report(token).await?;
        let reset = report
            .rate_limits
            .iter()
            .flat_map(|r| &r.resources)
            .flat_map(|r| &r.rates)
            .filter(|r| r.remaining == 0 && r.limit > 0)
            .filter_map(|r| parse_timestamp(r.reset.as_deref()?))
            .max()?;
        Some((reset - self.clock.now()).to_std().unwrap_or_default())
    }
}

impl EbayClient {
    /// getUserRateLimits for the Fulfillment API; `None` when it cannot be read.
    async fn rate_report(&self, token: &AccessToken) -> Option<wire::RateLimitsResponse> {
        let url = format!(
            "{}{USER_RATE_LIMIT_PATH}?api_context=sell&api_name=fulfillment",
            self.config.api_base
        );
        let resp = self
            .http
            .get(url)
            .bearer_auth(&*token.value)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }
}

/// The fixed pacing of `config` as a token bucket on the injected clock.
fn fallback_plan(config: &EbayConfig) -> UsagePlan {
    UsagePlan {
        rate: config.pacing.per_second,
        burst: config.pacing.burst.max(1),
    }
}

#[async_trait::async_trait]
impl Marketplace for EbayClient {
    fn kind(&self) -> MarketplaceKind {
        MarketplaceKind::Ebay
    }

    /// - `visibility_delay` 2 min: eBay's order search is eventually consistent and
    ///   rejects end dates in the future (30850), so windows end safely in the past.
    /// - `overlap` 30 min: listings are a live set without a snapshot cursor; re-reading
    ///   half an hour costs at most a page and catches late-indexed changes.
    /// - `max_window` 1 day: short walks give the live set little time to shift, and a
    ///   day of a busy seller is still only a few pages of 200.
    fn sync_hints(&self) -> SyncHints {
        SyncHints {
            visibility_delay: chrono::Duration::minutes(2),
            overlap: chrono::Duration::minutes(30),
            max_window: chrono::Duration::days(1),
        }
    }

    async fn fetch_page(
        &self,
        window: SyncWindow,
        page: Option<PageToken>,
    ) -> Result<OrderPage, ConnectorError> {
        let (offset, prev_total) = match &page {
            None => (0, None),
            Some(t) => parse_page_token(&t.0)
                .ok_or_else(|| ConnectorError::Protocol("unrecognized eBay page token".into()))?,
        };
        // eBay rejects end dates in the future (30850) and ranges over two years (30830).
        let now = self.clock.now();
        let to = window.to.min(now);
        let from = window.from.max(now - chrono::Duration::days(729));
        if from > to {
            return Ok(OrderPage::default());
        }
        let url = self.orders_url(from, to, offset);
        // Each order stays JSON text until it is parsed on its own, so one malformed order
        // fails alone.
        let body: wire::OrderSearchPagedCollection<Box<serde_json::value::RawValue>> =
            self.get_json(&url, "getOrders").await?;
        let returned = body.orders.len() as u64;
        let orders: Vec<FetchedOrder> = body.orders.iter().map(|o| normalize_raw(o)).collect();
        for o in &orders {
            if let FetchedOrder::Failed {
                marketplace_order_id,
                error,
            } = o
            {
                warn!(order_id = %marketplace_order_id, %error, "ebay order could not be normalized");
            }
        }
        let next = match body.total {
            Some(total) => {
                let shrink = prev_total.map_or(0, |p: u64| p.saturating_sub(total));
                let next_offset = if shrink > 0 {
                    offset.saturating_sub(shrink)
                } else {
                    offset + returned
                };
                ((returned > 0 || shrink > 0) && next_offset < total)
                    .then(|| PageToken(format!("{next_offset}:{total}")))
            }
            None => (body.next.is_some() && returned > 0)
                .then(|| PageToken(format!("{}:", offset + returned))),
        };
        debug!(
            offset,
            returned,
            total = body.total,
            more = next.is_some(),
            "ebay getOrders page"
        );
        Ok(OrderPage { orders, next })
    }
}

/// `"<offset>:<total last seen>"` (total may be empty).
fn parse_page_token(s: &str) -> Option<(u64, Option<u64>)> {
    let (offset, total) = s.split_once(':')?;
    let total = if total.is_empty() {
        None
    } else {
        Some(total.parse().ok()?)
    };
    Some((offset.parse().ok()?, total))
}

/// An HTML page (a load balancer's 502) where JSON was expected.
fn looks_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let ct_html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("html"));
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&body[0..0], |i| &body[i..]);
    ct_html || start.starts_with(b"<")
}

/// `errorId`s and parameter names of an ErrorDetailV3 body; no messages or values, which
/// can echo request data.
fn error_summary(body: &[u8]) -> String {
    match serde_json::from_slice::<wire::ErrorDetailV3>(body) {
        Ok(d) if !d.errors.is_empty() => d
            .errors
            .iter()
            .map(|e| {
                let params: Vec<&str> = e.parameters.iter().map(|p| p.name.as_str()).collect();
                if params.is_empty() {
                    format!("errorId {}", e.error_id)
                } else {
                    format!("errorId {} [{}]", e.error_id, params.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => "no error body".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(parse_page_token("200:731"), Some((200, Some(731))));
        assert_eq!(parse_page_token("50:"), Some((50, None)));
        assert_eq!(parse_page_token("x"), None);
    }

    #[test]
    fn error_summary_names_ids_not_values() {
        let body = br#"{"errors":[{"errorId":30800,"message":"Invalid filter value secret","parameters":[{"name":"filter","value":"secret"}]}]}"#;
        let s = error_summary(body);
        assert_eq!(s, "errorId 30800 [filter]");
        assert!(looks_html(&HeaderMap::new(), b"  <html>"));
    }
}
