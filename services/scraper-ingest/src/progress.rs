//! Progress of a running import: what the reader thread reports (file, bytes, rows, rows/s), kept for the
//! job's heartbeat to store, or drawn by the `iknow` command as progress bars.

use std::sync::Mutex;

use iknow_proto::ingest::v1 as pb;
use serde::{Deserialize, Serialize};

/// Where one pass over one file is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// The file read (`title.principals.tsv (actors)` for the first pass collecting the acting people).
    pub file: String,
    pub bytes_read: u64,
    pub bytes_total: u64,
    /// Data lines read from this file in this pass.
    pub rows_read: u64,
    pub rows_per_second: f64,
    /// Bytes read, and to read, over every pass of the whole import (for an ETA).
    pub job_bytes_read: u64,
    pub job_bytes_total: u64,
    /// The pass is over.
    pub done: bool,
}

impl From<&Progress> for pb::Progress {
    fn from(p: &Progress) -> Self {
        pb::Progress {
            file: p.file.clone(),
            bytes_read: p.bytes_read,
            bytes_total: p.bytes_total,
            rows_read: p.rows_read,
            rows_per_second: p.rows_per_second,
            job_bytes_read: p.job_bytes_read,
            job_bytes_total: p.job_bytes_total,
        }
    }
}

/// The progress a job reports through the API (a pass still running: the API says nothing of `done`).
impl From<&pb::Progress> for Progress {
    fn from(p: &pb::Progress) -> Self {
        Progress {
            file: p.file.clone(),
            bytes_read: p.bytes_read,
            bytes_total: p.bytes_total,
            rows_read: p.rows_read,
            rows_per_second: p.rows_per_second,
            job_bytes_read: p.job_bytes_read,
            job_bytes_total: p.job_bytes_total,
            done: false,
        }
    }
}

/// Receives progress from the reading thread: at the start and end of each pass and every few thousand lines.
pub trait Observer: Send + Sync {
    fn progress(&self, progress: &Progress);
}

/// Ignores progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ignore;

impl Observer for Ignore {
    fn progress(&self, _: &Progress) {}
}

/// Keeps the latest progress for whoever wants it (a job's heartbeat).
#[derive(Debug, Default)]
pub struct Latest(Mutex<Option<Progress>>);

impl Latest {
    /// The latest progress reported, if any.
    pub fn get(&self) -> Option<Progress> {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl Observer for Latest {
    fn progress(&self, progress: &Progress) {
        if let Ok(mut latest) = self.0.lock() {
            *latest = Some(progress.clone());
        }
    }
}
