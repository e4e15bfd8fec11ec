//! Helpers shared by the benchmarks (each bench includes this with `mod common;`).

/// A fresh, empty PostgreSQL database for one benchmark run, named after `label` and the
/// process; `None` when `DATABASE_URL` (default: local trust auth) is unreachable.
pub async fn postgres_url(label: &str) -> Option<String> {
    use sqlx::Connection;
    let admin = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
    let name = format!("ov_bench_{label}_{}", std::process::id());
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut c)
        .await;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut c)
        .await
        .ok()?;
    let (base, _) = admin.rsplit_once('/')?;
    Some(format!("{base}/{name}"))
}
