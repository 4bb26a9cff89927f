//! Spawning the ingest service against a real catalogue (each on a fresh database, the catalogue behind a TCP
//! proxy a test can cut), with queues under a per-test prefix; fixtures and small assertions.

use std::path::Path;

use iknow_proto::ingest::v1::{self as pb, ingest_client::IngestClient};
use iknow_testkit::{TcpProxy, TestDb};
use lapin::options::BasicGetOptions;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// A running actor-catalog over its own database, reached through a proxy; stopped when dropped.
pub struct TestCatalog {
    pub proxy: TcpProxy,
    /// The catalogue's database (tests count its rows).
    pub pool: PgPool,
    stop: Option<oneshot::Sender<()>>,
    _db: TestDb,
}

impl TestCatalog {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let config = actor_catalog::config_for_tests(
            &db.url,
            &iknow_testkit::redis_url(),
            &iknow_testkit::unique_prefix("ingest"),
        );
        let app = actor_catalog::Application::build(config).await.expect("the catalogue builds");
        let (addr, pool) = (app.addr(), app.pool().clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Self { proxy: TcpProxy::start(addr).await, pool, stop: Some(stop), _db: db }
    }

    /// The catalogue's URL through the proxy.
    pub fn url(&self) -> String {
        self.proxy.url("http")
    }

    /// Rows of a catalogue table.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&self.pool).await.unwrap()
    }
}

impl Drop for TestCatalog {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The ingest service's database and queues of one test (deleted when dropped), and the catalogue it writes to.
pub struct Env {
    pub catalog: TestCatalog,
    pub config: scraper_ingest::Config,
    /// The ingest database, for assertions.
    pub pool: PgPool,
    _db: TestDb,
}

impl Env {
    pub async fn new() -> Self {
        iknow_common::telemetry::init_for_tests();
        let catalog = TestCatalog::spawn().await;
        let db = TestDb::new().await;
        let prefix = iknow_testkit::unique_prefix("ingest");
        let config = scraper_ingest::Config::for_tests(&db.url, &catalog.url(), &prefix);
        let pool = PgPool::connect(&db.url).await.unwrap();
        Self { catalog, config, pool, _db: db }
    }

    /// Starts the service with this test's configuration.
    pub async fn start(&self) -> Running {
        Running::start(self.config.clone()).await
    }

    /// The job's row state and attempts, straight from the database.
    pub async fn state(&self, id: &str) -> (String, i32) {
        sqlx::query_as("SELECT state, attempts FROM scrape_jobs WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Straight to the shared broker: a test's proxy in front of it cannot forward while its runtime waits here.
        let config = scraper_ingest::Config { amqp_url: iknow_testkit::amqp_url().into(), ..self.config.clone() };
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            let _ = rt.block_on(scraper_ingest::topology::delete_all(&config));
        })
        .join();
    }
}

/// A running ingest service.
pub struct Running {
    pub client: IngestClient<Channel>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    pub async fn start(config: scraper_ingest::Config) -> Self {
        let app = scraper_ingest::Application::build(config).await.expect("the ingest service builds");
        let url = format!("http://{}", app.addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let client = IngestClient::connect(url).await.expect("the ingest service answers");
        Self { client, stop: Some(stop), task: Some(task) }
    }

    /// Stops it as SIGTERM would, and waits until it has (running jobs checkpoint first).
    pub async fn stop(mut self) {
        drop(self.stop.take());
        if let Some(task) = self.task.take() {
            task.await.expect("the service task").expect("the service stops cleanly");
        }
    }

    /// Kills it: no checkpoint, no lease given up, no message handed back (the caller cuts its broker
    /// connection, as a dead process's would be).
    pub async fn kill(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn enqueue(&self, dir: &Path) -> pb::Job {
        let request = pb::EnqueueImdbDatasetRequest { dir: dir.to_string_lossy().into_owned() };
        self.client.clone().enqueue_imdb_dataset(request).await.expect("enqueued").into_inner()
    }

    pub async fn job(&self, id: &str) -> pb::Job {
        self.client.clone().get_job(pb::GetJobRequest { id: id.into() }).await.expect("the job").into_inner()
    }

    /// Waits until the job is in `state` (or fails the test when it ends in another final state).
    pub async fn wait_for(&self, id: &str, state: &str, secs: u64) -> pb::Job {
        iknow_testkit::eventually(secs, || async {
            let job = self.job(id).await;
            if job.state != state && matches!(job.state.as_str(), "succeeded" | "dead") {
                panic!("job ended {} instead of {state}: {job:#?}", job.state);
            }
            (job.state == state).then_some(job)
        })
        .await
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

/// The report of one file of a job (by the start of its name).
pub fn file<'a>(job: &'a pb::Job, stem: &str) -> &'a pb::FileReport {
    job.files.iter().find(|f| f.file.starts_with(stem)).unwrap_or_else(|| panic!("no {stem} in {job:#?}"))
}

/// (rows_read, written, unchanged, rejected, skipped) of a file.
pub fn counts(f: &pb::FileReport) -> (u64, u64, u64, u64, u64) {
    (f.rows_read, f.written, f.unchanged, f.rejected, f.skipped)
}

/// The next message of `queue`, waiting up to 30 s for it (the relay publishes right after the commit).
pub async fn next_message(queue: &str) -> lapin::message::BasicGetMessage {
    let conn = lapin::Connection::connect(&iknow_testkit::amqp_url(), lapin::ConnectionProperties::default())
        .await
        .expect("RabbitMQ must be running");
    let channel = conn.create_channel().await.unwrap();
    let message = iknow_testkit::eventually(30, || {
        let channel = channel.clone();
        async move { channel.basic_get(queue.into(), BasicGetOptions { no_ack: true }).await.unwrap() }
    })
    .await;
    let _ = conn.close(200, "OK".into()).await;
    message
}

/// The address of the shared RabbitMQ (to put a proxy in front of it).
pub use iknow_testkit::amqp::broker_addr as amqp_addr;
pub use iknow_testkit::dataset::{NAME_HEADER, PRINCIPAL_HEADER, TITLE_HEADER, TempDir, sample_dir};

/// A generated dataset: `titles` movies, 100 actors, one acting credit per title (actor `i % 100`).
pub fn generated(titles: usize) -> TempDir {
    let dir = TempDir::new("ingest");
    let mut basics = vec![TITLE_HEADER.to_owned()];
    let mut principals = vec![PRINCIPAL_HEADER.to_owned()];
    for i in 1..=titles {
        basics.push(format!("tt{i:07}\tmovie\tGenerated {i}\tGenerated {i}\t0\t2000\t\\N\t90\tDrama"));
        principals.push(format!("tt{i:07}\t1\tnm{:07}\tactor\t\\N\t[\"Role {i}\"]", i % 100 + 1));
    }
    let names: Vec<String> = std::iter::once(NAME_HEADER.to_owned())
        .chain((1..=100).map(|n| format!("nm{n:07}\tActor {n}\t1970\t\\N\tactor\t\\N")))
        .collect();
    fn lines(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    dir.write("title.basics.tsv", &lines(&basics));
    dir.write("name.basics.tsv", &lines(&names));
    dir.write("title.principals.tsv", &lines(&principals));
    dir
}
