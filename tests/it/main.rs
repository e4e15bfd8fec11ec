//! The integration tests, one binary (one link instead of one per file on a 2-core
//! machine): each module is one area of the service, and every test in it runs on
//! SQLite and PostgreSQL (`both_backends!`). The chaos test, the full leak run and the
//! browser tests are binaries of their own: they spawn processes or a browser, and the
//! chaos test's settle bounds should not share the machine with the rest.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod account_closure;
mod backup_restore;
mod bad_input;
mod connections_api;
mod console_api;
mod forwarding;
mod fulfilment;
mod hardening;
mod leak_scan;
mod migrations;
mod openapi;
mod order_model;
mod privacy_api;
mod pseudonymize;
mod shredding;
mod store_crypto;
mod subject_rights;
mod support;
mod sync;
mod upsert_rules;
