//! `catalog.events`: what keeps every replica's in-process state true.
//!
//! Each `UpsertBatch` puts `actor.upserted` and `content.upserted` (the ids of every touched row) into the
//! outbox in its own transaction; the relay publishes them to the `events_exchange` topic exchange. Every
//! replica binds a private queue (exclusive to its connection, deleted with it) to `*.upserted` and, for events
//! of other replicas, drops those rows from its in-process cache tiers and refreshes them in its search indexes
//! (Redis keys are dropped by the writer at write time). A bulk load announces `catalog.reloaded` instead (no
//! ids): the other replicas forget their whole in-process cache and re-read every row into their indexes. A
//! replica that lost its connection may have missed events: once reconnected it drops its whole in-process
//! cache and re-reads its indexes.

use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume;
use iknow_messaging::outbox::OutboxMessage;
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::cache::Cache;
use crate::index::Indexes;

pub const ACTOR_UPSERTED: &str = "actor.upserted";
pub const CONTENT_UPSERTED: &str = "content.upserted";
/// Every row may have changed: each replica forgets its in-process cache and re-reads its search indexes.
pub const CATALOG_RELOADED: &str = "catalog.reloaded";
/// Ids per event: a large batch is announced in several messages of bounded size.
const IDS_PER_EVENT: usize = 5_000;
/// Events RabbitMQ may hand over before they are acknowledged.
const PREFETCH: u16 = 32;
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The body of both events.
#[derive(Debug, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    pub ids: Vec<Uuid>,
    /// The replica that wrote the rows (it has already refreshed itself).
    pub origin: String,
}

/// Where this replica announces its writes, and under which name.
#[derive(Debug, Clone)]
pub struct Announce {
    pub exchange: String,
    /// This replica's id (UUID v7, new at every start).
    pub origin: String,
}

impl Announce {
    pub fn new(exchange: &str) -> Self {
        Self { exchange: exchange.to_owned(), origin: Uuid::now_v7().to_string() }
    }

    /// The outbox messages announcing these rows (none for an empty list).
    pub fn messages(&self, actors: &[Uuid], contents: &[Uuid]) -> anyhow::Result<Vec<OutboxMessage>> {
        let mut out = vec![];
        for (kind, ids) in [(ACTOR_UPSERTED, actors), (CONTENT_UPSERTED, contents)] {
            for chunk in ids.chunks(IDS_PER_EVENT) {
                out.push(self.message(kind, chunk.to_vec())?);
            }
        }
        Ok(out)
    }

    /// The announcement that every row may have changed (a bulk load's swap, its popularity refresh): one
    /// small message instead of the ids of the whole catalogue (3M ids after a first IMDb import, ~110 MB of
    /// JSON that took 5.5 s of the swap's transaction, measured). Each other replica re-reads everything.
    pub fn reloaded(&self) -> anyhow::Result<OutboxMessage> {
        self.message(CATALOG_RELOADED, vec![])
    }

    /// One event of `kind` from this replica, routed by its kind, with the current request id.
    fn message(&self, kind: &str, ids: Vec<Uuid>) -> anyhow::Result<OutboxMessage> {
        let event = Event { kind: kind.to_owned(), ids, origin: self.origin.clone() };
        let mut message = OutboxMessage::json(&self.exchange, kind, &event)?;
        if let Some(id) = iknow_common::request_id::current() {
            message = message.header("x-request-id", id);
        }
        Ok(message)
    }
}

/// What a replica refreshes when another one wrote.
#[derive(Clone)]
pub struct Listener {
    pub amqp_url: String,
    pub announce: Announce,
    pub pool: PgPool,
    pub cache: Cache,
    pub indexes: Indexes,
}

/// Runs the listener until `stop` turns true (or its sender goes), reconnecting with backoff.
pub async fn run(listener: Listener, stop: watch::Receiver<bool>) {
    let away = listener.clone();
    let options =
        consume::Options::new("catalog.events listener").backoff(MIN_BACKOFF, MAX_BACKOFF).on_reconnect(move || {
            // Events published while this replica was away went nowhere: its indexes re-read every row (in the
            // background; searches go on meanwhile), as its in-process cache forgets everything (`session`).
            let l = away.clone();
            async move {
                tokio::spawn(async move {
                    if let Err(e) = l.indexes.reload(&l.pool).await {
                        tracing::error!(error = ?e, "search index reload after a reconnection failed");
                    }
                });
            }
        });
    consume::run(&listener.amqp_url, options, stop, |connection, attempt| session(&listener, connection, attempt))
        .await;
}

/// One connection's life: bind the private queue, then apply events until the stream ends or fails.
async fn session(l: &Listener, conn: lapin::Connection, attempt: consume::Attempt) -> anyhow::Result<()> {
    let channel = conn.create_channel().await?;
    let queue = format!("{}.replica.{}", l.announce.exchange, l.announce.origin);
    // Not durable: exclusive to this connection and deleted with it (every replica gets every event).
    for key in ["*.upserted", CATALOG_RELOADED] {
        consume::bind_queue(&channel, &queue, &l.announce.exchange, key, false).await?;
    }
    // Acknowledged after the refresh, so a failure redelivers on the next connection; the queue is this
    // replica's alone.
    let mut consumer = consume::start(&channel, &queue, PREFETCH, true).await?;
    attempt.consuming().await;
    // Events published before this session's queue was bound went nowhere (while the replica was away, or
    // before its first bind at start): forget everything read into the process before now.
    l.cache.forget_all_local().await;
    tracing::info!(queue, exchange = %l.announce.exchange, "catalog.events listener started");
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        apply(l, &delivery).instrument(iknow_messaging::trace::delivery_span("catalog.events", &delivery)).await?;
    }
    Ok(())
}

/// Refreshes what one event names (unless this replica wrote it) and acknowledges it.
async fn apply(l: &Listener, delivery: &Delivery) -> anyhow::Result<()> {
    match serde_json::from_slice::<Event>(&delivery.data) {
        Ok(event) if event.origin != l.announce.origin && event.kind == CATALOG_RELOADED => {
            l.cache.forget_all_local().await;
            if let Err(e) = l.indexes.reload(&l.pool).await {
                tracing::error!(error = ?e, "search index reload after catalog.reloaded failed");
            }
        }
        Ok(event) if event.origin != l.announce.origin => {
            let (actors, contents): (&[Uuid], &[Uuid]) = match event.kind.as_str() {
                ACTOR_UPSERTED => (&event.ids, &[]),
                CONTENT_UPSERTED => (&[], &event.ids),
                _ => (&[], &[]),
            };
            l.cache.forget_local(actors, contents).await;
            if let Err(e) = l.indexes.refresh(&l.pool, actors, contents).await {
                tracing::error!(error = ?e, "search index refresh after catalog.events failed");
            }
            tracing::debug!(kind = %event.kind, ids = event.ids.len(), "catalog.events applied");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "unreadable catalog.events message dropped"),
    }
    delivery.ack(BasicAckOptions { multiple: false }).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_batches_are_announced_in_bounded_events() {
        let announce = Announce::new("catalog.events");
        let actors: Vec<Uuid> = (0..IDS_PER_EVENT + 1).map(|_| Uuid::now_v7()).collect();
        let messages = announce.messages(&actors, &[Uuid::now_v7()]).unwrap();
        let keys: Vec<&str> = messages.iter().map(|m| m.routing_key.as_str()).collect();
        assert_eq!(keys, [ACTOR_UPSERTED, ACTOR_UPSERTED, CONTENT_UPSERTED]);
        let first: Event = serde_json::from_value(messages[0].payload.clone()).unwrap();
        assert_eq!((first.ids.len(), first.origin.as_str()), (IDS_PER_EVENT, announce.origin.as_str()));
        assert!(announce.messages(&[], &[]).unwrap().is_empty());
    }
}
