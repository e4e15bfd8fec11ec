//! Support lookups over HTTP, on both backends: role separation, masked view with no
//! personal value in any response (found, pseudonymized, 404, 400, 429), exact match
//! only, one 404 for unknown account / closed account / unknown order, per-token rate
//! limit on the injected clock, audit before answer (fail closed), and the backoffice's
//! read of its own account's audit.

use crate::common::api::{Resp, TestApp};
use crate::common::corpus::{corpus, leaks};
use crate::common::{exec, TestEnv};
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::connectors::{MarketplaceKind, Order};
use ordervault::ids::{AccountId, Role};
use ordervault::ingest::write_orders;
use ordervault::store::Pool;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

async fn token(env: &TestEnv, role: Role, account: Option<&AccountId>, label: &str) -> String {
    let (t, _) =
        ordervault::tokens::create_token(&env.app, role, account.map(|a| a.as_str()), Some(label))
            .await
            .unwrap();
    t.expose_secret().to_string()
}

async fn account_with(env: &TestEnv, name: &str, orders: &[Order]) -> AccountId {
    let id: AccountId = create_account(&env.app, name, None)
        .await
        .unwrap()
        .id
        .clone();
    let store = env.app.store.account(&id).await.unwrap();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    write_orders(&store, &keys, orders, env.app.now_ms())
        .await
        .unwrap();
    id
}

/// Runs a statement on the catalog (tests only); `{p}` is the catalog's table prefix.
async fn catalog_exec(env: &TestEnv, sql: &str) {
    let catalog = env.app.store.catalog();
    let sql = sql.replace("{p}", catalog.prefix());
    match catalog.pool() {
        Pool::Sqlite(p) => sqlx::query(&sql).execute(p).await.map(|_| ()).unwrap(),
        Pool::Postgres(p) => sqlx::query(&sql).execute(p).await.map(|_| ()).unwrap(),
    }
}

fn assert_problem(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.raw));
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.json()["status"], status);
}

async fn roles_are_separated(env: TestEnv) {
    let (orders, _) = corpus(2);
    let acct = account_with(&env, "Shop", &orders).await;
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let backoffice = token(&env, Role::Backoffice, Some(&acct), "bo").await;
    let admin = token(&env, Role::Admin, None, "admin").await;
    let a = acct.as_str();
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v1/accounts".into(), None),
        (
            "POST",
            "/api/v1/accounts".into(),
            Some(json!({"name": "x"})),
        ),
        ("POST", format!("/api/v1/accounts/{a}/close"), None),
        ("GET", "/api/v1/connections".into(), None),
        ("GET", "/api/v1/orders/new".into(), None),
        ("GET", "/api/v1/orders/LEAK-0000".into(), None),
        (
            "POST",
            "/api/v1/orders/LEAK-0000/ack".into(),
            Some(json!({"reference": "r"})),
        ),
        ("GET", "/api/v1/webhooks".into(), None),
        (
            "POST",
            "/api/v1/webhooks".into(),
            Some(json!({"url": "https://example.org/h"})),
        ),
        ("DELETE", "/api/v1/webhooks/x".into(), None),
        ("POST", "/api/v1/webhooks/x/enable".into(), None),
        ("GET", "/api/v1/webhooks/x/dead-letters".into(), None),
        (
            "POST",
            "/api/v1/webhooks/x/replay".into(),
            Some(json!({"order_number": "LEAK-0000"})),
        ),
        ("GET", "/api/v1/audit".into(), None),
    ];
    for (method, path, body) in &endpoints {
        let r = api.call(method, path, Some(&support), body.clone()).await;
        assert_problem(&r, 403);
    }
    let lookup = format!("/api/v1/support/accounts/{a}/orders/LEAK-0000");
    for t in [&backoffice, &admin] {
        let r = api.call("GET", &lookup, Some(t), None).await;
        assert_problem(&r, 403);
        assert!(r.json().get("orders").is_none());
    }
    let r = api.call("GET", &lookup, None, None).await;
    assert_problem(&r, 401);
    let r = api
        .call("GET", &lookup, Some("ov_not-a-real-token"), None)
        .await;
    assert_problem(&r, 401);
    // Documented in the OpenAPI description.
    let doc = api
        .call("GET", "/api/v1/openapi.json", None, None)
        .await
        .json();
    assert!(doc["paths"]["/support/accounts/{account}/orders/{order_number}"]["get"].is_object());
    assert!(doc["paths"]["/audit"]["get"].is_object());
    assert!(doc["components"]["schemas"]["MaskedOrder"].is_object());
    assert!(doc["components"]["schemas"]["Order"].is_object());
    // The account still stands: the support token's close attempt did nothing.
    let r = api.support_lookup(&support, a, "LEAK-0000").await;
    assert_eq!(r.status, 200);
}

async fn masked_view_leaks_nothing(env: TestEnv) {
    let (orders, values) = corpus(12);
    let acct = account_with(&env, "Shop", &orders).await;
    let store = env.app.store.account(&acct).await.unwrap();
    // One order pseudonymized the way the pseudonymizer leaves it: no personal columns.
    exec(
        &store,
        &format!(
            "UPDATE {{p}}orders SET pseudonymized_at = {}, shipping_ct = NULL, billing_ct = NULL, \
             email_ct = NULL, phone_ct = NULL, notes_ct = NULL, email_index = NULL \
             WHERE order_number = 'LEAK-0005'",
            env.app.now_ms()
        ),
    )
    .await;
    let mut settings = env.settings.clone();
    settings.support.rate_limit_per_minute = 20;
    let app = env.restart(settings).await.unwrap();
    let api = TestApp::spawn_app(&app, crate::common::api::Loops::default()).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let a = acct.as_str();
    let mut seen = Vec::new();

    let r = api.support_lookup(&support, a, "LEAK-0003").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), "no-store");
    let v = r.json();
    let o = &v["orders"][0];
    assert_eq!(v["orders"].as_array().unwrap().len(), 1);
    assert_eq!(o["order_number"], "LEAK-0003");
    assert_eq!(o["marketplace"], "bol");
    assert_eq!(o["status"], "open");
    assert_eq!(o["total_minor"], 2499);
    assert_eq!(o["lines"][0]["title"], "Teapot");
    assert_eq!(o["pseudonymized"], false);
    assert_eq!(
        o["customer"],
        json!({
            "pseudonymized": false,
            "initials": "W. V.",
            "country": "NL",
            "postcode_prefix": "10",
            "email": "G***@***.nl",
            "phone": "••••••03"
        })
    );
    assert_eq!(o["forwarding"]["webhooks"], json!([]));
    assert_eq!(o["forwarding"]["pull"]["acked"], false);
    // Business fields only: whether it goes to a pickup point, never which one.
    assert_eq!(o["pickup_point"], true);
    assert_eq!(o["cancellation_requested"], false);
    for hidden in [
        "terms",
        "customer_reference",
        "payment_status",
        "pickup_point_name",
    ] {
        assert!(o.get(hidden).is_none(), "{hidden} in the masked view");
    }
    seen.push(r);

    let r = api.support_lookup(&support, a, "LEAK-0005").await;
    assert_eq!(r.status, 200);
    let o = &r.json()["orders"][0];
    assert_eq!(o["pseudonymized"], true);
    assert_eq!(o["customer"], json!({"pseudonymized": true}));
    seen.push(r);

    for n in ["LEAK-9999", "LEAK-000"] {
        let r = api.support_lookup(&support, a, n).await;
        assert_problem(&r, 404);
        seen.push(r);
    }
    for n in [
        "LEAK%25",
        "Wilhelmina3x%20Vandersloot3q",
        "Geheime.Klant3@Voorbeeld-Mail.nl",
    ] {
        let r = api.support_lookup(&support, a, n).await;
        assert_problem(&r, 400);
        assert_eq!(r.header("cache-control"), "no-store");
        seen.push(r);
    }
    // Every order once, then into the rate limit.
    let mut limited = false;
    for i in 0..30 {
        let r = api
            .support_lookup(&support, a, &format!("LEAK-{:04}", i % 12))
            .await;
        if r.status == 429 {
            assert_problem(&r, 429);
            limited = true;
            seen.push(r);
            break;
        }
        assert_eq!(r.status, 200);
        seen.push(r);
    }
    assert!(limited, "the limit of 20 per minute was reached");
    for r in &seen {
        let found = leaks(&r.everything(), &values);
        assert!(
            found.is_empty(),
            "personal values in a support response: {found:?}"
        );
        assert!(!r.header("cache-control").is_empty());
    }
}

async fn exact_match_only(env: TestEnv) {
    let (mut orders, _) = corpus(3);
    let mut twin = orders[1].clone();
    twin.marketplace = MarketplaceKind::Amazon;
    orders.push(twin);
    let acct = account_with(&env, "Shop", &orders).await;
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let a = acct.as_str();
    let long = "A".repeat(65);
    let bad = [
        "LEAK-000%25",
        "%25",
        "LEAK-000*",
        "*",
        "LEAK_0001",
        "LEAK-000_",
        "LEAK-%20-0001",
        "LEAK-0001%09x",
        "%20",
        long.as_str(),
        "LEAK-%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%91", // full-width digits
        "L%C3%89AK-0001",
        "LEAK-0001%00",
        "LEAK-0001'%20OR%20'1'='1",
        "LEAK-0001%2F..",
        "%FF%FE",
    ];
    for n in bad {
        let r = api.support_lookup(&support, a, n).await;
        assert_problem(&r, 400);
        assert!(r.json().get("orders").is_none(), "{n}");
    }
    for n in [
        "LEAK-000",
        "LEAK-00011",
        "leak-0001",
        "LEAK",
        "EAK-0001",
        "0001",
    ] {
        let r = api.support_lookup(&support, a, n).await;
        assert_problem(&r, 404);
    }
    // Surrounding white space is trimmed (copy-paste); the number itself must be exact.
    let r = api.support_lookup(&support, a, "%20LEAK-0000%20").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["orders"][0]["order_number"], "LEAK-0000");
    // Two marketplaces share LEAK-0001: both, masked; ?marketplace= narrows to one.
    let r = api.support_lookup(&support, a, "LEAK-0001").await;
    let v = r.json();
    let markets: Vec<&str> = v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["marketplace"].as_str().unwrap())
        .collect();
    assert_eq!(markets, ["amazon", "bol"]);
    let path = format!("/api/v1/support/accounts/{a}/orders/LEAK-0001?marketplace=amazon");
    let r = api.call("GET", &path, Some(&support), None).await;
    assert_eq!(r.json()["orders"].as_array().unwrap().len(), 1);
    assert_eq!(r.json()["orders"][0]["marketplace"], "amazon");
    let path = format!("/api/v1/support/accounts/{a}/orders/LEAK-0000?marketplace=ebay");
    assert_problem(&api.call("GET", &path, Some(&support), None).await, 404);
    let path = format!("/api/v1/support/accounts/{a}/orders/LEAK-0000?marketplace=%25");
    assert_problem(&api.call("GET", &path, Some(&support), None).await, 400);
    // Malformed account ids are a 400 (the format is public; existence is not).
    for bad_account in ["%25", "ABCDEF0123456789", "0123", "0123456789abcdef0"] {
        assert_problem(
            &api.support_lookup(&support, bad_account, "LEAK-0000").await,
            400,
        );
    }
}

async fn not_found_is_uniform(env: TestEnv) {
    let (orders, _) = corpus(2);
    let acct = account_with(&env, "Shop", &orders).await;
    let closed = account_with(&env, "Closed shop", &orders).await;
    ordervault::privacy::closure::close_account(&env.app, &closed)
        .await
        .unwrap();
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let unknown = AccountId::generate();
    let cases = [
        api.support_lookup(&support, acct.as_str(), "LEAK-0404")
            .await,
        api.support_lookup(&support, unknown.as_str(), "LEAK-0000")
            .await,
        api.support_lookup(&support, closed.as_str(), "LEAK-0000")
            .await,
        api.support_lookup(&support, acct.as_str(), "LEAK-0000")
            .await,
    ];
    let shape = |r: &Resp| {
        let mut h: Vec<(String, String)> = r
            .headers
            .iter()
            .filter(|(k, _)| k.as_str() != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        h.sort();
        (r.status, r.raw.clone(), h)
    };
    assert_eq!(cases[0].status, 404);
    assert_eq!(
        shape(&cases[0]),
        shape(&cases[1]),
        "unknown account vs unknown order"
    );
    assert_eq!(
        shape(&cases[0]),
        shape(&cases[2]),
        "closed account vs unknown order"
    );
    assert_eq!(
        cases[3].status, 200,
        "the same token still finds real orders"
    );
}

async fn rate_limited_per_token(env: TestEnv) {
    let (orders, values) = corpus(2);
    let acct = account_with(&env, "Shop", &orders).await;
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let other = token(&env, Role::Support, None, "helpdesk 2").await;
    let a = acct.as_str();
    assert_eq!(
        env.settings.support.rate_limit_per_minute, 60,
        "the default"
    );
    for i in 0..60 {
        let n = if i % 2 == 0 { "LEAK-0000" } else { "LEAK-0404" };
        let r = api.support_lookup(&support, a, n).await;
        assert!(
            r.status == 200 || r.status == 404,
            "request {i}: {}",
            r.status
        );
    }
    let r = api.support_lookup(&support, a, "LEAK-0000").await;
    assert_problem(&r, 429);
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert!(r.json().get("orders").is_none());
    assert!(leaks(&r.everything(), &values).is_empty());
    // Invalid input counts too: no free probing.
    assert_problem(&api.support_lookup(&support, a, "%25").await, 429);
    // Buckets are per token.
    assert_eq!(api.support_lookup(&other, a, "LEAK-0000").await.status, 200);
    // After Retry-After seconds on the injected clock, one more; a minute later, a burst.
    env.clock.advance(Duration::seconds(retry as i64));
    assert_eq!(
        api.support_lookup(&support, a, "LEAK-0000").await.status,
        200
    );
    env.clock.advance(Duration::seconds(60));
    for _ in 0..60 {
        assert_eq!(
            api.support_lookup(&support, a, "LEAK-0001").await.status,
            200
        );
    }
    assert_problem(&api.support_lookup(&support, a, "LEAK-0001").await, 429);
}

async fn audit_fails_closed(env: TestEnv) {
    let (orders, values) = corpus(2);
    let acct = account_with(&env, "Shop", &orders).await;
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let a = acct.as_str();
    assert_eq!(
        api.support_lookup(&support, a, "LEAK-0001").await.status,
        200
    );
    catalog_exec(
        &env,
        "ALTER TABLE {p}support_audit RENAME TO support_audit_off",
    )
    .await;
    for n in ["LEAK-0001", "LEAK-0404", "%25"] {
        let r = api.support_lookup(&support, a, n).await;
        assert_problem(&r, 500);
        // Fixed wording, and the id the cause was logged under (issue 17).
        assert_eq!(
            r.json()["detail"],
            ordervault::api::problem::INTERNAL_DETAIL
        );
        assert!(r.json()["correlation_id"]
            .as_str()
            .is_some_and(|c| c.len() == 16));
        let body = String::from_utf8_lossy(&r.raw).to_string();
        assert!(
            !body.contains("Teapot") && !body.contains("orders"),
            "{body}"
        );
        assert!(leaks(&r.everything(), &values).is_empty());
    }
    catalog_exec(
        &env,
        "ALTER TABLE {p}support_audit_off RENAME TO support_audit",
    )
    .await;
    assert_eq!(
        api.support_lookup(&support, a, "LEAK-0001").await.status,
        200
    );
}

async fn backoffice_reads_own_audit(env: TestEnv) {
    let (orders, _) = corpus(3);
    let shop_a = account_with(&env, "Shop A", &orders).await;
    let shop_b = account_with(&env, "Shop B", &orders).await;
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk Anna").await;
    let bo_a = token(&env, Role::Backoffice, Some(&shop_a), "bo a").await;
    let bo_b = token(&env, Role::Backoffice, Some(&shop_b), "bo b").await;
    let t0 = env.app.now_ms();
    for (acct, n) in [
        (&shop_a, "LEAK-0000"),
        (&shop_b, "LEAK-0001"),
        (&shop_a, "LEAK-0404"),
        (&shop_a, "Wilhelmina0x%20x"),
        (&shop_a, "LEAK-0002"),
    ] {
        env.clock.advance(Duration::seconds(1));
        api.support_lookup(&support, acct.as_str(), n).await;
    }
    let r = api.audit(&bo_a).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), "no-store");
    let v = r.json();
    let entries = v["entries"].as_array().unwrap();
    let summary: Vec<(String, String, i64)> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["account_id"], shop_a.as_str());
            assert_eq!(e["token_label"], "helpdesk Anna");
            assert_eq!(e["token_id"].as_str().unwrap().len(), 16);
            (
                e["result"].as_str().unwrap().to_string(),
                e["order_number"].as_str().unwrap_or("-").to_string(),
                e["at"].as_i64().unwrap() - t0,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("found".into(), "LEAK-0002".into(), 5000),
            // Numbers that matched nothing (or were not numbers) are not kept.
            ("invalid".into(), "-".into(), 4000),
            ("not_found".into(), "-".into(), 3000),
            ("found".into(), "LEAK-0000".into(), 1000),
        ]
    );
    assert!(!String::from_utf8_lossy(&r.raw).contains("Wilhelmina"));
    let r = api
        .call("GET", "/api/v1/audit?limit=1", Some(&bo_a), None)
        .await;
    assert_eq!(r.json()["entries"].as_array().unwrap().len(), 1);
    let r = api.audit(&bo_b).await;
    let v = r.json();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["order_number"], "LEAK-0001");
    assert_eq!(entries[0]["account_id"], shop_b.as_str());
    let r = api
        .call("GET", "/api/v1/audit?limit=x", Some(&bo_b), None)
        .await;
    assert_problem(&r, 400);
}

async fn forwarding_state_is_shown(env: TestEnv) {
    let (orders, _) = corpus(2);
    let acct = account_with(&env, "Shop", &orders).await;
    let api = TestApp::spawn(&env).await;
    let support = token(&env, Role::Support, None, "helpdesk").await;
    let bo = token(&env, Role::Backoffice, Some(&acct), "bo").await;
    let a = acct.as_str();
    // An endpoint added after the orders: their events were never meant for it.
    env.clock.advance(Duration::seconds(1));
    let (ep, _) = ordervault::forward::add_webhook(
        &env.app,
        ordervault::forward::NewWebhook {
            account: acct.clone(),
            url: "https://backoffice.example.org/hook".into(),
            secret: None,
        },
    )
    .await
    .unwrap();
    let r = api.support_lookup(&support, a, "LEAK-0000").await;
    let w = &r.json()["orders"][0]["forwarding"]["webhooks"][0];
    assert_eq!(w["endpoint_id"], ep.id.as_str());
    assert_eq!(w["state"], "not_sent");
    assert!(!String::from_utf8_lossy(&r.raw).contains("backoffice.example.org"));
    // A newer version of the order: pending, then delivered.
    let mut newer = orders[0].clone();
    newer.updated_at += Duration::minutes(5);
    let store = env.app.store.account(&acct).await.unwrap();
    let keys = env.app.keyring.keys(&acct).await.unwrap();
    write_orders(&store, &keys, &[newer], env.app.now_ms())
        .await
        .unwrap();
    let r = api.support_lookup(&support, a, "LEAK-0000").await;
    let w = &r.json()["orders"][0]["forwarding"]["webhooks"][0];
    assert_eq!(
        (w["state"].as_str(), w["version"].as_i64()),
        (Some("pending"), Some(2))
    );
    let ev = store
        .pending_events(ep.id.as_str(), ep.created_at, 10)
        .await
        .unwrap();
    store
        .record_attempt(
            ep.id.as_str(),
            ev[0].id,
            &ordervault::store::outbox::AttemptResult::Delivered,
            env.app.now_ms(),
        )
        .await
        .unwrap();
    let r = api.support_lookup(&support, a, "LEAK-0000").await;
    let w = &r.json()["orders"][0]["forwarding"]["webhooks"][0];
    assert_eq!(
        (w["state"].as_str(), w["attempts"].as_i64()),
        (Some("delivered"), Some(1))
    );
    // Pull + ack: acknowledged version, without the backoffice's reference.
    let ack = api
        .call(
            "POST",
            "/api/v1/orders/LEAK-0000/ack",
            Some(&bo),
            Some(json!({"reference": "BO-REF-SECRET"})),
        )
        .await;
    assert_eq!(ack.status, 200);
    let r = api.support_lookup(&support, a, "LEAK-0000").await;
    let pull = &r.json()["orders"][0]["forwarding"]["pull"];
    assert_eq!(
        *pull,
        json!({"acked": true, "acked_version": 2, "acked_at": pull["acked_at"], "current": true})
    );
    assert!(!String::from_utf8_lossy(&r.raw).contains("BO-REF-SECRET"));
}

both_backends!(
    roles_are_separated,
    masked_view_leaks_nothing,
    exact_match_only,
    not_found_is_uniform,
    rate_limited_per_token,
    audit_fails_closed,
    backoffice_reads_own_audit,
    forwarding_state_is_shown,
);
