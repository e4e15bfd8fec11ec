//! Account rows: status, retention, store location, closure progress.

use std::str::FromStr;

use serde::Serialize;
use sqlx::Row;

use super::{Catalog, StoreError};
use crate::ids::AccountId;

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Row, key and store are being made; resumed by `account create` with the same
    /// name. Serves nothing until `Active`.
    Creating,
    Active,
    /// Closure started: no new work; resumes to `Closed`.
    Closing,
    Closed,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Active => "active",
            Self::Closing => "closing",
            Self::Closed => "closed",
        }
    }
}

impl FromStr for AccountStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "creating" => Ok(Self::Creating),
            "active" => Ok(Self::Active),
            "closing" => Ok(Self::Closing),
            "closed" => Ok(Self::Closed),
            other => Err(StoreError::Corrupt(format!(
                "unknown account status {other:?}"
            ))),
        }
    }
}

/// An account as the catalog knows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountRecord {
    pub id: AccountId,
    pub name: String,
    pub status: AccountStatus,
    pub retention_days: i64,
    pub store_location: String,
    pub created_at: i64,
    pub closing_started_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Counts captured when closure starts, reported in the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosureCounts {
    pub orders: i64,
    pub key_versions: i64,
}

const COLUMNS: &str =
    "id, name, status, retention_days, store_location, created_at, closing_started_at, closed_at";

fn record<R: Row>(r: &R) -> Result<AccountRecord, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(AccountRecord {
        id: super::stored_account_id(r.try_get("id")?)?,
        name: r.try_get("name")?,
        status: r.try_get::<String, _>("status")?.parse()?,
        retention_days: r.try_get("retention_days")?,
        store_location: r.try_get("store_location")?,
        created_at: r.try_get("created_at")?,
        closing_started_at: r.try_get("closing_started_at")?,
        closed_at: r.try_get("closed_at")?,
    })
}

impl Catalog {
    /// Sets an active account's retention (days). Returns whether an active account
    /// had it set.
    pub async fn set_retention(&self, id: &AccountId, days: i64) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}accounts SET retention_days = $1 WHERE id = $2 AND status = 'active'",
            self.p
        );
        on_pool!(&self.pool, p => {
            let done = sqlx::query(&sql).bind(days).bind(id.as_str()).execute(p).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Inserts a new account and its first wrapped key in one transaction, only if
    /// `key_epoch` (the epoch of the key's outer layer) is still the newest live epoch:
    /// a key wrapped under an epoch a rotation has already left could be missed by its
    /// rewrap and lost. Returns whether it inserted (if not, wrap again and retry).
    pub async fn insert_account(
        &self,
        account: &AccountRecord,
        wrapped_key: &[u8],
        key_version: i64,
        kek_fingerprint: &str,
        key_epoch: i64,
    ) -> Result<bool, StoreError> {
        let a = format!(
            "INSERT INTO {}accounts (id, name, status, retention_days, store_location, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            self.p
        );
        let p_ = self.p;
        let k = format!(
            "INSERT INTO {p_}account_keys (account_id, version, wrapped_key, kek_fingerprint, \
             created_at, epoch) SELECT $1, $2, $3, $4, $5, $6 \
             WHERE NOT EXISTS (SELECT 1 FROM {p_}key_epochs WHERE epoch > $6) AND {}",
            self.epoch_open_for_keys("$6")
        );
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&a)
                .bind(account.id.as_str())
                .bind(&account.name)
                .bind(account.status.as_str())
                .bind(account.retention_days)
                .bind(&account.store_location)
                .bind(account.created_at)
                .execute(&mut *tx)
                .await?;
            let stored = sqlx::query(&k)
                .bind(account.id.as_str())
                .bind(key_version)
                .bind(wrapped_key)
                .bind(kek_fingerprint)
                .bind(account.created_at)
                .bind(key_epoch)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if stored != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            tx.commit().await?;
        });
        Ok(true)
    }

    pub async fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {}accounts WHERE id = $1", self.p);
        on_pool!(&self.pool, p => {
            match sqlx::query(&sql).bind(id.as_str()).fetch_optional(p).await? {
                Some(r) => Ok(Some(record(&r)?)),
                None => Ok(None),
            }
        })
    }

    pub async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}accounts ORDER BY created_at, id",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter().map(record).collect()
        })
    }

    /// Accounts whose stores the service keeps migrated: active ones and unfinished
    /// creations, oldest first. Never a closing or closed one.
    pub async fn accounts_in_service(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}accounts WHERE status IN ('active', 'creating') ORDER BY created_at, id",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter().map(record).collect()
        })
    }

    /// The oldest unfinished creation of an account with this name, if any.
    pub async fn creating_account_named(
        &self,
        name: &str,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {}accounts WHERE status = 'creating' AND name = $1 \
             ORDER BY created_at, id LIMIT 1",
            self.p
        );
        on_pool!(&self.pool, p => {
            match sqlx::query(&sql).bind(name).fetch_optional(p).await? {
                Some(r) => Ok(Some(record(&r)?)),
                None => Ok(None),
            }
        })
    }

    /// Ends a creation: `creating` → `active`. Returns whether this call did it.
    pub async fn finish_creating(&self, id: &AccountId) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}accounts SET status = 'active' WHERE id = $1 AND status = 'creating'",
            self.p
        );
        on_pool!(&self.pool, p => {
            Ok(sqlx::query(&sql).bind(id.as_str()).execute(p).await?.rows_affected() == 1)
        })
    }

    /// Marks the account as closing (once: a resumed closure keeps the first start time).
    /// From then on its tokens stop working and every process drops its store.
    pub async fn begin_closing(&self, id: &AccountId, now: i64) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}accounts SET status = 'closing', closing_started_at = COALESCE(closing_started_at, $2) \
             WHERE id = $1 AND status <> 'closed'",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql).bind(id.as_str()).bind(now).execute(p).await?;
        });
        Ok(())
    }

    /// Records the counts for the receipt, once: taken while the store and keys still
    /// exist, they are never overwritten by a resumed closure (which could count less).
    pub async fn record_closure_counts(
        &self,
        id: &AccountId,
        counts: ClosureCounts,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {}accounts SET close_orders = COALESCE(close_orders, $2), \
             close_key_versions = COALESCE(close_key_versions, $3) WHERE id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            sqlx::query(&sql)
                .bind(id.as_str())
                .bind(counts.orders)
                .bind(counts.key_versions)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Counts recorded by [`Catalog::record_closure_counts`].
    pub async fn closure_counts(
        &self,
        id: &AccountId,
    ) -> Result<Option<ClosureCounts>, StoreError> {
        let sql = format!(
            "SELECT close_orders, close_key_versions FROM {}accounts WHERE id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(p).await?;
            let Some(r) = row else { return Ok(None) };
            let orders: Option<i64> = r.try_get("close_orders")?;
            let keys: Option<i64> = r.try_get("close_key_versions")?;
            Ok(orders.zip(keys).map(|(orders, key_versions)| ClosureCounts { orders, key_versions }))
        })
    }

    /// Final step of closure: stores the receipt and marks the account closed, atomically.
    pub async fn finish_closing(
        &self,
        id: &AccountId,
        now: i64,
        receipt_json: &str,
    ) -> Result<(), StoreError> {
        let r = format!(
            "INSERT INTO {}deletion_receipts (account_id, receipt, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO NOTHING",
            self.p
        );
        let a = format!(
            "UPDATE {}accounts SET status = 'closed', closed_at = $2 WHERE id = $1",
            self.p
        );
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            sqlx::query(&r).bind(id.as_str()).bind(receipt_json).bind(now).execute(&mut *tx).await?;
            sqlx::query(&a).bind(id.as_str()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

/// An active account as support's account picker shows it: id and name, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountName {
    pub id: AccountId,
    pub name: String,
}

/// `text` with the LIKE wildcards `%`, `_` and the escape `\` escaped.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Catalog {
    /// Up to `limit` active accounts whose name contains `query` (case-insensitive, ASCII
    /// letters) or whose id starts with it, by name. Wildcards in `query` match literally.
    pub async fn search_active_accounts(
        &self,
        query: &str,
        limit: i64,
    ) -> Result<Vec<AccountName>, StoreError> {
        let escaped = like_escape(&query.to_lowercase());
        let sql = format!(
            "SELECT id, name FROM {}accounts WHERE status = 'active' \
               AND (lower(name) LIKE $1 ESCAPE '\\' OR id LIKE $2 ESCAPE '\\') \
             ORDER BY lower(name), id LIMIT $3",
            self.p
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(&sql)
                .bind(format!("%{escaped}%"))
                .bind(format!("{escaped}%"))
                .bind(limit)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(AccountName {
                        id: super::stored_id(r.try_get("id")?, "account id")?,
                        name: r.try_get("name")?,
                    })
                })
                .collect()
        })
    }
}
