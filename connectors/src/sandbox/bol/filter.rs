//! Query parameters of `GET /retailer/orders`, validated the way bol answers: a 400 Problem
//! with one violation per bad parameter. Missing `status`/`fulfilment-method` fall back to
//! the old spec defaults (`OPEN`/`FBR`), so a client relying on defaults misses orders.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};

pub(super) struct ListFilter {
    pub page: usize,
    pub status: &'static str,
    pub method: &'static str,
    pub interval: Option<i64>,
    pub date: Option<NaiveDate>,
    pub vvb_only: bool,
}

pub(super) fn parse_filter(
    q: &HashMap<String, String>,
    today: NaiveDate,
) -> Result<ListFilter, Vec<Value>> {
    let mut violations = Vec::new();
    let mut bad =
        |name: &str, reason: String| violations.push(json!({"name": name, "reason": reason}));
    let page = match q.get("page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => {
            bad(
                "page",
                "Request contains invalid value(s): must be greater than or equal to 1.".into(),
            );
            1
        }
    };
    let status = match q.get("status").map(String::as_str) {
        None | Some("OPEN") => "OPEN",
        Some("SHIPPED") => "SHIPPED",
        Some("ALL") => "ALL",
        Some(_) => {
            bad(
                "status",
                "Request contains invalid value(s), allowed values: OPEN, SHIPPED, ALL.".into(),
            );
            "OPEN"
        }
    };
    let method = match q.get("fulfilment-method").map(String::as_str) {
        None | Some("FBR") => "FBR",
        Some("FBB") => "FBB",
        Some("ALL") => "ALL",
        Some(_) => {
            bad(
                "fulfilment-method",
                "Request contains invalid value(s), allowed values: FBR, FBB, ALL.".into(),
            );
            "FBR"
        }
    };
    let interval = match q.get("change-interval-minute").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(m)) if (1..=60).contains(&m) => Some(m),
        Some(_) => {
            bad(
                "change-interval-minute",
                "must be less than or equal to 60".into(),
            );
            None
        }
    };
    let date = match q
        .get("latest-change-date")
        .map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d"))
    {
        None => None,
        Some(Ok(d)) if d >= today - Duration::days(92) => Some(d),
        Some(Ok(_)) => {
            bad(
                "latest-change-date",
                "Up to 3 months of history is supported.".into(),
            );
            None
        }
        Some(Err(_)) => {
            bad(
                "latest-change-date",
                "Request contains invalid value(s): expected a date (yyyy-MM-dd).".into(),
            );
            None
        }
    };
    let vvb_only = q.get("vvb-only").is_some_and(|v| v == "true");
    if violations.is_empty() {
        Ok(ListFilter {
            page,
            status,
            method,
            interval,
            date,
            vvb_only,
        })
    } else {
        Err(violations)
    }
}
