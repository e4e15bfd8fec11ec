//! Where epoch keys live: outside the database, so no copy of the database (WAL, dump,
//! replica, backup) ever holds one. [`EpochKeyStore`] is the seam; [`FileEpochStore`]
//! keeps one file per epoch in a keyring directory beside the master key, written and
//! destroyed with fsync. A deployment on several machines would put a KMS behind the
//! same trait (create = generate a key, destroy = schedule its deletion).
//!
//! Never logs key bytes; errors name paths and epochs only.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use zeroize::Zeroizing;

use crate::crypto::EpochKey;

/// Why the epoch key store failed (paths and epochs only).
#[derive(Debug, thiserror::Error)]
pub enum EpochStoreError {
    #[error("keyring directory {path} is not writable ({source}); ordervault writes and destroys epoch keys there: fix its permissions or set keys.keyring_dir")]
    NotWritable {
        path: String,
        source: std::io::Error,
    },
    #[error("epoch key {epoch} at {path}: {source}")]
    Io {
        epoch: i64,
        path: String,
        source: std::io::Error,
    },
    #[error("epoch key {0} is damaged")]
    Damaged(i64),
}

/// Stores epoch keys. Implementations must make `create` durable before returning, and
/// `destroy` irreversible (no recoverable copy left behind) before returning.
#[async_trait::async_trait]
pub trait EpochKeyStore: Send + Sync + std::fmt::Debug {
    /// Checks at start-up that keys can be written and destroyed.
    async fn check(&self) -> Result<(), EpochStoreError>;
    /// The key of `epoch`, creating it if it does not exist. Two processes creating the
    /// same epoch at once get the same key.
    async fn load_or_create(&self, epoch: i64) -> Result<EpochKey, EpochStoreError>;
    /// The key of `epoch`, or `None` once destroyed (or never created).
    async fn load(&self, epoch: i64) -> Result<Option<EpochKey>, EpochStoreError>;
    /// Destroys the key of `epoch`; idempotent.
    async fn destroy(&self, epoch: i64) -> Result<(), EpochStoreError>;
    /// The epochs whose keys exist.
    async fn list(&self) -> Result<Vec<i64>, EpochStoreError>;
}

/// Epoch keys as files `epoch-<n>.key` (base64, mode 0600) in one directory.
#[derive(Debug, Clone)]
pub struct FileEpochStore {
    dir: PathBuf,
}

impl FileEpochStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, epoch: i64) -> PathBuf {
        self.dir.join(format!("epoch-{epoch:012}.key"))
    }

    fn io(&self, epoch: i64, source: std::io::Error) -> EpochStoreError {
        EpochStoreError::Io {
            epoch,
            path: self.path(epoch).display().to_string(),
            source,
        }
    }

    fn sync_dir(&self) -> std::io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    fn read(&self, epoch: i64) -> Result<Option<EpochKey>, EpochStoreError> {
        let text = match fs::read_to_string(self.path(epoch)) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(epoch, e)),
        };
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| EpochStoreError::Damaged(epoch))?,
        );
        EpochKey::from_bytes(&bytes)
            .map(Some)
            .map_err(|_| EpochStoreError::Damaged(epoch))
    }

    fn write_new(path: &Path, content: &[u8]) -> std::io::Result<()> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path)?;
        f.write_all(content)?;
        f.sync_all()
    }

    fn create_sync(&self, epoch: i64) -> Result<EpochKey, EpochStoreError> {
        if let Some(k) = self.read(epoch)? {
            return Ok(k);
        }
        let key = EpochKey::generate();
        let text = Zeroizing::new(format!("{}\n", STANDARD.encode(key.expose())));
        // Written in full under a unique name, then linked into place: the link fails if
        // another process got there first, and nobody ever reads a half-written key.
        let tmp = self.dir.join(format!(
            ".epoch-{epoch}.{}.tmp",
            crate::ids::AccountId::generate()
        ));
        Self::write_new(&tmp, text.as_bytes()).map_err(|e| self.io(epoch, e))?;
        let linked = fs::hard_link(&tmp, self.path(epoch));
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                self.sync_dir().map_err(|e| self.io(epoch, e))?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                self.read(epoch)?.ok_or(EpochStoreError::Damaged(epoch))
            }
            Err(e) => Err(self.io(epoch, e)),
        }
    }

    fn destroy_sync(&self, epoch: i64) -> Result<(), EpochStoreError> {
        let path = self.path(epoch);
        match OpenOptions::new().write(true).open(&path) {
            Ok(mut f) => {
                // Overwrite in place and flush before unlinking, so the bytes do not
                // survive in the freed blocks of a file system that does not zero them.
                let len = f.metadata().map(|m| m.len()).unwrap_or(128) as usize;
                f.write_all(&vec![0u8; len.max(128)])
                    .and_then(|_| f.sync_all())
                    .map_err(|e| self.io(epoch, e))?;
                fs::remove_file(&path).map_err(|e| self.io(epoch, e))?;
                self.sync_dir().map_err(|e| self.io(epoch, e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(epoch, e)),
        }
    }

    fn check_sync(&self) -> Result<(), EpochStoreError> {
        let not_writable = |source| EpochStoreError::NotWritable {
            path: self.dir.display().to_string(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(not_writable)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        }
        let probe = self.dir.join(format!(
            ".write-probe.{}",
            crate::ids::AccountId::generate()
        ));
        Self::write_new(&probe, b"probe").map_err(not_writable)?;
        fs::remove_file(&probe).map_err(not_writable)?;
        self.sync_dir().map_err(not_writable)
    }

    fn list_sync(&self) -> Result<Vec<i64>, EpochStoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|e| self.io(0, e))?;
        let mut out: Vec<i64> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_prefix("epoch-")?
                    .strip_suffix(".key")?
                    .parse()
                    .ok()
            })
            .collect();
        out.sort_unstable();
        Ok(out)
    }
}

#[async_trait::async_trait]
impl EpochKeyStore for FileEpochStore {
    async fn check(&self) -> Result<(), EpochStoreError> {
        self.check_sync()
    }

    async fn load_or_create(&self, epoch: i64) -> Result<EpochKey, EpochStoreError> {
        self.create_sync(epoch)
    }

    async fn load(&self, epoch: i64) -> Result<Option<EpochKey>, EpochStoreError> {
        self.read(epoch)
    }

    async fn destroy(&self, epoch: i64) -> Result<(), EpochStoreError> {
        self.destroy_sync(epoch)
    }

    async fn list(&self) -> Result<Vec<i64>, EpochStoreError> {
        self.list_sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_is_shared_and_destroy_is_final() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileEpochStore::new(dir.path().join("keyring"));
        store.check().await.unwrap();
        let a = store.load_or_create(1).await.unwrap();
        let b = store.load_or_create(1).await.unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(store.list().await.unwrap(), vec![1]);
        store.destroy(1).await.unwrap();
        store.destroy(1).await.unwrap();
        assert!(store.load(1).await.unwrap().is_none());
        assert!(store.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_directory_that_cannot_be_created_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let err = FileEpochStore::new(file.join("keyring"))
            .check()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not writable"), "{err}");
    }
}
