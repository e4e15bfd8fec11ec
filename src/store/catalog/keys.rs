//! Wrapped account keys. Only ciphertext under the master key is ever stored here, and
//! (issue 16) that only inside a second layer under the epoch key of `epoch`, so a copy
//! of the catalog plus the master key does not open it once that epoch is destroyed.
//! Rows with no epoch predate that layer; the rotation tick adds it.

use sqlx::Row;

use super::{Catalog, StoreError};
use crate::ids::AccountId;

/// One stored key version of an account.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub account_id: AccountId,
    pub version: i64,
    pub wrapped_key: Vec<u8>,
    pub kek_fingerprint: String,
    /// The epoch whose key wraps the outer layer; `None` for a row from before it.
    pub epoch: Option<i64>,
}

impl Catalog {
    /// All key versions of an account, oldest first.
    pub async fn account_keys(&self, account: &AccountId) -> Result<Vec<KeyRow>, StoreError> {
        let sql = format!(
            "SELECT account_id, version, wrapped_key, kek_fingerprint, epoch FROM {}account_keys \
             WHERE account_id = $1 ORDER BY version",
            self.p
        );
        self.key_rows(&sql, Some(account.as_str())).await
    }

    /// How many key rows exist across all accounts.
    pub async fn count_keys(&self) -> Result<usize, StoreError> {
        let sql = format!("SELECT count(*) FROM {}account_keys", self.p);
        on_pool!(&self.pool, p => {
            let n: i64 = sqlx::query_scalar(&sql).fetch_one(p).await?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }

    /// Key rows not yet wrapped under the KEK with this fingerprint (for master rotation).
    pub async fn keys_not_wrapped_by(&self, fingerprint: &str) -> Result<Vec<KeyRow>, StoreError> {
        let sql = format!(
            "SELECT account_id, version, wrapped_key, kek_fingerprint, epoch FROM {}account_keys \
             WHERE kek_fingerprint <> $1 ORDER BY account_id, version",
            self.p
        );
        self.key_rows(&sql, Some(fingerprint)).await
    }

    async fn key_rows(&self, sql: &str, arg: Option<&str>) -> Result<Vec<KeyRow>, StoreError> {
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(sql).bind(arg).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(KeyRow {
                        account_id: super::stored_id(r.try_get("account_id")?, "account id")?,
                        version: r.try_get("version")?,
                        wrapped_key: r.try_get("wrapped_key")?,
                        kek_fingerprint: r.try_get("kek_fingerprint")?,
                        epoch: r.try_get("epoch")?,
                    })
                })
                .collect()
        })
    }

    /// Replaces one wrapped key, only if it is still wrapped under `old_fingerprint`
    /// (so a concurrent or repeated rotation never double-wraps). Returns whether it did.
    pub async fn rewrap_key(
        &self,
        row: &KeyRow,
        new_wrapped: &[u8],
        new_fingerprint: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}account_keys SET wrapped_key = $1, kek_fingerprint = $2 \
             WHERE account_id = $3 AND version = $4 AND kek_fingerprint = $5 \
             AND COALESCE(epoch, -1) = $6",
            self.p
        );
        on_pool!(&self.pool, p => {
            let done = sqlx::query(&sql)
                .bind(new_wrapped)
                .bind(new_fingerprint)
                .bind(row.account_id.as_str())
                .bind(row.version)
                .bind(&row.kek_fingerprint)
                .bind(row.epoch.unwrap_or(-1))
                .execute(p)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Up to `limit` account key rows whose outer layer is under `epoch` (`None`: rows
    /// without the layer yet).
    pub async fn account_keys_in_epoch(
        &self,
        epoch: Option<i64>,
        limit: i64,
    ) -> Result<Vec<KeyRow>, StoreError> {
        let sql = format!(
            "SELECT account_id, version, wrapped_key, kek_fingerprint, epoch FROM {}account_keys \
             WHERE COALESCE(epoch, -1) = $1 LIMIT $2",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql)
                .bind(epoch.unwrap_or(-1))
                .bind(limit)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(KeyRow {
                        account_id: super::stored_id(r.try_get("account_id")?, "account id")?,
                        version: r.try_get("version")?,
                        wrapped_key: r.try_get("wrapped_key")?,
                        kek_fingerprint: r.try_get("kek_fingerprint")?,
                        epoch: r.try_get("epoch")?,
                    })
                })
                .collect()
        })
    }

    /// Moves one account key row's outer layer to `new_epoch`, only if it is still under
    /// the epoch it was read with. Returns whether it did.
    pub async fn rewrap_account_key_epoch(
        &self,
        row: &KeyRow,
        new_wrapped: &[u8],
        new_epoch: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}account_keys SET wrapped_key = $1, epoch = $2 \
             WHERE account_id = $3 AND version = $4 AND COALESCE(epoch, -1) = $5",
            self.p
        );
        on_pool!(&self.pool, p => {
            let done = sqlx::query(&sql)
                .bind(new_wrapped)
                .bind(new_epoch)
                .bind(row.account_id.as_str())
                .bind(row.version)
                .bind(row.epoch.unwrap_or(-1))
                .execute(p)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Deletes every key version of an account (crypto-shredding). Returns how many.
    pub async fn delete_account_keys(&self, account: &AccountId) -> Result<u64, StoreError> {
        let sql = format!("DELETE FROM {}account_keys WHERE account_id = $1", self.p);
        on_pool!(&self.pool, p => {
            Ok(sqlx::query(&sql).bind(account.as_str()).execute(p).await?.rows_affected())
        })
    }
}
