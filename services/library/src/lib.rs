//! The library service: each user's watchlist and viewing history in its own database, served over gRPC
//! (`iknow.library.v1.Library`) with health and reflection, plus the consumer that erases a user's rows when
//! user-identity announces `user.deleted`, and the listener of `catalog.events` that keeps the cached casts of
//! familiar faces true.
#![forbid(unsafe_code)]

pub mod casts;
pub mod catalog;
pub mod catalog_events;
pub mod config;
pub mod consumer;
pub mod grpc;
pub mod insights;
pub mod seen;
pub mod store;
pub mod validate;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use iknow_common::grpc as g;
use iknow_proto::library::v1::library_server::LibraryServer;
use sqlx::PgPool;
use tokio::net::TcpListener;

pub use config::Config;
pub use grpc::{EXISTING_ITEM_METADATA, existing_item};

/// The gRPC service name health reports on.
pub const SERVICE_NAME: &str = "iknow.library.v1.Library";

/// A built service: database migrated, listener bound; serve it with `run_until*`.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    pool: PgPool,
    config: Config,
    service: grpc::LibraryService,
    casts: casts::CastCache,
}

/// Builds the service (kept for existing callers); same as [`Application::build`].
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    Application::build(config.clone()).await
}

impl Application {
    /// Connects to (and creates when missing) the library database, migrates it and binds the listener.
    /// Neither the catalogue nor RabbitMQ is contacted here: a dependency that is down never stops the start.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool =
            iknow_common::db::connect(config.database_url.expose(), config.database_max_connections, "library").await?;
        sqlx::migrate!("../../migrations/library").run(&pool).await.context("library migrations")?;
        let catalog = catalog::Catalog::new(&config)?;
        let (listener, addr) = g::bind(&config.grpc_addr).await?;
        let casts = casts::CastCache::new(catalog.clone());
        let service = grpc::LibraryService::new(pool.clone(), catalog, casts.clone());
        Ok(Application { listener, addr, pool, config, service, casts })
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
        &self.pool
    }

    /// Serves until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(iknow_common::shutdown::signal()).await
    }

    /// Serves (and consumes `user.deleted` and `catalog.events`) until `shutdown` resolves, then drains
    /// in-flight calls, stops the consumers and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let serving =
            g::Serving { name: "library", health_name: SERVICE_NAME, descriptor: iknow_proto::FILE_DESCRIPTOR_SET };
        let routes = tonic::service::Routes::new(LibraryServer::new(self.service));
        let (config, pool, casts) = (self.config, self.pool.clone(), self.casts);
        let served = g::serve(serving, self.listener, routes, shutdown, |stop| async move {
            let (amqp, exchange) = (config.amqp_url.clone(), config.catalog_events_exchange.clone());
            tokio::join!(consumer::run(config, pool, stop.clone()), catalog_events::run(amqp, exchange, casts, stop));
        })
        .await;
        self.pool.close().await;
        served
    }
}
