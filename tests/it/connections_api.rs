//! Connections as an operator sees them, on both backends: the Amazon region and
//! marketplaces (name and country) and Orders API version in `GET /connections`, the
//! deprecation warning and metric for Orders v0, settings refused at the edge, and a
//! connection's cap on requests per second set over the API.

use crate::common;

use crate::common::api::token;
use crate::common::TestEnv;
use ordervault::accounts::create_account;
use ordervault::connectors::amazon::{ApiVersion, Region};
use ordervault::connectors::{ConnectionSettings, MarketplaceKind};
use ordervault::ids::{AccountId, ConnectionId, Role};
use ordervault::ingest::connections::{add_connection, NewConnection};
use serde_json::Value;
use zeroize::Zeroizing;

const AMAZON_FILE: &str = r#"{"client_id":"amzn1.application-oa2-client.x","client_secret":"s3cr3t","refresh_token":"Atzr|r3fr3sh"}"#;

async fn add(
    env: &TestEnv,
    account: &AccountId,
    kind: MarketplaceKind,
    settings: ConnectionSettings,
) -> Result<ConnectionId, String> {
    add_connection(
        &env.app,
        NewConnection {
            account: account.clone(),
            marketplace: kind,
            credentials_json: Zeroizing::new(AMAZON_FILE.into()),
            settings,
            interval: std::time::Duration::from_secs(60),
        },
    )
    .await
    .map(|c| c.id)
    .map_err(|e| e.to_string())
}

async fn amazon_settings_and_the_v0_deprecation_are_shown(env: TestEnv) {
    let metrics = common::api::Loops {
        metrics: true,
        ..Default::default()
    };
    let service = common::api::TestApp::spawn_with(&env, metrics).await;
    let account: AccountId = create_account(&env.app, "Shop", None)
        .await
        .unwrap()
        .id
        .clone();
    let v0 = add(
        &env,
        &account,
        MarketplaceKind::Amazon,
        ConnectionSettings {
            region: Some(Region::Eu),
            marketplace_ids: vec!["A1PA6795UKMFR9".into(), "A13V1IB3VIYZZH".into()],
            api_version: Some(ApiVersion::V0),
            ..ConnectionSettings::default()
        },
    )
    .await
    .unwrap();
    let current = add(
        &env,
        &account,
        MarketplaceKind::Amazon,
        ConnectionSettings {
            region: Some(Region::Na),
            ..ConnectionSettings::default()
        },
    )
    .await
    .unwrap();

    // Refused at the edge, naming the problem: a marketplace of another region, an
    // unknown id, Amazon settings on bol.
    let err = add(
        &env,
        &account,
        MarketplaceKind::Amazon,
        ConnectionSettings {
            region: Some(Region::Na),
            marketplace_ids: vec!["A1805IZSGTT6HS".into()],
            ..ConnectionSettings::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.contains("Amazon.nl") && err.contains("eu"), "{err}");
    let err = add(
        &env,
        &account,
        MarketplaceKind::Amazon,
        ConnectionSettings {
            marketplace_ids: vec!["NOTAMARKET".into()],
            ..ConnectionSettings::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.contains("unknown Amazon marketplace"), "{err}");
    let err = add(
        &env,
        &account,
        MarketplaceKind::Bol,
        ConnectionSettings {
            region: Some(Region::Eu),
            ..ConnectionSettings::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.contains("Amazon settings"), "{err}");

    let bo = token(&env, Role::Backoffice, Some(&account)).await;
    let body: Value = service.connections(&bo).await.json();
    let list = body["connections"].as_array().unwrap();
    assert_eq!(list.len(), 2, "the refused ones were not stored");
    let find = |id: &ConnectionId| {
        list.iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap()
            .clone()
    };
    let old = find(&v0);
    assert!(old["deprecation"].as_str().unwrap().contains("2027-03-27"));
    let side = &old["marketplace_side"];
    assert_eq!(side["api_version"], "v0");
    assert_eq!(side["region"], "eu");
    assert_eq!(side["api_url"], "https://sellingpartnerapi-eu.amazon.com");
    assert_eq!(side["auth_url"], "https://api.amazon.com/auth/o2/token");
    let names: Vec<(&str, &str)> = side["marketplaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["country"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("Amazon.de", "Germany"), ("Amazon.fr", "France")]);
    let new = find(&current);
    assert!(new.get("deprecation").is_none());
    assert_eq!(new["marketplace_side"]["api_version"], "2026-01-01");
    assert_eq!(
        new["marketplace_side"]["api_url"],
        "https://sellingpartnerapi-na.amazon.com"
    );
    assert_eq!(
        new["marketplace_side"]["marketplaces"][0]["name"],
        "Amazon.com"
    );
    // Nothing secret in the listing.
    let text = body.to_string();
    assert!(!text.contains("s3cr3t") && !text.contains("r3fr3sh"));

    // Metrics live on their own listener (`metrics.bind`), not the API's.
    let metrics = service.metrics_text().await;
    assert!(
        metrics.contains(
            "ordervault_connections_deprecated_api{marketplace=\"amazon\",api_version=\"v0\"} 1"
        ),
        "{metrics}"
    );
}

/// A connection's cap on requests per second, set and removed over the API: stored with
/// the connection, shown in `GET /connections`, and used by the client the sync worker
/// builds; refused when it is not a positive number, and another account's connection is
/// not found for a backoffice token.
async fn a_request_cap_is_set_and_removed_over_the_api(env: TestEnv) {
    let service = common::api::TestApp::spawn(&env).await;
    let mine: AccountId = create_account(&env.app, "Mine", None)
        .await
        .unwrap()
        .id
        .clone();
    let theirs: AccountId = create_account(&env.app, "Theirs", None)
        .await
        .unwrap()
        .id
        .clone();
    let conn = add(
        &env,
        &mine,
        MarketplaceKind::Amazon,
        ConnectionSettings::default(),
    )
    .await
    .unwrap();
    let other = add(
        &env,
        &theirs,
        MarketplaceKind::Amazon,
        ConnectionSettings::default(),
    )
    .await
    .unwrap();
    let bo = token(&env, Role::Backoffice, Some(&mine)).await;
    let support = token(&env, Role::Support, None).await;
    let patch = |id: &str, tok: &str, body: Value| {
        let (id, tok) = (id.to_string(), tok.to_string());
        let service = &service;
        async move { service.cap_connection(&tok, &id, body).await }
    };
    let r = patch(
        conn.as_str(),
        &bo,
        serde_json::json!({"max_requests_per_second": 2.5}),
    )
    .await;
    assert_eq!(r.status, 200);
    let body: Value = r.json();
    assert_eq!(body["marketplace_side"]["max_requests_per_second"], 2.5);
    let stored = env
        .app
        .store
        .catalog()
        .connection(&conn)
        .await
        .unwrap()
        .unwrap();
    let (_, settings) = ordervault::ingest::connections::settings_of(&stored).unwrap();
    assert_eq!(
        settings.max_requests_per_second.map(|r| r.per_second()),
        Some(2.5)
    );
    let list: Value = service.connections(&bo).await.json();
    assert_eq!(
        list["connections"][0]["marketplace_side"]["max_requests_per_second"],
        2.5
    );

    for bad in [
        serde_json::json!({"max_requests_per_second": 0}),
        serde_json::json!({"max_requests_per_second": -1}),
        serde_json::json!({"max_requests_per_second": "fast"}),
        serde_json::json!({"max_requests_per_second": 1e9}),
        serde_json::json!({}),
        serde_json::json!({"max_requests_per_second": 1, "base_url": "http://x"}),
    ] {
        let r = patch(conn.as_str(), &bo, bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(
            r.header("content-type"),
            "application/problem+json",
            "{bad}"
        );
    }
    let r = patch(
        other.as_str(),
        &bo,
        serde_json::json!({"max_requests_per_second": 1}),
    )
    .await;
    assert_eq!(r.status, 404, "another account's connection");
    // A malformed or padded id is parsed at the edge: not found, as problem+json.
    let padded = format!("%20{conn}");
    for id in ["not-an-id", padded.as_str(), "0123456789ABCDEF"] {
        let r = patch(id, &bo, serde_json::json!({"max_requests_per_second": 1})).await;
        assert_eq!(r.status, 404, "{id}");
        assert_eq!(r.header("content-type"), "application/problem+json", "{id}");
    }
    let r = patch(
        conn.as_str(),
        &support,
        serde_json::json!({"max_requests_per_second": 1}),
    )
    .await;
    assert_eq!(r.status, 403);

    let r = patch(
        conn.as_str(),
        &bo,
        serde_json::json!({"max_requests_per_second": null}),
    )
    .await;
    assert_eq!(r.status, 200);
    let body: Value = r.json();
    assert!(body["marketplace_side"]
        .get("max_requests_per_second")
        .is_none());
    let stored = env
        .app
        .store
        .catalog()
        .connection(&conn)
        .await
        .unwrap()
        .unwrap();
    let (_, settings) = ordervault::ingest::connections::settings_of(&stored).unwrap();
    assert_eq!(settings.max_requests_per_second, None);
}

both_backends!(
    amazon_settings_and_the_v0_deprecation_are_shown,
    a_request_cap_is_set_and_removed_over_the_api
);
