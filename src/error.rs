//! The service-layer error: what account, token, key and privacy operations report.
//! The HTTP layer maps each variant to a problem+json status in one place. Messages name
//! ids and fields, never personal data or secrets.

use crate::config::ConfigError;
use crate::crypto::CryptoError;
use crate::keyring::KeyringError;
use crate::store::StoreError;

/// Why a service operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Well-formed but refused by a rule (e.g. a webhook target on an internal address).
    #[error("{0}")]
    Unprocessable(String),
    /// A fault of the server, not of the request: a task that died, data read back from
    /// a store that does not parse or decrypt, the job scheduler. The API answers 500
    /// with fixed wording and a correlation id; the text (ids and kinds, never personal
    /// data) goes only to the log under that id.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ServiceError {
    /// A server fault (see [`ServiceError::Internal`]).
    pub fn internal(what: impl Into<String>) -> Self {
        Self::Internal(what.into())
    }
}

impl From<crate::shredding::ShredError> for ServiceError {
    fn from(e: crate::shredding::ShredError) -> Self {
        Self::Keyring(e.into())
    }
}

impl From<crate::orders::SealError> for ServiceError {
    fn from(e: crate::orders::SealError) -> Self {
        match e {
            crate::orders::SealError::Crypto(c) => Self::Crypto(c),
            crate::orders::SealError::Keys(k) => Self::Keyring(k),
            corrupt @ crate::orders::SealError::Corrupt { .. } => {
                Self::Store(StoreError::Corrupt(corrupt.to_string()))
            }
        }
    }
}
