//! `GET /metrics`: counters plus, per account with webhooks, the age of the oldest
//! undelivered event (the number an operator alerts on), and how many connections use a
//! marketplace API that is being retired.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::app::App;
use crate::metrics::metrics;

pub async fn render(State(app): State<App>) -> impl IntoResponse {
    let mut oldest = Vec::new();
    if let Ok(endpoints) = app.store.catalog().webhooks(None).await {
        let now = app.now_ms();
        let mut per_account: std::collections::BTreeMap<String, i64> = Default::default();
        for e in endpoints {
            let Ok(store) = app.store.account(&e.account_id).await else {
                continue;
            };
            if let Ok(age) = store
                .oldest_undelivered_ms(e.id.as_str(), e.created_at, now)
                .await
            {
                let entry = per_account.entry(e.account_id.to_string()).or_default();
                *entry = (*entry).max(age.unwrap_or(0));
            }
        }
        oldest = per_account
            .into_iter()
            .map(|(a, ms)| (vec![("account", a)], ms as f64 / 1000.0))
            .collect();
    }
    let deprecated = deprecated_connections(&app).await;
    let mut gauges = vec![
        (
            "ordervault_oldest_undelivered_seconds",
            "Age of the oldest order event not yet delivered to a webhook, per account.",
            oldest,
        ),
        (
            "ordervault_connections_deprecated_api",
            "Connections on a marketplace API that is being retired (Amazon Orders v0), per marketplace and API version.",
            deprecated,
        ),
    ];
    if let Ok(s) = app.keyring.data.status().await {
        let one = |v: i64| vec![(Vec::new(), v as f64)];
        gauges.push((
            "ordervault_key_epoch_current",
            "The key-encryption epoch new data keys are wrapped under.",
            one(s.current_epoch),
        ));
        gauges.push((
            "ordervault_key_epoch_oldest_age_seconds",
            "Age of the oldest epoch whose key still exists; above keys.erasure_window, copies are not forgetting on time.",
            one(s.oldest_surviving_epoch_age_secs),
        ));
        gauges.push((
            "ordervault_data_keys_live",
            "Data keys stored (wrapped under the current epoch).",
            one(s.data_keys_live),
        ));
        gauges.push((
            "ordervault_data_keys_destroyed",
            "Data keys destroyed so far (sweep, subject erasure, closure).",
            one(s.data_keys_destroyed),
        ));
    }
    let body = metrics().render(&gauges);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// Connections on a deprecated marketplace API, counted by marketplace and API version
/// (0 for Amazon v0 when none, so an alert has a series to watch).
async fn deprecated_connections(app: &App) -> Vec<(Vec<(&'static str, String)>, f64)> {
    let mut count = 0.0;
    if let Ok(list) = app.store.catalog().connections(None).await {
        count = list
            .iter()
            .filter_map(crate::ingest::connections::describe)
            .filter(|i| i.deprecation.is_some())
            .count() as f64;
    }
    vec![(
        vec![
            ("marketplace", "amazon".to_string()),
            ("api_version", "v0".to_string()),
        ],
        count,
    )]
}
