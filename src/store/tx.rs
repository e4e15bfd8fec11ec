//! An open transaction on either backend, for store code that writes several statements
//! atomically (an upsert with its outbox events, a fulfilment request under its order's
//! lock). The statements themselves are written once and run through [`on_tx!`]; where the
//! backends' SQL differs, the text comes from [`super::dialect`].

use super::{Pool, StoreError};

/// Runs `$body` with `$t` bound to the concrete transaction inside a [`TxConn`]: the same
/// statements on either backend, nothing backend-specific in `$body`.
macro_rules! on_tx {
    ($tx:expr, $t:ident => $body:expr) => {
        match $tx {
            $crate::store::tx::TxConn::Sqlite($t) => $body,
            $crate::store::tx::TxConn::Postgres($t) => $body,
        }
    };
}
pub(crate) use on_tx;

/// An open transaction on either backend.
pub(crate) enum TxConn<'a> {
    Sqlite(sqlx::Transaction<'a, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'a, sqlx::Postgres>),
}

impl TxConn<'static> {
    pub(crate) async fn begin(pool: &Pool) -> Result<Self, StoreError> {
        Ok(match pool {
            Pool::Sqlite(p) => Self::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Self::Postgres(p.begin().await?),
        })
    }
}

impl TxConn<'_> {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(t) => t.commit().await?,
            Self::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// The SQL dialect of this transaction's backend.
    pub(crate) fn sql(&self) -> &'static dyn super::dialect::Dialect {
        match self {
            Self::Sqlite(_) => &super::sqlite::dialect::SQLITE,
            Self::Postgres(_) => &super::postgres::dialect::POSTGRES,
        }
    }
}
