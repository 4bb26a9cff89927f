//! The actor-catalog service: actors, titles (movies, series, episodes) and the credits between them, with
//! typo-tolerant search over in-memory indexes and a two-tier (in-process + Redis) read cache.
#![forbid(unsafe_code)]

pub mod akas;
pub mod analyze;
pub mod batch;
pub mod bulk;
pub mod cache;
pub mod config;
pub mod events;
pub mod grpc;
pub mod identify;
pub mod index;
pub mod popularity;
pub mod prepare;
pub mod rows;
pub mod series_cast;
pub mod source;
pub mod store;
pub mod upsert;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use iknow_common::grpc as g;
use iknow_messaging::consume::until_stopped;
use iknow_proto::catalog::v1::actor_catalog_server::ActorCatalogServer;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use config::Config;

/// The gRPC service name health reports on.
pub const SERVICE_NAME: &str = "iknow.catalog.v1.ActorCatalog";

/// A configuration for tests: port 0, the given database and Redis, a small pool.
pub fn config_for_tests(database_url: &str, redis_url: &str, redis_prefix: &str) -> Config {
    Config::for_tests(database_url, redis_url, redis_prefix)
}

/// A built service: database migrated, indexes loaded, listener bound; serve it with `run_until*`.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    pool: PgPool,
    service: grpc::CatalogService,
    relay: iknow_messaging::Relay,
    events: events::Listener,
    indexes: index::Indexes,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool =
            iknow_common::db::connect(config.database_url.expose(), config.database_max_connections, "catalogue")
                .await?;
        sqlx::migrate!("../../migrations/actor-catalog").run(&pool).await.context("catalogue migrations")?;
        // A replica that stopped after a bulk load's swap but before it validated the foreign keys.
        let validating = pool.clone();
        tokio::spawn(async move {
            if let Ok(mut conn) = validating.acquire().await {
                bulk::validate_foreign_keys(&mut conn).await;
            }
        });
        let indexes = index::Indexes::build(&pool).await.context("building the search indexes")?;
        let cache = cache::Cache::new(&config);
        cache.probe().await;
        let (listener, addr) = g::bind(&config.grpc_addr).await?;
        let relay =
            iknow_messaging::Relay::new(pool.clone(), iknow_messaging::RelayConfig::new(config.amqp_url.clone()));
        let announce = events::Announce::new(&config.events_exchange);
        let events = events::Listener {
            amqp_url: config.amqp_url.expose().to_owned(),
            announce: announce.clone(),
            pool: pool.clone(),
            cache: cache.clone(),
            indexes: indexes.clone(),
        };
        let service = grpc::CatalogService::new(pool.clone(), cache, indexes.clone())
            .with_analyzer(analyze::Analyzer::new(config.analyze_after_rows))
            .with_events(announce, relay.handle());
        Ok(Application { listener, addr, pool, service, relay, events, indexes })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

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

    /// Serves until `shutdown` resolves beside the outbox relay, the events listener and the index compactor;
    /// then drains in-flight calls, stops those and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let Application { listener, pool, service, relay, events, indexes, .. } = self;
        let resolvers = service.resolvers();
        let routes = Routes::new(ActorCatalogServer::new(service).max_decoding_message_size(64 * 1024 * 1024));
        let what = g::Serving {
            name: "actor-catalog",
            health_name: SERVICE_NAME,
            descriptor: iknow_proto::FILE_DESCRIPTOR_SET,
        };
        let served = g::serve(what, listener, routes, shutdown, |stop| async move {
            let mut relay_stop = stop.clone();
            let relay = relay.run_until(async move { until_stopped(&mut relay_stop).await });
            let compactor = index::compactor(indexes, move || resolvers.staging(), stop.clone());
            tokio::join!(relay, events::run(events, stop), compactor);
        })
        .await;
        pool.close().await;
        served
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_migration_is_the_shared_table() {
        let sql = include_str!("../../../migrations/actor-catalog/0002_outbox.sql");
        assert!(sql.contains(iknow_messaging::outbox::MIGRATION_SQL.trim()), "0002 must copy MIGRATION_SQL verbatim");
    }
}
