//! Account closure, on both backends: no store (file or schema), no key, no token left;
//! a receipt with the counts; closing twice returns the same receipt; a closure
//! interrupted after any step finishes when run again.

mod common;

use common::{order, Backend, TestEnv};
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
    let id: AccountId = a.id.parse().unwrap();
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
        .account_keys(id.as_str())
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        env.app.keyring.keys(id).await,
        Err(KeyringError::NoKey(_))
    ));
    let record = env
        .app
        .store
        .catalog()
        .account(id.as_str())
        .await
        .unwrap()
        .unwrap();
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
    } else {
        let store = env.app.store.account(id).await.unwrap();
        assert!(
            store.count_orders().await.is_err(),
            "schema still queryable"
        );
    }
}

async fn close_removes_store_keys_and_tokens(env: TestEnv) {
    let id = account_with_orders(&env, 25).await;
    let other = account_with_orders(&env, 3).await;
    let (token, _) = create_token(&env.app, Role::Backoffice, Some(id.as_str()), None)
        .await
        .unwrap();
    let wrapped = env
        .app
        .store
        .catalog()
        .account_keys(id.as_str())
        .await
        .unwrap()[0]
        .wrapped_key
        .clone();

    let receipt = close_account(&env.app, id.as_str()).await.unwrap();
    assert_eq!(receipt.account_id, id.as_str());
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
    assert_eq!(close_account(&env.app, id.as_str()).await.unwrap(), receipt);
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
        let wrapped = env
            .app
            .store
            .catalog()
            .account_keys(id.as_str())
            .await
            .unwrap()[0]
            .wrapped_key
            .clone();
        assert!(close_account_until(&env.app, id.as_str(), Some(step))
            .await
            .unwrap()
            .is_none());
        let record = env
            .app
            .store
            .catalog()
            .account(id.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status, AccountStatus::Closing, "after {step:?}");
        // A restarted process finishes the closure with the counts taken at the start.
        let restarted = env.restart(env.settings.clone()).await.unwrap();
        let receipt = close_account(&restarted, id.as_str()).await.unwrap();
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
    for id in ["0123456789abcdef", "not-an-id", ""] {
        let err = close_account(&env.app, id).await.unwrap_err();
        assert_eq!(err.to_string(), "account not found");
    }
}

both_backends!(
    close_removes_store_keys_and_tokens,
    interrupted_closure_resumes,
    unknown_account_is_not_found
);
