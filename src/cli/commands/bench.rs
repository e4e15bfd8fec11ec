//! `ordervault bench seed` (feature `sandbox`): fills an account with synthetic orders for
//! the benchmark scripts.

use crate::app::App;
use crate::bench_seed::{seed, SeedOptions};
use crate::cli::args::BenchCommand;
use crate::cli::{account_arg, print_json};

/// Runs a `bench` command and prints its report.
pub async fn run(app: &App, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Seed {
            account,
            orders,
            customers,
            fulfilled_days_ago,
        } => {
            let id = account_arg(&account)?;
            let options = SeedOptions {
                orders,
                customers,
                fulfilled_days_ago,
            };
            print_json(&seed(app, &id, options).await?)
        }
    }
}
