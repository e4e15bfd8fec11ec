//! Connections as an operator sees them, on both backends: the Amazon region and
//! marketplaces (name and country) and Orders API version in `GET /connections`, the
//! deprecation warning and metric for Orders v0, and settings refused at the edge.

mod common;

use common::api::token;
use common::TestEnv;
use ordervault::accounts::create_account;
use ordervault::connectors::amazon::{ApiVersion, Region};
use ordervault::connectors::{ConnectionSettings, MarketplaceKind};
use ordervault::ids::{AccountId, Role};
use ordervault::ingest::connections::{add_connection, NewConnection};
use serde_json::Value;
use zeroize::Zeroizing;

const AMAZON_FILE: &str = r#"{"client_id":"amzn1.application-oa2-client.x","client_secret":"s3cr3t","refresh_token":"Atzr|r3fr3sh"}"#;

async fn add(
    env: &TestEnv,
    account: &AccountId,
    kind: MarketplaceKind,
    settings: ConnectionSettings,
) -> Result<String, String> {
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
    let base = common::api::serve(&env).await;
    let account: AccountId = create_account(&env.app, "Shop", None)
        .await
        .unwrap()
        .id
        .parse()
        .unwrap();
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
    let body: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/connections"))
        .bearer_auth(&bo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = body["connections"].as_array().unwrap();
    assert_eq!(list.len(), 2, "the refused ones were not stored");
    let find = |id: &str| list.iter().find(|c| c["id"] == id).unwrap().clone();
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    let router = ordervault::api::metrics_router(env.app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "ordervault_connections_deprecated_api{marketplace=\"amazon\",api_version=\"v0\"} 1"
        ),
        "{metrics}"
    );
}

both_backends!(amazon_settings_and_the_v0_deprecation_are_shown);
