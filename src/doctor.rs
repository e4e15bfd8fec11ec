//! `ordervault doctor`: compares what the catalog says with what exists, and reports the
//! differences an operator has to look at. It only reads; it never drops, creates or
//! migrates anything, and a finding is never fatal for the service.
//!
//! Findings: stores (schemas `acct_*`, files `accounts/*.db`) that no account in service
//! owns, e.g. left by a creation that failed before its catalog row existed, or by hand;
//! creations that did not finish (resumed by `account create` with the same name); active
//! accounts without a store.

use serde::Serialize;

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::AccountStatus;

/// What `doctor` found. Ids and store names only: no personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// Stores no active, creating or closing account owns (schema or file names).
    pub unknown_stores: Vec<String>,
    /// Accounts still `creating` (ids): finish with `account create NAME` again.
    pub unfinished_creations: Vec<AccountId>,
    /// Active accounts whose store is missing (ids).
    pub missing_stores: Vec<AccountId>,
}

impl DoctorReport {
    /// Whether there is nothing to look at.
    pub fn is_clean(&self) -> bool {
        self.unknown_stores.is_empty()
            && self.unfinished_creations.is_empty()
            && self.missing_stores.is_empty()
    }
}

/// Runs every check.
pub async fn check(app: &App) -> Result<DoctorReport, ServiceError> {
    let accounts = app.store.catalog().accounts().await?;
    let owns_store = |id: &AccountId| {
        accounts.iter().any(|a| {
            &a.id == id
                && matches!(
                    a.status,
                    AccountStatus::Active | AccountStatus::Creating | AccountStatus::Closing
                )
        })
    };
    let mut report = DoctorReport::default();
    for name in app.store.account_store_names().await? {
        match app.store.account_of_store_name(&name) {
            Some(id) if owns_store(&id) => {}
            _ => report.unknown_stores.push(name),
        }
    }
    for a in &accounts {
        match a.status {
            AccountStatus::Creating => report.unfinished_creations.push(a.id.clone()),
            AccountStatus::Active => {
                let present = app.store.account_store_exists(&a.id).await?;
                if !present {
                    report.missing_stores.push(a.id.clone());
                }
            }
            _ => {}
        }
    }
    Ok(report)
}
