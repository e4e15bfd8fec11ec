//! `ordervault connection add|list|reauth|pause|resume|cap|sync|failures|remove`.
//! Credentials are read from a file (never an argument, so never in the shell history)
//! and held in zeroizing memory; nothing here prints them.

use anyhow::Context;

use crate::accounts::{active_account, parse_account_id};
use crate::app::App;
use crate::cli::args::ConnectionCommand;
use crate::cli::print_json;
use crate::ingest::connections::{self, ClientOptions, NewConnection};
use crate::ingest::sync::SyncWorker;
use crate::store::catalog::ConnectionRecord;

/// Runs a `connection` command.
pub async fn run(app: &App, command: ConnectionCommand) -> anyhow::Result<()> {
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
            let settings = crate::connectors::ConnectionSettings {
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
            let account = active_account(app, &parse_account_id(&account)?).await?;
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
            print_json(&serde_json::json!({"connection": rec, "marketplace_side": info}))?;
            if let Some(w) = info.and_then(|i| i.deprecation) {
                eprintln!("warning: {w}");
            }
        }
        ConnectionCommand::List { account } => {
            let account = account.as_deref().map(parse_account_id).transpose()?;
            let list = app.store.catalog().connections(account.as_ref()).await?;
            print_table(list);
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
            let Some(report) = worker.run_one(&id).await? else {
                anyhow::bail!(
                    "connection {id} is not active, or another worker is syncing it right now"
                );
            };
            print_json(&report)?;
        }
        ConnectionCommand::Failures { account } => {
            let id = active_account(app, &parse_account_id(&account)?).await?;
            let store = app.store.account(&id).await?;
            print_json(&store.failures().await?)?;
        }
        ConnectionCommand::Remove { id } => {
            connections::remove_connection(app, &id).await?;
            println!("connection {id} removed");
        }
    }
    Ok(())
}

/// `connection list`: one row per connection, with its marketplace side below it and a
/// warning on stderr for deprecated marketplace APIs.
fn print_table(list: Vec<ConnectionRecord>) {
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

fn read_credentials(path: &std::path::Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read credentials file {}", path.display()))?;
    Ok(zeroize::Zeroizing::new(text))
}
