//! Encryption through the store, on both backends: round trip; a ciphertext moved to
//! another row or another account, or tampered with, fails to decrypt; a wrong master
//! key is refused; master-key rotation rewraps keys and is resumable.

use crate::common;

use crate::common::{exec, order, TestEnv};
use ordervault::accounts::create_account;
use ordervault::crypto::{CryptoError, MasterKey};
use ordervault::error::ServiceError;
use ordervault::keyring::KeyringError;
use ordervault::orders::{open_order, SealError};
use ordervault::store::UpsertOutcome;

async fn store_orders(env: &TestEnv, account: &str, numbers: &[&str]) {
    let orders: Vec<_> = numbers.iter().map(|n| order(n, 0)).collect();
    let out = common::put_orders(&env.app, &account.parse().unwrap(), &orders).await;
    assert!(out.iter().all(|o| *o == UpsertOutcome::Inserted));
}

async fn open(
    env: &TestEnv,
    account: &str,
    number: &str,
) -> Result<ordervault::orders::OpenedOrder, SealError> {
    let id = account.parse().unwrap();
    let keys = env.app.keyring.keys(&id).await.unwrap();
    let row = env
        .account_store(account)
        .await
        .get("bol", number)
        .await
        .unwrap()
        .expect("row");
    open_order(&keys, &row).await
}

fn is_auth_failure(r: Result<ordervault::orders::OpenedOrder, SealError>) -> bool {
    // A ciphertext from another account names a customer key this account does not
    // have (KeyUnavailable) or fails authentication under the key it finds.
    matches!(
        r,
        Err(SealError::Crypto(
            CryptoError::Authentication | CryptoError::KeyUnavailable
        ))
    )
}

async fn round_trip(env: TestEnv) {
    let a = create_account(&env.app, "Shop", None).await.unwrap();
    store_orders(&env, a.id.as_str(), &["1001"]).await;
    let opened = open(&env, a.id.as_str(), "1001").await.unwrap();
    assert_eq!(opened.order, order("1001", 0));
    assert!(opened.pseudonymized_at.is_none());
}

async fn ciphertext_moved_to_another_row_fails(env: TestEnv) {
    let a = create_account(&env.app, "Shop", None).await.unwrap();
    store_orders(&env, a.id.as_str(), &["1001", "1002"]).await;
    let store = env.account_store(a.id.as_str()).await;
    exec(
        &store,
        "UPDATE {p}orders SET shipping_ct = (SELECT shipping_ct FROM {p}orders WHERE order_number = '1002') \
         WHERE order_number = '1001'",
    )
    .await;
    assert!(is_auth_failure(open(&env, a.id.as_str(), "1001").await));
    assert!(open(&env, a.id.as_str(), "1002").await.is_ok());
    // Moving a ciphertext to another column of the same row fails too.
    exec(
        &store,
        "UPDATE {p}orders SET billing_ct = shipping_ct WHERE order_number = '1002'",
    )
    .await;
    assert!(is_auth_failure(open(&env, a.id.as_str(), "1002").await));
}

async fn ciphertext_moved_to_another_account_fails(env: TestEnv) {
    let a = create_account(&env.app, "Shop A", None).await.unwrap();
    let b = create_account(&env.app, "Shop B", None).await.unwrap();
    store_orders(&env, a.id.as_str(), &["1001"]).await;
    store_orders(&env, b.id.as_str(), &["1001"]).await;
    let row_a = env
        .account_store(a.id.as_str())
        .await
        .get("bol", "1001")
        .await
        .unwrap()
        .unwrap();
    let hexed = hex::encode(row_a.email_ct.unwrap());
    let lit = match env.backend {
        common::Backend::Sqlite => format!("X'{hexed}'"),
        common::Backend::Postgres => format!("'\\x{hexed}'::bytea"),
    };
    let store_b = env.account_store(b.id.as_str()).await;
    exec(
        &store_b,
        &format!("UPDATE {{p}}orders SET email_ct = {lit} WHERE order_number = '1001'"),
    )
    .await;
    assert!(is_auth_failure(open(&env, b.id.as_str(), "1001").await));
}

async fn tampered_ciphertext_fails(env: TestEnv) {
    let a = create_account(&env.app, "Shop", None).await.unwrap();
    store_orders(&env, a.id.as_str(), &["1001"]).await;
    let store = env.account_store(a.id.as_str()).await;
    let row = store.get("bol", "1001").await.unwrap().unwrap();
    let mut ct = row.phone_ct.unwrap();
    let last = ct.len() - 1;
    ct[last] ^= 1;
    let lit = match env.backend {
        common::Backend::Sqlite => format!("X'{}'", hex::encode(&ct)),
        common::Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(&ct)),
    };
    exec(
        &store,
        &format!("UPDATE {{p}}orders SET phone_ct = {lit} WHERE order_number = '1001'"),
    )
    .await;
    assert!(is_auth_failure(open(&env, a.id.as_str(), "1001").await));
}

async fn wrong_master_key_is_refused(env: TestEnv) {
    create_account(&env.app, "Shop", None).await.unwrap();
    let mut settings = env.settings.clone();
    let other = env.dir.path().join("other.key");
    ordervault::app::write_key_file(&other, &MasterKey::generate()).unwrap();
    settings.keys.master_key_file = other.display().to_string();
    let err = env.restart(settings).await.unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Keyring(KeyringError::WrongMasterKey { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("not the one this catalog uses"));
}

async fn master_rotation_rewraps_and_resumes(env: TestEnv) {
    let a = create_account(&env.app, "Shop A", None).await.unwrap();
    let b = create_account(&env.app, "Shop B", None).await.unwrap();
    store_orders(&env, a.id.as_str(), &["1001"]).await;
    store_orders(&env, b.id.as_str(), &["2002"]).await;
    let new_path = env.dir.path().join("new.key");
    let new_key = MasterKey::generate();
    ordervault::app::write_key_file(&new_path, &new_key).unwrap();

    let report = env.app.keyring.rotate_master(&new_key).await.unwrap();
    assert_eq!((report.rewrapped, report.already_done), (2, 0));
    // As if the process died before recording the new key: running again finishes it.
    env.app
        .store
        .catalog()
        .set_meta("kek_fingerprint", &env.app.keyring.fingerprint())
        .await
        .unwrap();
    let again = env.app.keyring.rotate_master(&new_key).await.unwrap();
    assert_eq!((again.rewrapped, again.already_done), (0, 2));

    let mut settings = env.settings.clone();
    settings.keys.master_key_file = new_path.display().to_string();
    let rotated = env.restart(settings).await.unwrap();
    let id = a.id.clone();
    let keys = rotated.keyring.keys(&id).await.unwrap();
    let row = rotated
        .store
        .account(&id)
        .await
        .unwrap()
        .get("bol", "1001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        open_order(&keys, &row).await.unwrap().order,
        order("1001", 0)
    );
    // The old key no longer opens the installation.
    assert!(env.restart(env.settings.clone()).await.is_err());
}

both_backends!(
    round_trip,
    ciphertext_moved_to_another_row_fails,
    ciphertext_moved_to_another_account_fails,
    tampered_ciphertext_fails,
    wrong_master_key_is_refused,
    master_rotation_rewraps_and_resumes,
);
