//! Confirming shipments at Amazon: `confirmShipment`
//! (`POST /orders/v0/orders/{orderId}/shipmentConfirmation`, 204 No Content), the v0
//! operation that is not deprecated, with `packageDetail` and the order's marketplace id.
//!
//! Paced on confirmShipment's own usage plan (2 requests/s, burst 10). The request's
//! `packageReferenceId` is a positive number fixed per request, so a repeat names the same
//! package. Amazon takes no cancellations through this API ([`cancellation_support`]).
//! Never logs or returns a token, a body, or a request value.
//!
//! [`cancellation_support`]: crate::fulfilment::cancellation_support

use std::sync::Arc;

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::json;

use super::pacing::{Pacer, TokioSleeper, UsagePlan};
use super::response::{looks_like_html, safe_id};
use super::{wire, AmazonClient, AmazonConfig, AmazonCredentials};
use crate::clock::SharedClock;
use crate::fulfilment::{
    cancellation_support, clean_reason, CancellationPush, Fulfilment, PushOutcome, ShipmentPush,
};
use crate::http::{self, RetryPolicy};
use crate::marketplace::ConnectorError;
use crate::model::MarketplaceKind;

/// confirmShipment's documented default usage plan.
pub const CONFIRM_SHIPMENT_PLAN: UsagePlan = UsagePlan {
    rate: 2.0,
    burst: 10,
};

/// An Amazon client for shipment confirmations of one seller's connection.
pub struct AmazonFulfilment {
    client: AmazonClient,
    pacer: Pacer,
}

impl std::fmt::Debug for AmazonFulfilment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmazonFulfilment").finish_non_exhaustive()
    }
}

impl AmazonFulfilment {
    /// `plan` paces confirmShipment (use [`CONFIRM_SHIPMENT_PLAN`] unless Amazon granted
    /// the seller more).
    pub fn new(
        config: AmazonConfig,
        credentials: AmazonCredentials,
        clock: SharedClock,
        retry: RetryPolicy,
        plan: UsagePlan,
    ) -> Self {
        Self {
            pacer: Pacer::new(plan, clock.clone(), Arc::new(TokioSleeper)),
            client: AmazonClient::new(config, credentials, clock, retry),
        }
    }

    /// The marketplace id sent with a confirmation: the connection's first one.
    fn marketplace_id(&self) -> String {
        let (_, config, _) = self.client.parts();
        config
            .marketplace_ids
            .first()
            .cloned()
            .unwrap_or_else(|| super::MARKETPLACE_NL.to_owned())
    }
}

fn error_text(body: &[u8]) -> String {
    match serde_json::from_slice::<wire::ErrorList>(body) {
        Ok(list) => match list.errors.first() {
            Some(e) => format!("{}: {}", clean_reason(&e.code), clean_reason(&e.message)),
            None => "no error code".into(),
        },
        Err(_) => "unreadable error body".into(),
    }
}

#[async_trait::async_trait]
impl Fulfilment for AmazonFulfilment {
    fn kind(&self) -> MarketplaceKind {
        MarketplaceKind::Amazon
    }

    async fn ship(&self, push: &ShipmentPush) -> Result<PushOutcome, ConnectorError> {
        let carrier = push.carrier.amazon();
        let mut package = json!({
            "packageReferenceId": push.package_number.max(1).to_string(),
            "carrierCode": carrier.code,
            "trackingNumber": push.tracking_number,
            "shipDate": push.shipped_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "orderItems": push.lines.iter().map(|l| json!({
                "orderItemId": l.line_id,
                "quantity": l.quantity,
            })).collect::<Vec<_>>(),
        });
        if let Some(name) = carrier.name {
            package["carrierName"] = json!(name);
        }
        let body = json!({"marketplaceId": self.marketplace_id(), "packageDetail": package});
        let (http_client, config, _) = self.client.parts();
        let url = format!(
            "{}/orders/v0/orders/{}/shipmentConfirmation",
            config.endpoint,
            safe_id(push.order_number.as_str())
        );
        let mut refreshed = false;
        loop {
            self.pacer.acquire().await;
            let token = self.client.lwa_token_for_push().await?;
            let mut header = HeaderValue::from_str(&token.value).map_err(|_| {
                ConnectorError::Protocol("access token is not a valid header value".into())
            })?;
            header.set_sensitive(true);
            let resp = http_client
                .post(&url)
                .header("x-amz-access-token", header)
                .header(ACCEPT, "application/json")
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| ConnectorError::Unavailable(http::describe(&e)))?;
            let status = resp.status();
            let retry_after = http::retry_after(resp.headers());
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| ConnectorError::Unavailable(http::describe(&e)))?;
            tracing::debug!(status = status.as_u16(), "confirmShipment response");
            if looks_like_html(&bytes) {
                return Err(ConnectorError::Unavailable(format!(
                    "HTML body with HTTP {}",
                    status.as_u16()
                )));
            }
            return match status.as_u16() {
                200..=299 => Ok(PushOutcome::Accepted {
                    marketplace_ref: Some(push.package_number.max(1).to_string()),
                }),
                401 | 403 if !refreshed => {
                    self.client.drop_lwa_token(&token).await;
                    refreshed = true;
                    continue;
                }
                401 | 403 => Err(ConnectorError::NeedsReauth {
                    reason: format!("confirmShipment refused: {}", error_text(&bytes)),
                }),
                429 => {
                    self.pacer.drain();
                    Err(ConnectorError::RateLimited {
                        retry_after: retry_after.or(Some(CONFIRM_SHIPMENT_PLAN.interval())),
                    })
                }
                408 | 500..=599 => Err(ConnectorError::Unavailable(format!(
                    "HTTP {}",
                    status.as_u16()
                ))),
                s => Ok(PushOutcome::Rejected {
                    reason: format!("Amazon HTTP {s}: {}", error_text(&bytes)),
                }),
            };
        }
    }

    async fn cancel(&self, _push: &CancellationPush) -> Result<PushOutcome, ConnectorError> {
        let why = cancellation_support(MarketplaceKind::Amazon)
            .err()
            .map_or("not supported", |u| u.0);
        Ok(PushOutcome::Rejected { reason: why.into() })
    }
}
