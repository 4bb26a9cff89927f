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
            Err(e) if sqlstate(&e).as_deref() == Some(DUPLICATE_DATABASE) => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create the {what} database")),
        }
    }
    Ok(())
}

// SQLSTATE codes the services act on (PostgreSQL's appendix A, "PostgreSQL Error Codes").
/// A unique constraint or index refused a duplicate.
pub const UNIQUE_VIOLATION: &str = "23505";
/// A foreign key refused a row whose parent is missing.
pub const FOREIGN_KEY_VIOLATION: &str = "23503";
/// The transaction was chosen as a deadlock victim; running it again may succeed.
pub const DEADLOCK_DETECTED: &str = "40P01";
/// A serializable transaction conflicted; running it again may succeed.
pub const SERIALIZATION_FAILURE: &str = "40001";
/// `CREATE DATABASE` of a database that exists.
pub const DUPLICATE_DATABASE: &str = "42P04";

/// The SQLSTATE of a database error; `None` for failures that never reached the server's SQL.
pub fn sqlstate(e: &sqlx::Error) -> Option<std::borrow::Cow<'_, str>> {
    match e {
        sqlx::Error::Database(d) => d.code(),
        _ => None,
    }
}

/// The constraint a database error names, when it names one.
pub fn constraint(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(d) => d.constraint(),
        _ => None,
    }
}

/// A duplicate refused by a unique constraint.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    sqlstate(e).as_deref() == Some(UNIQUE_VIOLATION)
}

/// A row whose foreign-key parent is missing.
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    sqlstate(e).as_deref() == Some(FOREIGN_KEY_VIOLATION)
}

/// A transaction that lost a deadlock or a serialization conflict: the same work may succeed if run again.
pub fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(sqlstate(e).as_deref(), Some(DEADLOCK_DETECTED | SERIALIZATION_FAILURE))
}

/// PostgreSQL cannot be used right now: no pooled connection in time, the connection broke, or the server is
/// refusing connections or shutting down (SQLSTATE classes 08 and 57P).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        _ => sqlstate(e).is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_outside_sql_have_no_sqlstate() {
        assert!(sqlstate(&sqlx::Error::PoolTimedOut).is_none());
        assert!(!is_unique_violation(&sqlx::Error::RowNotFound));
        assert!(!is_retryable(&sqlx::Error::RowNotFound));
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
