//! What a scrape job is: its kinds and states, the message that names it on the queue, its row, and the
//! row's protobuf shape.

use chrono::{DateTime, Utc};
use iknow_proto::ingest::v1 as pb;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::imdb::FileReport;
use crate::progress::Progress;

/// The kinds of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    ImdbDataset,
    TmdbPerson,
    TmdbTitle,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImdbDataset => "imdb_dataset",
            Self::TmdbPerson => "tmdb_person",
            Self::TmdbTitle => "tmdb_title",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "imdb_dataset" => Some(Self::ImdbDataset),
            "tmdb_person" => Some(Self::TmdbPerson),
            "tmdb_title" => Some(Self::TmdbTitle),
            _ => None,
        }
    }
}

/// The states of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    /// An attempt failed; its retry waits in a retry queue until `retry_at`.
    Failed,
    /// Given up: its message is in the dead-letter queue.
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 5] = [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Nothing more happens to the job.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Dead)
    }
}

/// The body of every message of a job (`{"jobId": "…", "kind": "imdb_dataset", "attempt": 1}`): the job's
/// id and the attempt the message starts. Everything else is in the job's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    pub job_id: Uuid,
    pub kind: String,
    pub attempt: i32,
}

/// Parameters of an `imdb_dataset` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImdbParams {
    pub dir: String,
}

/// Parameters of a `tmdb_person` job (`{"tmdbId": 31}` or `{"imdbId": "nm0000158"}`): exactly one id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TmdbPersonParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmdb_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imdb_id: Option<String>,
}

/// Parameters of a `tmdb_title` job: a TMDB id with its media type (`movie` or `tv`), or an IMDb id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TmdbTitleParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmdb_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imdb_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// One row of `scrape_jobs`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub files: Json<Vec<FileReport>>,
    pub checkpoint_file: Option<String>,
    pub checkpoint_line: Option<i64>,
    pub progress: Option<Json<Progress>>,
    pub last_error: Option<String>,
    pub retry_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<Uuid>,
    pub lease_until: Option<DateTime<Utc>>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The columns of [`JobRow`], in a `SELECT` or `RETURNING` list.
pub const COLUMNS: &str = "id, kind, payload, state, attempts, max_attempts, files, checkpoint_file, \
    checkpoint_line, progress, last_error, retry_at, lease_owner, lease_until, request_id, created_at, started_at, \
    finished_at, updated_at";

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

impl JobRow {
    pub fn state(&self) -> Option<JobState> {
        JobState::parse(&self.state)
    }

    /// The job as the API answers it.
    pub fn to_pb(&self) -> pb::Job {
        let params = match JobKind::parse(&self.kind) {
            Some(JobKind::ImdbDataset) => serde_json::from_value::<ImdbParams>(self.payload.clone())
                .ok()
                .map(|p| pb::job::Params::ImdbDataset(pb::ImdbDataset { dir: p.dir })),
            Some(JobKind::TmdbPerson) => {
                serde_json::from_value::<TmdbPersonParams>(self.payload.clone()).ok().map(|p| {
                    pb::job::Params::TmdbPerson(pb::TmdbPerson {
                        tmdb_id: p.tmdb_id.unwrap_or(0),
                        imdb_id: p.imdb_id.unwrap_or_default(),
                    })
                })
            }
            Some(JobKind::TmdbTitle) => serde_json::from_value::<TmdbTitleParams>(self.payload.clone()).ok().map(|p| {
                pb::job::Params::TmdbTitle(pb::TmdbTitle {
                    tmdb_id: p.tmdb_id.unwrap_or(0),
                    imdb_id: p.imdb_id.unwrap_or_default(),
                    media_type: p.media_type.unwrap_or_default(),
                })
            }),
            None => None,
        };
        let checkpoint = self
            .checkpoint_file
            .as_ref()
            .map(|file| pb::Checkpoint { file: file.clone(), line: self.checkpoint_line.unwrap_or(0).max(0) as u64 });
        let progress = self.progress.as_ref().map(|Json(p)| pb::Progress::from(p));
        pb::Job {
            id: self.id.to_string(),
            kind: self.kind.clone(),
            params,
            state: self.state.clone(),
            attempts: self.attempts.max(0) as u32,
            max_attempts: self.max_attempts.max(0) as u32,
            files: self.files.0.iter().map(pb::FileReport::from).collect(),
            checkpoint,
            progress,
            last_error: self.last_error.clone().unwrap_or_default(),
            created_at: time(Some(self.created_at)),
            started_at: time(self.started_at),
            finished_at: time(self.finished_at),
            updated_at: time(Some(self.updated_at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_kinds_round_trip() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("paused"), None);
        assert_eq!(JobKind::parse("imdb_dataset"), Some(JobKind::ImdbDataset));
        for kind in [JobKind::ImdbDataset, JobKind::TmdbPerson, JobKind::TmdbTitle] {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(JobKind::parse("tmdb_episode"), None);
    }

    #[test]
    fn tmdb_params_are_camel_case_with_one_id() {
        let p = TmdbPersonParams { tmdb_id: Some(31), imdb_id: None };
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!({"tmdbId": 31}));
        let t: TmdbTitleParams = serde_json::from_value(serde_json::json!({"imdbId": "tt0109830"})).unwrap();
        assert_eq!(t.imdb_id.as_deref(), Some("tt0109830"));
        assert_eq!(t.tmdb_id, None);
    }

    #[test]
    fn the_message_is_camel_case_json() {
        let m = JobMessage { job_id: Uuid::nil(), kind: "imdb_dataset".into(), attempt: 2 };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json, serde_json::json!({"jobId": Uuid::nil(), "kind": "imdb_dataset", "attempt": 2}));
    }
}
