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
use iknow_messaging::consume;
use lapin::options::BasicCancelOptions;
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::JoinSet;

use crate::topology::{self, CONNECT_TIMEOUT, Link};
use crate::{Context, until_stopped, worker};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Consumes until `stop`, then waits for the running jobs to checkpoint.
pub async fn run(ctx: Arc<Context>, stop: watch::Receiver<bool>) {
    let queue = ctx.config.work_queue();
    let slots = Arc::new(Semaphore::new(usize::from(ctx.config.prefetch.max(1))));
    // Jobs outlive the connection that delivered them: one set for every session, joined at the end (the
    // sessions run one after the other, so the lock is never contended).
    let jobs = Arc::new(Mutex::new(JoinSet::new()));
    let options = consume::Options::new("scrape.jobs consumer")
        .queue(&queue)
        .backoff(MIN_BACKOFF, MAX_BACKOFF)
        .connect_timeout(CONNECT_TIMEOUT)
        // A stopping session lets its jobs checkpoint and give their messages back before it returns.
        .session_stops();
    consume::run(ctx.config.amqp_url.expose(), options, stop.clone(), |connection, attempt| {
        let (ctx, slots, jobs, stop) = (ctx.clone(), slots.clone(), jobs.clone(), stop.clone());
        async move { session(&ctx, &slots, &mut *jobs.lock().await, &stop, connection, attempt).await }
    })
    .await;
    // Jobs of a connection that broke are still running: they checkpoint now.
    let mut jobs = jobs.lock().await;
    while jobs.join_next().await.is_some() {}
    tracing::info!(queue, "scrape.jobs consumer stopped");
}

/// One connection's life: declare, consume, hand deliveries to workers, until the stream ends or `stop`.
async fn session(
    ctx: &Arc<Context>,
    slots: &Arc<Semaphore>,
    jobs: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
    connection: lapin::Connection,
    attempt: consume::Attempt,
) -> anyhow::Result<()> {
    let mut stop = stop.clone();
    let link = tokio::time::timeout(CONNECT_TIMEOUT, Link::on(connection))
        .await
        .map_err(|_| anyhow::anyhow!("cannot open channels within {} s", CONNECT_TIMEOUT.as_secs()))??;
    let link = Arc::new(link);
    topology::declare_all(&link.consume, &ctx.config).await?;
    // At most `prefetch` unacknowledged jobs; a job's message is acked only once its outcome is recorded (retries
    // and parked messages are published on this same connection); other replicas consume the same queue.
    let queue = ctx.config.work_queue();
    let mut consumer = consume::start(&link.consume, &queue, ctx.config.prefetch.max(1), false).await?;
    attempt.consuming().await;
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
