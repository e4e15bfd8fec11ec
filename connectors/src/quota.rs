//! Quotas shared across connections, as the marketplaces count them.
//!
//! - **Amazon** meters each operation per selling partner *and* application: two
//!   connections of the same seller through the same app (say, two marketplace groups)
//!   spend one searchOrders bucket. [`Quotas::amazon`] hands every such client the same
//!   pacers, keyed by the app's client id and a per-process keyed hash of the seller's
//!   refresh token (the token itself is never kept as a key).
//! - **eBay** counts the order resource's daily quota (100,000 calls) per application:
//!   every connection of one client id shares it. [`Quotas::ebay`] hands all clients of
//!   one client id the same quota state: they count their calls against the budget eBay's
//!   rate-limit report states, and once one learns that the quota is spent, none calls
//!   eBay until it resets.
//! - **bol** states the limits per client credential in `X-RateLimit-*` on every
//!   response; each client reads them as they come.
//!
//! One [`Quotas`] lives per process (the sync worker's); several worker processes each
//! pace on their own mirror, and the server's 429s (which cost at most the wait asked
//! for) reconcile them.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use crate::amazon::pacing::Pacer;
use crate::amazon::{AmazonClient, AmazonConfig, AmazonCredentials, Sleeper, TokioSleeper};
use crate::clock::SharedClock;

/// The process's registry of shared pacers.
#[derive(Default)]
pub struct Quotas {
    hasher: std::collections::hash_map::RandomState,
    amazon: Mutex<HashMap<String, Vec<Arc<Pacer>>>>,
    ebay: Mutex<HashMap<String, crate::ebay::budget::SharedQuota>>,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.amazon.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("Quotas")
            .field("amazon_sellers", &n)
            .finish()
    }
}

impl Quotas {
    pub fn new() -> Self {
        Self::default()
    }

    /// The pacers every Amazon client of this app and seller shares (one per operation).
    pub fn amazon(
        &self,
        config: &AmazonConfig,
        credentials: &AmazonCredentials,
        clock: &SharedClock,
        sleeper: Option<Arc<dyn Sleeper>>,
    ) -> Vec<Arc<Pacer>> {
        let seller = self.hasher.hash_one(credentials.refresh_token.as_str());
        let key = format!("{}|{seller:016x}", credentials.client_id);
        let mut map = self.amazon.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key)
            .or_insert_with(|| {
                let sleeper: Arc<dyn Sleeper> = sleeper.unwrap_or_else(|| Arc::new(TokioSleeper));
                AmazonClient::quota_ops(config)
                    .into_iter()
                    .map(|(_, plan)| Arc::new(Pacer::new(plan, clock.clone(), sleeper.clone())))
                    .collect()
            })
            .clone()
    }

    /// The spent-quota state every eBay client of this application (client id) shares.
    pub fn ebay(&self, client_id: &str) -> crate::ebay::budget::SharedQuota {
        let mut map = self.ebay.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(client_id.to_owned()).or_default().clone()
    }

    /// How many distinct Amazon app-and-seller quotas are in use.
    pub fn amazon_sellers(&self) -> usize {
        self.amazon.lock().map(|m| m.len()).unwrap_or(0)
    }
}
