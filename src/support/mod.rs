//! Support lookups (DESIGN.md, "Roles"): one account, one exact order number, a masked
//! view, and an audit row written before any answer.
//!
//! What this module must never do: search (no LIKE, no prefix, no name or email), list,
//! answer without an audit row, or put a personal value in a response, error or log.
//!
//! Order of work for one lookup: validate (account id, order number alphabet, marketplace)
//! → read (catalog account must be active; the store's exact `find_by_number`) → mask →
//! audit → answer. An unknown account, a closed account and an unknown order all end in
//! the same [`LookupError::NotFound`] after the same audit write.

pub mod limiter;
pub mod mask;

use chrono::{DateTime, Utc};
use ordervault_connectors::{
    DeliveryWindow, FulfilmentMethod, MarketplaceKind, OrderLine, OrderNumber,
};
use serde::Serialize;

use crate::app::App;
use crate::ids::{AccountId, WebhookId};
use crate::keyring::AccountKeyset;
use crate::orders::open_order;
use crate::store::catalog::{AccountStatus, AuditResult, NewAuditEntry, WebhookStatus};
use crate::store::{AccountStore, OrderRow};
use crate::time::datetime;
use mask::{mask_customer, MaskedCustomer};

/// What support asked for, as received (untrusted).
#[derive(Debug, Clone, Copy)]
pub struct LookupRequest<'a> {
    /// The support token making the lookup (for the audit row).
    pub token_id: &'a str,
    pub account: &'a str,
    pub order_number: &'a str,
    pub marketplace: Option<&'a str>,
}

/// Why a lookup gave no order. Messages never echo the input.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0}")]
    Invalid(&'static str),
    /// Unknown account, closed account or unknown order: deliberately indistinguishable.
    #[error("order not found")]
    NotFound,
    /// The audit row could not be written, so nothing is answered.
    #[error("the lookup could not be audited")]
    AuditFailed,
    /// Reading or opening the order failed (details in the server log, without data).
    #[error("the order could not be read")]
    Internal,
}

/// The masked order support sees: business data in clear, the customer masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaskedOrder {
    #[schema(value_type = ordervault_connectors::MarketplaceKind)]
    pub marketplace: String,
    pub order_number: String,
    #[schema(value_type = ordervault_connectors::OrderStatus)]
    pub status: String,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilled_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    pub currency: String,
    pub total_minor: i64,
    pub lines: Vec<OrderLine>,
    /// Who ships: `seller` or `marketplace` (absent when the marketplace does not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilment_method: Option<FulfilmentMethod>,
    /// Whether it goes to a pickup point; never which one.
    pub pickup_point: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_window: Option<DeliveryWindow>,
    pub cancellation_requested: bool,
    pub pseudonymized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudonymized_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub customer: MaskedCustomer,
    pub forwarding: Forwarding,
    /// Shipments sent back to the marketplace: state, carrier, tracking number (business
    /// data, shown in clear).
    pub shipments: Vec<crate::fulfilment::view::SupportShipment>,
}

/// Where the order stands on its way to the seller's backoffice.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Forwarding {
    /// One entry per webhook endpoint of the account.
    pub webhooks: Vec<WebhookState>,
    /// Pull + ack: which version the backoffice acknowledged.
    pub pull: PullState,
}

/// The latest event of the order at one webhook endpoint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookState {
    pub endpoint_id: WebhookId,
    pub endpoint_status: WebhookStatus,
    /// `delivered`, `pending` (not attempted yet), `retrying`, `dead`, `not_sent` (the
    /// endpoint was added after the event) or `no_event`.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    pub attempts: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// Pull-mode acknowledgement. The backoffice's free-text reference is left out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PullState {
    pub acked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_at: Option<DateTime<Utc>>,
    /// Whether the acknowledged version is the current one.
    pub current: bool,
}

/// Runs one support lookup: validation, exact read, masking, audit. On success the
/// masked orders (two when two marketplaces share the number and none was named).
pub async fn lookup(app: &App, req: LookupRequest<'_>) -> Result<Vec<MaskedOrder>, LookupError> {
    let mut entry = NewAuditEntry {
        token_id: req.token_id,
        account_id: None,
        order_number: None,
        marketplace: None,
        result: AuditResult::Invalid,
        matches: 0,
        at: app.now_ms(),
    };
    let account = AccountId::parse(req.account);
    entry.account_id = account.as_ref().ok().map(AccountId::as_str);
    let marketplace = req
        .marketplace
        .map(str::parse::<MarketplaceKind>)
        .transpose();
    entry.marketplace = marketplace
        .as_ref()
        .ok()
        .copied()
        .flatten()
        .map(|m| m.as_str());
    let parsed = match (&account, OrderNumber::parse(req.order_number), &marketplace) {
        (Err(_), _, _) => Err("account must be 16 lower-case hexadecimal characters"),
        (_, Err(e), _) => Err(match e {
            ordervault_connectors::InvalidOrderNumber::Empty => "order number is empty",
            ordervault_connectors::InvalidOrderNumber::TooLong => {
                "order number is longer than 64 characters"
            }
            ordervault_connectors::InvalidOrderNumber::BadCharacter => {
                "order number may contain only letters, digits and '-'"
            }
        }),
        (_, _, Err(_)) => Err("marketplace must be bol, amazon or ebay"),
        (Ok(a), Ok(n), Ok(m)) => Ok((a.clone(), n, *m)),
    };
    let (account, number, marketplace) = match parsed {
        Ok(p) => p,
        Err(msg) => {
            audit(app, &entry).await?;
            return Err(LookupError::Invalid(msg));
        }
    };
    let read = read_masked(app, &account, &number, marketplace).await;
    match &read {
        Ok(orders) if !orders.is_empty() => {
            entry.result = AuditResult::Found;
            entry.order_number = Some(number.as_str());
            entry.matches = orders.len() as i64;
        }
        Ok(_) => entry.result = AuditResult::NotFound,
        Err(_) => entry.result = AuditResult::Error,
    }
    audit(app, &entry).await?;
    match read {
        Ok(orders) if orders.is_empty() => Err(LookupError::NotFound),
        other => other,
    }
}

async fn audit(app: &App, entry: &NewAuditEntry<'_>) -> Result<(), LookupError> {
    app.store
        .catalog()
        .insert_support_audit(entry)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, token = entry.token_id, "support audit write failed; lookup refused");
            LookupError::AuditFailed
        })
}

/// The masked orders with this exact number in an active account; empty when the
/// account is unknown, closed or has no such order.
async fn read_masked(
    app: &App,
    account: &AccountId,
    number: &OrderNumber,
    marketplace: Option<MarketplaceKind>,
) -> Result<Vec<MaskedOrder>, LookupError> {
    let internal = |what: &'static str| {
        move |e: &dyn std::fmt::Display| {
            tracing::error!(account = %account, error = %e, "support lookup: {what}");
            LookupError::Internal
        }
    };
    let record = app
        .store
        .catalog()
        .account(account)
        .await
        .map_err(|e| internal("catalog read failed")(&e))?;
    if !matches!(record, Some(r) if r.status == AccountStatus::Active) {
        return Ok(Vec::new());
    }
    let store = app
        .store
        .account(account)
        .await
        .map_err(|e| internal("store open failed")(&e))?;
    let mut rows = store
        .find_by_number(number.as_str())
        .await
        .map_err(|e| internal("order read failed")(&e))?;
    // Exact match on top of the exact query: a backend collation can never widen it.
    rows.retain(|r| {
        r.order_number == number.as_str() && marketplace.is_none_or(|m| r.marketplace == m.as_str())
    });
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = app
        .keyring
        .keys(account)
        .await
        .map_err(|e| internal("account keys unavailable")(&e))?;
    let endpoints = app
        .store
        .catalog()
        .webhooks(Some(account))
        .await
        .map_err(|e| internal("webhook read failed")(&e))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(
            masked_order(&store, &keys, row, &endpoints)
                .await
                .map_err(|e| internal("order could not be masked")(&e))?,
        );
    }
    Ok(out)
}

/// Opens, masks and annotates one row.
async fn masked_order(
    store: &AccountStore,
    keys: &AccountKeyset,
    row: &OrderRow,
    endpoints: &[crate::store::catalog::WebhookEndpoint],
) -> Result<MaskedOrder, Box<dyn std::error::Error + Send + Sync>> {
    let opened = open_order(keys, row).await?;
    let pseudonymized = opened.pseudonymized_at.is_some();
    let o = &opened.order;
    let customer = if pseudonymized {
        MaskedCustomer::pseudonymized()
    } else {
        mask_customer(&o.customer, o.country_code.as_deref())
    };
    let mut webhooks = Vec::with_capacity(endpoints.len());
    for ep in endpoints {
        let latest = store.latest_delivery(row.id, ep.id.as_str()).await?;
        let state = match &latest {
            None => "no_event",
            Some(d) => match d.status.as_deref() {
                Some("delivered") => "delivered",
                Some("dead") => "dead",
                Some("retrying") => "retrying",
                _ if d.event_created_at < ep.created_at => "not_sent",
                _ => "pending",
            },
        };
        webhooks.push(WebhookState {
            endpoint_id: ep.id.clone(),
            endpoint_status: ep.status,
            state,
            version: latest.as_ref().map(|d| d.order_version),
            attempts: latest.as_ref().map_or(0, |d| d.attempts),
            last_attempt_at: latest
                .as_ref()
                .and_then(|d| d.last_attempt_at)
                .map(datetime),
        });
    }
    let (acked_version, acked_at) = match store.ack_state(row.id).await? {
        Some((v, _reference, at)) => (v, at),
        None => (None, None),
    };
    let shipments = crate::fulfilment::view::support_view(&store.requests_for_order(row.id).await?);
    Ok(MaskedOrder {
        shipments,
        marketplace: row.marketplace.clone(),
        order_number: row.order_number.clone(),
        status: row.status.clone(),
        placed_at: o.placed_at,
        updated_at: o.updated_at,
        fulfilled_at: o.fulfilled_at,
        cancelled_at: o.cancelled_at,
        currency: o.currency.clone(),
        total_minor: o.total_minor,
        lines: o.lines.clone(),
        fulfilment_method: o.terms.fulfilment_method,
        pickup_point: o.terms.pickup_point,
        delivery_window: o.terms.delivery_window,
        cancellation_requested: o.terms.cancellation_requested,
        pseudonymized,
        pseudonymized_at: opened.pseudonymized_at,
        version: row.version,
        customer,
        forwarding: Forwarding {
            webhooks,
            pull: PullState {
                acked: acked_version.is_some(),
                acked_version,
                acked_at: acked_at.map(datetime),
                current: acked_version == Some(row.version),
            },
        },
    })
}
