//! The full order as the backoffice receives it (webhook body, pull API): business data
//! and decrypted customer data, or a pseudonymized marker once the data is erased.

use chrono::{DateTime, Utc};
use ordervault_connectors::{Customer, OrderLine, OrderTerms};
use serde::Serialize;

use super::seal::{open_order, SealError};
use crate::keyring::AccountKeyset;
use crate::store::OrderRow;

/// Serialized to the backoffice. Holds personal data: never log it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Order)]
pub struct OrderView {
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
    pub country_code: Option<String>,
    pub lines: Vec<OrderLine>,
    /// Fulfilment method, pickup-point flag, delivery window, cancellation request,
    /// customer reference, payment status and the money breakdown (business data).
    pub terms: OrderTerms,
    /// `None` once pseudonymized.
    pub customer: Option<Customer>,
    pub pseudonymized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudonymized_at: Option<DateTime<Utc>>,
    /// Increases with every stored marketplace update; what an ack refers to.
    pub version: i64,
}

impl std::fmt::Debug for OrderView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderView")
            .field("marketplace", &self.marketplace)
            .field("order_number", &self.order_number)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Decrypts a row into the backoffice view.
pub async fn order_view(keys: &AccountKeyset, row: &OrderRow) -> Result<OrderView, SealError> {
    let opened = open_order(keys, row).await?;
    let o = opened.order;
    let pseudonymized = opened.pseudonymized_at.is_some();
    Ok(OrderView {
        marketplace: row.marketplace.clone(),
        order_number: row.order_number.clone(),
        status: row.status.clone(),
        placed_at: o.placed_at,
        updated_at: o.updated_at,
        fulfilled_at: o.fulfilled_at,
        cancelled_at: o.cancelled_at,
        currency: o.currency.clone(),
        total_minor: o.total_minor,
        country_code: o.country_code.clone(),
        lines: o.lines.clone(),
        terms: o.terms.clone(),
        customer: (!pseudonymized).then(|| o.customer.clone()),
        pseudonymized,
        pseudonymized_at: opened.pseudonymized_at,
        version: row.version,
    })
}
