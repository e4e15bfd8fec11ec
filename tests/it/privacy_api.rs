//! Privacy over the HTTP API, on both backends: subject export and erasure by email for
//! the account's backoffice (case and whitespace variants), the privacy summary, and
//! account closure by an admin returning the same receipt twice.

use crate::common::api::{token, TestApp};
use crate::common::{order, TestEnv};
use ordervault::accounts::create_account;
use ordervault::ids::{AccountId, Role};
use ordervault::ingest::write_orders;
use serde_json::{json, Value};

async fn call(
    api: &TestApp,
    method: &str,
    path: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let r = api.call(method, &path, Some(token), body).await;
    (r.status, r.json())
}

async fn subject_rights_and_summary_over_the_api(env: TestEnv) {
    let api = TestApp::spawn(&env).await;
    let base = "/api/v1";
    let account: AccountId = create_account(&env.app, "Shop", None)
        .await
        .unwrap()
        .id
        .clone();
    let other: AccountId = create_account(&env.app, "Other", None)
        .await
        .unwrap()
        .id
        .clone();
    let store = env.app.store.account(&account).await.unwrap();
    let keys = env.app.keyring.keys(&account).await.unwrap();
    let mut a = order("S1", 0);
    let mut b = order("S2", 0);
    a.customer.email = Some("Jan.Jansen@Example.NL".into());
    b.customer.email = Some("jan.jansen@example.nl".into());
    write_orders(&store, &keys, &[a, b, order("S3", 0)], env.app.now_ms())
        .await
        .unwrap();
    let bo = token(&env, Role::Backoffice, Some(&account)).await;
    let bo_other = token(&env, Role::Backoffice, Some(&other)).await;
    let admin = token(&env, Role::Admin, None).await;
    let support = token(&env, Role::Support, None).await;

    let (st, export) = call(
        &api,
        "POST",
        format!("{base}/subject/export"),
        &bo,
        Some(json!({"email": "  JAN.jansen@example.nl "})),
    )
    .await;
    assert_eq!(st, 200, "{export}");
    assert_eq!(export["orders"].as_array().unwrap().len(), 2);
    // Another account's backoffice finds nothing of this customer.
    let (st, none) = call(
        &api,
        "POST",
        format!("{base}/subject/export"),
        &bo_other,
        Some(json!({"email": "jan.jansen@example.nl"})),
    )
    .await;
    assert_eq!(st, 200);
    assert!(none["orders"].as_array().unwrap().is_empty());
    for t in [&admin, &support] {
        let (st, _) = call(
            &api,
            "POST",
            format!("{base}/subject/erase"),
            t,
            Some(json!({"email": "jan.jansen@example.nl"})),
        )
        .await;
        assert_eq!(st, 403);
    }

    let (st, receipt) = call(
        &api,
        "POST",
        format!("{base}/subject/erase"),
        &bo,
        Some(json!({"email": "Jan.Jansen@example.nl"})),
    )
    .await;
    assert_eq!(st, 200, "{receipt}");
    assert_eq!(receipt["orders_erased"], 2);
    assert!(
        !receipt.to_string().to_lowercase().contains("jansen"),
        "receipt holds no email"
    );
    let (_, after) = call(
        &api,
        "POST",
        format!("{base}/subject/export"),
        &bo,
        Some(json!({"email": "jan.jansen@example.nl"})),
    )
    .await;
    assert!(
        after["orders"].as_array().unwrap().is_empty(),
        "nothing left to find"
    );

    let (st, summary) = call(
        &api,
        "GET",
        format!("{base}/accounts/{}/privacy", account.as_str()),
        &admin,
        None,
    )
    .await;
    assert_eq!(st, 200, "{summary}");
    assert_eq!(summary["orders_total"], 3);
    assert_eq!(summary["overdue"], 0);
    let (st, _) = call(
        &api,
        "GET",
        format!("{base}/accounts/{}/privacy", account.as_str()),
        &bo_other,
        None,
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = call(
        &api,
        "GET",
        format!("{base}/accounts/{}/privacy", account.as_str()),
        &bo,
        None,
    )
    .await;
    assert_eq!(st, 200);
}

async fn closure_over_the_api_returns_the_same_receipt_twice(env: TestEnv) {
    let api = TestApp::spawn(&env).await;
    let base = "/api/v1";
    let account: AccountId = create_account(&env.app, "Shop", None)
        .await
        .unwrap()
        .id
        .clone();
    let store = env.app.store.account(&account).await.unwrap();
    let keys = env.app.keyring.keys(&account).await.unwrap();
    write_orders(
        &store,
        &keys,
        &[order("C1", 0), order("C2", 0)],
        env.app.now_ms(),
    )
    .await
    .unwrap();
    drop(store);
    let admin = token(&env, Role::Admin, None).await;
    let bo = token(&env, Role::Backoffice, Some(&account)).await;
    let url = format!("{base}/accounts/{}/close", account.as_str());
    let (st, _) = call(&api, "POST", url.clone(), &bo, None).await;
    assert_eq!(st, 403);
    let (st, first) = call(&api, "POST", url.clone(), &admin, None).await;
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["orders_deleted"], 2);
    let (st, second) = call(&api, "POST", url, &admin, None).await;
    assert_eq!(st, 200);
    assert_eq!(first, second, "closing twice returns the same receipt");
    // The closed account's backoffice token no longer works.
    let (st, _) = call(&api, "GET", format!("{base}/orders/new"), &bo, None).await;
    assert_eq!(st, 401);
    assert!(!env.app.store.account_store_exists(&account).await.unwrap());
}

both_backends!(
    subject_rights_and_summary_over_the_api,
    closure_over_the_api_returns_the_same_receipt_twice,
);
