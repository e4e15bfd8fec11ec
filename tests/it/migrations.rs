//! Migrations and account creation that survive Citus (issue 20), on plain PostgreSQL and
//! SQLite: every migration statement goes out as its own query; an installation migrated
//! by sqlx's runner is accepted and continued; a creation that fails half-way bricks
//! nothing and is resumed; a restart sends no DDL; leftovers are reported by `doctor`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{fresh_pg, order, Backend, TestEnv};
use ordervault::accounts::{create_account, list_accounts};
use ordervault::app::App;
use ordervault::ids::AccountId;
use ordervault::orders::seal_order;
use ordervault::store::catalog::AccountStatus;
use ordervault::store::migrate::{split_statements, Dialect};
use ordervault::store::{run_postgres, run_sqlite};
use ordervault::store::{Pool, StatementHook};
use sqlx::migrate::Migrator;
use sqlx::{Connection, Executor};

static PG_ACCOUNT: Migrator = sqlx::migrate!("migrations/account/postgres");
static PG_CATALOG: Migrator = sqlx::migrate!("migrations/catalog/postgres");
static SQLITE_ACCOUNT: Migrator = sqlx::migrate!("migrations/account/sqlite");
static SQLITE_CATALOG: Migrator = sqlx::migrate!("migrations/catalog/sqlite");
static PG_TRICKY: Migrator = sqlx::migrate!("tests/fixtures/migrate/postgres");
static SQLITE_TRICKY: Migrator = sqlx::migrate!("tests/fixtures/migrate/sqlite");

/// A statement the migrator sent: scope, version, SQL.
type Sent = (String, Option<i64>, String);

/// A hook that records every statement, and fails account migration 3 while `fail` is set.
fn recorder() -> (StatementHook, Arc<Mutex<Vec<Sent>>>, Arc<AtomicBool>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let fail = Arc::new(AtomicBool::new(false));
    let (s, f) = (sent.clone(), fail.clone());
    let hook: StatementHook = Arc::new(move |st| {
        s.lock()
            .unwrap()
            .push((st.scope.to_owned(), st.version, st.sql.to_owned()));
        let account_scope = st.scope != "ordervault" && st.scope != "catalog";
        if f.load(Ordering::SeqCst) && account_scope && st.version == Some(3) {
            return Err("injected failure".into());
        }
        Ok(())
    });
    (hook, sent, fail)
}

/// Statements in a migration file, counted without the splitter: lines ending in `;`
/// outside comments (how our migration files are written).
fn statements_by_line(sql: &str) -> usize {
    sql.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("--") && l.ends_with(';'))
        .count()
}

fn assert_one_statement_each(sent: &[Sent], dialect: Dialect) {
    assert!(!sent.is_empty());
    for (_, version, sql) in sent {
        assert_eq!(
            split_statements(sql, dialect).len(),
            1,
            "migration {version:?} sent a query holding several statements: {sql}"
        );
        assert!(
            !sql.trim_end().ends_with(';'),
            "statement kept its terminator"
        );
    }
}

async fn pg_pool(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .unwrap()
}

#[tokio::test]
async fn postgres_runs_each_statement_alone() {
    let Some(db) = fresh_pg().await else { return };
    let pool = pg_pool(&db.url).await;

    // The premise: PostgreSQL itself refuses a whole file through the extended protocol,
    // as Citus does when it forwards DDL, so statement-by-statement is what makes it pass.
    let file = &PG_ACCOUNT.iter().next().unwrap().sql;
    let whole = sqlx::query(file).persistent(false).execute(&pool).await;
    let err = whole
        .expect_err("a multi-statement string is refused")
        .to_string();
    assert!(err.contains("cannot insert multiple commands"), "{err}");

    let (hook, sent, _) = recorder();
    let applied = run_postgres(&pool, "acct_00000000000000aa", &PG_ACCOUNT, Some(&hook))
        .await
        .unwrap();
    let expected: Vec<i64> = PG_ACCOUNT.iter().map(|m| m.version).collect();
    assert_eq!(applied, expected);
    let sent = sent.lock().unwrap().clone();
    assert_one_statement_each(&sent, Dialect::Postgres);
    for m in PG_ACCOUNT.iter() {
        let n = sent.iter().filter(|s| s.1 == Some(m.version)).count();
        assert_eq!(
            n,
            statements_by_line(&m.sql),
            "statements of migration {}",
            m.version
        );
    }
    assert!(sent.iter().filter(|s| s.1 == Some(1)).count() >= 3);

    // Quotes, dollar quoting, comments and a version gap.
    let (hook, sent, _) = recorder();
    let applied = run_postgres(&pool, "tricky", &PG_TRICKY, Some(&hook))
        .await
        .unwrap();
    assert_eq!(applied, vec![1, 5]);
    let sent = sent.lock().unwrap().clone();
    assert_one_statement_each(&sent, Dialect::Postgres);
    // schema, table; then 5 statements in 0001 and 2 in 0005.
    assert_eq!(sent.iter().filter(|s| s.1.is_none()).count(), 2);
    assert_eq!(sent.iter().filter(|s| s.1 == Some(1)).count(), 5);
    assert_eq!(sent.iter().filter(|s| s.1 == Some(5)).count(), 2);
    let n: i64 = sqlx::query_scalar("SELECT tricky.note_count()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM tricky.notes ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        bodies,
        ["it's; quoted", "back\\slash'; escaped", "dollar; quoted"]
    );

    // A second run has nothing to do and sends nothing.
    let (hook, sent, _) = recorder();
    assert!(run_postgres(&pool, "tricky", &PG_TRICKY, Some(&hook))
        .await
        .unwrap()
        .is_empty());
    assert!(sent.lock().unwrap().is_empty());
    pool.close().await;
}

#[tokio::test]
async fn sqlite_runs_each_statement_alone() {
    let dir = tempfile::tempdir().unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("t.db"))
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    let (hook, sent, _) = recorder();
    assert_eq!(
        run_sqlite(&pool, "t", &SQLITE_TRICKY, Some(&hook))
            .await
            .unwrap(),
        vec![1, 5]
    );
    let sent = sent.lock().unwrap().clone();
    assert_one_statement_each(&sent, Dialect::Sqlite);
    assert_eq!(sent.iter().filter(|s| s.1 == Some(1)).count(), 6);
    let log: Vec<String> = sqlx::query_scalar("SELECT body FROM note_log ORDER BY rowid")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(log, ["semi;colon", "second; statement"]);

    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("acct.db"))
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    let (hook, sent, _) = recorder();
    run_sqlite(&pool, "acct", &SQLITE_ACCOUNT, Some(&hook))
        .await
        .unwrap();
    let sent = sent.lock().unwrap().clone();
    assert_one_statement_each(&sent, Dialect::Sqlite);
    for m in SQLITE_ACCOUNT.iter() {
        let n = sent.iter().filter(|s| s.1 == Some(m.version)).count();
        assert_eq!(
            n,
            statements_by_line(&m.sql),
            "statements of migration {}",
            m.version
        );
    }
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_once() {
    let Some(db) = fresh_pg().await else { return };
    let pool = pg_pool(&db.url).await;
    let runs = (0..4).map(|_| run_postgres(&pool, "acct_00000000000000bb", &PG_ACCOUNT, None));
    let results = futures::future::join_all(runs).await;
    let mut applied: Vec<i64> = results.into_iter().flat_map(|r| r.unwrap()).collect();
    applied.sort();
    let expected: Vec<i64> = PG_ACCOUNT.iter().map(|m| m.version).collect();
    assert_eq!(applied, expected, "each version applied by exactly one run");
    pool.close().await;
}

/// sqlx's own runner, as ordervault used it before: only migrations up to `upto`.
fn old_runner(m: &Migrator, upto: i64) -> Migrator {
    Migrator {
        migrations: m
            .iter()
            .filter(|m| m.version <= upto)
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        ..Migrator::DEFAULT
    }
}

/// A settings object for an existing installation at `dir` / `url`, with a key file.
fn installation(dir: &std::path::Path, url: Option<&str>) -> ordervault::config::Settings {
    let mut settings = ordervault::config::Settings::default();
    settings.data.dir = dir.join("data");
    settings.keys.master_key_file = dir.join("master.key").display().to_string();
    if let Some(url) = url {
        settings.database.url = url.to_owned();
        settings.database.max_connections = 5;
    }
    settings
}

/// Rows of `_sqlx_migrations` as (version, checksum, installed_on as text).
async fn pg_history(pool: &sqlx::PgPool, schema: &str) -> Vec<(i64, Vec<u8>, String)> {
    sqlx::query_as(&format!(
        "SELECT version, checksum, installed_on::text FROM \"{schema}\"._sqlx_migrations ORDER BY version"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn postgres_installation_migrated_by_sqlx_is_continued() {
    let Some(db) = fresh_pg().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let account = AccountId::generate();
    let schema = account.schema_name();
    let pool = pg_pool(&db.url).await;
    // The old start-up: CREATE SCHEMA, search_path, sqlx's runner on the whole files.
    for (name, m, upto) in [
        ("ordervault", &PG_CATALOG, 5),
        (schema.as_str(), &PG_ACCOUNT, 4),
    ] {
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        conn.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{name}\"").as_str())
            .await
            .unwrap();
        conn.execute(format!("SET search_path TO \"{name}\"").as_str())
            .await
            .unwrap();
        old_runner(m, upto).run_direct(&mut conn).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO ordervault.accounts (id, name, status, retention_days, store_location, created_at) \
         VALUES ($1, 'Old shop', 'active', 30, 'postgres schema', 0)",
    )
    .bind(account.as_str())
    .execute(&pool)
    .await
    .unwrap();
    let insert = format!(
        "INSERT INTO \"{schema}\".orders (marketplace, order_number, status, placed_at, updated_at, currency, total_minor, lines, ingested_at, changed_at) \
         VALUES ('bol', $1, 'open', 0, 0, 'EUR', 1, '[]', 0, 0) RETURNING id"
    );
    let mut old_ids = Vec::new();
    for n in ["A1", "A2", "A3"] {
        let id: i64 = sqlx::query_scalar(&insert)
            .bind(n)
            .fetch_one(&pool)
            .await
            .unwrap();
        old_ids.push(id);
    }
    // The identity handed out an id whose row is gone; the new sequence must not reuse it.
    sqlx::query(&format!(
        "DELETE FROM \"{schema}\".orders WHERE order_number = 'A3'"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let catalog_before = pg_history(&pool, "ordervault").await;
    let account_before = pg_history(&pool, &schema).await;
    ordervault::app::write_key_file(
        &dir.path().join("master.key"),
        &ordervault::crypto::MasterKey::generate(),
    )
    .unwrap();

    let app = App::build(
        installation(dir.path(), Some(&db.url)),
        Arc::new(ordervault::connectors::clock::SystemClock),
    )
    .await
    .expect("an installation migrated by sqlx starts");
    let catalog_after = pg_history(&pool, "ordervault").await;
    let account_after = pg_history(&pool, &schema).await;
    assert_eq!(
        &catalog_after[..catalog_before.len()],
        &catalog_before[..],
        "old rows untouched"
    );
    assert_eq!(
        &account_after[..account_before.len()],
        &account_before[..],
        "old rows untouched"
    );
    let versions = |h: &[(i64, Vec<u8>, String)]| h.iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(
        versions(&catalog_after),
        PG_CATALOG.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    assert_eq!(
        versions(&account_after),
        PG_ACCOUNT.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    for (row, m) in account_after.iter().zip(PG_ACCOUNT.iter()) {
        assert_eq!(
            row.1,
            m.checksum.to_vec(),
            "checksum of {} is sqlx's",
            m.version
        );
    }

    // The identity columns are gone, ids continue above every id handed out.
    let identities: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE is_identity = 'YES' \
         AND table_schema IN ('ordervault', $1)",
    )
    .bind(&schema)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(identities, 0);
    let next: i64 = sqlx::query_scalar(&insert)
        .bind("A4")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        next > *old_ids.iter().max().unwrap(),
        "{next} after {old_ids:?}"
    );
    let store = app.store.account(&account).await.unwrap();
    assert_eq!(store.count_orders().await.unwrap(), 3);

    // And sqlx's runner accepts what the new migrator recorded (a downgrade of the tool).
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await
        .unwrap();
    PG_ACCOUNT
        .run_direct(&mut conn)
        .await
        .expect("sqlx accepts our history");
    app.store.close().await;
    pool.close().await;
}

#[tokio::test]
async fn sqlite_installation_migrated_by_sqlx_is_continued() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("accounts")).unwrap();
    let account = AccountId::generate();
    let file = |p: std::path::PathBuf| {
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(p)
            .create_if_missing(true)
    };
    let catalog = sqlx::SqlitePool::connect_with(file(data.join("catalog.db")))
        .await
        .unwrap();
    old_runner(&SQLITE_CATALOG, 5).run(&catalog).await.unwrap();
    sqlx::query(
        "INSERT INTO accounts (id, name, status, retention_days, store_location, created_at) \
         VALUES ($1, 'Old shop', 'active', 30, 'file', 0)",
    )
    .bind(account.as_str())
    .execute(&catalog)
    .await
    .unwrap();
    let acct_path = data
        .join("accounts")
        .join(format!("{}.db", account.as_str()));
    let acct = sqlx::SqlitePool::connect_with(file(acct_path))
        .await
        .unwrap();
    old_runner(&SQLITE_ACCOUNT, 4).run(&acct).await.unwrap();
    sqlx::query(
        "INSERT INTO orders (marketplace, order_number, status, placed_at, updated_at, currency, total_minor, lines, ingested_at, changed_at) \
         VALUES ('bol', 'A1', 'open', 0, 0, 'EUR', 1, '[]', 0, 0)",
    )
    .execute(&acct)
    .await
    .unwrap();
    catalog.close().await;
    acct.close().await;
    ordervault::app::write_key_file(
        &dir.path().join("master.key"),
        &ordervault::crypto::MasterKey::generate(),
    )
    .unwrap();

    let app = App::build(
        installation(dir.path(), None),
        Arc::new(ordervault::connectors::clock::SystemClock),
    )
    .await
    .expect("an installation migrated by sqlx starts");
    let accounts = list_accounts(&app).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        accounts[0].status,
        AccountStatus::Active,
        "rows kept by the rebuild"
    );
    let store = app.store.account(&account).await.unwrap();
    assert_eq!(store.count_orders().await.unwrap(), 1);
    let Pool::Sqlite(p) = store.pool() else {
        unreachable!()
    };
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(p)
            .await
            .unwrap();
    assert_eq!(
        versions,
        SQLITE_ACCOUNT.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    let Pool::Sqlite(c) = app.store.catalog().pool() else {
        unreachable!()
    };
    SQLITE_CATALOG
        .run(c)
        .await
        .expect("sqlx accepts our history");
    app.store.close().await;
}

/// Stores one order in `account` through the normal path.
async fn put_order(app: &App, id: &AccountId, number: &str) {
    let keys = app.keyring.keys(id).await.unwrap();
    let orders = [order(number, 0)];
    let seal = keys.seal_keys(&orders).await.unwrap();
    let sealed = vec![seal_order(&seal, &orders[0])];
    let store = app.store.account(id).await.unwrap();
    store.upsert_orders(&sealed, app.now_ms()).await.unwrap();
}

async fn failed_creation_is_resumed(env: TestEnv) {
    let other = create_account(&env.app, "Other shop", None).await.unwrap();
    put_order(&env.app, &other.id, "1000001").await;

    // A process whose account migrations fail at version 3 (half-way through a creation).
    let (hook, _, fail) = recorder();
    fail.store(true, Ordering::SeqCst);
    let broken = App::build_with(
        env.settings.clone(),
        Arc::new(env.clock.clone()),
        Some(hook.clone()),
    )
    .await
    .unwrap();
    let err = create_account(&broken, "New shop", Some(14))
        .await
        .expect_err("injected failure");
    assert!(err.to_string().contains("injected failure"), "{err}");
    let rows = list_accounts(&broken).await.unwrap();
    let pending = rows
        .iter()
        .find(|a| a.name == "New shop")
        .expect("row kept");
    assert_eq!(pending.status, AccountStatus::Creating);
    let pending_id: AccountId = pending.id.clone();
    assert!(
        env.app
            .store
            .account_store_exists(&pending_id)
            .await
            .unwrap(),
        "half-made store"
    );
    // Nothing serves it meanwhile.
    assert!(ordervault::accounts::active_account(&env.app, &pending.id)
        .await
        .is_err());

    // Every other command keeps working, even in a restart where the failure persists.
    let restarted = App::build_with(
        env.settings.clone(),
        Arc::new(env.clock.clone()),
        Some(hook),
    )
    .await
    .expect("a failed creation does not brick start-up");
    assert_eq!(list_accounts(&restarted).await.unwrap().len(), 2);
    put_order(&restarted, &other.id, "1000002").await;
    let store = restarted.store.account(&other.id).await.unwrap();
    assert_eq!(store.count_orders().await.unwrap(), 2);
    ordervault::tokens::create_token(
        &restarted,
        ordervault::ids::Role::Backoffice,
        Some(other.id.as_str()),
        None,
    )
    .await
    .unwrap();
    let report = ordervault::doctor::check(&restarted).await.unwrap();
    assert_eq!(report.unfinished_creations, vec![pending.id.clone()]);
    assert!(report.unknown_stores.is_empty(), "{report:?}");

    // Retrying the creation resumes the same account and finishes it.
    let again = create_account(&restarted, "New shop", Some(14)).await;
    assert!(again.is_err(), "still failing while the fault lasts");
    fail.store(false, Ordering::SeqCst);
    let done = create_account(&restarted, "New shop", Some(14))
        .await
        .unwrap();
    assert_eq!(done.id, pending.id);
    assert_eq!(done.status, AccountStatus::Active);
    assert_eq!(done.retention_days, 14);
    put_order(&restarted, &done.id, "1000003").await;
    let rows = list_accounts(&env.app).await.unwrap();
    assert_eq!(rows.len(), 2, "no second account was made");
    assert!(rows.iter().all(|a| a.status == AccountStatus::Active));
    assert!(ordervault::doctor::check(&restarted)
        .await
        .unwrap()
        .is_clean());
    broken.store.close().await;
    restarted.store.close().await;
}

async fn abandoned_creation_can_be_closed(env: TestEnv) {
    let (hook, _, fail) = recorder();
    fail.store(true, Ordering::SeqCst);
    let broken = App::build_with(
        env.settings.clone(),
        Arc::new(env.clock.clone()),
        Some(hook),
    )
    .await
    .unwrap();
    assert!(create_account(&broken, "Gone shop", None).await.is_err());
    let id: ordervault::ids::AccountId = list_accounts(&env.app).await.unwrap()[0].id.clone();
    let receipt = ordervault::privacy::closure::close_account(&env.app, &id)
        .await
        .unwrap();
    assert_eq!(receipt.orders_deleted, 0);
    assert!(!env.app.store.account_store_exists(&id).await.unwrap());
    assert!(ordervault::doctor::check(&env.app)
        .await
        .unwrap()
        .is_clean());
    broken.store.close().await;
}

/// Counts DDL the database sees from now on (PostgreSQL event trigger).
async fn watch_ddl(url: &str) -> sqlx::PgPool {
    let pool = pg_pool(url).await;
    for sql in [
        "CREATE TABLE public.ddl_seen (tag TEXT NOT NULL)",
        "CREATE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.ddl_seen VALUES (tg_tag); END $$",
        "CREATE EVENT TRIGGER note_ddl ON ddl_command_start EXECUTE FUNCTION public.note_ddl()",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool
}

async fn restart_sends_no_ddl(env: TestEnv) {
    let a = create_account(&env.app, "Shop A", None).await.unwrap();
    let b = create_account(&env.app, "Shop B", None).await.unwrap();
    put_order(&env.app, &a.id, "2000001").await;
    let ddl = match &env.pg {
        Some(pg) => Some(watch_ddl(&pg.url).await),
        None => None,
    };
    let schema_version = |pool: &Pool| {
        let pool = pool.clone();
        async move {
            match pool {
                Pool::Sqlite(p) => sqlx::query_scalar::<_, i64>("PRAGMA schema_version")
                    .fetch_one(&p)
                    .await
                    .unwrap(),
                Pool::Postgres(_) => 0,
            }
        }
    };
    let catalog_version = schema_version(env.app.store.catalog().pool()).await;
    env.app.store.close().await;

    let (hook, sent, _) = recorder();
    let app = App::build_with(
        env.settings.clone(),
        Arc::new(env.clock.clone()),
        Some(hook),
    )
    .await
    .unwrap();
    // A command on each account: open its store, read it.
    for id in [&a.id, &b.id] {
        let store = app.store.account(id).await.unwrap();
        store.count_orders().await.unwrap();
    }
    list_accounts(&app).await.unwrap();
    assert!(
        sent.lock().unwrap().is_empty(),
        "migrator sent {:?}",
        sent.lock().unwrap()
    );
    assert_eq!(
        schema_version(app.store.catalog().pool()).await,
        catalog_version
    );
    if let Some(ddl) = ddl {
        let seen: Vec<String> = sqlx::query_scalar("SELECT tag FROM public.ddl_seen")
            .fetch_all(&ddl)
            .await
            .unwrap();
        assert!(seen.is_empty(), "DDL on restart: {seen:?}");
        // The watch works: the old start-up statement is seen.
        sqlx::query("CREATE SCHEMA IF NOT EXISTS ordervault")
            .execute(&ddl)
            .await
            .unwrap();
        let seen: Vec<String> = sqlx::query_scalar("SELECT tag FROM public.ddl_seen")
            .fetch_all(&ddl)
            .await
            .unwrap();
        assert_eq!(seen, ["CREATE SCHEMA"]);
        ddl.close().await;
    }
    app.store.close().await;
}

async fn leftover_stores_are_reported_not_fatal(env: TestEnv) {
    let shop = create_account(&env.app, "Shop", None).await.unwrap();
    let stranger = AccountId::generate();
    // A leftover that would fail any migration: a store whose history says a migration
    // broke half-way (the old start-up migrated whatever it found and failed for good).
    match env.backend {
        Backend::Postgres => {
            let Pool::Postgres(p) = env.app.store.catalog().pool() else {
                unreachable!()
            };
            let s = stranger.schema_name();
            for sql in [
                format!("CREATE SCHEMA \"{s}\""),
                format!("CREATE TABLE \"{s}\"._sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)"),
                format!("INSERT INTO \"{s}\"._sqlx_migrations VALUES (1, 'orders', now(), false, '\\x00', 0)"),
            ] {
                sqlx::query(&sql).execute(p).await.unwrap();
            }
        }
        Backend::Sqlite => {
            let path = env
                .data_dir()
                .join("accounts")
                .join(format!("{}.db", stranger.as_str()));
            std::fs::write(path, b"not a database").unwrap();
        }
    }
    let app = env
        .restart(env.settings.clone())
        .await
        .expect("leftovers are not fatal");
    assert_eq!(list_accounts(&app).await.unwrap().len(), 1);
    put_order(&app, &shop.id, "3000001").await;
    let report = ordervault::doctor::check(&app).await.unwrap();
    let name = match env.backend {
        Backend::Postgres => stranger.schema_name(),
        Backend::Sqlite => format!("{}.db", stranger.as_str()),
    };
    assert_eq!(report.unknown_stores, vec![name]);
    assert!(report.unfinished_creations.is_empty() && report.missing_stores.is_empty());
    app.store.close().await;
}

both_backends!(
    failed_creation_is_resumed,
    abandoned_creation_can_be_closed,
    restart_sends_no_ddl,
    leftover_stores_are_reported_not_fatal
);
