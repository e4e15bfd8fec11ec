//! Seal and open: canonical [`Order`] ⇄ [`SealedOrder`]/[`OrderRow`].
//!
//! Each personal group (shipping address, billing address, email, phone, delivery notes,
//! billing email, buyer username, pickup point) is its own ciphertext, bound to
//! account/table/column/row. The ingest path merges a payload into the stored customer
//! field by field before sealing, so a payload that lacks a field never erases it. The
//! email is also stored as a blind index. Business terms are stored in clear as JSON.
//!
//! Key choice is made here, once per order, not per column: every personal field of an
//! order is sealed with [`SealKeys::cipher_for`] (its erasure hour's key and its
//! customer's key, issue 16), so a personal column added later inherits crypto-shredding
//! by sealing through `encrypt_json`/`encrypt_str` with that cipher. Opening finds the
//! keys from each ciphertext's header.

use chrono::{DateTime, Utc};
use ordervault_connectors::{
    Customer, FulfilmentMethod, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus,
    OrderTerms, PersonalText,
};
use zeroize::Zeroizing;

use crate::crypto::{Ciphertext, CryptoError, FieldCipher, FieldContext, SealRef};
use crate::keyring::{AccountKeyset, KeyringError, OpenKeys, SealKeys};
use crate::store::{OrderRow, SealedOrder};
use crate::time::datetime;

const TABLE: &str = "orders";

/// Why a stored order could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Keys(#[from] KeyringError),
    #[error("stored order {order} is corrupt: {what}")]
    Corrupt { order: String, what: String },
}

/// An order read back from the store, with the state the store adds.
#[derive(Debug, Clone)]
pub struct OpenedOrder {
    pub order: Order,
    pub pseudonymized_at: Option<DateTime<Utc>>,
    pub ingested_at: DateTime<Utc>,
}

fn row_key(marketplace: &str, order_number: &str) -> String {
    format!("{marketplace}/{order_number}")
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn encrypt_json<T: serde::Serialize>(
    cipher: &FieldCipher,
    row: &str,
    column: &str,
    value: Option<&T>,
) -> Option<Vec<u8>> {
    let value = value?;
    let json = Zeroizing::new(serde_json::to_vec(value).expect("personal data serializes"));
    Some(
        cipher
            .encrypt(
                FieldContext {
                    table: TABLE,
                    column,
                    row,
                },
                &json,
            )
            .0,
    )
}

fn encrypt_str(
    cipher: &FieldCipher,
    row: &str,
    column: &str,
    value: Option<&PersonalText>,
) -> Option<Vec<u8>> {
    let value = value.filter(|v| !v.trim().is_empty())?;
    Some(
        cipher
            .encrypt(
                FieldContext {
                    table: TABLE,
                    column,
                    row,
                },
                value.as_bytes(),
            )
            .0,
    )
}

/// Encrypts an order's personal data for storage, under the data keys of its erasure
/// hour and customer (prepared with [`AccountKeyset::seal_keys`]).
pub fn seal_order(seal: &SealKeys<'_>, order: &Order) -> SealedOrder {
    let row = row_key(order.marketplace.as_str(), order.order_number.as_str());
    let c = &order.customer;
    let keys = seal.account();
    let cipher = seal.cipher_for(order);
    SealedOrder {
        marketplace: order.marketplace,
        order_number: order.order_number.as_str().to_owned(),
        status: order.status,
        placed_at: ms(order.placed_at),
        updated_at: ms(order.updated_at),
        fulfilled_at: order.fulfilled_at.map(ms),
        cancelled_at: order.cancelled_at.map(ms),
        currency: order.currency.clone(),
        total_minor: order.total_minor,
        country_code: order.country_code.clone(),
        lines: serde_json::to_string(&order.lines).expect("lines serialize"),
        fulfilment_method: order.terms.fulfilment_method.map(FulfilmentMethod::as_str),
        terms: serde_json::to_string(&order.terms).expect("terms serialize"),
        shipping_ct: encrypt_json(cipher, &row, "shipping", c.shipping.as_ref()),
        billing_ct: encrypt_json(cipher, &row, "billing", c.billing.as_ref()),
        email_ct: encrypt_str(cipher, &row, "email", c.email.as_ref()),
        phone_ct: encrypt_str(cipher, &row, "phone", c.phone.as_ref()),
        notes_ct: encrypt_str(cipher, &row, "notes", c.delivery_notes.as_ref()),
        billing_email_ct: encrypt_str(cipher, &row, "billing_email", c.billing_email.as_ref()),
        buyer_ct: encrypt_str(cipher, &row, "buyer", c.buyer_username.as_ref()),
        pickup_ct: encrypt_json(cipher, &row, "pickup", c.pickup_point.as_ref()),
        email_index: c
            .email
            .as_ref()
            .filter(|e| !e.trim().is_empty())
            .map(|e| keys.email_index.index(e).0.to_vec()),
        base_version: None,
    }
}

/// Decrypts one stored field: v1 under the account key version named in it (stores not
/// yet resealed), v2/v3 under its day or hour key and customer key; `None` when absent. A field whose
/// data key does not exist fails ([`CryptoError::KeyUnavailable`]): it was destroyed
/// (the row's cleanup is pending) or the ciphertext came from another account.
async fn decrypt(
    keyset: &AccountKeyset,
    row: &str,
    column: &str,
    ct: &Option<Vec<u8>>,
) -> Result<Option<Zeroizing<Vec<u8>>>, SealError> {
    let Some(bytes) = ct else { return Ok(None) };
    let ct = Ciphertext(bytes.clone());
    let ctx = FieldContext {
        table: TABLE,
        column,
        row,
    };
    match ct.seal_ref()? {
        SealRef::Account(version) => {
            let keys = keyset
                .version(version)
                .ok_or(CryptoError::UnknownKeyVersion(version))?;
            Ok(Some(keys.fields.decrypt(ctx, &ct)?))
        }
        SealRef::Data { bucket, customer } => match keyset.opener(bucket, customer).await? {
            Some(cipher) => Ok(Some(cipher.decrypt(ctx, &ct)?)),
            None => Err(CryptoError::KeyUnavailable.into()),
        },
    }
}

fn corrupt(row: &OrderRow, what: impl Into<String>) -> SealError {
    SealError::Corrupt {
        order: row_key(&row.marketplace, &row.order_number),
        what: what.into(),
    }
}

async fn open_text(
    keyset: &AccountKeyset,
    row: &OrderRow,
    col: &str,
    ct: &Option<Vec<u8>>,
) -> Result<Option<PersonalText>, SealError> {
    let key = row_key(&row.marketplace, &row.order_number);
    match decrypt(keyset, &key, col, ct).await? {
        Some(b) => Ok(Some(PersonalText::from(
            String::from_utf8(b.to_vec())
                .map_err(|_| corrupt(row, format!("{col} is not UTF-8")))?,
        ))),
        None => Ok(None),
    }
}

async fn open_json<T: serde::de::DeserializeOwned>(
    keyset: &AccountKeyset,
    row: &OrderRow,
    col: &str,
    ct: &Option<Vec<u8>>,
) -> Result<Option<T>, SealError> {
    let key = row_key(&row.marketplace, &row.order_number);
    match decrypt(keyset, &key, col, ct).await? {
        Some(b) => {
            Ok(Some(serde_json::from_slice(&b).map_err(|_| {
                corrupt(row, format!("{col} is not valid"))
            })?))
        }
        None => Ok(None),
    }
}

/// Decrypts a stored row back into a canonical order.
pub async fn open_order(keyset: &AccountKeyset, row: &OrderRow) -> Result<OpenedOrder, SealError> {
    // A pseudonymized order has no customer, whatever the columns say: nothing written
    // later can bring personal data back into a read.
    let customer = if row.pseudonymized_at.is_some() {
        Customer::default()
    } else {
        Customer {
            email: open_text(keyset, row, "email", &row.email_ct).await?,
            phone: open_text(keyset, row, "phone", &row.phone_ct).await?,
            shipping: open_json(keyset, row, "shipping", &row.shipping_ct).await?,
            billing: open_json(keyset, row, "billing", &row.billing_ct).await?,
            delivery_notes: open_text(keyset, row, "notes", &row.notes_ct).await?,
            billing_email: open_text(keyset, row, "billing_email", &row.billing_email_ct).await?,
            buyer_username: open_text(keyset, row, "buyer", &row.buyer_ct).await?,
            pickup_point: open_json(keyset, row, "pickup", &row.pickup_ct).await?,
        }
    };
    // Rows written before issue 14 have no terms: the defaults (nothing known).
    let terms: OrderTerms = match row.terms.as_deref() {
        Some(t) => serde_json::from_str(t).map_err(|_| corrupt(row, "terms are not valid"))?,
        None => OrderTerms::default(),
    };
    let marketplace: MarketplaceKind = row
        .marketplace
        .parse()
        .map_err(|_| corrupt(row, "unknown marketplace"))?;
    let status: OrderStatus = row.status.parse().map_err(|e: String| corrupt(row, e))?;
    let order_number =
        OrderNumber::parse(&row.order_number).map_err(|_| corrupt(row, "bad order number"))?;
    let lines: Vec<OrderLine> =
        serde_json::from_str(&row.lines).map_err(|_| corrupt(row, "lines are not valid"))?;
    Ok(OpenedOrder {
        order: Order {
            marketplace,
            order_number,
            status,
            placed_at: datetime(row.placed_at),
            updated_at: datetime(row.updated_at),
            fulfilled_at: row.fulfilled_at.map(datetime),
            cancelled_at: row.cancelled_at.map(datetime),
            currency: row.currency.clone(),
            total_minor: row.total_minor,
            country_code: row.country_code.clone(),
            lines,
            customer,
            terms,
        },
        pseudonymized_at: row.pseudonymized_at.map(datetime),
        ingested_at: datetime(row.ingested_at),
    })
}

/// The (erasure bucket, customer) key pair a stored ciphertext was sealed under, if it
/// was sealed under data keys: what [`AccountKeyset::openers`] needs to prepare its
/// cipher. `None` for account-key (v1) ciphertexts and for malformed ones (opening
/// reports those).
pub fn data_key_pair(
    ct: &[u8],
) -> Option<(crate::crypto::DataKeyRef, Option<crate::crypto::CustomerId>)> {
    match Ciphertext(ct.to_vec()).seal_ref() {
        Ok(SealRef::Data { bucket, customer }) => Some((bucket, customer)),
        _ => None,
    }
}

/// [`pseudonym_of`] with ciphers prepared for a whole batch ([`AccountKeyset::openers`]):
/// no key lookup per order. An email under a destroyed key is an error, as there.
pub fn pseudonym_with(
    keyset: &AccountKeyset,
    open: &OpenKeys,
    marketplace: &str,
    order_number: &str,
    email_ct: &Option<Vec<u8>>,
) -> Result<Option<[u8; 32]>, SealError> {
    let Some(bytes) = email_ct else {
        return Ok(None);
    };
    let key = row_key(marketplace, order_number);
    let ctx = FieldContext {
        table: TABLE,
        column: "email",
        row: &key,
    };
    let ct = Ciphertext(bytes.clone());
    let plain = match ct.seal_ref()? {
        SealRef::Account(version) => keyset
            .version(version)
            .ok_or(CryptoError::UnknownKeyVersion(version))?
            .fields
            .decrypt(ctx, &ct)?,
        SealRef::Data { bucket, customer } => open
            .cipher(bucket, customer)
            .ok_or(CryptoError::KeyUnavailable)?
            .decrypt(ctx, &ct)?,
    };
    let email =
        std::str::from_utf8(&plain).map_err(|_| CryptoError::Malformed("email is not UTF-8"))?;
    if email.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(keyset.current().pseudonym.index(email).0))
}

/// The pseudonym of a stored order's customer: HMAC under the account's current
/// pseudonym key of the normalized email, decrypted from `email_ct` (with whichever key
/// version sealed it). `None` when the order has no email. The plaintext email exists
/// only inside this function and is zeroized before it returns.
pub async fn pseudonym_of(
    keyset: &AccountKeyset,
    marketplace: &str,
    order_number: &str,
    email_ct: &Option<Vec<u8>>,
) -> Result<Option<[u8; 32]>, SealError> {
    let key = row_key(marketplace, order_number);
    let Some(plain) = decrypt(keyset, &key, "email", email_ct).await? else {
        return Ok(None);
    };
    let email =
        std::str::from_utf8(&plain).map_err(|_| CryptoError::Malformed("email is not UTF-8"))?;
    if email.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(keyset.current().pseudonym.index(email).0))
}
