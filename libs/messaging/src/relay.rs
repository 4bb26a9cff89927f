//! The outbox relay: publishes the rows of a service's `outbox` table to RabbitMQ with publisher confirms and
//! deletes each row once the broker has acknowledged it.
//!
//! Each round takes up to `batch_size` rows in id order with `SELECT ... FOR UPDATE SKIP LOCKED` inside one
//! transaction, so several replicas can run a relay on the same table without publishing a row twice at once.
//! The rows are published in that order on one confirm-mode channel, then every confirm is awaited: acked rows
//! are deleted, nacked or failed ones get `attempts + 1` and `last_error` and wait for the next round. Delivery
//! is at least once (a confirm lost with the connection means the row is published again), so every message
//! carries its row id as `message_id` for consumers to de-duplicate.
//!
//! RabbitMQ is connected lazily (at the first row) and may be down: rows stay in the table, the relay logs one
//! warning, retries with a backoff (100 ms doubling to 5 s) and logs once more when it is back. Payloads are never
//! logged nor stored in `last_error`: they can carry mail tokens.

use iknow_common::secret::Secret;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, PublisherConfirm};
use sqlx::PgPool;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::consume;

/// First wait after RabbitMQ failed; doubled after each further failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two attempts to reach RabbitMQ.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A connection (TCP, AMQP handshake, channel, confirm mode) that takes longer counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the relay waits for the broker's confirms of one round before it gives the connection up.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15);
/// `last_error` is cut to this many characters.
const MAX_ERROR_LEN: usize = 500;
/// AMQP delivery mode of persistent messages (written to disk by durable queues).
const PERSISTENT: u8 = 2;

/// Settings of a [`Relay`].
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// RabbitMQ URL, `amqp://user:pass@host:port/vhost`. A secret: it carries a password.
    pub amqp_url: Secret,
    /// How often the relay looks for rows when nobody calls [`RelayHandle::wake`] (default 1 s).
    pub poll_interval: Duration,
    /// Most rows taken (and published) per round (default 100).
    pub batch_size: i64,
}

impl RelayConfig {
    /// Default poll interval and batch size for the broker at `amqp_url`.
    pub fn new(amqp_url: impl Into<Secret>) -> Self {
        Self { amqp_url: amqp_url.into(), poll_interval: Duration::from_secs(1), batch_size: 100 }
    }
}

impl Default for RelayConfig {
    /// The local broker with the default guest account.
    fn default() -> Self {
        Self::new("amqp://guest:guest@127.0.0.1:5672/%2f")
    }
}

/// Publishes a service's outbox; see the module documentation.
#[derive(Debug)]
pub struct Relay {
    pool: PgPool,
    config: RelayConfig,
    wake: Arc<Notify>,
}

/// Wakes a running [`Relay`]: cheap to clone, kept by the code that enqueues.
#[derive(Debug, Clone)]
pub struct RelayHandle {
    wake: Arc<Notify>,
}

impl RelayHandle {
    /// Makes the relay publish now instead of at its next poll. Call it right after committing a transaction
    /// that enqueued. Wakes during a round are not lost: the relay starts another round right after.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Relay {
    /// A relay over the `outbox` table of `pool`'s database. Nothing connects until [`Relay::run_until`].
    pub fn new(pool: PgPool, config: RelayConfig) -> Self {
        Self { pool, config, wake: Arc::new(Notify::new()) }
    }

    /// A handle to wake this relay.
    pub fn handle(&self) -> RelayHandle {
        RelayHandle { wake: self.wake.clone() }
    }

    /// Publishes until `shutdown` completes; a round under way finishes first (its waits are bounded), then the
    /// connection is closed.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut state = State::new();
        loop {
            let (pause, wakeable) = match self.round(&mut state).await {
                Ok(Progress::More) => (Duration::ZERO, false),
                Ok(Progress::Done) => (self.config.poll_interval, true),
                // No waking up early: a wake must not turn the backoff into a busy loop.
                Err(Failure::Broker) => (state.next_backoff(), false),
                Err(Failure::Database(_)) => (self.config.poll_interval, true),
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.wake.notified(), if wakeable => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
        if let Some(link) = state.link.take() {
            let _ = tokio::time::timeout(CONNECT_TIMEOUT, link.connection.close(200, "relay stopped".into())).await;
        }
    }

    /// One round: take, publish, confirm, delete or mark, commit.
    async fn round(&self, state: &mut State) -> Result<Progress, Failure> {
        let result = self.publish_batch(state).await;
        match &result {
            Err(Failure::Database(e)) if !state.db_down => {
                state.db_down = true;
                tracing::warn!(error = %e, "outbox relay: database unavailable; retrying every poll");
            }
            Ok(_) if state.db_down => {
                state.db_down = false;
                tracing::info!("outbox relay: database reachable again");
            }
            _ => {}
        }
        result
    }

    async fn publish_batch(&self, state: &mut State) -> Result<Progress, Failure> {
        let batch_size = self.config.batch_size.max(1);
        let mut tx = self.pool.begin().await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, exchange, routing_key, payload, headers FROM outbox \
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(batch_size)
        .fetch_all(&mut *tx)
        .await?;
        let full = rows.len() as i64 >= batch_size;
        let pending = if full {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox").fetch_one(&mut *tx).await?
        } else {
            rows.len() as i64
        };
        metrics::gauge!("iknow_outbox_pending").set(pending as f64);
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(Progress::Done);
        }

        let outcome = match state.link(self.config.amqp_url.expose()).await {
            Ok(link) => publish(link, &rows).await,
            Err(error) => Outcome {
                failed: rows.iter().map(|r| (r.id, error.clone())).collect(),
                broken: Some(error),
                ..Default::default()
            },
        };

        if !outcome.acked.is_empty() {
            sqlx::query("DELETE FROM outbox WHERE id = ANY($1)").bind(&outcome.acked).execute(&mut *tx).await?;
        }
        if !outcome.failed.is_empty() {
            metrics::counter!("iknow_outbox_publish_failures_total").increment(outcome.failed.len() as u64);
            let (ids, errors): (Vec<Uuid>, Vec<String>) = outcome.failed.into_iter().unzip();
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = f.error \
                 FROM unnest($1::uuid[], $2::text[]) AS f(id, error) WHERE outbox.id = f.id",
            )
            .bind(&ids)
            .bind(&errors)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;

        if let Some(error) = outcome.broken {
            state.broker_failed(&error);
            return Err(Failure::Broker);
        }
        state.backoff = MIN_BACKOFF;
        Ok(if full { Progress::More } else { Progress::Done })
    }
}

/// Publishes `rows` in order on `link` and awaits every confirm.
async fn publish(link: &mut Link, rows: &[Row]) -> Outcome {
    let mut outcome = Outcome::default();

    // Declare the batch's new exchanges before publishing anything: a failed declare closes the channel, and
    // no confirm may be pending on a channel that closes.
    let mut refused: HashMap<&str, String> = HashMap::new();
    for row in rows {
        let exchange = row.exchange.as_str();
        if link.declared.contains(exchange) || refused.contains_key(exchange) {
            continue;
        }
        // The default exchange ("") and the broker's own ("amq.*") exist already and cannot be declared.
        if exchange.is_empty() || exchange.starts_with("amq.") {
            link.declared.insert(exchange.to_owned());
            continue;
        }
        if ShortString::try_new(exchange).is_err() {
            refused.insert(exchange, "exchange name longer than 255 bytes".into());
            continue;
        }
        match consume::declare_exchange(&link.channel, exchange).await {
            Ok(()) => {
                link.declared.insert(exchange.to_owned());
            }
            Err(e) => {
                refused.insert(exchange, truncate(format!("cannot declare exchange: {e}")));
                if !link.channel.status().connected()
                    && let Err(e) = link.reopen_channel().await
                {
                    let error = truncate(format!("cannot reopen the channel: {e}"));
                    outcome.failed = rows.iter().map(|r| (r.id, error.clone())).collect();
                    outcome.broken = Some(error);
                    return outcome;
                }
            }
        }
    }

    let mut sent: Vec<(Uuid, &str, PublisherConfirm)> = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(error) = refused.get(row.exchange.as_str()) {
            outcome.failed.push((row.id, error.clone()));
            continue;
        }
        let (routing_key, properties) = match message_parts(row) {
            Ok(parts) => parts,
            Err(error) => {
                outcome.failed.push((row.id, error));
                continue;
            }
        };
        let body = serde_json::to_vec(&row.payload).unwrap_or_default();
        let options = BasicPublishOptions { mandatory: false, immediate: false };
        match link.channel.basic_publish(row.exchange.as_str().into(), routing_key, options, &body, properties).await {
            Ok(confirm) => sent.push((row.id, row.exchange.as_str(), confirm)),
            Err(e) => {
                // The channel or connection is gone: keep this row and the ones after it, in order, for later.
                let error = truncate(format!("publish failed: {e}"));
                outcome.failed.push((row.id, error.clone()));
                outcome.broken = Some(error);
                break;
            }
        }
    }

    let confirms = async {
        let mut results = Vec::with_capacity(sent.len());
        for (id, exchange, confirm) in sent {
            results.push((id, exchange, confirm.await));
        }
        results
    };
    match tokio::time::timeout(CONFIRM_TIMEOUT, confirms).await {
        Ok(results) => {
            for (id, exchange, result) in results {
                match result {
                    Ok(confirmation) if confirmation.is_ack() => {
                        metrics::counter!("iknow_outbox_published_total", "exchange" => exchange.to_owned())
                            .increment(1);
                        outcome.acked.push(id);
                    }
                    Ok(_) => outcome.failed.push((id, "nacked by the broker".into())),
                    Err(e) => {
                        let error = truncate(format!("no confirm: {e}"));
                        outcome.failed.push((id, error.clone()));
                        outcome.broken.get_or_insert(error);
                    }
                }
            }
        }
        Err(_) => {
            // Without confirms nothing is known: every row of the round stays (it may be published again).
            let error = format!("no confirm within {} s", CONFIRM_TIMEOUT.as_secs());
            outcome.acked.clear();
            outcome.failed = rows.iter().map(|r| (r.id, error.clone())).collect();
            outcome.broken = Some(error);
        }
    }
    outcome
}

/// The routing key and AMQP properties of `row`, or why it cannot be published.
fn message_parts(row: &Row) -> Result<(ShortString, BasicProperties), String> {
    let routing_key =
        ShortString::try_new(row.routing_key.as_str()).map_err(|_| "routing key longer than 255 bytes".to_owned())?;
    let mut headers = FieldTable::default();
    if let serde_json::Value::Object(map) = &row.headers {
        for (name, value) in map {
            let name =
                ShortString::try_new(name.as_str()).map_err(|_| "header name longer than 255 bytes".to_owned())?;
            let value = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.insert(name, AMQPValue::LongString(LongString::from(value)));
        }
    }
    let properties = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(PERSISTENT)
        .with_message_id(row.id.to_string().into())
        .with_headers(headers);
    Ok((routing_key, properties))
}

fn truncate(mut s: String) -> String {
    if let Some((at, _)) = s.char_indices().nth(MAX_ERROR_LEN) {
        s.truncate(at);
    }
    s
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    exchange: String,
    routing_key: String,
    payload: serde_json::Value,
    headers: serde_json::Value,
}

#[derive(Default)]
struct Outcome {
    acked: Vec<Uuid>,
    failed: Vec<(Uuid, String)>,
    /// Set when the connection or channel failed: the link is dropped and the relay backs off.
    broken: Option<String>,
}

enum Progress {
    /// The batch was full: more rows may be waiting.
    More,
    /// Fewer rows than a batch: wait for the next poll or wake.
    Done,
}

/// Why a round failed; either way the rows stay for a later round.
enum Failure {
    /// RabbitMQ could not be reached or the connection broke: back off.
    Broker,
    /// PostgreSQL failed: try again at the next poll.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

/// An open connection with its confirm-mode channel and the exchanges declared on it.
struct Link {
    connection: Connection,
    channel: Channel,
    declared: HashSet<String>,
}

impl Link {
    async fn open(amqp_url: &str) -> Result<Self, String> {
        let open = async {
            let connection = consume::connect(amqp_url).await.map_err(|e| format!("{e:#}"))?;
            let channel = confirm_channel(&connection).await.map_err(|e| e.to_string())?;
            Ok(Self { connection, channel, declared: HashSet::new() })
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, open).await {
            Ok(result) => result.map_err(truncate),
            Err(_) => Err(format!("cannot connect to RabbitMQ within {} s", CONNECT_TIMEOUT.as_secs())),
        }
    }

    fn healthy(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }

    async fn reopen_channel(&mut self) -> lapin::Result<()> {
        self.channel = confirm_channel(&self.connection).await?;
        Ok(())
    }
}

async fn confirm_channel(connection: &Connection) -> lapin::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions { nowait: false }).await?;
    Ok(channel)
}

/// What the relay remembers between rounds.
struct State {
    link: Option<Link>,
    /// A warning was logged for the current broker outage.
    broker_down: bool,
    /// A warning was logged for the current database outage.
    db_down: bool,
    backoff: Duration,
}

impl State {
    fn new() -> Self {
        Self { link: None, broker_down: false, db_down: false, backoff: MIN_BACKOFF }
    }

    /// The open link, connecting first when there is none or it broke.
    async fn link(&mut self, amqp_url: &str) -> Result<&mut Link, String> {
        if self.link.as_ref().is_some_and(|link| !link.healthy()) {
            self.link = None;
            self.broker_failed("connection to RabbitMQ lost");
        }
        if self.link.is_none() {
            match Link::open(amqp_url).await {
                Ok(link) => {
                    if self.broker_down {
                        self.broker_down = false;
                        tracing::info!("outbox relay: RabbitMQ reachable again, publishing");
                    }
                    self.link = Some(link);
                }
                Err(error) => return Err(error),
            }
        }
        self.link.as_mut().ok_or_else(|| "no connection".to_owned())
    }

    /// Drops the link and logs one warning per outage.
    fn broker_failed(&mut self, error: &str) {
        self.link = None;
        if !self.broker_down {
            self.broker_down = true;
            tracing::warn!(error, "outbox relay: RabbitMQ unavailable; messages stay in the outbox, retrying");
        }
    }

    /// The wait before the next attempt; doubles up to [`MAX_BACKOFF`].
    fn next_backoff(&mut self) -> Duration {
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(routing_key: &str, headers: serde_json::Value) -> Row {
        Row {
            id: Uuid::now_v7(),
            exchange: "ex".into(),
            routing_key: routing_key.into(),
            payload: serde_json::json!({}),
            headers,
        }
    }

    #[test]
    fn the_backoff_doubles_from_its_minimum_up_to_its_maximum() {
        let mut state = State::new();
        let waits: Vec<u64> = (0..8).map(|_| state.next_backoff().as_millis() as u64).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }

    #[test]
    fn one_warning_per_broker_outage() {
        let mut state = State::new();
        state.broker_failed("first");
        assert!(state.broker_down && state.link.is_none());
        // Further failures of the same outage change nothing.
        state.broker_failed("second");
        assert!(state.broker_down);
    }

    #[test]
    fn errors_are_cut_to_their_limit_on_a_character_boundary() {
        assert_eq!(truncate("short".into()), "short");
        let long = truncate("é".repeat(MAX_ERROR_LEN + 20));
        assert_eq!(long.chars().count(), MAX_ERROR_LEN);
        assert_eq!(truncate("a".repeat(MAX_ERROR_LEN)).len(), MAX_ERROR_LEN);
    }

    #[test]
    fn a_row_becomes_a_persistent_json_message_with_string_headers() {
        let row = row("user.registered", serde_json::json!({ "x-request-id": "r-1", "x-count": 2 }));
        let (routing_key, properties) = message_parts(&row).unwrap();
        assert_eq!(routing_key.as_str(), "user.registered");
        assert_eq!(properties.content_type().as_ref().map(ShortString::as_str), Some("application/json"));
        assert_eq!(*properties.delivery_mode(), Some(PERSISTENT));
        assert_eq!(properties.message_id().as_ref().map(ShortString::as_str), Some(row.id.to_string().as_str()));
        let headers = properties.headers().as_ref().unwrap().inner();
        assert_eq!(headers.get("x-request-id"), Some(&AMQPValue::LongString("r-1".into())));
        assert_eq!(headers.get("x-count"), Some(&AMQPValue::LongString("2".into())));
    }

    #[test]
    fn names_longer_than_amqp_allows_are_refused() {
        let long = "k".repeat(256);
        assert_eq!(
            message_parts(&row(&long, serde_json::json!({}))).err().as_deref(),
            Some("routing key longer than 255 bytes")
        );
        let headers = serde_json::json!({ long.clone(): "v" });
        assert_eq!(message_parts(&row("k", headers)).err().as_deref(), Some("header name longer than 255 bytes"));
        // 255 bytes is still fine.
        assert!(message_parts(&row(&long[..255], serde_json::Value::Null)).is_ok());
    }
}
