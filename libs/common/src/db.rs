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
            // Another instance created it meanwhile: 42P04 when its CREATE committed first, 23505 on
            // `pg_database_datname_index` when both ran at once.
            Err(e) if matches!(sqlstate(&e).as_deref(), Some(DUPLICATE_DATABASE | UNIQUE_VIOLATION)) => {}
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

    /// Server URL of the shared PostgreSQL (`IKNOW_TEST_PG`, as the testkit reads it).
    fn server() -> String {
        std::env::var("IKNOW_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
    }

    /// Drops the database `name` when dropped.
    struct DropDatabase(String);

    impl Drop for DropDatabase {
        fn drop(&mut self) {
            let (name, server) = (self.0.clone(), server());
            // The test's runtime may be shutting down: use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    let mut conn = PgConnectOptions::from_str(&server).unwrap().database("postgres").connect().await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await
                })
            })
            .join();
        }
    }

    #[tokio::test]
    async fn connect_creates_a_missing_database_then_finds_it() {
        let name = format!("test_db_{}", uuid::Uuid::now_v7().simple());
        let _cleanup = DropDatabase(name.clone());
        let url = format!("{}/{name}", server());
        for _ in 0..2 {
            // The first creates it, the second finds it; both open a pool on it.
            let pool = connect(&url, 0, "test").await.unwrap();
            let current: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&pool).await.unwrap();
            assert_eq!(current, name);
            assert_eq!(pool.options().get_max_connections(), 1, "at least one connection");
            pool.close().await;
        }
    }

    /// Two `CREATE DATABASE` of one name at once make the loser fail with 23505 on `pg_database_datname_index`
    /// (not 42P04): both instances must still start.
    #[tokio::test]
    async fn connect_creates_a_missing_database_once_even_when_instances_race() {
        let name = format!("test_db_{}", uuid::Uuid::now_v7().simple());
        let _cleanup = DropDatabase(name.clone());
        let url = format!("{}/{name}", server());
        // Several instances starting at once: the losers of the CREATE race find the database made.
        let starts: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { ensure_database(&url, "test").await })
            })
            .collect();
        for start in starts {
            start.await.unwrap().expect("every instance finds its database");
        }
    }

    #[tokio::test]
    async fn connect_names_what_failed() {
        let e = connect("not a url", 1, "catalogue").await.unwrap_err();
        assert_eq!(e.to_string(), "invalid catalogue database_url");
        let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let e = connect(&format!("postgres://postgres@{dead}/x"), 1, "catalogue").await.unwrap_err();
        assert_eq!(e.to_string(), "cannot reach PostgreSQL");
    }

    #[tokio::test]
    async fn constraint_failures_are_told_apart_and_name_their_constraint() {
        let name = format!("test_db_{}", uuid::Uuid::now_v7().simple());
        let _cleanup = DropDatabase(name.clone());
        let pool = connect(&format!("{}/{name}", server()), 1, "test").await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE parent (id INT PRIMARY KEY); \
             CREATE TABLE child (parent INT CONSTRAINT child_parent REFERENCES parent); \
             INSERT INTO parent VALUES (1);",
        )
        .execute(&pool)
        .await
        .unwrap();

        let duplicate = sqlx::query("INSERT INTO parent VALUES (1)").execute(&pool).await.unwrap_err();
        assert_eq!(sqlstate(&duplicate).as_deref(), Some(UNIQUE_VIOLATION));
        assert!(is_unique_violation(&duplicate) && !is_foreign_key_violation(&duplicate));
        assert_eq!(constraint(&duplicate), Some("parent_pkey"));

        let orphan = sqlx::query("INSERT INTO child VALUES (2)").execute(&pool).await.unwrap_err();
        assert!(is_foreign_key_violation(&orphan) && !is_unique_violation(&orphan));
        assert_eq!(constraint(&orphan), Some("child_parent"));
        // Neither is worth retrying nor a sign PostgreSQL is away: a caller's mistake, an internal error.
        assert!(!is_retryable(&orphan) && !is_unavailable(&orphan));
        assert_eq!(crate::Error::from(orphan).code(), "INTERNAL_ERROR");

        assert_eq!(constraint(&sqlx::Error::RowNotFound), None);
        pool.close().await;
    }
}
