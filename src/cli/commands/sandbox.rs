//! `ordervault sandbox` (feature `sandbox`): one sandbox marketplace on a port, with the
//! connection file and URLs to connect to it, until Ctrl-C.

use std::sync::Arc;

use anyhow::Context;

use super::serve::shutdown_signal;
use crate::cli::args::SandboxArgs;
use crate::connectors::clock::{SharedClock, SystemClock};
use crate::connectors::sandbox::{self, SandboxConfig};
use crate::connectors::MarketplaceKind;

/// Starts the sandbox, prints how to connect, serves until a shutdown signal.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let kind: MarketplaceKind = args
        .marketplace
        .parse()
        .map_err(|_| anyhow::anyhow!("--marketplace must be bol, amazon or ebay"))?;
    if !(0.0..=1.0).contains(&args.fault_rate) {
        anyhow::bail!("--fault-rate must be between 0 and 1");
    }
    let config = SandboxConfig {
        orders: args.orders,
        seed: args.seed,
        port: args.port,
        rate_limits: !args.no_rate_limits,
        fault_rate: args.fault_rate,
        ..SandboxConfig::default()
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let file = config.credentials.connection_file(kind);
    let handle = sandbox::start(kind, config, clock)
        .await
        .context("cannot start the sandbox")?;
    let (base, auth) = (handle.base_url(), handle.auth_url(kind));
    println!(
        "{kind} sandbox listening on {base} with {} orders (seed {})",
        args.orders, args.seed
    );
    println!("base url (--base-url): {base}");
    println!("auth url (--auth-url): {auth}");
    println!("connection file for it:\n{file}");
    println!("connect: ordervault connection add --account ID --marketplace {kind} --credentials-file FILE --base-url {base} --auth-url {auth}");
    shutdown_signal().await;
    drop(handle);
    Ok(())
}
