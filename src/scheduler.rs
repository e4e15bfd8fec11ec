//! Background jobs on a cron schedule: the pseudonymization sweep (`pseudonymize.cron`,
//! hourly by default). Several `serve` processes may each run the scheduler; the
//! per-account sweep lease keeps them from sweeping one account twice at once.
//!
//! Job runs log counts and account ids only, never personal data.

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

use crate::app::App;
use crate::config::ConfigError;
use crate::error::ServiceError;
use crate::privacy::pseudonymize::sweep;

fn scheduler_error(e: JobSchedulerError) -> ServiceError {
    ServiceError::internal(format!("job scheduler: {e}"))
}

/// The pseudonymization job: sweeps every active account on `pseudonymize.cron`.
pub fn pseudonymize_job(app: App) -> Result<Job, ServiceError> {
    let cron = app.settings.pseudonymize.cron.clone();
    Job::new_async(cron.as_str(), move |_id, _scheduler| {
        let app = app.clone();
        Box::pin(async move {
            match sweep(&app, None).await {
                Ok(report) => tracing::info!(
                    accounts = report.accounts.len(),
                    orders = report.pseudonymized,
                    "pseudonymization sweep finished"
                ),
                Err(e) => tracing::error!(error = %e, "pseudonymization sweep failed"),
            }
        })
    })
    .map_err(|_| {
        ServiceError::Config(ConfigError::Invalid(format!(
            "pseudonymize.cron is not a valid cron expression with seconds: {cron:?}"
        )))
    })
}

/// Starts the scheduler with the pseudonymization job. Keep the returned scheduler
/// alive for as long as jobs should run; `shutdown` it on exit.
pub async fn start_scheduler(app: App) -> Result<JobScheduler, ServiceError> {
    let scheduler = JobScheduler::new().await.map_err(scheduler_error)?;
    scheduler
        .add(pseudonymize_job(app.clone())?)
        .await
        .map_err(scheduler_error)?;
    scheduler.start().await.map_err(scheduler_error)?;
    tracing::info!(cron = %app.settings.pseudonymize.cron, "pseudonymization scheduled");
    Ok(scheduler)
}
