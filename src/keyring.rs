//! The keyring: unwraps account keys with the master key on first use and caches their
//! subkeys in memory. It is the only code that sees the master key after start-up, and
//! it checks at start-up that the configured master key is the one the catalog was
//! created with, so a wrong key is a clear error instead of undecryptable data.
//!
//! Personal fields are no longer sealed under the account key but under data keys (per
//! erasure hour and per customer, see [`crate::shredding`]); an [`AccountKeyset`] carries
//! the handle that finds them, so sealing and opening pick their keys here and every
//! personal column, present or future, inherits that choice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use ordervault_connectors::clock::SharedClock;
use ordervault_connectors::Order;

use crate::crypto::{
    field_cipher, AccountKey, AccountKeys, CryptoError, CustomerId, DataKeyRef, FieldCipher,
    MasterKey, WrappedAccountKey,
};
use crate::ids::AccountId;
use crate::shredding::{hour_of, DataKeyring, ShredError, DAY_MS};
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
    #[error(transparent)]
    Shred(#[from] ShredError),
}

/// Every loaded key version of one account, plus the way to its data keys.
#[derive(Debug)]
pub struct AccountKeyset {
    versions: Vec<AccountKeys>,
    account: AccountId,
    retention_days: i64,
    max_age_days: u32,
    /// Set after a retention change: hour keys created before it are being retired.
    key_floor_ms: Option<i64>,
    data: Arc<DataKeyring>,
}

/// The field ciphers needed to seal a set of orders, one per (erasure hour, customer).
#[derive(Debug)]
pub struct SealKeys<'a> {
    keyset: &'a AccountKeyset,
    /// The instant the erasure hours were computed at.
    now_ms: i64,
    ciphers: HashMap<(i32, Option<CustomerId>), FieldCipher>,
}

impl SealKeys<'_> {
    /// The account's current keys (email index, pseudonym).
    pub fn account(&self) -> &AccountKeys {
        self.keyset.current()
    }

    /// The cipher for an order's personal fields: under its erasure hour's key and its
    /// customer's key. Panics only if the order was not among those the keys were
    /// prepared for (a programming error).
    pub fn cipher_for(&self, order: &Order) -> &FieldCipher {
        let k = (
            self.keyset.erasure_hour(order, self.now_ms),
            self.keyset.customer_of(order),
        );
        self.ciphers
            .get(&k)
            .expect("seal keys prepared for this order")
    }
}

/// Field ciphers prepared for a set of (erasure day, customer) pairs, see
/// [`AccountKeyset::openers`].
#[derive(Debug)]
pub struct OpenKeys {
    ciphers: HashMap<(DataKeyRef, Option<CustomerId>), FieldCipher>,
}

impl OpenKeys {
    /// The cipher for (bucket, customer), or `None` when a key of the pair was destroyed
    /// (or the pair was not asked for).
    pub fn cipher(&self, bucket: DataKeyRef, customer: Option<CustomerId>) -> Option<&FieldCipher> {
        self.ciphers.get(&(bucket, customer))
    }
}

impl AccountKeyset {
    /// The account these keys belong to.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The erasure hour an order is sealed under, as of `now_ms`: the earliest hour its
    /// personal data can fall due, and never an hour already past. Fulfilled (or
    /// cancelled): fulfilment plus the account's retention. Not yet: placement plus the
    /// shorter of retention and `pseudonymize.max_age_days`, since a fulfilment reported
    /// later makes it due no earlier than that. So the hour never starts after the sweep
    /// that pseudonymizes the order, and that sweep destroys its key; a fulfilment
    /// only ever moves an order to a later hour, whose key outlives the earlier one.
    pub fn erasure_hour(&self, order: &Order, now_ms: i64) -> i32 {
        let earliest = match order.fulfilled_at.or(order.cancelled_at) {
            Some(t) => t.timestamp_millis() + self.retention_days * DAY_MS,
            None => {
                let days = self.retention_days.min(i64::from(self.max_age_days));
                order.placed_at.timestamp_millis() + days * DAY_MS
            }
        };
        hour_of(earliest.max(now_ms))
    }

    /// The customer key id of an order: from its email's blind index, `None` without email.
    pub fn customer_of(&self, order: &Order) -> Option<CustomerId> {
        let email = order
            .customer
            .email
            .as_ref()
            .filter(|e| !e.trim().is_empty())?;
        Some(CustomerId::from_index(
            &self.current().email_index.index(email),
        ))
    }

    /// The customer key ids of an email under every loaded key version.
    pub fn customers_of_email(&self, email: &str) -> Vec<CustomerId> {
        self.all()
            .map(|k| CustomerId::from_index(&k.email_index.index(email)))
            .collect()
    }

    /// Fetches (creating where missing) the data keys to seal `orders`.
    pub async fn seal_keys(&self, orders: &[Order]) -> Result<SealKeys<'_>, KeyringError> {
        self.seal_keys_avoiding(orders, &HashSet::new()).await
    }

    /// Like [`AccountKeyset::seal_keys`], never choosing a key in `avoid` (keys a sweep
    /// is about to destroy: their orders move to a new generation).
    pub async fn seal_keys_avoiding(
        &self,
        orders: &[Order],
        avoid: &HashSet<DataKeyRef>,
    ) -> Result<SealKeys<'_>, KeyringError> {
        let now_ms = self.data.now_ms();
        let mut pairs: Vec<(i32, Option<CustomerId>)> = orders
            .iter()
            .map(|o| (self.erasure_hour(o, now_ms), self.customer_of(o)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut hours: Vec<i32> = pairs.iter().map(|(h, _)| *h).collect();
        hours.dedup();
        let hour_keys = self
            .data
            .hour_keys_for_sealing(&self.account, &hours, avoid, self.key_floor_ms)
            .await?;
        let mut refs: Vec<DataKeyRef> = Vec::with_capacity(pairs.len() * 2);
        for (h, c) in &pairs {
            refs.push(hour_keys[h]);
            if let Some(c) = c {
                refs.push(DataKeyRef::Customer(*c));
            }
        }
        refs.sort_unstable();
        refs.dedup();
        let keys = self.data.get(&self.account, &refs, true).await?;
        let mut ciphers = HashMap::with_capacity(pairs.len());
        for (d, c) in pairs {
            let bucket = hour_keys[&d];
            let day = keys
                .get(&bucket)
                .ok_or_else(|| ShredError::Contended(self.account.to_string()))?;
            let customer = match c {
                Some(c) => Some((
                    c,
                    keys.get(&DataKeyRef::Customer(c))
                        .ok_or_else(|| ShredError::Contended(self.account.to_string()))?
                        .as_ref(),
                )),
                None => None,
            };
            ciphers.insert(
                (d, c),
                field_cipher(self.account.as_str(), bucket, day, customer),
            );
        }
        Ok(SealKeys {
            keyset: self,
            now_ms,
            ciphers,
        })
    }

    /// The ciphers that open ciphertexts of the given (bucket, customer) pairs, fetched in
    /// one catalog query per key kind (per 500 keys) instead of one per pair. A sweep
    /// opens the emails of 50,000 orders of as many customers per batch: looked up one
    /// by one in a fresh process, those lookups were most of its time. Pairs whose day
    /// or customer key was destroyed are absent: what they sealed is erased.
    pub async fn openers(
        &self,
        pairs: &HashSet<(DataKeyRef, Option<CustomerId>)>,
    ) -> Result<OpenKeys, KeyringError> {
        let mut refs: HashSet<DataKeyRef> = HashSet::with_capacity(pairs.len() + 8);
        for (d, c) in pairs {
            refs.insert(*d);
            if let Some(c) = c {
                refs.insert(DataKeyRef::Customer(*c));
            }
        }
        let refs: Vec<DataKeyRef> = refs.into_iter().collect();
        let keys = self.data.get(&self.account, &refs, false).await?;
        let mut ciphers = HashMap::with_capacity(pairs.len());
        for (d, c) in pairs {
            let Some(day) = keys.get(d) else {
                continue;
            };
            let customer = match c {
                Some(c) => match keys.get(&DataKeyRef::Customer(*c)) {
                    Some(k) => Some((*c, k.as_ref())),
                    None => continue,
                },
                None => None,
            };
            ciphers.insert(
                (*d, *c),
                field_cipher(self.account.as_str(), *d, day, customer),
            );
        }
        Ok(OpenKeys { ciphers })
    }

    /// The cipher that opens ciphertexts of (bucket, customer), or `None` when either
    /// key was destroyed: what it sealed is erased.
    pub async fn opener(
        &self,
        bucket: DataKeyRef,
        customer: Option<CustomerId>,
    ) -> Result<Option<FieldCipher>, KeyringError> {
        let mut refs = vec![bucket];
        refs.extend(customer.map(DataKeyRef::Customer));
        let keys = self.data.get(&self.account, &refs, false).await?;
        let Some(day_key) = keys.get(&bucket) else {
            return Ok(None);
        };
        let customer = match customer {
            Some(c) => match keys.get(&DataKeyRef::Customer(c)) {
                Some(k) => Some((c, k.as_ref())),
                None => return Ok(None),
            },
            None => None,
        };
        Ok(Some(field_cipher(
            self.account.as_str(),
            bucket,
            day_key,
            customer,
        )))
    }

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
    /// Data keys under rotating epochs (issue 16).
    pub data: Arc<DataKeyring>,
    max_age_days: u32,
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
        data: Arc<DataKeyring>,
        max_age_days: u32,
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
            data,
            max_age_days,
        })
    }

    /// The fingerprint of the master key in use.
    pub fn fingerprint(&self) -> String {
        self.master.fingerprint().0
    }

    /// Generates a new account root key and returns it wrapped for storage: under the
    /// master key, and that under the current epoch's key (issue 16). Returns (version,
    /// wrapped bytes, epoch).
    pub async fn new_account_key(
        &self,
        account: &AccountId,
    ) -> Result<(u32, WrappedAccountKey, i64), KeyringError> {
        let key = AccountKey::generate(1);
        let inner = key.wrap(&self.master, account.as_str());
        let (epoch, kek) = self.data.current_epoch().await?;
        let outer = kek.wrap_account_key(epoch, account.as_str(), key.version(), &inner.0);
        Ok((key.version(), WrappedAccountKey(outer), epoch))
    }

    /// The master-wrapped bytes of a stored key row: its outer epoch layer removed.
    /// A row under a destroyed epoch has no key any more.
    async fn master_wrapped(
        &self,
        row: &crate::store::catalog::KeyRow,
        version: u32,
    ) -> Result<WrappedAccountKey, KeyringError> {
        let Some(epoch) = row.epoch else {
            return Ok(WrappedAccountKey(row.wrapped_key.clone()));
        };
        let kek = self
            .data
            .epoch_key(epoch)
            .await?
            .ok_or_else(|| KeyringError::NoKey(row.account_id.to_string()))?;
        Ok(WrappedAccountKey(kek.unwrap_account_key(
            epoch,
            row.account_id.as_str(),
            version,
            &row.wrapped_key,
        )?))
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
                    account: row.account_id.to_string(),
                    version: row.version,
                    fingerprint: row.kek_fingerprint,
                });
            }
            let version = u32::try_from(row.version)
                .map_err(|_| StoreError::Corrupt("key version out of range".into()))?;
            let inner = self.master_wrapped(&row, version).await?;
            let key = AccountKey::unwrap(&self.master, account.as_str(), version, &inner)?;
            versions.push(key.subkeys(account.as_str()));
        }
        let retention_days = self
            .catalog
            .account(account)
            .await?
            .map(|a| a.retention_days)
            .unwrap_or(30);
        let key_floor_ms = self.catalog.reseal_floor(account).await?;
        let set = Arc::new(AccountKeyset {
            versions,
            account: account.clone(),
            retention_days,
            max_age_days: self.max_age_days,
            key_floor_ms,
            data: self.data.clone(),
        });
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
                    account: row.account_id.to_string(),
                    version: row.version,
                    fingerprint: row.kek_fingerprint,
                });
            }
            let version = u32::try_from(row.version)
                .map_err(|_| StoreError::Corrupt("key version out of range".into()))?;
            let inner = self.master_wrapped(&row, version).await?;
            let key = AccountKey::unwrap(&self.master, row.account_id.as_str(), version, &inner)?;
            let mut rewrapped = key.wrap(new, row.account_id.as_str()).0;
            if let Some(epoch) = row.epoch {
                let kek = self
                    .data
                    .epoch_key(epoch)
                    .await?
                    .ok_or_else(|| KeyringError::NoKey(row.account_id.to_string()))?;
                rewrapped =
                    kek.wrap_account_key(epoch, row.account_id.as_str(), version, &rewrapped);
            }
            if self.catalog.rewrap_key(&row, &rewrapped, &new_fp).await? {
                report.rewrapped += 1;
            }
        }
        self.catalog.set_meta(META_KEK_FINGERPRINT, &new_fp).await?;
        self.catalog.purge_deleted("account_keys").await?;
        Ok(report)
    }
}
