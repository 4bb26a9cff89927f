//! `user.deleted`: the consumer erases only that user's rows, once per message id, and survives RabbitMQ
//! being down or dropping the connection.

use iknow_messaging::events::{self, Event as _, UserDeleted};
use iknow_proto::library::v1 as pb;
use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::{BasicProperties, types::FieldTable};

use crate::helpers::*;

/// Publishes `user.deleted` for `user_id` with `message_id` on the test's exchange.
async fn publish_user_deleted(app: &TestApp, user_id: &str, message_id: &str) {
    let event = UserDeleted { user_id: user_id.parse().unwrap(), deleted_at: chrono::Utc::now() };
    publish(app, events::to_value(&event).unwrap().to_string().as_bytes(), message_id).await;
}

/// Publishes `body` under the `user.deleted` key with `message_id` on the test's exchange, after declaring the
/// library's queue and binding (so the message waits for the consumer however far it has started).
async fn publish(app: &TestApp, body: &[u8], message_id: &str) {
    let conn = amqp().await.expect("RabbitMQ");
    let channel = conn.create_channel().await.unwrap();
    library::consumer::declare(&channel, &app.exchange, &app.queue).await.expect("declared");
    channel
        .basic_publish(
            app.exchange.as_str().into(),
            UserDeleted::NAME.into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default().with_message_id(message_id.into()).with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    conn.close(200, "OK".into()).await.unwrap();
}

/// Adds a watchlist item and a view for the user.
async fn fill(app: &TestApp, user: &str) {
    let matrix = app.titles.id(MATRIX).await;
    app.add(user, &matrix).await.unwrap();
    app.view_at(user, &matrix, at(1, 20, 0), Some(10)).await;
}

async fn is_empty(app: &TestApp, user: &str) -> bool {
    app.watchlist(user).await.is_empty() && app.all_history(user).await.is_empty()
}

#[tokio::test]
async fn user_deleted_erases_only_that_user_and_a_repeated_message_is_harmless() {
    let app = spawn().await;
    let (alice, bob, carol) = (user(), user(), user());
    for u in [&alice, &bob, &carol] {
        fill(&app, u).await;
    }

    let message = uuid::Uuid::now_v7().to_string();
    publish_user_deleted(&app, &alice, &message).await;
    iknow_testkit::eventually(30, || async { is_empty(&app, &alice).await.then_some(()) }).await;
    assert_eq!(app.watchlist(&bob).await.len(), 1, "Bob's rows stay");
    assert_eq!(app.all_history(&bob).await.len(), 1);
    let processed: Vec<String> =
        sqlx::query_scalar("SELECT message_id FROM processed_events").fetch_all(&app.pool).await.unwrap();
    assert_eq!(processed, std::slice::from_ref(&message));

    // Alice comes back (a new account would have a new id, but the point is the replay must not erase).
    app.add(&alice, &app.titles.id(BIG).await).await.unwrap();
    publish_user_deleted(&app, &alice, &message).await;
    // The queue is consumed in order: once Carol's deletion is applied, the replay before it was handled.
    publish_user_deleted(&app, &carol, &uuid::Uuid::now_v7().to_string()).await;
    iknow_testkit::eventually(30, || async { is_empty(&app, &carol).await.then_some(()) }).await;
    assert_eq!(app.watchlist(&alice).await.len(), 1, "the replayed message id was skipped");
    assert_eq!(app.watchlist(&bob).await.len(), 1);
    let processed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM processed_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!(processed, 2);
}

#[tokio::test]
async fn unreadable_and_other_messages_are_dropped_without_blocking_the_queue() {
    let app = spawn().await;
    let u = user();
    fill(&app, &u).await;
    let other_type = serde_json::json!({ "type": "user.renamed", "userId": u });
    let no_valid_user = serde_json::json!({ "type": "user.deleted", "userId": "nope" });
    for body in [b"not json".to_vec(), other_type.to_string().into_bytes(), no_valid_user.to_string().into_bytes()] {
        publish(&app, &body, &uuid::Uuid::now_v7().to_string()).await;
    }
    assert!(!is_empty(&app, &u).await);
    // Consumed in order: once this deletion is applied, the three before it were acked or dropped.
    let message = uuid::Uuid::now_v7().to_string();
    publish_user_deleted(&app, &u, &message).await;
    iknow_testkit::eventually(30, || async { is_empty(&app, &u).await.then_some(()) }).await;
    let processed: Vec<String> =
        sqlx::query_scalar("SELECT message_id FROM processed_events").fetch_all(&app.pool).await.unwrap();
    assert_eq!(processed, [message], "only the applied message is recorded");
}

#[tokio::test]
async fn a_dead_rabbitmq_does_not_stop_the_service() {
    let dead = iknow_testkit::dead_addr().await;
    let app = spawn_with(Options { amqp_url: Some(format!("amqp://guest:guest@{dead}/%2f")) }).await;
    let u = user();
    let item = app.add(&u, &app.titles.id(GUMP).await).await.expect("the service works without RabbitMQ");
    assert_eq!(app.watchlist(&u).await, vec![item]);
    let health = tonic_health::pb::health_client::HealthClient::new(app.channel.clone())
        .check(tonic_health::pb::HealthCheckRequest { service: library::SERVICE_NAME.into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}

/// Consumers on the test's queue, as the broker counts them.
async fn consumers(app: &TestApp) -> u32 {
    let conn = amqp().await.expect("RabbitMQ");
    let channel = conn.create_channel().await.unwrap();
    let queue = channel
        .queue_declare(
            app.queue.as_str().into(),
            QueueDeclareOptions { passive: true, ..Default::default() },
            FieldTable::default(),
        )
        .await;
    let _ = conn.close(200, "OK".into()).await;
    queue.map(|q| q.consumer_count()).unwrap_or(0)
}

#[tokio::test]
async fn the_consumer_reconnects_after_rabbitmq_drops_the_connection() {
    let broker: std::net::SocketAddr = {
        let url = iknow_testkit::amqp_url();
        let host = url.split('@').nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("127.0.0.1:5672");
        tokio::net::lookup_host(host).await.unwrap().next().unwrap()
    };
    let proxy = iknow_testkit::TcpProxy::start(broker).await;
    let app = spawn_with(Options { amqp_url: Some(format!("amqp://guest:guest@{}/%2f", proxy.addr)) }).await;
    let u = user();
    fill(&app, &u).await;

    iknow_testkit::eventually(30, || async { (consumers(&app).await == 1).then_some(()) }).await;
    proxy.cut();
    iknow_testkit::eventually(30, || async { (consumers(&app).await == 0).then_some(()) }).await;
    proxy.restore();
    iknow_testkit::eventually(60, || async { (consumers(&app).await == 1).then_some(()) }).await;

    publish_user_deleted(&app, &u, &uuid::Uuid::now_v7().to_string()).await;
    iknow_testkit::eventually(30, || async { is_empty(&app, &u).await.then_some(()) }).await;
    let seen = app.client.clone().seen_content(pb::SeenContentRequest { user_id: u }).await.unwrap().into_inner();
    assert!(seen.items.is_empty());
}
