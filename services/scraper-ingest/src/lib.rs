//! The scraper-ingest service: queued imports into the catalogue. Jobs live in its own database
//! (`scrape_jobs`); gRPC `iknow.ingest.v1.Ingest` creates them, each with its first message in the outbox (same
//! transaction); the outbox relay publishes to the `scrape.jobs` queue with publisher confirms; the consumer
//! runs each job (the IMDb dataset import writes through the catalogue's `UpsertBatch`), saving a checkpoint
//! after every batch, retrying failed attempts through delay queues and dead-lettering the ones it gives up.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod config;
pub mod consumer;
pub mod grpc;
pub mod imdb;
pub mod jobs;
pub mod metrics;
pub mod progress;
pub mod store;
pub mod tmdb;
pub mod topology;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use iknow_common::grpc as g;
use iknow_messaging::{Relay, RelayConfig, RelayHandle};
use iknow_proto::ingest::v1::ingest_server::IngestServer;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::Config;

/// The gRPC service name health reports on.
pub const SERVICE_NAME: &str = "iknow.ingest.v1.Ingest";

/// What every worker shares.
pub struct Context {
    pub config: Config,
    pub pool: PgPool,
    pub catalog: catalog::CatalogClient,
    pub relay: RelayHandle,
    /// The TMDB client of every `tmdb_*` job (one request rate for all of them).
    pub tmdb: tmdb::Client,
}

/// The delay before the retry that follows the `failures`-th failed attempt: `retry_base_ms * 2^(failures-1)`
/// at most `retry_max_ms`, then a uniformly random share of it between half and all ("equal jitter"), so jobs
/// that failed together do not all come back at once.
pub fn backoff(config: &Config, failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(30);
    let ceiling = config.retry_base_ms.max(1).saturating_mul(1u64 << exponent).min(config.retry_max_ms.max(1));
    let ms = rand::random_range(ceiling.div_ceil(2)..=ceiling);
    Duration::from_millis(ms)
}

/// Resolves once `stop` says to stop (or its sender is gone).
pub(crate) use iknow_messaging::consume::until_stopped;

/// A built service: database migrated, listener bound; serve it with `run_until*`.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    context: Arc<Context>,
    relay: Relay,
    service: grpc::IngestService,
}

/// Builds the service (the shape `iknow up` calls); same as [`Application::build`].
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    Application::build(config.clone()).await
}

impl Application {
    /// Connects to (and creates when missing) the ingest database, migrates it and binds the listener.
    /// Neither the catalogue nor RabbitMQ is contacted here: a dependency that is down never stops the start.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool =
            iknow_common::db::connect(config.database_url.expose(), config.database_max_connections, "ingest").await?;
        sqlx::migrate!("../../migrations/scraper-ingest").run(&pool).await.context("ingest migrations")?;
        let catalog = catalog::lazy(&config.catalog_url, config.catalog_connect_timeout(), config.catalog_timeout())?;
        let (listener, addr) = g::bind(&config.grpc_addr).await?;
        let relay = Relay::new(pool.clone(), RelayConfig::new(config.amqp_url.clone()));
        let service = grpc::IngestService::new(pool.clone(), relay.handle(), &config);
        let tmdb = tmdb::Client::new(&config).context("TMDB client")?;
        let context = Arc::new(Context { config, pool, catalog, relay: relay.handle(), tmdb });
        Ok(Application { listener, addr, context, relay, service })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The database pool (tests inspect rows with it).
    pub fn pool(&self) -> &PgPool {
        &self.context.pool
    }

    /// Serves until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(iknow_common::shutdown::signal()).await
    }

    /// Serves gRPC, relays the outbox and consumes jobs until `shutdown` resolves; then stops accepting calls,
    /// stops consuming, lets running jobs checkpoint, stops the relay and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let Application { listener, context, relay, service, .. } = self;
        let what = g::Serving {
            name: "scraper-ingest",
            health_name: SERVICE_NAME,
            descriptor: iknow_proto::FILE_DESCRIPTOR_SET,
        };
        let routes = tonic::service::Routes::new(IngestServer::new(service));
        let background = {
            let context = context.clone();
            |stop: watch::Receiver<bool>| async move {
                let consumer = {
                    let (context, stop) = (context.clone(), stop.clone());
                    async move {
                        if context.config.worker_enabled {
                            consumer::run(context, stop).await;
                        }
                    }
                };
                let sampler = metrics::sample_queues(context.config.clone(), stop.clone());
                let relay = relay_when_declared(relay, context.config.clone(), stop);
                tokio::join!(consumer, relay, sampler);
            }
        };
        let served = g::serve(what, listener, routes, shutdown, background).await;
        context.pool.close().await;
        served
    }
}

/// Runs the outbox relay once the queues exist (the default exchange drops a message for a queue that does
/// not), declaring them first, retrying while RabbitMQ is down.
async fn relay_when_declared(relay: Relay, config: Config, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    let mut warned = false;
    loop {
        let declared = tokio::select! {
            declared = topology::declare_once(&config) => declared,
            () = until_stopped(&mut stop) => return,
        };
        match declared {
            Ok(()) => break,
            Err(e) if !warned => {
                warned = true;
                tracing::warn!(error = format!("{e:#}"), "cannot declare the job queues; the outbox waits");
            }
            Err(_) => {}
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = until_stopped(&mut stop) => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    relay.run_until(async move { until_stopped(&mut stop).await }).await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_migration_is_the_shared_table() {
        let sql = include_str!("../../../migrations/scraper-ingest/0002_outbox.sql");
        assert!(sql.contains(iknow_messaging::outbox::MIGRATION_SQL.trim()), "0002 must copy MIGRATION_SQL verbatim");
    }

    #[test]
    fn backoff_doubles_with_jitter_within_bounds() {
        let config = super::Config::for_tests("postgres://x/y", "http://127.0.0.1:1", "p.");
        for failures in 1..=8u32 {
            let ceiling = (100u64 << (failures - 1)).min(1_000);
            for _ in 0..50 {
                let ms = super::backoff(&config, failures).as_millis() as u64;
                assert!(ms >= ceiling / 2 && ms <= ceiling, "{failures}: {ms} outside {}..={ceiling}", ceiling / 2);
            }
        }
    }
}
