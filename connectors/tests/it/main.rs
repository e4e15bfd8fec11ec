//! The connectors' integration tests, one binary (one link instead of one per file):
//! each module drives one marketplace client against its sandbox, the vendors' own
//! example payloads, or the shared pacing.

#[macro_use]
#[path = "../contract/mod.rs"]
mod contract;

mod amazon;
mod amazon_v2026;
mod bol;
mod ebay;
mod pacing;
mod vendor_bol;
mod vendor_examples;
