//! The `ordervault` binary: parses the command line, loads configuration, runs.

use anyhow::Context;
use clap::Parser;
use ordervault::app::{write_key_file, App};
use ordervault::cli::{
    AccountCommand, BackupCommand, Cli, Command, ConnectionCommand, KeysCommand, SubjectCommand,
    TokenCommand, WebhookCommand,
};
use ordervault::config::Settings;
use ordervault::crypto::MasterKey;
use ordervault::ingest::connections::{self, ClientOptions, NewConnection};
use ordervault::ingest::sync::SyncWorker;
use ordervault::startup::{self, ServeOptions};
use ordervault::{accounts, privacy, telemetry, tokens};
use secrecy::ExposeSecret;
use std::sync::Arc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    #[cfg(feature = "sandbox")]
    if matches!(cli.command, Command::Demo { .. }) && std::env::var_os("RUST_LOG").is_none() {
        // The demo narrates on stdout; only warnings go to the log.
        settings.log.level = "warn".into();
    }
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
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox(args).await,
        #[cfg(feature = "sandbox")]
        Command::Demo {
            orders,
            seed,
            keep_running,
        } => {
            ordervault::demo::run(ordervault::demo::DemoOptions {
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
        Command::Keys(KeysCommand::Status) => {
            let status = app.keyring.data.status().await?;
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let report = app.keyring.data.rotate(None).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Keys(KeysCommand::Reseal { account }) => {
            let id = account
                .map(|a| a.parse())
                .transpose()
                .map_err(|_| anyhow::anyhow!("account not found"))?;
            let report = privacy::reseal::reseal(app, id.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Backup(BackupCommand::Create { out }) => {
            let manifest = ordervault::backup::create(app, &out).await?;
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            Ok(())
        }
        Command::Backup(BackupCommand::Restore { from }) => {
            let report = ordervault::backup::restore(app, &from).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) | Command::Demo { .. } => unreachable!("handled before start-up"),
        Command::Connection(c) => connection(app, c).await,
        Command::Webhook(w) => webhook(app, w).await,
        Command::Shipment(c) => {
            let v = ordervault::fulfilment::commands::shipment(app, c).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        Command::Cancellation(c) => {
            let v = ordervault::fulfilment::commands::cancellation(app, c).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        Command::Pseudonymize { account } => {
            let id = account
                .map(|a| a.parse())
                .transpose()
                .map_err(|_| anyhow::anyhow!("account not found"))?;
            let report = privacy::sweep(app, id.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Subject(c) => subject(app, c).await,
        Command::Doctor => {
            let report = ordervault::doctor::check(app).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report.is_clean() {
                eprintln!("doctor: catalog and stores agree");
            } else {
                eprintln!("doctor: findings above (not fatal; see README, \"Running on Citus\")");
            }
            Ok(())
        }
        #[cfg(feature = "sandbox")]
        Command::Bench(ordervault::cli::BenchCommand::Seed {
            account,
            orders,
            customers,
            fulfilled_days_ago,
        }) => {
            let id = account
                .parse()
                .map_err(|_| anyhow::anyhow!("account not found"))?;
            let report = ordervault::bench_seed::seed(
                app,
                &id,
                ordervault::bench_seed::SeedOptions {
                    orders,
                    customers,
                    fulfilled_days_ago,
                },
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Privacy { account } => {
            let id = account
                .parse()
                .map_err(|_| anyhow::anyhow!("account not found"))?;
            let summary = privacy::privacy_summary(app, &id).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
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
        Command::Account(AccountCommand::SetRetention { id, days }) => {
            let id = id
                .parse()
                .map_err(|_| anyhow::anyhow!("account not found"))?;
            let a = accounts::set_retention(app, &id, days).await?;
            println!("{}\tretention {} days", a.id, a.retention_days);
            Ok(())
        }
        Command::Account(AccountCommand::Close { id }) => {
            let id = id
                .parse()
                .map_err(|_| anyhow::anyhow!("account not found"))?;
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

/// `ordervault serve`: the whole service (see `ordervault::startup`) until Ctrl-C or
/// SIGTERM.
async fn serve(app: App) -> anyhow::Result<()> {
    let running = startup::serve(app, ServeOptions::default()).await?;
    let stop = running.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.shutdown();
    });
    running.stopped().await?;
    Ok(())
}

async fn webhook(app: &App, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { account, url } => {
            let account = ordervault::accounts::parse_account_id(&account)?;
            let account = ordervault::accounts::active_account(app, &account).await?;
            let (endpoint, secret) = ordervault::forward::add_webhook(
                app,
                ordervault::forward::NewWebhook {
                    account,
                    url,
                    secret: None,
                },
            )
            .await?;
            eprintln!(
                "webhook {} added; its signing secret is shown only once:",
                endpoint.id
            );
            println!("{}", secret.as_str());
        }
        WebhookCommand::List { account } => {
            let account = ordervault::accounts::parse_account_id(&account)?;
            let list = app.store.catalog().webhooks(Some(&account)).await?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        WebhookCommand::Remove { id } => {
            ordervault::forward::remove_webhook(app, &id).await?;
            println!("webhook {id} removed");
        }
    }
    Ok(())
}

async fn connection(app: &App, command: ConnectionCommand) -> anyhow::Result<()> {
    let catalog = app.store.catalog();
    match command {
        ConnectionCommand::Add {
            account,
            marketplace,
            credentials_file,
            base_url,
            auth_url,
            region,
            marketplace_ids,
            api_version,
            interval,
            max_requests_per_second,
        } => {
            let marketplace = marketplace
                .parse()
                .map_err(|_| anyhow::anyhow!("--marketplace must be bol, amazon or ebay"))?;
            let settings = ordervault::connectors::ConnectionSettings {
                base_url,
                auth_url,
                region: region
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--region: {e}"))?,
                marketplace_ids,
                api_version: api_version
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--api-version: {e}"))?,
                max_requests_per_second,
            };
            let account = ordervault::accounts::parse_account_id(&account)?;
            let account = ordervault::accounts::active_account(app, &account).await?;
            let json = read_credentials(&credentials_file)?;
            let rec = connections::add_connection(
                app,
                NewConnection {
                    account,
                    marketplace,
                    credentials_json: json,
                    settings,
                    interval: connections::parse_interval(&interval)?,
                },
            )
            .await?;
            let info = connections::describe(&rec);
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"connection": rec, "marketplace_side": info})
                )?
            );
            if let Some(w) = info.and_then(|i| i.deprecation) {
                eprintln!("warning: {w}");
            }
        }
        ConnectionCommand::List { account } => {
            let account = account
                .as_deref()
                .map(ordervault::accounts::parse_account_id)
                .transpose()?;
            let list = catalog.connections(account.as_ref()).await?;
            println!(
                "{:<16}  {:<16}  {:<6}  {:<12}  {:<20}  {:>7}  LAST ERROR",
                "ID", "ACCOUNT", "MARKET", "STATUS", "CURSOR", "ORDERS"
            );
            let mut warnings = Vec::new();
            for c in list {
                let cursor = c
                    .cursor_ms
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_else(|| "-".into());
                let info = connections::describe(&c);
                println!(
                    "{:<16}  {:<16}  {:<6}  {:<12}  {:<20}  {:>7}  {}",
                    c.id,
                    c.account_id,
                    c.marketplace,
                    c.status.as_str(),
                    cursor,
                    c.orders_synced,
                    c.status_reason
                        .clone()
                        .or(c.last_error.clone())
                        .unwrap_or_default()
                );
                if let Some(info) = info {
                    println!("{:<16}  api {}  auth {}", "", info.api_url, info.auth_url);
                    if let Some(v) = info.api_version {
                        let region = info.region.map(|r| r.to_string()).unwrap_or_default();
                        println!("{:<16}  Orders API {v}, region {region}", "");
                    }
                    for m in &info.marketplaces {
                        println!(
                            "{:<16}  marketplace {} {} ({}, {})",
                            "", m.id, m.name, m.country, m.country_code
                        );
                    }
                    if let Some(w) = info.deprecation {
                        println!("{:<16}  WARNING: {w}", "");
                        warnings.push(c.id.to_string());
                    }
                }
            }
            if !warnings.is_empty() {
                eprintln!(
                    "warning: {} connection(s) use a deprecated marketplace API: {}",
                    warnings.len(),
                    warnings.join(", ")
                );
            }
        }
        ConnectionCommand::Reauth {
            id,
            credentials_file,
            base_url,
            auth_url,
        } => {
            let json = read_credentials(&credentials_file)?;
            connections::reauthorize(app, &id, &json, base_url.as_deref(), auth_url.as_deref())
                .await?;
            println!("connection {id} re-authorized and active");
        }
        ConnectionCommand::Pause { id } => {
            connections::pause_connection(app, &id).await?;
            println!("connection {id} paused");
        }
        ConnectionCommand::Cap {
            id,
            max_requests_per_second,
        } => {
            connections::set_request_cap(app, &id, max_requests_per_second).await?;
            match max_requests_per_second {
                Some(r) => println!("connection {id} capped at {r} requests/s"),
                None => println!("connection {id} uncapped: as fast as the marketplace allows"),
            }
        }
        ConnectionCommand::Resume { id } => {
            connections::resume_connection(app, &id).await?;
            println!("connection {id} resumed");
        }
        ConnectionCommand::Sync { id } => {
            let worker = SyncWorker::new(app.clone(), ClientOptions::default());
            let now = app.now_ms();
            let lease = i64::from(app.settings.sync.lease_secs) * 1000;
            let Some(c) = catalog
                .claim_connection(&id, worker.owner(), now, now + lease)
                .await?
            else {
                anyhow::bail!(
                    "connection {id} is not active, or another worker is syncing it right now"
                );
            };
            let report = worker.run_claimed(c).await;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        ConnectionCommand::Failures { account } => {
            let id = ordervault::accounts::parse_account_id(&account)?;
            let id = ordervault::accounts::active_account(app, &id).await?;
            let store = app.store.account(&id).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&store.failures().await?)?
            );
        }
        ConnectionCommand::Remove { id } => {
            connections::remove_connection(app, &id).await?;
            println!("connection {id} removed");
        }
    }
    Ok(())
}

async fn subject(app: &App, command: SubjectCommand) -> anyhow::Result<()> {
    let (account, email, erase) = match command {
        SubjectCommand::Export { account, email } => (account, email, false),
        SubjectCommand::Erase { account, email } => (account, email, true),
    };
    let id = account
        .parse()
        .map_err(|_| anyhow::anyhow!("account not found"))?;
    let email = zeroize::Zeroizing::new(if email == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the email from stdin")?;
        line
    } else {
        email
    });
    if erase {
        let receipt = privacy::erase_subject(app, &id, &email).await?;
        println!("{}", serde_json::to_string_pretty(&receipt)?);
    } else {
        let export = privacy::export_subject(app, &id, &email).await?;
        println!("{}", serde_json::to_string_pretty(&export)?);
    }
    Ok(())
}

fn read_credentials(path: &std::path::Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read credentials file {}", path.display()))?;
    Ok(zeroize::Zeroizing::new(text))
}

#[cfg(feature = "sandbox")]
async fn sandbox(args: ordervault::cli::SandboxArgs) -> anyhow::Result<()> {
    use ordervault::connectors::sandbox::{self, SandboxConfig};
    use ordervault::connectors::MarketplaceKind;
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
    let clock: ordervault::connectors::clock::SharedClock =
        Arc::new(ordervault::connectors::clock::SystemClock);
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
