//! Rewriting an order's personal ciphertexts in place: the reseal migration (account key
//! → data keys, issue 16). Like the rest of the store this sees ciphertext only.

use super::{AccountStore, SealedOrder, StoreError};

impl AccountStore {
    /// Replaces the personal ciphertexts of row `id` with those of `sealed`, only if the
    /// row is still at `version` and not pseudonymized (a concurrent update or erasure
    /// wins). Returns whether it replaced them.
    pub async fn replace_sealed(
        &self,
        id: i64,
        version: i64,
        sealed: &SealedOrder,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE {}orders SET shipping_ct = $1, billing_ct = $2, email_ct = $3, \
             phone_ct = $4, notes_ct = $5, billing_email_ct = $6, buyer_ct = $7, \
             pickup_ct = $8 WHERE id = $9 AND version = $10 AND pseudonymized_at IS NULL",
            self.prefix()
        );
        on_pool!(self.pool(), p => {
            let done = sqlx::query(&sql)
                .bind(&sealed.shipping_ct)
                .bind(&sealed.billing_ct)
                .bind(&sealed.email_ct)
                .bind(&sealed.phone_ct)
                .bind(&sealed.notes_ct)
                .bind(&sealed.billing_email_ct)
                .bind(&sealed.buyer_ct)
                .bind(&sealed.pickup_ct)
                .bind(id)
                .bind(version)
                .execute(p)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
