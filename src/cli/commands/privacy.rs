//! `ordervault pseudonymize`, `subject export|erase` and `privacy`: the privacy
//! operations of `crate::privacy`, run by hand. The subject's email never reaches a log
//! or an error message; `-` reads it from stdin so it stays out of the shell history.

use anyhow::Context;

use crate::app::App;
use crate::cli::args::SubjectCommand;
use crate::cli::{account_arg, print_json};
use crate::privacy;

/// `pseudonymize [--account]`: the retention sweep now, for one account or all.
pub async fn pseudonymize(app: &App, account: Option<String>) -> anyhow::Result<()> {
    let id = account.as_deref().map(account_arg).transpose()?;
    print_json(&privacy::sweep(app, id.as_ref()).await?)
}

/// `privacy ACCOUNT`: what is stored of an account, in clear and sealed.
pub async fn summary(app: &App, account: &str) -> anyhow::Result<()> {
    let id = account_arg(account)?;
    print_json(&privacy::privacy_summary(app, &id).await?)
}

/// `subject export|erase`: a data subject's orders, or their erasure with its receipt.
pub async fn subject(app: &App, command: SubjectCommand) -> anyhow::Result<()> {
    let (account, email, erase) = match command {
        SubjectCommand::Export { account, email } => (account, email, false),
        SubjectCommand::Erase { account, email } => (account, email, true),
    };
    let id = account_arg(&account)?;
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
        print_json(&privacy::erase_subject(app, &id, &email).await?)
    } else {
        print_json(&privacy::export_subject(app, &id, &email).await?)
    }
}
