//! Ingest: getting marketplace orders into account stores.

pub mod connections;
pub mod merge;
pub mod sync;
pub mod write;

pub use write::{write_orders, WRITE_BATCH};
