//! The IMDb dataset import: streams the files of a directory into the catalogue through `UpsertBatch`, in
//! order (titles → episode links → ratings → alternate titles → the set of acting people → names → acting
//! credits; episodes, ratings and akas only when their file is there), with a few batches in flight. After each
//! batch the catalogue committed, in file order, the file's counts and committed line go to a [`Sink`] (a job
//! saves them as its checkpoint), so an import given the reports of an earlier attempt resumes where that one
//! stopped instead of starting over.
//!
//! The same code serves the queued jobs and `iknow import imdb --direct`.

mod bulk;
pub mod parse;
pub mod reader;
pub mod report;
mod send;

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use iknow_proto::catalog::v1::{UpsertBatchRequest, UpsertBatchResponse};
use tokio::sync::watch;

use crate::catalog::CatalogClient;
use crate::progress::Observer;
use reader::{Outcome as Line, Row};
pub use report::{FileReport, ImportReport, MAX_LISTED, Rejection, Rejections};

/// The dataset files of a directory; each may be plain or gzip.
#[derive(Debug, Clone)]
pub struct DatasetFiles {
    pub title_basics: PathBuf,
    pub title_episode: Option<PathBuf>,
    pub title_ratings: Option<PathBuf>,
    pub title_akas: Option<PathBuf>,
    pub name_basics: PathBuf,
    pub title_principals: PathBuf,
}

/// `dir/name` or `dir/name.gz`, whichever exists (plain first).
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))].into_iter().find(|p| p.is_file())
}

impl DatasetFiles {
    /// Finds the files in `dir`; a missing directory or required file is an error saying which.
    pub fn locate(dir: &Path) -> Result<Self, String> {
        if !dir.is_dir() {
            return Err(format!("dataset directory {} does not exist or is not a directory", dir.display()));
        }
        let required =
            |name: &str| find(dir, name).ok_or_else(|| format!("{} has no {name} (nor {name}.gz)", dir.display()));
        Ok(Self {
            title_basics: required("title.basics.tsv")?,
            title_episode: find(dir, "title.episode.tsv"),
            title_ratings: find(dir, "title.ratings.tsv"),
            title_akas: find(dir, "title.akas.tsv"),
            name_basics: required("name.basics.tsv")?,
            title_principals: required("title.principals.tsv")?,
        })
    }

    /// Every file in import order with the counter of the catalogue's answer that belongs to it.
    fn in_order(&self) -> Vec<(PathBuf, Kind)> {
        let mut files = vec![(self.title_basics.clone(), Kind::Contents)];
        files.extend(self.title_episode.clone().map(|p| (p, Kind::Episodes)));
        files.extend(self.title_ratings.clone().map(|p| (p, Kind::Ratings)));
        files.extend(self.title_akas.clone().map(|p| (p, Kind::Akas)));
        files.push((self.name_basics.clone(), Kind::Actors));
        files.push((self.title_principals.clone(), Kind::Credits));
        files
    }
}

/// Which counter of the response belongs to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Contents,
    Episodes,
    Actors,
    Credits,
    Ratings,
    Akas,
}

impl Kind {
    fn written(self, r: &UpsertBatchResponse) -> u64 {
        u64::from(match self {
            Self::Contents => r.contents_written,
            Self::Episodes => r.episodes_linked,
            Self::Actors => r.actors_written,
            Self::Credits => r.credits_written,
            Self::Ratings => r.ratings_written,
            Self::Akas => r.akas_written,
        })
    }
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows per `UpsertBatch` call.
    pub batch_size: usize,
    /// `UpsertBatch` calls in flight at once.
    pub concurrency: usize,
    /// Tries of one batch while the catalogue is briefly unavailable.
    pub catalog_tries: u32,
    /// The id of a bulk load for the credits file (the job id), used when the catalogue has no credits yet;
    /// `None`: credits always go through `UpsertBatch`.
    pub bulk_load_id: Option<String>,
    /// Credits per `StageCredits` call of a bulk load.
    pub bulk_chunk: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { batch_size: 10_000, concurrency: 3, catalog_tries: 4, bulk_load_id: None, bulk_chunk: 20_000 }
    }
}

/// Why an import did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Trying again cannot help (a missing directory or file, unusable parameters).
    Permanent(String),
    /// Trying again later may (the catalogue or the database unavailable).
    Transient(String),
    /// Another worker took the job over (its lease expired): this one must stop touching it.
    LeaseLost,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Permanent(e) | Self::Transient(e) => f.write_str(e),
            Self::LeaseLost => f.write_str("another worker took the job over"),
        }
    }
}

/// How an import ended.
#[derive(Debug)]
pub enum Finished {
    /// Every file was read to its end.
    Complete(ImportReport),
    /// Asked to stop: every batch sent was committed and reported, the rest waits for a resumed import.
    Stopped,
}

/// Receives the state of the import after each committed batch.
pub trait Sink: Send {
    /// `files` holds every file reached so far; `file`'s lines up to `line` are committed.
    fn committed(
        &mut self,
        files: &[FileReport],
        file: &str,
        line: u64,
    ) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// A sink that keeps nothing (a direct import).
#[derive(Debug, Default)]
pub struct NoSink;

impl Sink for NoSink {
    async fn committed(&mut self, _: &[FileReport], _: &str, _: u64) -> Result<(), Failure> {
        Ok(())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Whether `stop` says to stop (or its sender is gone).
pub(crate) fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// Imports the dataset of `dir` into the catalogue. `resume` holds the reports of an earlier attempt (empty
/// for a fresh import): complete files are skipped and the others continue after their committed line.
/// Bad lines are counted and reported, never fatal.
#[tracing::instrument(skip_all, fields(dir = %dir.display()))]
pub async fn import(
    dir: &Path,
    client: &CatalogClient,
    opts: &Options,
    resume: Vec<FileReport>,
    sink: &mut impl Sink,
    observer: Arc<dyn Observer>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Finished, Failure> {
    let files = DatasetFiles::locate(dir).map_err(Failure::Permanent)?;
    let order = files.in_order();
    let mut reports: Vec<FileReport> = Vec::with_capacity(order.len());
    for (path, _) in &order {
        let label = file_name(path);
        let earlier = resume.iter().find(|r| r.stem() == report::stem(&label));
        reports.push(FileReport { file: label, ..earlier.cloned().unwrap_or_default() });
    }
    let names_done = reports.iter().zip(&order).any(|(r, (_, kind))| *kind == Kind::Actors && r.complete);
    let mut job_bytes_total: u64 =
        reports.iter().zip(&order).filter(|(r, _)| !r.complete).map(|(_, (p, _))| size(p)).sum();
    if !names_done {
        job_bytes_total += size(&files.title_principals);
    }
    let mut importer = send::Importer {
        client,
        opts: Options { batch_size: opts.batch_size.max(1), concurrency: opts.concurrency.max(1), ..opts.clone() },
        reports,
        sink,
        observer,
        job_bytes_before: 0,
        job_bytes_total,
    };

    for (index, (path, kind)) in order.iter().enumerate() {
        if importer.reports[index].complete {
            continue;
        }
        let classify: Box<dyn FnMut(&str) -> Line + Send> = match kind {
            Kind::Contents => Box::new(|line| match parse::title(line) {
                Ok(c) => Line::Row(Row::Content(c)),
                Err(r) => Line::Reject(r),
            }),
            Kind::Episodes => Box::new(|line| match parse::episode(line) {
                Ok(e) => Line::Row(Row::Episode(e)),
                Err(r) => Line::Reject(r),
            }),
            Kind::Ratings => Box::new(|line| match parse::rating(line) {
                Ok(r) => Line::Row(Row::Rating(r)),
                Err(r) => Line::Reject(r),
            }),
            Kind::Akas => Box::new(|line| match parse::aka(line) {
                Ok(a) => Line::Row(Row::Aka(a)),
                Err(r) => Line::Reject(r),
            }),
            Kind::Actors => {
                let Some(acting) = importer.acting_people(&files.title_principals, stop).await? else {
                    return Ok(Finished::Stopped);
                };
                tracing::info!(people = acting.len(), "acting people collected");
                Box::new(move |line| match parse::name(line) {
                    Ok((n, actor)) if acting.contains(&n) => Line::Row(Row::Actor(actor)),
                    Ok(_) => Line::Skip,
                    Err(r) => Line::Reject(r),
                })
            }
            Kind::Credits => Box::new(|line| match parse::principal(line) {
                Ok(p) if p.is_acting() => Line::Row(Row::Credit(p.credit)),
                Ok(_) => Line::Skip,
                Err(r) => Line::Reject(r),
            }),
        };
        if !importer.run_file(index, path, *kind, classify, stop).await? {
            return Ok(Finished::Stopped);
        }
        let r = &importer.reports[index];
        tracing::info!(
            file = %r.file, read = r.rows_read, written = r.written, unchanged = r.unchanged,
            rejected = r.rejected, skipped = r.skipped, "file imported"
        );
    }
    Ok(Finished::Complete(ImportReport { files: importer.reports }))
}

impl<S: Sink> send::Importer<'_, S> {
    /// Pass 1 over the principals: the numbers of everyone credited as actor, actress or self. Memory grows
    /// with distinct people, not lines. `None` when asked to stop meanwhile.
    async fn acting_people(
        &mut self,
        path: &Path,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Option<Arc<HashSet<u32>>>, Failure> {
        let pass = self.pass(path, 0, format!("{} (actors)", file_name(path)));
        self.job_bytes_before += size(path);
        let cancel = Arc::new(AtomicBool::new(false));
        let observer = self.observer.clone();
        let scanning = {
            let cancel = cancel.clone();
            tokio::task::spawn_blocking(move || {
                let mut set = HashSet::new();
                reader::scan(pass, &*observer, &cancel, |line| {
                    if let Ok(p) = parse::principal(line)
                        && p.is_acting()
                    {
                        set.insert(p.person);
                    }
                });
                set.shrink_to_fit();
                set
            })
        };
        let mut scanning = std::pin::pin!(scanning);
        let set = tokio::select! {
            done = &mut scanning => done,
            () = crate::until_stopped(stop) => {
                cancel.store(true, Ordering::Relaxed);
                let _ = scanning.await;
                return Ok(None);
            }
        };
        let set = set.map_err(|e| Failure::Transient(format!("collecting acting people failed: {e}")))?;
        Ok(Some(Arc::new(set)))
    }
}

/// Imports `dir` in one go (no queue, no checkpoint): `iknow import imdb --direct` and the sample import of
/// `iknow up`. A missing file or a batch the catalogue keeps refusing is an error.
pub async fn import_direct(
    dir: &Path,
    client: &CatalogClient,
    opts: &Options,
    observer: Arc<dyn Observer>,
) -> anyhow::Result<ImportReport> {
    // The sender lives until the import is over: it never asks to stop.
    let (_keep, mut stop) = watch::channel(false);
    match import(dir, client, opts, Vec::new(), &mut NoSink, observer, &mut stop).await {
        Ok(Finished::Complete(report)) => Ok(report),
        Ok(Finished::Stopped) => anyhow::bail!("the import stopped"),
        Err(e) => Err(anyhow::anyhow!(e.to_string())),
    }
}

/// Whether the catalogue already holds the first title of `dir`'s `title.basics`, asked by upserting it
/// (idempotent: the import would write it anyway). False when the file has no parsable first title.
pub async fn first_title_present(dir: &Path, client: &CatalogClient) -> anyhow::Result<bool> {
    let files = DatasetFiles::locate(dir).map_err(anyhow::Error::msg)?;
    let path = files.title_basics.clone();
    let first = tokio::task::spawn_blocking(move || reader::first_row(&path, |line| parse::title(line).ok())).await?;
    let Some(content) = first else { return Ok(false) };
    let resp = client
        .clone()
        .upsert_batch(UpsertBatchRequest {
            contents: vec![content],
            source: iknow_proto::catalog::v1::ScrapeSource::Scraper.into(),
            ..Default::default()
        })
        .await
        .map_err(|s| anyhow::anyhow!("UpsertBatch failed: {}: {}", s.code(), s.message()))?
        .into_inner();
    Ok(resp.contents_written == 0 && resp.rejected.is_empty())
}
