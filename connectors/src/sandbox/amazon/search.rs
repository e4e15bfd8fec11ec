//! The Orders API v2026-01-01 handlers of the Amazon sandbox: `searchOrders`
//! (`GET /orders/2026-01-01/orders`) and `getOrder` (`GET /orders/2026-01-01/orders/{id}`).
//!
//! searchOrders takes the spec's camelCase parameters (`createdAfter` XOR
//! `lastUpdatedAfter`, `*Before` at least 2 minutes old, `maxResultsPerPage` 1–100,
//! comma-separated `marketplaceIds` and `includedData`), pages oldest first behind an
//! opaque `nextToken` that must come back as `paginationToken` with the same filters and
//! expires after 24 hours, and renders only the datasets `includedData` names. Both are
//! metered by their own usage plan (0.0056/20 and 0.5/30). Personal data is released by
//! the app's roles: an LWA token suffices, as the spec says.

use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Duration;

use super::orders::{find, list, not_found, param, Filter};
use super::view::MARKETPLACE_ID;
use super::view_v2026::{self, Included};
use super::{Op, Shared};
use crate::amazon::wire::iso;
use crate::amazon::wire_v2026 as wire;

/// How long a searchOrders `nextToken` stays valid (spec: 24 hours).
const TOKEN_LIFETIME: Duration = Duration::hours(24);

/// v2026 parameter names → the v0 names the shared filter parser reads.
const NAMES: &[(&str, &str)] = &[
    ("marketplaceIds", "MarketplaceIds"),
    ("createdAfter", "CreatedAfter"),
    ("createdBefore", "CreatedBefore"),
    ("lastUpdatedAfter", "LastUpdatedAfter"),
    ("lastUpdatedBefore", "LastUpdatedBefore"),
    ("maxResultsPerPage", "MaxResultsPerPage"),
    ("paginationToken", "NextToken"),
];

/// `GET /orders/2026-01-01/orders`.
pub(super) async fn search_orders(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let op = Op::SearchOrders;
    if let Err(r) = s.gate(op, &headers, "/orders/2026-01-01/orders") {
        return r;
    }
    s.stats.search_orders.fetch_add(1, Ordering::SeqCst);
    let included = match Included::parse(param(&q, "includedData")) {
        Ok(i) => i,
        Err(details) => return s.invalid(op, &details),
    };
    // The spec makes marketplaceIds optional: none means every marketplace of the seller.
    let mut v0: Vec<(String, String)> = q
        .iter()
        .filter_map(|(k, v)| {
            NAMES
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, old)| (old.to_string(), v.clone()))
        })
        .collect();
    if param(&v0, "MarketplaceIds").is_none() {
        v0.push(("MarketplaceIds".into(), MARKETPLACE_ID.into()));
    }
    let now = s.clock.now();
    let f = match Filter::parse(&v0, now) {
        Ok(f) => f,
        Err(details) => return s.invalid(op, &details.replace("NextToken", "paginationToken")),
    };
    if let Some(issued) = f.cursor.as_ref().and_then(|c| c.issued) {
        if now - issued > TOKEN_LIFETIME {
            return s.invalid(op, "The paginationToken has expired.");
        }
    }
    let (listed, next_token) = list(&s, &f, now);
    let orders = listed
        .iter()
        .map(|(i, o)| {
            let mut v = serde_json::to_value(view_v2026::render(o, included)).unwrap_or_default();
            if *i < s.options.malformed_orders {
                view_v2026::corrupt(&mut v, *i);
            }
            v
        })
        .collect();
    s.ok(
        op,
        &wire::SearchOrdersResponse {
            orders,
            pagination: next_token.map(|t| wire::Pagination {
                next_token: Some(t),
            }),
            last_updated_before: (!f.created).then(|| iso(f.before)),
            created_before: f.created.then(|| iso(f.before)),
        },
    )
}

/// `GET /orders/2026-01-01/orders/{orderId}`.
pub(super) async fn get_order(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let op = Op::GetOrderV2026;
    if let Err(r) = s.gate(op, &headers, &format!("/orders/2026-01-01/orders/{id}")) {
        return r;
    }
    let included = match Included::parse(param(&q, "includedData")) {
        Ok(i) => i,
        Err(details) => return s.invalid(op, &details),
    };
    let Some((_, o)) = find(&s, &id) else {
        return not_found(&s, op);
    };
    s.ok(
        op,
        &wire::GetOrderResponse {
            order: view_v2026::render(&o, included),
        },
    )
}
