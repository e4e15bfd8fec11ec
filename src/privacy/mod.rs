//! Privacy guarantees: pseudonymization after retention, data subject export and
//! erasure, and account closure. Each works on the same store and keyring, and none
//! reports, logs or returns personal data except a subject export to its own subject.

pub mod closure;
pub mod pseudonymize;
pub mod reseal;
pub mod retire;
pub mod subject;

pub use pseudonymize::{
    privacy_summary, sweep, AccountSweep, PrivacySummary, SweepOutcome, SweepReport,
};
pub use subject::{erase_subject, export_subject, ErasureReceipt, SubjectExport};
