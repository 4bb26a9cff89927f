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
//!
//! The bodies are `iknow_messaging::events`' `ActorUpserted`, `ContentUpserted` and `CatalogReloaded` (the
//! library reads the same types).

use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume;
use iknow_messaging::events::{self, ActorUpserted, CatalogReloaded, Changed, ContentUpserted, DecodeError, Event};
use iknow_messaging::outbox::OutboxMessage;
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use sqlx::PgPool;
use tokio::sync::watch;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::cache::Cache;
use crate::index::Indexes;

/// Ids per event: a large batch is announced in several messages of bounded size.
const IDS_PER_EVENT: usize = 5_000;
/// Events RabbitMQ may hand over before they are acknowledged.
const PREFETCH: u16 = 32;
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

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
        for chunk in actors.chunks(IDS_PER_EVENT) {
            out.push(self.message(&ActorUpserted(self.changed(chunk)))?);
        }
        for chunk in contents.chunks(IDS_PER_EVENT) {
            out.push(self.message(&ContentUpserted(self.changed(chunk)))?);
        }
        Ok(out)
    }

    /// The announcement that every row may have changed (a bulk load's swap, its popularity refresh): one
    /// small message instead of the ids of the whole catalogue (3M ids after a first IMDb import, ~110 MB of
    /// JSON that took 5.5 s of the swap's transaction, measured). Each other replica re-reads everything.
    pub fn reloaded(&self) -> anyhow::Result<OutboxMessage> {
        self.message(&CatalogReloaded(self.changed(&[])))
    }

    /// `ids` as changed by this replica.
    fn changed(&self, ids: &[Uuid]) -> Changed {
        Changed { ids: ids.to_vec(), origin: self.origin.clone() }
    }

    /// One event from this replica, with the current request id.
    fn message(&self, event: &impl Event) -> anyhow::Result<OutboxMessage> {
        let mut message = OutboxMessage::event(&self.exchange, event)?;
        if let Some(id) = iknow_common::request_id::current() {
            message = message.header(iknow_common::request_id::HEADER, id);
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
    for key in ["*.upserted", CatalogReloaded::NAME] {
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

/// What an event on the exchange says changed.
enum Changes {
    Actors(Changed),
    Contents(Changed),
    /// Every row (`catalog.reloaded`).
    All(Changed),
}

impl Changes {
    fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        match events::decode::<ActorUpserted>(body) {
            Err(DecodeError::OtherType { .. }) => {}
            read => return read.map(|e| Self::Actors(e.0)),
        }
        match events::decode::<ContentUpserted>(body) {
            Err(DecodeError::OtherType { .. }) => {}
            read => return read.map(|e| Self::Contents(e.0)),
        }
        events::decode::<CatalogReloaded>(body).map(|e| Self::All(e.0))
    }

    fn origin(&self) -> &str {
        match self {
            Self::Actors(c) | Self::Contents(c) | Self::All(c) => &c.origin,
        }
    }
}

/// Refreshes what one event names (unless this replica wrote it) and acknowledges it.
async fn apply(l: &Listener, delivery: &Delivery) -> anyhow::Result<()> {
    match Changes::decode(&delivery.data) {
        Ok(changes) if changes.origin() == l.announce.origin => {}
        Ok(Changes::All(_)) => {
            l.cache.forget_all_local().await;
            if let Err(e) = l.indexes.reload(&l.pool).await {
                tracing::error!(error = ?e, "search index reload after catalog.reloaded failed");
            }
        }
        Ok(Changes::Actors(c)) => refresh(l, &c.ids, &[]).await,
        Ok(Changes::Contents(c)) => refresh(l, &[], &c.ids).await,
        Err(e) => tracing::warn!(error = %e, "unreadable catalog.events message dropped"),
    }
    delivery.ack(BasicAckOptions { multiple: false }).await?;
    Ok(())
}

/// Drops rows another replica wrote from the in-process cache and refreshes them in the search indexes.
async fn refresh(l: &Listener, actors: &[Uuid], contents: &[Uuid]) {
    l.cache.forget_local(actors, contents).await;
    if let Err(e) = l.indexes.refresh(&l.pool, actors, contents).await {
        tracing::error!(error = ?e, "search index refresh after catalog.events failed");
    }
    tracing::debug!(actors = actors.len(), contents = contents.len(), "catalog.events applied");
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
        assert_eq!(keys, [ActorUpserted::NAME, ActorUpserted::NAME, ContentUpserted::NAME]);
        let first = Changes::decode(messages[0].payload.to_string().as_bytes()).unwrap();
        let Changes::Actors(first) = first else { panic!("an actor.upserted event expected") };
        assert_eq!((first.ids.len(), first.origin.as_str()), (IDS_PER_EVENT, announce.origin.as_str()));
        assert!(announce.messages(&[], &[]).unwrap().is_empty());
    }

    #[test]
    fn bodies_keep_their_type_ids_and_origin() {
        let announce = Announce::new("catalog.events");
        let id = Uuid::now_v7();
        let body = &announce.messages(&[], &[id]).unwrap()[0].payload;
        assert_eq!(body, &serde_json::json!({"type": "content.upserted", "ids": [id], "origin": announce.origin}));
        let reloaded = announce.reloaded().unwrap();
        assert_eq!(reloaded.routing_key, "catalog.reloaded");
        assert!(
            matches!(Changes::decode(reloaded.payload.to_string().as_bytes()), Ok(Changes::All(c)) if c.ids.is_empty())
        );
    }
}
