//! The outbox forwarder: delivers order events to each active webhook endpoint, signed
//! per Standard Webhooks, in outbox order, with events of one order strictly in order.
//!
//! At-least-once: an event is marked delivered only after a 2xx; a crash in between
//! resends it with the same `webhook-id`. Failures back off exponentially with jitter
//! (honouring `Retry-After`) for 72 hours, then the event is dead-lettered. 410 Gone
//! disables the endpoint. The body is built from the order row at send time, so an
//! order pseudonymized in the meantime goes out without personal data.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;

use super::endpoints::open_secret;
use super::signing::sign;
use super::target::{check_literal, parse_url, refusal_in, GuardedResolver};
use crate::app::App;
use crate::error::ServiceError;
use crate::fulfilment::view::{request_view, OrderWithRequests};
use crate::metrics::metrics;
use crate::orders::view::order_view;
use crate::store::catalog::{WebhookEndpoint, WebhookStatus};
use crate::store::outbox::{AttemptResult, OutboxEvent};

/// How long failed deliveries are retried before dead-lettering.
pub const RETRY_WINDOW_MS: i64 = 72 * 3600 * 1000;
const BACKOFF_BASE_MS: i64 = 5_000;
const BATCH: i64 = 200;

/// What one pass did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct ForwardReport {
    pub delivered: u64,
    pub retrying: u64,
    pub dead: u64,
    pub disabled_endpoints: u64,
}

/// A forwarder. Share it; one pass at a time per endpoint is enforced by leases.
pub struct Forwarder {
    app: App,
    owner: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: chrono::DateTime<chrono::Utc>,
    data: serde_json::Value,
}

enum Outcome {
    Delivered,
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
    Gone,
}

impl Forwarder {
    pub fn new(app: App) -> Self {
        Self::with_owner(app, crate::ingest::sync::worker_name())
    }

    pub fn with_owner(app: App, owner: String) -> Self {
        let http = reqwest::Client::builder()
            // Every host name is resolved through the guard, so the connection goes to an
            // address that passed the internal-address check; no proxy in between.
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: app.settings.forward.allow_private_targets,
            }))
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ordervault-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("static reqwest configuration is valid");
        Self { app, owner, http }
    }

    fn lease_ms(&self) -> i64 {
        i64::from(self.app.settings.forward.lease_secs) * 1000
    }

    fn max_backoff_ms(&self) -> i64 {
        i64::from(self.app.settings.forward.max_backoff_secs) * 1000
    }

    /// One pass over every active endpoint.
    pub async fn run_once(&self) -> Result<ForwardReport, ServiceError> {
        let mut report = ForwardReport::default();
        for endpoint in self.app.store.catalog().webhooks(None).await? {
            let now = self.app.now_ms();
            if !self
                .app
                .store
                .catalog()
                .claim_webhook(&endpoint.id, &self.owner, now, now + self.lease_ms())
                .await?
            {
                continue;
            }
            let result = self.deliver_endpoint(&endpoint, &mut report).await;
            let _ = self
                .app
                .store
                .catalog()
                .release_webhook(&endpoint.id, &self.owner)
                .await;
            if let Err(e) = result {
                tracing::warn!(webhook = %endpoint.id, error = %e, "webhook pass failed");
            }
        }
        Ok(report)
    }

    async fn deliver_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        report: &mut ForwardReport,
    ) -> Result<(), ServiceError> {
        let account = endpoint.account_id.clone();
        let store = self.app.store.account(&account).await?;
        let keys = self.app.keyring.keys(&account).await?;
        let key = open_secret(&self.app, endpoint).await?;
        let mut blocked: HashSet<i64> = HashSet::new();
        let events = store
            .pending_events(endpoint.id.as_str(), endpoint.created_at, BATCH)
            .await?;
        for ev in &events {
            let now = self.app.now_ms();
            if blocked.contains(&ev.order_id) {
                continue;
            }
            if ev.next_attempt_at.is_some_and(|t| t > now) {
                // Not yet: and later events of this order wait behind it.
                blocked.insert(ev.order_id);
                continue;
            }
            let data = match ev.request_id {
                // shipment.* / cancellation.*: the request with the marketplace's answer.
                Some(rid) => match store.request(rid).await? {
                    Some(r) => serde_json::to_value(request_view(&r)).map_err(|e| {
                        ServiceError::internal(format!("cannot encode webhook body: {e}"))
                    })?,
                    None => continue,
                },
                None => {
                    let Some(row) = store.get_by_id(ev.order_id).await? else {
                        continue;
                    };
                    let view = order_view(&keys, &row).await.map_err(|e| {
                        ServiceError::internal(format!("stored order could not be opened: {e}"))
                    })?;
                    let full =
                        OrderWithRequests::new(view, &store.requests_for_order(row.id).await?);
                    serde_json::to_value(full).map_err(|e| {
                        ServiceError::internal(format!("cannot encode webhook body: {e}"))
                    })?
                }
            };
            let body = serde_json::to_vec(&Envelope {
                kind: &ev.event_type,
                timestamp: self.app.clock.now(),
                data,
            })
            .map_err(|e| ServiceError::internal(format!("cannot encode webhook body: {e}")))?;
            let outcome = self.send(endpoint, &key, ev, body).await;
            let now = self.app.now_ms();
            let acct = endpoint.account_id.as_str();
            match outcome {
                Outcome::Delivered => {
                    store
                        .record_attempt(endpoint.id.as_str(), ev.id, &AttemptResult::Delivered, now)
                        .await?;
                    report.delivered += 1;
                    metrics().add(
                        "ordervault_webhook_deliveries_total",
                        &[("account", acct), ("result", "delivered")],
                        1,
                    );
                }
                Outcome::Gone => {
                    let reason = "receiver answered 410 Gone";
                    store
                        .record_attempt(
                            endpoint.id.as_str(),
                            ev.id,
                            &AttemptResult::Retry {
                                next_at: now,
                                status: Some(410),
                                error: reason.into(),
                            },
                            now,
                        )
                        .await?;
                    self.app
                        .store
                        .catalog()
                        .set_webhook_status(
                            &endpoint.id,
                            WebhookStatus::Disabled,
                            Some(reason),
                            now,
                        )
                        .await?;
                    report.disabled_endpoints += 1;
                    metrics().add(
                        "ordervault_webhook_deliveries_total",
                        &[("account", acct), ("result", "disabled")],
                        1,
                    );
                    tracing::warn!(webhook = %endpoint.id, "webhook endpoint disabled after 410 Gone");
                    return Ok(());
                }
                Outcome::Failed {
                    status,
                    error,
                    retry_after,
                } => {
                    blocked.insert(ev.order_id);
                    let first = ev.first_attempt_at.unwrap_or(now);
                    let delay = backoff_ms(ev.attempts, retry_after, self.max_backoff_ms());
                    let status = status.map(i64::from);
                    let result = if now + delay - first > RETRY_WINDOW_MS {
                        report.dead += 1;
                        metrics().add(
                            "ordervault_webhook_deliveries_total",
                            &[("account", acct), ("result", "dead")],
                            1,
                        );
                        AttemptResult::Dead { status, error }
                    } else {
                        report.retrying += 1;
                        metrics().add(
                            "ordervault_webhook_deliveries_total",
                            &[("account", acct), ("result", "retry")],
                            1,
                        );
                        AttemptResult::Retry {
                            next_at: now + delay,
                            status,
                            error,
                        }
                    };
                    store
                        .record_attempt(endpoint.id.as_str(), ev.id, &result, now)
                        .await?;
                }
            }
        }
        store.advance_floor(endpoint.id.as_str()).await?;
        Ok(())
    }

    async fn send(
        &self,
        endpoint: &WebhookEndpoint,
        key: &[u8],
        ev: &OutboxEvent,
        body: Vec<u8>,
    ) -> Outcome {
        // Checked again at every delivery: the URL rules and an IP-literal host here, a
        // host name by the resolver as the connection is made.
        let url = match parse_url(&endpoint.url).and_then(|u| {
            check_literal(&u, self.app.settings.forward.allow_private_targets).map(|()| u)
        }) {
            Ok(url) => url,
            Err(e) => {
                return Outcome::Failed {
                    status: None,
                    error: e.to_string(),
                    retry_after: None,
                }
            }
        };
        let ts = self.app.clock.now().timestamp();
        let signature = sign(key, &ev.event_id, ts, &body);
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &ev.event_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match resp {
            Ok(r) if r.status().is_success() => Outcome::Delivered,
            Ok(r) if r.status().as_u16() == 410 => Outcome::Gone,
            Ok(r) => Outcome::Failed {
                status: Some(r.status().as_u16()),
                error: format!("receiver answered HTTP {}", r.status().as_u16()),
                retry_after: ordervault_connectors::http::retry_after(r.headers()),
            },
            Err(e) => Outcome::Failed {
                status: None,
                error: refusal_in(&e).map_or_else(
                    || ordervault_connectors::http::describe(&e),
                    |refused| refused.to_string(),
                ),
                retry_after: None,
            },
        }
    }
}

/// 5 s doubling per attempt up to `max_ms` (`forward.max_backoff_secs`, an hour by
/// default), ±20 % jitter; a longer `Retry-After` wins.
fn backoff_ms(attempts: i64, retry_after: Option<Duration>, max_ms: i64) -> i64 {
    let exp = BACKOFF_BASE_MS
        .saturating_mul(1i64 << attempts.clamp(0, 20))
        .min(max_ms);
    let jittered = (exp as f64 * rand::thread_rng().gen_range(0.8..1.2)) as i64;
    let ra = retry_after.map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64);
    jittered.max(ra)
}

/// Runs passes until `shutdown` flips: at once when ingest signals new events, else every
/// `tick`, so delivery starts within a second of the commit.
pub async fn run_forwarder(
    forwarder: Arc<Forwarder>,
    tick: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let notify = forwarder.app.outbox_notify.clone();
    loop {
        if let Err(e) = forwarder.run_once().await {
            tracing::warn!(error = %e, "forwarder pass failed");
        }
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
    }
}
