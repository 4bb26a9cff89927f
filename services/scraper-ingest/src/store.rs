//! SQL over `scrape_jobs`, in small functions. Every write by a worker names its lease (`lease_owner`): a
//! worker that lost the job to another one (its lease expired) changes nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_messaging::OutboxMessage;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::imdb::FileReport;
use crate::jobs::{COLUMNS, JobRow, JobState};
use crate::progress::Progress;

/// `last_error` is cut to this many characters.
pub const MAX_ERROR_CHARS: usize = 1000;

pub fn truncate(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

/// Inserts a queued job.
pub async fn create(
    conn: &mut PgConnection,
    id: Uuid,
    kind: &str,
    payload: &serde_json::Value,
    max_attempts: u32,
    request_id: &str,
) -> Result<JobRow, Error> {
    let sql = format!(
        "INSERT INTO scrape_jobs (id, kind, payload, max_attempts, request_id) VALUES ($1, $2, $3, $4, $5) \
         RETURNING {COLUMNS}"
    );
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .bind(kind)
        .bind(payload)
        .bind(max_attempts.min(i32::MAX as u32) as i32)
        .bind(request_id)
        .fetch_one(conn)
        .await?)
}

pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<JobRow>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM scrape_jobs WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
}

/// The newest `limit` jobs, only those in `state` when given.
pub async fn list(pool: &PgPool, limit: i64, state: Option<JobState>) -> Result<Vec<JobRow>, Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM scrape_jobs WHERE ($1::text IS NULL OR state = $1) ORDER BY id DESC LIMIT $2");
    Ok(sqlx::query_as(&sql).bind(state.map(JobState::as_str)).bind(limit).fetch_all(pool).await?)
}

/// What a message of a job may do with it.
#[derive(Debug)]
pub enum Claim {
    /// Run the attempt: this worker holds the lease. `resumed` when the attempt had started before (its
    /// worker stopped or crashed): it continues from the checkpoint.
    Run { job: Box<JobRow>, resumed: bool },
    /// The job is over (succeeded or dead): the message is a leftover.
    Final,
    /// Another worker runs this attempt and renews its lease.
    Busy,
    /// The message of an attempt that failed: the retry scheduled for `retry_at` may not have been published
    /// (a broker failure right after the job was marked failed), so it is published again.
    RetryLost { retry_at: Option<DateTime<Utc>> },
    /// An older attempt's message (its retry or a duplicate exists): dropped.
    Stale,
    /// No such job.
    Missing,
}

#[derive(sqlx::FromRow)]
struct Current {
    state: String,
    attempts: i32,
    leased: bool,
    retry_at: Option<DateTime<Utc>>,
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Decides, under the row's lock, what the message of attempt `attempt` may do, and takes the lease for
/// `owner` when it may run. A job in `queued`/`failed` with `attempt - 1` attempts starts attempt `attempt`;
/// a `running` job whose lease is free (released by a stopped worker, or expired) resumes it.
pub async fn claim(pool: &PgPool, id: Uuid, attempt: i32, owner: Uuid, lease: Duration) -> sqlx::Result<Claim> {
    let mut tx = pool.begin().await?;
    let current: Option<Current> = sqlx::query_as(
        "SELECT state, attempts, (lease_until IS NOT NULL AND lease_until > now()) AS leased, retry_at \
         FROM scrape_jobs WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else { return Ok(Claim::Missing) };
    let state = JobState::parse(&current.state);
    let resumed = match state {
        Some(s) if s.is_final() => return Ok(Claim::Final),
        Some(JobState::Queued | JobState::Failed) if attempt == current.attempts + 1 => false,
        Some(JobState::Failed) if attempt == current.attempts => {
            return Ok(Claim::RetryLost { retry_at: current.retry_at });
        }
        Some(JobState::Running) if attempt == current.attempts && current.leased => return Ok(Claim::Busy),
        Some(JobState::Running) if attempt == current.attempts => true,
        _ => return Ok(Claim::Stale),
    };
    let sql = format!(
        "UPDATE scrape_jobs SET state = 'running', attempts = $2, lease_owner = $3, \
         lease_until = now() + make_interval(secs => $4), started_at = COALESCE(started_at, now()), \
         retry_at = NULL, progress = NULL, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}"
    );
    let job: JobRow =
        sqlx::query_as(&sql).bind(id).bind(attempt).bind(owner).bind(seconds(lease)).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(Claim::Run { job: Box::new(job), resumed })
}

/// Saves the counts of every file and the checkpoint after a committed batch. False when the lease is lost.
pub async fn checkpoint(
    pool: &PgPool,
    id: Uuid,
    owner: Uuid,
    files: &[FileReport],
    file: &str,
    line: u64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE scrape_jobs SET files = $3, checkpoint_file = $4, checkpoint_line = $5, updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(Json(files))
    .bind(file)
    .bind(line.min(i64::MAX as u64) as i64)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the progress and renews the lease. False when the lease is lost.
pub async fn heartbeat(
    pool: &PgPool,
    id: Uuid,
    owner: Uuid,
    progress: Option<&Progress>,
    lease: Duration,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE scrape_jobs SET progress = COALESCE($3, progress), \
         lease_until = now() + make_interval(secs => $4), updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(progress.map(Json))
    .bind(seconds(lease))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the job succeeded with its final counts.
pub async fn succeed(pool: &PgPool, id: Uuid, owner: Uuid, files: &[FileReport]) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE scrape_jobs SET state = 'succeeded', files = $3, last_error = NULL, progress = NULL, \
         lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(Json(files))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (a worker stopping): the job stays `running` and the next delivery of its message
/// resumes it from the checkpoint.
pub async fn release(pool: &PgPool, id: Uuid, owner: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE scrape_jobs SET lease_owner = NULL, lease_until = NULL, progress = NULL, updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the attempt failed, its retry due at `retry_at`.
pub async fn fail(pool: &PgPool, id: Uuid, owner: Uuid, error: &str, retry_at: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE scrape_jobs SET state = 'failed', last_error = $3, retry_at = $4, progress = NULL, \
         lease_owner = NULL, lease_until = NULL, updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(truncate(error))
    .bind(retry_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the job dead with `error` and, in the same transaction, puts `dead_letter` (its message for the
/// dead-letter queue) in the outbox. False when the lease is lost.
pub async fn bury(
    pool: &PgPool,
    id: Uuid,
    owner: Uuid,
    error: &str,
    dead_letter: &OutboxMessage,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE scrape_jobs SET state = 'dead', last_error = $3, retry_at = NULL, progress = NULL, \
         lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now() \
         WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(truncate(error))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    iknow_messaging::enqueue(&mut tx, dead_letter).await?;
    tx.commit().await?;
    Ok(true)
}
