//! The consumer of `scrape.jobs`: connects, declares the topology, consumes with manual acks and a prefetch
//! of `prefetch`, and runs each delivery as a task holding one of `prefetch` worker slots. When RabbitMQ is
//! down or drops the connection it reconnects with backoff; running jobs carry on meanwhile (their progress is
//! in PostgreSQL), and the deliveries the broker hands out again are sorted out by their job rows.
//!
//! Stopping: the consumer is cancelled (no new deliveries), every running job finishes its batches in flight,
//! saves its checkpoint and gives its message back, then the connection is closed.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use lapin::options::{BasicCancelOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::topology::{self, Link};
use crate::{Context, until_stopped, worker};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Consumes until `stop`, then waits for the running jobs to checkpoint.
pub async fn run(ctx: Arc<Context>, mut stop: watch::Receiver<bool>) {
    let queue = ctx.config.work_queue();
    let slots = Arc::new(Semaphore::new(usize::from(ctx.config.prefetch.max(1))));
    let mut jobs = JoinSet::new();
    let mut backoff = MIN_BACKOFF;
    let mut down = false;
    loop {
        let mut connected = false;
        let result = session(&ctx, &slots, &mut jobs, &stop, &mut connected).await;
        if *stop.borrow() || stop.has_changed().is_err() {
            break;
        }
        if connected {
            backoff = MIN_BACKOFF;
            down = false;
        }
        // One warning per outage; the attempts that keep failing are debug lines.
        match result {
            Err(e) if !down => {
                tracing::warn!(queue, error = format!("{e:#}"), "scrape.jobs consumer down; reconnecting")
            }
            Err(e) => tracing::debug!(queue, error = format!("{e:#}"), "scrape.jobs consumer still down"),
            Ok(()) => tracing::warn!(queue, "scrape.jobs consumer stream ended; reconnecting"),
        }
        down = true;
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = until_stopped(&mut stop) => break,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    // Jobs of a connection that broke are still running: they checkpoint now.
    while jobs.join_next().await.is_some() {}
    tracing::info!(queue, "scrape.jobs consumer stopped");
}

/// One connection's life: declare, consume, hand deliveries to workers, until the stream ends or `stop`.
async fn session(
    ctx: &Arc<Context>,
    slots: &Arc<Semaphore>,
    jobs: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
    connected: &mut bool,
) -> anyhow::Result<()> {
    let mut stop = stop.clone();
    let link = Arc::new(Link::open(&ctx.config.amqp_url).await?);
    topology::declare_all(&link.consume, &ctx.config).await?;
    // At most `prefetch` unacknowledged jobs on this channel (`global: false`: per consumer, the usual meaning).
    link.consume.basic_qos(ctx.config.prefetch.max(1), BasicQosOptions { global: false }).await?;
    let queue = ctx.config.work_queue();
    let mut consumer = link
        .consume
        .basic_consume(
            queue.as_str().into(),
            // Let the broker name the consumer: replicas must not collide.
            "".into(),
            BasicConsumeOptions {
                // Accept messages published on this same connection (retries and parked messages are).
                no_local: false,
                // Manual acknowledgements: a job's message is acked only once its outcome is recorded.
                no_ack: false,
                // Other replicas consume the same queue.
                exclusive: false,
                // Wait for consume-ok so a failure surfaces here.
                nowait: false,
            },
            FieldTable::default(),
        )
        .await?;
    *connected = true;
    tracing::info!(queue, prefetch = ctx.config.prefetch, "scrape.jobs consumer started");
    loop {
        tokio::select! {
            biased;
            () = until_stopped(&mut stop) => break,
            Some(_) = jobs.join_next(), if !jobs.is_empty() => {}
            delivery = consumer.next() => {
                let delivery = match delivery {
                    Some(Ok(delivery)) => delivery,
                    Some(Err(e)) => return Err(e.into()),
                    None => return Ok(()),
                };
                // Wait for a free slot (a job of a broken connection may still hold one).
                let slot = tokio::select! {
                    slot = slots.clone().acquire_owned() => slot?,
                    // The delivery is dropped unacknowledged: closing the channel hands it back.
                    () = until_stopped(&mut stop) => break,
                };
                jobs.spawn(worker::handle(ctx.clone(), link.clone(), delivery, stop.clone(), slot));
            }
        }
    }
    // Stop consuming, let every running job checkpoint and settle its message, then close.
    let _ = link.consume.basic_cancel(consumer.tag(), BasicCancelOptions { nowait: false }).await;
    while jobs.join_next().await.is_some() {}
    let _ = link.connection.close(200, "scraper-ingest stopping".into()).await;
    Ok(())
}
