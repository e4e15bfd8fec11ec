//! The numbers behind the operator console, over HTTP: `/api/v1/health` (per account
//! connection health, webhook delivery, privacy, keys, needs-attention and its filter),
//! `/api/v1/health/series` (the plots' points), both admin only and documented in the
//! OpenAPI document; and support's account picker `/api/v1/support/accounts` (names and
//! ids only, active accounts, support tokens only).

use crate::common;

use crate::common::api::{token, TestApp};
use crate::common::console::console_fixture;
use crate::common::corpus::leaks;
use crate::common::TestEnv;
use ordervault::ids::Role;
use serde_json::Value;

/// A console or support-search GET: status, `cache-control` and body; every error
/// must be problem+json.
async fn get(api: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Value) {
    let resp = api.call("GET", path, token, None).await;
    let body = resp.json();
    if resp.status >= 400 {
        assert_eq!(
            resp.header("content-type"),
            "application/problem+json",
            "{path}: {body}"
        );
    }
    (resp.status, resp.header("cache-control").to_string(), body)
}

async fn health_report_and_series(env: TestEnv) {
    let f = console_fixture(&env).await;
    let service = TestApp::spawn(&env).await;
    let admin = token(&env, Role::Admin, None).await;
    let support = token(&env, Role::Support, None).await;
    let backoffice = token(&env, Role::Backoffice, Some(&f.healthy)).await;

    // Admin only.
    for path in ["/api/v1/health", "/api/v1/health/series"] {
        assert_eq!(get(&service, path, None).await.0, 401, "{path}");
        assert_eq!(get(&service, path, Some(&support)).await.0, 403, "{path}");
        assert_eq!(
            get(&service, path, Some(&backoffice)).await.0,
            403,
            "{path}"
        );
    }

    let (st, cache, h) = get(&service, "/api/v1/health", Some(&admin)).await;
    assert_eq!(st, 200);
    assert_eq!(cache, "no-store");
    let accounts = h["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    let by_id = |id: &str| accounts.iter().find(|a| a["account_id"] == id).unwrap();
    let healthy = by_id(f.healthy.as_str());
    assert_eq!(healthy["name"], "Fietsen Shop B.V.");
    assert_eq!(healthy["needs_attention"], false, "{healthy}");
    let conn = &healthy["connections"][0];
    assert_eq!(conn["state"], "active");
    assert_eq!(conn["cursor_lag_seconds"], 600);
    assert_eq!(conn["next_attempt_at"], "2026-03-01T12:05:00Z");
    assert_eq!(conn["last_success_at"], "2026-03-01T12:00:00Z");
    assert_eq!(healthy["webhooks"]["endpoints"], 1);
    assert_eq!(healthy["webhooks"]["backlog"], 0);
    assert_eq!(healthy["webhooks"]["dead_letters"], 0);
    assert_eq!(healthy["privacy"]["with_personal_data"], 5);
    assert_eq!(healthy["privacy"]["overdue"], 0);
    assert_eq!(healthy["keys"]["current_version"], 1);
    assert_eq!(
        healthy["keys"]["versions"][0]["wrapped_under_current_master_key"],
        true
    );
    // No ship-back state is kept yet: the field is there, and null.
    assert!(healthy["ship_back"].is_null());

    let broken = by_id(f.broken.as_str());
    assert_eq!(broken["needs_attention"], true);
    assert_eq!(
        broken["attention"],
        serde_json::json!([
            "connection_needs_reauth",
            "connection_failing",
            "webhook_disabled"
        ])
    );
    let conns = broken["connections"].as_array().unwrap();
    let of = |m: &str| conns.iter().find(|c| c["marketplace"] == m).unwrap();
    assert_eq!(of("bol")["state"], "needs_reauth");
    assert_eq!(
        of("bol")["reason"],
        "bol rejected the client credentials (401)"
    );
    // Failing: how often, why, and when the retry after backoff is due.
    let amazon = of("amazon");
    assert_eq!(amazon["state"], "failing");
    assert_eq!(amazon["consecutive_failures"], 2);
    assert_eq!(
        amazon["last_error"],
        "amazon answered 503 Service Unavailable"
    );
    assert_eq!(amazon["next_attempt_at"], "2026-03-01T12:04:00Z");
    assert_eq!(
        broken["webhooks"]["disabled_endpoints"][0]["reason"],
        "410 Gone"
    );
    assert_eq!(broken["privacy"]["pseudonymized"], 4);
    assert_eq!(broken["privacy"]["with_personal_data"], 0);
    assert_eq!(broken["privacy"]["overdue"], 0);
    assert_eq!(broken["privacy"]["missed_by_last_sweep"], 0);
    assert_eq!(broken["privacy"]["last_sweep_pseudonymized"], 4);
    // The default hourly sweep: the next one is the next full hour after t0 (12:00).
    assert_eq!(h["next_sweep_at"], "2026-03-01T13:00:00Z");

    let (st, _, only) = get(
        &service,
        "/api/v1/health?needs_attention=true",
        Some(&admin),
    )
    .await;
    assert_eq!(st, 200);
    let ids: Vec<&str> = only["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [f.broken.as_str()]);
    assert_eq!(
        get(
            &service,
            "/api/v1/health?needs_attention=maybe",
            Some(&admin)
        )
        .await
        .0,
        400
    );

    // The plots: dense buckets ending with the current hour / day.
    let (st, cache, s) = get(&service, "/api/v1/health/series", Some(&admin)).await;
    assert_eq!(st, 200);
    assert_eq!(cache, "no-store");
    let ingest = &s["ingested_per_hour"];
    assert_eq!(ingest["buckets"], 168);
    assert_eq!(ingest["bucket_seconds"], 3600);
    assert_eq!(ingest["start"], "2026-02-22T13:00:00Z");
    let per: Vec<(String, Vec<i64>)> = ingest["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["marketplace"].as_str().unwrap().to_string(),
                serde_json::from_value(m["counts"].clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
        ["bol", "amazon", "ebay"]
    );
    assert!(per.iter().all(|(_, c)| c.len() == 168));
    // t0 is 12:00: "2 h ago" is bucket 165, "30 h ago" 137, "50 h ago" 117.
    let bol = &per[0].1;
    assert_eq!((bol[165], bol[117], bol.iter().sum::<i64>()), (3, 4, 7));
    let amazon = &per[1].1;
    assert_eq!((amazon[137], amazon.iter().sum::<i64>()), (2, 2));
    assert_eq!(per[2].1.iter().sum::<i64>(), 0);

    let pseudo: Vec<i64> =
        serde_json::from_value(s["pseudonymized_per_day"]["counts"].clone()).unwrap();
    assert_eq!(pseudo, [0, 0, 0, 0, 0, 0, 4]);

    let days = s["delivery_latency"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let delivered: Vec<&Value> = days.iter().filter(|d| d["deliveries"] != 0).collect();
    assert_eq!(delivered.len(), f.delivery_days);
    // Latencies were 1..5 s: the 3 orders of "2 h ago" took 1, 2 and 3 s (today).
    assert_eq!(days[6]["deliveries"], 3);
    assert_eq!(days[6]["p50_ms"], 2000);
    assert_eq!(days[6]["p99_ms"], 3000);

    // One account's series.
    let path = format!("/api/v1/health/series?account={}", f.broken);
    let (_, _, one) = get(&service, &path, Some(&admin)).await;
    assert_eq!(one["account_id"], f.broken.as_str());
    let bol: Vec<i64> =
        serde_json::from_value(one["ingested_per_hour"]["series"][0]["counts"].clone()).unwrap();
    assert_eq!(bol.iter().sum::<i64>(), 4);
    assert_eq!(
        get(&service, "/api/v1/health/series?account=nope", Some(&admin))
            .await
            .0,
        404
    );

    // Nothing personal in either answer.
    let bytes = format!("{h}{s}");
    let found = leaks(bytes.as_bytes(), &f.personal_values);
    assert!(
        found.is_empty(),
        "personal values in the health view: {found:?}"
    );

    // Overdue between sweeps is not "needs attention"; an order the last sweep should
    // have erased is. An order shipped 12 h before t0 becomes due a day later, after the
    // sweep at t0: overdue, but waiting for the next sweep.
    let store = env.account_store(f.broken.as_str()).await;
    let keys = env.app.keyring.keys(&f.broken).await.unwrap();
    let shipped = |n: &str, fulfilled: chrono::DateTime<chrono::Utc>| {
        let mut o = common::order(n, 0);
        o.status = ordervault::connectors::OrderStatus::Shipped;
        o.placed_at = fulfilled - chrono::Duration::days(1);
        o.updated_at = fulfilled;
        o.fulfilled_at = Some(fulfilled);
        o
    };
    let t0 = common::t0();
    ordervault::ingest::write_orders(
        &store,
        &keys,
        &[shipped("LATE-1", t0 - chrono::Duration::hours(12))],
        env.app.now_ms(),
    )
    .await
    .unwrap();
    env.clock.advance(chrono::Duration::days(1));
    let privacy_of = |h: &Value| {
        let a = h["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_id"] == f.broken.as_str())
            .unwrap()
            .clone();
        (a["privacy"].clone(), a["attention"].clone())
    };
    let (_, _, h) = get(&service, "/api/v1/health", Some(&admin)).await;
    let (p, attention) = privacy_of(&h);
    assert_eq!(
        (p["overdue"].clone(), p["missed_by_last_sweep"].clone()),
        (1.into(), 0.into())
    );
    assert_eq!(
        attention,
        serde_json::json!([
            "connection_needs_reauth",
            "connection_failing",
            "webhook_disabled"
        ])
    );
    // An order that was already due at the sweep and has not changed since: missed.
    ordervault::ingest::write_orders(
        &store,
        &keys,
        &[shipped("MISSED-1", t0 - chrono::Duration::days(3))],
        (t0 - chrono::Duration::hours(60)).timestamp_millis(),
    )
    .await
    .unwrap();
    let (_, _, h) = get(&service, "/api/v1/health", Some(&admin)).await;
    let (p, attention) = privacy_of(&h);
    assert_eq!(
        (p["overdue"].clone(), p["missed_by_last_sweep"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(
        attention,
        serde_json::json!([
            "connection_needs_reauth",
            "connection_failing",
            "webhook_disabled",
            "privacy_overdue"
        ])
    );

    // Every endpoint is documented.
    let (_, _, doc) = get(&service, "/api/v1/openapi.json", None).await;
    for path in ["/health", "/health/series", "/support/accounts"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} undocumented");
    }
    for schema in [
        "HealthReport",
        "AccountHealth",
        "HealthSeries",
        "AccountName",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

async fn support_account_picker(env: TestEnv) {
    let f = console_fixture(&env).await;
    let closed = ordervault::accounts::create_account(&env.app, "Fietsen Gesloten", None)
        .await
        .unwrap();
    ordervault::privacy::closure::close_account(&env.app, &closed.id)
        .await
        .unwrap();
    let odd = ordervault::accounts::create_account(&env.app, "100% Fiets_Shop", None)
        .await
        .unwrap();
    let service = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None).await;
    let admin = token(&env, Role::Admin, None).await;
    let backoffice = token(&env, Role::Backoffice, Some(&f.healthy)).await;

    let (st, cache, v) = get(&service, "/api/v1/support/accounts?q=FIETS", Some(&support)).await;
    assert_eq!(st, 200);
    assert_eq!(cache, "no-store");
    // Active accounts only, by name, id and name only.
    assert_eq!(
        v,
        serde_json::json!({"accounts": [
            {"id": odd.id, "name": "100% Fiets_Shop"},
            {"id": f.healthy.as_str(), "name": "Fietsen Shop B.V."}
        ]})
    );
    // Wildcards match literally.
    let (_, _, v) = get(
        &service,
        "/api/v1/support/accounts?q=%25%20F",
        Some(&support),
    )
    .await;
    assert_eq!(v["accounts"].as_array().unwrap().len(), 1);
    let (_, _, v) = get(&service, "/api/v1/support/accounts?q=n_s", Some(&support)).await;
    assert_eq!(
        v["accounts"].as_array().unwrap().len(),
        0,
        "`_` is no wildcard"
    );
    // The start of an id finds the account.
    let prefix = &f.broken.as_str()[..6];
    let (_, _, v) = get(
        &service,
        &format!("/api/v1/support/accounts?q={prefix}"),
        Some(&support),
    )
    .await;
    assert!(v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == f.broken.as_str()));
    // Too short, too long, or missing: 400.
    for q in ["?q=f", "?q=%20%20", "", &format!("?q={}", "x".repeat(101))] {
        let path = format!("/api/v1/support/accounts{q}");
        assert_eq!(get(&service, &path, Some(&support)).await.0, 400, "{q}");
    }
    // Support tokens only.
    let path = "/api/v1/support/accounts?q=fiets";
    assert_eq!(get(&service, path, None).await.0, 401);
    assert_eq!(get(&service, path, Some(&admin)).await.0, 403);
    assert_eq!(get(&service, path, Some(&backoffice)).await.0, 403);
    // At most 10 matches.
    for i in 0..12 {
        ordervault::accounts::create_account(&env.app, &format!("Zaak {i}"), None)
            .await
            .unwrap();
    }
    let (_, _, v) = get(&service, "/api/v1/support/accounts?q=zaak", Some(&support)).await;
    assert_eq!(v["accounts"].as_array().unwrap().len(), 10);
    // The picker is no lookup: nothing audited.
    let audit = env
        .app
        .store
        .catalog()
        .support_audit(f.healthy.as_str(), 10)
        .await
        .unwrap();
    assert!(audit.is_empty());
}

both_backends!(health_report_and_series, support_account_picker);
