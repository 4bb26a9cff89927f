//! One delivery of the work queue: claim its job, run the attempt with a heartbeat, then settle the job and
//! the message.
//!
//! The job row decides (see [`store::claim`]); the message only names the job and the attempt it starts. So a
//! message delivered twice (the broker redelivers what was not acknowledged when a connection drops) never
//! runs an attempt twice: a job another worker runs is parked in the wait queue, a finished or superseded
//! one is dropped. A message is acknowledged only once what follows it is safe: the job succeeded or is dead
//! (its dead letter is in the outbox, same transaction), or the retry was published with a confirm. Until
//! then, a broken connection makes the broker deliver the message again, and its job row says what is left.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use iknow_messaging::OutboxMessage;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::imdb::{self, Failure, FileReport, Finished, Sink};
use crate::jobs::{ImdbParams, JobKind, JobMessage, JobRow, TmdbPersonParams, TmdbTitleParams};
use crate::progress::Latest;
use crate::store::{self, Claim};
use crate::topology::{ATTEMPTS_HEADER, Link, REASON_HEADER};
use crate::{Context, backoff};

/// Progress is stored and the lease renewed this often.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Pause before a message is handed back after the database failed, so an outage is not a busy loop.
const DATABASE_PAUSE: Duration = Duration::from_secs(1);

/// What becomes of the delivery.
enum Settle {
    Ack,
    /// Back to the queue now (a stopping worker, a publish that failed).
    Requeue,
    /// To the dead-letter queue through the work queue's dead-letter exchange (unreadable, no such job).
    Reject,
}

/// Handles one delivery; `_slot` is this job's share of the consumer's prefetch.
pub async fn handle(
    ctx: Arc<Context>,
    link: Arc<Link>,
    delivery: Delivery,
    stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let request_id = iknow_messaging::consume::header(&delivery, iknow_common::request_id::HEADER)
        .filter(|id| iknow_common::request_id::is_acceptable(id))
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let message = serde_json::from_slice::<JobMessage>(&delivery.data);
    let (job_id, attempt) = message.as_ref().map_or((String::new(), 0), |m| (m.job_id.to_string(), m.attempt));
    let span = tracing::info_span!("job", job_id = %job_id, attempt, request_id = %request_id);
    iknow_messaging::trace::set_parent(&span, delivery.properties.headers().as_ref());
    let settle = iknow_common::request_id::CURRENT
        .scope(request_id.clone(), async {
            match message {
                Ok(message) => process(&ctx, &link, &message, &request_id, stop).await,
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable job message; dead-lettered");
                    Settle::Reject
                }
            }
        })
        .instrument(span)
        .await;
    // A failure here means the channel is gone: the broker redelivers the message, and its job row says
    // what is left to do.
    let result = match settle {
        Settle::Ack => delivery.ack(BasicAckOptions { multiple: false }).await,
        Settle::Requeue => delivery.nack(BasicNackOptions { multiple: false, requeue: true }).await,
        Settle::Reject => delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await,
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "could not settle the delivery; the broker will redeliver it");
    }
}

fn headers(request_id: &str) -> Vec<(&'static str, String)> {
    vec![(iknow_common::request_id::HEADER, request_id.to_owned())]
}

async fn process(
    ctx: &Context,
    link: &Link,
    message: &JobMessage,
    request_id: &str,
    stop: watch::Receiver<bool>,
) -> Settle {
    let owner = Uuid::now_v7();
    let claim = match store::claim(&ctx.pool, message.job_id, message.attempt, owner, ctx.config.lease()).await {
        Ok(claim) => claim,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim the job (database); handing the message back");
            tokio::time::sleep(DATABASE_PAUSE).await;
            return Settle::Requeue;
        }
    };
    match claim {
        Claim::Missing => {
            tracing::warn!("message of an unknown job; dead-lettered");
            Settle::Reject
        }
        Claim::Final | Claim::Stale => {
            tracing::debug!("leftover message of a finished or superseded attempt; dropped");
            Settle::Ack
        }
        Claim::Busy => {
            tracing::debug!("the job is running (its lease is held); message parked in the wait queue");
            // Park a copy: it comes back after busy_recheck_ms, by when the job is over or its lease expired.
            let body = serde_json::to_vec(message).unwrap_or_default();
            let wait = Duration::from_millis(ctx.config.busy_recheck_ms.max(1));
            match link.publish(&ctx.config.wait_queue(), &body, &headers(request_id), Some(wait)).await {
                Ok(()) => Settle::Ack,
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "cannot park the message of a busy job");
                    Settle::Requeue
                }
            }
        }
        Claim::RetryLost { retry_at } => {
            let delay = retry_at.map_or(Duration::ZERO, |at| (at - chrono::Utc::now()).to_std().unwrap_or_default());
            let retry = JobMessage { attempt: message.attempt + 1, ..message.clone() };
            schedule(ctx, link, &retry, request_id, delay).await
        }
        Claim::Run { job, resumed } => {
            if resumed {
                tracing::info!(kind = %job.kind, checkpoint = ?job.checkpoint_file, line = ?job.checkpoint_line, "job resumed");
            } else {
                tracing::info!(kind = %job.kind, "job started");
            }
            run(ctx, link, &job, owner, request_id, stop).await
        }
    }
}

/// Publishes the retry message to the retry queue of its attempt, delayed by `delay`.
async fn schedule(ctx: &Context, link: &Link, retry: &JobMessage, request_id: &str, delay: Duration) -> Settle {
    let failures = (retry.attempt - 1).max(1) as u32;
    let body = serde_json::to_vec(retry).unwrap_or_default();
    match link.publish(&ctx.config.retry_queue(failures), &body, &headers(request_id), Some(delay)).await {
        Ok(()) => Settle::Ack,
        Err(e) => {
            // The message stays: delivered again, it finds the job failed and schedules the retry then.
            tracing::warn!(error = format!("{e:#}"), "cannot publish the retry; the message is kept");
            Settle::Requeue
        }
    }
}

/// A task that ends with its owner: a job dropped mid-way (its service killed) stops renewing its lease.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The job's sink: the counts and checkpoint after every committed batch, under the lease.
struct JobSink<'a> {
    ctx: &'a Context,
    id: Uuid,
    owner: Uuid,
}

impl Sink for JobSink<'_> {
    async fn committed(&mut self, files: &[FileReport], file: &str, line: u64) -> Result<(), Failure> {
        match store::checkpoint(&self.ctx.pool, self.id, self.owner, files, file, line).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failure::LeaseLost),
            Err(e) => Err(Failure::Transient(format!("cannot save the checkpoint: {e}"))),
        }
    }
}

/// Runs the attempt the worker holds the lease of, and settles it.
async fn run(
    ctx: &Context,
    link: &Link,
    job: &JobRow,
    owner: Uuid,
    request_id: &str,
    mut stop: watch::Receiver<bool>,
) -> Settle {
    // The job stops when the service stops or when the heartbeat finds the lease lost.
    let (job_stop, mut job_stopped) = watch::channel(false);
    let lost = Arc::new(AtomicBool::new(false));
    let latest = Arc::new(Latest::default());
    let heartbeat = {
        let (pool, id, lease, lost, latest) =
            (ctx.pool.clone(), job.id, ctx.config.lease(), lost.clone(), latest.clone());
        AbortOnDrop(tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.tick().await;
            loop {
                tokio::select! {
                    () = crate::until_stopped(&mut stop) => break,
                    _ = tick.tick() => {}
                }
                match store::heartbeat(&pool, id, owner, latest.get().as_ref(), lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        break;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot renew the job's lease"),
                }
            }
            let _ = job_stop.send(true);
        }))
    };
    let outcome = match JobKind::parse(&job.kind) {
        Some(JobKind::ImdbDataset) => match serde_json::from_value::<ImdbParams>(job.payload.clone()) {
            Ok(params) => {
                let opts = imdb::Options {
                    batch_size: ctx.config.batch_size,
                    concurrency: ctx.config.concurrency,
                    catalog_tries: ctx.config.catalog_tries,
                    bulk_load_id: ctx.config.bulk_first_load.then(|| job.id.to_string()),
                    bulk_chunk: ctx.config.bulk_chunk,
                };
                let mut sink = JobSink { ctx, id: job.id, owner };
                let dir = std::path::Path::new(&params.dir);
                let resume = job.files.0.clone();
                imdb::import(dir, &ctx.catalog, &opts, resume, &mut sink, latest.clone(), &mut job_stopped).await
            }
            Err(e) => Err(Failure::Permanent(format!("invalid imdb_dataset parameters: {e}"))),
        },
        // One short fetch and one batch: a stop abandons it (nothing is checkpointed; writing is idempotent,
        // so the resumed attempt runs it again).
        Some(JobKind::TmdbPerson) => match serde_json::from_value::<TmdbPersonParams>(job.payload.clone()) {
            Ok(params) => tokio::select! {
                outcome = crate::tmdb::person_job(ctx, &params) => outcome,
                () = crate::until_stopped(&mut job_stopped) => Ok(Finished::Stopped),
            },
            Err(e) => Err(Failure::Permanent(format!("invalid tmdb_person parameters: {e}"))),
        },
        Some(JobKind::TmdbTitle) => match serde_json::from_value::<TmdbTitleParams>(job.payload.clone()) {
            Ok(params) => tokio::select! {
                outcome = crate::tmdb::title_job(ctx, &params) => outcome,
                () = crate::until_stopped(&mut job_stopped) => Ok(Finished::Stopped),
            },
            Err(e) => Err(Failure::Permanent(format!("invalid tmdb_title parameters: {e}"))),
        },
        None => Err(Failure::Permanent(format!("job kind {} is not supported by this worker", job.kind))),
    };
    drop(heartbeat);
    let stopping = *job_stopped.borrow();
    let outcome = match outcome {
        Ok(Finished::Stopped) if lost.load(Ordering::SeqCst) => Err(Failure::LeaseLost),
        // A batch that failed while everything shuts down (the catalogue of `iknow up` stops at the same
        // time) is no failed attempt: the job resumes from its checkpoint next time.
        Err(Failure::Transient(e)) if stopping && !lost.load(Ordering::SeqCst) => {
            tracing::info!(error = %e, "a batch failed while stopping");
            Ok(Finished::Stopped)
        }
        other => other,
    };
    settle(ctx, link, job, owner, request_id, outcome).await
}

async fn settle(
    ctx: &Context,
    link: &Link,
    job: &JobRow,
    owner: Uuid,
    request_id: &str,
    outcome: Result<Finished, Failure>,
) -> Settle {
    let recorded = match outcome {
        Ok(Finished::Complete(report)) => {
            let total = report.total();
            tracing::info!(
                read = total.rows_read,
                written = total.written,
                unchanged = total.unchanged,
                rejected = total.rejected,
                skipped = total.skipped,
                "job succeeded"
            );
            let recorded = store::succeed(&ctx.pool, job.id, owner, &report.files).await;
            if matches!(recorded, Ok(true)) {
                crate::metrics::job_settled(job, crate::metrics::Outcome::Succeeded, Some(&report.files));
            }
            recorded.map(|_| Settle::Ack).map_err(Into::into)
        }
        Ok(Finished::Stopped) => {
            tracing::info!("job stopped at its checkpoint; the next worker resumes it");
            crate::metrics::job_settled(job, crate::metrics::Outcome::Stopped, None);
            store::release(&ctx.pool, job.id, owner).await.map(|_| Settle::Requeue).map_err(Into::into)
        }
        Err(Failure::LeaseLost) => {
            tracing::warn!("another worker took the job over (the lease expired); this attempt stops");
            Ok(Settle::Ack)
        }
        Err(Failure::Permanent(reason)) => bury(ctx, job, owner, request_id, &reason).await,
        Err(Failure::Transient(reason)) if job.attempts >= job.max_attempts => {
            let reason = format!("gave up after {} attempts: {reason}", job.attempts);
            bury(ctx, job, owner, request_id, &reason).await
        }
        Err(Failure::Transient(reason)) => {
            let delay = backoff(&ctx.config, job.attempts.max(1) as u32);
            let retry_at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            tracing::warn!(error = %reason, retry_in_ms = delay.as_millis() as u64, "job attempt failed; retrying");
            match store::fail(&ctx.pool, job.id, owner, &reason, retry_at).await {
                Ok(true) => {
                    crate::metrics::job_settled(job, crate::metrics::Outcome::Retried, None);
                    let retry = JobMessage { job_id: job.id, kind: job.kind.clone(), attempt: job.attempts + 1 };
                    Ok(schedule(ctx, link, &retry, request_id, delay).await)
                }
                Ok(false) => Ok(Settle::Ack),
                Err(e) => Err(e.into()),
            }
        }
    };
    recorded.unwrap_or_else(|e: anyhow::Error| {
        // The database failed: the message goes back; its next delivery finds the job running with a lease
        // that expires, and resumes it.
        tracing::warn!(error = format!("{e:#}"), "cannot record the job's outcome; handing the message back");
        Settle::Requeue
    })
}

/// Marks the job dead and puts its dead letter (the reason in a header) in the outbox, in one transaction.
async fn bury(ctx: &Context, job: &JobRow, owner: Uuid, request_id: &str, reason: &str) -> anyhow::Result<Settle> {
    tracing::error!(error = %reason, "job dead-lettered");
    let message = JobMessage { job_id: job.id, kind: job.kind.clone(), attempt: job.attempts };
    let dead_letter = OutboxMessage::json("", &ctx.config.dead_queue(), &message)?
        .header(iknow_common::request_id::HEADER, request_id)
        .header(REASON_HEADER, store::truncate(reason))
        .header(ATTEMPTS_HEADER, job.attempts.to_string());
    store::bury(&ctx.pool, job.id, owner, reason, &dead_letter).await?;
    crate::metrics::job_settled(job, crate::metrics::Outcome::Dead, None);
    ctx.relay.wake();
    Ok(Settle::Ack)
}
