//! The relay end to end: PostgreSQL outbox → RabbitMQ with confirms → a bound queue.

use std::collections::HashMap;
use std::time::Duration;

use iknow_messaging::consume;
use iknow_messaging::outbox;
use iknow_messaging::relay::RelayConfig;
use iknow_testkit::TcpProxy;
use iknow_testkit::amqp::{broker_addr, through_proxy};

use crate::helpers::{Env, RunningRelay, config, headers};

#[tokio::test]
async fn committed_message_arrives_with_its_properties_and_the_row_is_deleted() {
    let env = Env::new("relay-commit").await;
    let mut listener = env.listen().await;
    let relay = RunningRelay::start(&env.pool, config(iknow_testkit::amqp_url()));

    let message = env.message(1);
    let ids = env.enqueue_committed(std::slice::from_ref(&message)).await;
    relay.handle.wake();

    let delivery = listener.next_delivery().await;
    assert_eq!(consume::message_id(&delivery), Some(ids[0]));
    assert_eq!(delivery.exchange.as_str(), env.exchange);
    assert_eq!(delivery.routing_key.as_str(), "user.registered");
    let payload: serde_json::Value = serde_json::from_slice(&delivery.data).expect("json body");
    assert_eq!(payload, message.payload);
    assert_eq!(delivery.properties.content_type().as_ref().map(|c| c.as_str()), Some("application/json"));
    assert_eq!(*delivery.properties.delivery_mode(), Some(2));
    assert_eq!(headers(&delivery), message.headers);
    assert_eq!(consume::header(&delivery, "x-request-id").as_deref(), Some("request-1"));

    env.wait_outbox_empty().await;
    relay.stop().await;
}

#[tokio::test]
async fn rolled_back_message_is_never_published() {
    let env = Env::new("relay-rollback").await;
    let mut listener = env.listen().await;
    let relay = RunningRelay::start(&env.pool, config(iknow_testkit::amqp_url()));

    let mut tx = env.pool.begin().await.unwrap();
    outbox::enqueue(&mut tx, &env.message(1)).await.unwrap();
    tx.rollback().await.unwrap();
    // A committed message afterwards: the first delivery must be it, not the rolled-back one.
    let ids = env.enqueue_committed(&[env.message(2)]).await;
    relay.handle.wake();

    let delivery = listener.next_delivery().await;
    assert_eq!(consume::message_id(&delivery), Some(ids[0]));
    let payload: serde_json::Value = serde_json::from_slice(&delivery.data).unwrap();
    assert_eq!(payload["n"], 2);
    env.wait_outbox_empty().await;
    relay.stop().await;
}

#[tokio::test]
async fn wake_publishes_without_waiting_for_the_poll() {
    let env = Env::new("relay-wake").await;
    let mut listener = env.listen().await;
    let first = env.enqueue_committed(&[env.message(1)]).await;
    let config = RelayConfig { poll_interval: Duration::from_secs(60), ..RelayConfig::new(iknow_testkit::amqp_url()) };
    let relay = RunningRelay::start(&env.pool, config);
    // The relay's first round (at start) publishes the first message; then it sleeps for 60 s unless woken.
    assert_eq!(listener.next_ids(1).await, first);
    env.wait_outbox_empty().await;

    let second = env.enqueue_committed(&[env.message(2)]).await;
    relay.handle.wake();
    // Within the delivery wait (20 s), far before the next poll.
    assert_eq!(listener.next_ids(1).await, second);
    relay.stop().await;
}

#[tokio::test]
async fn rows_wait_while_rabbitmq_is_down_and_arrive_once_in_order_after() {
    let env = Env::new("relay-outage").await;
    let mut listener = env.listen().await;
    let proxy = TcpProxy::start(broker_addr().await).await;
    let relay = RunningRelay::start(&env.pool, config(through_proxy(&proxy)));

    // Connected through the proxy first.
    let warm = env.enqueue_committed(&[env.message(0)]).await;
    relay.handle.wake();
    assert_eq!(listener.next_ids(1).await, warm);
    env.wait_outbox_empty().await;

    proxy.cut();
    let ids = env.enqueue_committed(&[env.message(1), env.message(2), env.message(3)]).await;
    relay.handle.wake();
    // The relay tried, failed, recorded why and kept every row.
    iknow_testkit::eventually(20, || async {
        let rows: Vec<(i32, Option<String>)> =
            sqlx::query_as("SELECT attempts, last_error FROM outbox ORDER BY id").fetch_all(&env.pool).await.unwrap();
        (rows.len() == 3 && rows.iter().all(|(attempts, error)| *attempts >= 1 && error.is_some())).then_some(rows)
    })
    .await
    .into_iter()
    .for_each(|(_, error)| assert!(!error.unwrap().contains("secret-token"), "payload in last_error"));

    proxy.restore();
    assert_eq!(listener.next_ids(3).await, ids, "each message once, in order");
    env.wait_outbox_empty().await;

    // Nothing else was queued before a later message: no duplicate of the three.
    let sentinel = env.enqueue_committed(&[env.message(4)]).await;
    relay.handle.wake();
    assert_eq!(listener.next_ids(1).await, sentinel);
    relay.stop().await;
}

#[tokio::test]
async fn rows_stay_while_rabbitmq_cannot_be_reached_at_all() {
    let env = Env::new("relay-dead").await;
    let dead = iknow_testkit::dead_addr().await;
    let relay = RunningRelay::start(&env.pool, config(format!("amqp://guest:guest@{dead}/%2f")));

    env.enqueue_committed(&[env.message(1), env.message(2)]).await;
    relay.handle.wake();
    // Retried with backoff: attempts keep growing, the rows stay.
    iknow_testkit::eventually(20, || async {
        let attempts: Vec<i32> =
            sqlx::query_scalar("SELECT attempts FROM outbox ORDER BY id").fetch_all(&env.pool).await.unwrap();
        (attempts.len() == 2 && attempts.iter().all(|a| *a >= 2)).then_some(())
    })
    .await;
    relay.stop().await;
    assert_eq!(env.outbox_rows().await, 2);
}

#[tokio::test]
async fn two_relays_on_one_table_publish_each_message_exactly_once() {
    let env = Env::new("relay-pair").await;
    let mut listener = env.listen().await;
    let small_batches = || RelayConfig { batch_size: 5, ..config(iknow_testkit::amqp_url()) };
    let a = RunningRelay::start(&env.pool, small_batches());
    let b = RunningRelay::start(&env.pool, small_batches());

    let messages: Vec<_> = (0..60).map(|n| env.message(n)).collect();
    let ids = env.enqueue_committed(&messages).await;
    a.handle.wake();
    b.handle.wake();

    let mut seen: HashMap<_, usize> = HashMap::new();
    for id in listener.next_ids(ids.len()).await {
        *seen.entry(id).or_default() += 1;
    }
    env.wait_outbox_empty().await;
    // Every publish of a deleted row was confirmed, so it is queued before this later message.
    let sentinel = env.enqueue_committed(&[env.message(99)]).await;
    a.handle.wake();
    assert_eq!(listener.next_ids(1).await, sentinel, "no duplicate before the sentinel");

    assert_eq!(seen.len(), ids.len());
    assert!(ids.iter().all(|id| seen.get(id) == Some(&1)), "each message exactly once: {seen:?}");
    a.stop().await;
    b.stop().await;
}
