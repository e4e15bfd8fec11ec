//! Time as the stores keep it (milliseconds since the Unix epoch, from the injected
//! clock) turned into chrono values and the RFC 3339 text reports and receipts show.
//! One place for the conversions, so every module reads a stored time the same way.

use chrono::{DateTime, SecondsFormat, Utc};

/// The instant `ms` milliseconds after the epoch; a value chrono cannot hold (never
/// written by this service) reads as the epoch rather than failing a whole listing.
pub fn datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `ms` as RFC 3339 with chrono's default precision and offset (`+00:00`), as receipts
/// and privacy reports have always shown it.
pub fn rfc3339(ms: i64) -> String {
    datetime(ms).to_rfc3339()
}

/// `ms` as RFC 3339 in whole seconds with `Z`, as the health report shows it.
pub fn rfc3339_secs(ms: i64) -> String {
    datetime(ms).to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ms = 1_700_000_000_123;
        assert_eq!(datetime(ms).timestamp_millis(), ms);
        assert_eq!(rfc3339(ms), "2023-11-14T22:13:20.123+00:00");
        assert_eq!(rfc3339_secs(ms), "2023-11-14T22:13:20Z");
        assert_eq!(datetime(i64::MAX), DateTime::<Utc>::UNIX_EPOCH);
    }
}
