//! Data keys and epoch keys (issue 16, crypto-shredding with a bounded window).
//!
//! Personal fields are sealed under a key derived from two random data keys: the key of
//! the order's erasure day (per account) and, when the order has an email, the key of
//! its customer (per account, found through the email blind index). Destroying either
//! one makes the field unreadable everywhere, copies included. Data keys are stored only
//! wrapped (AES-SIV) under the key of the current epoch, which lives outside the
//! database and is destroyed when its epoch ends, so a copy of the database never holds
//! a usable data key for longer than an epoch lives.
//!
//! Nothing here logs; `Debug` of every key type prints nothing secret.

use std::fmt;

use aes_siv::{siv::Aes256Siv, KeyInit};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{CryptoError, CustomerId, FieldCipher, KEY_LEN};

/// What a data key protects: one erasure hour of an account (one generation of it), one
/// erasure day (stores not yet moved onto hour keys), or one customer of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKeyRef {
    /// Legacy (before hour keys): orders whose personal data falls due on this day (days
    /// since 1970-01-01, UTC). Only read, never written; the rekey migration retires them.
    Day(i32),
    /// Orders that can fall due no earlier than this hour (hours since 1970-01-01 UTC),
    /// generation `gen`. The sweep that reaches the hour moves the orders not yet due to
    /// a new generation and destroys this one, in the sweep that erases the rest.
    Hour { hour: i32, gen: u32 },
    /// Orders of this customer (subject erasure destroys it).
    Customer(CustomerId),
}

impl DataKeyRef {
    /// `day` or `customer`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Day(_) => "day",
            Self::Hour { .. } => "hour",
            Self::Customer(_) => "customer",
        }
    }

    /// The bucket number stored beside the key (day or hour), for range queries.
    pub fn bucket(&self) -> Option<i64> {
        match self {
            Self::Day(d) => Some(i64::from(*d)),
            Self::Hour { hour, .. } => Some(i64::from(*hour)),
            Self::Customer(_) => None,
        }
    }

    /// The key's scope within its kind, as stored: the day number, `hour.gen`, or the
    /// customer id in hex.
    pub fn scope(&self) -> String {
        match self {
            Self::Day(d) => d.to_string(),
            Self::Hour { hour, gen } => format!("{hour}.{gen}"),
            Self::Customer(c) => c.to_hex(),
        }
    }

    /// Parses a stored (kind, scope) pair.
    pub fn parse(kind: &str, scope: &str) -> Result<Self, CryptoError> {
        match kind {
            "day" => scope
                .parse()
                .map(Self::Day)
                .map_err(|_| CryptoError::Malformed("bad day key scope")),
            "hour" => {
                let (h, g) = scope
                    .split_once('.')
                    .ok_or(CryptoError::Malformed("bad hour key scope"))?;
                match (h.parse(), g.parse()) {
                    (Ok(hour), Ok(gen)) => Ok(Self::Hour { hour, gen }),
                    _ => Err(CryptoError::Malformed("bad hour key scope")),
                }
            }
            "customer" => {
                let bytes =
                    hex::decode(scope).map_err(|_| CryptoError::Malformed("bad customer scope"))?;
                let id: [u8; 16] = bytes
                    .try_into()
                    .map_err(|_| CryptoError::Malformed("bad customer scope"))?;
                Ok(Self::Customer(CustomerId(id)))
            }
            _ => Err(CryptoError::Malformed("unknown data key kind")),
        }
    }
}

/// A data key in the clear. Lives only in memory, zeroized on drop.
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }
}

/// The key-encryption key of one epoch. Kept outside the database (see
/// `crate::shredding::EpochKeyStore`); zeroized on drop.
pub struct EpochKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EpochKey(<redacted>)")
    }
}

fn wrap_headers<'a>(
    account: &'a str,
    kind: &'a str,
    scope: &'a str,
    epoch: &'a [u8; 8],
) -> [&'a [u8]; 5] {
    [
        b"ordervault/v2/data-key",
        account.as_bytes(),
        kind.as_bytes(),
        scope.as_bytes(),
        epoch,
    ]
}

impl EpochKey {
    /// A fresh random epoch key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// An epoch key read back from its store.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::Malformed("epoch key has the wrong length"));
        }
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        out.copy_from_slice(bytes);
        Ok(Self(out))
    }

    /// The raw bytes, for writing the key to its store.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn siv(&self) -> Aes256Siv {
        Aes256Siv::new_from_slice(self.0.as_ref()).expect("64-byte key")
    }

    /// Wraps a data key, bound to account, key kind/scope and this epoch's number.
    pub fn wrap(&self, epoch: i64, account: &str, r: &DataKeyRef, key: &DataKey) -> Vec<u8> {
        let e = epoch.to_be_bytes();
        let scope = r.scope();
        self.siv()
            .encrypt(wrap_headers(account, r.kind(), &scope, &e), key.0.as_ref())
            .expect("SIV encryption of 64 bytes cannot fail")
    }

    /// Unwraps a stored data key; fails (never garbage) for another epoch, account or
    /// key, or tampering.
    pub fn unwrap(
        &self,
        epoch: i64,
        account: &str,
        r: &DataKeyRef,
        wrapped: &[u8],
    ) -> Result<DataKey, CryptoError> {
        let e = epoch.to_be_bytes();
        let scope = r.scope();
        let plain = Zeroizing::new(
            self.siv()
                .decrypt(wrap_headers(account, r.kind(), &scope, &e), wrapped)
                .map_err(|_| CryptoError::Authentication)?,
        );
        if plain.len() != KEY_LEN {
            return Err(CryptoError::Malformed("data key has the wrong length"));
        }
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        out.copy_from_slice(&plain);
        Ok(DataKey(out))
    }
}

fn account_key_headers<'a>(
    account: &'a str,
    version: &'a [u8; 4],
    epoch: &'a [u8; 8],
) -> [&'a [u8]; 4] {
    [
        b"ordervault/v2/account-key",
        account.as_bytes(),
        version,
        epoch,
    ]
}

impl EpochKey {
    /// Wraps an account key that is already wrapped under the master key (an outer
    /// layer): a copy of the catalog plus the master key no longer opens it once this
    /// epoch is destroyed. Bound to account, key version and this epoch's number.
    pub fn wrap_account_key(
        &self,
        epoch: i64,
        account: &str,
        version: u32,
        master_wrapped: &[u8],
    ) -> Vec<u8> {
        let (v, e) = (version.to_be_bytes(), epoch.to_be_bytes());
        self.siv()
            .encrypt(account_key_headers(account, &v, &e), master_wrapped)
            .expect("SIV encryption cannot fail")
    }

    /// Removes the outer layer of [`EpochKey::wrap_account_key`]; fails (never garbage)
    /// for another epoch, account or version, or tampering.
    pub fn unwrap_account_key(
        &self,
        epoch: i64,
        account: &str,
        version: u32,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let (v, e) = (version.to_be_bytes(), epoch.to_be_bytes());
        self.siv()
            .decrypt(account_key_headers(account, &v, &e), wrapped)
            .map_err(|_| CryptoError::Authentication)
    }
}

/// The field cipher for orders of one erasure bucket (an hour generation, or a legacy
/// day) and optionally one customer: its key is HMAC-SHA256 under the bucket key over a
/// label and the customer key, so it can be computed only while both keys exist.
/// `bucket` must be a `Day` or `Hour` reference (a customer reference is a programming
/// error and yields a cipher no stored ciphertext matches).
pub fn field_cipher(
    account: &str,
    bucket: DataKeyRef,
    bucket_key: &DataKey,
    customer: Option<(CustomerId, &DataKey)>,
) -> FieldCipher {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bucket_key.0.as_ref())
            .expect("HMAC takes keys of any length");
        mac.update(b"ordervault/v2/field-key/");
        mac.update(&[i as u8]);
        if let Some((_, k)) = customer {
            mac.update(k.0.as_ref());
        }
        chunk.copy_from_slice(&mac.finalize().into_bytes());
    }
    FieldCipher::new_data(out, account, bucket, customer.map(|(c, _)| c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Ciphertext, FieldContext, SealRef};

    const CTX: FieldContext<'static> = FieldContext {
        table: "orders",
        column: "email",
        row: "bol/1",
    };

    #[test]
    fn wrap_is_bound_to_epoch_account_and_scope() {
        let e = EpochKey::generate();
        let k = DataKey::generate();
        let r = DataKeyRef::Day(20_000);
        let w = e.wrap(3, "acc", &r, &k);
        assert!(e.unwrap(3, "acc", &r, &w).is_ok());
        assert!(e.unwrap(4, "acc", &r, &w).is_err());
        assert!(e.unwrap(3, "acc2", &r, &w).is_err());
        assert!(e.unwrap(3, "acc", &DataKeyRef::Day(20_001), &w).is_err());
        assert!(EpochKey::generate().unwrap(3, "acc", &r, &w).is_err());
    }

    #[test]
    fn an_account_key_layer_is_bound_to_epoch_account_and_version() {
        let e = EpochKey::generate();
        let w = e.wrap_account_key(3, "acc", 1, b"inner wrapped bytes");
        assert_eq!(
            e.unwrap_account_key(3, "acc", 1, &w).unwrap(),
            b"inner wrapped bytes"
        );
        assert!(e.unwrap_account_key(4, "acc", 1, &w).is_err());
        assert!(e.unwrap_account_key(3, "acc2", 1, &w).is_err());
        assert!(e.unwrap_account_key(3, "acc", 2, &w).is_err());
        assert!(EpochKey::generate()
            .unwrap_account_key(3, "acc", 1, &w)
            .is_err());
    }

    #[test]
    fn a_field_needs_both_day_and_customer_key() {
        let (day, cust, other) = (
            DataKey::generate(),
            DataKey::generate(),
            DataKey::generate(),
        );
        let c = CustomerId([9; 16]);
        let h = DataKeyRef::Hour {
            hour: 480_000,
            gen: 7,
        };
        let ct = field_cipher("acc", h, &day, Some((c, &cust))).encrypt(CTX, b"Jan");
        assert_eq!(
            ct.seal_ref().unwrap(),
            SealRef::Data {
                bucket: h,
                customer: Some(c)
            }
        );
        let ok = field_cipher("acc", h, &day, Some((c, &cust)));
        assert_eq!(ok.decrypt(CTX, &ct).unwrap().as_slice(), b"Jan");
        let next_gen = DataKeyRef::Hour {
            hour: 480_000,
            gen: 8,
        };
        for wrong in [
            field_cipher("acc", h, &day, Some((c, &other))),
            field_cipher("acc", h, &other, Some((c, &cust))),
            field_cipher("acc", h, &day, None),
            field_cipher("acc", next_gen, &day, Some((c, &cust))),
        ] {
            assert!(wrong.decrypt(CTX, &ct).is_err());
        }
        for bucket in [DataKeyRef::Day(5), h] {
            let no_customer = field_cipher("acc", bucket, &day, None).encrypt(CTX, b"x");
            assert_eq!(
                Ciphertext(no_customer.0.clone()).seal_ref().unwrap(),
                SealRef::Data {
                    bucket,
                    customer: None
                }
            );
        }
        assert_eq!(DataKeyRef::parse("hour", &h.scope()).unwrap(), h);
    }
}
