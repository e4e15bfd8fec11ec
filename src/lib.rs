//! ordervault: pulls marketplace orders, stores them per account encrypted, forwards
//! them to the seller's backoffice, pseudonymizes customer data after retention, gives
//! support a masked view, and deletes everything when an account closes.
//!
//! The module tree follows the data flow of DESIGN.md: connectors (crate
//! `ordervault-connectors`) → ingest → store → forward / privacy / support → api.

pub mod accounts;
pub mod api;
pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod crypto;
#[cfg(feature = "sandbox")]
pub mod demo;
pub mod doctor;
pub mod error;
pub mod files;
pub mod forward;
pub mod fulfilment;
pub mod health;
pub mod ids;
pub mod ingest;
pub mod keyring;
pub mod metrics;
pub mod orders;
pub mod privacy;
pub mod scheduler;
pub mod shredding;
pub mod store;
pub mod support;
pub mod telemetry;
pub mod time;
pub mod tokens;

pub use ordervault_connectors as connectors;
