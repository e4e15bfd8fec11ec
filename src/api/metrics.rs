//! `GET /metrics`: counters plus, per account with webhooks, the age of the oldest
//! undelivered event (the number an operator alerts on).

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
            let Ok(id) = e.account_id.parse() else {
                continue;
            };
            let Ok(store) = app.store.account(&id).await else {
                continue;
            };
            if let Ok(age) = store.oldest_undelivered_ms(&e.id, e.created_at, now).await {
                let entry = per_account.entry(e.account_id.clone()).or_default();
                *entry = (*entry).max(age.unwrap_or(0));
            }
        }
        oldest = per_account
            .into_iter()
            .map(|(a, ms)| (vec![("account", a)], ms as f64 / 1000.0))
            .collect();
    }
    let mut gauges = vec![(
        "ordervault_oldest_undelivered_seconds",
        "Age of the oldest order event not yet delivered to a webhook, per account.",
        oldest,
    )];
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
