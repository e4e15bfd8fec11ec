//! The keyring: unwraps account keys with the master key on first use and caches their
//! subkeys in memory. It is the only code that sees the master key after start-up, and
//! it checks at start-up that the configured master key is the one the catalog was
//! created with, so a wrong key is a clear error instead of undecryptable data.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ordervault_connectors::clock::SharedClock;

use crate::crypto::{AccountKey, AccountKeys, CryptoError, MasterKey, WrappedAccountKey};
use crate::ids::AccountId;
use crate::store::{Catalog, StoreError};

const META_KEK_FINGERPRINT: &str = "kek_fingerprint";

/// How long unwrapped keys stay cached. Bounds how long another process that closed an
/// account can leave this one holding the account's keys.
pub const KEY_CACHE_TTL_MS: i64 = 60_000;

/// Keyring failures, worded for operators.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("the configured master key (fingerprint {configured}) is not the one this catalog uses (fingerprint {expected}); configure the right key, or finish `ordervault keys rotate-master` with the old key still configured")]
    WrongMasterKey {
        configured: String,
        expected: String,
    },
    #[error("account {0} has no key (closed or never created)")]
    NoKey(String),
    #[error("key of account {account} v{version} is wrapped under another master key (fingerprint {fingerprint}); an interrupted rotation? rerun `ordervault keys rotate-master`")]
    ForeignWrap {
        account: String,
        version: i64,
        fingerprint: String,
    },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every loaded key version of one account.
#[derive(Debug)]
pub struct AccountKeyset {
    versions: Vec<AccountKeys>,
}

impl AccountKeyset {
    /// The newest version, used for all new encryption.
    pub fn current(&self) -> &AccountKeys {
        self.versions
            .last()
            .expect("a keyset has at least one version")
    }

    /// Every loaded version, oldest first: a subject's orders are looked up under each
    /// version's email index and pseudonym key.
    pub fn all(&self) -> impl Iterator<Item = &AccountKeys> {
        self.versions.iter()
    }

    /// A specific version, for decrypting older ciphertext.
    pub fn version(&self, v: u32) -> Option<&AccountKeys> {
        self.versions.iter().find(|k| k.version == v)
    }
}

/// What a master-key rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RotationReport {
    pub rewrapped: usize,
    pub already_done: usize,
}

/// Master key plus a cache of unwrapped account keys.
pub struct Keyring {
    master: MasterKey,
    catalog: Catalog,
    clock: SharedClock,
    cache: RwLock<HashMap<AccountId, (i64, Arc<AccountKeyset>)>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({:?})", self.master)
    }
}

impl Keyring {
    /// Binds the master key to the catalog: records its fingerprint on a fresh catalog,
    /// refuses a key that does not match an existing one.
    pub async fn open(
        master: MasterKey,
        catalog: Catalog,
        clock: SharedClock,
    ) -> Result<Self, KeyringError> {
        let fp = master.fingerprint().0;
        match catalog.meta(META_KEK_FINGERPRINT).await? {
            None => catalog.set_meta(META_KEK_FINGERPRINT, &fp).await?,
            Some(expected) if expected != fp => {
                return Err(KeyringError::WrongMasterKey {
                    configured: fp,
                    expected,
                })
            }
            Some(_) => {}
        }
        Ok(Self {
            master,
            catalog,
            clock,
            cache: RwLock::new(HashMap::new()),
        })
    }

    /// The fingerprint of the master key in use.
    pub fn fingerprint(&self) -> String {
        self.master.fingerprint().0
    }

    /// Generates a new account root key and returns it wrapped for storage.
    pub fn new_account_key(&self, account: &AccountId) -> (u32, WrappedAccountKey) {
        let key = AccountKey::generate(1);
        (key.version(), key.wrap(&self.master, account.as_str()))
    }

    /// The account's keys, unwrapped on first use.
    pub async fn keys(&self, account: &AccountId) -> Result<Arc<AccountKeyset>, KeyringError> {
        let now = self.clock.now().timestamp_millis();
        if let Some((loaded, k)) = self.cache.read().expect("keyring lock").get(account) {
            if now - loaded < KEY_CACHE_TTL_MS {
                return Ok(k.clone());
            }
        }
        let rows = self.catalog.account_keys(account).await?;
        if rows.is_empty() {
            return Err(KeyringError::NoKey(account.to_string()));
        }
        let fp = self.fingerprint();
        let mut versions = Vec::with_capacity(rows.len());
        for row in rows {
            if row.kek_fingerprint != fp {
                return Err(KeyringError::ForeignWrap {
                    account: row.account_id,
                    version: row.version,
                    fingerprint: row.kek_fingerprint,
                });
            }
            let version = u32::try_from(row.version)
                .map_err(|_| StoreError::Corrupt("key version out of range".into()))?;
            let key = AccountKey::unwrap(
                &self.master,
                account.as_str(),
                version,
                &WrappedAccountKey(row.wrapped_key),
            )?;
            versions.push(key.subkeys(account.as_str()));
        }
        let set = Arc::new(AccountKeyset { versions });
        self.cache
            .write()
            .expect("keyring lock")
            .insert(account.clone(), (now, set.clone()));
        Ok(set)
    }

    /// Drops an account's keys from memory (on closure).
    pub fn forget(&self, account: &AccountId) {
        self.cache.write().expect("keyring lock").remove(account);
    }

    /// Rewraps every account key under `new` and then records `new` as the catalog's
    /// master key. Touches no data. Resumable: rows already wrapped under `new` are
    /// skipped, so an interrupted rotation is finished by running it again.
    pub async fn rotate_master(&self, new: &MasterKey) -> Result<RotationReport, KeyringError> {
        let new_fp = new.fingerprint().0;
        let old_fp = self.fingerprint();
        let pending = self.catalog.keys_not_wrapped_by(&new_fp).await?;
        let total = self.catalog.count_keys().await?;
        let mut report = RotationReport {
            rewrapped: 0,
            already_done: total.saturating_sub(pending.len()),
        };
        for row in pending {
            if row.kek_fingerprint != old_fp {
                return Err(KeyringError::ForeignWrap {
                    account: row.account_id,
                    version: row.version,
                    fingerprint: row.kek_fingerprint,
                });
            }
            let version = u32::try_from(row.version)
                .map_err(|_| StoreError::Corrupt("key version out of range".into()))?;
            let key = AccountKey::unwrap(
                &self.master,
                &row.account_id,
                version,
                &WrappedAccountKey(row.wrapped_key.clone()),
            )?;
            let rewrapped = key.wrap(new, &row.account_id);
            if self.catalog.rewrap_key(&row, &rewrapped.0, &new_fp).await? {
                report.rewrapped += 1;
            }
        }
        self.catalog.set_meta(META_KEK_FINGERPRINT, &new_fp).await?;
        self.catalog.purge_deleted("account_keys").await?;
        Ok(report)
    }
}
