//! Per-account keys. Each account has a 64-byte root key that is stored only wrapped by
//! the master key (AES-SIV, associated data = account id + key version). Purpose subkeys
//! are derived from it with HMAC-SHA256 and a label, so a leak of one subkey reveals
//! nothing of the others, and rotating the master key rewraps root keys only.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{BlindIndexKey, CryptoError, FieldCipher, MasterKey, KEY_LEN};

/// An account's root key, in the clear. Lives only in memory.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct AccountKey {
    bytes: [u8; KEY_LEN],
    #[zeroize(skip)]
    version: u32,
}

/// An account key as stored in the catalog: AES-SIV ciphertext under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedAccountKey(pub Vec<u8>);

impl fmt::Debug for WrappedAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedAccountKey({} bytes)", self.0.len())
    }
}

fn wrap_headers<'a>(account: &'a str, version: &'a [u8; 4]) -> [&'a [u8]; 3] {
    [b"ordervault/v1/account-key", account.as_bytes(), version]
}

impl AccountKey {
    /// A fresh random key for a new account (or a new key version).
    pub fn generate(version: u32) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self { bytes, version }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Wraps the key under the master key, bound to the account id and version.
    pub fn wrap(&self, master: &MasterKey, account: &str) -> WrappedAccountKey {
        let v = self.version.to_be_bytes();
        let wrapped = master
            .wrapping_cipher()
            .encrypt(wrap_headers(account, &v), &self.bytes)
            .expect("SIV encryption of 64 bytes cannot fail");
        WrappedAccountKey(wrapped)
    }

    /// Unwraps a stored key. Fails with a clear error (never garbage) for a wrong master
    /// key, a key row moved to another account or version, or tampering.
    pub fn unwrap(
        master: &MasterKey,
        account: &str,
        version: u32,
        wrapped: &WrappedAccountKey,
    ) -> Result<Self, CryptoError> {
        let v = version.to_be_bytes();
        let fail = || CryptoError::UnwrapFailed {
            account: account.to_owned(),
            version,
        };
        let plain = Zeroizing::new(
            master
                .wrapping_cipher()
                .decrypt(wrap_headers(account, &v), &wrapped.0)
                .map_err(|_| fail())?,
        );
        if plain.len() != KEY_LEN {
            return Err(fail());
        }
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(&plain);
        Ok(Self { bytes, version })
    }

    /// Derives `N` bytes for a purpose: HMAC-SHA256(root, "ordervault/v1/<label>/<i>").
    fn derive<const N: usize>(&self, label: &str) -> Zeroizing<[u8; N]> {
        let mut out = Zeroizing::new([0u8; N]);
        for (i, chunk) in out.chunks_mut(32).enumerate() {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.bytes)
                .expect("HMAC takes keys of any length");
            mac.update(format!("ordervault/v1/{label}/{i}").as_bytes());
            let block = mac.finalize().into_bytes();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        out
    }

    /// All purpose subkeys of this account key.
    pub fn subkeys(&self, account: &str) -> AccountKeys {
        let siv = |label| self.derive::<KEY_LEN>(label);
        AccountKeys {
            version: self.version,
            fields: FieldCipher::new(siv("field-encryption"), account, self.version),
            secrets: FieldCipher::new(siv("secrets"), account, self.version),
            email_index: BlindIndexKey::new(*self.derive::<32>("email-index")),
            pseudonym: BlindIndexKey::new(*self.derive::<32>("pseudonym")),
        }
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKey(v{}, <redacted>)", self.version)
    }
}

/// The purpose subkeys of one account key version, ready to use.
pub struct AccountKeys {
    pub version: u32,
    /// Customer personal data in the account store.
    pub fields: FieldCipher,
    /// Connection credentials and webhook secrets in the catalog.
    pub secrets: FieldCipher,
    /// Email blind index: find an order by a customer's email without storing it.
    pub email_index: BlindIndexKey,
    /// Pseudonym kept after erasure so repeat customers stay countable.
    pub pseudonym: BlindIndexKey,
}

impl fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKeys(v{}, <redacted>)", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_is_bound_to_master_account_and_version() {
        let master = MasterKey::generate();
        let key = AccountKey::generate(1);
        let wrapped = key.wrap(&master, "acc1");
        let back = AccountKey::unwrap(&master, "acc1", 1, &wrapped).unwrap();
        assert_eq!(back.bytes, key.bytes);

        let other = MasterKey::generate();
        assert!(matches!(
            AccountKey::unwrap(&other, "acc1", 1, &wrapped),
            Err(CryptoError::UnwrapFailed { .. })
        ));
        assert!(AccountKey::unwrap(&master, "acc2", 1, &wrapped).is_err());
        assert!(AccountKey::unwrap(&master, "acc1", 2, &wrapped).is_err());
        let mut tampered = wrapped.clone();
        tampered.0[3] ^= 1;
        assert!(AccountKey::unwrap(&master, "acc1", 1, &tampered).is_err());
    }

    #[test]
    fn subkeys_differ_by_purpose_and_account_key() {
        let a = AccountKey::generate(1);
        let b = AccountKey::generate(1);
        let ka = a.subkeys("x");
        let kb = b.subkeys("x");
        let e = "jan@example.com";
        assert_ne!(ka.email_index.index(e), kb.email_index.index(e));
        assert_ne!(ka.email_index.index(e).0, ka.pseudonym.index(e).0);
    }
}
