//! Shared test plumbing: a real catalogue on port 0 over a fresh database, and temporary fixture dirs.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use iknow::import::{ImportOptions, ImportReport};
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_testkit::TestDb;
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// The bundled sample dataset.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sample/imdb")
}

/// A running actor-catalog over its own database, stopped when dropped.
pub struct TestCatalog {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    _db: TestDb,
}

impl TestCatalog {
    pub async fn spawn() -> Self {
        iknow_common::telemetry::init_for_tests();
        let db = TestDb::new().await;
        let prefix = iknow_testkit::unique_prefix("cli");
        let config = actor_catalog::Config::for_tests(&db.url, &iknow_testkit::redis_url(), &prefix);
        let app = actor_catalog::Application::build(config).await.expect("catalogue starts");
        let url = format!("http://{}", app.addr());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self { url, stop: Some(stop), _db: db }
    }

    pub async fn client(&self) -> ActorCatalogClient<Channel> {
        ActorCatalogClient::connect(self.url.clone()).await.expect("connect to the catalogue")
    }

    pub async fn import(&self, dir: &Path) -> ImportReport {
        iknow::import::import_imdb(dir, self.url.as_str(), &options()).await.expect("import runs")
    }
}

impl Drop for TestCatalog {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Small batches so the fixtures and the sample exercise several batches in flight.
pub fn options() -> ImportOptions {
    ImportOptions { batch_size: 500, concurrency: 3, progress: false }
}

/// A temporary directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("iknow-cli-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` with the given lines (each ends in a newline).
    pub fn write(&self, name: &str, lines: &[&str]) -> PathBuf {
        let path = self.0.join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Writes `name` (ending in .gz) as the gzip of the given bytes.
    pub fn write_gz(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const TITLE_HEADER: &str =
    "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres";
pub const NAME_HEADER: &str = "nconst\tprimaryName\tbirthYear\tdeathYear\tprimaryProfession\tknownForTitles";
pub const PRINCIPAL_HEADER: &str = "tconst\tordering\tnconst\tcategory\tjob\tcharacters";
pub const EPISODE_HEADER: &str = "tconst\tparentTconst\tseasonNumber\tepisodeNumber";
