//! Epoch rotation: start a new epoch when the current one is W/2 old, rewrap every live
//! data key into it, then destroy each older epoch's key.
//!
//! Crash-safe and shareable: every step is idempotent and re-derived from the catalog, so
//! a rotation interrupted anywhere is finished by the next one (at start-up and on every
//! tick); several processes may rotate at once (the new epoch row is inserted by exactly
//! one, rewraps are conditional on the old epoch, destruction is idempotent). An epoch key
//! is destroyed only after it is marked retiring (no key can be stored under it any more;
//! on PostgreSQL the mark waits for writes in flight, which share-lock the epoch row) and
//! no data or account key is wrapped under it, so no key is ever lost.
//!
//! Never logs key bytes; reports carry epochs and counts.

use serde::Serialize;

use super::{DataKeyring, ShredError};
use crate::crypto::DataKeyRef;

/// Keys rewrapped per transaction.
const REWRAP_BATCH: i64 = 1_000;

/// Where a test can stop a rotation, as a crash would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    /// The new epoch exists; nothing rewrapped yet.
    Started,
    /// Every key is rewrapped; the old epoch keys still exist.
    Rewrapped,
}

/// What one rotation run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The epoch new keys are wrapped under now.
    pub current_epoch: i64,
    /// Whether this run started a new epoch.
    pub started: bool,
    /// Data keys this run rewrapped.
    pub rewrapped: u64,
    /// Epochs whose keys this run destroyed.
    pub destroyed_epochs: Vec<i64>,
}

impl DataKeyring {
    /// How long an epoch lasts before the next rotation starts: half the window, so an
    /// epoch is destroyed within W even when a rotation runs late by up to W/2.
    pub fn epoch_period_ms(&self) -> i64 {
        (self.window_ms / 2).max(1)
    }

    /// Start-up: checks that the epoch key store is writable, creates the first epoch on
    /// a fresh installation, destroys keys of epochs the catalog says are gone, and
    /// finishes any interrupted rotation (or starts a due one).
    pub async fn start(&self) -> Result<RotationReport, ShredError> {
        self.epochs.check().await?;
        if self.catalog.live_epochs().await?.is_empty() {
            self.catalog.start_epoch(1, self.now_ms()).await?;
        }
        self.current_epoch().await?;
        for e in self.catalog.all_epochs().await? {
            if e.destroyed_at.is_some() {
                self.epochs.destroy(e.epoch).await?;
            }
        }
        self.rotate(None).await
    }

    /// One rotation tick: start a new epoch if the current one is due, then rewrap and
    /// destroy every older live epoch. `stop_after` interrupts it (tests).
    pub async fn rotate(
        &self,
        stop_after: Option<RotationStep>,
    ) -> Result<RotationReport, ShredError> {
        let _one_at_a_time = self.rotating.lock().await;
        let now = self.now_ms();
        let live = self.catalog.live_epochs().await?;
        let current = live.last().ok_or(ShredError::NoEpoch)?;
        let mut started = false;
        if now - current.started_at >= self.epoch_period_ms() {
            started = self.catalog.start_epoch(current.epoch + 1, now).await?;
        }
        let (epoch, kek) = self.current_epoch().await?;
        let mut report = RotationReport {
            current_epoch: epoch,
            started,
            rewrapped: 0,
            destroyed_epochs: Vec::new(),
        };
        if stop_after == Some(RotationStep::Started) {
            return Ok(report);
        }
        // Account keys stored before they had an epoch layer get one (the migration of
        // issue 16's second part; a no-op once done).
        report.rewrapped += self.rewrap_account_keys(None, epoch, &kek).await?;
        let old: Vec<i64> = self
            .catalog
            .live_epochs()
            .await?
            .iter()
            .map(|e| e.epoch)
            .filter(|e| *e < epoch)
            .collect();
        for &e in &old {
            report.rewrapped += self.rewrap_epoch(e, epoch, &kek).await?;
            report.rewrapped += self.rewrap_account_keys(Some(e), epoch, &kek).await?;
        }
        if stop_after == Some(RotationStep::Rewrapped) {
            return Ok(report);
        }
        for e in old {
            // A key stored under `e` by a writer that read the epochs just before the new
            // one started: marking `e` retiring refuses any later write under it and (on
            // PostgreSQL) waits for those in flight to end; then look once more.
            self.catalog.mark_epoch_retiring(e, self.now_ms()).await?;
            report.rewrapped += self.rewrap_epoch(e, epoch, &kek).await?;
            report.rewrapped += self.rewrap_account_keys(Some(e), epoch, &kek).await?;
            self.epochs.destroy(e).await?;
            self.forget_epoch(e);
            self.catalog.mark_epoch_destroyed(e, self.now_ms()).await?;
            report.destroyed_epochs.push(e);
            crate::metrics::metrics().add("ordervault_key_epochs_destroyed_total", &[], 1);
            tracing::info!(epoch = e, current = epoch, "key epoch destroyed");
        }
        if report.started {
            crate::metrics::metrics().add("ordervault_key_rotations_total", &[], 1);
        }
        Ok(report)
    }

    /// How often `serve` runs a rotation tick: often enough that an epoch ends within a
    /// few percent of its period, at most once a minute.
    pub fn tick_ms(&self) -> i64 {
        (self.epoch_period_ms() / 20).clamp(1_000, 60_000)
    }

    /// Moves the outer layer of account keys from epoch `old` (`None`: rows without the
    /// layer yet) to `new`. The master-wrapped inner layer is untouched: no master key
    /// is needed here.
    async fn rewrap_account_keys(
        &self,
        old: Option<i64>,
        new: i64,
        kek: &crate::crypto::EpochKey,
    ) -> Result<u64, ShredError> {
        let mut done = 0;
        loop {
            let rows = self
                .catalog
                .account_keys_in_epoch(old, REWRAP_BATCH)
                .await?;
            if rows.is_empty() {
                return Ok(done);
            }
            let old_kek = match old {
                Some(e) => match self.epoch_key(e).await? {
                    Some(k) => Some(k),
                    None => {
                        let left = self.catalog.account_keys_in_epoch(old, 1).await?;
                        if left.is_empty() {
                            return Ok(done);
                        }
                        return Err(ShredError::EpochKeyLost(left.len(), e));
                    }
                },
                None => None,
            };
            let mut moved = 0;
            for row in rows {
                let version = u32::try_from(row.version).map_err(|_| {
                    crate::store::StoreError::Corrupt("key version out of range".into())
                })?;
                let inner = match (&old_kek, old) {
                    (Some(k), Some(e)) => {
                        k.unwrap_account_key(e, row.account_id.as_str(), version, &row.wrapped_key)?
                    }
                    _ => row.wrapped_key.clone(),
                };
                let outer = kek.wrap_account_key(new, row.account_id.as_str(), version, &inner);
                if self
                    .catalog
                    .rewrap_account_key_epoch(&row, &outer, new)
                    .await?
                {
                    moved += 1;
                }
            }
            done += moved;
            if moved == 0 {
                tokio::task::yield_now().await;
            }
        }
    }

    async fn rewrap_epoch(
        &self,
        old: i64,
        new: i64,
        kek: &crate::crypto::EpochKey,
    ) -> Result<u64, ShredError> {
        let mut done = 0;
        loop {
            let rows = self.catalog.data_keys_in_epoch(old, REWRAP_BATCH).await?;
            if rows.is_empty() {
                return Ok(done);
            }
            let Some(old_kek) = self.epoch_key(old).await? else {
                // Another process may have just finished this epoch; if keys remain under
                // a destroyed epoch key they cannot be recovered by anyone.
                let left = self.catalog.data_keys_in_epoch(old, REWRAP_BATCH).await?;
                if left.is_empty() {
                    return Ok(done);
                }
                return Err(ShredError::EpochKeyLost(left.len(), old));
            };
            let mut batch = Vec::with_capacity(rows.len());
            for row in rows {
                let r = DataKeyRef::parse(&row.kind, &row.scope)?;
                let key = old_kek.unwrap(old, row.account_id.as_str(), &r, &row.wrapped_key)?;
                let wrapped = kek.wrap(new, row.account_id.as_str(), &r, &key);
                batch.push((row, wrapped));
            }
            let n = self.catalog.rewrap_data_keys(&batch, new).await?;
            done += n;
            if n == 0 {
                // Every row of this batch was moved by someone else meanwhile; go on.
                tokio::task::yield_now().await;
            }
        }
    }
}

/// The rotation loop of `serve`: a tick every [`DataKeyring::tick_ms`] until `stop`.
/// Failures are logged (epochs and causes only) and retried at the next tick.
pub async fn run_rotation(
    data: std::sync::Arc<DataKeyring>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let tick = std::time::Duration::from_millis(data.tick_ms() as u64);
    loop {
        match data.rotate(None).await {
            Ok(r) if r.started || !r.destroyed_epochs.is_empty() => tracing::info!(
                epoch = r.current_epoch,
                rewrapped = r.rewrapped,
                destroyed = r.destroyed_epochs.len(),
                "key epoch rotated"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "key epoch rotation failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
    }
}
