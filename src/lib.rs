//! ordervault: pulls marketplace orders, stores them per account encrypted, forwards
//! them to the seller's backoffice, pseudonymizes customer data after retention, gives
//! support a masked view, and deletes everything when an account closes.
//!
//! The module tree follows the data flow of DESIGN.md: connectors (crate
//! `ordervault-connectors`) → ingest → store → forward / privacy / support → api.
//!
//! # Layout
//!
//! Each module has one job; imports only run down this list's data flow, never back up.
//!
//! - [`connectors`] (crate `ordervault-connectors`): the canonical order model, the
//!   `Marketplace` trait, one module per marketplace (bol, Amazon, eBay), shared HTTP
//!   plumbing (tokens, pacing, retry) and the sandbox marketplaces. Knows nothing of
//!   storage or crypto.
//! - [`config`]: typed settings, layered defaults → `ordervault.toml` → environment.
//! - [`app`]: the assembled service (settings, store, keyring, clock), built once and
//!   shared by the CLI, the API and the background loops.
//! - [`startup`]: `serve` as a library function: binds the listeners, starts the
//!   background loops, returns the bound addresses and a shutdown handle.
//! - [`error`]: the service layer's one error enum (`ServiceError`); [`api`] maps it to
//!   problem+json in one place.
//! - [`ids`]: newtypes for identifiers that must not be mixed up (`AccountId`, `Role`, …).
//! - [`crypto`]: master key, wrapped account keys, field encryption, email blind index.
//! - [`keyring`]: unwraps and caches account keys; the only holder of the master key.
//! - [`shredding`]: day and customer data keys under rotating epoch keys, kept outside
//!   the database, so destroying keys makes every copy unreadable (crypto-shredding).
//! - [`store`]: the catalog (control plane) and one store per account, on SQLite or
//!   PostgreSQL, with their migrations.
//! - [`orders`]: sealing a canonical order into an encrypted row and opening it back;
//!   the only place personal data crosses between plaintext and ciphertext.
//! - [`ingest`]: connections (credentials, settings) and the sync workers that pull,
//!   merge and write marketplace orders with their outbox events in one transaction.
//! - [`forward`]: webhook endpoints, Standard Webhooks signing, the outbox forwarder,
//!   and the check of every target against internal addresses.
//! - [`fulfilment`]: shipments and cancellations from the backoffice back to each
//!   marketplace through a durable outbox (the pusher).
//! - [`privacy`]: pseudonymization after retention, subject export and erasure, account
//!   closure (with its deletion receipt), resealing under data keys.
//! - [`support`]: masked lookups by account and exact order number, audited before any
//!   answer, and the per-token rate limiter.
//! - [`accounts`], [`tokens`]: account creation and listing; API tokens (only their
//!   SHA-256 stored).
//! - [`health`]: the operator's per-account view of the pipeline, for the console.
//! - [`metrics`]: Prometheus series (ids, marketplaces, outcomes; never personal data).
//! - [`scheduler`]: the cron job that runs the pseudonymization sweep inside `serve`.
//! - [`api`]: the axum HTTP API (`/api/v1`, bearer tokens, problem+json, OpenAPI) and
//!   the `/support` and `/console` pages; `/metrics` on its own listener.
//! - [`cli`]: the command line's types; `main.rs` only parses it and calls the library
//!   (`startup::serve`, and the service functions every mutation goes through, which
//!   the API calls too).
//! - [`backup`], [`doctor`]: online backup and restore; a read-only check that catalog
//!   and stores agree.
//! - [`files`]: owner-only files and directories, and the master key file's mode check.
//! - [`telemetry`]: tracing set-up in one place.
//! - [`time`]: stored milliseconds to chrono and RFC 3339, in one place.
//! - `demo` (feature `sandbox`): the whole product in one command against the sandboxes.

pub mod accounts;
pub mod api;
pub mod app;
pub mod backup;
#[cfg(feature = "sandbox")]
pub mod bench_seed;
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
pub mod startup;
pub mod store;
pub mod support;
pub mod telemetry;
pub mod time;
pub mod tokens;

pub use ordervault_connectors as connectors;
