//! Typed configuration, layered: built-in defaults, then an optional `ordervault.toml`
//! (or the file named by `--config`), then `ORDERVAULT__SECTION__KEY` environment
//! variables. A bad value stops start-up with a message that names the key.
//!
//! The master key is deliberately not a setting: it comes from `ORDERVAULT_MASTER_KEY`
//! or the key file named here, so it can never end up in a config dump.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// All settings. Every field has a default (see `Default` impls) and a doc line.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub data: DataSettings,
    pub database: DatabaseSettings,
    pub keys: KeySettings,
    pub log: LogSettings,
    pub server: ServerSettings,
    pub metrics: MetricsSettings,
    pub accounts: AccountSettings,
    pub sync: SyncSettings,
    pub support: SupportSettings,
    pub pseudonymize: PseudonymizeSettings,
    pub forward: ForwardSettings,
    pub fulfilment: FulfilmentSettings,
}

/// Where local state lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSettings {
    /// Directory for the SQLite catalog, account stores and the generated dev master key.
    pub dir: PathBuf,
}

impl Default for DataSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("data"),
        }
    }
}

/// Which store backend to use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// Empty: embedded SQLite under `data.dir`. `postgres://…`: PostgreSQL.
    pub url: String,
    /// Maximum connections of the PostgreSQL pool (or of the SQLite catalog pool).
    pub max_connections: u32,
    /// SQLite: how many account databases may be open at once (least recently used closes).
    pub open_account_stores: usize,
    /// SQLite: connections per open account database.
    pub connections_per_account: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
            open_account_stores: 256,
            connections_per_account: 4,
        }
    }
}

/// Where the master key comes from (besides `ORDERVAULT_MASTER_KEY`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeySettings {
    /// Key file (base64). Empty: `<data.dir>/master.key`.
    pub master_key_file: String,
    /// On a fresh installation with no key anywhere, generate one into the key file.
    /// Convenient for trying ordervault; turn off in production so a missing secret is an error.
    pub generate_if_missing: bool,
    /// The erasure window W (`30m`, `24h`, `2d`): a copy of the database taken at any
    /// time yields no personal data of orders erased more than W ago. Epoch keys rotate
    /// every W/2 and the old one is destroyed. Between 10 minutes and 30 days.
    pub erasure_window: String,
    /// Directory of the epoch keys. Empty: `keyring/` beside the master key file. It
    /// must be writable (start-up refuses otherwise) and must not be backed up for
    /// longer than `erasure_window`.
    pub keyring_dir: String,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            master_key_file: String::new(),
            generate_if_missing: true,
            erasure_window: "24h".into(),
            keyring_dir: String::new(),
        }
    }
}

/// Parses a duration like `90s`, `30m`, `24h` or `2d` into milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().ok()?;
    let unit_ms = match unit.trim() {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Filter directive (`info`, `ordervault=debug,sqlx=warn`, …); `RUST_LOG` overrides it.
    pub level: String,
    /// `human` or `json`.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Human,
        }
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// A client must send a request's complete headers within this many milliseconds of
    /// starting it, or the connection is closed (slow-header clients).
    pub header_read_timeout_ms: u64,
    /// A request body must arrive completely within this many milliseconds of the
    /// headers, or the answer is 408 and the connection closes (slow-body clients).
    pub body_read_timeout_ms: u64,
    /// Most connections served at once; further clients wait in the listen backlog
    /// until one closes, so slow clients cannot exhaust descriptors or memory.
    pub max_connections: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 15_000,
            max_connections: 1024,
        }
    }
}

/// The Prometheus endpoint, on its own listener: its series name accounts, so it is
/// never served on the API's (public) address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Address of the `/metrics` listener (Prometheus convention: 9898, loopback only by
    /// default). Empty: no metrics listener.
    pub bind: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:9898".into(),
        }
    }
}

/// Account defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountSettings {
    /// Days after fulfilment (or cancellation) before customer data is pseudonymized.
    pub default_retention_days: u32,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            default_retention_days: 30,
        }
    }
}

/// Marketplace sync workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSettings {
    /// Run sync workers inside `serve` (turn off on API-only nodes).
    pub enabled: bool,
    /// How often a worker looks for due connections, in milliseconds.
    pub tick_ms: u64,
    /// How many connections one worker syncs at once.
    pub concurrency: u32,
    /// Lease length in seconds: a killed worker's connections are picked up after this.
    pub lease_secs: u32,
    /// How far back the first sync of a new connection reaches, in days.
    pub initial_lookback_days: u32,
    /// The daily reconciliation re-lists this many days.
    pub reconcile_days: u32,
    /// Longest backoff after repeated failures, in seconds.
    pub max_backoff_secs: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            tick_ms: 1000,
            concurrency: 4,
            lease_secs: 60,
            initial_lookback_days: 7,
            reconcile_days: 7,
            max_backoff_secs: 900,
        }
    }
}

/// Support staff's masked order lookup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupportSettings {
    /// Lookups one support token may make per minute (token bucket, per process): bounds
    /// how fast a stolen or misused token can probe order numbers.
    pub rate_limit_per_minute: u32,
}

impl Default for SupportSettings {
    fn default() -> Self {
        Self {
            rate_limit_per_minute: 60,
        }
    }
}

/// The pseudonymization sweep (DESIGN.md, "Personal data").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PseudonymizeSettings {
    /// Run the scheduled sweep inside `serve` (several processes may: one sweeps an
    /// account at a time).
    pub enabled: bool,
    /// When the sweep runs: a cron expression with seconds (`sec min hour day month weekday`).
    pub cron: String,
    /// Orders never fulfilled nor cancelled lose their personal data this many days after
    /// they were placed.
    pub max_age_days: u32,
    /// Orders pseudonymized per transaction, at most (a sweep's first batches are
    /// smaller, so the first one is prepared quickly). Large by default: each transaction rewrites
    /// the pages of the email-index and pseudonym indexes it touches, which with random
    /// keys is nearly all of them, so fewer, larger transactions cost far less (on a
    /// 1M-order SQLite account 5,000 gives 25,000 orders/s, 50,000 gives 43,000). A
    /// transaction holds SQLite's write lock about a second; ingest waits for it.
    pub batch_size: u32,
    /// PostgreSQL: after erasing, `VACUUM FULL` the account's orders (the default)
    /// rather than `VACUUM`. Plain VACUUM makes erased values unreadable to any query but
    /// leaves their bytes in the table file until the space is reused; FULL rewrites the
    /// table and its indexes so the bytes leave the files, locking the account's orders
    /// while it runs (about a second per 100,000 orders). Turn off only if that lock hurts
    /// more than bytes lingering in free space.
    pub postgres_vacuum_full: bool,
}

impl Default for PseudonymizeSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            cron: "0 0 * * * *".into(),
            max_age_days: 180,
            batch_size: 50_000,
            postgres_vacuum_full: true,
        }
    }
}

/// The webhook forwarder (outbox delivery).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardSettings {
    /// How often an idle forwarder looks for due events, in milliseconds (new events wake
    /// it at once).
    pub tick_ms: u64,
    /// Endpoint lease in seconds: a killed forwarder's endpoints wait at most this long.
    pub lease_secs: u32,
    /// Longest wait between delivery attempts of one event, in seconds.
    pub max_backoff_secs: u32,
    /// Let webhooks reach loopback, private, link-local and other internal addresses.
    /// Off by default (a backoffice token must not make ordervault POST customer data to
    /// the operator's own network); tests and the demo, whose receivers listen on
    /// 127.0.0.1, turn it on explicitly.
    pub allow_private_targets: bool,
}

impl Default for ForwardSettings {
    fn default() -> Self {
        Self {
            tick_ms: 500,
            lease_secs: 60,
            max_backoff_secs: 3600,
            allow_private_targets: false,
        }
    }
}

/// The pusher: shipments and cancellations on their way to the marketplaces.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FulfilmentSettings {
    /// Run the pusher inside `serve`.
    pub enabled: bool,
    /// How often an idle pusher looks for due requests, in milliseconds (a new request
    /// wakes it at once).
    pub tick_ms: u64,
    /// How long an attempt holds its request, in seconds: after a crash between sending
    /// and recording the answer, the request is sent again (same key) after this.
    pub lease_secs: u32,
    /// First wait before polling a marketplace's processing status, in milliseconds
    /// (doubles per poll).
    pub poll_ms: u32,
    /// Longest wait between attempts of one request, in seconds.
    pub max_backoff_secs: u32,
    /// How long transient failures are retried before a request is `failed`, in hours.
    pub retry_window_hours: u32,
    /// Requests of different orders in flight at once, per account.
    pub concurrency: u32,
}

impl Default for FulfilmentSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            tick_ms: 500,
            lease_secs: 30,
            poll_ms: 1000,
            max_backoff_secs: 3600,
            retry_window_hours: 72,
            concurrency: 16,
        }
    }
}

/// A configuration problem, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads settings from defaults, the config file (if present) and the environment.
    /// `file` is the `--config` path; without it `ordervault.toml` is read when it exists.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError::Invalid(format!(
                        "config file {} does not exist",
                        path.display()
                    )));
                }
                builder = builder.add_source(config::File::from(path));
            }
            None => {
                builder = builder.add_source(config::File::with_name("ordervault").required(false));
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("ORDERVAULT")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database.url.trim();
        if !(url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid(
                "database.url must be empty (embedded SQLite) or a postgres:// URL".into(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "database.max_connections must be at least 1".into(),
            ));
        }
        if self.database.open_account_stores == 0 {
            return Err(ConfigError::Invalid(
                "database.open_account_stores must be at least 1".into(),
            ));
        }
        if self.database.connections_per_account == 0 {
            return Err(ConfigError::Invalid(
                "database.connections_per_account must be at least 1".into(),
            ));
        }
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "server.bind must be an address like 127.0.0.1:8080, got {:?}",
                self.server.bind
            )));
        }
        let metrics_bind = self.metrics.bind.trim();
        if !metrics_bind.is_empty() && metrics_bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "metrics.bind must be empty or an address like 127.0.0.1:9898, got {:?}",
                self.metrics.bind
            )));
        }
        let server = &self.server;
        if !(100..=600_000).contains(&server.header_read_timeout_ms)
            || !(100..=600_000).contains(&server.body_read_timeout_ms)
        {
            return Err(ConfigError::Invalid(
                "server.header_read_timeout_ms and server.body_read_timeout_ms must be between 100 and 600000"
                    .into(),
            ));
        }
        if !(1..=1_000_000).contains(&server.max_connections) {
            return Err(ConfigError::Invalid(
                "server.max_connections must be between 1 and 1000000".into(),
            ));
        }
        if !(1..=3650).contains(&self.accounts.default_retention_days) {
            return Err(ConfigError::Invalid(
                "accounts.default_retention_days must be between 1 and 3650".into(),
            ));
        }
        let sync = &self.sync;
        if sync.tick_ms < 50 || sync.tick_ms > 60_000 {
            return Err(ConfigError::Invalid(
                "sync.tick_ms must be between 50 and 60000".into(),
            ));
        }
        if sync.concurrency == 0 || sync.concurrency > 256 {
            return Err(ConfigError::Invalid(
                "sync.concurrency must be between 1 and 256".into(),
            ));
        }
        if !(10..=120).contains(&sync.lease_secs) {
            // A killed worker's lease must expire within two minutes.
            return Err(ConfigError::Invalid(
                "sync.lease_secs must be between 10 and 120".into(),
            ));
        }
        if !(1..=90).contains(&sync.initial_lookback_days)
            || !(1..=90).contains(&sync.reconcile_days)
        {
            return Err(ConfigError::Invalid(
                "sync.initial_lookback_days and sync.reconcile_days must be between 1 and 90"
                    .into(),
            ));
        }
        if sync.max_backoff_secs < 10 {
            return Err(ConfigError::Invalid(
                "sync.max_backoff_secs must be at least 10".into(),
            ));
        }
        if !(1..=10_000_000).contains(&self.support.rate_limit_per_minute) {
            return Err(ConfigError::Invalid(
                "support.rate_limit_per_minute must be between 1 and 10000000".into(),
            ));
        }
        let ps = &self.pseudonymize;
        let parses =
            tokio_cron_scheduler::Job::new_async(ps.cron.as_str(), |_, _| Box::pin(async {}))
                .is_ok();
        if !parses {
            return Err(ConfigError::Invalid(format!(
                "pseudonymize.cron must be a cron expression with seconds, like \"0 0 * * * *\", got {:?}",
                ps.cron
            )));
        }
        if !(1..=3650).contains(&ps.max_age_days) {
            return Err(ConfigError::Invalid(
                "pseudonymize.max_age_days must be between 1 and 3650".into(),
            ));
        }
        if !(100..=200_000).contains(&ps.batch_size) {
            return Err(ConfigError::Invalid(
                "pseudonymize.batch_size must be between 100 and 200000".into(),
            ));
        }
        match parse_duration_ms(&self.keys.erasure_window) {
            Some(ms) if (600_000..=30 * 86_400_000).contains(&ms) => {}
            _ => {
                return Err(ConfigError::Invalid(format!(
                "keys.erasure_window must be a duration like \"24h\" between 10m and 30d, got {:?}",
                self.keys.erasure_window
            )))
            }
        }
        let fwd = &self.forward;
        if fwd.tick_ms < 50 || fwd.tick_ms > 60_000 {
            return Err(ConfigError::Invalid(
                "forward.tick_ms must be between 50 and 60000".into(),
            ));
        }
        if !(5..=600).contains(&fwd.lease_secs) {
            // Longer than one delivery (15 s timeout) in practice; short enough that a
            // killed forwarder does not hold its endpoints for long.
            return Err(ConfigError::Invalid(
                "forward.lease_secs must be between 5 and 600".into(),
            ));
        }
        if !(1..=86_400).contains(&fwd.max_backoff_secs) {
            return Err(ConfigError::Invalid(
                "forward.max_backoff_secs must be between 1 and 86400".into(),
            ));
        }
        let ful = &self.fulfilment;
        if !(50..=60_000).contains(&ful.tick_ms) {
            return Err(ConfigError::Invalid(
                "fulfilment.tick_ms must be between 50 and 60000".into(),
            ));
        }
        if !(1..=600).contains(&ful.lease_secs) {
            return Err(ConfigError::Invalid(
                "fulfilment.lease_secs must be between 1 and 600".into(),
            ));
        }
        if !(10..=600_000).contains(&ful.poll_ms) {
            return Err(ConfigError::Invalid(
                "fulfilment.poll_ms must be between 10 and 600000".into(),
            ));
        }
        if !(1..=86_400).contains(&ful.max_backoff_secs) {
            return Err(ConfigError::Invalid(
                "fulfilment.max_backoff_secs must be between 1 and 86400".into(),
            ));
        }
        if !(1..=720).contains(&ful.retry_window_hours) {
            return Err(ConfigError::Invalid(
                "fulfilment.retry_window_hours must be between 1 and 720".into(),
            ));
        }
        if !(1..=1024).contains(&ful.concurrency) {
            return Err(ConfigError::Invalid(
                "fulfilment.concurrency must be between 1 and 1024".into(),
            ));
        }
        Ok(())
    }

    /// The erasure window W in milliseconds (validated at load).
    pub fn erasure_window_ms(&self) -> i64 {
        parse_duration_ms(&self.keys.erasure_window).unwrap_or(86_400_000)
    }

    /// The keyring directory (epoch keys): `keys.keyring_dir`, else `keyring/` beside the
    /// master key file.
    pub fn keyring_dir(&self) -> PathBuf {
        if !self.keys.keyring_dir.trim().is_empty() {
            return PathBuf::from(&self.keys.keyring_dir);
        }
        match self.master_key_path().parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join("keyring"),
            _ => PathBuf::from("keyring"),
        }
    }

    /// The master key file this configuration points at.
    pub fn master_key_path(&self) -> PathBuf {
        if self.keys.master_key_file.trim().is_empty() {
            self.data.dir.join("master.key")
        } else {
            PathBuf::from(&self.keys.master_key_file)
        }
    }
}
