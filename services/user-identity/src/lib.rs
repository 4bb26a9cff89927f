//! The user-identity service: users, argon2id credentials, access JWTs and rotating refresh-token families,
//! email verification, password reset, profile updates and GDPR export/erasure, served over gRPC
//! (`iknow.identity.v1.UserIdentity`) with health and reflection. Mails and events leave through the
//! transactional outbox, published to RabbitMQ by the relay running beside the server; the [`mailer`], also
//! beside it, delivers the mails over SMTP.
#![forbid(unsafe_code)]

pub mod config;
pub mod grpc;
pub mod mailer;
pub mod password;
pub mod store;
pub mod validate;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use iknow_common::grpc as g;
use iknow_messaging::{Relay, RelayConfig};
use iknow_proto::identity::v1::user_identity_server::UserIdentityServer;
use sqlx::PgPool;
use tokio::net::TcpListener;

pub use config::Config;

/// The gRPC service name health reports on.
pub const SERVICE_NAME: &str = "iknow.identity.v1.UserIdentity";

/// A built service: database migrated, listener bound; serve it with `run_until*`.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    pool: PgPool,
    service: grpc::IdentityService,
    relay: Relay,
    mailer: Option<mailer::Mailer>,
}

/// Builds the service (kept for existing callers); same as [`Application::build`].
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    Application::build(config.clone()).await
}

impl Application {
    /// Connects and migrates the database, binds the listener and prepares the outbox relay and, when
    /// enabled, the mailer (RabbitMQ and the SMTP server are connected lazily: they may be down).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        anyhow::ensure!(!config.jwt_secret.is_empty(), "identity jwt_secret must not be empty");
        let pool = iknow_common::db::connect(config.database_url.expose(), config.database_max_connections, "identity")
            .await?;
        sqlx::migrate!("../../migrations/user-identity").run(&pool).await.context("identity migrations")?;
        let hasher =
            password::Hasher::new(config.argon2_memory_kib, config.argon2_iterations, config.argon2_parallelism)?;
        let (listener, addr) = g::bind(&config.grpc_addr).await?;
        let relay = Relay::new(pool.clone(), RelayConfig::new(config.amqp_url.clone()));
        let service = grpc::IdentityService::new(pool.clone(), hasher, relay.handle(), &config);
        let mailer = if config.mailer_enabled { Some(mailer::Mailer::new(&config, pool.clone())?) } else { None };
        Ok(Application { listener, addr, pool, service, relay, mailer })
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

    /// Serves (and runs the outbox relay and the mailer) until `shutdown` resolves, then drains in-flight
    /// calls, stops the relay and the mailer and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let serving = g::Serving {
            name: "user-identity",
            health_name: SERVICE_NAME,
            descriptor: iknow_proto::FILE_DESCRIPTOR_SET,
        };
        let routes = tonic::service::Routes::new(UserIdentityServer::new(self.service));
        let (relay, mailer) = (self.relay, self.mailer);
        let served = g::serve(serving, self.listener, routes, shutdown, |stop| async move {
            let mut relay_stop = stop.clone();
            let relay = relay.run_until(async move {
                let _ = relay_stop.wait_for(|stop| *stop).await;
            });
            match mailer {
                Some(mailer) => {
                    tokio::join!(relay, mailer.run(stop));
                }
                None => relay.await,
            }
        })
        .await;
        self.pool.close().await;
        served
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_outbox_migration_is_the_shared_table() {
        let sql = include_str!("../../../migrations/user-identity/0002_outbox.sql");
        assert!(sql.contains(iknow_messaging::outbox::MIGRATION_SQL.trim()), "0002 must copy MIGRATION_SQL verbatim");
    }
}
