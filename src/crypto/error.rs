//! Crypto errors. They say what failed and for which key or field, never a key byte or
//! a plaintext value.

/// Why a crypto operation failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key cannot unwrap the key of account {account} (version {version}): wrong master key, or the key row was tampered with")]
    UnwrapFailed { account: String, version: u32 },
    #[error("ciphertext failed authentication: it was tampered with, moved to another row or account, or encrypted under another key")]
    Authentication,
    #[error("ciphertext is malformed ({0})")]
    Malformed(&'static str),
    #[error("ciphertext needs account key version {0}, which is not loaded")]
    UnknownKeyVersion(u32),
    #[error("a data key this ciphertext needs does not exist in this account: destroyed (erased data awaiting cleanup), or the ciphertext was moved here from elsewhere")]
    KeyUnavailable,
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),
}
