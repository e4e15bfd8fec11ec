//! The Orders v0 handlers of the Amazon sandbox: getOrders (validation, oldest-first
//! keyset paging behind an opaque NextToken bound to the filters), getOrder,
//! getOrderItems (own NextToken), getOrderAddress and getOrderBuyerInfo.

use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::view::{self, MARKETPLACE_ID};
use super::{Op, Sandbox, Shared};
use crate::amazon::wire::{self, iso};
use crate::model::Order;

/// getOrderItems page size: small on purpose, so clients must follow its NextToken.
const ITEMS_PER_PAGE: usize = 2;

/// What a getOrders NextToken remembers: the filters it was issued for and the
/// (date, id) key of the last order served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cursor {
    created: bool,
    after: DateTime<Utc>,
    before: DateTime<Utc>,
    marketplaces: Vec<String>,
    last: (DateTime<Utc>, String),
    /// When the token was issued (v2026 tokens expire after 24 hours).
    #[serde(default)]
    pub(super) issued: Option<DateTime<Utc>>,
}

impl Cursor {
    fn encode(&self) -> String {
        B64.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(token: &str) -> Option<Self> {
        serde_json::from_slice(&B64.decode(token).ok()?).ok()
    }
}

/// A validated getOrders (or, with v2026 names translated, searchOrders) request.
pub(super) struct Filter {
    pub(super) created: bool,
    pub(super) after: DateTime<Utc>,
    pub(super) before: DateTime<Utc>,
    pub(super) marketplaces: Vec<String>,
    pub(super) page_size: usize,
    pub(super) cursor: Option<Cursor>,
}

pub(super) fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn date(
    q: &[(String, String)],
    name: &str,
    wire_name: &str,
) -> Result<Option<DateTime<Utc>>, String> {
    param(q, name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| format!("Invalid Date-Time field(s) [{wire_name}]"))
        })
        .transpose()
}

impl Filter {
    pub(super) fn parse(q: &[(String, String)], now: DateTime<Utc>) -> Result<Self, String> {
        let marketplaces: Vec<String> = param(q, "MarketplaceIds")
            .ok_or("MarketplaceIds is required")?
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        if marketplaces.is_empty() || marketplaces.len() > 50 {
            return Err("MarketplaceIds must hold 1 to 50 marketplace ids".into());
        }
        let created_after = date(q, "CreatedAfter", "createdAfter")?;
        let created_before = date(q, "CreatedBefore", "createdBefore")?;
        let updated_after = date(q, "LastUpdatedAfter", "lastUpdatedAfter")?;
        let updated_before = date(q, "LastUpdatedBefore", "lastUpdatedBefore")?;
        let (created, after, before) = match (created_after, updated_after) {
            (Some(_), Some(_)) => {
                return Err("CreatedAfter and LastUpdatedAfter cannot both be set".into())
            }
            (None, None) => return Err("Invalid Date-Time field(s) [createdAfter]".into()),
            (Some(a), None) if updated_before.is_none() => (true, a, created_before),
            (None, Some(a)) if created_before.is_none() => (false, a, updated_before),
            _ => {
                return Err(
                    "CreatedAfter/Before cannot be combined with LastUpdatedAfter/Before".into(),
                )
            }
        };
        let page_size = match param(q, "MaxResultsPerPage") {
            None => 100,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or("MaxResultsPerPage must be between 1 and 100")?,
        };
        let cursor = match param(q, "NextToken") {
            None => None,
            Some(t) => Some(Cursor::decode(t).ok_or("Invalid NextToken")?),
        };
        let latest = now - Duration::minutes(2);
        // With a NextToken and no explicit *Before, the token's effective bound holds.
        let before = before
            .or(cursor.as_ref().map(|c| c.before))
            .unwrap_or(latest);
        if before > latest {
            return Err("Date must be at least 2 minutes before the current time".into());
        }
        if before < after {
            return Err("The *Before date must be equal to or after the *After date".into());
        }
        if after < now - Duration::days(730) {
            return Err("Only orders of the last two years can be queried".into());
        }
        if let Some(c) = &cursor {
            if c.created != created
                || c.after != after
                || c.before != before
                || c.marketplaces != marketplaces
            {
                return Err("NextToken does not match the request's filters".into());
            }
        }
        Ok(Self {
            created,
            after,
            before,
            marketplaces,
            page_size,
            cursor,
        })
    }
}

/// The order by id, as Amazon holds it now, with its world index.
pub(super) fn find(s: &Sandbox, id: &str) -> Option<(usize, Order)> {
    let now = s.clock.now();
    s.world
        .plans
        .iter()
        .enumerate()
        .find(|(_, p)| p.order.order_number.as_str() == id)
        .and_then(|(i, p)| view::view(p, now).map(|o| (i, o)))
}

pub(super) fn not_found(s: &Sandbox, op: Op) -> Response {
    s.error(
        Some(op),
        StatusCode::NOT_FOUND,
        "NotFound",
        "Requested order not found.",
        "",
    )
}

/// `GET /orders/v0/orders`.
pub(super) async fn get_orders(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let op = Op::GetOrders;
    let path = "/orders/v0/orders";
    let access = match s.gate(op, &headers, path) {
        Ok(a) => a,
        Err(r) => return r,
    };
    s.stats.get_orders.fetch_add(1, Ordering::SeqCst);
    let now = s.clock.now();
    let f = match Filter::parse(&q, now) {
        Ok(f) => f,
        Err(details) => return s.invalid(op, &details),
    };
    let grants = access.grants(path, true);
    let (listed, next_token) = list(&s, &f, now);
    let orders = listed
        .iter()
        .map(|(i, o)| {
            let mut v = serde_json::to_value(view::render(o, grants)).unwrap_or_default();
            if *i < s.options.malformed_orders {
                view::corrupt(&mut v, *i);
            }
            v
        })
        .collect();
    let payload = wire::OrdersList {
        orders,
        next_token,
        last_updated_before: (!f.created).then(|| iso(f.before)),
        created_before: f.created.then(|| iso(f.before)),
    };
    s.ok(
        op,
        &wire::Envelope {
            payload: Some(payload),
            errors: None,
        },
    )
}

/// One page of the orders `f` selects, oldest first, and the token of the next page.
pub(super) fn list(
    s: &Sandbox,
    f: &Filter,
    now: DateTime<Utc>,
) -> (Vec<(usize, Order)>, Option<String>) {
    let mut listed: Vec<((DateTime<Utc>, String), usize, Order)> =
        if f.marketplaces.iter().any(|m| m == MARKETPLACE_ID) {
            s.world
                .plans
                .iter()
                .enumerate()
                .filter_map(|(i, p)| view::view(p, now).map(|o| (i, o)))
                .map(|(i, o)| {
                    let at = if f.created { o.placed_at } else { o.updated_at };
                    ((at, o.order_number.to_string()), i, o)
                })
                .filter(|((at, _), _, _)| *at >= f.after && *at <= f.before)
                .collect()
        } else {
            Vec::new()
        };
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(c) = &f.cursor {
        listed.retain(|(key, _, _)| *key > c.last);
    }
    let more = listed.len() > f.page_size;
    listed.truncate(f.page_size);
    let next_token = more.then(|| listed.last()).flatten().map(|(key, _, _)| {
        Cursor {
            created: f.created,
            after: f.after,
            before: f.before,
            marketplaces: f.marketplaces.clone(),
            last: key.clone(),
            issued: Some(now),
        }
        .encode()
    });
    (
        listed.into_iter().map(|(_, i, o)| (i, o)).collect(),
        next_token,
    )
}

/// `GET /orders/v0/orders/{orderId}`.
pub(super) async fn get_order(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let op = Op::GetOrder;
    let path = format!("/orders/v0/orders/{id}");
    let access = match s.gate(op, &headers, &path) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((_, o)) = find(&s, &id) else {
        return not_found(&s, op);
    };
    let order = view::render(&o, access.grants(&path, true));
    s.ok(
        op,
        &wire::Envelope {
            payload: Some(order),
            errors: None,
        },
    )
}

/// `GET /orders/v0/orders/{orderId}/orderItems`, two items a page.
pub(super) async fn get_order_items(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let op = Op::GetOrderItems;
    if let Err(r) = s.gate(op, &headers, &format!("/orders/v0/orders/{id}/orderItems")) {
        return r;
    }
    s.stats.get_order_items.fetch_add(1, Ordering::SeqCst);
    let Some((_, o)) = find(&s, &id) else {
        return not_found(&s, op);
    };
    let offset = match param(&q, "NextToken") {
        None => 0,
        Some(t) => {
            let decoded = B64.decode(t).ok().and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once('|')) {
                Some((oid, n)) if oid == id => match n.parse::<usize>() {
                    Ok(n) => n,
                    Err(_) => return s.invalid(op, "Invalid NextToken"),
                },
                _ => return s.invalid(op, "Invalid NextToken"),
            }
        }
    };
    let items = view::render_items(&o);
    let end = (offset + ITEMS_PER_PAGE).min(items.len());
    let page = items.get(offset.min(end)..end).unwrap_or_default().to_vec();
    let next_token = (end < items.len()).then(|| B64.encode(format!("{id}|{end}")));
    let payload = wire::OrderItemsList {
        order_items: page,
        next_token,
        amazon_order_id: id,
    };
    s.ok(
        op,
        &wire::Envelope {
            payload: Some(payload),
            errors: None,
        },
    )
}

/// `GET /orders/v0/orders/{orderId}/address`: restricted parts only with an RDT for it.
pub(super) async fn get_order_address(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let op = Op::GetOrderAddress;
    let path = format!("/orders/v0/orders/{id}/address");
    let access = match s.gate(op, &headers, &path) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((_, o)) = find(&s, &id) else {
        return not_found(&s, op);
    };
    let order = view::render(&o, access.grants(&path, false));
    let payload = wire::OrderAddress {
        amazon_order_id: id,
        buyer_company_name: None,
        shipping_address: order.shipping_address,
    };
    s.ok(
        op,
        &wire::Envelope {
            payload: Some(payload),
            errors: None,
        },
    )
}

/// `GET /orders/v0/orders/{orderId}/buyerInfo`: restricted parts only with an RDT for it.
pub(super) async fn get_order_buyer_info(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let op = Op::GetOrderBuyerInfo;
    let path = format!("/orders/v0/orders/{id}/buyerInfo");
    let access = match s.gate(op, &headers, &path) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((_, o)) = find(&s, &id) else {
        return not_found(&s, op);
    };
    let order = view::render(&o, access.grants(&path, false));
    let payload = wire::OrderBuyerInfo {
        amazon_order_id: id,
        buyer: order.buyer_info.unwrap_or_default(),
    };
    s.ok(
        op,
        &wire::Envelope {
            payload: Some(payload),
            errors: None,
        },
    )
}
