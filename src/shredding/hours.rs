//! Erasure-hour keys: which generation new ciphertext is sealed under, and which keys a
//! sweep retires.
//!
//! An order is sealed under the key of the earliest hour it can fall due (never later
//! than the moment it is pseudonymized), so the sweep that pseudonymizes it finds that
//! hour started and destroys the key in the same run. Orders of a started hour that are
//! not due yet (the rest of the current hour, orders still unfulfilled past their
//! retention) are moved first to a new generation, created here, that the retired keys
//! are never chosen again for.
//!
//! Counts, hours and generations only; never key bytes.

use std::collections::{HashMap, HashSet};

use super::{hour_of, DataKeyring, ShredError};
use crate::crypto::DataKeyRef;
use crate::ids::AccountId;

impl DataKeyring {
    /// For each of `hours`, the key new ciphertext is sealed under: the newest live
    /// generation not in `avoid` and created at or after `floor_ms` (when the account's
    /// retention changed, older keys are retired), or (none) a new generation, created
    /// on first use by [`DataKeyring::get`]. Read fresh from the catalog each time (not
    /// cached), so a generation a sweep just started is picked up by every later batch.
    pub async fn hour_keys_for_sealing(
        &self,
        account: &AccountId,
        hours: &[i32],
        avoid: &HashSet<DataKeyRef>,
        floor_ms: Option<i64>,
    ) -> Result<HashMap<i32, DataKeyRef>, ShredError> {
        let buckets: Vec<i64> = hours.iter().map(|h| i64::from(*h)).collect();
        let mut newest: HashMap<i32, u32> = HashMap::with_capacity(hours.len());
        let mut highest: HashMap<i32, u32> = HashMap::with_capacity(hours.len());
        for (scope, created) in self
            .catalog
            .bucket_key_scopes(account, "hour", &buckets)
            .await?
        {
            let DataKeyRef::Hour { hour, gen } = DataKeyRef::parse("hour", &scope)? else {
                continue;
            };
            let top = highest.entry(hour).or_insert(gen);
            *top = (*top).max(gen);
            let retired = floor_ms.is_some_and(|f| created < f);
            if !retired && !avoid.contains(&DataKeyRef::Hour { hour, gen }) {
                let n = newest.entry(hour).or_insert(gen);
                *n = (*n).max(gen);
            }
        }
        // A new generation: above every live one, and numbered by the clock so that a
        // generation destroyed long ago is not named again.
        let clock_gen = u32::try_from(self.now_ms().div_euclid(1000)).unwrap_or(u32::MAX);
        Ok(hours
            .iter()
            .map(|&hour| {
                let gen = match newest.get(&hour) {
                    Some(g) => *g,
                    None => highest
                        .get(&hour)
                        .map_or(clock_gen, |g| clock_gen.max(g.saturating_add(1))),
                };
                (hour, DataKeyRef::Hour { hour, gen })
            })
            .collect())
    }

    /// The live hour keys of an account whose hour has started by `now_ms`: what the
    /// sweep retires once it has moved their orders that are not due yet.
    pub async fn started_hour_keys(
        &self,
        account: &AccountId,
        now_ms: i64,
    ) -> Result<Vec<DataKeyRef>, ShredError> {
        let scopes = self
            .catalog
            .bucket_key_scopes_upto(account, "hour", i64::from(hour_of(now_ms)))
            .await?;
        let mut out = Vec::with_capacity(scopes.len());
        for s in scopes {
            out.push(DataKeyRef::parse("hour", &s)?);
        }
        Ok(out)
    }

    /// Destroys the given keys of an account. They stop working in this process at once
    /// (its cache forgets them before this returns); other processes hold them at most
    /// [`crate::keyring::KEY_CACHE_TTL_MS`] longer. Returns how many were destroyed.
    pub async fn destroy_keys(
        &self,
        account: &AccountId,
        refs: &[DataKeyRef],
    ) -> Result<u64, ShredError> {
        let mut n = 0;
        for r in refs {
            self.forget_key(account, r);
            n += self
                .catalog
                .destroy_data_key(account, r.kind(), &r.scope())
                .await?;
            self.forget_key(account, r);
        }
        Ok(n)
    }

    /// Destroys the account's hour keys created before `floor_ms`, once its orders have
    /// all moved to newer ones (the reseal after a retention change finished).
    pub async fn destroy_hours_created_before(
        &self,
        account: &AccountId,
        floor_ms: i64,
    ) -> Result<u64, ShredError> {
        let mut refs = Vec::new();
        for s in self
            .catalog
            .key_scopes_created_before(account, "hour", floor_ms)
            .await?
        {
            refs.push(DataKeyRef::parse("hour", &s)?);
        }
        self.destroy_keys(account, &refs).await
    }

    /// Destroys every legacy day key of an account, once its orders are all on hour
    /// keys (the rekey migration finished). Returns how many.
    pub async fn destroy_all_days(&self, account: &AccountId) -> Result<u64, ShredError> {
        let n = self
            .catalog
            .destroy_day_keys_before(account, i64::MAX)
            .await?;
        self.evict_account(account);
        Ok(n)
    }
}
