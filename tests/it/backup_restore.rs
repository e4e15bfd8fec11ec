//! `backup create` / `backup restore` (issue 16), on both backends: a backup older than
//! the erasure window, restored with today's keyring, gives back every live order with
//! its personal data and none of what was pseudonymized, subject-erased or closed since;
//! no epoch key is ever written into a backup.

use crate::common;

use crate::common::{order, put_orders, t0, TestEnv};
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::connectors::Order;
use ordervault::ids::AccountId;
use ordervault::orders::open_order;

async fn new_account(app: &App, name: &str) -> AccountId {
    create_account(app, name, Some(30))
        .await
        .unwrap()
        .id
        .clone()
}

fn due_order(number: &str) -> Order {
    let mut o = order(number, 0);
    o.placed_at = t0() - Duration::days(30);
    o.updated_at = t0() - Duration::days(29);
    o.fulfilled_at = Some(t0() - Duration::days(29));
    o.status = ordervault::connectors::OrderStatus::Shipped;
    o
}

fn has_ct(r: &ordervault::store::OrderRow) -> bool {
    r.shipping_ct.is_some()
        || r.billing_ct.is_some()
        || r.email_ct.is_some()
        || r.phone_ct.is_some()
        || r.notes_ct.is_some()
}

fn all_names(dir: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_names(&p, out);
        }
        out.push(p.file_name().unwrap().to_string_lossy().into_owned());
    }
}

async fn an_old_backup_restores_live_orders_and_no_erased_data(env: TestEnv) {
    if env.backend == common::Backend::Postgres
        && std::process::Command::new("pg_dump")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("pg_dump not on PATH: PostgreSQL backups use the operator's tools");
        return;
    }
    let app = &env.app;
    let a = new_account(app, "Backed Up Shop").await;
    let b = new_account(app, "Closed Later").await;
    let live: Vec<Order> = (1..=3).map(|i| order(&format!("L-{i}"), 0)).collect();
    let due: Vec<Order> = (1..=2).map(|i| due_order(&format!("D-{i}"))).collect();
    let mut subject = order("S-1", 0);
    subject.customer.email = Some("erase.me@example.com".to_string().into());
    let mut all = live.clone();
    all.extend(due.iter().cloned());
    all.push(subject);
    put_orders(app, &a, &all).await;
    put_orders(app, &b, &[order("B-1", 0)]).await;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup");
    let manifest = ordervault::backup::create(app, &out).await.unwrap();
    assert!(!manifest.epoch_keys_included);
    assert_eq!(manifest.accounts.len(), 2);
    let mut names = Vec::new();
    all_names(&out, &mut names);
    assert!(
        names.iter().all(|n| !n.starts_with("epoch-")),
        "no epoch key in a backup: {names:?}"
    );
    assert!(names.contains(&"manifest.json".to_string()));

    // Two days and a window later: due orders pseudonymized, the subject erased, B closed.
    env.clock.advance(Duration::days(2));
    ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    ordervault::privacy::erase_subject(app, &a, "erase.me@example.com")
        .await
        .unwrap();
    ordervault::privacy::closure::close_account(app, &b)
        .await
        .unwrap();
    let w = app.keyring.data.window_ms();
    for _ in 0..2 {
        env.clock.advance(Duration::milliseconds(w / 2));
        app.keyring.data.rotate(None).await.unwrap();
    }

    let report = ordervault::backup::restore(app, &out).await.unwrap();
    let ra = report.accounts.iter().find(|r| r.account_id == a).unwrap();
    assert!(ra.restored);
    assert_eq!(ra.orders, 6);
    assert_eq!(
        ra.erased_since_backup, 3,
        "two due orders and the subject's"
    );
    let rb = report.accounts.iter().find(|r| r.account_id == b).unwrap();
    assert!(
        !rb.restored && rb.skipped.is_some(),
        "a closed account stays closed"
    );
    assert!(!app.store.account_store_exists(&b).await.unwrap());

    let keys = app.keyring.keys(&a).await.unwrap();
    let store = app.store.account(&a).await.unwrap();
    for o in &live {
        let row = store
            .get("bol", o.order_number.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(open_order(&keys, &row).await.unwrap().order, *o);
    }
    for n in ["D-1", "D-2", "S-1"] {
        let row = store.get("bol", n).await.unwrap().unwrap();
        assert!(!has_ct(&row), "{n}: erased data came back");
        assert!(row.pseudonymized_at.is_some());
    }
}

both_backends!(an_old_backup_restores_live_orders_and_no_erased_data);
