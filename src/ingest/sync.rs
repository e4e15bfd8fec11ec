//! Sync workers: lease a due connection, list the orders changed since its cursor (with
//! overlap), store them, move the cursor only after they are committed, and record how
//! the run ended. Several workers, in one process or many on one PostgreSQL, share the
//! connections through leases; a killed worker's lease simply runs out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ordervault_connectors::{
    AnnouncedRates, ConnectorError, FetchedOrder, Marketplace, Order, SyncWindow,
};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::connections::{build_client, open_credentials, ClientOptions};
use super::write::write_orders;
use crate::app::App;
use crate::error::ServiceError;
use crate::ids::{AccountId, ConnectionId};
use crate::store::catalog::{ConnectionRecord, RunEnd};
use crate::store::UpsertOutcome;
use crate::time::datetime;

/// The daily reconciliation's period.
const RECONCILE_EVERY_MS: i64 = 24 * 3600 * 1000;
/// First retry after a failure; doubles per consecutive failure up to the configured cap.
const BACKOFF_BASE_SECS: u64 = 30;
/// Orders gathered from consecutive pages of a window into one write: two transactions of
/// [`super::WRITE_BATCH`] (the second sealed while the first is written) instead of one
/// transaction, one data-key round trip and one commit per 200-order eBay page, which
/// made a large first sync commit-bound (issue 18).
const SYNC_WRITE_ORDERS: usize = 2 * super::WRITE_BATCH;

/// How a sync run ended; sent as `ok`, `incomplete`, `needs_reauth`, `lease_lost` or
/// `failed` (CLI output, the `outcome` label of `ordervault_sync_runs_total`, logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    /// Every window synced and every listed order is stored.
    Ok,
    /// Every window synced, but listed orders could not be stored (retried by later runs).
    Incomplete,
    /// The marketplace rejected the credentials; the connection waits for re-authorization.
    NeedsReauth,
    /// Another worker took the lease over; this run recorded nothing.
    LeaseLost,
    /// A transient failure; retried after backoff.
    Failed,
}

impl SyncOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Incomplete => "incomplete",
            Self::NeedsReauth => "needs_reauth",
            Self::LeaseLost => "lease_lost",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What one run of one connection did. Counts only: no order data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub connection: ConnectionId,
    pub account: AccountId,
    pub marketplace: String,
    pub windows: u32,
    pub pages: u32,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub reconciled: bool,
    pub outcome: SyncOutcome,
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the lease was lost to another worker")]
    LeaseLost,
    /// Every window synced, but orders the marketplace listed are not in the store: the
    /// run is not a success (they are recorded and retried by later runs).
    #[error("{0} listed orders could not be stored; see the connection's failures")]
    Incomplete(i64),
}

impl From<crate::store::StoreError> for SyncError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Service(e.into())
    }
}

struct CachedClient {
    fingerprint: [u8; 32],
    client: Arc<dyn Marketplace>,
}

/// A sync worker. Cheap to share; keeps one client (and so one cached access token) per
/// connection for as long as its credentials and base URL stay the same.
pub struct SyncWorker {
    app: App,
    owner: String,
    options: ClientOptions,
    clients: Mutex<HashMap<ConnectionId, CachedClient>>,
}

impl std::fmt::Debug for SyncWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncWorker")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// The rates stored for a connection; none when nothing (or nothing readable) is stored,
/// which only costs relearning them.
fn remembered_rates(c: &ConnectionRecord) -> AnnouncedRates {
    c.announced_rates
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// A unique worker name: host, process and a random suffix.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::thread_rng().gen::<u32>()
    )
}

impl SyncWorker {
    pub fn new(app: App, options: ClientOptions) -> Self {
        Self::with_owner(app, options, worker_name())
    }

    /// A worker with a given lease-owner name (tests run several in one process).
    /// Connections of one marketplace application share its quota (see
    /// `ordervault_connectors::quota`): the worker holds one registry for its clients.
    pub fn with_owner(app: App, mut options: ClientOptions, owner: String) -> Self {
        if options.quotas.is_none() {
            options.quotas = Some(Arc::new(ordervault_connectors::quota::Quotas::new()));
        }
        Self {
            app,
            owner,
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn lease_ms(&self) -> i64 {
        i64::from(self.app.settings.sync.lease_secs) * 1000
    }

    /// Leases up to `limit` due connections and syncs them concurrently to the end.
    pub async fn run_due(&self, limit: u32) -> Result<Vec<RunReport>, ServiceError> {
        let now = self.app.now_ms();
        let claimed = self
            .app
            .store
            .catalog()
            .claim_due_connections(&self.owner, now, now + self.lease_ms(), i64::from(limit))
            .await?;
        let runs = claimed.into_iter().map(|c| self.run_claimed(c));
        Ok(futures::future::join_all(runs).await)
    }

    /// Leases one connection now, due or not, and syncs it to the end (`connection sync`).
    /// `None` when it is not active or another worker holds its lease.
    pub async fn run_one(&self, id: &ConnectionId) -> Result<Option<RunReport>, ServiceError> {
        let now = self.app.now_ms();
        let claimed = self
            .app
            .store
            .catalog()
            .claim_connection(id, &self.owner, now, now + self.lease_ms())
            .await?;
        Ok(match claimed {
            Some(c) => Some(self.run_claimed(c).await),
            None => None,
        })
    }

    /// Syncs a connection this worker has leased, keeping the lease alive meanwhile, and
    /// records the outcome (which also releases the lease).
    pub async fn run_claimed(&self, c: ConnectionRecord) -> RunReport {
        let heartbeat = self.spawn_heartbeat(c.id.clone());
        let mut report = RunReport {
            connection: c.id.clone(),
            account: c.account_id.clone(),
            marketplace: c.marketplace.clone(),
            windows: 0,
            pages: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            reconciled: false,
            // Set on every path below.
            outcome: SyncOutcome::Failed,
            error: None,
        };
        let result = self.sync(&c, &mut report).await;
        heartbeat.abort();
        self.remember_rates(&c).await;
        let now = self.app.now_ms();
        let end = match &result {
            Ok(()) => {
                report.outcome = SyncOutcome::Ok;
                RunEnd::Success {
                    next_run_ms: now + c.interval_secs * 1000,
                }
            }
            Err(SyncError::Connector(ConnectorError::NeedsReauth { reason })) => {
                report.outcome = SyncOutcome::NeedsReauth;
                report.error = Some(reason.clone());
                RunEnd::NeedsReauth {
                    reason: reason.clone(),
                }
            }
            Err(e @ SyncError::Incomplete(_)) => {
                report.outcome = SyncOutcome::Incomplete;
                let error = e.to_string();
                report.error = Some(error.clone());
                // Not a marketplace problem: no backoff, the next run retries them.
                RunEnd::Failed {
                    error,
                    next_run_ms: now + c.interval_secs * 1000,
                }
            }
            Err(SyncError::LeaseLost) => {
                report.outcome = SyncOutcome::LeaseLost;
                tracing::warn!(connection = %c.id, "sync lease lost; another worker has it");
                return report;
            }
            Err(e) => {
                report.outcome = SyncOutcome::Failed;
                let error = e.to_string();
                report.error = Some(error.clone());
                RunEnd::Failed {
                    error,
                    next_run_ms: now + self.backoff_ms(&c, e),
                }
            }
        };
        match self
            .app
            .store
            .catalog()
            .finish_run(&c.id, &self.owner, &end, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => report.outcome = SyncOutcome::LeaseLost,
            Err(e) => {
                tracing::error!(connection = %c.id, error = %e, "could not record sync outcome")
            }
        }
        crate::metrics::metrics().add(
            "ordervault_sync_runs_total",
            &[("outcome", report.outcome.as_str())],
            1,
        );
        tracing::info!(
            connection = %c.id, account = %c.account_id, marketplace = %c.marketplace,
            outcome = %report.outcome, inserted = report.inserted, updated = report.updated,
            unchanged = report.unchanged, failed = report.failed, pages = report.pages,
            "sync run finished"
        );
        report
    }

    /// Exponential backoff with jitter; a marketplace's own retry-after wins if longer.
    fn backoff_ms(&self, c: &ConnectionRecord, e: &SyncError) -> i64 {
        let cap = u64::from(self.app.settings.sync.max_backoff_secs);
        let n = c.consecutive_failures.clamp(0, 16) as u32;
        let base = BACKOFF_BASE_SECS.saturating_mul(1 << n).min(cap);
        let jitter = rand::thread_rng().gen_range(0.8..1.2);
        let mut ms = (base as f64 * 1000.0 * jitter) as i64;
        if let SyncError::Connector(ConnectorError::RateLimited {
            retry_after: Some(ra),
        }) = e
        {
            ms = ms.max(ra.as_millis().min(i64::MAX as u128) as i64);
        }
        ms
    }

    fn spawn_heartbeat(&self, id: ConnectionId) -> tokio::task::JoinHandle<()> {
        let catalog = self.app.store.catalog().clone();
        let clock = self.app.clock.clone();
        let owner = self.owner.clone();
        let lease = self.lease_ms();
        tokio::spawn(async move {
            let every = Duration::from_millis((lease / 3).max(1) as u64);
            loop {
                tokio::time::sleep(every).await;
                let until = clock.now().timestamp_millis() + lease;
                match catalog.renew_lease(&id, &owner, until).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!(connection = %id, error = %e, "lease renewal failed"),
                }
            }
        })
    }

    async fn client_for(&self, c: &ConnectionRecord) -> Result<Arc<dyn Marketplace>, SyncError> {
        let ct = self
            .app
            .store
            .catalog()
            .connection_credentials(&c.id)
            .await?
            .unwrap_or_default();
        let mut h = Sha256::new();
        h.update(&ct);
        h.update(c.base_url.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(c.settings.as_deref().unwrap_or("").as_bytes());
        let fingerprint: [u8; 32] = h.finalize().into();
        if let Some(cached) = self.clients.lock().expect("client cache").get(&c.id) {
            if cached.fingerprint == fingerprint {
                return Ok(cached.client.clone());
            }
        }
        let creds = open_credentials(&self.app, c).await?;
        let mut options = self.options.clone();
        options.announced = remembered_rates(c);
        let client = build_client(c, &creds, self.app.clock.clone(), &options)?;
        self.clients.lock().expect("client cache").insert(
            c.id.clone(),
            CachedClient {
                fingerprint,
                client: client.clone(),
            },
        );
        Ok(client)
    }

    /// Stores the rates the marketplace announced to the connection's client when they
    /// differ from what is stored, so the next process starts pacing at them.
    async fn remember_rates(&self, c: &ConnectionRecord) {
        let client = match self.clients.lock().expect("client cache").get(&c.id) {
            Some(cached) => cached.client.clone(),
            None => return,
        };
        let rates = client.announced_rates();
        if rates.is_empty() || rates == remembered_rates(c) {
            return;
        }
        let Ok(json) = serde_json::to_string(&rates) else {
            return;
        };
        if let Err(e) = self
            .app
            .store
            .catalog()
            .set_announced_rates(&c.id, &json)
            .await
        {
            tracing::warn!(connection = %c.id, error = %e, "announced rates not stored");
        }
    }

    async fn sync(&self, c: &ConnectionRecord, report: &mut RunReport) -> Result<(), SyncError> {
        let client = self.client_for(c).await?;
        let hints = client.sync_hints();
        let sync = &self.app.settings.sync;
        let now = self.app.clock.now();
        let now_ms = now.timestamp_millis();
        let to = now - hints.visibility_delay;
        let mut from = match c.cursor_ms {
            Some(cursor) => datetime(cursor) - hints.overlap,
            None => now - chrono::Duration::days(i64::from(sync.initial_lookback_days)),
        };
        let reconcile = c
            .last_reconciled_ms
            .is_none_or(|t| now_ms - t >= RECONCILE_EVERY_MS);
        if reconcile {
            from = from.min(now - chrono::Duration::days(i64::from(sync.reconcile_days)));
        }
        report.reconciled = reconcile;
        let account = c.account_id.clone();
        let store = self.app.store.account(&account).await?;
        // Orders that failed before are listed again: their window joins this run, until
        // it falls out of the reconciliation's reach (or their attempts run out).
        if let Some(retry) = store.retry_from(&c.marketplace, c.id.as_str()).await? {
            let floor = now - chrono::Duration::days(i64::from(sync.reconcile_days));
            let retry = datetime(retry);
            if retry >= floor {
                from = from.min(retry);
            }
        }
        if from >= to {
            return self.check_complete(&store, c).await;
        }
        let keys = self
            .app
            .keyring
            .keys(&account)
            .await
            .map_err(ServiceError::from)?;
        // Every write of this run through one connection that keeps its cache.
        let store = store.for_bulk_writes().await?;
        let mut had_failures = store.has_failures().await?;

        let max = hints.max_window.max(chrono::Duration::minutes(1));
        let mut start = from;
        while start < to {
            let end = (start + max).min(to);
            let window = SyncWindow {
                from: start,
                to: end,
            };
            report.windows += 1;
            let mut page = None;
            let mut window_orders = 0i64;
            // Pages are gathered into writes of about [`SYNC_WRITE_ORDERS`] orders, and
            // the write of one batch overlaps the fetching of the next; every write is
            // awaited before the cursor moves.
            let mut pending: Option<tokio::task::JoinHandle<Result<PageWrite, SyncError>>> = None;
            let mut orders: Vec<Order> = Vec::new();
            let mut failures = Vec::new();
            let page_job = |orders, failures, clear_failures| PageJob {
                store: store.clone(),
                keys: keys.clone(),
                marketplace: c.marketplace.clone(),
                connection_id: c.id.clone(),
                orders,
                failures,
                clear_failures,
                now_ms: self.app.now_ms(),
                retry_from_ms: start.timestamp_millis(),
            };
            loop {
                let result = match client.fetch_page(window, page).await {
                    Ok(r) => r,
                    Err(e) => {
                        // What was fetched before the failure is still stored.
                        if let Some(h) = pending.take() {
                            report.add(join_write(h).await?);
                        }
                        if !orders.is_empty() || !failures.is_empty() {
                            let job = page_job(
                                std::mem::take(&mut orders),
                                std::mem::take(&mut failures),
                                had_failures,
                            );
                            report.add(job.run().await?);
                        }
                        return Err(e.into());
                    }
                };
                report.pages += 1;
                let before = failures.len();
                for o in result.orders {
                    match o {
                        FetchedOrder::Ok(o) => orders.push(*o),
                        FetchedOrder::Failed {
                            marketplace_order_id,
                            error,
                        } => failures.push((marketplace_order_id, error)),
                    }
                }
                if failures.len() > before {
                    tracing::warn!(connection = %c.id, count = failures.len() - before, "orders failed to normalize");
                    had_failures = true;
                }
                page = result.next;
                if page.is_some() && orders.len() + failures.len() < SYNC_WRITE_ORDERS {
                    continue;
                }
                if let Some(h) = pending.take() {
                    report.add(join_write(h).await?);
                }
                window_orders += orders.len() as i64;
                let job = page_job(
                    std::mem::take(&mut orders),
                    std::mem::take(&mut failures),
                    had_failures,
                );
                let notify = self.app.outbox_notify.clone();
                pending = Some(tokio::spawn(async move {
                    let w = job.run().await;
                    // Committed: wake the forwarder.
                    notify.notify_one();
                    w
                }));
                if page.is_none() {
                    break;
                }
            }
            if let Some(h) = pending.take() {
                report.add(join_write(h).await?);
            }
            // Everything changed before `end` is committed: the cursor may move there.
            let reconciled = (reconcile && end >= to).then_some(now_ms);
            let moved = self
                .app
                .store
                .catalog()
                .advance_cursor(
                    &c.id,
                    &self.owner,
                    end.timestamp_millis(),
                    reconciled,
                    window_orders,
                    self.app.now_ms(),
                )
                .await?;
            if !moved {
                return Err(SyncError::LeaseLost);
            }
            start = end;
        }
        self.check_complete(&store, c).await
    }

    /// A run succeeds only when every order the marketplace listed is in the store.
    async fn check_complete(
        &self,
        store: &crate::store::AccountStore,
        c: &ConnectionRecord,
    ) -> Result<(), SyncError> {
        match store.failure_count(&c.marketplace, c.id.as_str()).await? {
            0 => Ok(()),
            n => Err(SyncError::Incomplete(n)),
        }
    }
}

/// What writing one page did.
#[derive(Debug, Default)]
struct PageWrite {
    inserted: u64,
    updated: u64,
    unchanged: u64,
    failed: u64,
}

impl RunReport {
    fn add(&mut self, w: PageWrite) {
        if w.inserted + w.updated > 0 {
            crate::metrics::metrics().add(
                "ordervault_orders_ingested_total",
                &[
                    ("account", self.account.as_str()),
                    ("marketplace", &self.marketplace),
                    ("outcome", "inserted"),
                ],
                w.inserted,
            );
            crate::metrics::metrics().add(
                "ordervault_orders_ingested_total",
                &[
                    ("account", self.account.as_str()),
                    ("marketplace", &self.marketplace),
                    ("outcome", "updated"),
                ],
                w.updated,
            );
        }
        crate::metrics::metrics().add(
            "ordervault_orders_ingested_total",
            &[
                ("account", self.account.as_str()),
                ("marketplace", &self.marketplace),
                ("outcome", "failed"),
            ],
            w.failed,
        );
        self.inserted += w.inserted;
        self.updated += w.updated;
        self.unchanged += w.unchanged;
        self.failed += w.failed;
    }
}

/// One page's orders and failures, written in a task of its own.
struct PageJob {
    store: crate::store::AccountStore,
    keys: Arc<crate::keyring::AccountKeyset>,
    marketplace: String,
    connection_id: ConnectionId,
    orders: Vec<Order>,
    failures: Vec<(String, String)>,
    clear_failures: bool,
    now_ms: i64,
    /// Start of the window that listed these orders (failures are retried from it).
    retry_from_ms: i64,
}

impl PageJob {
    async fn run(self) -> Result<PageWrite, SyncError> {
        let mut w = PageWrite::default();
        for r in write_orders(&self.store, &self.keys, &self.orders, self.now_ms).await? {
            match r.outcome {
                UpsertOutcome::Inserted => w.inserted += 1,
                UpsertOutcome::Updated => w.updated += 1,
                UpsertOutcome::Unchanged => w.unchanged += 1,
            }
        }
        if !self.failures.is_empty() {
            w.failed = self.failures.len() as u64;
            self.store
                .record_failures(
                    &self.marketplace,
                    self.connection_id.as_str(),
                    &self.failures,
                    self.now_ms,
                    self.retry_from_ms,
                )
                .await?;
        }
        if self.clear_failures && !self.orders.is_empty() {
            let ids: Vec<&str> = self
                .orders
                .iter()
                .map(|o| o.order_number.as_str())
                .collect();
            self.store.clear_failures(&self.marketplace, &ids).await?;
        }
        Ok(w)
    }
}

async fn join_write(
    h: tokio::task::JoinHandle<Result<PageWrite, SyncError>>,
) -> Result<PageWrite, SyncError> {
    h.await
        .map_err(|e| ServiceError::internal(format!("page write task failed: {e}")))?
}

/// Runs `concurrency` worker loops until `shutdown` flips, each leasing one due connection
/// at a time. Returns when all loops have finished their current run.
pub async fn run_workers(
    worker: Arc<SyncWorker>,
    concurrency: u32,
    tick: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut loops = Vec::new();
    for _ in 0..concurrency.max(1) {
        let worker = worker.clone();
        let mut stop = shutdown.clone();
        loops.push(tokio::spawn(async move {
            loop {
                // Shutdown abandons a run at its next await point, as a kill would: only
                // committed windows moved the cursor, so the next run repeats the rest.
                // (A marketplace run can take many minutes, e.g. Amazon's paced
                // getOrderItems; waiting for it would outlast any termination grace period.)
                let due = tokio::select! {
                    r = worker.run_due(1) => r,
                    _ = stop.changed() => break,
                };
                let ran = match due {
                    Ok(r) => !r.is_empty(),
                    Err(e) => {
                        tracing::warn!(error = %e, "sync worker could not lease connections");
                        false
                    }
                };
                if ran {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    _ = stop.changed() => break,
                }
                if *stop.borrow() {
                    break;
                }
            }
        }));
    }
    let _ = shutdown.changed().await;
    for l in loops {
        let _ = l.await;
    }
    match worker
        .app
        .store
        .catalog()
        .release_leases(&worker.owner)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(connections = n, "sync leases released on shutdown"),
        Err(e) => tracing::warn!(error = %e, "could not release sync leases on shutdown"),
    }
}
