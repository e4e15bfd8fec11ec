//! [`AmazonClient`]: auth (LWA + RDT), pacing, retries and the Orders v0
//! getOrders/getOrderItems paging behind the [`Marketplace`] trait. The v2026-01-01
//! searchOrders/getOrder calls live in [`super::search`] and share [`AmazonClient::call`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::StatusCode;
use zeroize::Zeroizing;

use super::pacing::{Pacer, Sleeper, TokioSleeper};
use super::response::{
    classify, exhausted, looks_like_html, lwa_refusal, safe_id, schema_error, Failure, Outcome,
};
use super::wire::{self, iso};
use super::{normalize, AmazonConfig, AmazonCredentials};
use crate::clock::SharedClock;
use crate::http::{self, AccessToken, RetryPolicy, TokenCache};
use crate::marketplace::{
    ConnectorError, FetchedOrder, Marketplace, OrderPage, PageToken, SyncHints, SyncWindow,
};
use crate::model::{MarketplaceKind, OrderNumber};

/// getOrders rejects a `LastUpdatedBefore` younger than this.
const FRESHNESS_RULE: chrono::Duration = chrono::Duration::minutes(2);
/// A runaway guard on getOrderItems paging for one order.
const MAX_ITEM_PAGES: usize = 50;

/// The SP-API operations the client calls, each with its own bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    GetOrders,
    GetOrderItems,
    CreateRestrictedDataToken,
    SearchOrders,
    GetOrder,
}

impl Op {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::GetOrders => "getOrders",
            Self::GetOrderItems => "getOrderItems",
            Self::CreateRestrictedDataToken => "createRestrictedDataToken",
            Self::SearchOrders => "searchOrders",
            Self::GetOrder => "getOrder",
        }
    }

    fn plan(self, c: &AmazonConfig) -> super::UsagePlan {
        match self {
            Self::GetOrders => c.get_orders,
            Self::GetOrderItems => c.get_order_items,
            Self::CreateRestrictedDataToken => c.restricted_data_token,
            Self::SearchOrders => c.search_orders,
            Self::GetOrder => c.get_order,
        }
    }

    const ALL: [Op; 5] = [
        Op::GetOrders,
        Op::GetOrderItems,
        Op::CreateRestrictedDataToken,
        Op::SearchOrders,
        Op::GetOrder,
    ];
}

/// Which token goes into `x-amz-access-token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    /// The LWA access token.
    Lwa,
    /// The restricted data token for getOrders with buyerInfo and shippingAddress.
    Rdt,
}

/// A client for one seller's Amazon connection. Cheap to share behind an `Arc`; the
/// token caches and pacers are per client, so keep one client per connection alive.
pub struct AmazonClient {
    pub(super) config: AmazonConfig,
    credentials: AmazonCredentials,
    pub(super) clock: SharedClock,
    retry: RetryPolicy,
    http: reqwest::Client,
    lwa: TokenCache,
    rdt: TokenCache,
    sleeper: Arc<dyn Sleeper>,
    /// One pacer per [`Op`], in `Op::ALL` order; shared with every client of the same
    /// application and seller when built through `crate::quota`.
    pacers: Vec<Arc<Pacer>>,
    /// The connection's own cap on requests per second (`crate::cap`), if set.
    cap: Option<Arc<Pacer>>,
}

impl std::fmt::Debug for AmazonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonClient")
            .field("endpoint", &self.config.endpoint)
            .field("marketplace_ids", &self.config.marketplace_ids)
            .finish_non_exhaustive()
    }
}

impl AmazonClient {
    /// A client that sleeps for real between paced calls and retries.
    pub fn new(
        config: AmazonConfig,
        credentials: AmazonCredentials,
        clock: SharedClock,
        retry: RetryPolicy,
    ) -> Self {
        let sleeper: Arc<dyn Sleeper> = Arc::new(TokioSleeper);
        Self {
            pacers: pacers(&config, &clock, &sleeper),
            lwa: TokenCache::new(clock.clone()),
            rdt: TokenCache::new(clock.clone()),
            http: http::client(),
            config,
            credentials,
            clock,
            retry,
            sleeper,
            cap: None,
        }
    }

    /// Never more than the cap's rate of calls, whatever Amazon's plans allow (a
    /// per-connection setting).
    pub fn with_cap(mut self, cap: Arc<Pacer>) -> Self {
        self.cap = Some(cap);
        self
    }

    /// Replaces how the client waits (pacing and backoff). Tests pass a
    /// [`ClockSleeper`](super::ClockSleeper) so Amazon's minute-long waits cost nothing.
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.pacers = pacers(&self.config, &self.clock, &sleeper);
        self.sleeper = sleeper;
        self
    }

    /// The LWA access token, for the shipment module (`shipments.rs`).
    pub(super) async fn lwa_token_for_push(&self) -> Result<AccessToken, ConnectorError> {
        self.token(Auth::Lwa).await
    }

    /// Drops a refused LWA token, for the shipment module.
    pub(super) async fn drop_lwa_token(&self, token: &AccessToken) {
        self.invalidate(Auth::Lwa, token).await
    }

    /// The HTTP client and configuration, for the shipment module.
    pub(super) fn parts(&self) -> (&reqwest::Client, &AmazonConfig, &SharedClock) {
        (&self.http, &self.config, &self.clock)
    }

    /// Replaces the client's own pacers with `shared` ones (one per operation, in the
    /// order of [`AmazonClient::quota_ops`]), so several connections of one application
    /// and seller spend one mirrored bucket, as Amazon counts them.
    pub fn with_shared_pacers(mut self, shared: Vec<Arc<Pacer>>) -> Self {
        if shared.len() == Op::ALL.len() {
            self.pacers = shared;
        }
        self
    }

    /// The operations (name, plan) a shared quota must hold pacers for, in order.
    pub fn quota_ops(config: &AmazonConfig) -> Vec<(&'static str, super::UsagePlan)> {
        Op::ALL
            .iter()
            .map(|op| (op.name(), op.plan(config)))
            .collect()
    }

    /// The pacer of `op`: its bucket mirror and the rate Amazon last announced.
    pub(super) fn pacer(&self, op: Op) -> &Pacer {
        let i = Op::ALL.iter().position(|o| *o == op).unwrap_or(0);
        &self.pacers[i]
    }

    /// Paces each operation at the rate remembered for it from an earlier process,
    /// unless Amazon has announced one to these (possibly shared) pacers since.
    pub fn with_announced_rates(self, rates: &crate::AnnouncedRates) -> Self {
        for op in Op::ALL {
            if let Some(rate) = rates.get(op.name()) {
                self.pacer(op).remember(rate);
            }
        }
        self
    }

    /// The usage plan the client currently paces `operation` (an SP-API operation name)
    /// by: the documented default until Amazon's `x-amzn-RateLimit-Limit` says otherwise.
    pub fn current_plan(&self, operation: &str) -> Option<super::UsagePlan> {
        Op::ALL
            .iter()
            .find(|op| op.name() == operation)
            .map(|op| self.pacer(*op).plan())
    }

    async fn token(&self, auth: Auth) -> Result<AccessToken, ConnectorError> {
        match auth {
            Auth::Lwa => self.lwa.get(|| self.fetch_lwa()).await,
            Auth::Rdt => self.rdt.get(|| self.fetch_rdt()).await,
        }
    }

    async fn invalidate(&self, auth: Auth, token: &AccessToken) {
        match auth {
            Auth::Lwa => self.lwa.invalidate(token).await,
            Auth::Rdt => self.rdt.invalidate(token).await,
        }
    }

    /// The LWA refresh-token grant, retried on 429/5xx/transport failures.
    async fn fetch_lwa(&self) -> Result<AccessToken, ConnectorError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", self.credentials.refresh_token.as_str()),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.as_str()),
        ];
        let mut attempt = 0;
        loop {
            let sent = self
                .http
                .post(&self.config.lwa_url)
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await;
            let failure = match sent {
                Err(e) => Failure::Unavailable(http::describe(&e)),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = http::retry_after(resp.headers());
                    match resp.bytes().await {
                        Err(e) => Failure::Unavailable(http::describe(&e)),
                        Ok(body) if looks_like_html(&body) => {
                            Failure::Unavailable(format!("HTML body with HTTP {}", status.as_u16()))
                        }
                        Ok(body) if status.is_success() => return self.lwa_token(&body),
                        Ok(_) if status == StatusCode::TOO_MANY_REQUESTS => {
                            Failure::Throttled(retry_after)
                        }
                        Ok(_) if status.is_server_error() => {
                            Failure::Unavailable(format!("HTTP {}", status.as_u16()))
                        }
                        Ok(body) => return Err(lwa_refusal(status, &body)),
                    }
                }
            };
            attempt += 1;
            if attempt >= self.retry.max_attempts {
                return Err(exhausted(failure, "Login with Amazon", None));
            }
            let delay = match &failure {
                Failure::Throttled(ra) => self.retry.delay(attempt, *ra),
                Failure::Unavailable(_) => self.retry.delay(attempt, None),
            };
            tracing::warn!(
                attempt,
                delay_ms = delay.as_millis() as u64,
                "retrying LWA token request"
            );
            self.sleeper.sleep(delay).await;
        }
    }

    fn lwa_token(&self, body: &[u8]) -> Result<AccessToken, ConnectorError> {
        let mut t: wire::LwaTokenResponse = serde_json::from_slice(body)
            .map_err(|_| ConnectorError::Protocol("LWA token response unreadable".into()))?;
        if t.access_token.is_empty() || t.expires_in <= 0 {
            return Err(ConnectorError::Protocol(
                "LWA token response lacks access_token or expires_in".into(),
            ));
        }
        tracing::info!(expires_in = t.expires_in, "LWA access token issued");
        Ok(AccessToken {
            value: Zeroizing::new(std::mem::take(&mut t.access_token)),
            expires_at: self.clock.now() + chrono::Duration::seconds(t.expires_in.min(86_400)),
        })
    }

    /// createRestrictedDataToken for getOrders with buyerInfo and shippingAddress.
    /// Boxed: it calls [`Self::call`], which asks for tokens.
    fn fetch_rdt(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<AccessToken, ConnectorError>> + Send + '_>> {
        Box::pin(async move {
            let request = wire::CreateRestrictedDataTokenRequest {
                target_application: None,
                restricted_resources: vec![wire::RestrictedResource {
                    method: "GET".into(),
                    path: "/orders/v0/orders".into(),
                    data_elements: Some(vec!["buyerInfo".into(), "shippingAddress".into()]),
                }],
            };
            let url = format!(
                "{}/tokens/2021-03-01/restrictedDataToken",
                self.config.endpoint
            );
            let body = self
                .call(Op::CreateRestrictedDataToken, Auth::Lwa, |c| {
                    c.post(&url).json(&request)
                })
                .await?;
            let mut t: wire::CreateRestrictedDataTokenResponse = serde_json::from_slice(&body)
                .map_err(|_| {
                    ConnectorError::Protocol("restricted data token response unreadable".into())
                })?;
            if t.restricted_data_token.is_empty() || t.expires_in <= 0 {
                return Err(ConnectorError::Protocol(
                    "restricted data token response lacks the token or its lifetime".into(),
                ));
            }
            tracing::info!(expires_in = t.expires_in, "restricted data token issued");
            Ok(AccessToken {
                value: Zeroizing::new(std::mem::take(&mut t.restricted_data_token)),
                expires_at: self.clock.now() + chrono::Duration::seconds(t.expires_in.min(86_400)),
            })
        })
    }

    /// One SP-API call with pacing, token handling and retries; returns the 2xx body.
    pub(super) async fn call<F>(
        &self,
        op: Op,
        auth: Auth,
        build: F,
    ) -> Result<Vec<u8>, ConnectorError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync,
    {
        let pacer = self.pacer(op);
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            if let Some(cap) = &self.cap {
                cap.acquire().await;
            }
            pacer.acquire().await;
            let token = self.token(auth).await?;
            let mut header = HeaderValue::from_str(&token.value).map_err(|_| {
                ConnectorError::Protocol("access token is not a valid header value".into())
            })?;
            header.set_sensitive(true);
            let sent = build(&self.http)
                .header("x-amz-access-token", header)
                .header(ACCEPT, "application/json")
                .send()
                .await;
            let failure = match sent {
                Err(e) => Failure::Unavailable(http::describe(&e)),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = http::retry_after(resp.headers());
                    if let Some(rate) = rate_limit(resp.headers()) {
                        pacer.observe_rate(rate);
                    }
                    let request_id = resp
                        .headers()
                        .get("x-amzn-RequestId")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    let body = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) => {
                            self.pause(op, attempt + 1, &Failure::Unavailable(http::describe(&e)))
                                .await?;
                            attempt += 1;
                            continue;
                        }
                    };
                    tracing::debug!(op = op.name(), status = status.as_u16(), %request_id, attempt, "SP-API response");
                    match classify(op.name(), status, &body) {
                        Outcome::Ok => return Ok(body.to_vec()),
                        Outcome::Denied(code) if !refreshed => {
                            tracing::info!(op = op.name(), %code, %request_id, "access token refused; refreshing once");
                            refreshed = true;
                            self.invalidate(auth, &token).await;
                            continue;
                        }
                        Outcome::Denied(code) => {
                            return Err(ConnectorError::NeedsReauth {
                                reason: format!(
                                    "{} refused a fresh access token ({code})",
                                    op.name()
                                ),
                            })
                        }
                        Outcome::Throttled => {
                            // The server's bucket is empty whatever ours says (other
                            // apps of the seller share it): wait for what Amazon asks
                            // (Retry-After) or one refill, and no longer.
                            pacer.throttled(retry_after);
                            Failure::Throttled(retry_after)
                        }
                        Outcome::Retry(why) => Failure::Unavailable(why),
                        Outcome::Rejected(why) => return Err(ConnectorError::Rejected(why)),
                    }
                }
            };
            attempt += 1;
            self.pause(op, attempt, &failure).await?;
        }
    }

    /// Backs off before retry `attempt`, or gives up with the failure's error.
    async fn pause(&self, op: Op, attempt: u32, failure: &Failure) -> Result<(), ConnectorError> {
        let interval = self.pacer(op).plan().interval();
        if attempt >= self.retry.max_attempts {
            let err = match failure {
                Failure::Throttled(ra) => Failure::Throttled(Some(ra.unwrap_or(interval))),
                Failure::Unavailable(m) => Failure::Unavailable(m.clone()),
            };
            return Err(exhausted(err, op.name(), Some(interval)));
        }
        let delay = match failure {
            // The pacer already holds the next call back until the bucket refills (or
            // Retry-After passes): sleeping here as well would pay the wait twice.
            Failure::Throttled(_) => std::time::Duration::ZERO,
            Failure::Unavailable(_) => self.retry.delay(attempt, None),
        };
        let (kind, why) = match failure {
            Failure::Throttled(_) => ("throttled", String::new()),
            Failure::Unavailable(m) => ("unavailable", m.clone()),
        };
        tracing::warn!(op = op.name(), attempt, kind, %why, delay_ms = delay.as_millis() as u64, "retrying");
        if !delay.is_zero() {
            self.sleeper.sleep(delay).await;
        }
        Ok(())
    }

    fn list_params(
        &self,
        window: SyncWindow,
        page: Option<&PageToken>,
    ) -> Vec<(&'static str, String)> {
        // The same filters on every page: Amazon requires them with NextToken.
        let mut params = vec![
            ("MarketplaceIds", self.config.marketplace_ids.join(",")),
            ("LastUpdatedAfter", iso(window.from)),
            ("LastUpdatedBefore", iso(window.to)),
            (
                "MaxResultsPerPage",
                self.config.page_size.clamp(1, 100).to_string(),
            ),
        ];
        if let Some(p) = page {
            params.push(("NextToken", p.0.clone()));
        }
        params
    }

    /// Reads one getOrders entry and completes it with its items. A malformed order
    /// becomes `Failed`; only transport-level trouble fails the page.
    async fn fetch_order(&self, raw: serde_json::Value) -> Result<FetchedOrder, ConnectorError> {
        let id_hint = raw
            .get("AmazonOrderId")
            .and_then(|v| v.as_str())
            .map(safe_id)
            .unwrap_or_else(|| "unknown".into());
        let order: wire::Order = match serde_json::from_value(raw) {
            Ok(o) => o,
            Err(e) => return Ok(failed(id_hint, schema_error("Order", &e))),
        };
        let number = match OrderNumber::parse(&order.amazon_order_id) {
            Ok(n) => n,
            Err(e) => return Ok(failed(id_hint, format!("AmazonOrderId is invalid: {e}"))),
        };
        let items = match self.order_items(&number).await? {
            Ok(items) => items,
            Err(why) => return Ok(failed(id_hint, why)),
        };
        Ok(match normalize::normalize(&order, &items) {
            Ok(o) => FetchedOrder::Ok(Box::new(o)),
            Err(why) => failed(id_hint, why),
        })
    }

    /// All items of one order, following getOrderItems' own NextToken. The inner error
    /// is this order's problem (field names only); the outer one the page's.
    async fn order_items(
        &self,
        number: &OrderNumber,
    ) -> Result<Result<Vec<wire::OrderItem>, String>, ConnectorError> {
        let url = format!(
            "{}/orders/v0/orders/{number}/orderItems",
            self.config.endpoint
        );
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_ITEM_PAGES {
            let query: Vec<(&str, &str)> = next
                .as_deref()
                .map(|t| vec![("NextToken", t)])
                .unwrap_or_default();
            let body = match self
                .call(Op::GetOrderItems, Auth::Lwa, |c| c.get(&url).query(&query))
                .await
            {
                Ok(b) => b,
                Err(ConnectorError::Rejected(why)) => return Ok(Err(why)),
                Err(e) => return Err(e),
            };
            let list = match serde_json::from_slice::<wire::Envelope<wire::OrderItemsList>>(&body) {
                Ok(wire::Envelope {
                    payload: Some(list),
                    ..
                }) => list,
                Ok(_) => return Ok(Err("getOrderItems response has no payload".into())),
                // Not JSON at all: the response is broken, not this order.
                Err(e) if e.is_syntax() || e.is_eof() => {
                    return Err(ConnectorError::Protocol(
                        "getOrderItems response is not JSON".into(),
                    ))
                }
                Err(e) => return Ok(Err(schema_error("OrderItemsList", &e))),
            };
            if list.amazon_order_id != number.as_str() {
                return Ok(Err(
                    "getOrderItems answered for another AmazonOrderId".into()
                ));
            }
            items.extend(list.order_items);
            match list.next_token.filter(|t| !t.is_empty()) {
                Some(t) => next = Some(t),
                None => return Ok(Ok(items)),
            }
        }
        Ok(Err("getOrderItems NextToken did not end".into()))
    }
}

#[async_trait::async_trait]
impl Marketplace for AmazonClient {
    fn kind(&self) -> MarketplaceKind {
        MarketplaceKind::Amazon
    }

    fn announced_rates(&self) -> crate::AnnouncedRates {
        crate::AnnouncedRates(
            Op::ALL
                .iter()
                .filter_map(|op| Some((op.name().to_owned(), self.pacer(*op).announced()?)))
                .collect(),
        )
    }

    /// Windows end 3 minutes before now (getOrders refuses `LastUpdatedBefore` younger
    /// than 2 minutes; one more absorbs clock skew); 15 minutes of overlap catch late
    /// listings; one day per window keeps a backfill page count per call modest.
    fn sync_hints(&self) -> SyncHints {
        SyncHints {
            visibility_delay: chrono::Duration::minutes(3),
            overlap: chrono::Duration::minutes(15),
            max_window: chrono::Duration::days(1),
        }
    }

    async fn fetch_page(
        &self,
        window: SyncWindow,
        page: Option<PageToken>,
    ) -> Result<OrderPage, ConnectorError> {
        if window.from > window.to {
            return Err(ConnectorError::Rejected(
                "window starts after it ends".into(),
            ));
        }
        if window.to > self.clock.now() - FRESHNESS_RULE {
            return Err(ConnectorError::Rejected(
                "window must end at least 2 minutes before now (getOrders LastUpdatedBefore rule)"
                    .into(),
            ));
        }
        if self.config.api_version == super::ApiVersion::V2026 {
            return self.search_page(window, page).await;
        }
        let params = self.list_params(window, page.as_ref());
        let url = format!("{}/orders/v0/orders", self.config.endpoint);
        let body = self
            .call(Op::GetOrders, Auth::Rdt, |c| c.get(&url).query(&params))
            .await?;
        let list = match serde_json::from_slice::<wire::Envelope<wire::OrdersList<serde_json::Value>>>(
            &body,
        ) {
            Ok(wire::Envelope {
                payload: Some(list),
                ..
            }) => list,
            Ok(_) => {
                return Err(ConnectorError::Protocol(
                    "getOrders response has no payload".into(),
                ))
            }
            Err(_) => {
                return Err(ConnectorError::Protocol(
                    "getOrders response is not an OrdersList".into(),
                ))
            }
        };
        let mut orders = Vec::with_capacity(list.orders.len());
        for raw in list.orders {
            orders.push(self.fetch_order(raw).await?);
        }
        let next = list.next_token.filter(|t| !t.is_empty()).map(PageToken);
        let failed = orders
            .iter()
            .filter(|o| matches!(o, FetchedOrder::Failed { .. }))
            .count();
        tracing::info!(
            orders = orders.len(),
            failed,
            more = next.is_some(),
            "Amazon orders page fetched"
        );
        Ok(OrderPage { orders, next })
    }
}

fn pacers(
    config: &AmazonConfig,
    clock: &SharedClock,
    sleeper: &Arc<dyn Sleeper>,
) -> Vec<Arc<Pacer>> {
    Op::ALL
        .iter()
        .map(|op| Arc::new(Pacer::new(op.plan(config), clock.clone(), sleeper.clone())))
        .collect()
}

/// `x-amzn-RateLimit-Limit: <requests per second>`, when Amazon sends it (200/400/404).
fn rate_limit(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    headers
        .get("x-amzn-RateLimit-Limit")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
}

pub(super) fn failed(marketplace_order_id: String, error: String) -> FetchedOrder {
    tracing::warn!(order_id = %marketplace_order_id, %error, "Amazon order could not be normalized");
    FetchedOrder::Failed {
        marketplace_order_id,
        error,
    }
}
