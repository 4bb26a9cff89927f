//! The relay when things go wrong: rows the broker refuses (a clashing exchange, names too long, a full queue
//! that nacks), an exchange deleted under it, a broker that never answers, PostgreSQL going away, and batch
//! limits. In every case the rows that could not be published stay, with `attempts` and `last_error`, and the
//! others go through.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use iknow_messaging::consume;
use iknow_messaging::outbox::OutboxMessage;
use iknow_messaging::relay::RelayConfig;
use iknow_testkit::TcpProxy;
use iknow_testkit::logs::Capture;
use lapin::options::{
    BasicGetOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ExchangeKind};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

use crate::helpers::{Env, RunningRelay, config, headers};

/// A connection and channel of the test's own, straight to the broker.
async fn broker() -> (Connection, Channel) {
    let connection = consume::connect(&iknow_testkit::amqp_url()).await.expect("RabbitMQ must be running");
    let channel = connection.create_channel().await.unwrap();
    (connection, channel)
}

/// A message with every field given.
fn message(exchange: &str, routing_key: &str, n: u32) -> OutboxMessage {
    OutboxMessage {
        exchange: exchange.to_owned(),
        routing_key: routing_key.to_owned(),
        payload: serde_json::json!({ "n": n }),
        headers: BTreeMap::new(),
    }
}

/// Inserts a row the way `outbox::enqueue` does, but with any JSON as its headers (older writers, hand edits).
async fn insert_raw(env: &Env, exchange: &str, n: u32, headers: serde_json::Value) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO outbox (id, exchange, routing_key, payload, headers) VALUES ($1, $2, 'raw', $3, $4)")
        .bind(id)
        .bind(exchange)
        .bind(serde_json::json!({ "n": n }))
        .bind(headers)
        .execute(&env.pool)
        .await
        .unwrap();
    id
}

/// `(id, attempts, last_error)` of every row left, in id order.
async fn rows(env: &Env) -> Vec<(Uuid, i32, Option<String>)> {
    sqlx::query_as("SELECT id, attempts, last_error FROM outbox ORDER BY id").fetch_all(&env.pool).await.unwrap()
}

/// Waits until exactly the rows `ids` are left, each tried at least `attempts` times; returns their errors.
async fn wait_left(env: &Env, ids: &[Uuid], attempts: i32) -> Vec<String> {
    iknow_testkit::eventually(20, || async {
        let left = rows(env).await;
        let same = left.iter().map(|(id, _, _)| *id).collect::<Vec<_>>() == ids;
        (same && left.iter().all(|(_, a, e)| *a >= attempts && e.is_some()))
            .then(|| left.into_iter().map(|(_, _, e)| e.unwrap()).collect())
    })
    .await
}

#[tokio::test]
async fn refused_rows_stay_with_their_reason_and_the_rest_of_the_batch_is_published() {
    let env = Env::new("relay-refused").await;
    let mut listener = env.listen().await;
    let (_connection, channel) = broker().await;

    // An exchange of another type under the name a row wants: the relay's declare fails and closes its channel.
    let clash = format!("{}.clash", env.exchange);
    let options = ExchangeDeclareOptions { auto_delete: true, ..ExchangeDeclareOptions::default() };
    channel
        .exchange_declare(clash.as_str().into(), ExchangeKind::Fanout, options, FieldTable::default())
        .await
        .unwrap();
    // A private queue reached through the default exchange (""), which the relay must not declare.
    let direct = format!("{}.direct", env.exchange);
    let exclusive = QueueDeclareOptions { exclusive: true, auto_delete: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(direct.as_str().into(), exclusive, FieldTable::default()).await.unwrap();

    let long = "x".repeat(256);
    let refused = env
        .enqueue_committed(&[
            message(&clash, "a", 1),
            message(&long, "a", 2),
            message(&env.exchange, &long, 3),
            message(&env.exchange, "a", 4).header(&long, "v"),
            message(&clash, "b", 5),
        ])
        .await;
    let published = env.enqueue_committed(&[message(&env.exchange, "after.clash", 6), message("", &direct, 7)]).await;
    let numeric = insert_raw(&env, &env.exchange, 8, serde_json::json!({ "x-count": 3, "x-flag": true })).await;
    let not_an_object = insert_raw(&env, &env.exchange, 9, serde_json::json!(["x-count"])).await;

    let relay = RunningRelay::start(&env.pool, config(iknow_testkit::amqp_url()));
    // The rest of the batch, after the clash, went out on a reopened channel.
    let delivery = listener.next_delivery().await;
    assert_eq!(consume::message_id(&delivery), Some(published[0]));
    assert_eq!(delivery.routing_key.as_str(), "after.clash");
    let delivery = listener.next_delivery().await;
    assert_eq!(consume::message_id(&delivery), Some(numeric));
    // Header values that are not strings travel as their JSON text.
    let expected: BTreeMap<String, String> = [("x-count", "3"), ("x-flag", "true")]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    assert_eq!(headers(&delivery), expected);
    let delivery = listener.next_delivery().await;
    assert_eq!(consume::message_id(&delivery), Some(not_an_object));
    assert!(headers(&delivery).is_empty(), "headers that are not an object are left out");
    let direct_delivery = iknow_testkit::eventually(20, || async {
        channel.basic_get(direct.as_str().into(), BasicGetOptions { no_ack: true }).await.unwrap()
    })
    .await;
    assert_eq!(consume::message_id(&direct_delivery.delivery), Some(published[1]));

    // The refused rows stay and are tried again at every poll, each with its reason.
    let errors = wait_left(&env, &refused, 2).await;
    relay.stop().await;
    assert!(errors[0].starts_with("cannot declare exchange: "), "{}", errors[0]);
    assert!(errors[0].contains("PRECONDITION_FAILED"), "{}", errors[0]);
    assert_eq!(errors[1], "exchange name longer than 255 bytes");
    assert_eq!(errors[2], "routing key longer than 255 bytes");
    assert_eq!(errors[3], "header name longer than 255 bytes");
    assert_eq!(errors[4], errors[0], "one declare per exchange and round, its failure shared by its rows");

    channel.exchange_delete(clash.as_str().into(), ExchangeDeleteOptions::default()).await.unwrap();
}

#[tokio::test]
async fn a_message_the_broker_nacks_stays_until_it_is_accepted() {
    let env = Env::new("relay-nack").await;
    let (_connection, channel) = broker().await;
    // A queue that holds one message and refuses (nacks) further publishes instead of dropping the oldest.
    let queue = format!("{}.full", env.exchange);
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongInt(1));
    arguments.insert("x-overflow".into(), AMQPValue::LongString("reject-publish".into()));
    let exclusive = QueueDeclareOptions { exclusive: true, auto_delete: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(queue.as_str().into(), exclusive, arguments).await.unwrap();
    consume::declare_exchange(&channel, &env.exchange).await.unwrap();
    channel
        .queue_bind(
            queue.as_str().into(),
            env.exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();

    let ids = env.enqueue_committed(&[env.message(1), env.message(2)]).await;
    let relay = RunningRelay::start(&env.pool, config(iknow_testkit::amqp_url()));
    // The first fills the queue; the second is nacked and stays, tried again at every poll.
    let errors = wait_left(&env, &ids[1..], 2).await;
    assert_eq!(errors, ["nacked by the broker"]);

    let get = || async { channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true }).await.unwrap() };
    let first = get().await.expect("the first message is queued");
    assert_eq!(consume::message_id(&first.delivery), Some(ids[0]));
    // Room again: the next poll publishes it.
    env.wait_outbox_empty().await;
    let second = iknow_testkit::eventually(20, get).await;
    assert_eq!(consume::message_id(&second.delivery), Some(ids[1]));
    relay.stop().await;
}

// A current-thread runtime: the relay's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn an_exchange_deleted_under_the_relay_is_declared_again_on_a_new_connection() {
    let (capture, _guard) = Capture::install(tracing::Level::INFO);
    let env = Env::new("relay-deleted").await;
    let mut listener = env.listen().await;
    let relay = RunningRelay::start(&env.pool, config(iknow_testkit::amqp_url()));
    let first = env.enqueue_committed(&[env.message(1)]).await;
    relay.handle.wake();
    assert_eq!(listener.next_ids(1).await, first);
    env.wait_outbox_empty().await;
    drop(listener);

    // The relay remembers it declared the exchange; publishing to it now makes the broker close the channel
    // (the rows of the batch published after the close fail at once).
    let (_connection, channel) = broker().await;
    channel.exchange_delete(env.exchange.as_str().into(), ExchangeDeleteOptions::default()).await.unwrap();
    let batch: Vec<_> = (2..100).map(|n| env.message(n)).collect();
    env.enqueue_committed(&batch).await;
    relay.handle.wake();

    // The failure counts as an outage; the rows are published on the next connection, which declares again.
    iknow_testkit::eventually(20, || async { (capture.lines("WARN", "RabbitMQ unavailable") == 1).then_some(()) })
        .await;
    env.wait_outbox_empty().await;
    let passive = ExchangeDeclareOptions { passive: true, ..ExchangeDeclareOptions::default() };
    channel
        .exchange_declare(env.exchange.as_str().into(), ExchangeKind::Topic, passive, FieldTable::default())
        .await
        .expect("the relay declared the exchange again");
    let mut listener = env.listen().await;
    let last = env.enqueue_committed(&[env.message(100)]).await;
    relay.handle.wake();
    assert_eq!(listener.next_ids(1).await, last);
    relay.stop().await;

    let logs = capture.text();
    let warning = logs.lines().find(|l| l.contains("RabbitMQ unavailable")).unwrap();
    // The broker closes the channel (404) after the first publish: the rows published after that fail at once,
    // or, if the close came after the whole batch, its confirms fail.
    assert!(
        warning.contains("publish failed: invalid channel state") || warning.contains("no confirm"),
        "the reason is logged: {warning}"
    );
    assert_eq!(capture.lines("INFO", "RabbitMQ reachable again"), 1, "{logs}");
}

#[tokio::test]
async fn a_broker_that_never_answers_counts_as_down_after_the_connect_timeout() {
    let env = Env::new("relay-silent").await;
    // Accepts TCP connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let ids = env.enqueue_committed(&[env.message(1)]).await;
    let relay = RunningRelay::start(&env.pool, config(format!("amqp://guest:guest@{addr}/%2f")));
    let errors = wait_left(&env, &ids, 1).await;
    assert_eq!(errors, ["cannot connect to RabbitMQ within 5 s"]);
    relay.stop().await;
    held.abort();
}

#[tokio::test]
async fn a_batch_size_below_one_publishes_one_row_per_round() {
    let env = Env::new("relay-batch").await;
    let mut listener = env.listen().await;
    let ids = env.enqueue_committed(&[env.message(1), env.message(2), env.message(3)]).await;
    let config = RelayConfig { batch_size: 0, ..config(iknow_testkit::amqp_url()) };
    let relay = RunningRelay::start(&env.pool, config);
    assert_eq!(listener.next_ids(3).await, ids, "every row, in order");
    env.wait_outbox_empty().await;
    relay.stop().await;
}

// A current-thread runtime: the relay's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_database_outage_is_logged_once_and_publishing_resumes_after_it() {
    let (capture, _guard) = Capture::install(tracing::Level::INFO);
    let env = Env::new("relay-db-down").await;
    let mut listener = env.listen().await;

    // The relay's pool goes through a proxy the test cuts; the test's own pool does not.
    let direct: PgConnectOptions = PgConnectOptions::from_str(&iknow_testkit::pg_server_url()).unwrap();
    let target = tokio::net::lookup_host((direct.get_host(), direct.get_port())).await.unwrap().next().unwrap();
    let proxy = TcpProxy::start(target).await;
    let options = PgConnectOptions::from_str(&env_url(&env).await)
        .unwrap()
        .host(&proxy.addr.ip().to_string())
        .port(proxy.addr.port());
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(500))
        .connect_with(options)
        .await
        .unwrap();
    let relay = RunningRelay::start(&pool, config(iknow_testkit::amqp_url()));
    let warm = env.enqueue_committed(&[env.message(0)]).await;
    relay.handle.wake();
    assert_eq!(listener.next_ids(1).await, warm);
    env.wait_outbox_empty().await;

    proxy.cut();
    let ids = env.enqueue_committed(&[env.message(1), env.message(2)]).await;
    relay.handle.wake();
    iknow_testkit::eventually(20, || async { (capture.lines("WARN", "database unavailable") == 1).then_some(()) })
        .await;
    // Several more polls (200 ms apart) fail while PostgreSQL stays away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(env.outbox_rows().await, 2, "nothing is lost while the relay cannot read");
    proxy.restore();
    assert_eq!(listener.next_ids(2).await, ids);
    env.wait_outbox_empty().await;
    relay.stop().await;

    let logs = capture.text();
    assert_eq!(capture.lines("WARN", "database unavailable"), 1, "one warning per outage:\n{logs}");
    assert_eq!(capture.lines("INFO", "database reachable again"), 1, "one recovery line:\n{logs}");
}

/// The URL of the test's database.
async fn env_url(env: &Env) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&env.pool).await.unwrap();
    format!("{}/{name}", iknow_testkit::pg_server_url())
}

#[test]
fn the_default_config_is_the_local_broker_and_keeps_its_password_out_of_debug() {
    let config = RelayConfig::default();
    assert_eq!(config.amqp_url.expose(), "amqp://guest:guest@127.0.0.1:5672/%2f");
    assert_eq!((config.poll_interval, config.batch_size), (Duration::from_secs(1), 100));
    let printed = format!("{config:?}");
    assert!(!printed.contains("guest"), "{printed}");
    assert!(printed.contains("batch_size: 100"), "{printed}");
}
