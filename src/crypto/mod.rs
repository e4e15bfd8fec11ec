//! Crypto for ordervault: the master key (KEK), per-account keys stored only wrapped,
//! purpose subkeys, field encryption and the email blind index (DESIGN.md, "Crypto"),
//! and the data/epoch keys of crypto-shredding (issue 16).
//!
//! Every type here that holds key material or plaintext personal data prints nothing
//! secret in `Debug` and is zeroized on drop. Nothing here logs.

mod account_key;
mod blind_index;
mod data_key;
mod error;
mod field;
mod master_key;

pub use account_key::{AccountKey, AccountKeys, WrappedAccountKey};
pub use blind_index::{normalize_email, BlindIndexKey, EmailIndex};
pub use data_key::{field_cipher, DataKey, DataKeyRef, EpochKey};
pub use error::CryptoError;
pub use field::{Ciphertext, CustomerId, FieldCipher, FieldContext, SealRef};
pub use master_key::{KekFingerprint, MasterKey};

/// Length of every root key (master and account): 64 bytes, the AES-256-SIV key size.
pub const KEY_LEN: usize = 64;
