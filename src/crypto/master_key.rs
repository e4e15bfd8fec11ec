//! The master key (KEK): 64 random bytes that wrap every account key. It comes from a key
//! file or `ORDERVAULT_MASTER_KEY` (base64) and never touches the database; only its
//! fingerprint (an HMAC, not the key) is stored, so a wrong key is caught at start-up.

use std::fmt;
use std::path::Path;

use aes_siv::{siv::Aes256Siv, KeyInit};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{CryptoError, KEY_LEN};

/// The key-encryption key.
pub struct MasterKey(SecretBox<[u8; KEY_LEN]>);

/// A public identifier of a master key: HMAC-SHA256(key, label), hex, first 16 bytes.
/// Safe to store and print; reveals nothing about the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekFingerprint(pub String);

impl fmt::Display for KekFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = Box::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(SecretBox::new(bytes))
    }

    /// Parses the base64 form (`ordervault keys generate` output; white space ignored).
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let cleaned: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
        let decoded = Zeroizing::new(
            STANDARD
                .decode(cleaned.as_bytes())
                .map_err(|_| CryptoError::InvalidMasterKey("not valid base64".into()))?,
        );
        if decoded.len() != KEY_LEN {
            return Err(CryptoError::InvalidMasterKey(format!(
                "expected {KEY_LEN} bytes after base64 decoding, got {}",
                decoded.len()
            )));
        }
        let mut bytes = Box::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&decoded);
        Ok(Self(SecretBox::new(bytes)))
    }

    /// Reads a key file holding the base64 form.
    pub fn from_file(path: &Path) -> Result<Self, CryptoError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            CryptoError::InvalidMasterKey(format!("cannot read key file {}: {e}", path.display()))
        })?);
        Self::from_base64(&text)
    }

    /// The base64 form, for writing a key file once.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.expose_secret()))
    }

    /// The fingerprint stored in the catalog to recognise this key.
    pub fn fingerprint(&self) -> KekFingerprint {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes keys of any length");
        mac.update(b"ordervault/v1/kek-fingerprint");
        let out = mac.finalize().into_bytes();
        KekFingerprint(hex::encode(&out[..16]))
    }

    /// A SIV cipher keyed with the KEK, used only to wrap and unwrap account keys.
    pub(super) fn wrapping_cipher(&self) -> Aes256Siv {
        Aes256Siv::new_from_slice(self.0.expose_secret()).expect("64-byte key")
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MasterKey(<redacted>, fingerprint {})",
            self.fingerprint()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_bad_input() {
        let k = MasterKey::generate();
        let k2 = MasterKey::from_base64(&format!("  {}\n", k.to_base64().as_str())).unwrap();
        assert_eq!(k.fingerprint(), k2.fingerprint());
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert!(MasterKey::from_base64(&STANDARD.encode([1u8; 32])).is_err());
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(k.to_base64().as_str()));
    }
}
