//! Serde types for Amazon's Orders API v2026-01-01 (`amazon_orders_2026-01-01.json`):
//! `searchOrders` (`GET /orders/2026-01-01/orders`) and `getOrder`
//! (`GET /orders/2026-01-01/orders/{orderId}`), named after the spec's definitions.
//!
//! Unlike v0 there is no `{"payload":…}` envelope and no Restricted Data Token: buyer and
//! recipient data come with `includedData=BUYER,RECIPIENT` to an app holding the roles.
//! Only the fields ordervault reads (or the sandbox renders) are modelled; serde ignores
//! the rest. Every personal field is a [`PersonalText`], so `Debug` never prints a
//! buyer's data.

use serde::{Deserialize, Serialize};

use crate::model::PersonalText;

/// The datasets ordervault asks for: buyer (name, relay email, company), recipient (the
/// delivery address and phone), proceeds (totals) and fulfillment (status, shipped
/// quantities). Nothing else (payments, taxes, packages) is requested.
pub const INCLUDED_DATA: &[&str] = &["BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT"];

/// `SearchOrdersResponse`. Generic over the order type so the client can read each
/// order on its own (one malformed order must not sink the page).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrdersResponse<O = Order> {
    pub orders: Vec<O>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
}

/// `Pagination`: `nextToken` goes back as the `paginationToken` query parameter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetOrderResponse`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetOrderResponse<O = Order> {
    pub order: O,
}

/// `Money` (v2026: `amount` and `currencyCode` are required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: String,
    pub currency_code: String,
}

/// `Order`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub created_time: String,
    pub last_updated_time: String,
    pub sales_channel: SalesChannel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Buyer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proceeds: Option<OrderProceeds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<OrderFulfillment>,
    pub order_items: Vec<OrderItem>,
}

/// `SalesChannel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesChannel {
    pub channel_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_name: Option<String>,
}

/// `Buyer` (`includedData=BUYER`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_company_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_purchase_order_number: Option<PersonalText>,
}

/// `Recipient` (`includedData=RECIPIENT`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_address: Option<CustomerAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_preference: Option<DeliveryPreference>,
}

/// `DeliveryPreference`: free text the buyer left for the carrier (personal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPreference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_off_location: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_instruction: Option<PersonalText>,
}

/// `CustomerAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line3: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_or_county: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_region: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_type: Option<String>,
}

/// `OrderProceeds` (`includedData=PROCEEDS`): the grand total and, where Amazon gives
/// it, its parts (`ITEM`, `SHIPPING`, `TAX`, `DISCOUNT`, `DELIVERY_TIP`…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceeds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grand_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdowns: Vec<OrderProceedsBreakdown>,
}

/// `OrderProceedsBreakdown`: one category of the order's proceeds, aggregated over its
/// items (or order-level, like `DELIVERY_TIP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceedsBreakdown {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub subtotal: Money,
}

/// `DateTimeRange`: a promised window; either end may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_date_time: Option<String>,
}

/// `OrderFulfillment` (`includedData=FULFILLMENT`). The status stays a string: an
/// unknown one fails this order, not the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFulfillment {
    pub fulfillment_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilled_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_service_level: Option<String>,
    /// The delivery window promised to the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_by_window: Option<DateTimeRange>,
}

/// `OrderItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub order_item_id: String,
    pub quantity_ordered: u32,
    pub product: ItemProduct,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proceeds: Option<ItemProceeds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<ItemFulfillment>,
}

/// `ItemProduct`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProduct {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<ItemPrice>,
}

/// `ItemPrice`: the price of one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
}

/// `ItemProceeds`: what the line earns, broken down by `type` (`ITEM`, `SHIPPING`, `TAX`…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceeds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proceeds_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdowns: Vec<ItemProceedsBreakdown>,
}

/// `ItemProceedsBreakdown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceedsBreakdown {
    #[serde(rename = "type")]
    pub kind: String,
    pub subtotal: Money,
}

/// `ItemFulfillment`: shipped and open units of the line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFulfillment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_fulfilled: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_unfulfilled: Option<u32>,
}
