//! `ordervault keys status` and the key metrics: the current epoch, how many data keys
//! are live and destroyed, and the oldest epoch whose key still exists (its age is the
//! number to alert on: above W, copies are not forgetting on time). Counts only.

use serde::Serialize;

use super::{DataKeyring, ShredError};

/// The state of the key hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    /// The epoch new data keys are wrapped under.
    pub current_epoch: i64,
    /// When it started (Unix ms).
    pub current_epoch_started_at_ms: i64,
    /// The oldest epoch whose key still exists (equals the current one between rotations).
    pub oldest_surviving_epoch: i64,
    /// How old that oldest epoch is, in seconds; stays below the window when rotation runs.
    pub oldest_surviving_epoch_age_secs: i64,
    /// Epochs whose keys exist in the keyring directory.
    pub epoch_keys_on_disk: Vec<i64>,
    /// Data keys stored (wrapped).
    pub data_keys_live: i64,
    /// Data keys destroyed so far (hour keys at the sweep, customer keys at subject
    /// erasure, all of an account's keys at closure).
    pub data_keys_destroyed: i64,
    /// The erasure window W, in seconds.
    pub erasure_window_secs: i64,
}

impl DataKeyring {
    /// The current state, read from the catalog and the epoch key store.
    pub async fn status(&self) -> Result<KeyStatus, ShredError> {
        let live = self.catalog.live_epochs().await?;
        let current = live.last().ok_or(ShredError::NoEpoch)?;
        let oldest = live.first().ok_or(ShredError::NoEpoch)?;
        let counts = self.catalog.data_key_counts().await?;
        Ok(KeyStatus {
            current_epoch: current.epoch,
            current_epoch_started_at_ms: current.started_at,
            oldest_surviving_epoch: oldest.epoch,
            oldest_surviving_epoch_age_secs: (self.now_ms() - oldest.started_at).max(0) / 1000,
            epoch_keys_on_disk: self.epochs.list().await?,
            data_keys_live: counts.live,
            data_keys_destroyed: counts.destroyed,
            erasure_window_secs: self.window_ms / 1000,
        })
    }
}
