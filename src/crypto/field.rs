//! Field encryption: AES-256-SIV with a random 16-byte nonce. Associated data binds each
//! ciphertext to its account, table, column and row, so a ciphertext copied to another
//! row, column or account fails to decrypt instead of showing the wrong customer.
//!
//! Two formats, told apart by the first byte:
//! - v1 (account key): `0x01 | key version (u32 BE) | nonce (16) | SIV tag (16) | ciphertext`.
//! - v2 (day keys, issue 16, read only): `0x02 | erasure day (i32 BE) | 0/1 |
//!   [customer id (16)] | nonce (16) | SIV tag (16) | ciphertext`.
//! - v3 (hour keys): `0x03 | erasure hour (i32 BE) | generation (u32 BE) | 0/1 |
//!   [customer id (16)] | nonce (16) | SIV tag (16) | ciphertext`.
//!
//! The v2/v3 header names the bucket key and, when the flag is 1, the customer key the
//! field key was derived from, and is authenticated too.

use std::fmt;

use aes_siv::{siv::Aes256Siv, KeyInit};
use rand::RngCore;
use zeroize::Zeroizing;

use super::{CryptoError, DataKeyRef};

const FORMAT_V1: u8 = 1;
const FORMAT_V2: u8 = 2;
const FORMAT_V3: u8 = 3;
const NONCE_LEN: usize = 16;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
const TAG_LEN: usize = 16;

/// The 16-byte id of a customer key: the first half of the customer's email blind index,
/// so subject erasure finds the key from the email alone.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(pub [u8; 16]);

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({}…)", hex::encode(&self.0[..4]))
    }
}

impl CustomerId {
    /// The customer id of an email blind index.
    pub fn from_index(index: &super::EmailIndex) -> Self {
        let mut id = [0u8; 16];
        id.copy_from_slice(&index.0[..16]);
        Self(id)
    }

    /// Hex form, as stored in the catalog's key scope.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Which keys a stored ciphertext needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealRef {
    /// v1: the account key of this version.
    Account(u32),
    /// v2/v3: the key of this erasure bucket (a legacy day, or an hour generation) and,
    /// if named, this customer's key.
    Data {
        bucket: DataKeyRef,
        customer: Option<CustomerId>,
    },
}

/// Stored ciphertext bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext(pub Vec<u8>);

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ciphertext({} bytes)", self.0.len())
    }
}

impl Ciphertext {
    /// Which keys this ciphertext needs (parsed from its header only).
    pub fn seal_ref(&self) -> Result<SealRef, CryptoError> {
        match self.0.first() {
            Some(&FORMAT_V1) => self.key_version().map(SealRef::Account),
            Some(&v @ (FORMAT_V2 | FORMAT_V3)) => {
                let b = &self.0;
                let flag_at = if v == FORMAT_V2 { 5 } else { 9 };
                if b.len() <= flag_at {
                    return Err(CryptoError::Malformed("too short"));
                }
                let first = i32::from_be_bytes([b[1], b[2], b[3], b[4]]);
                let bucket = if v == FORMAT_V2 {
                    DataKeyRef::Day(first)
                } else {
                    DataKeyRef::Hour {
                        hour: first,
                        gen: u32::from_be_bytes([b[5], b[6], b[7], b[8]]),
                    }
                };
                let customer = match b[flag_at] {
                    0 => None,
                    1 if b.len() >= flag_at + 1 + 16 => {
                        let mut id = [0u8; 16];
                        id.copy_from_slice(&b[flag_at + 1..flag_at + 17]);
                        Some(CustomerId(id))
                    }
                    _ => return Err(CryptoError::Malformed("bad customer flag")),
                };
                let header = flag_at + 1 + if customer.is_some() { 16 } else { 0 };
                if b.len() < header + NONCE_LEN + TAG_LEN {
                    return Err(CryptoError::Malformed("too short"));
                }
                Ok(SealRef::Data { bucket, customer })
            }
            _ => Err(CryptoError::Malformed("unknown format version")),
        }
    }

    /// The account key version that encrypted a v1 ciphertext.
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
    /// The bytes every ciphertext of this cipher starts with (format and key names).
    header: Vec<u8>,
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FieldCipher(account {}, header {}, <redacted>)",
            self.account,
            hex::encode(&self.header[..self.header.len().min(6)])
        )
    }
}

fn push_field(ad: &mut Vec<u8>, part: &[u8]) {
    ad.extend_from_slice(&(part.len() as u32).to_be_bytes());
    ad.extend_from_slice(part);
}

impl FieldCipher {
    pub(super) fn new(key: Zeroizing<[u8; 64]>, account: &str, version: u32) -> Self {
        let mut header = vec![FORMAT_V1];
        header.extend_from_slice(&version.to_be_bytes());
        Self {
            key,
            account: account.to_owned(),
            header,
        }
    }

    /// A v2 (day) or v3 (hour) cipher for one (bucket, customer) pair; `key` is derived
    /// from both data keys (see `data_key::field_cipher`).
    pub(super) fn new_data(
        key: Zeroizing<[u8; 64]>,
        account: &str,
        bucket: DataKeyRef,
        customer: Option<CustomerId>,
    ) -> Self {
        let mut header = Vec::with_capacity(26);
        match bucket {
            DataKeyRef::Hour { hour, gen } => {
                header.push(FORMAT_V3);
                header.extend_from_slice(&hour.to_be_bytes());
                header.extend_from_slice(&gen.to_be_bytes());
            }
            DataKeyRef::Day(day) => {
                header.push(FORMAT_V2);
                header.extend_from_slice(&day.to_be_bytes());
            }
            // Not a bucket: a header no stored ciphertext has, so nothing opens with it.
            DataKeyRef::Customer(_) => header.push(0xff),
        }
        match customer {
            Some(c) => {
                header.push(1);
                header.extend_from_slice(&c.0);
            }
            None => header.push(0),
        }
        Self {
            key,
            account: account.to_owned(),
            header,
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
        if self.header[0] != FORMAT_V1 {
            push_field(&mut ad, &self.header);
        }
        ad
    }

    /// Encrypts `plaintext` for the given place.
    pub fn encrypt(&self, ctx: FieldContext<'_>, plaintext: &[u8]) -> Ciphertext {
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ad = self.associated_data(ctx);
        let mut out = Vec::with_capacity(self.header.len() + NONCE_LEN + TAG_LEN + plaintext.len());
        out.extend_from_slice(&self.header);
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
        let h = self.header.len();
        if ct.0.len() < h + NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed("too short"));
        }
        if !ct.0.starts_with(&self.header) {
            return Err(match ct.seal_ref()? {
                SealRef::Account(v) => CryptoError::UnknownKeyVersion(v),
                SealRef::Data { .. } => CryptoError::Authentication,
            });
        }
        let nonce = &ct.0[h..h + NONCE_LEN];
        let tag = aes_siv::Tag::from_slice(&ct.0[h + NONCE_LEN..h + NONCE_LEN + TAG_LEN]);
        let mut buf = Zeroizing::new(ct.0[h + NONCE_LEN + TAG_LEN..].to_vec());
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
