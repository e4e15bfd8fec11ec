//! Upsert rules, on both backends: idempotent on (marketplace, order number); a newer
//! marketplace update wins, an older or equal one changes nothing; a payload lacking a
//! personal field keeps the stored ciphertext; a pseudonymized order never regains data;
//! a merge made from a stale read never overwrites a concurrent writer's fields.

use crate::common::{exec, order, TestEnv};
use ordervault::accounts::create_account;
use ordervault::connectors::{MarketplaceKind, Order, OrderStatus};
use ordervault::orders::{open_order, seal_order};
use ordervault::store::SealedOrder;
use ordervault::store::UpsertOutcome::{self, Inserted, Unchanged, Updated};

struct Fixture {
    env: TestEnv,
    account: String,
}

impl Fixture {
    async fn new(env: TestEnv) -> Self {
        let account = create_account(&env.app, "Shop", None)
            .await
            .unwrap()
            .id
            .to_string();
        Self { env, account }
    }

    async fn put(&self, orders: &[Order]) -> Vec<UpsertOutcome> {
        let id = self.account.parse().unwrap();
        let keys = self.env.app.keyring.keys(&id).await.unwrap();
        let seal = keys.seal_keys(orders).await.unwrap();
        let sealed: Vec<_> = orders.iter().map(|o| seal_order(&seal, o)).collect();
        let store = self.env.account_store(&self.account).await;
        store
            .upsert_orders(&sealed, self.env.app.now_ms())
            .await
            .unwrap()
    }

    async fn get(&self, marketplace: &str, number: &str) -> Order {
        let id = self.account.parse().unwrap();
        let keys = self.env.app.keyring.keys(&id).await.unwrap();
        let store = self.env.account_store(&self.account).await;
        let row = store
            .get(marketplace, number)
            .await
            .unwrap()
            .expect("stored");
        open_order(&keys, &row).await.unwrap().order
    }

    async fn count(&self) -> i64 {
        self.env
            .account_store(&self.account)
            .await
            .count_orders()
            .await
            .unwrap()
    }
}

async fn same_order_twice_is_stored_once(env: TestEnv) {
    let f = Fixture::new(env).await;
    assert_eq!(
        f.put(&[order("A1", 0), order("A2", 0)]).await,
        vec![Inserted, Inserted]
    );
    assert_eq!(
        f.put(&[order("A1", 0), order("A2", 0)]).await,
        vec![Unchanged, Unchanged]
    );
    // Same number on another marketplace is another order.
    let mut amazon = order("A1", 0);
    amazon.marketplace = MarketplaceKind::Amazon;
    assert_eq!(f.put(&[amazon]).await, vec![Inserted]);
    assert_eq!(f.count().await, 3);
    let both = f
        .env
        .account_store(&f.account)
        .await
        .find_by_number("A1")
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
}

async fn newer_update_wins_older_or_equal_changes_nothing(env: TestEnv) {
    let f = Fixture::new(env).await;
    f.put(&[order("B1", 10)]).await;

    let mut shipped = order("B1", 20);
    shipped.status = OrderStatus::Shipped;
    shipped.fulfilled_at = Some(shipped.updated_at);
    assert_eq!(f.put(&[shipped.clone()]).await, vec![Updated]);
    assert_eq!(f.get("bol", "B1").await.status, OrderStatus::Shipped);

    // An older update (a late page, an overlapping poll) changes nothing.
    let mut stale = order("B1", 15);
    stale.status = OrderStatus::Cancelled;
    assert_eq!(f.put(&[stale]).await, vec![Unchanged]);
    // Equal time with different content: still nothing.
    let mut equal = shipped.clone();
    equal.status = OrderStatus::Open;
    assert_eq!(f.put(&[equal]).await, vec![Unchanged]);
    assert_eq!(f.get("bol", "B1").await, shipped);
    assert_eq!(f.count().await, 1);
}

async fn missing_personal_fields_keep_stored_ciphertext(env: TestEnv) {
    let f = Fixture::new(env).await;
    let full = order("C1", 0);
    f.put(std::slice::from_ref(&full)).await;
    let mut thin = order("C1", 60);
    thin.status = OrderStatus::Shipped;
    thin.customer.billing = None;
    thin.customer.phone = None;
    thin.customer.email = None;
    assert_eq!(f.put(&[thin]).await, vec![Updated]);
    let got = f.get("bol", "C1").await;
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(
        got.customer, full.customer,
        "ciphertexts kept when the payload lacks them"
    );
    let store = f.env.account_store(&f.account).await;
    let row = store.get("bol", "C1").await.unwrap().unwrap();
    assert!(row.email_index.is_some(), "email index kept too");

    // A newer payload that does carry a field replaces it.
    let mut moved = order("C1", 120);
    moved.customer.shipping.as_mut().unwrap().city = Some("Rotterdam".into());
    f.put(&[moved]).await;
    let got = f.get("bol", "C1").await;
    assert_eq!(
        got.customer.shipping.unwrap().city.unwrap().as_str(),
        "Rotterdam"
    );
}

async fn pseudonymized_order_never_regains_personal_data(env: TestEnv) {
    let f = Fixture::new(env).await;
    f.put(&[order("D1", 0)]).await;
    let store = f.env.account_store(&f.account).await;
    let n = exec(
        &store,
        "UPDATE {p}orders SET shipping_ct = NULL, billing_ct = NULL, email_ct = NULL, phone_ct = NULL, \
         notes_ct = NULL, billing_email_ct = NULL, buyer_ct = NULL, pickup_ct = NULL, \
         email_index = NULL, pseudonymized_at = 1 WHERE order_number = 'D1'",
    )
    .await;
    assert_eq!(n, 1);
    let mut later = order("D1", 24 * 60);
    later.status = OrderStatus::Shipped;
    later.customer.buyer_username = Some("koper_d1".into());
    later.customer.billing_email = Some("factuur@example.nl".into());
    later.customer.pickup_point = Some(ordervault::connectors::PickupPoint {
        name: Some("Afhaalpunt".into()),
        address: None,
    });
    assert_eq!(f.put(&[later]).await, vec![Updated]);
    let row = store.get("bol", "D1").await.unwrap().unwrap();
    assert_eq!(row.status, "shipped", "business fields still update");
    for (name, col) in [
        ("shipping", &row.shipping_ct),
        ("billing", &row.billing_ct),
        ("email", &row.email_ct),
        ("phone", &row.phone_ct),
        ("notes", &row.notes_ct),
        ("billing_email", &row.billing_email_ct),
        ("buyer", &row.buyer_ct),
        ("pickup", &row.pickup_ct),
        ("email_index", &row.email_index),
    ] {
        assert!(col.is_none(), "{name} came back after pseudonymization");
    }
}

/// A page can list one order twice (bol's newest-first paging shifts items); a batch of
/// several hundred, written with multi-row statements, must keep the newest copy.
async fn duplicates_and_large_batches_in_one_call(env: TestEnv) {
    let f = Fixture::new(env).await;
    let mut batch: Vec<Order> = (0..300).map(|i| order(&format!("D{i}"), 5)).collect();
    let mut newer = order("D7", 9);
    newer.status = OrderStatus::Shipped;
    batch.push(newer.clone());
    batch.push(order("D7", 1)); // an older copy after the newer one
    let out = f.put(&batch).await;
    assert_eq!(out.len(), 302);
    assert_eq!(out[7], Unchanged, "older copy of D7 in the same batch");
    assert_eq!(out[300], Inserted, "newest copy of D7 is the one written");
    assert_eq!(out[301], Unchanged);
    assert_eq!(out.iter().filter(|o| **o == Inserted).count(), 300);
    assert_eq!(f.count().await, 300);
    assert_eq!(f.get("bol", "D7").await, newer);
    assert_eq!(f.get("bol", "D299").await, order("D299", 5));
}

/// The store applies a merged write only over the version it was merged with.
async fn a_write_over_a_moved_base_is_refused(env: TestEnv) {
    let f = Fixture::new(env).await;
    f.put(&[order("E1", 0)]).await;
    let id = f.account.parse().unwrap();
    let keys = f.env.app.keyring.keys(&id).await.unwrap();
    let store = f.env.account_store(&f.account).await;
    let sealed = |o: Order, base: i64| {
        let keys = keys.clone();
        async move {
            let seal = keys.seal_keys(std::slice::from_ref(&o)).await.unwrap();
            SealedOrder {
                base_version: Some(base),
                ..seal_order(&seal, &o)
            }
        }
    };
    let now = f.env.app.now_ms();
    let mut shipped = order("E1", 60);
    shipped.status = OrderStatus::Shipped;
    let first = sealed(shipped.clone(), 1).await;
    assert_eq!(
        store.upsert_orders(&[first], now).await.unwrap(),
        vec![Updated]
    );
    // Merged with version 1, which is gone: refused, the row stays as written.
    let mut cancelled = order("E1", 120);
    cancelled.status = OrderStatus::Cancelled;
    let stale = sealed(cancelled.clone(), 1).await;
    assert_eq!(
        store.upsert_orders(&[stale], now).await.unwrap(),
        vec![Unchanged]
    );
    assert_eq!(f.get("bol", "E1").await.status, OrderStatus::Shipped);
    // "Expected no row" over an existing row: refused too.
    let absent = sealed(cancelled.clone(), 0).await;
    assert_eq!(
        store.upsert_orders(&[absent], now).await.unwrap(),
        vec![Unchanged]
    );
    // Over the current version: written.
    let current = sealed(cancelled, 2).await;
    assert_eq!(
        store.upsert_orders(&[current], now).await.unwrap(),
        vec![Updated]
    );
    assert_eq!(f.get("bol", "E1").await.status, OrderStatus::Cancelled);
    // "Expected no row" where there is none: inserted.
    let fresh = sealed(order("E2", 0), 0).await;
    assert_eq!(
        store.upsert_orders(&[fresh], now).await.unwrap(),
        vec![Inserted]
    );
}

/// Between one writer's read and its write another stores the order (two connections
/// listing it): the first writer's stale merge must not put back the phone number the
/// second one replaced; it reads again and merges both.
async fn a_write_between_read_and_write_is_merged_not_lost(env: TestEnv) {
    use ordervault::ingest::write::{write_orders, write_orders_between, BetweenReadAndWrite};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct OtherWriter {
        store: ordervault::store::AccountStore,
        keys: std::sync::Arc<ordervault::keyring::AccountKeyset>,
        order: Order,
        now_ms: i64,
        pauses: AtomicUsize,
    }
    #[async_trait::async_trait]
    impl BetweenReadAndWrite for OtherWriter {
        async fn pause(&self, attempt: usize) {
            self.pauses.fetch_add(1, Ordering::SeqCst);
            if attempt == 0 {
                let out = write_orders(
                    &self.store,
                    &self.keys,
                    std::slice::from_ref(&self.order),
                    self.now_ms,
                )
                .await
                .unwrap();
                assert_eq!(out[0].outcome, Updated);
            }
        }
    }

    let f = Fixture::new(env).await;
    let id = f.account.parse().unwrap();
    let keys = f.env.app.keyring.keys(&id).await.unwrap();
    let store = f.env.account_store(&f.account).await;
    let now = f.env.app.now_ms();
    write_orders(&store, &keys, &[order("F1", 0)], now)
        .await
        .unwrap();

    let mut new_phone = order("F1", 60);
    new_phone.customer.phone = Some("+31687654321".into());
    let other = OtherWriter {
        store: store.clone(),
        keys: keys.clone(),
        order: new_phone,
        now_ms: now,
        pauses: AtomicUsize::new(0),
    };
    let mut moved = order("F1", 120);
    moved.status = OrderStatus::Shipped;
    moved.customer.phone = None;
    moved.customer.shipping.as_mut().unwrap().city = Some("Rotterdam".into());
    let out = write_orders_between(&store, &keys, &[moved], now, &other)
        .await
        .unwrap();
    assert_eq!(out[0].outcome, Updated);
    assert_eq!(
        other.pauses.load(Ordering::SeqCst),
        2,
        "merged a second time"
    );
    let got = f.get("bol", "F1").await;
    assert_eq!(got.status, OrderStatus::Shipped);
    assert_eq!(
        got.customer.phone.as_ref().map(|p| p.as_str()),
        Some("+31687654321"),
        "the other writer's phone survives"
    );
    assert_eq!(
        got.customer.shipping.unwrap().city.unwrap().as_str(),
        "Rotterdam"
    );
}

both_backends!(
    a_write_over_a_moved_base_is_refused,
    a_write_between_read_and_write_is_merged_not_lost,
    duplicates_and_large_batches_in_one_call,
    same_order_twice_is_stored_once,
    newer_update_wins_older_or_equal_changes_nothing,
    missing_personal_fields_keep_stored_ciphertext,
    pseudonymized_order_never_regains_personal_data,
);
