//! Forwarding orders to the seller's webshop backoffice: Standard Webhooks signing,
//! endpoint management and the outbox forwarder.

pub mod endpoints;
pub mod forwarder;
pub mod signing;
pub mod target;

pub use endpoints::{add_webhook, enable_webhook, remove_webhook, NewWebhook};
pub use forwarder::{run_forwarder, ForwardReport, Forwarder};
