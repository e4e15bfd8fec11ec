//! Orders as the service handles them: sealing a canonical order into an encrypted row
//! and opening a row back into an order. This is the only place customer personal data
//! crosses between plaintext and ciphertext.

pub mod lookup;
mod seal;
pub mod view;

pub use lookup::{find_order, FindError};
pub use seal::{
    data_key_pair, open_order, pseudonym_of, pseudonym_with, seal_order, OpenedOrder, SealError,
};
