//! `ordervault doctor`: the read-only check that catalog and stores agree.

use crate::app::App;
use crate::cli::print_json;

/// Prints the findings on stdout and a one-line verdict on stderr; findings are not fatal.
pub async fn run(app: &App) -> anyhow::Result<()> {
    let report = crate::doctor::check(app).await?;
    print_json(&report)?;
    if report.is_clean() {
        eprintln!("doctor: catalog and stores agree");
    } else {
        eprintln!("doctor: findings above (not fatal; see README, \"Running on Citus\")");
    }
    Ok(())
}
