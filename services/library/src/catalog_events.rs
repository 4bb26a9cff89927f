//! Listener of the catalogue's `catalog.events`: what keeps each replica's [`CastCache`] true.
//!
//! Each replica binds a private queue (exclusive to its connection, deleted with it) to `content.upserted`
//! (the ids of every title whose row, credits or credited actors an upsert changed) and `catalog.reloaded` (a
//! bulk load: every row may have changed). The first drops those titles, the second everything. Events
//! published while no queue was bound went nowhere: each session drops everything once it consumes.

use iknow_common::secret::Secret;
use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume;
use iknow_messaging::events::{self, CatalogReloaded, ContentUpserted, DecodeError, Event as _};
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use tokio::sync::watch;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::casts::CastCache;

/// Events RabbitMQ may hand over before they are acknowledged.
const PREFETCH: u16 = 32;
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs the listener until `stop` turns true (or its sender goes), reconnecting with backoff.
pub async fn run(amqp_url: Secret, exchange: String, cache: CastCache, stop: watch::Receiver<bool>) {
    let queue = format!("{exchange}.library.{}", Uuid::now_v7().simple());
    let options = consume::Options::new("catalog.events listener").backoff(MIN_BACKOFF, MAX_BACKOFF);
    consume::run(amqp_url.expose(), options, stop, |connection, attempt| {
        session(&exchange, &queue, &cache, connection, attempt)
    })
    .await;
}

/// One connection's life: bind the private queue, then apply events until the stream ends or fails.
async fn session(
    exchange: &str,
    queue: &str,
    cache: &CastCache,
    conn: lapin::Connection,
    attempt: consume::Attempt,
) -> anyhow::Result<()> {
    let channel = conn.create_channel().await?;
    for key in [ContentUpserted::NAME, CatalogReloaded::NAME] {
        consume::bind_queue(&channel, queue, exchange, key, false).await?;
    }
    // Acknowledged after the drop (which cannot fail); the queue is this replica's alone.
    let mut consumer = consume::start(&channel, queue, PREFETCH, true).await?;
    attempt.consuming().await;
    cache.forget_all();
    tracing::info!(queue, exchange, "catalog.events listener started");
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        apply(cache, &delivery).instrument(iknow_messaging::trace::delivery_span("catalog.events", &delivery)).await?;
    }
    Ok(())
}

/// Drops what one event names and acknowledges it (an unreadable one too: the queue is this replica's alone,
/// and a redelivery would be as unreadable).
async fn apply(cache: &CastCache, delivery: &Delivery) -> anyhow::Result<()> {
    match events::decode::<ContentUpserted>(&delivery.data) {
        Ok(ContentUpserted(changed)) => cache.forget(&changed.ids).await,
        Err(DecodeError::OtherType { found, .. }) if found == CatalogReloaded::TYPE => cache.forget_all(),
        Err(DecodeError::OtherType { .. }) => {}
        Err(e) => tracing::warn!(error = %e, "unreadable catalog.events message dropped"),
    }
    delivery.ack(BasicAckOptions { multiple: false }).await?;
    Ok(())
}
