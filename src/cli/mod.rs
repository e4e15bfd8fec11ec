//! The command line: `args` holds what `ordervault` accepts (clap types), `commands`
//! one module per command group that runs it and prints the answer. `main.rs` only
//! parses the arguments and calls [`run`].
//!
//! Handlers here print; they do not write their own sequence of store calls: every
//! mutation goes through the same service function the API calls (`accounts`,
//! `ingest::connections`, `forward`, `fulfilment`, `privacy`, `tokens`, `keyring`).
//! Output text and exit codes are read by tests and scripts: change them only together.

pub mod args;
pub mod commands;

pub use args::*;

use crate::app::App;
use crate::config::Settings;
use crate::telemetry;

/// Runs one parsed command line to its end. An error is for `main` to print
/// (`error: …`) and to exit with status 1.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    #[allow(unused_mut)]
    let mut settings = Settings::load(cli.config.as_deref())?;
    #[cfg(feature = "sandbox")]
    if matches!(cli.command, Command::Demo { .. }) && std::env::var_os("RUST_LOG").is_none() {
        // The demo narrates on stdout; only warnings go to the log.
        settings.log.level = "warn".into();
    }
    telemetry::init(&settings.log);
    match cli.command {
        Command::Keys(KeysCommand::Generate { out }) => commands::keys::generate(out),
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => commands::sandbox::run(args).await,
        #[cfg(feature = "sandbox")]
        Command::Demo {
            orders,
            seed,
            keep_running,
        } => {
            crate::demo::run(crate::demo::DemoOptions {
                orders,
                seed,
                keep_running,
            })
            .await
        }
        command => {
            let app = App::build_default(settings).await?;
            let result = dispatch(&app, command).await;
            app.store.close().await;
            result
        }
    }
}

/// The commands that need the assembled service (store, keyring).
async fn dispatch(app: &App, command: Command) -> anyhow::Result<()> {
    use commands::*;
    match command {
        Command::Serve => serve::run(app.clone()).await,
        Command::Keys(c) => keys::run(app, c).await,
        Command::Backup(c) => backup::run(app, c).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) | Command::Demo { .. } => unreachable!("handled before start-up"),
        Command::Connection(c) => connection::run(app, c).await,
        Command::Webhook(c) => webhook::run(app, c).await,
        Command::Shipment(c) => print_json(&fulfilment::shipment(app, c).await?),
        Command::Cancellation(c) => print_json(&fulfilment::cancellation(app, c).await?),
        Command::Pseudonymize { account } => privacy::pseudonymize(app, account).await,
        Command::Subject(c) => privacy::subject(app, c).await,
        Command::Privacy { account } => privacy::summary(app, &account).await,
        Command::Doctor => doctor::run(app).await,
        #[cfg(feature = "sandbox")]
        Command::Bench(c) => bench::run(app, c).await,
        Command::Account(c) => account::run(app, c).await,
        Command::Token(c) => token::run(app, c).await,
    }
}

/// Prints a value as pretty JSON on stdout, the answer of most commands.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The account id of a command line argument; a malformed id reads as an unknown one.
pub(crate) fn account_arg(id: &str) -> anyhow::Result<crate::ids::AccountId> {
    id.parse().map_err(|_| anyhow::anyhow!("account not found"))
}
