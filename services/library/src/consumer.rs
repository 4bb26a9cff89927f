//! Consumer of `user.deleted`: erases the user's watchlist and history when user-identity announces an
//! account deletion.
//!
//! It declares (idempotently) the identity events exchange and its own durable queue
//! `{identity_events_exchange}.library.user-deleted` bound with key `user.deleted`, consumes with manual
//! acknowledgements, and applies each message once: the message id goes into `processed_events` in the same
//! transaction as the deletion, so a redelivered or republished message changes nothing. When RabbitMQ is
//! down or drops the connection it reconnects with exponential backoff; the gRPC service never waits for it.

use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use serde::Deserialize;
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::{Config, store};

/// Routing key of the event.
pub const USER_DELETED: &str = "user.deleted";
/// Messages RabbitMQ may hand over before they are acknowledged.
const PREFETCH: u16 = 16;
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The body of `user.deleted`: `{"type": "user.deleted", "userId": "…"}` (other fields are ignored).
#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "userId", default)]
    user_id: Option<String>,
    /// Used as the de-duplication key when the AMQP `message_id` property is missing.
    #[serde(rename = "messageId", default)]
    message_id: Option<String>,
}

/// Declares the identity events exchange (durable topic), the library's durable queue and their binding with
/// `user.deleted`, through iknow-messaging (whose every declare flag is commented there): the queue survives
/// broker restarts, is shared by the library's replicas (not exclusive) and is kept while no consumer is
/// attached (not auto-delete), so a deletion announced while the library is down still arrives. Idempotent;
/// tests call it too so their messages are queued before the consumer has started.
pub async fn declare(channel: &lapin::Channel, exchange: &str, queue: &str) -> anyhow::Result<()> {
    consume::bind_queue(channel, queue, exchange, USER_DELETED, true).await
}

/// Runs the consumer until `stop` turns true (or its sender goes), reconnecting with backoff.
pub async fn run(config: Config, pool: PgPool, stop: watch::Receiver<bool>) {
    let queue = config.user_deleted_queue();
    // Stopping drops the session wherever it is (connecting, or inside a message): an unacknowledged message is
    // redelivered later, and one whose transaction committed is then skipped as processed.
    let options = consume::Options::new("user.deleted consumer").queue(&queue).backoff(MIN_BACKOFF, MAX_BACKOFF);
    consume::run(&config.amqp_url, options, stop, |connection, attempt| {
        session(&config, &queue, &pool, connection, attempt)
    })
    .await;
    tracing::info!(queue, "user.deleted consumer stopped");
}

/// One connection's life: declare, then consume until the stream ends or fails.
async fn session(
    config: &Config,
    queue: &str,
    pool: &PgPool,
    conn: lapin::Connection,
    attempt: consume::Attempt,
) -> anyhow::Result<()> {
    let channel = conn.create_channel().await?;
    declare(&channel, &config.identity_events_exchange, queue).await?;
    // A message is acked only after its transaction committed; other replicas may consume the same queue.
    let mut consumer = consume::start(&channel, queue, PREFETCH, false).await?;
    attempt.consuming().await;
    tracing::info!(queue, exchange = %config.identity_events_exchange, "user.deleted consumer started");
    while let Some(delivery) = consumer.next().await {
        // A database failure leaves the message unacknowledged and drops the connection: the broker
        // redelivers it after the reconnection's backoff.
        let delivery = delivery?;
        handle(pool, &delivery).instrument(iknow_messaging::trace::delivery_span(USER_DELETED, &delivery)).await?;
    }
    Ok(())
}

/// Applies one message and acknowledges it.
async fn handle(pool: &PgPool, delivery: &Delivery) -> anyhow::Result<()> {
    let event = serde_json::from_slice::<Event>(&delivery.data).ok();
    let Some(event) = event else {
        tracing::warn!("unreadable message on the user.deleted queue dropped");
        delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await?;
        return Ok(());
    };
    if event.kind != USER_DELETED {
        tracing::debug!(kind = %event.kind, "event ignored");
        delivery.ack(BasicAckOptions { multiple: false }).await?;
        return Ok(());
    }
    let Some(user_id) = event.user_id.as_deref().and_then(iknow_common::id::parse) else {
        tracing::warn!("user.deleted without a valid userId dropped");
        delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await?;
        return Ok(());
    };
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string())
        .or(event.message_id)
        .filter(|id| !id.is_empty());
    match erase(pool, user_id, message_id.as_deref()).await? {
        Some((watchlist, history)) => {
            tracing::info!(user_id = %user_id, watchlist, history, "user.deleted applied: library rows erased")
        }
        None => tracing::info!(user_id = %user_id, "user.deleted already applied; skipped"),
    }
    delivery.ack(BasicAckOptions { multiple: false }).await?;
    Ok(())
}

/// Erases the user's rows and records the message id, in one transaction. `None` when the message id was
/// already processed. Without a message id the deletion still runs (it is idempotent by nature).
pub async fn erase(pool: &PgPool, user_id: Uuid, message_id: Option<&str>) -> sqlx::Result<Option<(u64, u64)>> {
    let mut tx = pool.begin().await?;
    if let Some(id) = message_id {
        let fresh = sqlx::query("INSERT INTO processed_events (message_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    let counts = store::erase_user(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(counts))
}
