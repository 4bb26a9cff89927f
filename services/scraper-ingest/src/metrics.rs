//! Ingest metrics in the process-wide Prometheus recorder (`/metrics` of the gateway in `iknow up`):
//! `ingest_jobs_total{kind,outcome}` (succeeded, retried, dead, stopped), `ingest_rows_total{kind,outcome}`
//! (read, written, unchanged, rejected, skipped; counted when a job succeeds),
//! `ingest_job_duration_seconds{kind,outcome}` (from the job's first start to its end) and
//! `ingest_queue_messages{queue}` (the work and dead-letter queues' depth, sampled by [`sample_queues`]).

use std::time::Duration;

use chrono::Utc;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use tokio::sync::watch;

use crate::Config;
use crate::imdb::FileReport;
use crate::jobs::JobRow;

/// How a job's attempt ended, as the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Retried,
    Dead,
    Stopped,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Retried => "retried",
            Outcome::Dead => "dead",
            Outcome::Stopped => "stopped",
        }
    }
}

/// Counts one settled attempt; a finished job (succeeded or dead) also records its duration, and a succeeded
/// one its rows.
pub fn job_settled(job: &JobRow, outcome: Outcome, files: Option<&[FileReport]>) {
    let kind = job.kind.clone();
    metrics::counter!("ingest_jobs_total", "kind" => kind.clone(), "outcome" => outcome.as_str()).increment(1);
    if matches!(outcome, Outcome::Succeeded | Outcome::Dead)
        && let Some(started) = job.started_at
    {
        let seconds = (Utc::now() - started).to_std().unwrap_or_default().as_secs_f64();
        metrics::histogram!("ingest_job_duration_seconds", "kind" => kind.clone(), "outcome" => outcome.as_str())
            .record(seconds);
    }
    for f in files.unwrap_or_default() {
        for (name, n) in [
            ("read", f.rows_read),
            ("written", f.written),
            ("unchanged", f.unchanged),
            ("rejected", f.rejected),
            ("skipped", f.skipped),
        ] {
            metrics::counter!("ingest_rows_total", "kind" => kind.clone(), "outcome" => name).increment(n);
        }
    }
}

/// How often the queue depths are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// Samples the work and dead-letter queues' message counts until `stop`, on a connection of its own
/// (a passive declare only reads the count; a missing queue or a broker outage skips that round).
pub async fn sample_queues(config: Config, mut stop: watch::Receiver<bool>) {
    let queues = [config.work_queue(), config.dead_queue()];
    let mut channel = None;
    loop {
        if channel.is_none() {
            channel = match iknow_messaging::consume::connect(config.amqp_url.expose()).await {
                Ok(conn) => conn.create_channel().await.ok().map(|c| (conn, c)),
                Err(_) => None,
            };
        }
        if let Some((_, ch)) = &channel {
            for queue in &queues {
                // Passive: only asks; it never creates the queue or changes its flags.
                let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
                match ch.queue_declare(queue.as_str().into(), options, FieldTable::default()).await {
                    Ok(q) => metrics::gauge!("ingest_queue_messages", "queue" => queue.clone())
                        .set(f64::from(q.message_count())),
                    // A failed passive declare closes the channel: start again next round.
                    Err(_) => {
                        channel = None;
                        break;
                    }
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(SAMPLE_EVERY) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() || stop.has_changed().is_err() {
            return;
        }
    }
}
