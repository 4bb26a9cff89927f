//! Shared test plumbing: a real catalogue on port 0 over a fresh database, and temporary fixture dirs.

use std::path::Path;

use iknow::import::{ImportOptions, ImportReport};
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_testkit::TestDb;
use tokio::sync::oneshot;
use tonic::transport::Channel;

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
    ImportOptions { batch_size: 500, concurrency: 3, progress: false, bulk: true, bulk_chunk: 1_000 }
}

pub use iknow_testkit::dataset::{EPISODE_HEADER, NAME_HEADER, PRINCIPAL_HEADER, TITLE_HEADER, TempDir, sample_dir};
