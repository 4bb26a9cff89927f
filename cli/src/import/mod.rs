//! `iknow import imdb`: by default a job enqueued on the ingest service and followed to its report
//! ([`queue`]); with `--direct` (and for the sample `iknow up` imports) the dataset streamed into the catalogue
//! from this process. The parsing, reading and sending code is scraper-ingest's ([`scraper_ingest::imdb`]),
//! shared by both paths.

mod bars;
pub mod queue;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use scraper_ingest::catalog::{self, CatalogClient};
use scraper_ingest::imdb::{self, DatasetFiles};

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
#[tracing::instrument(skip_all, fields(dir = %dir.as_ref().display()))]
pub async fn import_imdb(
    dir: impl AsRef<Path>,
    catalog: impl Into<Catalog>,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    DatasetFiles::locate(dir.as_ref()).map_err(anyhow::Error::msg)?;
    let client = catalog.into().connect().await?;
    let options = imdb::Options { batch_size: opts.batch_size, concurrency: opts.concurrency, catalog_tries: TRIES };
    let bars = Arc::new(Bars::new(opts.progress));
    let report = imdb::import_direct(dir.as_ref(), &client, &options, bars.clone()).await;
    bars.finish();
    report
}
