//! Privacy guarantees: account closure now; pseudonymization and subject rights build
//! on the same store and keyring.

pub mod closure;
