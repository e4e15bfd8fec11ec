//! Orders API v2026-01-01 on [`AmazonClient`]: `searchOrders` pages (one call per page,
//! items, buyer and recipient included) and `getOrder` for refreshing one order.
//!
//! The same filters go with every `paginationToken` (the spec allows only
//! `maxResultsPerPage` and `includedData` to change). The LWA token is enough: v2026
//! releases personal data by the app's roles, not by a Restricted Data Token. Never logs
//! a token or a buyer's data: operation names, order ids and counts only.

use super::client::{failed, Auth, Op};
use super::response::{safe_id, schema_error};
use super::wire::iso;
use super::{normalize_v2026, wire_v2026 as wire, AmazonClient};
use crate::marketplace::{ConnectorError, FetchedOrder, OrderPage, PageToken, SyncWindow};
use crate::model::OrderNumber;

/// The searchOrders path.
pub const SEARCH_ORDERS_PATH: &str = "/orders/2026-01-01/orders";

impl AmazonClient {
    fn search_params(
        &self,
        window: SyncWindow,
        page: Option<&PageToken>,
    ) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("marketplaceIds", self.config.marketplace_ids.join(",")),
            ("lastUpdatedAfter", iso(window.from)),
            ("lastUpdatedBefore", iso(window.to)),
            (
                "maxResultsPerPage",
                self.config.page_size.clamp(1, 100).to_string(),
            ),
            ("includedData", wire::INCLUDED_DATA.join(",")),
        ];
        if let Some(p) = page {
            params.push(("paginationToken", p.0.clone()));
        }
        params
    }

    /// One searchOrders page, each order normalized on its own.
    pub(super) async fn search_page(
        &self,
        window: SyncWindow,
        page: Option<PageToken>,
    ) -> Result<OrderPage, ConnectorError> {
        let params = self.search_params(window, page.as_ref());
        let url = format!("{}{SEARCH_ORDERS_PATH}", self.config.endpoint);
        let body = self
            .call(Op::SearchOrders, Auth::Lwa, |c| c.get(&url).query(&params))
            .await?;
        let list: wire::SearchOrdersResponse<serde_json::Value> = serde_json::from_slice(&body)
            .map_err(|_| {
                ConnectorError::Protocol(
                    "searchOrders response is not a SearchOrdersResponse".into(),
                )
            })?;
        let orders: Vec<FetchedOrder> = list.orders.into_iter().map(read_order).collect();
        let next = list
            .pagination
            .and_then(|p| p.next_token)
            .filter(|t| !t.is_empty())
            .map(PageToken);
        let failed = orders
            .iter()
            .filter(|o| matches!(o, FetchedOrder::Failed { .. }))
            .count();
        tracing::info!(
            orders = orders.len(),
            failed,
            more = next.is_some(),
            "Amazon searchOrders page fetched"
        );
        Ok(OrderPage { orders, next })
    }

    /// Re-reads one order with getOrder (v2026-01-01), e.g. after a ship-back or to
    /// reconcile an order a listing may have missed. `Ok(None)` when Amazon does not
    /// know it (404).
    pub async fn get_order(
        &self,
        number: &OrderNumber,
    ) -> Result<Option<FetchedOrder>, ConnectorError> {
        let url = format!("{}{SEARCH_ORDERS_PATH}/{number}", self.config.endpoint);
        let included = wire::INCLUDED_DATA.join(",");
        let body = match self
            .call(Op::GetOrder, Auth::Lwa, |c| {
                c.get(&url).query(&[("includedData", included.as_str())])
            })
            .await
        {
            Ok(b) => b,
            Err(ConnectorError::Rejected(why)) if why.contains("HTTP 404") => return Ok(None),
            Err(e) => return Err(e),
        };
        let resp: wire::GetOrderResponse<serde_json::Value> = serde_json::from_slice(&body)
            .map_err(|_| {
                ConnectorError::Protocol("getOrder response is not a GetOrderResponse".into())
            })?;
        Ok(Some(read_order(resp.order)))
    }
}

/// Reads and normalizes one order; a malformed one becomes `Failed`, naming fields only.
fn read_order(raw: serde_json::Value) -> FetchedOrder {
    let id_hint = raw
        .get("orderId")
        .and_then(|v| v.as_str())
        .map(safe_id)
        .unwrap_or_else(|| "unknown".into());
    let order: wire::Order = match serde_json::from_value(raw) {
        Ok(o) => o,
        Err(e) => return failed(id_hint, schema_error("Order", &e)),
    };
    match normalize_v2026::normalize(&order) {
        Ok(o) => FetchedOrder::Ok(Box::new(o)),
        Err(why) => failed(id_hint, why),
    }
}
