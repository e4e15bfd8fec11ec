//! The email blind index: HMAC-SHA256 under an account's index subkey of the normalized
//! email. It lets the service find a customer's orders by email (subject rights) without
//! storing the email in the clear; never a plain hash, so the same email gives unrelated
//! values in two accounts and a dictionary of hashes is useless.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The index value stored beside an order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailIndex(pub [u8; 32]);

impl fmt::Debug for EmailIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailIndex({}…)", hex::encode(&self.0[..4]))
    }
}

/// An HMAC key for keyed indexes (email index, pseudonym).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BlindIndexKey([u8; 32]);

impl BlindIndexKey {
    pub(super) fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// HMAC of the normalized email.
    pub fn index(&self, email: &str) -> EmailIndex {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(normalize_email(email).as_bytes());
        EmailIndex(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(<redacted>)")
    }
}

/// Trims and lower-cases an email, so `" Jan@Example.COM "` and `"jan@example.com"` match.
pub fn normalize_email(email: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(email.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_space_variants_match() {
        let k = BlindIndexKey::new([7; 32]);
        assert_eq!(k.index(" Jan@Example.COM "), k.index("jan@example.com"));
        assert_ne!(k.index("jan@example.com"), k.index("jan@example.org"));
        let other = BlindIndexKey::new([8; 32]);
        assert_ne!(k.index("jan@example.com"), other.index("jan@example.com"));
    }
}
