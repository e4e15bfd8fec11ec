//! Data subject rights within one account: export everything stored about a customer,
//! or erase it. A customer is found by email only through keyed values: the email
//! blind index (orders that still hold personal data) and the pseudonym (orders already
//! pseudonymized), both over the normalized email, so `" Jan@Example.COM "` and
//! `jan@example.com` are the same subject. Every request is audited in the catalog
//! with a keyed hash of the subject, never the email.
//!
//! The export is the one place personal data leaves the service on purpose, to its own
//! subject; receipts, errors and logs carry ids, counts and hashes only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::accounts::active_account;
use crate::app::App;
use crate::connectors::Order;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::keyring::AccountKeyset;
use crate::orders::open_order;
use crate::store::catalog::PrivacyRequestRecord;
use crate::store::{AccountStore, OrderRow};
use crate::time::rfc3339;

/// Longest email accepted (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 320;

/// Whether an exported order still holds the customer's personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonalDataState {
    /// Decrypted in full below.
    Present,
    /// Erased after retention; only the pseudonym linked it to this subject.
    Pseudonymized,
}

/// One order of the subject, as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectOrder {
    pub personal_data: PersonalDataState,
    pub pseudonymized_at: Option<DateTime<Utc>>,
    /// How the order was found: `email_index`, `pseudonym`, or both.
    pub matched_by: Vec<&'static str>,
    /// The order; its `customer` is empty when pseudonymized.
    pub order: Order,
}

/// Receipt of a subject-rights request: what was done, when, for which account, and a
/// hash identifying the subject within the account (not the email, and useless
/// without the account's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubjectReceipt {
    pub request_id: String,
    /// `export`.
    pub kind: &'static str,
    pub account_id: AccountId,
    pub at: String,
    pub subject_hash: String,
    pub orders_found: u64,
    pub with_personal_data: u64,
    pub pseudonymized: u64,
}

/// A subject export: every order found for the email, and the receipt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectExport {
    pub receipt: SubjectReceipt,
    pub orders: Vec<SubjectOrder>,
}

/// Proof of a subject erasure (counts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErasureReceipt {
    pub request_id: String,
    /// `erase`.
    pub kind: &'static str,
    pub account_id: AccountId,
    pub at: String,
    pub subject_hash: String,
    /// Orders whose personal data, email index and pseudonym are now gone.
    pub orders_erased: u64,
    /// Of those, how many still held personal data (the rest were pseudonymized).
    pub held_personal_data: u64,
    /// Customer keys destroyed: every copy of the subject's data (WAL, backups) becomes
    /// unreadable once the current key epoch ends, within `keys.erasure_window`.
    pub customer_keys_destroyed: u64,
}

fn check_email(email: &str) -> Result<(), ServiceError> {
    let e = email.trim();
    if e.is_empty() || e.len() > MAX_EMAIL_LEN || e.chars().any(char::is_control) {
        // Never echo the value: it is personal data.
        return Err(ServiceError::Invalid(
            "email must be 1–320 printable characters".into(),
        ));
    }
    Ok(())
}

/// The subject's hash within an account: SHA-256 over a label, the account and the
/// email's blind index under the account's first key version. Stable across requests
/// for the same subject, so exports and erasures of one person can be tied together.
fn subject_hash(account: &AccountId, keys: &AccountKeyset, email: &str) -> String {
    let first = keys.all().next().unwrap_or_else(|| keys.current());
    let index = first.email_index.index(email);
    let mut h = Sha256::new();
    h.update(b"ordervault/v1/subject-request\0");
    h.update(account.as_str().as_bytes());
    h.update(index.0);
    hex::encode(h.finalize())
}

/// The subject's orders by id, with how each was found, under every key version.
async fn find_subject(
    store: &AccountStore,
    keys: &AccountKeyset,
    email: &str,
) -> Result<BTreeMap<i64, (OrderRow, Vec<&'static str>)>, ServiceError> {
    let mut found: BTreeMap<i64, (OrderRow, Vec<&'static str>)> = BTreeMap::new();
    for k in keys.all() {
        let by_index = store
            .find_by_email_index(&k.email_index.index(email).0)
            .await?;
        let by_pseudonym = store.find_by_pseudonym(&k.pseudonym.index(email).0).await?;
        for (rows, how) in [(by_index, "email_index"), (by_pseudonym, "pseudonym")] {
            for row in rows {
                let entry = found.entry(row.id).or_insert_with(|| (row, Vec::new()));
                if !entry.1.contains(&how) {
                    entry.1.push(how);
                }
            }
        }
    }
    Ok(found)
}

fn has_personal(row: &OrderRow) -> bool {
    row.pseudonymized_at.is_none()
        && (row.shipping_ct.is_some()
            || row.billing_ct.is_some()
            || row.email_ct.is_some()
            || row.phone_ct.is_some()
            || row.notes_ct.is_some()
            || row.billing_email_ct.is_some()
            || row.buyer_ct.is_some()
            || row.pickup_ct.is_some()
            || row.email_index.is_some())
}

/// Exports everything the account stores about the customer with this email: orders
/// with full decrypted data where it still exists, the pseudonymized marker where not.
pub async fn export_subject(
    app: &App,
    account: &AccountId,
    email: &str,
) -> Result<SubjectExport, ServiceError> {
    check_email(email)?;
    let id = active_account(app, account).await?;
    let keys = app.keyring.keys(&id).await?;
    let store = app.store.account(&id).await?;
    let found = find_subject(&store, &keys, email).await?;
    let mut orders = Vec::with_capacity(found.len());
    let (mut personal, mut pseudonymized) = (0, 0);
    for (_, (row, matched_by)) in found {
        let opened = open_order(&keys, &row).await?;
        let state = if has_personal(&row) {
            personal += 1;
            PersonalDataState::Present
        } else {
            pseudonymized += 1;
            PersonalDataState::Pseudonymized
        };
        orders.push(SubjectOrder {
            personal_data: state,
            pseudonymized_at: opened.pseudonymized_at,
            matched_by,
            order: opened.order,
        });
    }
    let now = app.now_ms();
    let receipt = SubjectReceipt {
        request_id: new_request_id(),
        kind: "export",
        account_id: id.clone(),
        at: rfc3339(now),
        subject_hash: subject_hash(&id, &keys, email),
        orders_found: orders.len() as u64,
        with_personal_data: personal,
        pseudonymized,
    };
    audit(
        app,
        &receipt.request_id,
        &id,
        "export",
        &receipt.subject_hash,
        receipt.orders_found,
        personal,
        now,
    )
    .await?;
    tracing::info!(account = %id, request = %receipt.request_id, orders = receipt.orders_found, "subject export");
    Ok(SubjectExport { receipt, orders })
}

/// Erases everything the account stores about the customer with this email: personal
/// data, email index and pseudonym of every matching order, then purges the erased
/// bytes from the database files. The orders stay (business records) and are marked
/// pseudonymized, so a later marketplace update cannot restore the data. Idempotent:
/// a second erasure finds nothing.
pub async fn erase_subject(
    app: &App,
    account: &AccountId,
    email: &str,
) -> Result<ErasureReceipt, ServiceError> {
    check_email(email)?;
    let id = active_account(app, account).await?;
    let keys = app.keyring.keys(&id).await?;
    let store = app.store.account(&id).await?;
    let found = find_subject(&store, &keys, email).await?;
    let held = found.values().filter(|(r, _)| has_personal(r)).count() as u64;
    let ids: Vec<i64> = found.keys().copied().collect();
    let now = app.now_ms();
    // Shred first: from here on the subject's sealed data is unreadable everywhere the
    // key is gone, whatever happens to the row cleanup below.
    let mut customer_keys_destroyed = 0;
    for customer in keys.customers_of_email(email) {
        customer_keys_destroyed += app.keyring.data.destroy_customer(&id, customer).await?;
    }
    crate::metrics::metrics().add(
        "ordervault_data_keys_destroyed_total",
        &[("kind", "customer")],
        customer_keys_destroyed,
    );
    let erased = store.erase_rows(&ids, now).await?;
    store
        .purge_erased(app.settings.pseudonymize.postgres_vacuum_full)
        .await?;
    let receipt = ErasureReceipt {
        request_id: new_request_id(),
        kind: "erase",
        account_id: id.clone(),
        at: rfc3339(now),
        subject_hash: subject_hash(&id, &keys, email),
        orders_erased: erased,
        held_personal_data: held,
        customer_keys_destroyed,
    };
    audit(
        app,
        &receipt.request_id,
        &id,
        "erase",
        &receipt.subject_hash,
        erased,
        held,
        now,
    )
    .await?;
    tracing::info!(account = %id, request = %receipt.request_id, orders = erased, "subject erased");
    Ok(receipt)
}

fn new_request_id() -> String {
    format!("req_{}", AccountId::generate())
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    app: &App,
    request_id: &str,
    account: &AccountId,
    kind: &str,
    subject_hash: &str,
    orders_found: u64,
    with_personal_data: u64,
    now: i64,
) -> Result<(), ServiceError> {
    app.store
        .catalog()
        .insert_privacy_request(&PrivacyRequestRecord {
            id: request_id.to_owned(),
            account_id: account.clone(),
            kind: kind.to_owned(),
            subject_hash: subject_hash.to_owned(),
            orders_found: orders_found as i64,
            with_personal_data: with_personal_data as i64,
            created_at: now,
        })
        .await?;
    Ok(())
}
