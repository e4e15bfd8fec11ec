//! No plaintext personal data at rest: store a corpus of orders with known personal
//! values, then scan every byte of the SQLite files (database and WAL) and a `pg_dump`
//! of the PostgreSQL database for each value, its lower-case form and its hex form.

use crate::common::corpus::{corpus, leaks};
use crate::common::{Backend, TestEnv};
use ordervault::accounts::create_account;
use ordervault::ids::AccountId;
use ordervault::orders::{open_order, seal_order};

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

async fn no_personal_value_at_rest(env: TestEnv) {
    let (orders, values) = corpus(200);
    let a = create_account(&env.app, "Leak Test Shop", None)
        .await
        .unwrap();
    let id: AccountId = a.id.clone();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    let store = env.app.store.account(&id).await.unwrap();
    let seal = keys.seal_keys(&orders).await.unwrap();
    let sealed: Vec<_> = orders.iter().map(|o| seal_order(&seal, o)).collect();
    store
        .upsert_orders(&sealed, env.app.now_ms())
        .await
        .unwrap();
    // Sanity: the data is really there and readable with the key.
    let row = store.get("bol", "LEAK-0007").await.unwrap().unwrap();
    assert_eq!(open_order(&keys, &row).await.unwrap().order, orders[7]);
    assert!(
        leaks(format!("{:?}", orders[7]).as_bytes(), &values).is_empty(),
        "Debug leaks"
    );

    match env.backend {
        Backend::Sqlite => {
            let mut files = Vec::new();
            all_files(&env.data_dir(), &mut files);
            assert!(
                files.iter().any(|f| f.to_string_lossy().ends_with("-wal")),
                "WAL scanned too"
            );
            let mut scanned = 0;
            let mut saw_order_numbers = false;
            for f in files {
                let bytes = std::fs::read(&f).unwrap();
                scanned += bytes.len();
                saw_order_numbers |= memchr::memmem::find(&bytes, b"LEAK-0199").is_some();
                let found = leaks(&bytes, &values);
                assert!(
                    found.is_empty(),
                    "{} holds {} personal values",
                    f.display(),
                    found.len()
                );
            }
            assert!(scanned > 100_000, "scanned {scanned} bytes");
            assert!(
                saw_order_numbers,
                "the scan sees clear business data, so it would see leaks"
            );
        }
        Backend::Postgres => {
            let url = &env.pg.as_ref().unwrap().url;
            let out = std::process::Command::new("pg_dump")
                .arg("--dbname")
                .arg(url)
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout.len() > 50_000,
                "dump too small: {}",
                out.stdout.len()
            );
            let dump = String::from_utf8_lossy(&out.stdout);
            assert!(dump.contains("LEAK-0199"), "dump holds the orders");
            let found = leaks(&out.stdout, &values);
            assert!(
                found.is_empty(),
                "pg_dump holds {} personal values",
                found.len()
            );
        }
    }
}

both_backends!(no_personal_value_at_rest);
