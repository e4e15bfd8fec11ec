//! Crypto-shredding with a bounded window (issue 16).
//!
//! # The hierarchy
//! - **Data keys** (64 random bytes): one per account, erasure hour and generation, one
//!   per account and customer (legacy stores: one per account and erasure day, until the
//!   reseal moves them). A personal field is sealed under a key derived from its order's
//!   hour key and customer key (`crypto::field_cipher`), so destroying either shreds it.
//!   An order sits under the earliest hour it can fall due, never one already past
//!   (`keyring::AccountKeyset::erasure_hour`), so the sweep that pseudonymizes it finds
//!   that hour started and destroys its key in the same run ([`hours`], and
//!   `privacy::retire` for the orders of such an hour that are not due yet).
//! - **Epoch keys**: data keys, and the master-wrapped account keys, are stored in the
//!   catalog only wrapped under the key of the current epoch. Epoch keys live outside
//!   the database ([`EpochKeyStore`]); an epoch lasts at most half the erasure window W,
//!   then every live key is rewrapped into the next epoch and the old epoch key is
//!   destroyed.
//!
//! # The guarantee
//! A data key that is destroyed (deleted from the catalog) survives only in copies of the
//! database (WAL, dumps, replicas, backups), wrapped under an epoch that was current at
//! or before its destruction. That epoch is destroyed within W/2 plus one rotation tick
//! (plus the rewrap), so after W no key material anywhere can open the copy's
//! ciphertexts of that key; the key itself is destroyed in the run that erases the data.
//!
//! # What this must never do
//! Log or report key bytes or personal data: reports carry epochs, ids and counts.

mod data_keys;
pub mod epoch_store;
pub mod hours;
mod rotation;
mod status;

pub use data_keys::DataKeyring;
pub use epoch_store::{EpochKeyStore, EpochStoreError, FileEpochStore};
pub use rotation::{run_rotation, RotationReport, RotationStep};
pub use status::KeyStatus;

/// One day in milliseconds: the granularity of legacy erasure-day keys.
pub const DAY_MS: i64 = 86_400_000;

/// One hour in milliseconds: the granularity of erasure-hour keys.
pub const HOUR_MS: i64 = 3_600_000;

/// The erasure day (days since 1970-01-01 UTC) of a due instant in Unix milliseconds.
pub fn day_of(due_ms: i64) -> i32 {
    i32::try_from(due_ms.div_euclid(DAY_MS)).unwrap_or(i32::MAX)
}

/// The erasure hour (hours since 1970-01-01 UTC) of an instant in Unix milliseconds.
pub fn hour_of(ms: i64) -> i32 {
    i32::try_from(ms.div_euclid(HOUR_MS)).unwrap_or(i32::MAX)
}

/// Why a shredding operation failed (epochs, ids and causes; never key bytes).
#[derive(Debug, thiserror::Error)]
pub enum ShredError {
    #[error(transparent)]
    EpochStore(#[from] EpochStoreError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("no key-encryption epoch exists; start-up did not run")]
    NoEpoch,
    #[error(
        "could not store a new data key of account {0} after several tries (epochs rotating?)"
    )]
    Contended(String),
    #[error("{0} data keys of epoch {1} cannot be rewrapped: its epoch key is gone from the keyring directory")]
    EpochKeyLost(usize, i64),
}
