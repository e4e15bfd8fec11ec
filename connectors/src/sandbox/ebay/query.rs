//! getOrders query parsing, strict the way eBay is: raw `[ ] { } |` in the query are
//! refused (they must arrive as `%5B %5D %7B %7D %7C`), filter names and values are
//! checked, and every refusal carries eBay's errorId (30700–32800).

use chrono::{DateTime, Duration, Utc};

use crate::ebay::normalize::parse_timestamp;

/// A refusal: HTTP status, eBay errorId, message, and the offending parameter.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub error_id: i64,
    pub message: String,
    pub parameter: Option<(String, String)>,
}

impl ApiError {
    pub fn bad(error_id: i64, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            error_id,
            message: message.into(),
            parameter: None,
        }
    }

    fn with(mut self, name: &str, value: &str) -> Self {
        self.parameter = Some((name.to_string(), value.to_string()));
        self
    }
}

/// An inclusive time range; `to: None` means open-ended.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

impl Range {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.from && self.to.is_none_or(|to| t <= to)
    }
}

/// The parsed `filter` parameter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub creation: Option<Range>,
    pub modified: Option<Range>,
    /// The accepted `orderfulfillmentstatus` set.
    pub fulfillment: Option<[&'static str; 2]>,
}

/// The raw (still percent-encoded) query as `(name, raw value)` pairs.
pub fn pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), v.to_string())
        })
        .collect()
}

/// Percent-decodes a query component (`+` is a space, as in forms).
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
                i += 3;
                continue;
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `filter` (raw, as it arrived) against the sandbox clock.
pub fn parse_filter(raw: &str, now: DateTime<Utc>) -> Result<Filter, ApiError> {
    let mut f = Filter::default();
    if raw.contains(['[', ']', '{', '}', '|']) {
        // eBay reads an unencoded bracket as part of the value and refuses it.
        let name = raw.split(':').next().unwrap_or("filter");
        return Err(ApiError::bad(
            30800,
            format!("Invalid filter value '{raw}' for filter '{name}'"),
        )
        .with("filter", raw));
    }
    let decoded = decode(raw);
    for criterion in decoded.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (name, value) = criterion.split_once(':').unwrap_or((criterion, ""));
        match name {
            "creationdate" => f.creation = Some(range(name, value, now)?),
            "lastmodifieddate" => f.modified = Some(range(name, value, now)?),
            "orderfulfillmentstatus" => {
                let inner = value
                    .strip_prefix('{')
                    .and_then(|v| v.strip_suffix('}'))
                    .ok_or_else(|| invalid_value(name, value))?;
                let mut set: Vec<&str> = inner.split('|').collect();
                set.sort_unstable();
                f.fulfillment = Some(match set.as_slice() {
                    ["IN_PROGRESS", "NOT_STARTED"] => ["NOT_STARTED", "IN_PROGRESS"],
                    ["FULFILLED", "IN_PROGRESS"] => ["FULFILLED", "IN_PROGRESS"],
                    _ => return Err(invalid_value(name, value)),
                });
            }
            _ => {
                return Err(ApiError::bad(30700, format!("Invalid filter name: {name}"))
                    .with("filter", name))
            }
        }
    }
    Ok(f)
}

fn invalid_value(name: &str, value: &str) -> ApiError {
    ApiError::bad(
        30800,
        format!("Invalid filter value {value} for filter {name}"),
    )
    .with("filter", name)
}

fn range(name: &str, value: &str, now: DateTime<Utc>) -> Result<Range, ApiError> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| invalid_value(name, value))?;
    let (from, to) = inner
        .split_once("..")
        .ok_or_else(|| invalid_value(name, value))?;
    if from.trim().is_empty() {
        return Err(ApiError::bad(30820, "Start date is missing").with("filter", name));
    }
    let date = |s: &str| {
        s.trim()
            .ends_with('Z')
            .then(|| parse_timestamp(s))
            .flatten()
            .ok_or_else(|| ApiError::bad(30810, "Invalid date format").with("filter", name))
    };
    let from = date(from)?;
    let to = if to.trim().is_empty() {
        None
    } else {
        Some(date(to)?)
    };
    if from > now || to.is_some_and(|t| t > now) {
        return Err(
            ApiError::bad(30850, "Start and end dates can't be in the future").with("filter", name),
        );
    }
    if let Some(t) = to {
        if from > t {
            return Err(
                ApiError::bad(30840, "Start date should be before end date").with("filter", name)
            );
        }
    }
    if to.unwrap_or(now) - from > Duration::days(730) {
        return Err(ApiError::bad(
            30830,
            "Time range between start date and end date must be within '2' years.",
        )
        .with("filter", name));
    }
    Ok(Range { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_timestamp("2026-03-01T00:00:00.000Z").unwrap()
    }

    #[test]
    fn filters_parse_strictly() {
        let f = parse_filter(
            "lastmodifieddate:%5B2026-02-01T00:00:00.000Z..2026-02-02T00:00:00.000Z%5D,orderfulfillmentstatus:%7BNOT_STARTED%7CIN_PROGRESS%7D",
            now(),
        )
        .unwrap();
        assert!(f.modified.is_some() && f.creation.is_none());
        assert_eq!(f.fulfillment, Some(["NOT_STARTED", "IN_PROGRESS"]));
        let code = |raw: &str| parse_filter(raw, now()).unwrap_err().error_id;
        assert_eq!(code("lastmodifieddate:[2026-02-01T00:00:00.000Z..]"), 30800);
        assert_eq!(code("buyer:%5Bx..%5D"), 30700);
        assert_eq!(
            code("lastmodifieddate:%5B..2026-02-01T00:00:00.000Z%5D"),
            30820
        );
        assert_eq!(code("lastmodifieddate:%5B2026-02-01..%5D"), 30810);
        assert_eq!(
            code("creationdate:%5B2026-02-02T00:00:00.000Z..2026-02-01T00:00:00.000Z%5D"),
            30840
        );
        assert_eq!(code("creationdate:%5B2026-04-01T00:00:00.000Z..%5D"), 30850);
        assert_eq!(code("creationdate:%5B2023-01-01T00:00:00.000Z..%5D"), 30830);
        assert_eq!(code("orderfulfillmentstatus:%7BFULFILLED%7D"), 30800);
        assert_eq!(decode("a%5Bb%5D+c"), "a[b] c");
    }
}
