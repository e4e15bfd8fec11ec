//! Pushing shipments and cancellations to bol (Retailer API v10): `POST /retailer/shipments`
//! and `PUT /retailer/orders/cancellation` answer 202 with a process status, which is then
//! polled through the Shared API's `GET /shared/process-status/{id}` until `SUCCESS` or
//! `FAILURE`/`TIMEOUT`.
//!
//! The request's idempotency key goes out as `shipmentReference`, so a repeated shipment is
//! recognisable at bol. bol's cancellation takes one order item per call (`maxItems: 1`),
//! so a cancellation of several lines is several calls, each with its own process status.
//! Never logs or returns a token, a body, or any value of the request.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::transport::{looks_like_html, problem_summary, Answer, Endpoint, Transport};
use super::{BolConfig, BolCredentials};
use crate::clock::SharedClock;
use crate::fulfilment::{clean_reason, CancellationPush, Fulfilment, PushOutcome, ShipmentPush};
use crate::http::RetryPolicy;
use crate::marketplace::ConnectorError;
use crate::model::MarketplaceKind;

/// A bol client for shipments and cancellations of one seller's connection. Keep one per
/// connection: it caches the access token and the rate-limit state.
pub struct BolFulfilment {
    transport: Transport,
}

impl std::fmt::Debug for BolFulfilment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BolFulfilment").finish_non_exhaustive()
    }
}

/// bol's `ProcessStatus` (the fields this client reads).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessStatus {
    process_status_id: Option<String>,
    status: Option<String>,
    error_message: Option<String>,
}

impl BolFulfilment {
    pub fn new(
        config: BolConfig,
        credentials: BolCredentials,
        clock: SharedClock,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            transport: Transport::new(config, credentials, clock, policy),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<PushOutcome, ConnectorError> {
        let endpoint = if body.is_some() {
            Endpoint::Push
        } else {
            Endpoint::ProcessStatus
        };
        let answer = self
            .transport
            .exchange(endpoint, method, path, body)
            .await?;
        self.read(answer)
    }

    /// Maps an answer onto an outcome, or an error the outbox retries.
    fn read(&self, a: Answer) -> Result<PushOutcome, ConnectorError> {
        let html = looks_like_html(&a.headers, &a.body);
        match a.status {
            s if s.is_success() && !html => {
                let p: ProcessStatus = serde_json::from_str(&a.body).map_err(|_| {
                    ConnectorError::Protocol("process status is not the expected JSON".into())
                })?;
                Ok(process_outcome(p))
            }
            StatusCode::TOO_MANY_REQUESTS => Err(ConnectorError::RateLimited {
                retry_after: Some(self.transport.throttle_wait(&a.headers)),
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ConnectorError::NeedsReauth {
                reason: format!("bol refused the push: {}", problem_summary(&a.body)),
            }),
            s if s.is_server_error() || html => {
                Err(ConnectorError::Unavailable(format!("HTTP {}", s.as_u16())))
            }
            s => Ok(PushOutcome::Rejected {
                reason: format!("bol HTTP {}: {}", s.as_u16(), problem_summary(&a.body)),
            }),
        }
    }
}

fn process_outcome(p: ProcessStatus) -> PushOutcome {
    let id = p.process_status_id.clone().unwrap_or_default();
    match p.status.as_deref() {
        Some("SUCCESS") => PushOutcome::Accepted {
            marketplace_ref: Some(id),
        },
        Some("FAILURE") | Some("TIMEOUT") => PushOutcome::Rejected {
            reason: format!(
                "bol process {}: {}",
                p.status.as_deref().unwrap_or_default(),
                clean_reason(p.error_message.as_deref().unwrap_or("no error message"))
            ),
        },
        _ => PushOutcome::Processing {
            process_ids: vec![id],
        },
    }
}

/// A process status id fit for a URL path: digits and letters only.
fn safe_id(id: &str) -> Option<&str> {
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(id)
}

#[async_trait::async_trait]
impl Fulfilment for BolFulfilment {
    fn kind(&self) -> MarketplaceKind {
        MarketplaceKind::Bol
    }

    async fn ship(&self, push: &ShipmentPush) -> Result<PushOutcome, ConnectorError> {
        let items: Vec<Value> = push
            .lines
            .iter()
            .map(|l| json!({"orderItemId": l.line_id, "quantity": l.quantity}))
            .collect();
        let mut transport = json!({"transporterCode": push.carrier.bol().code});
        if !push.tracking_number.is_empty() {
            transport["trackAndTrace"] = json!(push.tracking_number);
        }
        let body = json!({
            "orderItems": items,
            "shipmentReference": push.idempotency_key,
            "transport": transport,
        });
        self.send(Method::POST, "/retailer/shipments", Some(&body))
            .await
    }

    async fn cancel(&self, push: &CancellationPush) -> Result<PushOutcome, ConnectorError> {
        let mut ids = Vec::new();
        for line in &push.lines {
            let body = json!({"orderItems": [{
                "orderItemId": line.line_id,
                "reasonCode": push.reason.bol_code(),
            }]});
            match self
                .send(Method::PUT, "/retailer/orders/cancellation", Some(&body))
                .await?
            {
                PushOutcome::Processing { process_ids } => ids.extend(process_ids),
                PushOutcome::Accepted { marketplace_ref } => ids.extend(marketplace_ref),
                rejected @ PushOutcome::Rejected { .. } => return Ok(rejected),
            }
        }
        Ok(PushOutcome::Processing { process_ids: ids })
    }

    async fn poll(&self, process_ids: &[String]) -> Result<PushOutcome, ConnectorError> {
        let mut pending = Vec::new();
        let mut done = Vec::new();
        for id in process_ids {
            let Some(id) = safe_id(id) else {
                return Err(ConnectorError::Protocol(
                    "stored process status id is malformed".into(),
                ));
            };
            match self
                .send(Method::GET, &format!("/shared/process-status/{id}"), None)
                .await?
            {
                PushOutcome::Accepted { .. } => done.push(id.to_owned()),
                PushOutcome::Processing { .. } => pending.push(id.to_owned()),
                rejected @ PushOutcome::Rejected { .. } => return Ok(rejected),
            }
        }
        Ok(if pending.is_empty() {
            PushOutcome::Accepted {
                marketplace_ref: Some(done.join(",")),
            }
        } else {
            PushOutcome::Processing {
                process_ids: pending,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_statuses_map_to_outcomes() {
        let p = |s: &str| ProcessStatus {
            process_status_id: Some("42".into()),
            status: Some(s.into()),
            error_message: Some("Order item 61 already shipped.".into()),
        };
        assert_eq!(
            process_outcome(p("PENDING")),
            PushOutcome::Processing {
                process_ids: vec!["42".into()]
            }
        );
        assert!(matches!(
            process_outcome(p("SUCCESS")),
            PushOutcome::Accepted { .. }
        ));
        match process_outcome(p("FAILURE")) {
            PushOutcome::Rejected { reason } => assert!(reason.contains("already shipped")),
            other => panic!("{other:?}"),
        }
        assert_eq!(safe_id("12a"), Some("12a"));
        assert_eq!(safe_id("../x"), None);
    }
}
