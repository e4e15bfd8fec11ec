//! `ordervault keys`: master key generation and rotation, data key status, rotation and
//! resealing. Prints fingerprints and counts, never key material except `generate`
//! without `--out`, whose whole point is to print the new key.

use std::path::PathBuf;

use crate::app::{write_key_file, App};
use crate::cli::args::KeysCommand;
use crate::cli::{account_arg, print_json};
use crate::crypto::MasterKey;

/// `keys generate`: needs no configuration, so it runs before the service is built.
pub fn generate(out: Option<PathBuf>) -> anyhow::Result<()> {
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

/// The `keys` commands that need the keyring.
pub async fn run(app: &App, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { out } => generate(out),
        KeysCommand::RotateMaster { new_key_file } => {
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
        KeysCommand::Status => print_json(&app.keyring.data.status().await?),
        KeysCommand::Rotate => print_json(&app.keyring.data.rotate(None).await?),
        KeysCommand::Reseal { account } => {
            let id = account.as_deref().map(account_arg).transpose()?;
            print_json(&crate::privacy::reseal::reseal(app, id.as_ref()).await?)
        }
    }
}
