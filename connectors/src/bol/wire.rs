//! bol Retailer API v10 wire types, named after the schemas in the official OpenAPI spec
//! (`ReducedOrders`, `ReducedOrder`, `ReducedOrderItem`, `Order`, `OrderOrderItem`,
//! `ShipmentDetails`, `BillingDetails`, `Problem`).
//!
//! Personal fields deserialize straight into [`PersonalText`], so they are redacted in
//! `Debug` and zeroized on drop from the moment they leave the response body. Money stays
//! a raw JSON value until normalization turns its textual form into minor units (no floats).
//! Fields the spec marks required are still optional here where a missing value is
//! survivable: bol's fixtures show fields drifting between versions.

use serde::Deserialize;
use serde_json::Value;

use crate::model::PersonalText;

/// The media type of every v10 request and response body.
pub const MEDIA_TYPE: &str = "application/vnd.retailer.v10+json";

/// Fixed page size of `GET /retailer/orders`.
pub const PAGE_SIZE: usize = 50;

/// Token endpoint answer. No `Debug`: it holds the access token.
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// OAuth2 error body of the token endpoint (`{"error":"invalid_client",...}`).
#[derive(Debug, Default, Deserialize)]
pub struct OAuthError {
    #[serde(default)]
    pub error: Option<String>,
}

/// `ReducedOrders`: the list page. An empty result is `{}`, so `orders` defaults to empty.
/// Entries stay raw so one malformed entry cannot spoil the page.
#[derive(Debug, Default, Deserialize)]
pub struct ReducedOrders {
    #[serde(default)]
    pub orders: Vec<Value>,
}

/// `ReducedOrder`: an order as listed, without personal data.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReducedOrder {
    pub order_id: String,
    #[serde(default)]
    pub order_placed_date_time: Option<String>,
    #[serde(default)]
    pub order_items: Vec<ReducedOrderItem>,
}

/// `ReducedOrderItem`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReducedOrderItem {
    pub order_item_id: String,
    #[serde(default)]
    pub ean: Option<String>,
    #[serde(default)]
    pub fulfilment_method: Option<String>,
    #[serde(default)]
    pub fulfilment_status: Option<String>,
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub quantity_shipped: Option<u32>,
    #[serde(default)]
    pub quantity_cancelled: Option<u32>,
    #[serde(default)]
    pub cancellation_request: Option<bool>,
    #[serde(default)]
    pub latest_changed_date_time: Option<String>,
}

/// `Order`: the detail. Sub-objects stay raw so a failure can be reported per part.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    /// `pickUpPoint` in the v4 era, `pickupPoint` since v5.
    #[serde(default, alias = "pickUpPoint")]
    pub pickup_point: Option<bool>,
    #[serde(default)]
    pub order_placed_date_time: Option<String>,
    #[serde(default)]
    pub shipment_details: Option<Value>,
    #[serde(default)]
    pub billing_details: Option<Value>,
    #[serde(default)]
    pub order_items: Vec<Value>,
}

/// `OrderOrderItem`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderOrderItem {
    pub order_item_id: String,
    #[serde(default)]
    pub cancellation_request: Option<bool>,
    #[serde(default)]
    pub fulfilment: Option<OrderFulfilment>,
    #[serde(default)]
    pub offer: Option<OrderOffer>,
    #[serde(default)]
    pub product: Option<OrderProduct>,
    pub quantity: u32,
    #[serde(default)]
    pub quantity_shipped: u32,
    #[serde(default)]
    pub quantity_cancelled: u32,
    /// A JSON number such as `19.99`.
    #[serde(default)]
    pub unit_price: Option<Value>,
    #[serde(default)]
    pub total_price: Option<Value>,
    #[serde(default)]
    pub discounts: Vec<Discount>,
    #[serde(default)]
    pub commission: Option<Value>,
    #[serde(default)]
    pub additional_services: Vec<AdditionalService>,
    #[serde(default)]
    pub latest_changed_date_time: Option<String>,
}

/// `OrderFulfilment`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFulfilment {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub distribution_party: Option<String>,
    #[serde(default)]
    pub latest_delivery_date: Option<String>,
    #[serde(default)]
    pub exact_delivery_date: Option<String>,
    #[serde(default)]
    pub expiry_date: Option<String>,
    #[serde(default)]
    pub time_frame_type: Option<String>,
}

/// `OrderOffer`: `reference` is the seller's own offer reference (their SKU).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderOffer {
    #[serde(default)]
    pub offer_id: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

/// `OrderProduct`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProduct {
    #[serde(default)]
    pub ean: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// `Discount`.
#[derive(Debug, Deserialize)]
pub struct Discount {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub amount: Option<Value>,
}

/// `AdditionalService`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalService {
    #[serde(default)]
    pub service_type: Option<String>,
}

/// `ShipmentDetails`: where the order goes. Every field is personal data except
/// `language`; `countryCode` is also kept in clear on the order.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentDetails {
    #[serde(default)]
    pub pickup_point_name: Option<PersonalText>,
    #[serde(default)]
    pub salutation: Option<PersonalText>,
    #[serde(default)]
    pub first_name: Option<PersonalText>,
    #[serde(default)]
    pub surname: Option<PersonalText>,
    #[serde(default)]
    pub street_name: Option<PersonalText>,
    #[serde(default)]
    pub house_number: Option<PersonalText>,
    #[serde(default)]
    pub house_number_extension: Option<PersonalText>,
    #[serde(default)]
    pub extra_address_information: Option<PersonalText>,
    #[serde(default)]
    pub zip_code: Option<PersonalText>,
    #[serde(default)]
    pub city: Option<PersonalText>,
    #[serde(default)]
    pub country_code: Option<PersonalText>,
    /// A scrambled relay address (`…@verkopen.bol.com`), still personal data.
    #[serde(default)]
    pub email: Option<PersonalText>,
    #[serde(default)]
    pub company: Option<PersonalText>,
    /// Only sent for appointment deliveries.
    #[serde(default)]
    pub delivery_phone_number: Option<PersonalText>,
    #[serde(default)]
    pub language: Option<String>,
}

/// `BillingDetails`: optional, and often absent since 2021.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingDetails {
    #[serde(default)]
    pub salutation: Option<PersonalText>,
    #[serde(default)]
    pub first_name: Option<PersonalText>,
    #[serde(default)]
    pub surname: Option<PersonalText>,
    #[serde(default)]
    pub street_name: Option<PersonalText>,
    #[serde(default)]
    pub house_number: Option<PersonalText>,
    #[serde(default)]
    pub house_number_extension: Option<PersonalText>,
    #[serde(default)]
    pub extra_address_information: Option<PersonalText>,
    #[serde(default)]
    pub zip_code: Option<PersonalText>,
    #[serde(default)]
    pub city: Option<PersonalText>,
    #[serde(default)]
    pub country_code: Option<PersonalText>,
    #[serde(default)]
    pub email: Option<PersonalText>,
    #[serde(default)]
    pub company: Option<PersonalText>,
    #[serde(default)]
    pub vat_number: Option<PersonalText>,
    #[serde(default)]
    pub kvk_number: Option<PersonalText>,
    #[serde(default)]
    pub order_reference: Option<PersonalText>,
}

/// `Problem` (RFC 7807-like). 401/403/429 bodies omit some fields. `detail` can echo
/// request values, so only `title` and violation names go into our errors.
#[derive(Debug, Default, Deserialize)]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub violations: Vec<Violation>,
}

/// `Violation`: which field or parameter a request got wrong.
#[derive(Debug, Default, Deserialize)]
pub struct Violation {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}
