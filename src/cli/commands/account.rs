//! `ordervault account create|list|set-retention|close`.

use crate::accounts;
use crate::app::App;
use crate::cli::args::AccountCommand;
use crate::cli::{account_arg, print_json};

/// Runs an `account` command; `list` prints a table, the others JSON or one line.
pub async fn run(app: &App, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create {
            name,
            retention_days,
        } => print_json(&accounts::create_account(app, &name, retention_days).await?),
        AccountCommand::List => {
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
        AccountCommand::SetRetention { id, days } => {
            let a = accounts::set_retention(app, &account_arg(&id)?, days).await?;
            println!("{}\tretention {} days", a.id, a.retention_days);
            Ok(())
        }
        AccountCommand::Close { id } => {
            let receipt = crate::privacy::closure::close_account(app, &account_arg(&id)?).await?;
            print_json(&receipt)
        }
    }
}
