//! Serde types for the wire formats the Amazon connector speaks, named after the schemas
//! of the official specs: Orders v0 (`amazon_ordersV0.json`), Tokens 2021-03-01
//! (`amazon_tokens_2021-03-01.json`) and the Login with Amazon token endpoint.
//!
//! Only the fields ordervault reads (or the sandbox renders) are modelled; serde ignores
//! the rest. Every personal field is a [`PersonalText`], so these types can derive `Debug`
//! without ever printing a buyer's data, and the values are zeroized when dropped.
//! Tokens are never `Debug`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::model::PersonalText;

/// `Error`: one entry of an SP-API `errors` list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Error {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// `ErrorList` as every SP-API failure body holds it: `{"errors":[…]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorList {
    #[serde(default)]
    pub errors: Vec<Error>,
}

/// The `{"payload":…}` / `{"errors":[…]}` envelope of the Orders v0 responses
/// (`GetOrdersResponse`, `GetOrderItemsResponse`, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    // No `default`: it would demand `T: Default`; a missing Option is None anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Error>>,
}

/// `Money`: a currency code and a decimal amount as a string (`"19.99"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Money {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// `OrdersList`, the getOrders payload. Generic over the order type so the client can
/// read each order on its own (one malformed order must not sink the page).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrdersList<O = Order> {
    pub orders: Vec<O>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
}

/// `Order` (Orders v0).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    pub amazon_order_id: String,
    pub purchase_date: String,
    pub last_update_date: String,
    /// Kept as a string: an unknown status fails this order, not the page.
    pub order_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_items_shipped: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_items_unshipped: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_service_level_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_ship_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_ship_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_delivery_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_delivery_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_business_order: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_prime: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_info: Option<BuyerInfo>,
}

/// `Address`. Restricted parts (RDT `shippingAddress`): `Name`, `AddressLine1-3`,
/// `Phone`, `AddressType`; `City`, `PostalCode`, `CountryCode` come without an RDT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
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
    pub county: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<PersonalText>,
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

/// `BuyerInfo`. `BuyerEmail` (a relay address) needs no RDT; `BuyerName`, `BuyerTaxInfo`
/// and `PurchaseOrderNumber` need RDT `buyerInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_county: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_tax_info: Option<BuyerTaxInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order_number: Option<PersonalText>,
}

/// `BuyerTaxInfo` (business orders).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerTaxInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_legal_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxing_region: Option<String>,
}

/// `OrderItemsList`, the getOrderItems payload (paged by its own `NextToken`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemsList {
    pub order_items: Vec<OrderItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub amazon_order_id: String,
}

/// `OrderItem`. `ItemPrice` is the price of the whole line (unit price × quantity);
/// Amazon leaves prices out while the order is `Pending`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItem {
    #[serde(rename = "ASIN")]
    pub asin: String,
    #[serde(rename = "SellerSKU", default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    pub order_item_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub quantity_ordered: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_shipped: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_tax: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_tax: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_discount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_discount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_requested_cancel: Option<BuyerRequestedCancel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_gift: Option<String>,
}

/// `BuyerRequestedCancel` of an order item; Amazon sends the flag as a string.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerRequestedCancel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_buyer_requested_cancel: Option<String>,
}

/// `OrderAddress`, the getOrderAddress payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderAddress {
    pub amazon_order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_company_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
}

/// `OrderBuyerInfo`, the getOrderBuyerInfo payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderBuyerInfo {
    pub amazon_order_id: String,
    #[serde(flatten)]
    pub buyer: BuyerInfo,
}

/// `CreateRestrictedDataTokenRequest` (Tokens 2021-03-01).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestrictedDataTokenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_application: Option<String>,
    pub restricted_resources: Vec<RestrictedResource>,
}

/// `RestrictedResource`: a method, a (generic or specific) path and, for getOrders,
/// getOrder and getOrderItems, the data elements wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestrictedResource {
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_elements: Option<Vec<String>>,
}

/// `CreateRestrictedDataTokenResponse`. Not `Debug`, zeroized on drop: it holds a token.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct CreateRestrictedDataTokenResponse {
    pub restricted_data_token: String,
    pub expires_in: i64,
}

/// The LWA token endpoint's success body. Not `Debug`, zeroized on drop: it holds tokens.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct LwaTokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The LWA token endpoint's OAuth2 error body (`invalid_grant`, `invalid_client`, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LwaError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Amazon's date-time format: ISO 8601 in whole seconds, UTC (`2026-01-20T19:49:35Z`).
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
