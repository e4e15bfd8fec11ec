//! `ordervault backup create|restore`: online backups of the catalog and every store.

use crate::app::App;
use crate::cli::args::BackupCommand;
use crate::cli::print_json;

/// Runs a `backup` command and prints its manifest or report.
pub async fn run(app: &App, command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create { out } => print_json(&crate::backup::create(app, &out).await?),
        BackupCommand::Restore { from } => print_json(&crate::backup::restore(app, &from).await?),
    }
}
