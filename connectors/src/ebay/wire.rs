//! The eBay Sell Fulfillment API v1 wire format: serde types named after the schemas in
//! `ebay_sell_fulfillment_v1_oas3.json` (v1.20.7), plus the OAuth token reply and the
//! Developer Analytics rate-limit reply.
//!
//! Only the fields ordervault reads (or the sandbox must send to look like eBay) are
//! modelled; unknown fields are ignored, so eBay adding fields never breaks a sync. Every
//! field that can hold personal data is a [`PersonalText`], so `Debug` on any of these
//! types prints no customer data. The same types serialize in the sandbox and deserialize
//! in the client, which keeps the two honest about field names.

use serde::{Deserialize, Serialize};

use crate::model::PersonalText;

/// `OrderSearchPagedCollection`: one page of getOrders. The client reads `orders` as each
/// order's JSON text (`O = Box<RawValue>`) so one malformed order fails alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSearchPagedCollection<O = Order> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(default)]
    pub orders: Vec<O>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Error>,
}

/// `Order`. Every field is optional on the wire; `normalize` decides what is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// In live payloads, not in the OAS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_fulfillment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_payment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_record_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Buyer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_checkout_notes: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_status: Option<CancelStatus>,
    #[serde(default)]
    pub fulfillment_start_instructions: Vec<FulfillmentStartInstruction>,
    #[serde(default)]
    pub fulfillment_hrefs: Vec<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_summary: Option<PricingSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_summary: Option<PaymentSummary>,
}

/// `PaymentSummary`: only its refunds matter here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummary {
    #[serde(default)]
    pub refunds: Vec<Refund>,
}

/// `OrderRefund` / `LineItemRefund`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_date: Option<String>,
    /// `PENDING`, `REFUNDED` or `FAILED` (order-level refunds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_status: Option<String>,
}

/// `AppliedPromotion`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_id: Option<String>,
}

/// `Buyer`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// The buyer's eBay user id: personal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_registration_address: Option<ExtendedContact>,
}

/// `ExtendedContact`: a name, contact details and an address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_phone: Option<PhoneNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_address: Option<Address>,
}

/// `PhoneNumber`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<PersonalText>,
}

/// `Address`. The country code is business data (kept in clear on the order).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_province: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<PersonalText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// `FulfillmentStartInstruction`: how (and where) one package goes to the buyer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentStartInstruction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_instructions_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebay_supported_fulfillment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_estimated_delivery_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_estimated_delivery_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_step: Option<ShippingStep>,
    /// In-Store Pickup: the seller's store where the buyer collects the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_step: Option<PickupStep>,
    /// GSP/eIS: the buyer's real home address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_destination_address: Option<Address>,
}

/// `PickupStep` (In-Store Pickup orders only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupStep {
    /// The seller's own key for the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_location_key: Option<String>,
}

/// `ShippingStep`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_carrier_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_service_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<ExtendedContact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to_reference_id: Option<String>,
}

/// `LineItem`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Unit price × quantity, before discounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_cost: Option<Amount>,
    /// What the buyer pays for the line after delivery, taxes and discounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_cost: Option<DeliveryCost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_fulfillment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_marketplace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_marketplace_id: Option<String>,
    /// Always returned, empty unless refunded.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// Always returned, empty unless promoted.
    #[serde(default)]
    pub applied_promotions: Vec<AppliedPromotion>,
    /// Always returned, empty unless taxed.
    #[serde(default)]
    pub taxes: Vec<serde_json::Value>,
}

/// `DeliveryCost`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryCost {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_cost: Option<Amount>,
}

/// `Amount`: money as a decimal string plus an ISO 4217 code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_from_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_from_currency: Option<String>,
}

/// `PricingSummary`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_subtotal: Option<Amount>,
    /// All discounts on the order (line promotions included), usually negative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_discount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_cost: Option<Amount>,
    /// Usually negative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_discount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Amount>,
}

/// `CancelStatus`. `cancelRequests` is always empty in getOrders, filled in getOrder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_date: Option<String>,
    #[serde(default)]
    pub cancel_requests: Vec<CancelRequest>,
}

/// `CancelRequest`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_initiator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_requested_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_completed_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_request_state: Option<String>,
}

/// `ErrorDetailV3`: the body of every eBay REST error.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorDetailV3 {
    #[serde(default)]
    pub errors: Vec<Error>,
}

/// `Error`: one error or warning.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    #[serde(default)]
    pub error_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_ref_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_ref_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ErrorParameter>,
}

/// `ErrorParameter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorParameter {
    pub name: String,
    pub value: String,
}

/// The identity service's token reply (`/identity/v1/oauth2/token`). Holds secrets, so
/// it has no `Debug`; the client moves the token into a zeroizing `AccessToken` at once.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    #[serde(default)]
    pub token_type: String,
    /// Only in the authorization-code reply; a refresh never returns a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<i64>,
}

/// The identity service's OAuth error (`invalid_grant`, `invalid_client`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// Developer Analytics `getUserRateLimits` reply: where a quota stands and when it resets.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitsResponse {
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
}

/// One API's quotas.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default)]
    pub resources: Vec<RateLimitResource>,
}

/// One resource's quotas (e.g. `sell.fulfillment.order`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RateLimitResource {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub rates: Vec<Rate>,
}

/// One quota window: `reset` is when `remaining` goes back to `limit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub limit: u64,
    #[serde(default)]
    pub remaining: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<String>,
    #[serde(default)]
    pub time_window: u64,
}
