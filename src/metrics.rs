//! Process metrics in the Prometheus text format. Labels are account ids, marketplaces
//! and outcomes: never personal data.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

/// A series: metric name and its labels.
type SeriesKey = (&'static str, Vec<(&'static str, String)>);

/// A gauge to render: name, help, and (labels, value) samples.
pub type Gauge<'a> = (&'a str, &'a str, Vec<(Vec<(&'a str, String)>, f64)>);

/// Counters by (name, labels).
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<SeriesKey, u64>>,
}

/// The process-wide registry.
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::default)
}

const HELP: &[(&str, &str)] = &[
    (
        "ordervault_orders_ingested_total",
        "Orders written by sync, by outcome (inserted, updated, unchanged, failed).",
    ),
    ("ordervault_sync_runs_total", "Sync runs by outcome."),
    (
        "ordervault_webhook_deliveries_total",
        "Webhook delivery attempts by result (delivered, retry, dead, disabled).",
    ),
];

impl Metrics {
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], by: u64) {
        if by == 0 {
            return;
        }
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        );
        *self
            .counters
            .lock()
            .expect("metrics lock")
            .entry(key)
            .or_default() += by;
    }

    /// Renders counters plus the given gauges (name, help, labelled values).
    pub fn render(&self, gauges: &[Gauge<'_>]) -> String {
        let mut out = String::new();
        let counters = self.counters.lock().expect("metrics lock").clone();
        let mut last = "";
        for ((name, labels), v) in &counters {
            if *name != last {
                let help = HELP.iter().find(|(n, _)| n == name).map_or("", |(_, h)| h);
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
                last = name;
            }
            let _ = writeln!(
                out,
                "{name}{} {v}",
                fmt_labels(labels.iter().map(|(k, v)| (*k, v.as_str())))
            );
        }
        for (name, help, values) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, v) in values {
                let _ = writeln!(
                    out,
                    "{name}{} {v}",
                    fmt_labels(labels.iter().map(|(k, v)| (*k, v.as_str())))
                );
            }
        }
        out
    }
}

fn fmt_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = labels
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}
