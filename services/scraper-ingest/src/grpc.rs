//! The `Ingest` gRPC service: validates each request, creates jobs (row and first message in one
//! transaction, the message through the outbox) and reads them back.

use iknow_common::{Error, FieldViolation};
use iknow_messaging::{OutboxMessage, RelayHandle};
use iknow_proto::ingest::v1::{self as pb, ingest_server::Ingest};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::jobs::{ImdbParams, JobKind, JobMessage, JobState, TmdbPersonParams, TmdbTitleParams};
use crate::tmdb::map::is_imdb_id;
use crate::{Config, store};

/// Longest `dir`, in bytes.
pub const MAX_DIR_BYTES: usize = 4096;
/// Page size of ListJobs when none is asked for, and the largest allowed.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// The ingest service.
#[derive(Clone)]
pub struct IngestService {
    pool: PgPool,
    relay: RelayHandle,
    work_queue: String,
    max_attempts: u32,
}

/// The request id of a call ([`iknow_common::request_id::of`]), else a new one, so every job's messages carry
/// one.
fn request_id<T>(request: &Request<T>) -> String {
    iknow_common::request_id::of(request).unwrap_or_else(|| Uuid::now_v7().to_string())
}

/// The violations of an EnqueueImdbDataset `dir`.
pub fn check_dir(dir: &str) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    if dir.trim().is_empty() {
        violations.push(FieldViolation::new("dir", "must not be empty"));
    } else if dir.len() > MAX_DIR_BYTES {
        violations.push(FieldViolation::new("dir", "must be at most 4096 bytes"));
    } else if dir.contains('\0') {
        violations.push(FieldViolation::new("dir", "must not contain NUL characters"));
    } else if !std::path::Path::new(dir).is_absolute() {
        violations.push(FieldViolation::new("dir", "must be an absolute path (as the ingest service sees it)"));
    }
    violations
}

/// The violations of a TMDB job's ids: exactly one of `tmdbId` and `imdbId`, the latter `prefix` + digits.
pub fn check_tmdb_ids(tmdb_id: u64, imdb_id: &str, prefix: &str) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    match (tmdb_id, imdb_id.is_empty()) {
        (0, true) => violations.push(FieldViolation::new("tmdbId", "one of tmdbId and imdbId is required")),
        (1.., false) => violations.push(FieldViolation::new("imdbId", "give tmdbId or imdbId, not both")),
        _ => {}
    }
    if !imdb_id.is_empty() && !is_imdb_id(imdb_id, prefix) {
        violations.push(FieldViolation::new(
            "imdbId",
            format!("must be {prefix} followed by digits (at most 20 characters)"),
        ));
    }
    violations
}

/// The violations of an EnqueueTmdbTitle `mediaType`.
pub fn check_media_type(imdb_id: &str, media_type: &str) -> Vec<FieldViolation> {
    match media_type {
        "" => vec![],
        "movie" | "tv" if imdb_id.is_empty() => vec![],
        "movie" | "tv" => vec![FieldViolation::new("mediaType", "must be empty with imdbId (TMDB's /find tells)")],
        _ => vec![FieldViolation::new("mediaType", "must be movie or tv")],
    }
}

impl IngestService {
    pub fn new(pool: PgPool, relay: RelayHandle, config: &Config) -> Self {
        Self { pool, relay, work_queue: config.work_queue(), max_attempts: config.max_attempts.max(1) }
    }

    /// Creates a job of `kind` with `payload` and its first message (through the outbox), in one transaction.
    async fn create(&self, kind: JobKind, payload: serde_json::Value, request_id: String) -> Result<pb::Job, Error> {
        let id = iknow_common::id::new();
        tracing::Span::current().record("job_id", tracing::field::display(id));
        let kind = kind.as_str();
        let message = JobMessage { job_id: id, kind: kind.into(), attempt: 1 };
        let message = OutboxMessage::json("", &self.work_queue, &message)
            .map_err(Error::internal)?
            .header(iknow_common::request_id::HEADER, request_id.clone());
        let mut tx = self.pool.begin().await?;
        let job = store::create(&mut tx, id, kind, &payload, self.max_attempts, &request_id).await?;
        iknow_messaging::enqueue(&mut tx, &message).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::info!(kind, "job enqueued");
        Ok(job.to_pb())
    }
}

fn some_id(tmdb_id: u64, imdb_id: String) -> (Option<u64>, Option<String>) {
    ((tmdb_id != 0).then_some(tmdb_id), (!imdb_id.is_empty()).then_some(imdb_id))
}

#[tonic::async_trait]
impl Ingest for IngestService {
    #[tracing::instrument(skip_all, fields(job_id))]
    async fn enqueue_imdb_dataset(
        &self,
        request: Request<pb::EnqueueImdbDatasetRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let request_id = request_id(&request);
        let dir = request.into_inner().dir;
        let violations = check_dir(&dir);
        if !violations.is_empty() {
            return Err(Error::validation(violations).into());
        }
        let payload = serde_json::to_value(ImdbParams { dir }).map_err(Error::internal)?;
        Ok(Response::new(self.create(JobKind::ImdbDataset, payload, request_id).await?))
    }

    #[tracing::instrument(skip_all, fields(job_id))]
    async fn enqueue_tmdb_person(
        &self,
        request: Request<pb::EnqueueTmdbPersonRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let request_id = request_id(&request);
        let pb::EnqueueTmdbPersonRequest { tmdb_id, imdb_id } = request.into_inner();
        let violations = check_tmdb_ids(tmdb_id, &imdb_id, "nm");
        if !violations.is_empty() {
            return Err(Error::validation(violations).into());
        }
        let (tmdb_id, imdb_id) = some_id(tmdb_id, imdb_id);
        let payload = serde_json::to_value(TmdbPersonParams { tmdb_id, imdb_id }).map_err(Error::internal)?;
        Ok(Response::new(self.create(JobKind::TmdbPerson, payload, request_id).await?))
    }

    #[tracing::instrument(skip_all, fields(job_id))]
    async fn enqueue_tmdb_title(
        &self,
        request: Request<pb::EnqueueTmdbTitleRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let request_id = request_id(&request);
        let pb::EnqueueTmdbTitleRequest { tmdb_id, imdb_id, media_type } = request.into_inner();
        let mut violations = check_tmdb_ids(tmdb_id, &imdb_id, "tt");
        violations.extend(check_media_type(&imdb_id, &media_type));
        if !violations.is_empty() {
            return Err(Error::validation(violations).into());
        }
        let media_type = (tmdb_id != 0).then(|| if media_type.is_empty() { "movie".to_owned() } else { media_type });
        let (tmdb_id, imdb_id) = some_id(tmdb_id, imdb_id);
        let payload =
            serde_json::to_value(TmdbTitleParams { tmdb_id, imdb_id, media_type }).map_err(Error::internal)?;
        Ok(Response::new(self.create(JobKind::TmdbTitle, payload, request_id).await?))
    }

    #[tracing::instrument(skip_all, fields(job_id))]
    async fn get_job(&self, request: Request<pb::GetJobRequest>) -> Result<Response<pb::Job>, Status> {
        let id = request.into_inner().id;
        tracing::Span::current().record("job_id", id.as_str());
        let Some(id) = iknow_common::id::parse(&id) else {
            return Err(Error::field("id", "must be a UUID").into());
        };
        match store::get(&self.pool, id).await? {
            Some(job) => Ok(Response::new(job.to_pb())),
            None => Err(Error::not_found("JOB_NOT_FOUND", "No such job").into()),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn list_jobs(&self, request: Request<pb::ListJobsRequest>) -> Result<Response<pb::ListJobsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Vec::new();
        let limit = match request.limit {
            0 => DEFAULT_LIMIT,
            n if n <= MAX_LIMIT => n,
            _ => {
                violations.push(FieldViolation::new("limit", "must be between 1 and 100"));
                DEFAULT_LIMIT
            }
        };
        let state = match request.state.as_deref() {
            None => None,
            Some(s) => {
                let state = JobState::parse(s);
                if state.is_none() {
                    violations
                        .push(FieldViolation::new("state", "must be one of queued, running, succeeded, failed, dead"));
                }
                state
            }
        };
        if !violations.is_empty() {
            return Err(Error::validation(violations).into());
        }
        let jobs = store::list(&self.pool, i64::from(limit), state).await?;
        Ok(Response::new(pb::ListJobsResponse { jobs: jobs.iter().map(|j| j.to_pb()).collect() }))
    }
}

#[cfg(test)]
mod tests {
    use super::{check_dir, check_media_type, check_tmdb_ids};

    #[test]
    fn tmdb_id_rules() {
        assert!(check_tmdb_ids(31, "", "nm").is_empty());
        assert!(check_tmdb_ids(0, "nm0000158", "nm").is_empty());
        assert_eq!(check_tmdb_ids(0, "", "nm")[0].field, "tmdbId");
        assert_eq!(check_tmdb_ids(31, "nm0000158", "nm")[0].field, "imdbId");
        assert_eq!(check_tmdb_ids(0, "tt0109830", "nm")[0].field, "imdbId");
        assert_eq!(check_tmdb_ids(0, "nm12x", "nm").len(), 1);
        assert!(check_media_type("", "tv").is_empty());
        assert!(check_media_type("", "").is_empty());
        assert_eq!(check_media_type("tt1", "movie")[0].field, "mediaType");
        assert_eq!(check_media_type("", "episode")[0].field, "mediaType");
    }

    #[test]
    fn dir_rules() {
        assert!(check_dir("/data/imdb").is_empty());
        assert_eq!(check_dir("").len(), 1);
        assert_eq!(check_dir("relative/dir")[0].field, "dir");
        assert!(!check_dir(&format!("/{}", "a".repeat(5000))).is_empty());
        assert!(!check_dir("/a\0b").is_empty());
    }
}
