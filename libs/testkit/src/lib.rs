//! Test helpers shared by every crate's integration tests: a fresh PostgreSQL database per test (dropped
//! afterwards), a random Redis key prefix, and a TCP proxy the test owns and can cut to simulate an outage
//! without touching the machine's shared servers; a RabbitMQ listener ([`amqp`]), captured log lines
//! ([`logs`]), IMDb dataset files ([`dataset`]), the catalogue's rows read back ([`catalog`]) and an SMTP
//! server that records mails ([`smtp`]).
#![forbid(unsafe_code)]

pub mod amqp;
pub mod catalog;
pub mod dataset;
pub mod logs;
pub mod smtp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Server URL of the shared PostgreSQL, without a database; `IKNOW_TEST_PG` overrides it.
pub fn pg_server_url() -> String {
    std::env::var("IKNOW_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// URL of the shared Redis; `IKNOW_TEST_REDIS` overrides it.
pub fn redis_url() -> String {
    std::env::var("IKNOW_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Address of the shared Redis (of [`redis_url`], which must be `redis://host:port`), for a [`TcpProxy`] in
/// front of it.
pub fn redis_addr() -> std::net::SocketAddr {
    redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("the test Redis URL is redis://host:port")
}

/// URL of the shared RabbitMQ; `IKNOW_TEST_AMQP` overrides it.
pub fn amqp_url() -> String {
    std::env::var("IKNOW_TEST_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A unique prefix for Redis keys (and queue names) of one test.
pub fn unique_prefix(what: &str) -> String {
    format!("test:{what}:{}:", uuid::Uuid::now_v7().simple())
}

/// A database of one test, created empty and dropped (forcibly) when this value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("test_{}", uuid::Uuid::now_v7().simple());
        let server = pg_server_url();
        let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .expect("PostgreSQL must be running on 127.0.0.1:5432 for the tests");
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.expect("create test database");
        let url = format!("{server}/{name}");
        Self { name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = pg_server_url();
        // Drop runs inside the test's runtime, which may be shutting down: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{server}/postgres")).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

/// A TCP address where nothing listens (bound, then released), for "the dependency is down" tests.
pub async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// A TCP proxy owned by a test: forwards to `target` until [`TcpProxy::cut`], then refuses and drops
/// every connection; [`TcpProxy::restore`] forwards again.
pub struct TcpProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut_tx: watch::Sender<u64>,
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cut_tx, _) = watch::channel(0u64);
        let (up2, tx2) = (up.clone(), cut_tx.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { break };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut = tx2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { addr, up, cut_tx }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut_tx.send_modify(|n| *n += 1);
    }

    /// Accepts and forwards connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }
}

/// Polls `f` until it returns `Some`, or panics after `secs` seconds: waiting without fixed sleeps.
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "condition not met within {secs}s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
