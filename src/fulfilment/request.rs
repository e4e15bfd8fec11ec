//! Backoffice shipment and cancellation requests: parsed once at the edge, checked
//! against the order, stored with their outbox entry.
//!
//! Refusals are typed ([`Refusal`]) and worded for the integrator: unknown lines or
//! quantities above what is open (422), an order the marketplace fulfils itself, a
//! cancellation of shipped units or a reused idempotency key (409), a marketplace whose
//! API takes no cancellations through ordervault (422). A pseudonymized order is never
//! refused: shipping needs no customer data. Messages name line ids, never customer data.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ordervault_connectors::carriers::Carrier;
use ordervault_connectors::fulfilment::{cancellation_support, CancelReason};
use ordervault_connectors::{FulfilmentMethod, MarketplaceKind};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::fulfilment::{Inserted, NewRequest, RequestKind, RequestRow};
use crate::store::{AccountStore, OrderRow, StoreError};

/// A line and quantity as the backoffice sends them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    /// bol orderItemId, Amazon OrderItemId, eBay lineItemId.
    pub line_id: String,
    /// All units still open when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub quantity: Option<u32>,
}

/// `POST /orders/{n}/shipments`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = ShipmentRequest)]
#[serde(deny_unknown_fields)]
pub struct ShipmentBody {
    /// The lines and quantities shipped; every open unit when omitted.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Option<Vec<LineBody>>,
    /// `postnl`, `dhl`, `dhl-parcel-nl`, `dpd`, `ups`, `gls`, `bpost`, or any carrier name.
    pub carrier: String,
    #[schema(max_length = 100)]
    pub tracking_number: String,
    /// Checked, counted in the idempotency hash, then dropped: carriers' track-and-trace
    /// links often carry the recipient's postcode, and no marketplace API takes one.
    #[serde(default)]
    pub tracking_url: Option<String>,
    /// When the parcel left (now when omitted).
    #[serde(default)]
    pub shipped_at: Option<DateTime<Utc>>,
    /// The backoffice's own reference for the shipment.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

/// `POST /orders/{n}/cancellations`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = CancellationRequest)]
#[serde(deny_unknown_fields)]
pub struct CancellationBody {
    /// The lines and quantities cancelled; every open unit when omitted.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Option<Vec<LineBody>>,
    /// `out_of_stock`, `requested_by_customer`, `bad_condition`, `incorrect_price`,
    /// `not_available_in_time` or `other`.
    pub reason: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The request itself is wrong (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The order's state does not allow it (409).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreErrorText),
}

/// A store failure while submitting (500; the detail stays in the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store error")]
pub struct StoreErrorText;

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "fulfilment request could not be stored");
        Refusal::Store(StoreErrorText)
    }
}

/// What a submission returns: the request, and whether it was new (201) or the earlier
/// answer to the same idempotency key (200).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub row: RequestRow,
    pub created: bool,
}

/// Whether the marketplace, not the seller, fulfils this order (bol FBB, Amazon AFN,
/// eBay-fulfilled): such orders are never shipped or cancelled by the seller. Orders
/// stored before the fulfilment method was kept have none and count as the seller's.
pub fn fulfilled_by_marketplace(row: &OrderRow) -> bool {
    row.fulfilment_method.as_deref() == Some(FulfilmentMethod::Marketplace.as_str())
}

/// The business part of a stored line that the checks need.
#[derive(Debug, Deserialize)]
struct StoredLine {
    line_id: String,
    quantity: u32,
    #[serde(default)]
    quantity_shipped: u32,
    #[serde(default)]
    quantity_cancelled: u32,
}

/// A request's line as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RequestLine {
    pub line_id: String,
    pub quantity: u32,
}

fn text(field: &str, v: &str, max: usize) -> Result<String, Refusal> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(Refusal::Unprocessable(format!(
            "{field} must be 1 to {max} printable characters"
        )));
    }
    Ok(t.to_owned())
}

fn optional(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, Refusal> {
    v.as_deref().map(|s| text(field, s, max)).transpose()
}

fn check_lines(lines: &Option<Vec<LineBody>>) -> Result<(), Refusal> {
    if let Some(ls) = lines {
        if ls.is_empty() || ls.len() > 100 {
            return Err(Refusal::Unprocessable(
                "lines must hold 1 to 100 entries (omit it for every open unit)".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for l in ls {
            text("line_id", &l.line_id, 64)?;
            if l.quantity == Some(0) {
                return Err(Refusal::Unprocessable("quantity must be at least 1".into()));
            }
            if !seen.insert(l.line_id.trim()) {
                return Err(Refusal::Unprocessable(format!(
                    "line {} appears twice",
                    l.line_id.trim()
                )));
            }
        }
    }
    Ok(())
}

/// Open units per line: what neither the marketplace nor an active request of ours
/// (pending, sent, accepted) has shipped or cancelled. Our accepted requests show up in
/// the marketplace's own counts after the next sync, so the larger of the two counts.
struct Open {
    open: HashMap<String, u32>,
    shipped: HashMap<String, u32>,
    order: Vec<String>,
}

fn open_units(order_lines: &str, earlier: &[RequestRow]) -> Result<Open, Refusal> {
    let lines: Vec<StoredLine> = serde_json::from_str(order_lines)
        .map_err(|_| Refusal::from(StoreError::Corrupt("order lines unreadable".into())))?;
    let mut ours: HashMap<String, u32> = HashMap::new();
    let mut ours_shipped: HashMap<String, u32> = HashMap::new();
    for r in earlier
        .iter()
        .filter(|r| matches!(r.state.as_str(), "pending" | "sent" | "accepted"))
    {
        let ls: Vec<RequestLine> = serde_json::from_str(&r.lines).unwrap_or_default();
        for l in ls {
            *ours.entry(l.line_id.clone()).or_default() += l.quantity;
            if r.kind == "shipment" {
                *ours_shipped.entry(l.line_id).or_default() += l.quantity;
            }
        }
    }
    let mut out = Open {
        open: HashMap::new(),
        shipped: HashMap::new(),
        order: Vec::new(),
    };
    for l in lines {
        let mp = l.quantity_shipped + l.quantity_cancelled;
        let taken = mp.max(ours.get(&l.line_id).copied().unwrap_or(0));
        out.open
            .insert(l.line_id.clone(), l.quantity.saturating_sub(taken));
        out.shipped.insert(
            l.line_id.clone(),
            l.quantity_shipped
                .max(ours_shipped.get(&l.line_id).copied().unwrap_or(0)),
        );
        out.order.push(l.line_id);
    }
    Ok(out)
}

/// Resolves the requested lines against what is open; `None`: every open unit.
fn resolve(
    requested: &Option<Vec<LineBody>>,
    open: &Open,
    kind: RequestKind,
    whole_items: bool,
) -> Result<Vec<RequestLine>, Refusal> {
    let mut out = Vec::new();
    match requested {
        None => {
            for id in &open.order {
                let q = open.open[id];
                if q > 0 {
                    out.push(RequestLine {
                        line_id: id.clone(),
                        quantity: q,
                    });
                }
            }
            if out.is_empty() {
                return Err(Refusal::Conflict(
                    "no units of this order are open any more".into(),
                ));
            }
        }
        Some(ls) => {
            for l in ls {
                let id = l.line_id.trim();
                let Some(&avail) = open.open.get(id) else {
                    return Err(Refusal::Unprocessable(format!(
                        "line {id} does not exist on this order"
                    )));
                };
                let q = l.quantity.unwrap_or(avail);
                if kind == RequestKind::Cancellation
                    && (q > avail || avail == 0)
                    && open.shipped.get(id).copied().unwrap_or(0) > 0
                {
                    return Err(Refusal::Conflict(format!(
                        "line {id}: shipped units cannot be cancelled ({avail} open)"
                    )));
                }
                if avail == 0 {
                    return Err(Refusal::Unprocessable(format!(
                        "line {id} has no open units left"
                    )));
                }
                if q == 0 || q > avail {
                    return Err(Refusal::Unprocessable(format!(
                        "line {id}: quantity {q} exceeds the {avail} unit(s) still open"
                    )));
                }
                if whole_items && q != avail {
                    return Err(Refusal::Unprocessable(format!(
                        "line {id}: bol cancels whole order items; quantity must be the {avail} open unit(s)"
                    )));
                }
                out.push(RequestLine {
                    line_id: id.to_owned(),
                    quantity: q,
                });
            }
        }
    }
    Ok(out)
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

fn idempotency_key(key: Option<&str>) -> Result<Option<String>, Refusal> {
    key.map(|k| {
        let t = k.trim();
        if t.is_empty() || t.len() > 200 || !t.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            Err(Refusal::Unprocessable(
                "Idempotency-Key must be 1 to 200 visible ASCII characters".into(),
            ))
        } else {
            Ok(t.to_owned())
        }
    })
    .transpose()
}

fn order_state(row: &OrderRow, kind: RequestKind) -> Result<MarketplaceKind, Refusal> {
    let marketplace: MarketplaceKind = row
        .marketplace
        .parse()
        .map_err(|_| Refusal::from(StoreError::Corrupt("stored marketplace unknown".into())))?;
    if fulfilled_by_marketplace(row) {
        return Err(Refusal::Conflict(format!(
            "this order is fulfilled by {marketplace} (marketplace fulfilment, e.g. FBB/AFN): \
             the marketplace ships and cancels it"
        )));
    }
    if row.status == "cancelled" {
        return Err(Refusal::Conflict("the order is cancelled".into()));
    }
    if kind == RequestKind::Shipment && row.status == "pending" {
        return Err(Refusal::Conflict(
            "the order is still pending at the marketplace and cannot be shipped yet".into(),
        ));
    }
    Ok(marketplace)
}

async fn store_request(
    store: &AccountStore,
    new: NewRequest,
    now_ms: i64,
    requested: Option<Vec<LineBody>>,
    kind: RequestKind,
    whole_items: bool,
) -> Result<Submitted, Refusal> {
    let hash = new.request_hash.clone();
    let inserted = store
        .insert_request(&new, now_ms, |lines, earlier| {
            let open = open_units(lines, earlier)?;
            let resolved = resolve(&requested, &open, kind, whole_items)?;
            serde_json::to_string(&resolved)
                .map_err(|_| Refusal::from(StoreError::Internal("lines encode".into())))
        })
        .await??;
    match inserted {
        Inserted::Created(row) => Ok(Submitted { row, created: true }),
        Inserted::Existing(row) if row.request_hash == hash => Ok(Submitted {
            row,
            created: false,
        }),
        Inserted::Existing(_) => Err(Refusal::Conflict(
            "this Idempotency-Key was used for a different request".into(),
        )),
    }
}

/// Checks and stores a shipment of `row` (the order, found by the caller in the
/// backoffice's own account store).
pub async fn submit_shipment(
    store: &AccountStore,
    row: &OrderRow,
    body: &ShipmentBody,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Submitted, Refusal> {
    let key = idempotency_key(key)?;
    check_lines(&body.lines)?;
    let carrier =
        Carrier::parse(&body.carrier).map_err(|e| Refusal::Unprocessable(e.to_string()))?;
    let tracking = text("tracking_number", &body.tracking_number, 100)?;
    let tracking_url = match body.tracking_url.as_deref() {
        None => None,
        Some(u) => Some(
            url::Url::parse(u.trim())
                .ok()
                .filter(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some())
                .filter(|_| u.len() <= 500)
                .map(|p| p.to_string())
                .ok_or_else(|| {
                    Refusal::Unprocessable("tracking_url must be an http(s) URL".into())
                })?,
        ),
    };
    let reference = optional("reference", &body.reference, 200)?;
    let shipped_at = body.shipped_at.unwrap_or(now);
    if shipped_at > now + chrono::Duration::days(1) {
        return Err(Refusal::Unprocessable(
            "shipped_at lies more than a day in the future".into(),
        ));
    }
    order_state(row, RequestKind::Shipment)?;
    let lines_key = serde_json::to_string(&body.lines).unwrap_or_default();
    let request_hash = hash(&[
        "shipment",
        &row.marketplace,
        &row.order_number,
        &lines_key,
        &carrier.name(),
        &tracking,
        tracking_url.as_deref().unwrap_or(""),
        &body
            .shipped_at
            .map(|t| t.timestamp_millis().to_string())
            .unwrap_or_default(),
        reference.as_deref().unwrap_or(""),
    ]);
    let new = NewRequest {
        kind: RequestKind::Shipment,
        order_id: row.id,
        marketplace: row.marketplace.clone(),
        order_number: row.order_number.clone(),
        idempotency_key: key,
        request_hash,
        carrier: Some(carrier.name()),
        tracking_number: Some(tracking),
        shipped_at: Some(shipped_at.timestamp_millis()),
        reason: None,
        reference,
    };
    store_request(
        store,
        new,
        now.timestamp_millis(),
        body.lines.clone(),
        RequestKind::Shipment,
        false,
    )
    .await
}

/// Checks and stores a cancellation of `row`.
pub async fn submit_cancellation(
    store: &AccountStore,
    row: &OrderRow,
    body: &CancellationBody,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Submitted, Refusal> {
    let key = idempotency_key(key)?;
    check_lines(&body.lines)?;
    let reason = CancelReason::parse(&body.reason).ok_or_else(|| {
        Refusal::Unprocessable(format!(
            "reason must be one of {}",
            CancelReason::ALL.map(CancelReason::as_str).join(", ")
        ))
    })?;
    let reference = optional("reference", &body.reference, 200)?;
    let marketplace = order_state(row, RequestKind::Cancellation)?;
    cancellation_support(marketplace).map_err(|u| Refusal::Unprocessable(u.0.into()))?;
    let lines_key = serde_json::to_string(&body.lines).unwrap_or_default();
    let request_hash = hash(&[
        "cancellation",
        &row.marketplace,
        &row.order_number,
        &lines_key,
        reason.as_str(),
        reference.as_deref().unwrap_or(""),
    ]);
    let new = NewRequest {
        kind: RequestKind::Cancellation,
        order_id: row.id,
        marketplace: row.marketplace.clone(),
        order_number: row.order_number.clone(),
        idempotency_key: key,
        request_hash,
        carrier: None,
        tracking_number: None,
        shipped_at: None,
        reason: Some(reason.as_str().to_owned()),
        reference,
    };
    store_request(
        store,
        new,
        now.timestamp_millis(),
        body.lines.clone(),
        RequestKind::Cancellation,
        marketplace == MarketplaceKind::Bol,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Open {
        let lines = r#"[{"line_id":"a","title":"t","quantity":3,"quantity_shipped":1,"unit_price_minor":1,"total_minor":3},
                        {"line_id":"b","title":"t","quantity":1,"unit_price_minor":1,"total_minor":1}]"#;
        open_units(lines, &[]).unwrap()
    }

    #[test]
    fn lines_resolve_against_what_is_open() {
        let o = open();
        let all = resolve(&None, &o, RequestKind::Shipment, false).unwrap();
        assert_eq!(
            all,
            vec![
                RequestLine {
                    line_id: "a".into(),
                    quantity: 2
                },
                RequestLine {
                    line_id: "b".into(),
                    quantity: 1
                }
            ]
        );
        let too_many = Some(vec![LineBody {
            line_id: "a".into(),
            quantity: Some(3),
        }]);
        assert!(matches!(
            resolve(&too_many, &o, RequestKind::Shipment, false),
            Err(Refusal::Unprocessable(_))
        ));
        assert!(matches!(
            resolve(&too_many, &o, RequestKind::Cancellation, false),
            Err(Refusal::Conflict(_))
        ));
        let unknown = Some(vec![LineBody {
            line_id: "zz".into(),
            quantity: None,
        }]);
        assert!(matches!(
            resolve(&unknown, &o, RequestKind::Shipment, false),
            Err(Refusal::Unprocessable(_))
        ));
        let partial = Some(vec![LineBody {
            line_id: "a".into(),
            quantity: Some(1),
        }]);
        assert!(resolve(&partial, &o, RequestKind::Cancellation, true).is_err());
        assert!(resolve(&partial, &o, RequestKind::Cancellation, false).is_ok());
    }
}
