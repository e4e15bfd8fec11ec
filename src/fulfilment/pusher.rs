//! The pusher: delivers stored shipments and cancellations to the marketplaces.
//!
//! At least once, never twice: a request is marked `sent` (with a lease) before it goes
//! out, and every attempt carries the request's one idempotency key (bol
//! `shipmentReference`, Amazon `packageReferenceId`, eBay tracking number as fulfillment
//! id), so a crash between the call and the answer repeats the call and the marketplace
//! recognises it. Requests of one order go strictly in order (the store hands out only
//! the oldest unfinished one per order); different orders go concurrently. Transient
//! failures back off exponentially with ±20 % jitter, a marketplace's `Retry-After` or
//! rate-limit reset winning, until `fulfilment.retry_window_hours`; then `failed`.
//! Clients pace themselves on each marketplace's published limits. Never logs a request
//! body; log lines carry request ids, states and marketplace status codes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ordervault_connectors::amazon::{
    AmazonConfig, AmazonCredentials, AmazonFulfilment, UsagePlan, CONFIRM_SHIPMENT_PLAN,
};
use ordervault_connectors::bol::{BolConfig, BolCredentials, BolFulfilment};
use ordervault_connectors::carriers::Carrier;
use ordervault_connectors::ebay::{EbayConfig, EbayCredentials, EbayFulfilment};
use ordervault_connectors::fulfilment::{
    CancelReason, CancellationPush, Fulfilment, PushLine, PushOutcome, ShipmentPush,
};
use ordervault_connectors::{ConnectorError, MarketplaceKind, OrderNumber};
use rand::Rng;
use serde::Serialize;
use tokio::sync::Mutex;

use super::request::RequestLine;
use super::view::public_id;
use crate::app::App;
use crate::error::ServiceError;
use crate::ids::{AccountId, ConnectionId};
use crate::ingest::connections::{open_credentials, ClientOptions};
use crate::metrics::metrics;
use crate::store::catalog::ConnectionRecord;
use crate::store::fulfilment::{Finish, RequestRow};
use crate::store::AccountStore;

/// Requests read per query.
const BATCH: i64 = 500;
const BACKOFF_BASE_MS: i64 = 2_000;

/// What one pass did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct PushReport {
    pub accepted: u64,
    pub rejected: u64,
    pub processing: u64,
    pub retrying: u64,
    pub failed: u64,
}

impl PushReport {
    fn add(&mut self, o: &PushReport) {
        self.accepted += o.accepted;
        self.rejected += o.rejected;
        self.processing += o.processing;
        self.retrying += o.retrying;
        self.failed += o.failed;
    }

    /// Requests that reached a final state in this pass.
    pub fn finished(&self) -> u64 {
        self.accepted + self.rejected + self.failed
    }
}

type Client = Arc<dyn Fulfilment>;

/// A pusher. Share one per process; several processes share work through leases.
pub struct Pusher {
    app: App,
    options: ClientOptions,
    /// One client per connection (token caches and pacing live in it), rebuilt when the
    /// connection changes.
    clients: Mutex<HashMap<ConnectionId, (i64, Client)>>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher").finish_non_exhaustive()
    }
}

/// Builds the push client for a stored connection.
pub fn build_fulfilment(
    rec: &ConnectionRecord,
    credentials_json: &str,
    app: &App,
    options: &ClientOptions,
) -> Result<Client, ServiceError> {
    // The same hosts, auth URL, region and marketplaces the connection syncs with.
    let (kind, settings) = crate::ingest::connections::settings_of(rec)?;
    let settings = settings
        .validate(kind)
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let ep = ordervault_connectors::connect::endpoints(kind, &settings);
    let bad = |e: String| ServiceError::Invalid(format!("{kind} credentials: {e}"));
    let clock = app.clock.clone();
    Ok(match kind {
        MarketplaceKind::Bol => {
            let creds =
                BolCredentials::from_json(credentials_json).map_err(|e| bad(e.to_string()))?;
            let config = BolConfig {
                api_base: ep.api,
                token_url: ep.auth,
            };
            Arc::new(BolFulfilment::new(config, creds, clock, options.retry))
        }
        MarketplaceKind::Amazon => {
            let creds = AmazonCredentials::from_json(credentials_json).map_err(|e| bad(e.0))?;
            let mut config = AmazonConfig {
                lwa_url: ep.auth,
                endpoint: ep.api,
                ..AmazonConfig::default()
            };
            if !settings.marketplace_ids.is_empty() {
                config.marketplace_ids = settings.marketplace_ids.clone();
            }
            let plan = if options.unpaced {
                UsagePlan {
                    rate: 1e6,
                    burst: 1_000_000,
                }
            } else {
                CONFIRM_SHIPMENT_PLAN
            };
            Arc::new(AmazonFulfilment::new(
                config,
                creds,
                clock,
                options.retry,
                plan,
            ))
        }
        MarketplaceKind::Ebay => {
            let creds =
                EbayCredentials::from_json(credentials_json).map_err(|e| bad(e.to_string()))?;
            let mut config = EbayConfig {
                api_base: ep.api,
                token_url: ep.auth,
                ..EbayConfig::default()
            };
            if options.unpaced {
                config.pacing = ordervault_connectors::ebay::Pacing {
                    per_second: 1e6,
                    burst: 1_000_000,
                };
            }
            Arc::new(EbayFulfilment::new(config, creds, clock, options.retry))
        }
    })
}

/// The stable key of a request at the marketplace: the same on every attempt.
pub fn marketplace_key(account: &AccountId, row: &RequestRow) -> String {
    format!("ov-{}-{}", account.as_str(), public_id(&row.kind, row.id))
}

enum Step {
    Finished(&'static str, Option<String>, Option<String>),
    Again {
        at: i64,
        error: Option<String>,
        process_ids: Option<String>,
    },
}

impl Pusher {
    pub fn new(app: App, options: ClientOptions) -> Self {
        Self {
            app,
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn settings(&self) -> &crate::config::FulfilmentSettings {
        &self.app.settings.fulfilment
    }

    /// One pass over every active account: every due request gets one attempt.
    pub async fn run_once(&self) -> Result<PushReport, ServiceError> {
        let mut report = PushReport::default();
        for account in self.app.store.catalog().accounts().await? {
            if account.status.as_str() != "active" {
                continue;
            }
            let id = account.id;
            match self.run_account(&id).await {
                Ok(r) => report.add(&r),
                Err(e) => tracing::warn!(account = %id.as_str(), error = %e, "push pass failed"),
            }
        }
        if report.accepted + report.rejected > 0 {
            // Their webhook events are in the outbox now.
            self.app.outbox_notify.notify_one();
        }
        Ok(report)
    }

    /// Every due request of one account.
    pub async fn run_account(&self, account: &AccountId) -> Result<PushReport, ServiceError> {
        let mut report = PushReport::default();
        if !self.app.store.account_store_exists(account).await? {
            return Ok(report);
        }
        let store = self.app.store.account(account).await?;
        let connections = self.app.store.catalog().connections(Some(account)).await?;
        let lease = i64::from(self.settings().lease_secs) * 1000;
        loop {
            let now = self.app.now_ms();
            let due = store.due_requests(now, BATCH).await?;
            let n = due.len() as i64;
            // One statement marks the batch `sent` (leased) before anything goes out.
            let ids: Vec<i64> = due.iter().map(|r| r.id).collect();
            let claimed: std::collections::HashSet<i64> = store
                .claim_requests(&ids, now, now + lease)
                .await?
                .into_iter()
                .collect();
            let steps: Vec<(RequestRow, Step)> =
                futures::stream::iter(due.into_iter().filter(|r| claimed.contains(&r.id)).map(
                    |row| {
                        let connections = &connections;
                        async move {
                            let outcome = match self.client(connections, &row.marketplace).await {
                                Ok(client) => self.call(client.as_ref(), account, &row).await,
                                Err(why) => Err(ConnectorError::Unavailable(why)),
                            };
                            let step = self.next_step(&row, outcome, self.app.now_ms());
                            (row, step)
                        }
                    },
                ))
                .buffer_unordered(self.settings().concurrency.max(1) as usize)
                .collect()
                .await;
            self.record(&store, &steps, &mut report).await?;
            if n < BATCH {
                break;
            }
        }
        Ok(report)
    }

    async fn client(
        &self,
        connections: &[ConnectionRecord],
        marketplace: &str,
    ) -> Result<Client, String> {
        let rec = connections
            .iter()
            .find(|c| c.marketplace == marketplace)
            .ok_or_else(|| format!("the account has no {marketplace} connection"))?;
        {
            let cache = self.clients.lock().await;
            if let Some((at, c)) = cache.get(&rec.id) {
                if *at == rec.updated_at {
                    return Ok(c.clone());
                }
            }
        }
        let creds = open_credentials(&self.app, rec)
            .await
            .map_err(|_| format!("the {marketplace} connection's credentials cannot be read"))?;
        let client = build_fulfilment(rec, &creds, &self.app, &self.options)
            .map_err(|_| format!("the {marketplace} connection's credentials are invalid"))?;
        self.clients
            .lock()
            .await
            .insert(rec.id.clone(), (rec.updated_at, client.clone()));
        Ok(client)
    }

    /// Records a batch's answers: every finished request in one transaction (with its
    /// order version bump and webhook event), then the retries.
    async fn record(
        &self,
        store: &AccountStore,
        steps: &[(RequestRow, Step)],
        report: &mut PushReport,
    ) -> Result<(), ServiceError> {
        let now = self.app.now_ms();
        let finishes: Vec<Finish<'_>> = steps
            .iter()
            .filter_map(|(row, step)| match step {
                Step::Finished(state, mref, reason) => Some(Finish {
                    id: row.id,
                    state,
                    marketplace_ref: mref.as_deref(),
                    reason: reason.as_deref(),
                }),
                Step::Again { .. } => None,
            })
            .collect();
        store.finish_requests(&finishes, now).await?;
        for (row, step) in steps {
            let rid = public_id(&row.kind, row.id);
            match step {
                Step::Finished(state, _, _) => {
                    match *state {
                        "accepted" => report.accepted += 1,
                        "rejected" => report.rejected += 1,
                        _ => report.failed += 1,
                    }
                    tracing::info!(request = %rid, marketplace = %row.marketplace, state = *state, "push finished");
                    metrics().add(
                        "ordervault_push_requests_total",
                        &[
                            ("marketplace", row.marketplace.as_str()),
                            ("result", *state),
                        ],
                        1,
                    );
                }
                Step::Again {
                    at,
                    error,
                    process_ids,
                } => {
                    store
                        .reschedule_request(
                            row.id,
                            *at,
                            error.as_deref(),
                            process_ids.as_deref(),
                            now,
                        )
                        .await?;
                    if process_ids.is_some() {
                        report.processing += 1;
                    }
                    if let Some(e) = error {
                        report.retrying += 1;
                        tracing::warn!(request = %rid, marketplace = %row.marketplace, error = %e, "push will be retried");
                    }
                }
            }
        }
        Ok(())
    }

    async fn call(
        &self,
        client: &dyn Fulfilment,
        account: &AccountId,
        row: &RequestRow,
    ) -> Result<PushOutcome, ConnectorError> {
        if let Some(ids) = row.process_ids.as_deref().filter(|s| !s.is_empty()) {
            let ids: Vec<String> = ids.split(',').map(str::to_owned).collect();
            return client.poll(&ids).await;
        }
        let bad = |what: &str| ConnectorError::Protocol(format!("stored request has a bad {what}"));
        let order_number =
            OrderNumber::parse(&row.order_number).map_err(|_| bad("order number"))?;
        let lines: Vec<RequestLine> =
            serde_json::from_str(&row.lines).map_err(|_| bad("line list"))?;
        let lines = lines
            .into_iter()
            .map(|l| PushLine {
                line_id: l.line_id,
                quantity: l.quantity,
            })
            .collect();
        let key = marketplace_key(account, row);
        if row.kind == "shipment" {
            let push = ShipmentPush {
                order_number,
                lines,
                carrier: Carrier::parse(row.carrier.as_deref().unwrap_or("other"))
                    .map_err(|_| bad("carrier"))?,
                tracking_number: row.tracking_number.clone().unwrap_or_default(),
                tracking_url: None,
                shipped_at: crate::time::datetime(row.shipped_at.unwrap_or(row.created_at)),
                idempotency_key: key,
                package_number: row.id,
            };
            client.ship(&push).await
        } else {
            let push = CancellationPush {
                order_number,
                lines,
                reason: CancelReason::parse(row.reason.as_deref().unwrap_or(""))
                    .unwrap_or(CancelReason::Other),
                idempotency_key: key,
            };
            client.cancel(&push).await
        }
    }

    fn next_step(
        &self,
        row: &RequestRow,
        outcome: Result<PushOutcome, ConnectorError>,
        now: i64,
    ) -> Step {
        match outcome {
            Ok(PushOutcome::Accepted { marketplace_ref }) => {
                Step::Finished("accepted", marketplace_ref, None)
            }
            Ok(PushOutcome::Rejected { reason }) => Step::Finished("rejected", None, Some(reason)),
            Ok(PushOutcome::Processing { process_ids }) => {
                // Poll soon, then less often (attempts count every call).
                let polls = (row.attempts - 1).clamp(0, 6);
                let delay = i64::from(self.settings().poll_ms).saturating_mul(1 << polls);
                Step::Again {
                    at: now + delay.min(self.max_backoff_ms()),
                    error: None,
                    process_ids: Some(process_ids.join(",")),
                }
            }
            Err(e) => {
                let retry_after = match &e {
                    ConnectorError::RateLimited { retry_after } => *retry_after,
                    _ => None,
                };
                let delay = backoff_ms(row.attempts, retry_after, self.max_backoff_ms());
                let window = i64::from(self.settings().retry_window_hours) * 3_600_000;
                if now + delay - row.created_at > window {
                    Step::Finished("failed", None, Some(format!("gave up after retries: {e}")))
                } else {
                    Step::Again {
                        at: now + delay,
                        error: Some(e.to_string()),
                        process_ids: None,
                    }
                }
            }
        }
    }

    fn max_backoff_ms(&self) -> i64 {
        i64::from(self.settings().max_backoff_secs) * 1000
    }
}

/// 2 s doubling per attempt up to `max_ms`, ±20 % jitter; a longer `Retry-After` wins.
fn backoff_ms(attempts: i64, retry_after: Option<Duration>, max_ms: i64) -> i64 {
    let exp = BACKOFF_BASE_MS
        .saturating_mul(1i64 << (attempts - 1).clamp(0, 20))
        .min(max_ms);
    let jittered = (exp as f64 * rand::thread_rng().gen_range(0.8..1.2)) as i64;
    let ra = retry_after.map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64);
    jittered.max(ra)
}

/// Runs passes until `shutdown` flips: at once when a request is stored (the API wakes
/// `App::push_notify`), else every `tick`.
pub async fn run_pusher(
    pusher: Arc<Pusher>,
    tick: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let notify = pusher.app.push_notify.clone();
    loop {
        if let Err(e) = pusher.run_once().await {
            tracing::warn!(error = %e, "pusher pass failed");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_jitters_and_yields_to_retry_after() {
        let b = backoff_ms(1, None, 3_600_000);
        assert!((1_600..=2_400).contains(&b), "{b}");
        let b = backoff_ms(4, None, 3_600_000);
        assert!((12_800..=19_200).contains(&b), "{b}");
        let b = backoff_ms(30, None, 60_000);
        assert!(b <= 72_000, "{b}");
        assert!(backoff_ms(1, Some(Duration::from_secs(30)), 3_600_000) >= 30_000);
    }
}
