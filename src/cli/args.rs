//! The command line's types (clap): what `ordervault` accepts, nothing about running it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::ids::{ConnectionId, Role, WebhookId};

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
    /// Master key, epoch and data key operations.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Online backups and restores.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Seller accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Marketplace connections of an account.
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Webhook endpoints of an account (the seller's backoffice).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Shipments sent back to the marketplaces (carrier, tracking number).
    #[command(subcommand)]
    Shipment(ShipmentCommand),
    /// Cancellations sent back to the marketplaces.
    #[command(subcommand)]
    Cancellation(CancellationCommand),
    /// The whole product in one command: sandboxes, sync, webhooks, support, retention, closure.
    #[cfg(feature = "sandbox")]
    Demo {
        /// Orders per marketplace.
        #[arg(long, default_value_t = 150)]
        orders: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the service running after the tour (with an account that needs
        /// attention), print the console's URL and an admin token; Ctrl-C ends it.
        #[arg(long)]
        keep_running: bool,
    },
    /// Pseudonymize orders past their retention now and print the report.
    Pseudonymize {
        /// Only this account (default: every active account).
        #[arg(long)]
        account: Option<String>,
    },
    /// Compare the catalog with the stores that exist and report leftovers (read only).
    Doctor,
    /// Data subject rights: export or erase a customer's data in one account.
    #[command(subcommand)]
    Subject(SubjectCommand),
    /// Retention settings and order counts (with personal data, pseudonymized, overdue).
    Privacy {
        #[arg(long)]
        account: String,
    },
    /// Run a sandbox marketplace on 127.0.0.1 (a faithful fake, for trying ordervault).
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Benchmark helpers (not for production data).
    #[cfg(feature = "sandbox")]
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `ordervault bench`: what scripts/bench/*.sh need that a marketplace sandbox cannot give
/// quickly enough (200,000 orders through a paced sandbox take longer than the sweep).
#[cfg(feature = "sandbox")]
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Store synthetic orders in an account through the regular ingest path (merge, seal
    /// under data keys, upsert, outbox), fulfilled long enough ago to be due for
    /// pseudonymization under a 30-day retention. Invented names and addresses only.
    Seed {
        #[arg(long)]
        account: String,
        /// How many orders.
        #[arg(long, default_value_t = 200_000)]
        orders: usize,
        /// Distinct customers (emails) among them.
        #[arg(long, default_value_t = 250_000)]
        customers: usize,
        /// Days before now the orders were fulfilled.
        #[arg(long, default_value_t = 60)]
        fulfilled_days_ago: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// Print everything stored about the customer with this email (JSON), and audit it.
    Export {
        #[arg(long)]
        account: String,
        /// The customer's email (case and spaces do not matter); `-` reads it from stdin,
        /// which keeps it out of the shell history and the process list.
        #[arg(long)]
        email: String,
    },
    /// Erase the customer's personal data, email index and pseudonym; print the receipt.
    Erase {
        #[arg(long)]
        account: String,
        /// The customer's email; `-` reads it from stdin.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Connect an account to a marketplace; credentials are stored encrypted.
    Add {
        #[arg(long)]
        account: String,
        /// bol, amazon or ebay.
        #[arg(long)]
        marketplace: String,
        /// JSON connection file: client_id, client_secret (and refresh_token for Amazon/eBay).
        #[arg(long)]
        credentials_file: std::path::PathBuf,
        /// Marketplace API root, e.g. a sandbox's http://127.0.0.1:PORT or a proxy
        /// (default: the real production host).
        #[arg(long)]
        base_url: Option<String>,
        /// Token endpoint, full URL, e.g. a sandbox's http://127.0.0.1:PORT/auth/o2/token
        /// (default: the real one: login.bol.com, api.amazon.com, api.ebay.com). Separate
        /// from --base-url: a proxy for the API does not move auth.
        #[arg(long)]
        auth_url: Option<String>,
        /// Amazon: selling region na, eu or fe (default eu).
        #[arg(long)]
        region: Option<String>,
        /// Amazon: a marketplace id to pull (repeatable), e.g. A1PA6795UKMFR9 for Amazon.de
        /// (default: the region's home marketplace).
        #[arg(long = "marketplace-id")]
        marketplace_ids: Vec<String>,
        /// Amazon: Orders API version, 2026-01-01 (default) or v0 (deprecated, removed
        /// by Amazon on 2027-03-27).
        #[arg(long)]
        api_version: Option<String>,
        /// How often to sync: 60s, 5m, 1h.
        #[arg(long, default_value = "60s")]
        interval: String,
        /// Never more than this many requests per second to the marketplace (default: as
        /// fast as the marketplace's stated rate limits allow).
        #[arg(long)]
        max_requests_per_second: Option<ordervault_connectors::cap::RequestRate>,
    },
    /// Cap a connection's requests per second, or remove its cap (no flag).
    Cap {
        id: ConnectionId,
        /// Requests per second, above 0; leave it out to remove the cap.
        #[arg(long)]
        max_requests_per_second: Option<ordervault_connectors::cap::RequestRate>,
    },
    /// List connections with their status, cursor and last error.
    List {
        #[arg(long)]
        account: Option<String>,
    },
    /// Replace the credentials of a connection (after needs_reauth) and resume it.
    Reauth {
        id: ConnectionId,
        #[arg(long)]
        credentials_file: std::path::PathBuf,
        /// A new API root, if it changed.
        #[arg(long)]
        base_url: Option<String>,
        /// A new token endpoint (full URL), if it changed.
        #[arg(long)]
        auth_url: Option<String>,
    },
    /// Stop syncing a connection.
    Pause { id: ConnectionId },
    /// Resume a paused connection.
    Resume { id: ConnectionId },
    /// Sync a connection now, in this process, and print what happened.
    Sync { id: ConnectionId },
    /// Orders of an account that failed to normalize (ids and field-level errors only).
    Failures {
        #[arg(long)]
        account: String,
    },
    /// Remove a connection and its stored credentials.
    Remove { id: ConnectionId },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; prints the signing secret once.
    Add {
        #[arg(long)]
        account: String,
        #[arg(long)]
        url: String,
    },
    /// List endpoints (with status and disabled reason).
    List {
        #[arg(long)]
        account: String,
    },
    /// Remove an endpoint.
    Remove { id: WebhookId },
}

/// A line and quantity: `LINE_ID` (every open unit) or `LINE_ID=QUANTITY`.
#[derive(Debug, Clone)]
pub struct LineArg {
    pub line_id: String,
    pub quantity: Option<u32>,
}

impl std::str::FromStr for LineArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            None => Ok(Self {
                line_id: s.trim().to_owned(),
                quantity: None,
            }),
            Some((id, q)) => Ok(Self {
                line_id: id.trim().to_owned(),
                quantity: Some(
                    q.trim()
                        .parse()
                        .map_err(|_| "quantity after '=' must be a whole number".to_string())?,
                ),
            }),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ShipmentCommand {
    /// Confirm a shipment: stored at once, delivered to the marketplace by `serve`.
    Add {
        #[arg(long)]
        account: String,
        /// The marketplace's order number.
        #[arg(long)]
        order: String,
        /// bol, amazon or ebay, when two marketplaces share the order number.
        #[arg(long)]
        marketplace: Option<String>,
        /// A line shipped: `LINE_ID` or `LINE_ID=QUANTITY` (repeat; every open unit when omitted).
        #[arg(long = "line")]
        lines: Vec<LineArg>,
        /// postnl, dhl, dhl-parcel-nl, dpd, ups, gls, bpost, or any carrier name.
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        tracking: String,
        #[arg(long)]
        tracking_url: Option<String>,
        /// The backoffice's own reference.
        #[arg(long)]
        reference: Option<String>,
        /// Same key, same answer: safe to repeat.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Shipments of an order with their state at the marketplace.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        order: String,
        #[arg(long)]
        marketplace: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CancellationCommand {
    /// Cancel lines (bol only; eBay and Amazon cancel in their own seller portals).
    Add {
        #[arg(long)]
        account: String,
        #[arg(long)]
        order: String,
        #[arg(long)]
        marketplace: Option<String>,
        /// A line cancelled: `LINE_ID` or `LINE_ID=QUANTITY` (repeat; every open unit when omitted).
        #[arg(long = "line")]
        lines: Vec<LineArg>,
        /// out_of_stock, requested_by_customer, bad_condition, incorrect_price,
        /// not_available_in_time or other.
        #[arg(long)]
        reason: String,
        #[arg(long)]
        reference: Option<String>,
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Cancellations of an order with their state at the marketplace.
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        order: String,
        #[arg(long)]
        marketplace: Option<String>,
    },
}

/// `ordervault sandbox`: a marketplace fake seeded for repeatable demos.
#[cfg(feature = "sandbox")]
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// bol, amazon or ebay.
    #[arg(long)]
    pub marketplace: String,
    /// How many orders its world holds.
    #[arg(long, default_value_t = 200)]
    pub orders: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Enforce no rate limits, and report none (eBay: a rate-limit report without a rate;
    /// Amazon: an unreachable x-amzn-RateLimit-Limit), so a client runs unpaced.
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Fraction of calls that fail with an injected 5xx, HTML page or 429.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
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
    /// The key hierarchy: current epoch, data keys live and destroyed, oldest surviving epoch.
    Status,
    /// Run one epoch rotation tick now (start a due epoch, finish retiring ones).
    Rotate,
    /// Move orders sealed under account keys (before issue 16) onto data keys. Resumable.
    Reseal {
        /// Only this account (default: every active account).
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Write a consistent online backup of the catalog and every account store, with a
    /// manifest. Epoch keys are not in it (see README, "Backups").
    Create {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup of any age into this installation: live orders come back, with
    /// today's keys; data erased since the backup does not.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account with its own key and store. If a creation of an account with
    /// this name failed half-way (status `creating`), this resumes it instead.
    Create {
        name: String,
        /// Days after fulfilment before customer data is pseudonymized.
        #[arg(long)]
        retention_days: Option<u32>,
    },
    /// List accounts.
    List,
    /// Change an account's retention (days after fulfilment before customer data is
    /// pseudonymized). Its orders move to the erasure keys of their new due hours at the
    /// next sweep at least a minute from now.
    SetRetention {
        id: String,
        #[arg(long)]
        days: u32,
    },
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
