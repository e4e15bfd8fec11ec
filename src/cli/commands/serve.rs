//! `ordervault serve`: the whole service (see `crate::startup`) until Ctrl-C or SIGTERM.

use crate::app::App;
use crate::startup::{self, ServeOptions};

/// Serves until a shutdown signal, then waits for the loops to stop.
pub async fn run(app: App) -> anyhow::Result<()> {
    let running = startup::serve(app, ServeOptions::default()).await?;
    let stop = running.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.shutdown();
    });
    running.stopped().await?;
    Ok(())
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
