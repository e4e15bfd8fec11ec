//! `ordervault token create`: the token goes to stdout once, its description to stderr,
//! so `TOKEN=$(ordervault token create …)` captures only the secret.

use secrecy::ExposeSecret;

use crate::app::App;
use crate::cli::args::TokenCommand;

/// Runs a `token` command.
pub async fn run(app: &App, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            role,
            account,
            label,
        } => {
            let (token, record) =
                crate::tokens::create_token(app, role, account.as_deref(), label.as_deref())
                    .await?;
            eprintln!(
                "token {} ({}) created; it is shown only once:",
                record.id, record.role
            );
            println!("{}", token.expose_secret());
            Ok(())
        }
    }
}
