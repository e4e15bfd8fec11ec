//! The `ordervault` command line: one binary for the service and its operations.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::ids::Role;

/// ordervault: marketplace orders, stored encrypted, forwarded, forgotten on time.
#[derive(Debug, Parser)]
#[command(name = "ordervault", version, about)]
pub struct Cli {
    /// Config file (default: ./ordervault.toml if it exists).
    #[arg(long, global = true, env = "ORDERVAULT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: HTTP API and background workers.
    Serve,
    /// Master key operations.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Seller accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random master key (base64), or write it to a file.
    Generate {
        /// Write the key to this file (mode 0600) instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rewrap every account key under a new master key (no data is rewritten). Resumable.
    RotateMaster {
        /// File with the new master key; configure it as the master key afterwards.
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account with its own key and store.
    Create {
        name: String,
        /// Days after fulfilment before customer data is pseudonymized.
        #[arg(long)]
        retention_days: Option<u32>,
    },
    /// List accounts.
    List,
    /// Close an account: stop its work, shred its keys, delete its store, print the receipt.
    Close { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and only its hash is stored.
    Create {
        #[arg(long, value_enum)]
        role: Role,
        /// The account a backoffice token belongs to.
        #[arg(long)]
        account: Option<String>,
        /// A note to recognise the token by.
        #[arg(long)]
        label: Option<String>,
    },
}
