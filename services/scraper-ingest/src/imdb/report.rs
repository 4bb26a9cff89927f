//! The import's outcome per file and in total: rows read, written, unchanged, rejected (with the first
//! rejected lines and why) and skipped. A job stores its [`FileReport`]s (JSON) after every committed batch.

use std::fmt;

use iknow_proto::ingest::v1 as pb;
use serde::{Deserialize, Serialize};

/// How many rejected lines a report keeps, and prints, per file.
pub const MAX_LISTED: usize = 20;

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// 1-based line number in the file (the header is line 1); 0 when the service named a row the
    /// import could not match to a line.
    pub line: u64,
    pub reason: String,
}

/// Every rejection counted, the [`MAX_LISTED`] with the lowest line numbers kept.
#[derive(Debug, Clone, Default)]
pub struct Rejections {
    count: u64,
    kept: Vec<Rejection>,
}

impl Rejections {
    pub fn push(&mut self, line: u64, reason: String) {
        self.count += 1;
        self.kept.push(Rejection { line, reason });
        if self.kept.len() >= MAX_LISTED * 4 {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.kept.sort_by_key(|r| r.line);
        self.kept.truncate(MAX_LISTED);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Counts `n` more rejections that are not listed (the service listed only the first of them).
    pub fn count_more(&mut self, n: u64) {
        self.count += n;
    }

    /// The first rejected lines, by line number.
    pub fn listed(&self) -> Vec<Rejection> {
        let mut r = self.clone();
        r.trim();
        r.kept
    }

    pub fn extend(&mut self, other: Rejections) {
        self.count += other.count;
        self.kept.extend(other.kept);
        self.trim();
    }
}

/// The outcome of one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileReport {
    /// The file's name (`title.basics.tsv.gz`, say).
    pub file: String,
    /// Data lines read (the header excluded).
    pub rows_read: u64,
    /// Rows the catalogue inserted or changed.
    pub written: u64,
    /// Rows sent that the catalogue already held as they are.
    pub unchanged: u64,
    /// Lines that could not be parsed, plus rows the catalogue refused.
    pub rejected: u64,
    /// Lines deliberately left out (crew credits, people who never act).
    pub skipped: u64,
    /// The first [`MAX_LISTED`] rejected lines, by line number.
    pub rejections: Vec<Rejection>,
    /// A read error that ended the file early; the rows before it were imported.
    pub error: Option<String>,
    /// The whole file is imported (a job skips it when it resumes).
    pub complete: bool,
    /// Every line up to this one is imported and counted above: where a resumed job continues.
    pub committed_line: u64,
}

impl From<&FileReport> for pb::FileReport {
    fn from(f: &FileReport) -> Self {
        pb::FileReport {
            file: f.file.clone(),
            rows_read: f.rows_read,
            written: f.written,
            unchanged: f.unchanged,
            rejected: f.rejected,
            skipped: f.skipped,
            rejections: f.rejections.iter().map(|r| pb::Rejection { line: r.line, reason: r.reason.clone() }).collect(),
            error: f.error.clone().unwrap_or_default(),
            complete: f.complete,
            committed_line: f.committed_line,
        }
    }
}

/// A file's outcome as a job reports it through the API (an empty error is none).
impl From<&pb::FileReport> for FileReport {
    fn from(f: &pb::FileReport) -> Self {
        FileReport {
            file: f.file.clone(),
            rows_read: f.rows_read,
            written: f.written,
            unchanged: f.unchanged,
            rejected: f.rejected,
            skipped: f.skipped,
            rejections: f.rejections.iter().map(|r| Rejection { line: r.line, reason: r.reason.clone() }).collect(),
            error: Some(f.error.clone()).filter(|e| !e.is_empty()),
            complete: f.complete,
            committed_line: f.committed_line,
        }
    }
}

/// `title.basics` for `title.basics.tsv` or `title.basics.tsv.gz`.
pub fn stem(file: &str) -> &str {
    file.split_once(".tsv").map_or(file, |(stem, _)| stem)
}

/// The outcome of a whole import.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
}

impl ImportReport {
    /// The report of the file whose name starts with `stem` (`title.basics`, say).
    pub fn file(&self, stem: &str) -> Option<&FileReport> {
        self.files.iter().find(|f| f.file.starts_with(stem))
    }

    /// Sums of every file (without rejected lines or errors).
    pub fn total(&self) -> FileReport {
        let mut t = FileReport { file: "total".into(), ..FileReport::default() };
        for f in &self.files {
            t.rows_read += f.rows_read;
            t.written += f.written;
            t.unchanged += f.unchanged;
            t.rejected += f.rejected;
            t.skipped += f.skipped;
        }
        t
    }

    /// Read errors of every file.
    pub fn errors(&self) -> Vec<&str> {
        self.files.iter().filter_map(|f| f.error.as_deref()).collect()
    }
}

impl FileReport {
    /// An empty report of the file `file`.
    pub fn new(file: impl Into<String>) -> Self {
        Self { file: file.into(), ..Self::default() }
    }

    /// The dataset the file holds, without its extensions (`title.basics` for `title.basics.tsv.gz`), so a
    /// resumed job finds its file again if it was compressed meanwhile.
    pub fn stem(&self) -> &str {
        stem(&self.file)
    }

    /// Counts `rejections` and keeps the [`MAX_LISTED`] first ones, by line number.
    pub fn add_rejections(&mut self, rejections: Rejections) {
        self.rejected += rejections.count();
        self.rejections.extend(rejections.kept);
        self.rejections.sort_by_key(|r| r.line);
        self.rejections.truncate(MAX_LISTED);
    }

    /// The counts on one line.
    pub fn summary(&self) -> String {
        format!(
            "{:<24} read {:>9}  written {:>9}  unchanged {:>9}  rejected {:>7}  skipped {:>9}",
            self.file, self.rows_read, self.written, self.unchanged, self.rejected, self.skipped
        )
    }
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for r in &self.rejections {
            if r.line == 0 {
                writeln!(f, "    line ?: {}", r.reason)?;
            } else {
                writeln!(f, "    line {}: {}", r.line, r.reason)?;
            }
        }
        let rest = self.rejected.saturating_sub(self.rejections.len() as u64);
        if rest > 0 {
            writeln!(f, "    ... and {rest} more rejected lines")?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "    ERROR: {e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            write!(f, "{file}")?;
        }
        writeln!(f, "{}", self.total().summary())
    }
}
