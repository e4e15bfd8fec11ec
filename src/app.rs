//! The assembled service: settings, store, keyring and clock, built once at start-up and
//! shared by the CLI, the HTTP API and the background workers.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use ordervault_connectors::clock::{SharedClock, SystemClock};

use crate::config::Settings;
use crate::crypto::MasterKey;
use crate::error::ServiceError;
use crate::keyring::Keyring;
use crate::shredding::{DataKeyring, FileEpochStore};
use crate::store::{StatementHook, Store};

/// Environment variable holding the master key (base64), preferred over the key file.
pub const MASTER_KEY_ENV: &str = "ORDERVAULT_MASTER_KEY";

/// Everything a request or job needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub clock: SharedClock,
    /// Woken when ingest commits outbox events, so the forwarder starts at once.
    pub outbox_notify: Arc<tokio::sync::Notify>,
    /// Woken when the API stores a shipment or cancellation, so the pusher starts at once.
    pub push_notify: Arc<tokio::sync::Notify>,
}

impl App {
    /// Opens the store, loads the master key and checks it against the catalog.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, ServiceError> {
        Self::build_with(settings, clock, None).await
    }

    /// [`App::build`] with a hook on every migration statement (tests: recording them,
    /// injecting a failure into an account creation).
    #[doc(hidden)]
    pub async fn build_with(
        settings: Settings,
        clock: SharedClock,
        migration_hook: Option<StatementHook>,
    ) -> Result<Self, ServiceError> {
        crate::files::private_dir(&settings.data.dir).map_err(|e| {
            ServiceError::Invalid(format!(
                "cannot create data directory {}: {e}",
                settings.data.dir.display()
            ))
        })?;
        let store =
            Store::open_with(&settings.database, &settings.data.dir, migration_hook).await?;
        let master = load_master_key(&settings, &store).await?;
        let data = Arc::new(DataKeyring::new(
            store.catalog().clone(),
            Arc::new(FileEpochStore::new(settings.keyring_dir())),
            clock.clone(),
            settings.erasure_window_ms(),
        ));
        let keyring = Keyring::open(
            master,
            store.catalog().clone(),
            clock.clone(),
            data.clone(),
            settings.pseudonymize.max_age_days,
        )
        .await?;
        // Refuses to start without a writable keyring directory; finishes a rotation
        // that a crash interrupted, so no epoch outlives the window.
        data.start().await?;
        Ok(Self {
            settings: Arc::new(settings),
            store,
            keyring: Arc::new(keyring),
            clock,
            outbox_notify: Arc::new(tokio::sync::Notify::new()),
            push_notify: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// [`App::build`] with the wall clock.
    pub async fn build_default(settings: Settings) -> Result<Self, ServiceError> {
        Self::build(settings, Arc::new(SystemClock)).await
    }

    /// Now, in Unix milliseconds, from the injected clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }
}

/// The master key from `ORDERVAULT_MASTER_KEY`, else the key file; on a fresh catalog
/// with `keys.generate_if_missing`, a new key is written to the key file (mode 0600).
async fn load_master_key(settings: &Settings, store: &Store) -> Result<MasterKey, ServiceError> {
    if let Ok(b64) = std::env::var(MASTER_KEY_ENV) {
        return Ok(MasterKey::from_base64(&b64)?);
    }
    let path = settings.master_key_path();
    if path.exists() {
        crate::files::check_key_file_mode(&path).map_err(ServiceError::Invalid)?;
        return Ok(MasterKey::from_file(&path)?);
    }
    let fresh = store.catalog().meta("kek_fingerprint").await?.is_none()
        && store.catalog().accounts().await?.is_empty();
    if settings.keys.generate_if_missing && fresh {
        let key = MasterKey::generate();
        write_key_file(&path, &key)?;
        tracing::warn!(
            path = %path.display(),
            "generated a new master key for this fresh installation; back it up, and in production supply it as a secret ({MASTER_KEY_ENV} or keys.master_key_file)"
        );
        return Ok(key);
    }
    Err(ServiceError::Invalid(format!(
        "no master key: set {MASTER_KEY_ENV} or put the key file at {} (create one with `ordervault keys generate`)",
        path.display()
    )))
}

/// Writes a key file that only the owner can read; refuses to overwrite one.
pub fn write_key_file(path: &Path, key: &MasterKey) -> Result<(), ServiceError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServiceError::Invalid(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| {
        ServiceError::Invalid(format!("cannot create key file {}: {e}", path.display()))
    })?;
    file.write_all(key.to_base64().as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all())
        .map_err(|e| {
            ServiceError::Invalid(format!("cannot write key file {}: {e}", path.display()))
        })
}
