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

use crate::common;

use std::collections::HashMap;
use std::path::Path;

use crate::common::{order, put_orders, t0, Backend, TestEnv};
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::app::App;
use ordervault::connectors::clock::Clock;
use ordervault::connectors::Order;
use ordervault::crypto::{
    field_cipher, AccountKey, Ciphertext, DataKeyRef, EpochKey, FieldContext, MasterKey, SealRef,
    WrappedAccountKey,
};
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
    /// Account key rows: (account, version, wrapped bytes, epoch of the outer layer).
    account_keys: Vec<(String, i64, Vec<u8>, Option<i64>)>,
    /// Secrets sealed under account keys: (account, table, column, row id, bytes).
    secrets: Vec<(String, &'static str, &'static str, String, Vec<u8>)>,
}

/// Reads account key rows and the secrets sealed under them (webhook signing secrets,
/// marketplace credentials) through any pool of a copy's catalog.
macro_rules! read_account_secrets {
    ($pool:expr, $schema:expr, $copy:expr) => {{
        let rows = sqlx::query(&format!(
            "SELECT account_id, version, wrapped_key, epoch FROM {}account_keys",
            $schema
        ))
        .fetch_all($pool)
        .await
        .unwrap();
        for r in rows {
            $copy.account_keys.push((
                r.get("account_id"),
                r.get("version"),
                r.get("wrapped_key"),
                r.get("epoch"),
            ));
        }
        for (table, column, ct) in [
            ("webhook_endpoints", "secret", "secret_ct"),
            ("connections", "credentials", "credentials_ct"),
        ] {
            let rows = sqlx::query(&format!(
                "SELECT id, account_id, {ct} AS ct FROM {}{table}",
                $schema
            ))
            .fetch_all($pool)
            .await
            .unwrap();
            for r in rows {
                $copy
                    .secrets
                    .push((r.get("account_id"), table, column, r.get("id"), r.get("ct")));
            }
        }
    }};
}

/// Tries to open every secret of the copy with the master key and every epoch key
/// left; returns how many opened.
fn attack_secrets(copy: &Copy, master: &MasterKey, epochs: &HashMap<i64, EpochKey>) -> usize {
    let mut opened = 0;
    for (account, table, column, row, ct) in &copy.secrets {
        let ctx = FieldContext { table, column, row };
        let ok = copy
            .account_keys
            .iter()
            .filter(|(a, ..)| a == account)
            .filter_map(|(a, version, wrapped, epoch)| {
                let version = u32::try_from(*version).ok()?;
                let inner = match epoch {
                    Some(e) => epochs
                        .get(e)?
                        .unwrap_account_key(*e, a, version, wrapped)
                        .ok()?,
                    None => wrapped.clone(),
                };
                AccountKey::unwrap(master, a, version, &WrappedAccountKey(inner)).ok()
            })
            .any(|k| {
                k.subkeys(account)
                    .secrets
                    .decrypt(ctx, &Ciphertext(ct.clone()))
                    .is_ok()
            });
        opened += usize::from(ok);
    }
    opened
}

/// Gives an account a webhook endpoint and a marketplace connection (both secrets).
async fn add_secrets(app: &App, id: &AccountId) {
    ordervault::forward::add_webhook(
        app,
        ordervault::forward::NewWebhook {
            account: id.clone(),
            url: "http://127.0.0.1:9/hook".into(),
            secret: None,
        },
    )
    .await
    .unwrap();
    ordervault::ingest::connections::add_connection(
        app,
        ordervault::ingest::connections::NewConnection {
            account: id.clone(),
            marketplace: ordervault::connectors::MarketplaceKind::Amazon,
            credentials_json: zeroize::Zeroizing::new(
                r#"{"client_id":"amzn1.application-oa2-client.x","client_secret":"s3cr3t","refresh_token":"Atzr|r3fr3sh"}"#.into(),
            ),
            settings: ordervault::connectors::ConnectionSettings {
                region: Some(ordervault::connectors::amazon::Region::Eu),
                marketplace_ids: vec!["A1PA6795UKMFR9".into()],
                ..Default::default()
            },
            interval: std::time::Duration::from_secs(60),
        },
    )
    .await
    .unwrap();
}

async fn new_account(app: &App, name: &str) -> AccountId {
    let a = create_account(app, name, Some(30)).await.unwrap();
    a.id.clone()
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
                account_id: ordervault::ids::AccountId::parse(r.get::<&str, _>("account_id")).unwrap(),
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
    read_account_secrets!(&catalog, "", copy);
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
    read_account_secrets!(&pool, "ordervault.", copy);
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
    read_account_secrets!(&pool, "ordervault.", copy);
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
            .filter(|k| k.account_id.as_str() == account && k.kind == kind && k.scope == scope)
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
        let SealRef::Data { bucket, customer } = Ciphertext(c.ct.clone()).seal_ref().unwrap()
        else {
            panic!("a v1 ciphertext in a store written after issue 16");
        };
        let days = unwrap_all(&c.account, bucket);
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
                field_cipher(&c.account, bucket, dk, Some((id, ck)))
                    .decrypt(ctx, &Ciphertext(c.ct.clone()))
                    .is_ok()
            }),
            None => field_cipher(&c.account, bucket, dk, None)
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
                    key.unwrap(*e, k.account_id.as_str(), &r, &k.wrapped_key)
                        .is_err()
                        && key
                            .unwrap(k.epoch, k.account_id.as_str(), &r, &k.wrapped_key)
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

/// Advances the clock to `until` in steps of at most an hour, running a rotation tick
/// after each step (as `serve` does, only coarser).
async fn tick_until(env: &TestEnv, until: chrono::DateTime<chrono::Utc>) {
    loop {
        let now = env.clock.now();
        if now >= until {
            return;
        }
        env.clock.advance((until - now).min(Duration::hours(1)));
        env.app.keyring.data.rotate(None).await.unwrap();
    }
}

/// An order fulfilled so that it falls due `due_in` after `at` (30 days retention).
fn fulfilled(number: &str, at: chrono::DateTime<chrono::Utc>, due_in: Duration) -> Order {
    let mut o = order(number, 0);
    let f = at + due_in - Duration::days(30);
    o.placed_at = f - Duration::days(1);
    o.updated_at = f;
    o.fulfilled_at = Some(f);
    o.status = ordervault::connectors::OrderStatus::Shipped;
    o
}

/// An order placed `age` before `at`, not fulfilled.
fn pending(number: &str, at: chrono::DateTime<chrono::Utc>, age: Duration) -> Order {
    let mut o = order(number, 0);
    o.placed_at = at - age;
    o.updated_at = o.placed_at;
    o
}

async fn a_copy_forgets_erased_data_within_the_window(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Forensic Shop").await;
    let b = new_account(app, "Closing Shop").await;
    // The sweep runs at half past an hour; W is 24 h.
    let sweep_at = t0() + Duration::days(2) + Duration::minutes(30);
    let w = Duration::milliseconds(app.keyring.data.window_ms());
    let (live, due, soon, moved, waiting, subj, closed) = (
        numbers("LIVE-", 4),
        numbers("DUE-", 4),
        numbers("SOON-", 2),
        numbers("MOVED-", 2),
        numbers("WAIT-", 2),
        numbers("SUBJ-", 3),
        numbers("GONE-", 3),
    );
    let mut orders: Vec<Order> = live.iter().map(|n| order(n, 0)).collect();
    // Due five minutes before the sweep; their hour-mates fall due 20 minutes after it.
    orders.extend(
        due.iter()
            .map(|n| fulfilled(n, sweep_at, -Duration::minutes(5))),
    );
    orders.extend(
        soon.iter()
            .map(|n| fulfilled(n, sweep_at, Duration::minutes(20))),
    );
    // Not fulfilled when the copy is taken; fulfilled (due before the sweep) afterwards.
    let moved_placed = sweep_at - Duration::days(30) - Duration::hours(2);
    orders.extend(
        moved
            .iter()
            .map(|n| pending(n, sweep_at, sweep_at - moved_placed)),
    );
    // Unfulfilled for longer than the retention, not due until the maximum age.
    orders.extend(
        waiting
            .iter()
            .map(|n| pending(n, sweep_at, Duration::days(31))),
    );
    orders.extend(subj.iter().map(|n| subject_order(n)));
    put_orders(app, &a, &orders).await;
    put_orders(
        app,
        &b,
        &closed.iter().map(|n| order(n, 0)).collect::<Vec<_>>(),
    )
    .await;
    add_secrets(app, &b).await;
    let master = MasterKey::from_file(Path::new(&env.settings.keys.master_key_file)).unwrap();

    // Close to the worst case: an epoch starts shortly before the copy and the sweep,
    // so the keys the sweep destroys sit in the copy under an epoch that lives on for
    // almost a whole period.
    tick_until(&env, sweep_at - Duration::minutes(3)).await;
    let status = app.keyring.data.status().await.unwrap();
    let copy_epoch = status.current_epoch;
    let copy_epoch_start =
        chrono::DateTime::from_timestamp_millis(status.current_epoch_started_at_ms).unwrap();
    assert!(sweep_at - copy_epoch_start <= Duration::hours(1));

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

    // After the copy the MOVED orders are fulfilled (an hour after they were placed):
    // they move to a later hour, due before the sweep.
    env.clock.advance(Duration::minutes(1));
    let shipped: Vec<Order> = moved
        .iter()
        .map(|n| {
            let mut o = pending(n, sweep_at, sweep_at - moved_placed);
            o.fulfilled_at = Some(moved_placed + Duration::hours(1));
            o.updated_at = env.clock.now();
            o.status = ordervault::connectors::OrderStatus::Shipped;
            o
        })
        .collect();
    put_orders(app, &a, &shipped).await;

    // The sweep pseudonymizes the due orders and destroys every started hour's keys in
    // the same run, after moving the orders not due yet to new keys; a subject is
    // erased; an account is closed.
    tick_until(&env, sweep_at).await;
    let sweep = ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert_eq!(sweep.pseudonymized, (due.len() + moved.len()) as u64);
    assert_eq!(
        sweep.accounts[0].moved_to_new_keys,
        (soon.len() + waiting.len()) as u64
    );
    assert!(sweep.accounts[0].day_keys_destroyed >= 3);
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

    // Control, just before the copy's epoch ends (half a window after it started): the
    // copy still gives the erased data away to whoever holds it and the keyring; the
    // attack below is a real one.
    tick_until(&env, copy_epoch_start + w / 2 - Duration::minutes(1)).await;
    let held = live_data_keys(&env).await;
    let epochs = epoch_keys(&env).await;
    assert!(epochs.contains_key(&copy_epoch));
    for (what, copy) in &copies {
        let r = attack(copy, &held, &epochs);
        assert_eq!(recovered(&r, &due), due.len() * 5, "{what}: control");
        assert_eq!(recovered(&r, &moved), moved.len() * 5, "{what}: control");
        assert_eq!(recovered(&r, &subj), subj.len() * 5, "{what}: control");
        assert_eq!(recovered(&r, &closed), closed.len() * 5, "{what}: control");
        assert_eq!(
            attack_secrets(copy, &master, &epochs),
            2,
            "{what}: control, the closed account's secrets"
        );
    }

    // Exactly W after the pseudonymization, rotation having run.
    tick_until(&env, sweep_at + w).await;
    let held = live_data_keys(&env).await;
    let epochs = epoch_keys(&env).await;
    assert!(
        !epochs.contains_key(&copy_epoch),
        "the epoch of the copy is destroyed"
    );
    for (what, copy) in &copies {
        let written = live.len() + due.len() + soon.len() + moved.len() + waiting.len();
        assert!(copy.cts.len() >= (written + subj.len() + closed.len()) * 5);
        let r = attack(copy, &held, &epochs);
        assert_eq!(recovered(&r, &due), 0, "{what}: pseudonymized orders read");
        assert_eq!(
            recovered(&r, &moved),
            0,
            "{what}: orders fulfilled after the copy read"
        );
        assert_eq!(recovered(&r, &subj), 0, "{what}: erased subject read");
        assert_eq!(recovered(&r, &closed), 0, "{what}: closed account read");
        assert_eq!(
            attack_secrets(copy, &master, &epochs),
            0,
            "{what}: a closed account's credentials or webhook secret read with the master key"
        );
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
    // And the live installation still serves every order not due, including those the
    // sweep moved off the keys it destroyed.
    app.keyring.data.clear_cache();
    let keys = app.keyring.keys(&a).await.unwrap();
    let store = app.store.account(&a).await.unwrap();
    for n in live.iter().chain(&soon).chain(&waiting) {
        let row = store.get("bol", n).await.unwrap().unwrap();
        let opened = open_order(&keys, &row).await.unwrap().order;
        assert_eq!(opened.customer, order(n, 0).customer, "{n}");
    }
}

async fn a_crash_between_rewrap_and_destruction_loses_no_key(env: TestEnv) {
    let a = new_account(&env.app, "Crash Shop").await;
    let orders: Vec<Order> = numbers("C-", 5).iter().map(|n| order(n, 0)).collect();
    put_orders(&env.app, &a, &orders).await;
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
    put_orders(&env.app, &a, &orders).await;
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
    put_orders(app, &a, &orders).await;
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

/// Seals an order the way the first crypto-shredding design did: under its erasure
/// day's key (format v2).
async fn seal_v2(app: &App, a: &AccountId, o: &Order, sealed: &mut ordervault::store::SealedOrder) {
    // A day not reached yet: only the finished move may destroy its key.
    let day = DataKeyRef::Day(ordervault::shredding::day_of(t0().timestamp_millis()) + 29);
    let key = app
        .keyring
        .data
        .get(a, &[day], true)
        .await
        .unwrap()
        .remove(&day)
        .unwrap();
    let cipher = field_cipher(a.as_str(), day, &key, None);
    let row = format!("bol/{}", o.order_number.as_str());
    let enc = |column: &str, plain: Vec<u8>| {
        Some(
            cipher
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

/// The migration's progress as a store that predates hour keys has it (catalog
/// migration 0060 empties the table).
async fn forget_reseal_progress(env: &TestEnv) {
    let sql = match env.backend {
        Backend::Sqlite => "DELETE FROM reseal_progress",
        Backend::Postgres => "DELETE FROM ordervault.reseal_progress",
    };
    match env.app.store.catalog().pool() {
        ordervault::store::Pool::Sqlite(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
        ordervault::store::Pool::Postgres(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
    }
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
    drop(seal);
    // Half under the account key (before issue 16), half under a day key (its first
    // design).
    for (i, (o, s)) in orders.iter().zip(sealed.iter_mut()).enumerate() {
        if i % 2 == 0 {
            seal_v1(&keys, o, s);
        } else {
            seal_v2(app, &a, o, s).await;
        }
    }
    let store = app.store.account(&a).await.unwrap();
    store.upsert_orders(&sealed, app.now_ms()).await.unwrap();
    forget_reseal_progress(&env).await;
    let old_rows = |rows: &[ordervault::store::OrderRow]| {
        rows.iter()
            .filter(|r| {
                !matches!(
                    Ciphertext(r.email_ct.clone().unwrap()).seal_ref(),
                    Ok(SealRef::Data {
                        bucket: DataKeyRef::Hour { .. },
                        ..
                    })
                )
            })
            .count()
    };
    assert_eq!(old_rows(&store.list_after(0, 10_000).await.unwrap()), 600);

    // Interrupted after one page, then resumed: every order moves exactly once.
    let first = ordervault::privacy::reseal::reseal_account(app, &a, Some(1))
        .await
        .unwrap();
    assert_eq!((first.resealed, first.done), (500, false));
    // The sweep finishes the move first, then destroys the account's day keys.
    let sweep = ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert_eq!(sweep.accounts[0].day_keys_destroyed, 1);
    let rows = store.list_after(0, 10_000).await.unwrap();
    assert_eq!(old_rows(&rows), 0);
    app.keyring.data.clear_cache();
    for (row, o) in rows.iter().zip(&orders) {
        assert_eq!(open_order(&keys, row).await.unwrap().order, *o);
    }
    assert!(live_data_keys(&env).await.iter().all(|k| k.kind != "day"));
    // A finished account is not scanned again.
    let again = ordervault::privacy::reseal::reseal(app, Some(&a))
        .await
        .unwrap();
    assert_eq!(
        (again.accounts[0].scanned, again.accounts[0].done),
        (0, true)
    );
}

async fn a_fulfilled_order_moves_every_field_to_its_fulfilment_hour(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Shipping Shop").await;
    let open = order("F-1", 0);
    put_orders(app, &a, std::slice::from_ref(&open)).await;
    // The fulfilment update carries no phone and no notes: the stored ones stay, and
    // must move to the fulfilment hour's key with the rest.
    let mut shipped = order("F-1", 60);
    shipped.fulfilled_at = Some(shipped.updated_at);
    shipped.status = ordervault::connectors::OrderStatus::Shipped;
    shipped.customer.phone = None;
    shipped.customer.delivery_notes = None;
    put_orders(app, &a, std::slice::from_ref(&shipped)).await;
    let keys = app.keyring.keys(&a).await.unwrap();
    let now = app.now_ms();
    let want = keys.erasure_hour(&shipped, now);
    // An open order sits under the earliest hour it can fall due (placement plus
    // retention); fulfilment only ever moves it later.
    assert!(want > keys.erasure_hour(&open, now));
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
        let SealRef::Data {
            bucket: DataKeyRef::Hour { hour, .. },
            ..
        } = Ciphertext(ct.clone().unwrap()).seal_ref().unwrap()
        else {
            panic!("not under an hour key")
        };
        assert_eq!(hour, want);
    }
    let opened = open_order(&keys, &row).await.unwrap().order;
    assert_eq!(opened.customer.phone, open.customer.phone);
    assert_eq!(opened.customer.delivery_notes, open.customer.delivery_notes);
}

/// Erasure is immediate in the process that destroyed the key, even for bytes read
/// before; another process that had the key cached loses it within the cache's lifetime.
async fn a_destroyed_key_stops_working_here_at_once(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Cache Shop").await;
    put_orders(
        app,
        &a,
        &[
            subject_order("SUBJ-1"),
            fulfilled("DUE-1", t0(), Duration::days(1)),
        ],
    )
    .await;
    let store = app.store.account(&a).await.unwrap();
    let subject_row = store.get("bol", "SUBJ-1").await.unwrap().unwrap();
    let due_row = store.get("bol", "DUE-1").await.unwrap().unwrap();
    let other = env.restart(env.settings.clone()).await.unwrap();
    let (keys, other_keys) = (
        app.keyring.keys(&a).await.unwrap(),
        other.keyring.keys(&a).await.unwrap(),
    );
    // Both processes have just used the keys (they are cached) when they are destroyed.
    open_order(&keys, &subject_row).await.unwrap();
    open_order(&other_keys, &subject_row).await.unwrap();
    ordervault::privacy::erase_subject(app, &a, "subject.person@example.com")
        .await
        .unwrap();
    assert!(
        open_order(&keys, &subject_row).await.is_err(),
        "the destroying process still opens an erased subject's order"
    );
    env.clock.advance(Duration::days(2));
    let keys = app.keyring.keys(&a).await.unwrap();
    let other_keys = other.keyring.keys(&a).await.unwrap();
    open_order(&keys, &due_row).await.unwrap();
    open_order(&other_keys, &due_row).await.unwrap();
    ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert!(
        open_order(&keys, &due_row).await.is_err(),
        "the destroying process still opens a pseudonymized order"
    );
    env.clock.advance(Duration::milliseconds(
        ordervault::keyring::KEY_CACHE_TTL_MS,
    ));
    for row in [&subject_row, &due_row] {
        assert!(
            open_order(&other_keys, row).await.is_err(),
            "another process still opens an erased order after the cache lifetime"
        );
    }
}

/// A first sync meets a new customer in nearly every order: the keys generated for them
/// are not kept in the process's key cache (a 1,000,000-order sync held 200,000 of them,
/// about 55 MB, issue 18), and every order still opens, its customer key loaded from the
/// catalog.
async fn new_customers_keys_are_not_kept_in_memory(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Many Customers").await;
    app.keyring.data.clear_cache();
    let numbers = numbers("NEW-", 300);
    let orders: Vec<Order> = numbers.iter().map(|n| order(n, 0)).collect();
    put_orders(app, &a, &orders).await;
    let cached = app.keyring.data.cached_keys();
    assert!(
        cached < 10,
        "{cached} keys cached after sealing the orders of 300 new customers"
    );
    let store = app.store.account(&a).await.unwrap();
    let keys = app.keyring.keys(&a).await.unwrap();
    for (n, o) in numbers.iter().zip(&orders) {
        let row = store.get("bol", n).await.unwrap().unwrap();
        let opened = open_order(&keys, &row).await.unwrap().order;
        assert_eq!(opened.customer, o.customer, "order {n} opens whole");
    }
}

/// A retention change moves existing orders to the keys of their new due hours: a
/// shorter retention still forgets within W in a copy taken before the change, a longer
/// one erases nothing early.
async fn a_retention_change_moves_orders_to_their_new_keys(env: TestEnv) {
    let app = &env.app;
    let a = new_account(app, "Retention Shop").await;
    let (short, later, open) = (
        numbers("SHORT-", 2),
        numbers("LATER-", 2),
        numbers("OPEN-", 2),
    );
    // Under 30 days: SHORT due in 10 days, LATER in 25. Under 15: SHORT is overdue.
    let mut orders: Vec<Order> = short
        .iter()
        .map(|n| fulfilled(n, t0(), Duration::days(10)))
        .collect();
    orders.extend(later.iter().map(|n| fulfilled(n, t0(), Duration::days(25))));
    orders.extend(open.iter().map(|n| order(n, 0)));
    put_orders(app, &a, &orders).await;
    let scratch = tempfile::tempdir().unwrap();
    let copy = match env.backend {
        Backend::Sqlite => {
            let dir = scratch.path().join("files");
            sqlite_copy_files(&env, &dir);
            read_sqlite_copy(&dir, std::slice::from_ref(&a)).await
        }
        Backend::Postgres => pg_table_copy(&env, std::slice::from_ref(&a)).await,
    };

    ordervault::accounts::set_retention(app, &a, 15)
        .await
        .unwrap();
    // At once: erased under the new retention; no key moves or goes while other
    // processes may still seal under the old retention.
    let first = ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert_eq!(first.pseudonymized, short.len() as u64);
    assert_eq!(first.accounts[0].day_keys_destroyed, 0);
    // A minute on: every live order moves to new keys, the old ones are destroyed.
    env.clock.advance(Duration::milliseconds(
        ordervault::keyring::KEY_CACHE_TTL_MS + 1_000,
    ));
    let second = ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert_eq!(second.pseudonymized, 0);
    assert_eq!(second.accounts[0].day_keys_destroyed, 3);
    let moved_at = env.clock.now();
    tick_until(
        &env,
        moved_at + Duration::milliseconds(app.keyring.data.window_ms()),
    )
    .await;
    let r = attack(&copy, &live_data_keys(&env).await, &epoch_keys(&env).await);
    assert_eq!(
        recovered(&r, &short),
        0,
        "erased under the shorter retention"
    );
    app.keyring.data.clear_cache();
    let keys = app.keyring.keys(&a).await.unwrap();
    let store = app.store.account(&a).await.unwrap();
    for n in later.iter().chain(&open) {
        let row = store.get("bol", n).await.unwrap().unwrap();
        let opened = open_order(&keys, &row).await.unwrap().order;
        assert_eq!(opened.customer, order(n, 0).customer, "{n}");
        let SealRef::Data {
            bucket: DataKeyRef::Hour { hour, .. },
            ..
        } = Ciphertext(row.email_ct.clone().unwrap())
            .seal_ref()
            .unwrap()
        else {
            panic!("not under an hour key")
        };
        assert_eq!(hour, keys.erasure_hour(&opened, app.now_ms()), "{n}");
    }

    // Longer again: LATER (fulfilled 5 days before t0) is due 55 days after t0 now; a
    // sweep past its old due hours neither erases it nor loses its keys.
    ordervault::accounts::set_retention(app, &a, 60)
        .await
        .unwrap();
    env.clock.advance(Duration::milliseconds(
        ordervault::keyring::KEY_CACHE_TTL_MS + 1_000,
    ));
    ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    env.clock.set(t0() + Duration::days(26));
    app.keyring.data.rotate(None).await.unwrap();
    let late = ordervault::privacy::sweep(app, Some(&a)).await.unwrap();
    assert_eq!(late.pseudonymized, 0);
    app.keyring.data.clear_cache();
    let keys = app.keyring.keys(&a).await.unwrap();
    for n in later.iter().chain(&open) {
        let row = store.get("bol", n).await.unwrap().unwrap();
        let opened = open_order(&keys, &row).await.unwrap().order;
        assert_eq!(opened.customer, order(n, 0).customer, "{n}");
    }
}

/// Writers storing new keys (new customers, new accounts) while another process
/// rotates epochs again and again: no key ends up under a destroyed epoch, every order
/// still opens. On PostgreSQL this runs with real concurrency (several connections).
async fn new_keys_racing_rotations_are_never_lost(env: TestEnv) {
    let a = new_account(&env.app, "Race Shop").await;
    let other = env.restart(env.settings.clone()).await.unwrap();
    let period = env.app.keyring.data.epoch_period_ms();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (app, a) = (env.app.clone(), a.clone());
            tokio::spawn(async move {
                for batch in 0..8 {
                    let orders: Vec<Order> = (0..15)
                        .map(|i| order(&format!("W{w}-{batch}-{i}"), 0))
                        .collect();
                    let keys = app.keyring.keys(&a).await.unwrap();
                    let store = app.store.account(&a).await.unwrap();
                    write_orders(&store, &keys, &orders, app.now_ms())
                        .await
                        .unwrap();
                }
                create_account(&app, &format!("Racing Shop {w}"), None)
                    .await
                    .unwrap()
                    .id
            })
        })
        .collect();
    let rotator = {
        let (other, clock) = (other.clone(), env.clock.clone());
        tokio::spawn(async move {
            let mut started = 0;
            for _ in 0..12 {
                clock.advance(Duration::milliseconds(period));
                started += u32::from(other.keyring.data.rotate(None).await.unwrap().started);
                tokio::task::yield_now().await;
            }
            started
        })
    };
    let mut created = Vec::new();
    for w in writers {
        created.push(w.await.unwrap());
    }
    assert_eq!(rotator.await.unwrap(), 12);
    env.app.keyring.data.rotate(None).await.unwrap();

    let status = env.app.keyring.data.status().await.unwrap();
    assert_eq!(status.oldest_surviving_epoch, status.current_epoch);
    assert!(live_data_keys(&env)
        .await
        .iter()
        .all(|k| k.epoch == status.current_epoch));
    env.app.keyring.data.clear_cache();
    let keys = env.app.keyring.keys(&a).await.unwrap();
    let store = env.app.store.account(&a).await.unwrap();
    let rows = store.list_after(0, 10_000).await.unwrap();
    assert_eq!(rows.len(), 4 * 8 * 15);
    for row in &rows {
        assert_eq!(
            open_order(&keys, row).await.unwrap().order.customer,
            order(&row.order_number, 0).customer
        );
    }
    // The accounts created meanwhile have usable keys (their outer layer was moved too).
    for id in created {
        env.app.keyring.forget(&id);
        env.app.keyring.keys(&id).await.unwrap();
    }
}

/// Keys stored by a transaction that is still open when a rotation starts (it read
/// the epochs before the new one began): the rotation waits for it before its last
/// rewrap, so the keys move to the new epoch instead of being left under the old one,
/// whose key the rotation destroys. The keys go in as the keyring stores them: several
/// in one multi-row statement.
async fn a_key_insert_in_flight_during_rotation_is_rewrapped(env: TestEnv) {
    let a = new_account(&env.app, "Slow Writer Shop").await;
    let catalog = env.app.store.catalog();
    let old = env.app.keyring.data.status().await.unwrap().current_epoch;
    let kek = FileEpochStore::new(env.settings.keyring_dir())
        .load(old)
        .await
        .unwrap()
        .unwrap();
    let refs: Vec<DataKeyRef> = (7..10)
        .map(|b| DataKeyRef::Customer(ordervault::crypto::CustomerId([b; 16])))
        .collect();
    let rows: Vec<DataKeyRow> = refs
        .iter()
        .map(|r| DataKeyRow {
            account_id: a.clone(),
            kind: r.kind().to_owned(),
            scope: r.scope(),
            day: r.bucket(),
            epoch: old,
            wrapped_key: kek.wrap(old, a.as_str(), r, &ordervault::crypto::DataKey::generate()),
        })
        .collect();
    let other = env.restart(env.settings.clone()).await.unwrap();
    let clock = env.clock.clone();
    let period = env.app.keyring.data.epoch_period_ms();
    macro_rules! race {
        ($pool:expr, $insert:ident) => {{
            let mut tx = $pool.begin().await.unwrap();
            let n = catalog.$insert(&mut tx, &rows, 0).await.unwrap();
            assert_eq!(n, rows.len() as u64);
            let rotation = tokio::spawn(async move {
                clock.advance(Duration::milliseconds(period));
                other.keyring.data.rotate(None).await.unwrap()
            });
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            tx.commit().await.unwrap();
            rotation.await.unwrap()
        }};
    }
    let report = match catalog.pool() {
        ordervault::store::Pool::Sqlite(p) => race!(p, insert_data_keys_sqlite),
        ordervault::store::Pool::Postgres(p) => race!(p, insert_data_keys_pg),
    };
    assert_eq!(report.destroyed_epochs, vec![old]);
    let live = live_data_keys(&env).await;
    for r in &refs {
        let key = live
            .iter()
            .find(|k| k.kind == "customer" && k.scope == r.scope())
            .expect("the key is stored");
        assert_eq!(
            key.epoch, report.current_epoch,
            "a key committed during the rotation was left under the destroyed epoch"
        );
    }
}

/// A batch of keys under an epoch that a rotation has already left behind stores none
/// of them (the rewrap may have passed them), and the keyring then stores the batch
/// under the current epoch, so no key is lost.
async fn a_key_batch_under_a_superseded_epoch_is_refused_whole(env: TestEnv) {
    let a = new_account(&env.app, "Late Writer Shop").await;
    let catalog = env.app.store.catalog();
    let old = env.app.keyring.data.status().await.unwrap().current_epoch;
    let kek = FileEpochStore::new(env.settings.keyring_dir())
        .load(old)
        .await
        .unwrap()
        .unwrap();
    env.clock.advance(Duration::milliseconds(
        env.app.keyring.data.epoch_period_ms(),
    ));
    let report = env.app.keyring.data.rotate(None).await.unwrap();
    assert!(report.current_epoch > old);
    let refs: Vec<DataKeyRef> = (20..24)
        .map(|b| DataKeyRef::Customer(ordervault::crypto::CustomerId([b; 16])))
        .collect();
    let rows: Vec<DataKeyRow> = refs
        .iter()
        .map(|r| DataKeyRow {
            account_id: a.clone(),
            kind: r.kind().to_owned(),
            scope: r.scope(),
            day: r.bucket(),
            epoch: old,
            wrapped_key: kek.wrap(old, a.as_str(), r, &ordervault::crypto::DataKey::generate()),
        })
        .collect();
    assert_eq!(catalog.insert_data_keys(&rows, 0).await.unwrap(), 0);
    assert!(live_data_keys(&env)
        .await
        .iter()
        .all(|k| k.account_id != a || k.kind != "customer"));
    // The keyring creates them under the current epoch, all in one go.
    let got = env.app.keyring.data.get(&a, &refs, true).await.unwrap();
    assert_eq!(got.len(), refs.len());
    let stored: Vec<DataKeyRow> = live_data_keys(&env)
        .await
        .into_iter()
        .filter(|k| k.account_id == a && k.kind == "customer")
        .collect();
    assert_eq!(stored.len(), refs.len());
    assert!(stored.iter().all(|k| k.epoch == report.current_epoch));
    // What the keyring handed out is what it stored: a fresh process opens the same keys.
    env.app.keyring.data.clear_cache();
    let again = env.app.keyring.data.get(&a, &refs, false).await.unwrap();
    // (Key wrapping is deterministic (AES-SIV, no nonce): equal wraps, equal keys.)
    for r in &refs {
        assert_eq!(
            kek.wrap(old, a.as_str(), r, &again[r]),
            kek.wrap(old, a.as_str(), r, &got[r]),
            "{r:?}"
        );
    }
}

both_backends!(
    a_copy_forgets_erased_data_within_the_window,
    a_crash_between_rewrap_and_destruction_loses_no_key,
    a_keyring_dir_that_is_not_writable_stops_start_up,
    two_processes_rotating_at_once_agree,
    keys_status_counts_live_and_destroyed_keys,
    an_existing_store_moves_onto_data_keys_resumably,
    a_fulfilled_order_moves_every_field_to_its_fulfilment_hour,
    a_destroyed_key_stops_working_here_at_once,
    new_customers_keys_are_not_kept_in_memory,
    a_retention_change_moves_orders_to_their_new_keys,
    new_keys_racing_rotations_are_never_lost,
    a_key_insert_in_flight_during_rotation_is_rewrapped,
    a_key_batch_under_a_superseded_epoch_is_refused_whole,
);
