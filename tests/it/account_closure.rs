//! Account closure, on both backends: no store (file or schema), no key, no token left;
//! a receipt with the counts; closing twice returns the same receipt; a closure
//! interrupted after any step finishes when run again.

use crate::common;
use crate::common::api::TestApp;

use crate::common::{order, Backend, TestEnv};
use ordervault::accounts::create_account;
use ordervault::ids::{AccountId, Role};
use ordervault::keyring::{KeyringError, KEY_CACHE_TTL_MS};
use ordervault::orders::seal_order;
use ordervault::privacy::closure::{close_account, close_account_until, ClosureStep};
use ordervault::store::catalog::AccountStatus;
use ordervault::tokens::{create_token, token_hash};
use secrecy::ExposeSecret;

async fn account_with_orders(env: &TestEnv, n: usize) -> AccountId {
    let a = create_account(&env.app, "Closing Shop", None)
        .await
        .unwrap();
    let id: AccountId = a.id.clone();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    let orders: Vec<_> = (0..n).map(|i| order(&format!("N{i}"), 0)).collect();
    let seal = keys.seal_keys(&orders).await.unwrap();
    let sealed: Vec<_> = orders.iter().map(|o| seal_order(&seal, o)).collect();
    env.app
        .store
        .account(&id)
        .await
        .unwrap()
        .upsert_orders(&sealed, 0)
        .await
        .unwrap();
    id
}

async fn assert_gone(env: &TestEnv, id: &AccountId, wrapped: &[u8]) {
    assert!(
        !env.app.store.account_store_exists(id).await.unwrap(),
        "store still exists"
    );
    assert!(env
        .app
        .store
        .catalog()
        .account_keys(id)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        env.app.keyring.keys(id).await,
        Err(KeyringError::NoKey(_))
    ));
    let record = env.app.store.catalog().account(id).await.unwrap().unwrap();
    assert_eq!(record.status, AccountStatus::Closed);
    if env.backend == Backend::Sqlite {
        let dir = env.data_dir();
        let files: Vec<_> = std::fs::read_dir(dir.join("accounts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|f| f.starts_with(id.as_str()))
            .collect();
        assert!(files.is_empty(), "files left: {files:?}");
        // The wrapped key's bytes are gone from the catalog files, not just unlinked rows.
        for f in ["catalog.db", "catalog.db-wal"] {
            if let Ok(bytes) = std::fs::read(dir.join(f)) {
                assert!(
                    memchr::memmem::find(&bytes, wrapped).is_none(),
                    "wrapped key bytes in {f}"
                );
            }
        }
    }
    // Whichever backend: the store of a closed account is not handed out.
    assert!(env.app.store.account(id).await.is_err());
}

async fn close_removes_store_keys_and_tokens(env: TestEnv) {
    let id = account_with_orders(&env, 25).await;
    let other = account_with_orders(&env, 3).await;
    let (token, _) = create_token(&env.app, Role::Backoffice, Some(id.as_str()), None)
        .await
        .unwrap();
    let wrapped = env.app.store.catalog().account_keys(&id).await.unwrap()[0]
        .wrapped_key
        .clone();

    let receipt = close_account(&env.app, &id).await.unwrap();
    assert_eq!(receipt.account_id, id);
    assert_eq!(receipt.orders_deleted, 25);
    assert_eq!(receipt.key_versions_destroyed, 1);
    assert_gone(&env, &id, &wrapped).await;
    let catalog = env.app.store.catalog();
    assert!(catalog
        .token_by_hash(&token_hash(token.expose_secret()))
        .await
        .unwrap()
        .is_none());

    // Idempotent: the same receipt again.
    assert_eq!(close_account(&env.app, &id).await.unwrap(), receipt);
    // Other accounts are untouched.
    let store = env.app.store.account(&other).await.unwrap();
    assert_eq!(store.count_orders().await.unwrap(), 3);
    assert!(env.app.keyring.keys(&other).await.is_ok());
    // No new token for a closed account.
    assert!(
        create_token(&env.app, Role::Backoffice, Some(id.as_str()), None)
            .await
            .is_err()
    );
}

async fn interrupted_closure_resumes(env: TestEnv) {
    for step in [
        ClosureStep::MarkedClosing,
        ClosureStep::KeysShredded,
        ClosureStep::StoreDropped,
    ] {
        let id = account_with_orders(&env, 7).await;
        let wrapped = env.app.store.catalog().account_keys(&id).await.unwrap()[0]
            .wrapped_key
            .clone();
        assert!(close_account_until(&env.app, &id, Some(step))
            .await
            .unwrap()
            .is_none());
        let record = env.app.store.catalog().account(&id).await.unwrap().unwrap();
        assert_eq!(record.status, AccountStatus::Closing, "after {step:?}");
        // A restarted process finishes the closure with the counts taken at the start.
        let restarted = env.restart(env.settings.clone()).await.unwrap();
        let receipt = close_account(&restarted, &id).await.unwrap();
        assert_eq!(
            (receipt.orders_deleted, receipt.key_versions_destroyed),
            (7, 1),
            "{step:?}"
        );
        // The first process may still hold the keys in its cache, for one TTL at most.
        env.clock
            .advance(chrono::Duration::milliseconds(KEY_CACHE_TTL_MS));
        assert_gone(&env, &id, &wrapped).await;
    }
}

async fn unknown_account_is_not_found(env: TestEnv) {
    let id: AccountId = "0123456789abcdef".parse().unwrap();
    let err = close_account(&env.app, &id).await.unwrap_err();
    assert_eq!(err.to_string(), "account not found");
}

/// Issue 12, point 1: a padded id (`%20<id>`, `%0A`, `%09`) once deleted the store and
/// left the account active with its key; it is not an id, and nothing is touched.
async fn padded_id_deletes_nothing(env: TestEnv) {
    let id = account_with_orders(&env, 9).await;
    let api = TestApp::spawn(&env).await;
    let admin = common::api::token(&env, Role::Admin, None).await;
    let backoffice = common::api::token(&env, Role::Backoffice, Some(&id)).await;
    for pad in ["%20", "%0A", "%09"] {
        for path in [format!("{pad}{id}"), format!("{id}{pad}")] {
            let resp = api.close_account(&admin, &path).await;
            assert_eq!(resp.status, 404, "{path}");
            assert_eq!(
                resp.header("content-type"),
                "application/problem+json",
                "{path}"
            );
        }
    }
    for raw in [format!(" {id}"), format!("{id}\n"), format!("\t{id}")] {
        assert!(AccountId::parse(&raw).is_err(), "{raw:?}");
    }
    // Nothing was deleted: the account is active, its store answers, its token works.
    assert!(env.app.store.account_store_exists(&id).await.unwrap());
    let record = env.app.store.catalog().account(&id).await.unwrap().unwrap();
    assert_eq!(record.status, AccountStatus::Active);
    let store = env.app.store.account(&id).await.unwrap();
    assert_eq!(store.count_orders().await.unwrap(), 9);
    drop(store);
    assert_eq!(api.new_orders(&backoffice).await.status, 200);
    // A normal close reports every order.
    let resp = api.close_account(&admin, id.as_str()).await;
    assert_eq!(resp.status, 200);
    let receipt = resp.json();
    assert_eq!(receipt["orders_deleted"], 9);
    assert_eq!(receipt["account_id"], id.as_str());
}

/// A closure whose counts cannot be taken (the store vanished before them) stops with
/// the account `closing` and its keys intact, rather than write a receipt saying 0.
async fn closure_never_under_reports(env: TestEnv) {
    let id = account_with_orders(&env, 4).await;
    // Simulate the old bug: the store dropped while the account is still active.
    env.app.store.drop_account_store(&id).await.unwrap();
    let err = close_account(&env.app, &id).await.unwrap_err();
    assert!(err.to_string().contains("stays closing"), "{err}");
    let catalog = env.app.store.catalog();
    let record = catalog.account(&id).await.unwrap().unwrap();
    assert_eq!(record.status, AccountStatus::Closing);
    assert!(catalog.receipt(&id).await.unwrap().is_none());
    assert_eq!(catalog.account_keys(&id).await.unwrap().len(), 1);
}

/// Descriptors of this process that point at the account's SQLite files.
fn open_descriptors(id: &AccountId) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().contains(&format!("{id}.db")))
                .count()
        })
        .unwrap_or(0)
}

/// Issue 12, point 5: a closure run by another process (the CLI) makes a running
/// `serve` drop its pool of the account at once: on the periodic check for an idle pool,
/// and on the next use otherwise. No descriptor to the deleted files stays open.
async fn other_processes_drop_a_closing_store(env: TestEnv) {
    let id = account_with_orders(&env, 2).await;
    let idle = env.restart(env.settings.clone()).await.unwrap();
    let busy = env.restart(env.settings.clone()).await.unwrap();
    for serve in [&idle, &busy] {
        let store = serve.store.account(&id).await.unwrap();
        assert_eq!(store.count_orders().await.unwrap(), 2);
    }
    let sqlite = env.backend == Backend::Sqlite;
    if sqlite {
        assert!(open_descriptors(&id) > 0);
    }
    close_account(&env.app, &id).await.unwrap();
    // The idle process: its periodic check closes the pool.
    let released = idle.store.release_closed_stores().await.unwrap();
    assert_eq!(released, usize::from(sqlite));
    // The busy process: its next use is refused, and closes the pool.
    assert!(busy.store.account(&id).await.is_err());
    if sqlite {
        assert_eq!(open_descriptors(&id), 0, "descriptors to a deleted store");
    }
    assert!(idle.store.account(&id).await.is_err());
}

both_backends!(
    close_removes_store_keys_and_tokens,
    interrupted_closure_resumes,
    unknown_account_is_not_found,
    padded_id_deletes_nothing,
    closure_never_under_reports,
    other_processes_drop_a_closing_store,
);
