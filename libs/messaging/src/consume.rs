//! The consuming side (services and tests): [`run`], the one reconnecting loop every service's consumer runs
//! in, and small helpers: connecting, declaring the topology the relay publishes to, and reading what the relay
//! put on a delivery.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use lapin::message::Delivery;
use lapin::options::{
    BasicConsumeOptions, BasicQosOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};
use tokio::sync::watch;
use uuid::Uuid;

/// Connects to RabbitMQ at `amqp_url` (`amqp://user:pass@host:port/vhost`) on the current tokio runtime.
/// The URL is not part of the error: it may carry a password.
pub async fn connect(amqp_url: &str) -> anyhow::Result<Connection> {
    Connection::connect(amqp_url, ConnectionProperties::default()).await.context("cannot connect to RabbitMQ")
}

/// Declares `exchange` as a durable topic exchange, exactly as the relay does before publishing to it.
/// Idempotent: declaring an existing exchange with the same flags is a no-op for the broker.
pub async fn declare_exchange(channel: &Channel, exchange: &str) -> lapin::Result<()> {
    let options = ExchangeDeclareOptions {
        // Create it when missing (a passive declare would only check that it exists).
        passive: false,
        // Survives a broker restart, like the persistent messages published to it.
        durable: true,
        // Stays when its last binding goes: producers publish whether or not a consumer is bound yet.
        auto_delete: false,
        // Clients publish to it directly.
        internal: false,
        // Wait for declare-ok so a failure (e.g. the name exists with another type) surfaces here.
        nowait: false,
    };
    channel.exchange_declare(exchange.into(), ExchangeKind::Topic, options, FieldTable::default()).await
}

/// Starts consuming `queue` with manual acknowledgements (a message is acked only once handled) and at most
/// `prefetch` unacknowledged messages on the channel (`global: false`: per consumer, the usual meaning). The
/// broker names the consumer, so replicas never collide; messages published on this same connection are
/// accepted; consume-ok is awaited, so a failure surfaces here. `exclusive` when the queue is this connection's
/// alone (a replica's private queue), not when replicas share it (a work queue).
pub async fn start(channel: &Channel, queue: &str, prefetch: u16, exclusive: bool) -> lapin::Result<Consumer> {
    channel.basic_qos(prefetch, BasicQosOptions { global: false }).await?;
    let options = BasicConsumeOptions { no_local: false, no_ack: false, exclusive, nowait: false };
    channel.basic_consume(queue.into(), "".into(), options, FieldTable::default()).await
}

/// Declares the topic `exchange` (same flags as the relay), the queue `queue` and binds it with `routing_key`
/// (topic patterns such as `user.*` or `#` work).
///
/// A `durable` queue survives broker restarts and consumers (a service's work queue); otherwise the queue is
/// exclusive to this connection and deleted with it (a test's or a replica's private queue).
pub async fn bind_queue(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    routing_key: &str,
    durable: bool,
) -> anyhow::Result<()> {
    declare_exchange(channel, exchange).await.with_context(|| format!("cannot declare exchange {exchange}"))?;
    let options = QueueDeclareOptions {
        passive: false,
        durable,
        // A private queue belongs to this connection only...
        exclusive: !durable,
        // ...and goes away with its last consumer.
        auto_delete: !durable,
        nowait: false,
    };
    channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .with_context(|| format!("cannot declare queue {queue}"))?;
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            routing_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("cannot bind queue {queue} to {exchange}"))?;
    Ok(())
}

/// The outbox row id the relay put in `message_id`; consumers de-duplicate by it (the relay publishes at least
/// once: a message whose confirm was lost is published again).
pub fn message_id(delivery: &Delivery) -> Option<Uuid> {
    delivery.properties.message_id().as_ref().and_then(|id| Uuid::try_parse(id.as_str()).ok())
}

/// A string header of `delivery` (the relay sends every outbox header as an AMQP long string).
pub fn header(delivery: &Delivery, name: &str) -> Option<String> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// True once `stop` says to stop, or its sender is gone (nothing can say so any more).
pub fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Resolves once `stop` says to stop (or its sender is gone).
pub async fn until_stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

type Hook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How [`run`] keeps a consumer going: its name in the log lines, the backoff between connection attempts,
/// and what happens on a reconnection and on stop.
pub struct Options {
    name: String,
    queue: Option<String>,
    min_backoff: Duration,
    max_backoff: Duration,
    connect_timeout: Option<Duration>,
    session_stops: bool,
    on_reconnect: Option<Hook>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("name", &self.name)
            .field("queue", &self.queue)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("connect_timeout", &self.connect_timeout)
            .field("session_stops", &self.session_stops)
            .field("on_reconnect", &self.on_reconnect.is_some())
            .finish()
    }
}

impl Options {
    /// `name` starts the consumer's log lines ("user.deleted consumer" gives "user.deleted consumer down;
    /// reconnecting"). Defaults: a backoff from 250 ms doubling to 30 s, no connect timeout, the session
    /// dropped on stop, no reconnection hook.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            queue: None,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            connect_timeout: None,
            session_stops: false,
            on_reconnect: None,
        }
    }

    /// The queue, added as the `queue` field of every log line.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// The wait after the first failed attempt, doubled after each further one up to `max`; back to `min` once
    /// a session got as far as consuming.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// A connection (TCP and AMQP handshake) that takes longer counts as failed.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The session watches `stop` itself and returns when it turns (after, say, letting running work settle);
    /// [`run`] waits for it. Without this, a session is dropped wherever it is when `stop` turns: an
    /// unacknowledged delivery then goes back to the queue with the connection.
    pub fn session_stops(mut self) -> Self {
        self.session_stops = true;
        self
    }

    /// Runs `hook` in every session after the first one that calls [`Attempt::consuming`], before that call
    /// returns: what a consumer does when it may have missed messages while it was away (an exclusive queue
    /// does not keep them).
    pub fn on_reconnect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_reconnect = Some(Arc::new(move || Box::pin(hook())));
        self
    }
}

/// One session's handle on [`run`]'s bookkeeping.
pub struct Attempt {
    consuming: Arc<AtomicBool>,
    /// Set when an earlier session got as far as consuming.
    reconnect: Option<Hook>,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt").field("reconnecting", &self.reconnect.is_some()).finish_non_exhaustive()
    }
}

impl Attempt {
    /// Tells [`run`] that this session is consuming (declared, `basic_consume` answered): the outage, if any,
    /// is over and the backoff starts again from its minimum. On a reconnection it runs the
    /// [`Options::on_reconnect`] hook first. A session that never calls it counts as a failed attempt.
    pub async fn consuming(self) {
        self.consuming.store(true, Ordering::SeqCst);
        if let Some(hook) = self.reconnect {
            hook().await;
        }
    }
}

/// Runs a consumer until `stop` turns true (or its sender goes): connects to `amqp_url`, hands the connection
/// to `session` (which declares, consumes and returns when its stream ends or fails), and when the connection
/// is lost or cannot be had, waits with a doubling backoff and starts again.
///
/// One warning per outage (the first failure, or a stream that ended); further failed attempts are debug
/// lines. The URL is never logged: it may carry a password.
pub async fn run<S, Fut>(amqp_url: &str, options: Options, mut stop: watch::Receiver<bool>, mut session: S)
where
    S: FnMut(Connection, Attempt) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let Options { name, queue, min_backoff, max_backoff, connect_timeout, session_stops, on_reconnect } = options;
    let queue = queue.as_deref();
    let mut backoff = min_backoff;
    // A warning was logged for the current outage.
    let mut down = false;
    // A session got as far as consuming: the next one is a reconnection.
    let mut consumed = false;
    while !stopped(&stop) {
        let connecting = async {
            match connect_timeout {
                Some(limit) => tokio::time::timeout(limit, connect(amqp_url))
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("cannot connect to RabbitMQ within {limit:?}"))),
                None => connect(amqp_url).await,
            }
        };
        let connection = tokio::select! {
            connection = connecting => connection,
            () = until_stopped(&mut stop) => break,
        };
        let consuming = Arc::new(AtomicBool::new(false));
        let result = match connection {
            Err(e) => Err(e),
            Ok(connection) => {
                let attempt =
                    Attempt { consuming: consuming.clone(), reconnect: on_reconnect.clone().filter(|_| consumed) };
                let session = session(connection, attempt);
                if session_stops {
                    session.await
                } else {
                    tokio::select! {
                        result = session => result,
                        () = until_stopped(&mut stop) => break,
                    }
                }
            }
        };
        if stopped(&stop) {
            break;
        }
        if consuming.load(Ordering::SeqCst) {
            consumed = true;
            backoff = min_backoff;
            down = false;
        }
        match result {
            Err(e) if !down => tracing::warn!(queue, error = format!("{e:#}"), "{name} down; reconnecting"),
            Err(e) => tracing::debug!(queue, error = format!("{e:#}"), "{name} still down"),
            Ok(()) => tracing::warn!(queue, "{name} stream ended; reconnecting"),
        }
        down = true;
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = until_stopped(&mut stop) => break,
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

#[cfg(test)]
mod tests {
    use lapin::BasicProperties;
    use lapin::types::LongLongInt;

    use super::*;

    fn delivery(properties: BasicProperties) -> Delivery {
        let mut delivery = Delivery::mock(1, "ex".into(), "key".into(), false, vec![]);
        delivery.properties = properties;
        delivery
    }

    #[test]
    fn headers_are_read_as_strings_whatever_string_type_carries_them() {
        let mut table = FieldTable::default();
        table.insert("long".into(), AMQPValue::LongString("l".into()));
        table.insert("short".into(), AMQPValue::ShortString("s".into()));
        table.insert("number".into(), AMQPValue::LongLongInt(7 as LongLongInt));
        let d = delivery(BasicProperties::default().with_headers(table));
        assert_eq!(header(&d, "long").as_deref(), Some("l"));
        assert_eq!(header(&d, "short").as_deref(), Some("s"));
        assert_eq!(header(&d, "number"), None, "not a string");
        assert_eq!(header(&d, "missing"), None);
        assert_eq!(header(&delivery(BasicProperties::default()), "long"), None, "no headers at all");
    }

    #[test]
    fn the_message_id_is_the_outbox_row_id_when_it_is_a_uuid() {
        let id = Uuid::now_v7();
        let d = delivery(BasicProperties::default().with_message_id(id.to_string().into()));
        assert_eq!(message_id(&d), Some(id));
        let d = delivery(BasicProperties::default().with_message_id("not-a-uuid".into()));
        assert_eq!(message_id(&d), None);
        assert_eq!(message_id(&delivery(BasicProperties::default())), None);
    }

    #[test]
    fn a_stop_sender_that_goes_away_means_stop() {
        let (tx, rx) = watch::channel(false);
        assert!(!stopped(&rx));
        drop(tx);
        assert!(stopped(&rx));
    }

    #[test]
    fn options_print_their_settings_but_not_the_hook() {
        let options = Options::new("user.deleted consumer");
        assert_eq!(
            format!("{options:?}"),
            "Options { name: \"user.deleted consumer\", queue: None, min_backoff: 250ms, max_backoff: 30s, \
             connect_timeout: None, session_stops: false, on_reconnect: false }"
        );
        let options = Options::new("c")
            .queue("q")
            // A maximum below the minimum is raised to it.
            .backoff(Duration::from_secs(2), Duration::from_secs(1))
            .connect_timeout(Duration::from_secs(3))
            .session_stops()
            .on_reconnect(|| async {});
        assert_eq!(
            format!("{options:?}"),
            "Options { name: \"c\", queue: Some(\"q\"), min_backoff: 2s, max_backoff: 2s, \
             connect_timeout: Some(3s), session_stops: true, on_reconnect: true }"
        );
    }

    #[tokio::test]
    async fn an_attempt_says_whether_it_reconnects_and_runs_the_hook_then() {
        let consuming = Arc::new(AtomicBool::new(false));
        let first = Attempt { consuming: consuming.clone(), reconnect: None };
        assert_eq!(format!("{first:?}"), "Attempt { reconnecting: false, .. }");
        first.consuming().await;
        assert!(consuming.load(Ordering::SeqCst));

        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let hook: Hook = Arc::new(move || {
            let r = r.clone();
            Box::pin(async move { r.store(true, Ordering::SeqCst) })
        });
        let again = Attempt { consuming: Arc::new(AtomicBool::new(false)), reconnect: Some(hook) };
        assert_eq!(format!("{again:?}"), "Attempt { reconnecting: true, .. }");
        again.consuming().await;
        assert!(ran.load(Ordering::SeqCst));
    }
}
