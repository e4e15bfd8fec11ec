//! What a newly fetched order takes over from the stored one before it is sealed: every
//! personal field the payload lacks or blanks (per field, see
//! [`ordervault_connectors::Customer::merge`]), and the earliest evidence of when the
//! order was fulfilled or cancelled.
//!
//! Pure functions, no I/O. Never logs: both orders hold personal data.

use chrono::{DateTime, Utc};
use ordervault_connectors::{Order, OrderStatus};

/// Folds the stored version of an order into the one just fetched.
///
/// - customer: the stored data, with every field the new payload carries replaced;
/// - `fulfilled_at` (shipped orders only): the earliest of the payload's evidence and the
///   stored time; without either, `now` (the time ordervault first saw it shipped), never
///   the placement time; `cancelled_at` likewise for cancelled orders.
pub fn merge_into(fetched: &mut Order, stored: Option<&Order>, now: DateTime<Utc>) {
    if let Some(stored) = stored {
        let mut customer = stored.customer.clone();
        customer.merge(std::mem::take(&mut fetched.customer));
        fetched.customer = customer;
    }
    fetched.fulfilled_at = settled(
        fetched.status == OrderStatus::Shipped,
        fetched.fulfilled_at,
        stored.and_then(|s| s.fulfilled_at),
        now,
    );
    fetched.cancelled_at = settled(
        fetched.status == OrderStatus::Cancelled,
        fetched.cancelled_at,
        stored.and_then(|s| s.cancelled_at),
        now,
    );
}

/// The time an order reached a final state: only while it is in that state; the
/// earliest evidence known, else `now`.
fn settled(
    reached: bool,
    evidence: Option<DateTime<Utc>>,
    stored: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !reached {
        return evidence;
    }
    Some(match (evidence, stored) {
        (Some(e), Some(s)) => e.min(s),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap()
    }

    #[test]
    fn fulfilment_time_comes_from_evidence_or_first_sight_never_placement() {
        let now = t(20);
        // No evidence, nothing stored: first seen now.
        assert_eq!(settled(true, None, None, now), Some(now));
        // Stored first-sight time survives later payloads without evidence.
        assert_eq!(settled(true, None, Some(t(9)), now), Some(t(9)));
        // The earliest of evidence and stored wins either way round.
        assert_eq!(settled(true, Some(t(8)), Some(t(9)), now), Some(t(8)));
        assert_eq!(settled(true, Some(t(10)), Some(t(9)), now), Some(t(9)));
        assert_eq!(settled(true, Some(t(10)), None, now), Some(t(10)));
        // Not (or no longer) in the state: whatever the payload says, nothing invented.
        assert_eq!(settled(false, None, Some(t(9)), now), None);
        assert_eq!(settled(false, Some(t(7)), None, now), Some(t(7)));
    }
}
