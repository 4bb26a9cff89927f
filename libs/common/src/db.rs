//! PostgreSQL start-up shared by every service that owns tables: create its database when missing, then pool.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// Creates the database named in `url` when it does not exist, then opens a pool of at most
/// `max_connections` to it. `what` names the database in errors ("catalogue", "identity").
pub async fn connect(url: &str, max_connections: u32, what: &str) -> anyhow::Result<PgPool> {
    ensure_database(url, what).await?;
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to the {what} database"))
}

/// Creates the database named in `url` when it does not exist (connecting to the server's `postgres` db).
async fn ensure_database(url: &str, what: &str) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(url).with_context(|| format!("invalid {what} database_url"))?;
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let mut conn = options.clone().database("postgres").connect().await.context("cannot reach PostgreSQL")?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&sql).execute(&mut conn).await {
            Ok(_) => tracing::info!(database = %name, "database created"),
            // Another instance created it meanwhile.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create the {what} database")),
        }
    }
    Ok(())
}
