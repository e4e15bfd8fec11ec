//! One module per command group of `ordervault`; each runs its commands and prints.

pub mod account;
pub mod backup;
#[cfg(feature = "sandbox")]
pub mod bench;
pub mod connection;
pub mod doctor;
pub mod fulfilment;
pub mod keys;
pub mod privacy;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod serve;
pub mod token;
pub mod webhook;
