//! Time series for the console's plots, from data the service already keeps: orders
//! ingested per hour per marketplace (last 7 days, `orders.ingested_at`), webhook
//! delivery latency percentiles per day (`deliveries.delivered_at − outbox.created_at`)
//! and orders pseudonymized per day (`orders.pseudonymized_at`).
//!
//! Buckets are dense and fixed (168 hours, 7 days, UTC-aligned, the last one holding
//! "now"), so a plot always has the same number of points. Counts and durations only.

use ordervault_connectors::MarketplaceKind;
use serde::Serialize;

use crate::app::App;
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::store::catalog::AccountStatus;
use crate::store::Buckets;
use crate::time::rfc3339_secs;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Hours in the ingest plot (7 days).
pub const HOURS: usize = 7 * 24;
/// Days in the per-day plots.
pub const DAYS: usize = 7;

/// The three plots' data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = HealthSeries)]
pub struct Series {
    pub as_of: String,
    /// The account these cover, or `None` for all active accounts together.
    pub account_id: Option<String>,
    pub ingested_per_hour: PerMarketplace,
    pub delivery_latency: LatencyPerDay,
    pub pseudonymized_per_day: Counts,
}

/// Where a series starts and how wide its buckets are.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Axis {
    /// Start of the first bucket (RFC 3339).
    pub start: String,
    pub bucket_seconds: i64,
    pub buckets: usize,
}

impl From<Buckets> for Axis {
    fn from(b: Buckets) -> Self {
        Self {
            start: rfc3339_secs(b.start_ms),
            bucket_seconds: b.width_ms / 1000,
            buckets: b.count,
        }
    }
}

/// One count per bucket, per marketplace (every marketplace, zeros included).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PerMarketplace {
    #[serde(flatten)]
    pub axis: Axis,
    pub series: Vec<MarketplaceCounts>,
}

/// A marketplace's counts, one per bucket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarketplaceCounts {
    pub marketplace: &'static str,
    pub counts: Vec<i64>,
}

/// One count per bucket.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Counts {
    #[serde(flatten)]
    pub axis: Axis,
    pub counts: Vec<i64>,
}

/// Delivery latency percentiles per day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LatencyPerDay {
    #[serde(flatten)]
    pub axis: Axis,
    pub days: Vec<LatencyDay>,
}

/// Latency of the deliveries completed in one day (nearest-rank percentiles, ms);
/// `None` when nothing was delivered that day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LatencyDay {
    pub deliveries: usize,
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub p99_ms: Option<i64>,
}

/// The plots for one account, or for all active accounts (`None`).
pub async fn series(app: &App, account: Option<&AccountId>) -> Result<Series, ServiceError> {
    let now = app.now_ms();
    let hours = Buckets::ending_at(now, HOUR_MS, HOURS);
    let days = Buckets::ending_at(now, DAY_MS, DAYS);
    let accounts: Vec<AccountId> = match account {
        Some(a) => vec![crate::accounts::active_account(app, a).await?],
        None => app
            .store
            .catalog()
            .accounts()
            .await?
            .into_iter()
            .filter(|r| r.status == AccountStatus::Active)
            .map(|r| r.id)
            .collect(),
    };
    let mut ingested: Vec<MarketplaceCounts> = MarketplaceKind::ALL
        .iter()
        .map(|k| MarketplaceCounts {
            marketplace: k.as_str(),
            counts: vec![0; hours.count],
        })
        .collect();
    let mut pseudonymized = vec![0i64; days.count];
    let mut latencies: Vec<Vec<i64>> = vec![Vec::new(); days.count];
    for id in &accounts {
        let store = app.store.account(id).await?;
        for (marketplace, bucket, n) in store.ingested_per_bucket(hours).await? {
            if let Some(s) = ingested.iter_mut().find(|s| s.marketplace == marketplace) {
                s.counts[bucket] += n;
            }
        }
        for (_, bucket, n) in store.pseudonymized_per_bucket(days).await? {
            pseudonymized[bucket] += n;
        }
        for (at, latency) in store
            .delivery_latencies(days.start_ms, days.end_ms())
            .await?
        {
            if let Some(i) = days.index(at) {
                latencies[i].push(latency.max(0));
            }
        }
    }
    Ok(Series {
        as_of: rfc3339_secs(now),
        account_id: account.map(|a| a.to_string()),
        ingested_per_hour: PerMarketplace {
            axis: hours.into(),
            series: ingested,
        },
        delivery_latency: LatencyPerDay {
            axis: days.into(),
            days: latencies.into_iter().map(latency_day).collect(),
        },
        pseudonymized_per_day: Counts {
            axis: days.into(),
            counts: pseudonymized,
        },
    })
}

/// Nearest-rank percentiles of one day's latencies.
fn latency_day(mut v: Vec<i64>) -> LatencyDay {
    if v.is_empty() {
        return LatencyDay::default();
    }
    v.sort_unstable();
    let rank = |p: f64| {
        let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[i.clamp(1, v.len()) - 1]
    };
    LatencyDay {
        deliveries: v.len(),
        p50_ms: Some(rank(50.0)),
        p90_ms: Some(rank(90.0)),
        p99_ms: Some(rank(99.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::latency_day;

    #[test]
    fn nearest_rank_percentiles() {
        let d = latency_day((1..=100).rev().collect());
        assert_eq!(d.deliveries, 100);
        assert_eq!(
            (d.p50_ms, d.p90_ms, d.p99_ms),
            (Some(50), Some(90), Some(99))
        );
        let one = latency_day(vec![7]);
        assert_eq!((one.p50_ms, one.p99_ms), (Some(7), Some(7)));
        assert_eq!(latency_day(vec![]).p50_ms, None);
    }
}
