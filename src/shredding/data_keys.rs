//! The data keyring: finds, creates, caches and destroys data keys, and holds the epoch
//! key store. Data keys are unwrapped on first use and cached for
//! [`crate::keyring::KEY_CACHE_TTL_MS`], which bounds how long another process that
//! destroyed a key can leave this one holding it in memory.
//!
//! Never logs key bytes or personal data.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use ordervault_connectors::clock::SharedClock;

use super::{EpochKeyStore, ShredError};
use crate::crypto::{CustomerId, DataKey, DataKeyRef, EpochKey};
use crate::ids::AccountId;
use crate::keyring::KEY_CACHE_TTL_MS;
use crate::store::catalog::DataKeyRow;
use crate::store::Catalog;

/// Unwrapped data keys kept in memory per process.
const CACHE_ENTRIES: usize = 200_000;

type CacheKey = (AccountId, DataKeyRef);

/// Data keys of every account, wrapped under rotating epoch keys.
pub struct DataKeyring {
    pub(super) catalog: Catalog,
    pub(super) epochs: Arc<dyn EpochKeyStore>,
    pub(super) clock: SharedClock,
    /// The erasure window W in milliseconds; epochs last at most W/2.
    pub(super) window_ms: i64,
    pub(super) epoch_keys: Mutex<HashMap<i64, Arc<EpochKey>>>,
    cache: Mutex<LruCache<CacheKey, (i64, Arc<DataKey>)>>,
    /// The catalog through one connection of its own, opened on first use, for finding
    /// and creating the keys of new orders: a sync creates a key for nearly every order
    /// (one per new customer), and through the shared pool each batch probed and grew
    /// the keys' index with a cold page cache (see `Pool::dedicated_writer`).
    creator: tokio::sync::OnceCell<Catalog>,
    pub(super) rotating: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for DataKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DataKeyring(window {} ms, {:?})",
            self.window_ms, self.epochs
        )
    }
}

impl DataKeyring {
    pub fn new(
        catalog: Catalog,
        epochs: Arc<dyn EpochKeyStore>,
        clock: SharedClock,
        window_ms: i64,
    ) -> Self {
        Self {
            catalog,
            epochs,
            clock,
            window_ms,
            epoch_keys: Mutex::new(HashMap::new()),
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHE_ENTRIES).expect("non-zero"),
            )),
            creator: tokio::sync::OnceCell::new(),
            rotating: tokio::sync::Mutex::new(()),
        }
    }

    /// The erasure window W in milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// The epoch key store (the keyring directory).
    pub fn epoch_store(&self) -> &Arc<dyn EpochKeyStore> {
        &self.epochs
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// The key of a live epoch, or `None` once destroyed.
    pub(crate) async fn epoch_key(&self, epoch: i64) -> Result<Option<Arc<EpochKey>>, ShredError> {
        if let Some(k) = self.epoch_keys.lock().expect("epoch lock").get(&epoch) {
            return Ok(Some(k.clone()));
        }
        let Some(key) = self.epochs.load(epoch).await? else {
            return Ok(None);
        };
        let key = Arc::new(key);
        self.epoch_keys
            .lock()
            .expect("epoch lock")
            .insert(epoch, key.clone());
        Ok(Some(key))
    }

    /// The current epoch and its key (created in the store on first use).
    pub(crate) async fn current_epoch(&self) -> Result<(i64, Arc<EpochKey>), ShredError> {
        let live = self.catalog.live_epochs().await?;
        let epoch = live.last().ok_or(ShredError::NoEpoch)?.epoch;
        if let Some(k) = self.epoch_keys.lock().expect("epoch lock").get(&epoch) {
            return Ok((epoch, k.clone()));
        }
        let key = Arc::new(self.epochs.load_or_create(epoch).await?);
        self.epoch_keys
            .lock()
            .expect("epoch lock")
            .insert(epoch, key.clone());
        Ok((epoch, key))
    }

    pub(super) fn forget_epoch(&self, epoch: i64) {
        self.epoch_keys.lock().expect("epoch lock").remove(&epoch);
    }

    /// The keys among `refs` that exist for `account`; with `create`, missing ones are
    /// generated and stored first. Keys that were destroyed are simply absent (without
    /// `create`): whatever they sealed is erased.
    pub async fn get(
        &self,
        account: &AccountId,
        refs: &[DataKeyRef],
        create: bool,
    ) -> Result<HashMap<DataKeyRef, Arc<DataKey>>, ShredError> {
        let now = self.now_ms();
        let mut found = HashMap::with_capacity(refs.len());
        let mut missing: Vec<DataKeyRef> = Vec::new();
        // A set beside the list: a sweep asks for tens of thousands of keys at once, and
        // a linear `contains` per key made that quadratic.
        let mut seen: HashSet<DataKeyRef> = HashSet::with_capacity(refs.len());
        {
            let mut cache = self.cache.lock().expect("data key cache");
            for r in refs {
                if !seen.insert(*r) {
                    continue;
                }
                match cache.get(&(account.to_owned(), *r)) {
                    Some((at, k)) if now - *at < KEY_CACHE_TTL_MS => {
                        found.insert(*r, k.clone());
                    }
                    _ => missing.push(*r),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let catalog = if create {
            self.creator
                .get_or_try_init(|| self.catalog.for_bulk_writes())
                .await?
        } else {
            &self.catalog
        };
        self.load_from(catalog, account, &missing, &mut found)
            .await?;
        // Customer keys this call generated: see below.
        let mut created: HashSet<DataKeyRef> = HashSet::new();
        if create {
            for _attempt in 0..5 {
                let absent: Vec<DataKeyRef> = missing
                    .iter()
                    .filter(|r| !found.contains_key(*r))
                    .copied()
                    .collect();
                if absent.is_empty() {
                    break;
                }
                let (epoch, kek) = self.current_epoch().await?;
                let mut rows = Vec::with_capacity(absent.len());
                let mut generated = Vec::with_capacity(absent.len());
                for r in &absent {
                    let key = DataKey::generate();
                    rows.push(DataKeyRow {
                        account_id: account.to_owned(),
                        kind: r.kind().to_owned(),
                        scope: r.scope(),
                        day: r.bucket(),
                        epoch,
                        wrapped_key: kek.wrap(epoch, account.as_str(), r, &key),
                    });
                    generated.push((*r, key));
                }
                let stored = catalog.insert_data_keys(&rows, now).await?;
                created.extend(generated.iter().map(|(r, _)| *r));
                if stored == rows.len() as u64 {
                    // Every one of ours is stored (none existed, the epoch was open): no
                    // need to read them back, which was a second round trip per page.
                    for (r, key) in generated {
                        found.insert(r, Arc::new(key));
                    }
                } else {
                    // Read back whatever is stored now: ours, or a concurrent writer's.
                    self.load_from(catalog, account, &absent, &mut found)
                        .await?;
                }
            }
            if missing.iter().any(|r| !found.contains_key(r)) {
                return Err(ShredError::Contended(account.to_string()));
            }
        }
        // A customer key generated just now is for a customer never seen before: in a
        // first sync that is nearly every order, so caching them filled the cache with
        // keys no one asks for again (a 1M-order sync held 200,000 of them, about 55 MB,
        // issue 18). A later order of that customer loads it with the rest of its batch.
        // Hour keys are shared by many orders and stay cached.
        let mut cache = self.cache.lock().expect("data key cache");
        for r in &missing {
            let fresh_customer = matches!(r, DataKeyRef::Customer(_)) && created.contains(r);
            if let Some(k) = found.get(r).filter(|_| !fresh_customer) {
                cache.put((account.to_owned(), *r), (now, k.clone()));
            }
        }
        Ok(found)
    }

    async fn load_from(
        &self,
        catalog: &Catalog,
        account: &AccountId,
        refs: &[DataKeyRef],
        found: &mut HashMap<DataKeyRef, Arc<DataKey>>,
    ) -> Result<(), ShredError> {
        for kind in ["hour", "day", "customer"] {
            let mut scopes: Vec<String> = refs
                .iter()
                .filter(|r| r.kind() == kind)
                .map(|r| r.scope())
                .collect();
            // In key order, each lookup walks the primary key's pages in order instead of
            // jumping around it: 45,000 customer keys of a sweep batch on PostgreSQL
            // took 0.4 s of server time sorted, 0.8-0.9 s in batch order (issue 18).
            scopes.sort_unstable();
            if scopes.is_empty() {
                continue;
            }
            for row in catalog.data_keys(account, kind, &scopes).await? {
                let r = DataKeyRef::parse(&row.kind, &row.scope)?;
                // A key under a destroyed epoch is unreadable: treat it as destroyed.
                let Some(kek) = self.epoch_key(row.epoch).await? else {
                    continue;
                };
                let key = kek.unwrap(row.epoch, account.as_str(), &r, &row.wrapped_key)?;
                found.insert(r, Arc::new(key));
            }
        }
        Ok(())
    }

    pub(super) fn forget_key(&self, account: &AccountId, r: &DataKeyRef) {
        self.cache
            .lock()
            .expect("data key cache")
            .pop(&(account.to_owned(), *r));
    }

    pub(super) fn evict_account(&self, account: &AccountId) {
        let mut cache = self.cache.lock().expect("data key cache");
        let stale: Vec<CacheKey> = cache
            .iter()
            .filter(|((a, _), _)| a == account)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            cache.pop(&k);
        }
    }

    /// Destroys the account's day keys of days before `day`: every order due before then
    /// becomes unreadable here and, once the epochs they were wrapped under end, in every
    /// copy. Returns how many keys.
    pub async fn destroy_days_before(
        &self,
        account: &AccountId,
        day: i32,
    ) -> Result<u64, ShredError> {
        let n = self
            .catalog
            .destroy_day_keys_before(account, i64::from(day))
            .await?;
        self.evict_account(account);
        Ok(n)
    }

    /// Destroys a customer's key (subject erasure). Returns how many keys (0 or 1).
    pub async fn destroy_customer(
        &self,
        account: &AccountId,
        customer: CustomerId,
    ) -> Result<u64, ShredError> {
        let n = self
            .catalog
            .destroy_customer_key(account, &customer.to_hex())
            .await?;
        self.cache
            .lock()
            .expect("data key cache")
            .pop(&(account.to_owned(), DataKeyRef::Customer(customer)));
        Ok(n)
    }

    /// Destroys every data key of an account (closure). Returns how many.
    pub async fn destroy_account(&self, account: &AccountId) -> Result<u64, ShredError> {
        let n = self.catalog.destroy_account_data_keys(account).await?;
        self.evict_account(account);
        Ok(n)
    }

    /// How many unwrapped data keys this process holds in its cache (tests: what a sync
    /// leaves in memory).
    #[doc(hidden)]
    pub fn cached_keys(&self) -> usize {
        self.cache.lock().expect("data key cache").len()
    }

    /// Drops every cached data key (tests: behave like a fresh process).
    pub fn clear_cache(&self) {
        self.cache.lock().expect("data key cache").clear();
        self.epoch_keys.lock().expect("epoch lock").clear();
    }
}
