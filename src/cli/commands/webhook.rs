//! `ordervault webhook add|list|remove`. The signing secret goes to stdout once, the
//! description to stderr.

use crate::accounts::{active_account, parse_account_id};
use crate::app::App;
use crate::cli::args::WebhookCommand;
use crate::cli::print_json;
use crate::forward::{self, NewWebhook};

/// Runs a `webhook` command.
pub async fn run(app: &App, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { account, url } => {
            let account = active_account(app, &parse_account_id(&account)?).await?;
            let new = NewWebhook {
                account,
                url,
                secret: None,
            };
            let (endpoint, secret) = forward::add_webhook(app, new).await?;
            eprintln!(
                "webhook {} added; its signing secret is shown only once:",
                endpoint.id
            );
            println!("{}", secret.as_str());
        }
        WebhookCommand::List { account } => {
            let account = parse_account_id(&account)?;
            print_json(&app.store.catalog().webhooks(Some(&account)).await?)?;
        }
        WebhookCommand::Remove { id } => {
            forward::remove_webhook(app, &id).await?;
            println!("webhook {id} removed");
        }
    }
    Ok(())
}
