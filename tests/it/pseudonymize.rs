//! Pseudonymization, on both backends with an injected clock: deadlines per account
//! (fulfilled, cancelled, never closed after the maximum age); personal data, email
//! index and readable bytes gone, pseudonym kept for repeat customers; re-sweeps are
//! no-ops; later marketplace updates restore nothing; concurrent sweeps count each order
//! once; the privacy summary and the scheduler.

use crate::common::corpus::{corpus, leaks};
use crate::common::{order, put_orders, t0, Backend, TestEnv};
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::connectors::{Customer, Order, OrderStatus};
use ordervault::ids::AccountId;
use ordervault::orders::{open_order, pseudonym_of};
use ordervault::privacy::{privacy_summary, sweep, SweepOutcome};
use ordervault::store::{OrderRow, UpsertOutcome};

async fn account(env: &TestEnv, retention: u32) -> AccountId {
    let a = create_account(&env.app, "Retention Shop", Some(retention))
        .await
        .unwrap();
    a.id.clone()
}

async fn row(app: &App, id: &AccountId, number: &str) -> OrderRow {
    let store = app.store.account(id).await.unwrap();
    store.get("bol", number).await.unwrap().expect("stored")
}

fn fulfilled(number: &str, at: chrono::DateTime<chrono::Utc>) -> Order {
    let mut o = order(number, 0);
    o.status = OrderStatus::Shipped;
    o.updated_at = at;
    o.fulfilled_at = Some(at);
    o
}

fn cancelled(number: &str, at: chrono::DateTime<chrono::Utc>) -> Order {
    let mut o = order(number, 0);
    o.status = OrderStatus::Cancelled;
    o.updated_at = at;
    o.cancelled_at = Some(at);
    o
}

fn has_personal(r: &OrderRow) -> bool {
    [
        &r.shipping_ct,
        &r.billing_ct,
        &r.email_ct,
        &r.phone_ct,
        &r.notes_ct,
        &r.billing_email_ct,
        &r.buyer_ct,
        &r.pickup_ct,
        &r.email_index,
    ]
    .iter()
    .any(|c| c.is_some())
}

/// Asserts the row is pseudonymized: no ciphertext, no index, stamped, and the opened
/// order has no customer.
async fn assert_pseudonymized(app: &App, id: &AccountId, number: &str) -> OrderRow {
    let r = row(app, id, number).await;
    assert!(!has_personal(&r), "{number} still holds personal data");
    assert!(r.pseudonymized_at.is_some(), "{number} not stamped");
    let keys = app.keyring.keys(id).await.unwrap();
    let opened = open_order(&keys, &r).await.unwrap();
    assert_eq!(opened.order.customer, Customer::default());
    assert!(opened.pseudonymized_at.is_some());
    assert!(
        pseudonym_of(&keys, &r.marketplace, &r.order_number, &r.email_ct)
            .await
            .unwrap()
            .is_none(),
        "the account key finds nothing to decrypt"
    );
    r
}

async fn assert_intact(app: &App, id: &AccountId, number: &str) {
    let r = row(app, id, number).await;
    assert!(r.pseudonymized_at.is_none(), "{number} pseudonymized early");
    let keys = app.keyring.keys(id).await.unwrap();
    let opened = open_order(&keys, &r).await.unwrap();
    assert!(
        opened.order.customer.email.is_some(),
        "{number} lost data early"
    );
    assert!(r.email_index.is_some());
}

async fn deadlines_per_account(env: TestEnv) {
    let a = account(&env, 30).await;
    let b = account(&env, 10).await;
    put_orders(
        &env.app,
        &a,
        &[
            fulfilled("F1", t0()),
            cancelled("C1", t0()),
            order("O1", 0), // placed t0 − 1 day, never fulfilled
        ],
    )
    .await;
    put_orders(&env.app, &b, &[fulfilled("B1", t0())]).await;

    // B (10 days) loses its data by 10 d + 1 h; A (30 days) keeps everything.
    env.clock.advance(Duration::days(10) + Duration::hours(1));
    let r = sweep(&env.app, None).await.unwrap();
    assert_eq!(r.pseudonymized, 1);
    assert_pseudonymized(&env.app, &b, "B1").await;
    for n in ["F1", "C1", "O1"] {
        assert_intact(&env.app, &a, n).await;
    }

    // T + 29 days: still kept.
    env.clock.set(t0() + Duration::days(29));
    assert_eq!(sweep(&env.app, Some(&a)).await.unwrap().pseudonymized, 0);
    for n in ["F1", "C1", "O1"] {
        assert_intact(&env.app, &a, n).await;
    }

    // T + 30 days + 1 hour: fulfilled and cancelled orders are gone, the open one stays.
    env.clock
        .set(t0() + Duration::days(30) + Duration::hours(1));
    let r = sweep(&env.app, Some(&a)).await.unwrap();
    assert_eq!(r.pseudonymized, 2);
    assert_eq!(r.accounts[0].outcome, SweepOutcome::Done);
    assert_pseudonymized(&env.app, &a, "F1").await;
    assert_pseudonymized(&env.app, &a, "C1").await;
    assert_intact(&env.app, &a, "O1").await;

    // Never fulfilled: kept until the maximum age (180 days after placement).
    env.clock
        .set(t0() - Duration::days(1) + Duration::days(179) + Duration::hours(23));
    assert_eq!(sweep(&env.app, None).await.unwrap().pseudonymized, 0);
    assert_intact(&env.app, &a, "O1").await;
    env.clock
        .set(t0() - Duration::days(1) + Duration::days(180) + Duration::hours(1));
    assert_eq!(sweep(&env.app, None).await.unwrap().pseudonymized, 1);
    assert_pseudonymized(&env.app, &a, "O1").await;
}

async fn pseudonym_counts_repeat_customers_and_resweep_is_noop(env: TestEnv) {
    let a = account(&env, 30).await;
    let mut first = fulfilled("R1", t0());
    first.customer.email = Some("Repeat.Buyer@Example.com".into());
    let mut second = fulfilled("R2", t0());
    second.customer.email = Some("  repeat.buyer@EXAMPLE.COM ".into());
    let other = fulfilled("R3", t0());
    let mut anonymous = fulfilled("R4", t0());
    anonymous.customer.email = None;
    put_orders(&env.app, &a, &[first, second, other, anonymous]).await;
    let index_before = row(&env.app, &a, "R1").await.email_index.unwrap();

    env.clock.advance(Duration::days(31));
    let r = sweep(&env.app, Some(&a)).await.unwrap();
    assert_eq!(r.pseudonymized, 4);
    assert_eq!(r.accounts[0].with_pseudonym, 3);
    assert_eq!(r.accounts[0].undecryptable, 0);

    let rows: Vec<OrderRow> = futures_rows(&env.app, &a, &["R1", "R2", "R3", "R4"]).await;
    for r in &rows {
        assert_pseudonymized(&env.app, &a, &r.order_number).await;
    }
    let p: Vec<_> = rows.iter().map(|r| r.pseudonym.clone()).collect();
    assert!(p[0].is_some());
    assert_eq!(p[0], p[1], "same customer, same pseudonym");
    assert_ne!(p[0], p[2], "other customer, other pseudonym");
    assert_eq!(p[3], None, "no email, no pseudonym");
    assert_ne!(
        p[0].as_deref(),
        Some(index_before.as_slice()),
        "not the email index"
    );
    let keys = env.app.keyring.keys(&a).await.unwrap();
    assert_eq!(
        p[0].as_deref(),
        Some(
            keys.current()
                .pseudonym
                .index("repeat.buyer@example.com")
                .0
                .as_slice()
        )
    );

    // A second sweep finds nothing and changes nothing.
    let versions: Vec<_> = rows
        .iter()
        .map(|r| (r.version, r.pseudonymized_at))
        .collect();
    env.clock.advance(Duration::hours(1));
    let again = sweep(&env.app, Some(&a)).await.unwrap();
    assert_eq!(again.pseudonymized, 0);
    assert_eq!(again.accounts[0].batches, 0);
    let after = futures_rows(&env.app, &a, &["R1", "R2", "R3", "R4"]).await;
    let versions_after: Vec<_> = after
        .iter()
        .map(|r| (r.version, r.pseudonymized_at))
        .collect();
    assert_eq!(versions, versions_after);
}

async fn futures_rows(app: &App, id: &AccountId, numbers: &[&str]) -> Vec<OrderRow> {
    let mut out = Vec::new();
    for n in numbers {
        out.push(row(app, id, n).await);
    }
    out
}

async fn later_update_does_not_restore_personal_data(env: TestEnv) {
    let a = account(&env, 30).await;
    put_orders(&env.app, &a, &[fulfilled("U1", t0())]).await;
    env.clock.advance(Duration::days(31));
    sweep(&env.app, Some(&a)).await.unwrap();
    let before = assert_pseudonymized(&env.app, &a, "U1").await;

    // The marketplace sends the order again, newer, with full personal data.
    let mut later = fulfilled("U1", t0() + Duration::days(2));
    later.status = OrderStatus::Shipped;
    later.total_minor = 1999;
    assert_eq!(
        put_orders(&env.app, &a, &[later]).await,
        vec![UpsertOutcome::Updated]
    );
    let after = assert_pseudonymized(&env.app, &a, "U1").await;
    assert_eq!(after.total_minor, 1999, "business data still updates");
    assert_eq!(after.pseudonym, before.pseudonym, "pseudonym kept");
}

fn all_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every byte the database holds: SQLite files (catalog, account db, WAL), or a
/// `pg_dump` of the PostgreSQL database.
fn database_bytes(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    match env.backend {
        Backend::Sqlite => {
            let mut files = Vec::new();
            all_files(&env.data_dir(), &mut files);
            files
                .into_iter()
                .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
                .collect()
        }
        Backend::Postgres => {
            let url = &env.pg.as_ref().unwrap().url;
            let out = std::process::Command::new("pg_dump")
                .arg("--dbname")
                .arg(url)
                .output()
                .expect("pg_dump runs");
            assert!(out.status.success(), "pg_dump failed");
            vec![("pg_dump".into(), out.stdout)]
        }
    }
}

/// PostgreSQL: the raw heap and index files of an account's orders table, after a
/// CHECKPOINT (so they hold what the server holds). `None` when the server's data
/// directory is not readable from here (a remote server).
async fn pg_table_files(env: &TestEnv, id: &AccountId) -> Option<Vec<(String, Vec<u8>)>> {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&env.pg.as_ref()?.url)
        .await
        .ok()?;
    sqlx::query("CHECKPOINT").execute(&mut c).await.ok()?;
    let dir: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&mut c)
        .await
        .ok()?;
    let table = format!("\"{}\".orders", id.schema_name());
    let paths: Vec<String> = sqlx::query_scalar(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = $1::regclass \
         OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = $1::regclass)",
    )
    .bind(&table)
    .fetch_all(&mut c)
    .await
    .ok()?;
    let mut out = Vec::new();
    for p in paths {
        let path = std::path::Path::new(&dir).join(&p);
        match std::fs::read(&path) {
            Ok(bytes) => out.push((p, bytes)),
            Err(e) => {
                eprintln!("not scanning PostgreSQL files ({}: {e})", path.display());
                return None;
            }
        }
    }
    Some(out)
}

/// Stored ciphertexts as they would appear in the scanned bytes (raw; hex in a dump).
fn ciphertext_forms(rows: &[OrderRow]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for r in rows {
        for ct in [
            &r.shipping_ct,
            &r.email_ct,
            &r.phone_ct,
            &r.notes_ct,
            &r.billing_email_ct,
            &r.buyer_ct,
            &r.pickup_ct,
            &r.email_index,
        ]
        .into_iter()
        .flatten()
        {
            out.push(ct.clone());
            out.push(hex::encode(ct).into_bytes());
        }
    }
    out
}

async fn no_erased_value_left_in_database_files(env: TestEnv) {
    let (mut orders, values) = corpus(150);
    for o in &mut orders {
        o.status = OrderStatus::Shipped;
        o.updated_at = t0();
        o.fulfilled_at = Some(t0());
    }
    let a = account(&env, 30).await;
    // Another account's orders stay: the scan must see them to be meaningful.
    let b = account(&env, 3650).await;
    put_orders(&env.app, &a, &orders).await;
    put_orders(&env.app, &b, &[fulfilled("KEEP-1", t0())]).await;
    let store = env.app.store.account(&a).await.unwrap();
    let before = store.list_after(0, 1000).await.unwrap();
    assert_eq!(before.len(), 150);
    let cts = ciphertext_forms(&before);
    let kept = ciphertext_forms(&[row(&env.app, &b, "KEEP-1").await]);
    // Sanity: the scans find stored ciphertexts before the sweep.
    store.purge_erased(false).await.unwrap();
    let all: Vec<u8> = database_bytes(&env)
        .into_iter()
        .flat_map(|(_, b)| b)
        .collect();
    assert!(
        cts.iter().any(|c| memchr::memmem::find(&all, c).is_some()),
        "the scan sees ciphertexts, so it would see leftovers"
    );
    if let Some(files) = pg_table_files(&env, &a).await {
        let raw: Vec<u8> = files.into_iter().flat_map(|(_, b)| b).collect();
        assert!(cts.iter().any(|c| memchr::memmem::find(&raw, c).is_some()));
    }

    env.clock.advance(Duration::days(30) + Duration::hours(1));
    // PostgreSQL leaves dead bytes in the table file after a plain VACUUM: the setting
    // that rewrites the table is what removes them.
    let mut settings = env.settings.clone();
    settings.pseudonymize.postgres_vacuum_full = true;
    let app = env.restart(settings).await.unwrap();
    assert_eq!(sweep(&app, None).await.unwrap().pseudonymized, 150);
    // PostgreSQL keeps dead row versions a transaction running elsewhere on the server
    // (other tests, four at a time) might still see; the next scheduled sweep vacuums
    // again, until no such transaction is left (bounded: 30 s).
    if env.backend == Backend::Postgres {
        for _ in 0..15 {
            let files = pg_table_files(&env, &a).await.unwrap_or_default();
            let clean = files
                .iter()
                .all(|(_, bytes)| cts.iter().all(|c| memchr::memmem::find(bytes, c).is_none()));
            if clean {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            env.clock.advance(Duration::hours(1));
            assert_eq!(sweep(&app, None).await.unwrap().pseudonymized, 0);
        }
    }
    if let Some(files) = pg_table_files(&env, &a).await {
        for (name, bytes) in files {
            let left = cts
                .iter()
                .filter(|c| memchr::memmem::find(&bytes, c).is_some())
                .count();
            assert_eq!(
                left, 0,
                "PostgreSQL file {name} holds {left} erased ciphertexts"
            );
        }
    }

    let mut saw_kept = false;
    let mut saw_numbers = false;
    for (name, bytes) in database_bytes(&env) {
        let found = leaks(&bytes, &values);
        assert!(
            found.is_empty(),
            "{name} holds {} personal values",
            found.len()
        );
        let left = cts
            .iter()
            .filter(|c| memchr::memmem::find(&bytes, c).is_some())
            .count();
        assert_eq!(left, 0, "{name} still holds {left} erased ciphertexts");
        saw_kept |= kept
            .iter()
            .any(|c| memchr::memmem::find(&bytes, c).is_some());
        saw_numbers |= memchr::memmem::find(&bytes, b"LEAK-0149").is_some();
    }
    assert!(saw_kept, "the other account's ciphertexts are still there");
    assert!(saw_numbers, "business data is still there");
    if env.backend == Backend::Sqlite {
        let wal = env
            .data_dir()
            .join("accounts")
            .join(format!("{}.db-wal", a.as_str()));
        let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(len, 0, "WAL truncated after the sweep");
    }
}

async fn concurrent_sweeps_count_each_order_once(env: TestEnv) {
    let a = account(&env, 30).await;
    let orders: Vec<Order> = (0..1200)
        .map(|i| fulfilled(&format!("P{i:05}"), t0()))
        .collect();
    put_orders(&env.app, &a, &orders).await;
    env.clock.advance(Duration::days(31));

    // Two processes (own pools) with small batches, racing on one account.
    let mut settings = env.settings.clone();
    settings.pseudonymize.batch_size = 100;
    let p1 = env.restart(settings.clone()).await.unwrap();
    let p2 = env.restart(settings).await.unwrap();
    let (r1, r2) = tokio::join!(sweep(&p1, Some(&a)), sweep(&p2, Some(&a)));
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.pseudonymized + r2.pseudonymized, 1200, "{r1:?} {r2:?}");
    let outcomes = [r1.accounts[0].outcome, r2.accounts[0].outcome];
    assert!(outcomes.contains(&SweepOutcome::Done));

    // Without the lease, the row-level guard still counts each row once.
    let more: Vec<Order> = (0..600)
        .map(|i| fulfilled(&format!("Q{i:05}"), t0()))
        .collect();
    put_orders(&env.app, &a, &more).await;
    let s1 = p1.store.account(&a).await.unwrap();
    let s2 = p2.store.account(&a).await.unwrap();
    let due = s1
        .due_for_pseudonymization(
            ordervault::store::DueCutoffs {
                closed_before_ms: env.app.now_ms(),
                placed_before_ms: 0,
            },
            0,
            10_000,
        )
        .await
        .unwrap();
    assert_eq!(due.len(), 600);
    let rows: Vec<_> = due.iter().map(|r| (r.id, Some([7u8; 32]))).collect();
    let now = env.app.now_ms();
    let (n1, n2) = tokio::join!(
        s1.pseudonymize_rows(&rows, now),
        s2.pseudonymize_rows(&rows, now)
    );
    assert_eq!(n1.unwrap() + n2.unwrap(), 600);
    let summary = privacy_summary(&env.app, &a).await.unwrap();
    assert_eq!(summary.pseudonymized, 1800);
    assert_eq!(summary.with_personal_data, 0);
}

/// Issue 18: the sweep fetches each batch's data keys at once and computes the next
/// batch's pseudonyms while the current one is erased. In a fresh process (nothing
/// cached), over batches that split repeat customers, every order still gets exactly
/// its customer's pseudonym, the counts are exact, and nothing is left due.
async fn batched_sweep_in_a_fresh_process_keeps_each_customers_pseudonym(env: TestEnv) {
    let a = account(&env, 30).await;
    let email = |i: usize| format!("Klant{}@Voorbeeld.nl", i % 37);
    let orders: Vec<Order> = (0..350)
        .map(|i| {
            let mut o = fulfilled(&format!("M{i:05}"), t0());
            o.customer.email = (i % 7 != 0).then(|| email(i).into());
            o
        })
        .collect();
    put_orders(&env.app, &a, &orders).await;
    env.clock.advance(Duration::days(31));

    let mut settings = env.settings.clone();
    settings.pseudonymize.batch_size = 100;
    let fresh = env.restart(settings).await.unwrap();
    fresh.keyring.data.clear_cache();
    let r = sweep(&fresh, Some(&a)).await.unwrap();
    let s = &r.accounts[0];
    assert_eq!(s.outcome, SweepOutcome::Done);
    assert_eq!(s.pseudonymized, 350);
    assert_eq!(s.batches, 4);
    assert_eq!(s.with_pseudonym, 300);
    assert_eq!(s.undecryptable, 0);

    let keys = env.app.keyring.keys(&a).await.unwrap();
    let store = env.app.store.account(&a).await.unwrap();
    for (i, o) in orders.iter().enumerate() {
        let r = store
            .get("bol", o.order_number.as_str())
            .await
            .unwrap()
            .expect("stored");
        assert!(!has_personal(&r), "order {i} keeps personal data");
        let want = (i % 7 != 0).then(|| {
            keys.current()
                .pseudonym
                .index(&email(i).to_lowercase())
                .0
                .to_vec()
        });
        assert_eq!(r.pseudonym, want, "pseudonym of order {i}");
    }
    let summary = privacy_summary(&env.app, &a).await.unwrap();
    assert_eq!((summary.overdue, summary.with_personal_data), (0, 0));
}

/// Issue 18: a sweep's first batch is a sixteenth of the batch size (at least 1,000
/// orders) and each next one doubles, so the first is ready quickly. With a batch size
/// of 16,000, 3,500 due orders go in batches of 1,000, 2,000 and 500; every one is
/// erased with its customer's pseudonym.
async fn first_batches_ramp_up_and_erase_everything(env: TestEnv) {
    let a = account(&env, 30).await;
    let email = |i: usize| format!("Ramp{}@Voorbeeld.nl", i % 101);
    let orders: Vec<Order> = (0..3500)
        .map(|i| {
            let mut o = fulfilled(&format!("R{i:05}"), t0());
            o.customer.email = Some(email(i).into());
            o
        })
        .collect();
    put_orders(&env.app, &a, &orders).await;
    env.clock.advance(Duration::days(31));

    let mut settings = env.settings.clone();
    settings.pseudonymize.batch_size = 16_000;
    let fresh = env.restart(settings).await.unwrap();
    fresh.keyring.data.clear_cache();
    let r = sweep(&fresh, Some(&a)).await.unwrap();
    let s = &r.accounts[0];
    assert_eq!(s.outcome, SweepOutcome::Done);
    assert_eq!(s.pseudonymized, 3500);
    assert_eq!(s.with_pseudonym, 3500);
    assert_eq!(s.batches, 3);

    let keys = env.app.keyring.keys(&a).await.unwrap();
    let store = env.app.store.account(&a).await.unwrap();
    for i in [0, 999, 1000, 2999, 3000, 3499] {
        let r = store
            .get("bol", &format!("R{i:05}"))
            .await
            .unwrap()
            .expect("stored");
        assert!(!has_personal(&r), "order {i} keeps personal data");
        let want = keys
            .current()
            .pseudonym
            .index(&email(i).to_lowercase())
            .0
            .to_vec();
        assert_eq!(r.pseudonym, Some(want), "pseudonym of order {i}");
    }
    let summary = privacy_summary(&env.app, &a).await.unwrap();
    assert_eq!((summary.overdue, summary.with_personal_data), (0, 0));
}

/// Whether the account's orders table has the index subject rights find pseudonyms by.
async fn has_pseudonym_index(env: &TestEnv, id: &AccountId) -> bool {
    use sqlx::Connection;
    let n: i64 = match env.backend {
        Backend::Sqlite => {
            let path = env
                .data_dir()
                .join("accounts")
                .join(format!("{}.db", id.as_str()));
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query_scalar(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' \
                 AND name = 'orders_by_pseudonym'",
            )
            .fetch_one(&mut c)
            .await
            .unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&env.pg.as_ref().unwrap().url)
                .await
                .unwrap();
            sqlx::query_scalar(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 \
                 AND indexname = 'orders_by_pseudonym'",
            )
            .bind(id.schema_name())
            .fetch_one(&mut c)
            .await
            .unwrap()
        }
    };
    n == 1
}

/// Issue 18: a PostgreSQL sweep erases without the pseudonym index and builds it once
/// after the rewrite; a sweep also builds it when an interrupted one left it out. After
/// every sweep it is there, and a subject export finds the pseudonymized orders by it.
async fn pseudonym_index_is_there_after_every_sweep(env: TestEnv) {
    let a = account(&env, 30).await;
    let orders: Vec<Order> = (0..3)
        .map(|i| {
            let mut o = fulfilled(&format!("P{i}"), t0());
            o.customer.email = Some("Herhaal@Voorbeeld.nl".into());
            o
        })
        .collect();
    put_orders(&env.app, &a, &orders).await;
    env.clock.advance(Duration::days(31));
    assert!(has_pseudonym_index(&env, &a).await);
    assert_eq!(sweep(&env.app, Some(&a)).await.unwrap().pseudonymized, 3);
    assert!(
        has_pseudonym_index(&env, &a).await,
        "rebuilt after the sweep"
    );
    let export = ordervault::privacy::export_subject(&env.app, &a, "herhaal@voorbeeld.nl")
        .await
        .unwrap();
    assert_eq!(export.receipt.pseudonymized, 3);

    // A sweep killed between dropping and rebuilding it: the next one (nothing due)
    // builds it again.
    if let Some(pg) = &env.pg {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&pg.url).await.unwrap();
        sqlx::query(&format!(
            "DROP INDEX \"{}\".orders_by_pseudonym",
            a.schema_name()
        ))
        .execute(&mut c)
        .await
        .unwrap();
        assert!(!has_pseudonym_index(&env, &a).await);
    }
    assert_eq!(sweep(&env.app, Some(&a)).await.unwrap().pseudonymized, 0);
    assert!(
        has_pseudonym_index(&env, &a).await,
        "rebuilt by the next sweep"
    );
}

async fn lease_blocks_second_sweeper_until_it_expires(env: TestEnv) {
    let a = account(&env, 30).await;
    put_orders(&env.app, &a, &[fulfilled("L1", t0())]).await;
    env.clock.advance(Duration::days(31));
    let now = env.app.now_ms();
    let catalog = env.app.store.catalog();
    assert!(catalog
        .claim_sweep_lease(a.as_str(), "crashed-process", now, now + 600_000)
        .await
        .unwrap());
    let r = sweep(&env.app, Some(&a)).await.unwrap();
    assert_eq!(r.accounts[0].outcome, SweepOutcome::Busy);
    assert_eq!(r.pseudonymized, 0);
    assert_intact(&env.app, &a, "L1").await;
    // The holder died: its lease runs out and the next run does the work.
    env.clock.advance(Duration::minutes(11));
    let r = sweep(&env.app, Some(&a)).await.unwrap();
    assert_eq!(r.accounts[0].outcome, SweepOutcome::Done);
    assert_eq!(r.pseudonymized, 1);
}

async fn privacy_summary_numbers(env: TestEnv) {
    let a = account(&env, 30).await;
    put_orders(
        &env.app,
        &a,
        &[
            fulfilled("S1", t0()),
            cancelled("S2", t0()),
            order("S3", 0),
            fulfilled("S4", t0() + Duration::days(20)),
        ],
    )
    .await;
    env.clock.set(t0() + Duration::days(31));
    let s = privacy_summary(&env.app, &a).await.unwrap();
    assert_eq!(
        (s.retention_days, s.max_age_days, s.orders_total),
        (30, 180, 4)
    );
    assert_eq!(
        (s.with_personal_data, s.pseudonymized, s.overdue),
        (4, 0, 2)
    );
    assert_eq!(s.last_sweep_at, None);

    sweep(&env.app, None).await.unwrap();
    let s = privacy_summary(&env.app, &a).await.unwrap();
    assert_eq!(
        (s.with_personal_data, s.pseudonymized, s.overdue),
        (2, 2, 0)
    );
    assert!(s.last_sweep_at.is_some());

    // S4's deadline passes: overdue until the next sweep, then zero.
    env.clock
        .set(t0() + Duration::days(50) + Duration::hours(1));
    assert_eq!(privacy_summary(&env.app, &a).await.unwrap().overdue, 1);
    sweep(&env.app, None).await.unwrap();
    let s = privacy_summary(&env.app, &a).await.unwrap();
    assert_eq!(
        (s.with_personal_data, s.pseudonymized, s.overdue),
        (1, 3, 0)
    );
    assert!(!serde_json::to_string(&s).unwrap().contains("Example.com"));

    // Closed accounts are skipped by a full sweep; unknown accounts are not found.
    ordervault::privacy::closure::close_account(&env.app, &a)
        .await
        .unwrap();
    assert!(sweep(&env.app, None).await.unwrap().accounts.is_empty());
    assert_eq!(
        sweep(&env.app, Some(&a)).await.unwrap_err().to_string(),
        "account not found"
    );
    assert!(privacy_summary(&env.app, &a).await.is_err());
}

async fn scheduler_runs_the_sweep(env: TestEnv) {
    let a = account(&env, 30).await;
    put_orders(
        &env.app,
        &a,
        &[fulfilled("J1", t0()), fulfilled("J2", t0())],
    )
    .await;
    env.clock.advance(Duration::days(30) + Duration::hours(1));
    let mut settings = env.settings.clone();
    settings.pseudonymize.cron = "* * * * * *".into();
    let app = env.restart(settings).await.unwrap();
    let mut scheduler = ordervault::scheduler::start_scheduler(app.clone())
        .await
        .unwrap();
    let mut overdue = -1;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        overdue = privacy_summary(&app, &a).await.unwrap().overdue;
        if overdue == 0 {
            break;
        }
    }
    scheduler.shutdown().await.unwrap();
    assert_eq!(overdue, 0, "the scheduled sweep ran");
    assert_pseudonymized(&env.app, &a, "J1").await;
}

#[test]
fn bad_cron_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ordervault.toml");
    std::fs::write(&path, "[pseudonymize]\ncron = \"every hour\"\n").unwrap();
    let err = ordervault::config::Settings::load(Some(&path)).unwrap_err();
    assert!(err.to_string().contains("pseudonymize.cron"), "{err}");
    std::fs::write(&path, "[pseudonymize]\nmax_age_days = 0\n").unwrap();
    let err = ordervault::config::Settings::load(Some(&path)).unwrap_err();
    assert!(
        err.to_string().contains("pseudonymize.max_age_days"),
        "{err}"
    );
    std::fs::write(&path, "[pseudonymize]\ncron = \"0 */15 * * * *\"\n").unwrap();
    let s = ordervault::config::Settings::load(Some(&path)).unwrap();
    assert_eq!(s.pseudonymize.max_age_days, 180);
}

both_backends!(
    deadlines_per_account,
    pseudonym_counts_repeat_customers_and_resweep_is_noop,
    later_update_does_not_restore_personal_data,
    no_erased_value_left_in_database_files,
    concurrent_sweeps_count_each_order_once,
    batched_sweep_in_a_fresh_process_keeps_each_customers_pseudonym,
    first_batches_ramp_up_and_erase_everything,
    lease_blocks_second_sweeper_until_it_expires,
    pseudonym_index_is_there_after_every_sweep,
    privacy_summary_numbers,
    scheduler_runs_the_sweep,
);
