//! The `ordervault` binary: parses the command line and runs it (`ordervault::cli`);
//! an error is printed as `error: …` and exits with status 1.

use clap::Parser;
use ordervault::cli::{self, Cli};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = cli::run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
