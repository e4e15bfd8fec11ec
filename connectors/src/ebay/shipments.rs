//! Confirming shipments at eBay: `createShippingFulfillment`
//! (`POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment`), 201 with the new
//! fulfillment's id at the end of `Location`.
//!
//! With a tracking number, eBay makes the tracking number the fulfillment id, so a repeat
//! answers 409: the package is already there, which for an outbox retry means done.
//! Cancellations go through eBay's Post-Order API, which ordervault does not use
//! ([`cancellation_support`]). Needs the `sell.fulfillment` scope (not `.readonly`).
//! Never logs or returns a token, a body, or a request value.
//!
//! [`cancellation_support`]: crate::fulfilment::cancellation_support

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde_json::json;

use super::pacer::Pacer;
use super::{wire, EbayClient, EbayConfig, EbayCredentials, SCOPE_FULFILLMENT};
use crate::clock::SharedClock;
use crate::fulfilment::{
    cancellation_support, clean_reason, CancellationPush, Fulfilment, PushOutcome, ShipmentPush,
};
use crate::http::{self, RetryPolicy};
use crate::marketplace::ConnectorError;
use crate::model::MarketplaceKind;

/// An eBay client for shipping fulfillments of one seller's connection.
pub struct EbayFulfilment {
    client: EbayClient,
    pacer: Pacer,
}

impl std::fmt::Debug for EbayFulfilment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EbayFulfilment").finish_non_exhaustive()
    }
}

impl EbayFulfilment {
    /// The client asks for the write scope `sell.fulfillment` whatever `config.scope` says.
    pub fn new(
        mut config: EbayConfig,
        credentials: EbayCredentials,
        clock: SharedClock,
        retry: RetryPolicy,
    ) -> Self {
        config.scope = SCOPE_FULFILLMENT.to_owned();
        Self {
            pacer: Pacer::new(config.pacing),
            client: EbayClient::new(config, credentials, clock, retry),
        }
    }
}

fn error_text(body: &[u8]) -> String {
    match serde_json::from_slice::<wire::ErrorDetailV3>(body) {
        Ok(list) => match list.errors.first() {
            Some(e) => format!(
                "errorId {}: {}",
                e.error_id,
                clean_reason(e.message.as_deref().unwrap_or("no message"))
            ),
            None => "no error detail".into(),
        },
        Err(_) => "unreadable error body".into(),
    }
}

/// An order id fit for a URL path: eBay ids are digits and dashes.
fn path_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect()
}

#[async_trait::async_trait]
impl Fulfilment for EbayFulfilment {
    fn kind(&self) -> MarketplaceKind {
        MarketplaceKind::Ebay
    }

    async fn ship(&self, push: &ShipmentPush) -> Result<PushOutcome, ConnectorError> {
        let mut body = json!({
            "lineItems": push.lines.iter().map(|l| json!({
                "lineItemId": l.line_id,
                "quantity": l.quantity,
            })).collect::<Vec<_>>(),
            "shippedDate": push.shipped_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        if !push.tracking_number.is_empty() {
            body["shippingCarrierCode"] = json!(push.carrier.ebay().code);
            body["trackingNumber"] = json!(push.tracking_number);
        }
        let (http_client, config) = self.client.parts();
        let url = format!(
            "{}/sell/fulfillment/v1/order/{}/shipping_fulfillment",
            config.api_base,
            path_id(push.order_number.as_str())
        );
        let mut refreshed = false;
        loop {
            self.pacer.wait().await;
            let token = self.client.token_for_push().await?;
            let resp = http_client
                .post(&url)
                .bearer_auth(&*token.value)
                .header(ACCEPT, "application/json")
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| ConnectorError::Unavailable(http::describe(&e)))?;
            let status = resp.status().as_u16();
            let retry_after = http::retry_after(resp.headers());
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.rsplit('/').next())
                .map(clean_reason);
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| ConnectorError::Unavailable(http::describe(&e)))?;
            tracing::debug!(status, "createShippingFulfillment response");
            return match status {
                200..=299 => Ok(PushOutcome::Accepted {
                    marketplace_ref: location,
                }),
                // The fulfillment id is the tracking number: it exists already.
                409 => Ok(PushOutcome::Accepted {
                    marketplace_ref: Some(clean_reason(&push.tracking_number)),
                }),
                401 if !refreshed => {
                    self.client.drop_token(&token).await;
                    refreshed = true;
                    continue;
                }
                401 | 403 => Err(ConnectorError::NeedsReauth {
                    reason: format!("createShippingFulfillment refused: {}", error_text(&bytes)),
                }),
                429 => Err(ConnectorError::RateLimited { retry_after }),
                408 | 500..=599 => Err(ConnectorError::Unavailable(format!("HTTP {status}"))),
                s => Ok(PushOutcome::Rejected {
                    reason: format!("eBay HTTP {s}: {}", error_text(&bytes)),
                }),
            };
        }
    }

    async fn cancel(&self, _push: &CancellationPush) -> Result<PushOutcome, ConnectorError> {
        let why = cancellation_support(MarketplaceKind::Ebay)
            .err()
            .map_or("not supported", |u| u.0);
        Ok(PushOutcome::Rejected { reason: why.into() })
    }
}
