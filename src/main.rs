//! The `ordervault` binary: parses the command line, loads configuration, runs.

use anyhow::Context;
use clap::Parser;
use ordervault::app::{write_key_file, App};
use ordervault::cli::{AccountCommand, Cli, Command, KeysCommand, TokenCommand};
use ordervault::config::Settings;
use ordervault::crypto::MasterKey;
use ordervault::{accounts, privacy, telemetry, tokens};
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(&settings.log);
    match cli.command {
        Command::Keys(KeysCommand::Generate { out }) => {
            let key = MasterKey::generate();
            match out {
                Some(path) => {
                    write_key_file(&path, &key)?;
                    println!(
                        "wrote a new master key to {} (fingerprint {})",
                        path.display(),
                        key.fingerprint()
                    );
                }
                None => println!("{}", key.to_base64().as_str()),
            }
            Ok(())
        }
        command => {
            let app = App::build_default(settings).await?;
            let result = dispatch(&app, command).await;
            app.store.close().await;
            result
        }
    }
}

async fn dispatch(app: &App, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(app.clone()).await,
        Command::Keys(KeysCommand::RotateMaster { new_key_file }) => {
            let new = MasterKey::from_file(&new_key_file)?;
            let report = app.keyring.rotate_master(&new).await?;
            println!(
                "rewrapped {} account key(s) ({} already done) under master key {}; configure {} as the master key now",
                report.rewrapped,
                report.already_done,
                new.fingerprint(),
                new_key_file.display()
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Generate { .. }) => unreachable!("handled before start-up"),
        Command::Account(AccountCommand::Create {
            name,
            retention_days,
        }) => {
            let a = accounts::create_account(app, &name, retention_days).await?;
            println!("{}", serde_json::to_string_pretty(&a)?);
            Ok(())
        }
        Command::Account(AccountCommand::List) => {
            let list = accounts::list_accounts(app).await?;
            println!("{:<16}  {:<8}  {:>9}  NAME", "ID", "STATUS", "RETENTION");
            for a in list {
                println!(
                    "{:<16}  {:<8}  {:>8}d  {}",
                    a.id,
                    a.status.as_str(),
                    a.retention_days,
                    a.name
                );
            }
            Ok(())
        }
        Command::Account(AccountCommand::Close { id }) => {
            let receipt = privacy::closure::close_account(app, &id).await?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            role,
            account,
            label,
        }) => {
            let (token, record) =
                tokens::create_token(app, role, account.as_deref(), label.as_deref()).await?;
            eprintln!(
                "token {} ({}) created; it is shown only once:",
                record.id, record.role
            );
            println!("{}", token.expose_secret());
            Ok(())
        }
    }
}

async fn serve(app: App) -> anyhow::Result<()> {
    let bind = app.settings.server.bind.clone();
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(addr = %listener.local_addr()?, backend = app.store.kind().as_str(), "ordervault serving");
    axum::serve(listener, ordervault::api::router(app))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
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
