//! Consumer of `user.deleted`: erases the user's watchlist and history when user-identity announces an
//! account deletion.
//!
//! It declares (idempotently) the identity events exchange and its own durable queue
//! `{identity_events_exchange}.library.user-deleted` bound with key `user.deleted`, consumes with manual
//! acknowledgements, and applies each message once: its message id (the outbox row id the relay sets as the
//! AMQP `message_id`) goes into `processed_events` in the same transaction as the deletion
//! ([`store::erase`]), so a redelivered or republished message changes nothing. When RabbitMQ is
//! down or drops the connection it reconnects with exponential backoff; the gRPC service never waits for it.

use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume;
use iknow_messaging::events::{self, DecodeError, Event as _, UserDeleted};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::{Config, store};

/// Messages RabbitMQ may hand over before they are acknowledged.
const PREFETCH: u16 = 16;
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Declares the identity events exchange (durable topic), the library's durable queue and their binding with
/// `user.deleted`, through iknow-messaging (whose every declare flag is commented there): the queue survives
/// broker restarts, is shared by the library's replicas (not exclusive) and is kept while no consumer is
/// attached (not auto-delete), so a deletion announced while the library is down still arrives. Idempotent;
/// tests call it too so their messages are queued before the consumer has started.
pub async fn declare(channel: &lapin::Channel, exchange: &str, queue: &str) -> anyhow::Result<()> {
    consume::bind_queue(channel, queue, exchange, UserDeleted::NAME, true).await
}

/// Runs the consumer until `stop` turns true (or its sender goes), reconnecting with backoff.
pub async fn run(config: Config, pool: PgPool, stop: watch::Receiver<bool>) {
    let queue = config.user_deleted_queue();
    // Stopping drops the session wherever it is (connecting, or inside a message): an unacknowledged message is
    // redelivered later, and one whose transaction committed is then skipped as processed.
    let options = consume::Options::new("user.deleted consumer").queue(&queue).backoff(MIN_BACKOFF, MAX_BACKOFF);
    consume::run(config.amqp_url.expose(), options, stop, |connection, attempt| {
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
        handle(pool, &delivery).instrument(iknow_messaging::trace::delivery_span(UserDeleted::NAME, &delivery)).await?;
    }
    Ok(())
}

/// Applies one message and acknowledges it. A message of another type is acknowledged and ignored; one that
/// is not a readable `user.deleted` (not JSON, no valid `userId`) is dropped (rejected without requeue).
async fn handle(pool: &PgPool, delivery: &Delivery) -> anyhow::Result<()> {
    let event = match events::decode::<UserDeleted>(&delivery.data) {
        Ok(event) => event,
        Err(DecodeError::OtherType { found, .. }) => {
            tracing::debug!(kind = %found, "event ignored");
            delivery.ack(BasicAckOptions { multiple: false }).await?;
            return Ok(());
        }
        Err(e) => {
            tracing::warn!(error = %e, "unreadable message on the user.deleted queue dropped");
            delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await?;
            return Ok(());
        }
    };
    let user_id = event.user_id;
    let message_id = consume::message_id(delivery).map(|id| id.to_string());
    match store::erase(pool, user_id, message_id.as_deref()).await? {
        Some((watchlist, history)) => {
            tracing::info!(user_id = %user_id, watchlist, history, "user.deleted applied: library rows erased")
        }
        None => tracing::info!(user_id = %user_id, "user.deleted already applied; skipped"),
    }
    delivery.ack(BasicAckOptions { multiple: false }).await?;
    Ok(())
}
