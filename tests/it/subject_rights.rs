//! Data subject rights, on both backends: export and erasure by email, case- and
//! whitespace-insensitive, found through the email blind index and the pseudonym;
//! receipts, audit rows and errors carry no personal data; an erasure leaves nothing
//! readable and cannot be undone by a later marketplace update.

use crate::common::corpus::{corpus, leaks};
use crate::common::{put_orders, t0, Backend, TestEnv};
use chrono::Duration;
use ordervault::accounts::create_account;
use ordervault::connectors::{Customer, Order, OrderNumber, OrderStatus};
use ordervault::ids::AccountId;
use ordervault::orders::open_order;
use ordervault::privacy::subject::PersonalDataState;
use ordervault::privacy::{erase_subject, export_subject, sweep};
use ordervault::store::UpsertOutcome;

const VARIANT: &str = "  Geheime.Klant3@VOORBEELD-mail.nl ";

struct Shop {
    id: AccountId,
    orders: Vec<Order>,
    values: Vec<String>,
}

/// Ten customers; customer 3 also has an older order (other case of the same email)
/// that is pseudonymized by the time of the request.
async fn shop(env: &TestEnv) -> Shop {
    let a = create_account(&env.app, "Subject Shop", Some(30))
        .await
        .unwrap();
    let id: AccountId = a.id.clone();
    let (mut orders, values) = corpus(10);
    let mut old = orders[3].clone();
    old.order_number = OrderNumber::parse("OLD-3").unwrap();
    old.customer.email = Some("geheime.klant3@voorbeeld-mail.nl".into());
    old.status = OrderStatus::Shipped;
    old.fulfilled_at = Some(t0() - Duration::days(60));
    old.updated_at = t0() - Duration::days(60);
    orders.push(old);
    put_orders(&env.app, &id, &orders).await;
    // The old order passes its retention; the others (never fulfilled) do not.
    assert_eq!(sweep(&env.app, Some(&id)).await.unwrap().pseudonymized, 1);
    Shop { id, orders, values }
}

async fn export_finds_orders_by_index_and_pseudonym(env: TestEnv) {
    let s = shop(&env).await;
    let export = export_subject(&env.app, &s.id, VARIANT).await.unwrap();
    assert_eq!(
        export.orders.len(),
        2,
        "current order and pseudonymized one"
    );
    let r = &export.receipt;
    assert_eq!(
        (r.orders_found, r.with_personal_data, r.pseudonymized),
        (2, 1, 1)
    );
    assert_eq!(r.kind, "export");
    assert_eq!(r.account_id, s.id);

    let present = export
        .orders
        .iter()
        .find(|o| o.personal_data == PersonalDataState::Present)
        .unwrap();
    assert_eq!(present.order, s.orders[3], "full decrypted data");
    assert_eq!(present.matched_by, vec!["email_index"]);
    let gone = export
        .orders
        .iter()
        .find(|o| o.personal_data == PersonalDataState::Pseudonymized)
        .unwrap();
    assert_eq!(gone.order.order_number.as_str(), "OLD-3");
    assert_eq!(gone.order.customer, Customer::default());
    assert!(gone.pseudonymized_at.is_some());
    assert_eq!(gone.matched_by, vec!["pseudonym"]);

    // The export holds the subject's data, and only the subject's.
    let json = serde_json::to_string(&export).unwrap();
    assert!(json.contains("Wilhelmina3x"));
    let others: Vec<String> = s
        .values
        .iter()
        .filter(|v| !v.contains('3'))
        .cloned()
        .collect();
    assert!(leaks(json.as_bytes(), &others).is_empty());
    // The receipt, its Debug form and the audit hold no personal data.
    let receipt = serde_json::to_string(&export.receipt).unwrap();
    assert!(leaks(receipt.as_bytes(), &s.values).is_empty());
    assert!(!receipt.to_lowercase().contains("klant3"));
    assert!(leaks(format!("{export:?}").as_bytes(), &s.values).is_empty());
    let audit = env
        .app
        .store
        .catalog()
        .privacy_requests(s.id.as_str())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].kind, "export");
    assert_eq!(audit[0].subject_hash, export.receipt.subject_hash);
    assert_eq!((audit[0].orders_found, audit[0].with_personal_data), (2, 1));
    assert!(!format!("{audit:?}").to_lowercase().contains("klant"));

    // Every spelling of the email is the same subject; another email is not.
    for variant in [
        "geheime.klant3@voorbeeld-mail.nl",
        "GEHEIME.KLANT3@VOORBEELD-MAIL.NL\t",
    ] {
        let e = export_subject(&env.app, &s.id, variant).await.unwrap();
        assert_eq!(e.orders.len(), 2, "{variant:?}");
        assert_eq!(e.receipt.subject_hash, export.receipt.subject_hash);
        assert_ne!(e.receipt.request_id, export.receipt.request_id);
    }
    let none = export_subject(&env.app, &s.id, "nobody@example.com")
        .await
        .unwrap();
    assert!(none.orders.is_empty());
    assert_ne!(none.receipt.subject_hash, export.receipt.subject_hash);
}

async fn erase_removes_index_pseudonym_and_bytes(env: TestEnv) {
    let s = shop(&env).await;
    let store = env.app.store.account(&s.id).await.unwrap();
    let before = store.list_after(0, 100).await.unwrap();
    let subject_cts: Vec<Vec<u8>> = before
        .iter()
        .filter(|r| r.order_number == "LEAK-0003")
        .flat_map(|r| {
            [
                r.shipping_ct.clone(),
                r.email_ct.clone(),
                r.notes_ct.clone(),
            ]
        })
        .flatten()
        .collect();
    assert_eq!(subject_cts.len(), 3);

    let receipt = erase_subject(&env.app, &s.id, VARIANT).await.unwrap();
    assert_eq!((receipt.orders_erased, receipt.held_personal_data), (2, 1));
    assert_eq!(receipt.kind, "erase");
    let json = serde_json::to_string(&receipt).unwrap();
    assert!(leaks(json.as_bytes(), &s.values).is_empty());

    for number in ["LEAK-0003", "OLD-3"] {
        let r = store.get("bol", number).await.unwrap().unwrap();
        for (name, col) in [
            ("shipping", &r.shipping_ct),
            ("billing", &r.billing_ct),
            ("email", &r.email_ct),
            ("phone", &r.phone_ct),
            ("notes", &r.notes_ct),
            ("billing_email", &r.billing_email_ct),
            ("buyer", &r.buyer_ct),
            ("pickup", &r.pickup_ct),
            ("email_index", &r.email_index),
            ("pseudonym", &r.pseudonym),
        ] {
            assert!(col.is_none(), "{number}: {name} left after erasure");
        }
        assert!(r.pseudonymized_at.is_some());
    }
    // Nothing is found any more, under any spelling; the other customers keep theirs.
    let again = export_subject(&env.app, &s.id, "geheime.klant3@voorbeeld-mail.nl")
        .await
        .unwrap();
    assert!(again.orders.is_empty());
    let other = export_subject(&env.app, &s.id, "Geheime.Klant2@Voorbeeld-Mail.nl")
        .await
        .unwrap();
    assert_eq!(other.orders.len(), 1);
    assert_eq!(other.orders[0].order, s.orders[2]);
    // Erasing twice: nothing left to erase.
    let twice = erase_subject(&env.app, &s.id, VARIANT).await.unwrap();
    assert_eq!(twice.orders_erased, 0);
    assert_eq!(twice.subject_hash, receipt.subject_hash);

    // A later marketplace update with full personal data brings nothing back.
    let mut later = s.orders[3].clone();
    later.updated_at = t0() + Duration::days(1);
    later.status = OrderStatus::Shipped;
    assert_eq!(
        put_orders(&env.app, &s.id, &[later]).await,
        vec![UpsertOutcome::Updated]
    );
    let r = store.get("bol", "LEAK-0003").await.unwrap().unwrap();
    assert!(r.email_ct.is_none() && r.email_index.is_none() && r.shipping_ct.is_none());
    let keys = env.app.keyring.keys(&s.id).await.unwrap();
    assert_eq!(
        open_order(&keys, &r).await.unwrap().order.customer,
        Customer::default()
    );
    assert!(export_subject(&env.app, &s.id, VARIANT)
        .await
        .unwrap()
        .orders
        .is_empty());

    // The erased ciphertexts are gone from the SQLite files (WAL included).
    if env.backend == Backend::Sqlite {
        let dir = env.data_dir().join("accounts");
        for e in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            for ct in &subject_cts {
                assert!(
                    memchr::memmem::find(&bytes, ct).is_none(),
                    "erased bytes left"
                );
            }
        }
    }
    let audit = env
        .app
        .store
        .catalog()
        .privacy_requests(s.id.as_str())
        .await
        .unwrap();
    let kinds: Vec<_> = audit.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "erase").count(), 2);
}

async fn bad_requests_are_refused_without_echoing(env: TestEnv) {
    let s = shop(&env).await;
    for bad in ["", "   ", "a\u{0}b@example.com"] {
        let err = export_subject(&env.app, &s.id, bad).await.unwrap_err();
        assert!(err.to_string().starts_with("invalid input"), "{err}");
        assert!(erase_subject(&env.app, &s.id, bad).await.is_err());
    }
    let long = format!("{}@example.com", "x".repeat(400));
    let err = erase_subject(&env.app, &s.id, &long).await.unwrap_err();
    assert!(!err.to_string().contains("xxxx"), "error echoes the email");
    let unknown: AccountId = "0123456789abcdef".parse().unwrap();
    let err = export_subject(&env.app, &unknown, VARIANT)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "account not found");
    assert!(!err.to_string().to_lowercase().contains("klant"));
    // Nothing was audited for refused requests beyond the shop's own set-up.
    assert!(env
        .app
        .store
        .catalog()
        .privacy_requests(s.id.as_str())
        .await
        .unwrap()
        .is_empty());
}

both_backends!(
    export_finds_orders_by_index_and_pseudonym,
    erase_removes_index_pseudonym_and_bytes,
    bad_requests_are_refused_without_echoing,
);
