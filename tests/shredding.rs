//! Crypto-shredding with a bounded window (issue 16), on both backends.
//!
//! The forensic test takes a copy of the database (SQLite files with their WAL; on
//! PostgreSQL a `pg_dump` restored elsewhere plus a copy of what the tables held), then
//! pseudonymizes, erases a subject and closes an account, lets the window pass on the
//! injected clock with rotation running, and tries to decrypt every ciphertext of the
//! copy with everything the installation then holds (its catalog's data keys, the copy's
//! data keys, every epoch key in the keyring directory). Nothing erased decrypts; orders
//! not yet due still do. The same attack before the rotation recovers the erased data,
//! which shows the attack is real.
//!
//! The failure-mode tests: a crash between rewrap and epoch destruction, a keyring
//! directory that is not writable, two processes rotating at once; and keys status.

mod common;

use std::collections::HashMap;
use std::path::Path;

use chrono::Duration;
use common::{order, t0, Backend, TestEnv};
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::connectors::Order;
use ordervault::crypto::{field_cipher, Ciphertext, DataKeyRef, EpochKey, FieldContext, SealRef};
use ordervault::ids::AccountId;
use ordervault::ingest::write_orders;
use ordervault::orders::open_order;
use ordervault::shredding::{EpochKeyStore, FileEpochStore, RotationStep};
use ordervault::store::catalog::DataKeyRow;
use sqlx::Row;

const COLUMNS: [&str; 5] = ["shipping", "billing", "email", "phone", "notes"];

/// One ciphertext of a copy: account, order number, column, bytes.
#[derive(Clone)]
struct CopiedCt {
    account: String,
    order_number: String,
    column: String,
    ct: Vec<u8>,
}

/// What an attacker holds from a copy of the database.
#[derive(Default)]
struct Copy {
    cts: Vec<CopiedCt>,
    data_keys: Vec<DataKeyRow>,
}

async fn new_account(app: &App, name: &str) -> AccountId {
    let a = create_account(app, name, Some(30)).await.unwrap();
    a.id.parse().unwrap()
}

async fn put(app: &App, id: &AccountId, orders: &[Order]) {
    let keys = app.keyring.keys(id).await.unwrap();
    let store = app.store.account(id).await.unwrap();
    write_orders(&store, &keys, orders, app.now_ms())
        .await
        .unwrap();
}

fn subject_order(number: &str) -> Order {
    let mut o = order(number, 0);
    o.customer.email = Some("Subject.Person@Example.com".to_string().into());
    o
}

/// Fulfilled 29 days before t0: due (30 days retention) one day after t0.
fn due_order(number: &str) -> Order {
    let mut o = order(number, 0);
    o.placed_at = t0() - Duration::days(30);
    o.updated_at = t0() - Duration::days(29);
    o.fulfilled_at = Some(t0() - Duration::days(29));
    o.status = ordervault::connectors::OrderStatus::Shipped;
    o
}

fn numbers(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// Reads ciphertexts and data keys through any pool of the copy.
macro_rules! read_copy {
    ($pool:expr, $orders_tables:expr, $data_keys_table:expr, $copy:expr) => {{
        for (account, table) in $orders_tables {
            let rows = sqlx::query(&format!(
                "SELECT order_number, shipping_ct, billing_ct, email_ct, phone_ct, notes_ct FROM {table}"
            ))
            .fetch_all($pool)
            .await
            .unwrap();
            for r in rows {
                let number: String = r.get("order_number");
                for col in COLUMNS {
                    let ct: Option<Vec<u8>> = r.get(format!("{col}_ct").as_str());
                    if let Some(ct) = ct {
                        $copy.cts.push(CopiedCt {
                            account: account.clone(),
                            order_number: number.clone(),
                            column: col.to_string(),
                            ct,
                        });
                    }
                }
            }
        }
        let rows = sqlx::query(&format!(
            "SELECT account_id, kind, scope, day, epoch, wrapped_key FROM {}",
            $data_keys_table
        ))
        .fetch_all($pool)
        .await
        .unwrap();
        for r in rows {
            $copy.data_keys.push(DataKeyRow {
                account_id: r.get("account_id"),
                kind: r.get("kind"),
                scope: r.get("scope"),
                day: r.get("day"),
                epoch: r.get("epoch"),
                wrapped_key: r.get("wrapped_key"),
            });
        }
    }};
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dst = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

/// SQLite: copies the data directory's database files (with WAL) as they are now.
fn sqlite_copy_files(env: &TestEnv, to: &Path) {
    let data = env.data_dir();
    std::fs::create_dir_all(to.join("accounts")).unwrap();
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        if p.is_file()
            && p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("catalog.db")
        {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
    copy_dir(&data.join("accounts"), &to.join("accounts"));
}

async fn read_sqlite_copy(dir: &Path, accounts: &[AccountId]) -> Copy {
    let mut copy = Copy::default();
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("catalog.db"));
    let catalog = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    read_copy!(&catalog, Vec::<(String, String)>::new(), "data_keys", copy);
    catalog.close().await;
    read_account_cts_sqlite(dir, accounts, &mut copy).await;
    copy
}

async fn read_account_cts_sqlite(dir: &Path, accounts: &[AccountId], copy: &mut Copy) {
    for id in accounts {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("accounts").join(format!("{}.db", id.as_str())));
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        let rows = sqlx::query(
            "SELECT order_number, shipping_ct, billing_ct, email_ct, phone_ct, notes_ct FROM orders",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for r in rows {
            let number: String = r.get("order_number");
            for col in COLUMNS {
                let ct: Option<Vec<u8>> = r.get(format!("{col}_ct").as_str());
                if let Some(ct) = ct {
                    copy.cts.push(CopiedCt {
                        account: id.to_string(),
                        order_number: number.clone(),
                        column: col.to_string(),
                        ct,
                    });
                }
            }
        }
        pool.close().await;
    }
}

/// PostgreSQL: what the tables hold now, read straight from the live database.
async fn pg_table_copy(env: &TestEnv, accounts: &[AccountId]) -> Copy {
    let mut copy = Copy::default();
    let ordervault::store::Pool::Postgres(pool) = env.app.store.catalog().pool().clone() else {
        unreachable!()
    };
    let tables: Vec<(String, String)> = accounts
        .iter()
        .map(|id| (id.to_string(), format!("\"{}\".orders", id.schema_name())))
        .collect();
    read_copy!(&pool, tables, "ordervault.data_keys", copy);
    copy
}

fn has_tool(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// PostgreSQL: `pg_dump` of the whole database into a file (the attacker's copy).
fn pg_dump(env: &TestEnv, file: &Path) -> bool {
    if !has_tool("pg_dump") {
        eprintln!("pg_dump not on PATH: the dump half of the forensic test is skipped");
        return false;
    }
    let url = &env.pg.as_ref().unwrap().url;
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(file)
        .args(["--dbname", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// Restores a dump into a fresh database and reads it like the attacker would.
async fn read_pg_dump(file: &Path, accounts: &[AccountId]) -> Copy {
    let db = common::fresh_pg().await.unwrap();
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &db.url])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let tables: Vec<(String, String)> = accounts
        .iter()
        .map(|id| (id.to_string(), format!("\"{}\".orders", id.schema_name())))
        .collect();
    let mut copy = Copy::default();
    read_copy!(&pool, tables, "ordervault.data_keys", copy);
    pool.close().await;
    drop(db);
    copy
}

/// Every epoch key the installation holds now.
async fn epoch_keys(env: &TestEnv) -> HashMap<i64, EpochKey> {
    let store = FileEpochStore::new(env.settings.keyring_dir());
    let mut out = HashMap::new();
    for e in store.list().await.unwrap() {
        if let Some(k) = store.load(e).await.unwrap() {
            out.insert(e, k);
        }
    }
    out
}

/// The live catalog's data keys (what the installation holds).
async fn live_data_keys(env: &TestEnv) -> Vec<DataKeyRow> {
    let mut copy = Copy::default();
    match env.app.store.catalog().pool().clone() {
        ordervault::store::Pool::Sqlite(p) => {
            read_copy!(&p, Vec::<(String, String)>::new(), "data_keys", copy)
        }
        ordervault::store::Pool::Postgres(p) => {
            read_copy!(
                &p,
                Vec::<(String, String)>::new(),
                "ordervault.data_keys",
                copy
            )
        }
    }
    copy.data_keys
}

/// Tries every ciphertext of the copy with every key available; returns, per order
/// number, how many fields decrypted.
fn attack(
    copy: &Copy,
    held_keys: &[DataKeyRow],
    epochs: &HashMap<i64, EpochKey>,
) -> HashMap<String, usize> {
    let unwrap_all = |account: &str, r: DataKeyRef| {
        let (kind, scope) = (r.kind(), r.scope());
        copy.data_keys
            .iter()
            .chain(held_keys)
            .filter(|k| k.account_id == account && k.kind == kind && k.scope == scope)
            .filter_map(|k| {
                epochs
                    .get(&k.epoch)?
                    .unwrap(k.epoch, account, &r, &k.wrapped_key)
                    .ok()
            })
            .collect::<Vec<_>>()
    };
    let mut out: HashMap<String, usize> = HashMap::new();
    for c in &copy.cts {
        let entry = out.entry(c.order_number.clone()).or_default();
        let SealRef::Data { day, customer } = Ciphertext(c.ct.clone()).seal_ref().unwrap() else {
            panic!("a v1 ciphertext in a store written after issue 16");
        };
        let days = unwrap_all(&c.account, DataKeyRef::Day(day));
        let customers = match customer {
            Some(id) => unwrap_all(&c.account, DataKeyRef::Customer(id)),
            None => Vec::new(),
        };
        let row = format!("bol/{}", c.order_number);
        let ctx = FieldContext {
            table: "orders",
            column: &c.column,
            row: &row,
        };
        let opened = days.iter().any(|dk| match customer {
            Some(id) => customers.iter().any(|ck| {
                field_cipher(&c.account, day, dk, Some((id, ck)))
                    .decrypt(ctx, &Ciphertext(c.ct.clone()))
                    .is_ok()
            }),
            None => field_cipher(&c.account, day, dk, None)
                .decrypt(ctx, &Ciphertext(c.ct.clone()))
                .is_ok(),
        });
        *entry += usize::from(opened);
    }
    out
}

fn recovered(result: &HashMap<String, usize>, numbers: &[String]) -> usize {
    numbers
        .iter()
        .map(|n| result.get(n).copied().unwrap_or(0))
        .sum()
}

fn file_bytes(dir: &Path, out: &mut Vec<u8>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            file_bytes(&p, out);
        } else {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
}

/// PostgreSQL: the copy's wrapped data keys are also in `pg_wal` (the newest segments are
/// scanned when readable); none of them opens under any epoch key left.
async fn pg_wal_holds_nothing_openable(
    env: &TestEnv,
    copied: &[&DataKeyRow],
    epochs: &HashMap<i64, EpochKey>,
) {
    let ordervault::store::Pool::Postgres(pool) = env.app.store.catalog().pool().clone() else {
        unreachable!()
    };
    let dir: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&pool)
        .await
        .unwrap();
    let Ok(entries) = std::fs::read_dir(Path::new(&dir).join("pg_wal")) else {
        eprintln!("pg_wal not readable here: its half of the forensic test is skipped");
        return;
    };
    let mut segments: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().len() == 24)
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    segments.sort();
    let mut found = 0;
    for (_, seg) in segments.iter().rev().take(3) {
        let Ok(bytes) = std::fs::read(seg) else {
            continue;
        };
        for k in copied {
            if memchr::memmem::find(&bytes, &k.wrapped_key).is_none() {
                continue;
            }
            found += 1;
            let r = DataKeyRef::parse(&k.kind, &k.scope).unwrap();
            for (e, key) in epochs {
                assert!(
                    key.unwrap(*e, &k.account_id, &r, &k.wrapped_key).is_err()
                        && key
                            .unwrap(k.epoch, &k.account_id, &r, &k.wrapped_key)
                            .is_err(),
                    "a wrapped key from pg_wal opens under epoch {e}"
                );
            }
        }
    }
    eprintln!(
        "pg_wal: {found} wrapped data keys of the copy found in the newest segments; none opens"
    );
}

async fn rotate_through_window(env: &TestEnv) {
    let w = env.app.keyring.data.window_ms();
    for _ in 0..2 {
        env.clock.advance(Duration::milliseconds(w / 2));
        env.app.keyring.data.rotate(None).await.unwrap();
    }
}

async fn a_copy_forgets_erased_data_within_the_window(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Forensic Shop").await;
    let b = new_account(app, "Closing Shop").await;
    let (live, due, subj, closed) = (
        numbers("LIVE-", 4),
        numbers("DUE-", 4),
        numbers("SUBJ-", 3),
        numbers("GONE-", 3),
    );
    let mut orders: Vec<Order> = live.iter().map(|n| order(n, 0)).collect();
    orders.extend(due.iter().map(|n| due_order(n)));
    orders.extend(subj.iter().map(|n| subject_order(n)));
    put(app, &a, &orders).await;
    put(
        app,
        &b,
        &closed.iter().map(|n| order(n, 0)).collect::<Vec<_>>(),
    )
    .await;

    // The copy, taken now.
    let scratch = tempfile::tempdir().unwrap();
    let mut copies: Vec<(&str, Copy)> = Vec::new();
    let accounts = [a.clone(), b.clone()];
    let mut dump = None;
    match env.backend {
        Backend::Sqlite => sqlite_copy_files(&env, &scratch.path().join("files")),
        Backend::Postgres => {
            copies.push(("tables", pg_table_copy(&env, &accounts).await));
            let file = scratch.path().join("copy.dump");
            if pg_dump(&env, &file) {
                dump = Some(file);
            }
        }
    }

    // Two days on: the sweep pseudonymizes the due orders and destroys their day key;
    // a subject is erased; an account is closed.
    env.clock.advance(Duration::days(2));
    let sweep = ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert_eq!(sweep.pseudonymized, due.len() as u64);
    assert!(sweep.accounts[0].day_keys_destroyed >= 1);
    let erased = ordervault::privacy::erase_subject(app, &a, "subject.person@example.com")
        .await
        .unwrap();
    assert_eq!(erased.orders_erased, subj.len() as u64);
    assert_eq!(erased.customer_keys_destroyed, 1);
    ordervault::privacy::closure::close_account(app, &b)
        .await
        .unwrap();

    if env.backend == Backend::Sqlite {
        let dir = scratch.path().join("files");
        let copy = read_sqlite_copy(&dir, &accounts).await;
        // The existing file scan: no plaintext personal value in the copied files.
        let mut bytes = Vec::new();
        file_bytes(&dir, &mut bytes);
        for v in [
            "Keizersgracht",
            "Bakker Thee BV",
            "+31612345678",
            "subject.person",
        ] {
            assert!(
                memchr::memmem::find(&bytes, v.as_bytes()).is_none(),
                "{v} in the copy"
            );
        }
        copies.push(("files with WAL", copy));
    }
    if let Some(file) = &dump {
        copies.push(("pg_dump", read_pg_dump(file, &accounts).await));
    }
    assert!(!copies.is_empty());

    // Control: before the window passes, the copy still gives the erased data away to
    // whoever holds it and the keyring; the attack below is a real one.
    let held = live_data_keys(&env).await;
    let epochs = epoch_keys(&env).await;
    for (what, copy) in &copies {
        let r = attack(copy, &held, &epochs);
        assert_eq!(recovered(&r, &due), due.len() * 5, "{what}: control");
        assert_eq!(recovered(&r, &subj), subj.len() * 5, "{what}: control");
        assert_eq!(recovered(&r, &closed), closed.len() * 5, "{what}: control");
    }

    // The window passes; rotation runs.
    rotate_through_window(&env).await;
    let held = live_data_keys(&env).await;
    let epochs = epoch_keys(&env).await;
    assert!(
        !epochs.contains_key(&1),
        "the epoch of the copy is destroyed"
    );
    for (what, copy) in &copies {
        assert!(copy.cts.len() >= (live.len() + due.len() + subj.len() + closed.len()) * 5);
        let r = attack(copy, &held, &epochs);
        assert_eq!(recovered(&r, &due), 0, "{what}: pseudonymized orders read");
        assert_eq!(recovered(&r, &subj), 0, "{what}: erased subject read");
        assert_eq!(recovered(&r, &closed), 0, "{what}: closed account read");
        assert_eq!(
            recovered(&r, &live),
            live.len() * 5,
            "{what}: orders not yet due must still decrypt"
        );
    }
    if env.backend == Backend::Postgres {
        let data_keys: Vec<&DataKeyRow> = copies.iter().flat_map(|(_, c)| &c.data_keys).collect();
        pg_wal_holds_nothing_openable(&env, &data_keys, &epochs).await;
    }
    // And the live installation still serves them.
    let keys = app.keyring.keys(&a).await.unwrap();
    let store = app.store.account(&a).await.unwrap();
    let row = store.get("bol", &live[0]).await.unwrap().unwrap();
    assert_eq!(
        open_order(&keys, &row).await.unwrap().order.customer,
        order(&live[0], 0).customer
    );
}

async fn a_crash_between_rewrap_and_destruction_loses_no_key(env: TestEnv) {
    let a = new_account(&env.app, "Crash Shop").await;
    let orders: Vec<Order> = numbers("C-", 5).iter().map(|n| order(n, 0)).collect();
    put(&env.app, &a, &orders).await;
    let data = &env.app.keyring.data;
    let store = FileEpochStore::new(env.settings.keyring_dir());

    // Crash right after the new epoch started: nothing rewrapped yet.
    env.clock
        .advance(Duration::milliseconds(data.epoch_period_ms()));
    let r = data.rotate(Some(RotationStep::Started)).await.unwrap();
    assert_eq!((r.current_epoch, r.started), (2, true));
    // Crash again, after every key was rewrapped but before epoch 1 was destroyed.
    let r = data.rotate(Some(RotationStep::Rewrapped)).await.unwrap();
    assert!(r.rewrapped > 0);
    assert_eq!(store.list().await.unwrap(), vec![1, 2]);
    assert_eq!(data.status().await.unwrap().oldest_surviving_epoch, 1);

    // The restart (start-up runs a rotation tick) finishes the job: epoch 1 is gone
    // at once, not a window later, and every order still opens.
    let restarted = env.restart(env.settings.clone()).await.unwrap();
    assert_eq!(store.list().await.unwrap(), vec![2]);
    let status = restarted.keyring.data.status().await.unwrap();
    assert_eq!(
        (status.current_epoch, status.oldest_surviving_epoch),
        (2, 2)
    );
    let keys = restarted.keyring.keys(&a).await.unwrap();
    let st = restarted.store.account(&a).await.unwrap();
    for o in &orders {
        let row = st
            .get("bol", o.order_number.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(open_order(&keys, &row).await.unwrap().order, *o);
    }
}

async fn a_keyring_dir_that_is_not_writable_stops_start_up(env: TestEnv) {
    let blocker = env.dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let mut settings = env.settings.clone();
    settings.keys.keyring_dir = blocker.join("keyring").display().to_string();
    let err = env.restart(settings).await.unwrap_err().to_string();
    assert!(err.contains("keyring directory"), "{err}");
    assert!(err.contains("not writable"), "{err}");
}

async fn two_processes_rotating_at_once_agree(env: TestEnv) {
    let a = new_account(&env.app, "Busy Shop").await;
    let orders: Vec<Order> = numbers("R-", 20).iter().map(|n| order(n, 0)).collect();
    put(&env.app, &a, &orders).await;
    let other = env.restart(env.settings.clone()).await.unwrap();
    env.clock.advance(Duration::milliseconds(
        env.app.keyring.data.epoch_period_ms(),
    ));
    let (r1, r2) = tokio::join!(
        env.app.keyring.data.rotate(None),
        other.keyring.data.rotate(None)
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(
        u8::from(r1.started) + u8::from(r2.started),
        1,
        "one new epoch"
    );
    assert_eq!((r1.current_epoch, r2.current_epoch), (2, 2));
    let store = FileEpochStore::new(env.settings.keyring_dir());
    assert_eq!(store.list().await.unwrap(), vec![2]);
    let status = other.keyring.data.status().await.unwrap();
    assert_eq!(status.oldest_surviving_epoch, 2);
    // 20 customer keys and one day key, all under epoch 2.
    assert_eq!(status.data_keys_live, 21);
    assert!(live_data_keys(&env).await.iter().all(|k| k.epoch == 2));
    for app in [&env.app, &other] {
        app.keyring.data.clear_cache();
        let keys = app.keyring.keys(&a).await.unwrap();
        let st = app.store.account(&a).await.unwrap();
        for o in &orders {
            let row = st
                .get("bol", o.order_number.as_str())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(open_order(&keys, &row).await.unwrap().order, *o);
        }
    }
}

async fn keys_status_counts_live_and_destroyed_keys(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Status Shop").await;
    let s = app.keyring.data.status().await.unwrap();
    assert_eq!(
        (s.current_epoch, s.data_keys_live, s.data_keys_destroyed),
        (1, 0, 0)
    );
    assert_eq!(s.erasure_window_secs, 86_400);
    let mut orders: Vec<Order> = numbers("S-", 3).iter().map(|n| order(n, 0)).collect();
    orders.push(due_order("D-1"));
    put(app, &a, &orders).await;
    // Two days (due and open), four customers.
    assert_eq!(app.keyring.data.status().await.unwrap().data_keys_live, 6);
    env.clock.advance(Duration::days(2));
    ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    ordervault::privacy::erase_subject(app, &a, "buyer.s-1@example.com")
        .await
        .unwrap();
    let s = app.keyring.data.status().await.unwrap();
    assert_eq!((s.data_keys_live, s.data_keys_destroyed), (4, 2));
    ordervault::privacy::closure::close_account(app, &a)
        .await
        .unwrap();
    let s = app.keyring.data.status().await.unwrap();
    assert_eq!((s.data_keys_live, s.data_keys_destroyed), (0, 6));
}

/// Seals an order the way ordervault did before issue 16: every field under the
/// account key (format v1).
fn seal_v1(
    keys: &ordervault::keyring::AccountKeyset,
    o: &Order,
    sealed: &mut ordervault::store::SealedOrder,
) {
    let row = format!("bol/{}", o.order_number.as_str());
    let enc = |column: &str, plain: Vec<u8>| {
        Some(
            keys.current()
                .fields
                .encrypt(
                    FieldContext {
                        table: "orders",
                        column,
                        row: &row,
                    },
                    &plain,
                )
                .0,
        )
    };
    let c = &o.customer;
    sealed.shipping_ct = enc(
        "shipping",
        serde_json::to_vec(c.shipping.as_ref().unwrap()).unwrap(),
    );
    sealed.billing_ct = enc(
        "billing",
        serde_json::to_vec(c.billing.as_ref().unwrap()).unwrap(),
    );
    sealed.email_ct = enc("email", c.email.as_ref().unwrap().as_bytes().to_vec());
    sealed.phone_ct = enc("phone", c.phone.as_ref().unwrap().as_bytes().to_vec());
    sealed.notes_ct = enc(
        "notes",
        c.delivery_notes.as_ref().unwrap().as_bytes().to_vec(),
    );
}

async fn an_existing_store_moves_onto_data_keys_resumably(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Old Shop").await;
    let orders: Vec<Order> = numbers("OLD-", 600).iter().map(|n| order(n, 0)).collect();
    let keys = app.keyring.keys(&a).await.unwrap();
    let seal = keys.seal_keys(&orders).await.unwrap();
    let mut sealed: Vec<_> = orders
        .iter()
        .map(|o| ordervault::orders::seal_order(&seal, o))
        .collect();
    for (o, s) in orders.iter().zip(sealed.iter_mut()) {
        seal_v1(&keys, o, s);
    }
    drop(seal);
    let store = app.store.account(&a).await.unwrap();
    store.upsert_orders(&sealed, app.now_ms()).await.unwrap();
    let v1_rows = |rows: &[ordervault::store::OrderRow]| {
        rows.iter()
            .filter(|r| {
                matches!(
                    Ciphertext(r.email_ct.clone().unwrap()).seal_ref(),
                    Ok(SealRef::Account(_))
                )
            })
            .count()
    };
    assert_eq!(v1_rows(&store.list_after(0, 10_000).await.unwrap()), 600);

    // Interrupted after one page, then resumed: every order moves exactly once.
    let first = ordervault::privacy::reseal::reseal_account(app, &a, Some(1))
        .await
        .unwrap();
    assert_eq!((first.resealed, first.done), (500, false));
    let rest = ordervault::privacy::reseal::reseal(app, Some(&a))
        .await
        .unwrap();
    assert_eq!(
        (rest.accounts[0].resealed, rest.accounts[0].done),
        (100, true)
    );
    let rows = store.list_after(0, 10_000).await.unwrap();
    assert_eq!(v1_rows(&rows), 0);
    for (row, o) in rows.iter().zip(&orders) {
        assert_eq!(open_order(&keys, row).await.unwrap().order, *o);
    }
    // A finished account is not scanned again.
    let again = ordervault::privacy::reseal::reseal(app, Some(&a))
        .await
        .unwrap();
    assert_eq!(
        (again.accounts[0].scanned, again.accounts[0].done),
        (0, true)
    );
}

async fn a_fulfilled_order_moves_every_field_to_its_earlier_day(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Shipping Shop").await;
    let open = order("F-1", 0);
    put(app, &a, std::slice::from_ref(&open)).await;
    // The fulfilment update carries no phone and no notes: the stored ones stay, and
    // must move to the fulfilment day's key with the rest.
    let mut shipped = order("F-1", 60);
    shipped.fulfilled_at = Some(shipped.updated_at);
    shipped.status = ordervault::connectors::OrderStatus::Shipped;
    shipped.customer.phone = None;
    shipped.customer.delivery_notes = None;
    put(app, &a, std::slice::from_ref(&shipped)).await;
    let keys = app.keyring.keys(&a).await.unwrap();
    let want = keys.erasure_day(&shipped);
    assert!(want < keys.erasure_day(&open));
    let row = app
        .store
        .account(&a)
        .await
        .unwrap()
        .get("bol", "F-1")
        .await
        .unwrap()
        .unwrap();
    for ct in [
        &row.shipping_ct,
        &row.billing_ct,
        &row.email_ct,
        &row.phone_ct,
        &row.notes_ct,
    ] {
        let SealRef::Data { day, .. } = Ciphertext(ct.clone().unwrap()).seal_ref().unwrap() else {
            panic!("v1")
        };
        assert_eq!(day, want);
    }
    let opened = open_order(&keys, &row).await.unwrap().order;
    assert_eq!(opened.customer.phone, open.customer.phone);
    assert_eq!(opened.customer.delivery_notes, open.customer.delivery_notes);
}

both_backends!(
    a_copy_forgets_erased_data_within_the_window,
    a_crash_between_rewrap_and_destruction_loses_no_key,
    a_keyring_dir_that_is_not_writable_stops_start_up,
    two_processes_rotating_at_once_agree,
    keys_status_counts_live_and_destroyed_keys,
    an_existing_store_moves_onto_data_keys_resumably,
    a_fulfilled_order_moves_every_field_to_its_earlier_day,
);
