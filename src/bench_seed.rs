//! `ordervault bench seed`: synthetic orders for the benchmark scripts (scripts/bench/),
//! written through the same path a sync uses (`write_orders`: merge, seal under data
//! keys, upsert, outbox), so the sweep that follows works on rows shaped exactly like
//! synced ones. A marketplace sandbox would do too, but paged and paced like a real API
//! it needs far longer for 200,000 orders than the sweep it prepares.
//!
//! The names, addresses and emails are invented (`klantN@voorbeeld.nl`); the report
//! carries counts only.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::accounts::active_account;
use crate::app::App;
use crate::connectors::{
    Address, Customer, MarketplaceKind, Order, OrderLine, OrderNumber, OrderStatus,
};
use crate::error::ServiceError;
use crate::ids::AccountId;
use crate::ingest::write_orders;

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub orders: usize,
    /// Distinct customers; every tenth order has no email (so no pseudonym).
    pub customers: usize,
    /// Orders were fulfilled this many days before now (spread over one day).
    pub fulfilled_days_ago: i64,
}

/// What was seeded (counts only).
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub account_id: AccountId,
    pub orders: usize,
    pub duration_ms: u64,
}

/// Orders per `write_orders` call: bounds memory, keeps its write pipeline busy.
const CHUNK: usize = 20_000;

/// Writes `options.orders` synthetic orders into the account.
pub async fn seed(
    app: &App,
    account: &AccountId,
    options: SeedOptions,
) -> Result<SeedReport, ServiceError> {
    let id = active_account(app, account).await?;
    if options.orders == 0 || options.customers == 0 || options.fulfilled_days_ago < 0 {
        return Err(ServiceError::Invalid(
            "orders and customers must be above 0, fulfilled-days-ago at least 0".into(),
        ));
    }
    let started = std::time::Instant::now();
    let keys = app.keyring.keys(&id).await?;
    let store = app.store.account(&id).await?;
    let now = DateTime::<Utc>::from_timestamp_millis(app.now_ms()).unwrap_or_default();
    for start in (0..options.orders).step_by(CHUNK) {
        let orders: Vec<Order> = (start..(start + CHUNK).min(options.orders))
            .map(|i| order(i, &options, now))
            .collect();
        write_orders(&store, &keys, &orders, now.timestamp_millis()).await?;
    }
    Ok(SeedReport {
        account_id: id.clone(),
        orders: options.orders,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// A cheap, varied synthetic order (invented names), due under a retention shorter than
/// `options.fulfilled_days_ago`: the one shape both `ordervault bench seed` and
/// benches/pseudonymize.rs seed, so their figures describe the same rows.
pub fn order(i: usize, options: &SeedOptions, now: DateTime<Utc>) -> Order {
    let fulfilled = now - chrono::Duration::days(options.fulfilled_days_ago)
        + chrono::Duration::seconds(i as i64 % 86_400);
    let customer = i % options.customers;
    Order {
        marketplace: MarketplaceKind::Bol,
        order_number: OrderNumber::parse(&format!("B{i:09}")).expect("a valid order number"),
        status: OrderStatus::Shipped,
        placed_at: fulfilled - chrono::Duration::days(2),
        updated_at: fulfilled,
        fulfilled_at: Some(fulfilled),
        cancelled_at: None,
        currency: "EUR".into(),
        total_minor: 1000 + (i as i64 % 9000),
        country_code: Some("NL".into()),
        lines: vec![OrderLine {
            line_id: "1".into(),
            sku: Some(format!("SKU-{}", i % 500)),
            ean: None,
            title: "Fietsbel chroom".into(),
            quantity: 1,
            quantity_shipped: 1,
            quantity_cancelled: 0,
            unit_price_minor: Some(1000),
            total_minor: 1000,
            discount_minor: 0,
            tax_minor: None,
        }],
        customer: Customer {
            email: (i % 10 != 0).then(|| format!("klant{customer}@voorbeeld.nl").into()),
            phone: Some(format!("+316{:08}", customer).into()),
            shipping: Some(Address {
                first_name: Some("Jan".into()),
                last_name: Some(format!("Jansen{customer}").into()),
                street: Some("Dorpsstraat".into()),
                house_number: Some(format!("{}", customer % 300).into()),
                postcode: Some("1234AB".into()),
                city: Some("Utrecht".into()),
                country_code: Some("NL".into()),
                ..Default::default()
            }),
            billing: None,
            delivery_notes: (i % 4 == 0).then(|| "Bij de buren afgeven".into()),
            ..Customer::default()
        },
        terms: Default::default(),
    }
}
