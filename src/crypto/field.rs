//! Field encryption: AES-256-SIV with a random 16-byte nonce. Associated data binds each
//! ciphertext to its account, table, column and row, so a ciphertext copied to another
//! row, column or account fails to decrypt instead of showing the wrong customer.
//!
//! Format: `0x01 | key version (u32 BE) | nonce (16) | SIV tag (16) | ciphertext`.

use std::fmt;

use aes_siv::{siv::Aes256Siv, KeyInit};
use rand::RngCore;
use zeroize::Zeroizing;

use super::CryptoError;

const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + 16;
const TAG_LEN: usize = 16;

/// Stored ciphertext bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext(pub Vec<u8>);

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ciphertext({} bytes)", self.0.len())
    }
}

impl Ciphertext {
    /// The account key version that encrypted it.
    pub fn key_version(&self) -> Result<u32, CryptoError> {
        if self.0.len() < HEADER_LEN + TAG_LEN {
            return Err(CryptoError::Malformed("too short"));
        }
        if self.0[0] != FORMAT_V1 {
            return Err(CryptoError::Malformed("unknown format version"));
        }
        Ok(u32::from_be_bytes([
            self.0[1], self.0[2], self.0[3], self.0[4],
        ]))
    }
}

/// Where a ciphertext belongs: table, column and row key (the account is in the cipher).
#[derive(Debug, Clone, Copy)]
pub struct FieldContext<'a> {
    pub table: &'a str,
    pub column: &'a str,
    /// The row's natural key, e.g. `"bol/1043946570"`.
    pub row: &'a str,
}

/// An AES-256-SIV cipher bound to one account and key version.
///
/// Holds the 64-byte subkey (zeroized on drop) and expands it per operation, as the
/// `aes-siv` AEAD wrapper does: SIV state is mutable, and a per-call expansion keeps the
/// cipher shareable across threads without a lock.
#[derive(Clone)]
pub struct FieldCipher {
    key: Zeroizing<[u8; 64]>,
    account: String,
    version: u32,
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FieldCipher(account {}, v{}, <redacted>)",
            self.account, self.version
        )
    }
}

fn push_field(ad: &mut Vec<u8>, part: &[u8]) {
    ad.extend_from_slice(&(part.len() as u32).to_be_bytes());
    ad.extend_from_slice(part);
}

impl FieldCipher {
    pub(super) fn new(key: Zeroizing<[u8; 64]>, account: &str, version: u32) -> Self {
        Self {
            key,
            account: account.to_owned(),
            version,
        }
    }

    fn siv(&self) -> Aes256Siv {
        Aes256Siv::new_from_slice(self.key.as_ref()).expect("64-byte key")
    }

    /// Associated data: length-prefixed (label, account, table, column, row).
    fn associated_data(&self, ctx: FieldContext<'_>) -> Vec<u8> {
        let mut ad = Vec::with_capacity(48 + ctx.row.len());
        for part in [
            b"ordervault/v1/field".as_slice(),
            self.account.as_bytes(),
            ctx.table.as_bytes(),
            ctx.column.as_bytes(),
            ctx.row.as_bytes(),
        ] {
            push_field(&mut ad, part);
        }
        ad
    }

    /// Encrypts `plaintext` for the given place.
    pub fn encrypt(&self, ctx: FieldContext<'_>, plaintext: &[u8]) -> Ciphertext {
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ad = self.associated_data(ctx);
        let mut out = Vec::with_capacity(HEADER_LEN + TAG_LEN + plaintext.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let mut buf = out.split_off(start);
        let tag = self
            .siv()
            .encrypt_in_place_detached([ad.as_slice(), &nonce], &mut buf)
            .expect("SIV encryption with two headers cannot fail");
        out.extend_from_slice(&tag);
        out.extend_from_slice(&buf);
        Ciphertext(out)
    }

    /// Decrypts a ciphertext made by [`FieldCipher::encrypt`] for the same place.
    pub fn decrypt(
        &self,
        ctx: FieldContext<'_>,
        ct: &Ciphertext,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let version = ct.key_version()?;
        if version != self.version {
            return Err(CryptoError::UnknownKeyVersion(version));
        }
        let nonce = &ct.0[5..HEADER_LEN];
        let tag = aes_siv::Tag::from_slice(&ct.0[HEADER_LEN..HEADER_LEN + TAG_LEN]);
        let mut buf = Zeroizing::new(ct.0[HEADER_LEN + TAG_LEN..].to_vec());
        let ad = self.associated_data(ctx);
        self.siv()
            .decrypt_in_place_detached([ad.as_slice(), nonce], &mut buf, tag)
            .map_err(|_| CryptoError::Authentication)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use crate::crypto::AccountKey;

    use super::*;

    const CTX: FieldContext<'static> = FieldContext {
        table: "orders",
        column: "shipping",
        row: "bol/1",
    };

    #[test]
    fn round_trip_and_randomized() {
        let keys = AccountKey::generate(1).subkeys("acc");
        let a = keys.fields.encrypt(CTX, b"Jan Jansen");
        let b = keys.fields.encrypt(CTX, b"Jan Jansen");
        assert_ne!(
            a, b,
            "random nonce: equal plaintexts give different ciphertexts"
        );
        assert_eq!(
            keys.fields.decrypt(CTX, &a).unwrap().as_slice(),
            b"Jan Jansen"
        );
        assert_eq!(a.key_version().unwrap(), 1);
    }

    #[test]
    fn bound_to_row_column_table_and_account() {
        let key = AccountKey::generate(1);
        let keys = key.subkeys("acc");
        let ct = keys.fields.encrypt(CTX, b"secret street 1");
        for other in [
            FieldContext {
                row: "bol/2",
                ..CTX
            },
            FieldContext {
                column: "billing",
                ..CTX
            },
            FieldContext {
                table: "outbox",
                ..CTX
            },
        ] {
            assert_eq!(
                keys.fields.decrypt(other, &ct),
                Err(CryptoError::Authentication)
            );
        }
        // Same key bytes, other account id: still refused.
        let moved = key.subkeys("other-acc");
        assert_eq!(
            moved.fields.decrypt(CTX, &ct),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let keys = AccountKey::generate(1).subkeys("acc");
        let ct = keys.fields.encrypt(CTX, b"secret");
        for i in [5, 21, ct.0.len() - 1] {
            let mut t = ct.clone();
            t.0[i] ^= 0x40;
            assert!(keys.fields.decrypt(CTX, &t).is_err(), "byte {i}");
        }
        let truncated = Ciphertext(ct.0[..10].to_vec());
        assert!(matches!(
            keys.fields.decrypt(CTX, &truncated),
            Err(CryptoError::Malformed(_))
        ));
    }
}
