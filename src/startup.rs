//! `serve` as a library function: binds the API (and the metrics listener when
//! `metrics.bind` is set), starts the background work (sync workers, forwarder, pusher,
//! epoch rotation, pseudonymization scheduler, release of closed stores), and returns the
//! bound addresses with a handle that stops it all. `main.rs` calls it for `ordervault
//! serve`; integration tests call it to run the whole service on port 0, not just the
//! router.
//!
//! Shutdown order is fixed: the API stops taking connections and finishes the ones it
//! has, then the scheduler stops, then every background loop finishes the run or delivery
//! it is in. Nothing here logs personal data: addresses, counts and the backend only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::server::{self, ConnectionLimits};
use crate::app::App;
use crate::config::ConfigError;
use crate::error::ServiceError;
use crate::ingest::connections::ClientOptions;
use crate::ingest::sync::{run_workers, SyncWorker};

/// What `serve` runs beyond what the settings say: how marketplace clients are built
/// (production defaults, or a test's knobs: fast retries, a manual sleeper, sandbox
/// quotas), and switches for the loops a test drives by hand, so the service does not
/// race it. `ordervault serve` runs everything (`Default`). The scheduler switch leaves
/// `pseudonymize.enabled` as it is, because the console reports the next sweep from it.
#[derive(Clone)]
pub struct ServeOptions {
    pub clients: ClientOptions,
    /// Deliver the outbox to webhook endpoints in the background.
    pub forwarder: bool,
    /// Rotate key epochs (and destroy expired ones) in the background.
    pub key_rotation: bool,
    /// Run the pseudonymization cron job (when `pseudonymize.enabled`).
    pub scheduler: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            clients: ClientOptions::default(),
            forwarder: true,
            key_rotation: true,
            scheduler: true,
        }
    }
}

/// A running service: where it listens, and how to stop it.
pub struct Running {
    /// The API's bound address (the real port when `server.bind` asks for port 0).
    pub api: SocketAddr,
    /// The metrics listener's bound address, when `metrics.bind` is set.
    pub metrics: Option<SocketAddr>,
    shutdown: ShutdownHandle,
    task: JoinHandle<Result<(), ServiceError>>,
}

/// Stops a [`Running`] service from anywhere (a signal handler, a test); cheap to clone.
#[derive(Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Asks the service to stop; [`Running::stopped`] returns once it has.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl Running {
    /// A handle that stops this service.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Waits until the service has stopped (after [`ShutdownHandle::shutdown`], or
    /// because the API listener failed), with every background loop finished.
    pub async fn stopped(self) -> Result<(), ServiceError> {
        self.task
            .await
            .map_err(|e| ServiceError::internal(format!("serve task failed: {e}")))?
    }

    /// Stops the service and waits until it has stopped.
    pub async fn stop(self) -> Result<(), ServiceError> {
        self.shutdown.shutdown();
        self.stopped().await
    }
}

async fn bind(addr: &str, what: &str) -> Result<tokio::net::TcpListener, ServiceError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        ServiceError::Config(ConfigError::Invalid(format!(
            "cannot listen on {addr} ({what}): {e}"
        )))
    })
}

fn local_addr(l: &tokio::net::TcpListener) -> Result<SocketAddr, ServiceError> {
    l.local_addr()
        .map_err(|e| ServiceError::internal(format!("listener address: {e}")))
}

/// Starts the whole service of `app` as `app.settings` say (`server.bind`,
/// `metrics.bind`, `sync.enabled`, `fulfilment.enabled`, `pseudonymize.enabled`) and
/// returns once it listens. A bind failure is reported here, before anything started.
pub async fn serve(app: App, options: ServeOptions) -> Result<Running, ServiceError> {
    let listener = bind(&app.settings.server.bind, "server.bind").await?;
    let api = local_addr(&listener)?;
    let metrics_listener = match app.settings.metrics.bind.trim() {
        "" => None,
        addr => Some(bind(addr, "metrics.bind").await?),
    };
    let metrics = metrics_listener.as_ref().map(local_addr).transpose()?;
    tracing::info!(addr = %api, backend = app.store.kind().as_str(), "ordervault serving");
    if let Some(addr) = metrics {
        tracing::info!(addr = %addr, "metrics serving");
    }
    let scheduler = if app.settings.pseudonymize.enabled && options.scheduler {
        Some(crate::scheduler::start_scheduler(app.clone()).await?)
    } else {
        None
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let background = Background::start(&app, &options, metrics_listener);
    let task = tokio::spawn(run(app, listener, shutdown_rx, scheduler, background));
    Ok(Running {
        api,
        metrics,
        shutdown: ShutdownHandle(Arc::new(shutdown_tx)),
        task,
    })
}

/// Serves the API until `shutdown` flips, then stops the rest in order.
async fn run(
    app: App,
    listener: tokio::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
    mut scheduler: Option<tokio_cron_scheduler::JobScheduler>,
    background: Background,
) -> Result<(), ServiceError> {
    let limits = ConnectionLimits::from_settings(&app.settings.server);
    let served = server::serve(listener, crate::api::router(app), limits, async move {
        let _ = shutdown.wait_for(|s| *s).await;
    })
    .await;
    // Stop background work; each finishes the run or delivery it is in.
    if let Some(s) = scheduler.as_mut() {
        let _ = s.shutdown().await;
    }
    background.stop().await;
    served.map_err(|e| ServiceError::internal(format!("API server: {e}")))
}

/// The loops beside the API, stopped together by one signal.
struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    fn start(
        app: &App,
        options: &ServeOptions,
        metrics_listener: Option<tokio::net::TcpListener>,
    ) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        if app.settings.sync.enabled {
            let sync = &app.settings.sync;
            let worker = Arc::new(SyncWorker::new(app.clone(), options.clients.clone()));
            tracing::info!(
                owner = worker.owner(),
                concurrency = sync.concurrency,
                "sync workers started"
            );
            tasks.push(tokio::spawn(run_workers(
                worker,
                sync.concurrency,
                Duration::from_millis(sync.tick_ms),
                stop_rx.clone(),
            )));
        }
        if options.forwarder {
            tasks.push(tokio::spawn(crate::forward::run_forwarder(
                Arc::new(crate::forward::Forwarder::new(app.clone())),
                Duration::from_millis(app.settings.forward.tick_ms),
                stop_rx.clone(),
            )));
        }
        if app.settings.fulfilment.enabled {
            tasks.push(tokio::spawn(crate::fulfilment::run_pusher(
                Arc::new(crate::fulfilment::Pusher::new(
                    app.clone(),
                    options.clients.clone(),
                )),
                Duration::from_millis(app.settings.fulfilment.tick_ms),
                stop_rx.clone(),
            )));
        }
        if options.key_rotation {
            tasks.push(tokio::spawn(crate::shredding::run_rotation(
                app.keyring.data.clone(),
                stop_rx.clone(),
            )));
        }
        if let Some(listener) = metrics_listener {
            let limits = ConnectionLimits::from_settings(&app.settings.server);
            let mut stop = stop_rx.clone();
            let router = crate::api::metrics_router(app.clone());
            tasks.push(tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = server::serve(listener, router, limits, stopped).await {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            }));
        }
        tasks.push(tokio::spawn(release_closed_stores(app.clone(), stop_rx)));
        Self { stop, tasks }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// How often `serve` looks for accounts closed by another process (the CLI, another
/// node) whose store pools it still holds open.
const RELEASE_CHECK: Duration = Duration::from_secs(2);

/// Closes this process's pools of closing/closed accounts every [`RELEASE_CHECK`], so a
/// deleted store is not left readable through an open descriptor.
async fn release_closed_stores(app: App, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RELEASE_CHECK) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        match app.store.release_closed_stores().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pools = n, "closed the stores of closed accounts"),
            Err(e) => tracing::warn!(error = %e, "checking for closed accounts failed"),
        }
    }
}
