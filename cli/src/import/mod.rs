//! `iknow import imdb`: streams IMDb dataset files into the catalogue through `UpsertBatch`, in order
//! (titles → episode links → the set of acting people → names → acting credits), with a few batches in flight.

pub mod parse;
mod reader;
mod report;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_proto::catalog::v1::{UpsertBatchRequest, UpsertBatchResponse};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};

pub use reader::stdout_is_terminal;
use reader::{Batch, Outcome, Row};
pub use report::{FileReport, ImportReport, MAX_LISTED, Rejection, Rejections};

/// Deadline of one `UpsertBatch` call.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Attempts of one batch when the catalogue is briefly unavailable.
const ATTEMPTS: u32 = 4;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Rows per `UpsertBatch` call.
    pub batch_size: usize,
    /// `UpsertBatch` calls in flight at once.
    pub concurrency: usize,
    /// Draw progress bars (otherwise a progress line is logged every few seconds).
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { batch_size: 2000, concurrency: 3, progress: stdout_is_terminal() }
    }
}

/// Where the rows go: a catalogue URL to connect to, or a client already connected.
#[derive(Debug, Clone)]
pub enum Catalog {
    Url(String),
    Client(ActorCatalogClient<Channel>),
}

impl From<&str> for Catalog {
    fn from(url: &str) -> Self {
        Self::Url(url.to_string())
    }
}

impl From<String> for Catalog {
    fn from(url: String) -> Self {
        Self::Url(url)
    }
}

impl From<ActorCatalogClient<Channel>> for Catalog {
    fn from(client: ActorCatalogClient<Channel>) -> Self {
        Self::Client(client)
    }
}

impl Catalog {
    async fn connect(self) -> anyhow::Result<ActorCatalogClient<Channel>> {
        match self {
            Self::Client(c) => Ok(c),
            Self::Url(url) => {
                let channel = Endpoint::from_shared(url.clone())
                    .with_context(|| format!("invalid catalogue URL {url:?}"))?
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(CALL_TIMEOUT)
                    .connect()
                    .await
                    .with_context(|| format!("cannot reach the catalogue at {url}"))?;
                Ok(ActorCatalogClient::new(channel))
            }
        }
    }
}

/// The dataset files of a directory; each may be plain or gzip.
#[derive(Debug, Clone)]
pub struct DatasetFiles {
    pub title_basics: PathBuf,
    pub title_episode: Option<PathBuf>,
    pub name_basics: PathBuf,
    pub title_principals: PathBuf,
}

/// `dir/name` or `dir/name.gz`, whichever exists (plain first).
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))].into_iter().find(|p| p.is_file())
}

impl DatasetFiles {
    /// Finds the files in `dir`; a missing directory or required file is an error.
    pub fn locate(dir: &Path) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            bail!("dataset directory {} does not exist or is not a directory", dir.display());
        }
        let required =
            |name: &str| find(dir, name).with_context(|| format!("{} has no {name} (nor {name}.gz)", dir.display()));
        Ok(Self {
            title_basics: required("title.basics.tsv")?,
            title_episode: find(dir, "title.episode.tsv"),
            name_basics: required("name.basics.tsv")?,
            title_principals: required("title.principals.tsv")?,
        })
    }
}

/// Whether the catalogue already holds the first title of `dir`'s `title.basics`, asked by upserting it
/// (idempotent: the import would write it anyway). False when the file has no parsable first title.
pub async fn first_title_present(dir: impl AsRef<Path>, catalog: impl Into<Catalog>) -> anyhow::Result<bool> {
    let files = DatasetFiles::locate(dir.as_ref())?;
    let path = files.title_basics.clone();
    let first = tokio::task::spawn_blocking(move || reader::first_row(&path, |line| parse::title(line).ok()))
        .await
        .context("reading the first title failed")?;
    let Some(content) = first else { return Ok(false) };
    let mut client = catalog.into().connect().await?;
    let resp = client
        .upsert_batch(UpsertBatchRequest { contents: vec![content], ..Default::default() })
        .await
        .map_err(|s| anyhow::anyhow!("UpsertBatch failed: {}: {}", s.code(), s.message()))?
        .into_inner();
    Ok(resp.contents_written == 0 && resp.rejected.is_empty())
}

/// Which counter of the response belongs to a file.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Contents,
    Episodes,
    Actors,
    Credits,
}

impl Kind {
    fn written(self, r: &UpsertBatchResponse) -> u64 {
        u64::from(match self {
            Self::Contents => r.contents_written,
            Self::Episodes => r.episodes_linked,
            Self::Actors => r.actors_written,
            Self::Credits => r.credits_written,
        })
    }
}

/// Imports the IMDb dataset files of `dir` into the catalogue and reports what happened per file.
/// Bad lines are counted and reported, never fatal; a missing file, an unreachable catalogue or a batch
/// the catalogue keeps failing is an error.
#[tracing::instrument(skip_all, fields(dir = %dir.as_ref().display()))]
pub async fn import_imdb(
    dir: impl AsRef<Path>,
    catalog: impl Into<Catalog>,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    let files = DatasetFiles::locate(dir.as_ref())?;
    let client = catalog.into().connect().await?;
    let opts =
        ImportOptions { batch_size: opts.batch_size.max(1), concurrency: opts.concurrency.max(1), ..opts.clone() };
    let mut report = ImportReport::default();

    report.files.push(
        run_file(&client, &files.title_basics, &opts, Kind::Contents, |line| match parse::title(line) {
            Ok(c) => Outcome::Row(Row::Content(c)),
            Err(r) => Outcome::Reject(r),
        })
        .await?,
    );
    if let Some(path) = &files.title_episode {
        report.files.push(
            run_file(&client, path, &opts, Kind::Episodes, |line| match parse::episode(line) {
                Ok(e) => Outcome::Row(Row::Episode(e)),
                Err(r) => Outcome::Reject(r),
            })
            .await?,
        );
    }
    let acting = Arc::new(acting_people(&files.title_principals, &opts).await?);
    tracing::info!(people = acting.len(), "acting people collected");
    report.files.push(
        run_file(&client, &files.name_basics, &opts, Kind::Actors, move |line| match parse::name(line) {
            Ok((n, actor)) if acting.contains(&n) => Outcome::Row(Row::Actor(actor)),
            Ok(_) => Outcome::Skip,
            Err(r) => Outcome::Reject(r),
        })
        .await?,
    );
    report.files.push(
        run_file(&client, &files.title_principals, &opts, Kind::Credits, |line| match parse::principal(line) {
            Ok(p) if p.is_acting() => Outcome::Row(Row::Credit(p.credit)),
            Ok(_) => Outcome::Skip,
            Err(r) => Outcome::Reject(r),
        })
        .await?,
    );
    Ok(report)
}

/// Pass 1 over the principals: the numbers of everyone credited as actor, actress or self. Memory grows
/// with distinct people, not lines.
async fn acting_people(path: &Path, opts: &ImportOptions) -> anyhow::Result<HashSet<u32>> {
    let path = path.to_path_buf();
    let draw = opts.progress;
    tokio::task::spawn_blocking(move || {
        let mut set = HashSet::new();
        let label = format!("{} (actors)", file_name(&path));
        reader::read_file(&path, &label, draw, usize::MAX, None, |line| {
            if let Ok(p) = parse::principal(line)
                && p.is_acting()
            {
                set.insert(p.person);
            }
            Outcome::Skip
        });
        set.shrink_to_fit();
        set
    })
    .await
    .context("collecting acting people failed")
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Reads one file on a blocking thread while sending its batches, and merges both sides' counts.
async fn run_file(
    client: &ActorCatalogClient<Channel>,
    path: &Path,
    opts: &ImportOptions,
    kind: Kind,
    classify: impl FnMut(&str) -> Outcome + Send + 'static,
) -> anyhow::Result<FileReport> {
    let label = file_name(path);
    let (tx, rx) = mpsc::channel(opts.concurrency);
    let reading = {
        let (path, label, draw, size) = (path.to_path_buf(), label.clone(), opts.progress, opts.batch_size);
        tokio::task::spawn_blocking(move || reader::read_file(&path, &label, draw, size, Some(tx), classify))
    };
    let sending = send_all(client, rx, opts.concurrency, kind).await;
    let read = reading.await.context("reading task failed")?;
    let sent = sending.with_context(|| format!("importing {label} failed"))?;
    let mut rejections = read.rejections;
    let refused = sent.refused.count();
    rejections.extend(sent.refused);
    let report = FileReport {
        file: label,
        rows_read: read.rows_read,
        written: sent.written,
        unchanged: read.sent.saturating_sub(sent.written).saturating_sub(refused),
        rejected: rejections.count(),
        skipped: read.skipped,
        rejections: rejections.listed(),
        error: read.error,
    };
    tracing::info!(
        file = %report.file,
        read = report.rows_read,
        written = report.written,
        unchanged = report.unchanged,
        rejected = report.rejected,
        skipped = report.skipped,
        "file imported"
    );
    Ok(report)
}

#[derive(Default)]
struct SendSummary {
    written: u64,
    refused: Rejections,
}

impl SendSummary {
    fn absorb(&mut self, kind: Kind, batch: Batch, resp: UpsertBatchResponse) {
        self.written += kind.written(&resp);
        let mut matched = vec![false; batch.keys.len()];
        for row in resp.rejected {
            // Match the refused row back to its line: the first unmatched row whose ids the key names.
            let at = batch
                .keys
                .iter()
                .enumerate()
                .position(|(i, key)| !matched[i] && key.split('/').all(|id| row.key.contains(id)));
            let line = at.map_or(0, |i| {
                matched[i] = true;
                batch.lines[i]
            });
            let what = if row.kind.is_empty() { String::new() } else { format!("{} ", row.kind) };
            self.refused.push(line, format!("{what}{}: {}", row.key, row.reason));
        }
    }
}

/// Sends every batch from `rx` with at most `concurrency` calls in flight.
async fn send_all(
    client: &ActorCatalogClient<Channel>,
    mut rx: mpsc::Receiver<Batch>,
    concurrency: usize,
    kind: Kind,
) -> anyhow::Result<SendSummary> {
    let mut out = SendSummary::default();
    let mut calls = JoinSet::new();
    while let Some(batch) = rx.recv().await {
        while calls.len() >= concurrency {
            if let Some(done) = calls.join_next().await {
                let (batch, resp) = done.context("upsert task failed")??;
                out.absorb(kind, batch, resp);
            }
        }
        calls.spawn(upsert(client.clone(), batch));
    }
    while let Some(done) = calls.join_next().await {
        let (batch, resp) = done.context("upsert task failed")??;
        out.absorb(kind, batch, resp);
    }
    Ok(out)
}

/// One `UpsertBatch` call, retried with backoff while the catalogue is briefly unavailable.
async fn upsert(mut client: ActorCatalogClient<Channel>, batch: Batch) -> anyhow::Result<(Batch, UpsertBatchResponse)> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let request: UpsertBatchRequest = batch.request.clone();
        match client.upsert_batch(request).await {
            Ok(resp) => return Ok((batch, resp.into_inner())),
            Err(status)
                if attempt < ATTEMPTS
                    && matches!(
                        status.code(),
                        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::ResourceExhausted
                    ) =>
            {
                tracing::warn!(attempt, code = ?status.code(), message = status.message(), "upsert failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(status) => {
                let first = batch.lines.first().copied().unwrap_or(0);
                bail!("UpsertBatch of the rows from line {first} failed: {}: {}", status.code(), status.message());
            }
        }
    }
}
