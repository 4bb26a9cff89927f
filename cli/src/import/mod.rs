//! `iknow import imdb`: by default a job enqueued on the ingest service and followed to its report
//! ([`queue`]); with `--direct` (and for the sample `iknow up` imports) the dataset streamed into the catalogue
//! from this process. The parsing, reading and sending code is scraper-ingest's ([`scraper_ingest::imdb`]),
//! shared by both paths.

mod bars;
pub mod queue;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scraper_ingest::catalog::{self, CatalogClient};
use scraper_ingest::imdb::{self, DatasetFiles};
use scraper_ingest::progress::{Observer, Progress};

pub use bars::{Bars, stdout_is_terminal};
pub use scraper_ingest::imdb::{FileReport, ImportReport, MAX_LISTED, Rejection, Rejections, parse};

/// Deadline of one `UpsertBatch` call.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Deadline of connecting to the catalogue.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries of one batch when the catalogue is briefly unavailable.
const TRIES: u32 = 4;

/// How a direct import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Rows per `UpsertBatch` call.
    pub batch_size: usize,
    /// `UpsertBatch` calls in flight at once.
    pub concurrency: usize,
    /// Draw progress bars (otherwise a progress line is logged every few seconds).
    pub progress: bool,
    /// Bulk-load the credits when the catalogue has none yet (otherwise always `UpsertBatch`).
    pub bulk: bool,
    /// Credits per `StageCredits` call of a bulk load.
    pub bulk_chunk: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { batch_size: 10_000, concurrency: 3, progress: stdout_is_terminal(), bulk: true, bulk_chunk: 20_000 }
    }
}

/// Where the rows go: a catalogue URL to connect to, or a client already connected.
#[derive(Debug, Clone)]
pub enum Catalog {
    Url(String),
    Client(CatalogClient),
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

impl From<CatalogClient> for Catalog {
    fn from(client: CatalogClient) -> Self {
        Self::Client(client)
    }
}

impl Catalog {
    async fn connect(self) -> anyhow::Result<CatalogClient> {
        match self {
            Self::Client(c) => Ok(c),
            Self::Url(url) => catalog::connect(&url, CONNECT_TIMEOUT, CALL_TIMEOUT).await,
        }
    }
}

/// Whether the catalogue already holds the first title of `dir`'s `title.basics`, asked by upserting it
/// (idempotent: the import would write it anyway). False when the file has no parsable first title.
pub async fn first_title_present(dir: impl AsRef<Path>, catalog: impl Into<Catalog>) -> anyhow::Result<bool> {
    DatasetFiles::locate(dir.as_ref()).map_err(anyhow::Error::msg)?;
    let client = catalog.into().connect().await?;
    imdb::first_title_present(dir.as_ref(), &client).await
}

/// Imports the IMDb dataset files of `dir` into the catalogue from this process and reports what happened
/// per file. Bad lines are counted and reported, never fatal; a missing file, an unreachable catalogue or a
/// batch the catalogue keeps failing is an error.
pub async fn import_imdb(
    dir: impl AsRef<Path>,
    catalog: impl Into<Catalog>,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    Ok(import_imdb_timed(dir, catalog, opts).await?.0)
}

/// [`import_imdb`], also saying when each pass over a file began (seconds after the start, in order).
#[tracing::instrument(skip_all, fields(dir = %dir.as_ref().display()))]
pub async fn import_imdb_timed(
    dir: impl AsRef<Path>,
    catalog: impl Into<Catalog>,
    opts: &ImportOptions,
) -> anyhow::Result<(ImportReport, Vec<(String, f64)>)> {
    DatasetFiles::locate(dir.as_ref()).map_err(anyhow::Error::msg)?;
    let client = catalog.into().connect().await?;
    let options = imdb::Options {
        batch_size: opts.batch_size,
        concurrency: opts.concurrency,
        catalog_tries: TRIES,
        // A fresh load id per run: a first import (the catalogue has no credits) is a bulk load.
        bulk_load_id: opts.bulk.then(|| iknow_common::id::new().to_string()),
        bulk_chunk: opts.bulk_chunk,
    };
    let bars = Arc::new(Bars::new(opts.progress));
    let phases = Arc::new(Phases { inner: bars.clone(), started: Instant::now(), firsts: Mutex::default() });
    let report = imdb::import_direct(dir.as_ref(), &client, &options, phases.clone()).await;
    bars.finish();
    let passes = phases.firsts.lock().map(|f| f.clone()).unwrap_or_default();
    Ok((report?, passes))
}

/// When each pass over a file began (seconds after the import started), for the final report.
struct Phases {
    inner: Arc<Bars>,
    started: Instant,
    firsts: Mutex<Vec<(String, f64)>>,
}

impl Observer for Phases {
    fn progress(&self, p: &Progress) {
        if let Ok(mut firsts) = self.firsts.lock()
            && !firsts.iter().any(|(file, _)| *file == p.file)
        {
            firsts.push((p.file.clone(), self.started.elapsed().as_secs_f64()));
        }
        self.inner.progress(p);
    }
}

/// Peak resident memory of this process so far (Linux VmHWM), in MiB; 0 where unknown.
pub fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
