//! Closing the loop: shipments (with carrier and tracking) and cancellations from the
//! seller's backoffice back to each marketplace, with the guarantees of ingest.
//!
//! - `request`: parses and checks a backoffice request against the order (lines, open
//!   quantities, who fulfils the order) and stores it with its outbox entry in one
//!   transaction; an `Idempotency-Key` gives the same answer for the same request.
//! - `pusher`: delivers stored requests to the marketplaces at least once, in order per
//!   order, with backoff and jitter, honouring rate limits; a request keeps one
//!   idempotency key for every attempt, so a retry never creates a second shipment.
//! - `view`: the JSON the API, the CLI and webhooks show for a request.
//!
//! Requests hold business data only (line ids, quantities, carrier, tracking number,
//! reason codes). Nothing here logs a request body or any customer data.

pub mod pusher;
pub mod request;
pub mod view;

pub use pusher::{run_pusher, PushReport, Pusher};
pub use request::{submit_cancellation, submit_shipment, CancellationBody, Refusal, ShipmentBody};
