//! A test database with the outbox table, a relay running on it, and a queue bound to the test's exchange.

use std::collections::BTreeMap;
use std::time::Duration;

use iknow_messaging::consume;
use iknow_messaging::outbox::{self, OutboxMessage};
use iknow_messaging::relay::{Relay, RelayConfig, RelayHandle};
use iknow_testkit::TestDb;
use iknow_testkit::amqp::Listener;
use lapin::message::Delivery;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// A fresh database holding the outbox table, and the test's own exchange name.
pub struct Env {
    pub pool: PgPool,
    pub exchange: String,
    _db: TestDb,
}

impl Env {
    pub async fn new(what: &str) -> Self {
        let db = TestDb::new().await;
        let pool = PgPoolOptions::new().max_connections(5).connect(&db.url).await.expect("test database");
        sqlx::raw_sql(outbox::MIGRATION_SQL).execute(&pool).await.expect("outbox table");
        let exchange = iknow_testkit::unique_prefix(what).trim_end_matches(':').replace(':', ".");
        Self { pool, exchange, _db: db }
    }

    /// A message on the test's exchange with a payload carrying `n` and a secret-looking token.
    pub fn message(&self, n: u32) -> OutboxMessage {
        let payload = serde_json::json!({ "n": n, "token": format!("secret-token-{n}") });
        OutboxMessage::json(&self.exchange, "user.registered", &payload)
            .expect("json payload")
            .header("x-request-id", format!("request-{n}"))
    }

    /// Enqueues `messages` in one committed transaction; returns their ids.
    pub async fn enqueue_committed(&self, messages: &[OutboxMessage]) -> Vec<Uuid> {
        let mut tx = self.pool.begin().await.unwrap();
        let mut ids = Vec::new();
        for message in messages {
            ids.push(outbox::enqueue(&mut tx, message).await.expect("enqueue"));
        }
        tx.commit().await.unwrap();
        ids
    }

    /// A queue bound to the test's exchange with `#`, before the relay publishes.
    pub async fn listen(&self) -> Listener {
        Listener::bind(&self.exchange, "#").await
    }

    pub async fn outbox_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&self.pool).await.unwrap()
    }

    /// Waits until the relay has deleted every row.
    pub async fn wait_outbox_empty(&self) {
        iknow_testkit::eventually(20, || async { (self.outbox_rows().await == 0).then_some(()) }).await;
    }
}

/// A relay running in the background; stopped (and awaited) by [`RunningRelay::stop`].
pub struct RunningRelay {
    pub handle: RelayHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningRelay {
    pub fn start(pool: &PgPool, config: RelayConfig) -> Self {
        let relay = Relay::new(pool.clone(), config);
        let handle = relay.handle();
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(relay.run_until(async move {
            let _ = rx.await;
        }));
        Self { handle, stop, task }
    }

    /// Stops the relay and checks it ends.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(30), self.task).await.expect("relay stops").expect("relay task");
    }
}

/// A relay config for the shared broker (or `amqp_url`) with a short poll interval.
pub fn config(amqp_url: String) -> RelayConfig {
    RelayConfig { poll_interval: Duration::from_millis(200), ..RelayConfig::new(amqp_url) }
}

/// The headers of `delivery` as strings.
pub fn headers(delivery: &Delivery) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(table) = delivery.properties.headers() {
        for (name, _) in table {
            out.insert(name.to_string(), consume::header(delivery, name.as_str()).expect("string header"));
        }
    }
    out
}
