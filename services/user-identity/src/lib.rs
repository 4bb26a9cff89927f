//! The user-identity service: users, argon2id credentials, access JWTs and rotating refresh-token families,
//! served over gRPC (`iknow.identity.v1.UserIdentity`) with health and reflection.
#![forbid(unsafe_code)]

pub mod config;
pub mod grpc;
pub mod password;
pub mod validate;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use iknow_common::grpc as g;
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
}

/// Builds the service (kept for existing callers); same as [`Application::build`].
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    Application::build(config.clone()).await
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        anyhow::ensure!(!config.jwt_secret.is_empty(), "identity jwt_secret must not be empty");
        let pool = iknow_common::db::connect(&config.database_url, config.database_max_connections, "identity").await?;
        sqlx::migrate!("../../migrations/user-identity").run(&pool).await.context("identity migrations")?;
        let hasher =
            password::Hasher::new(config.argon2_memory_kib, config.argon2_iterations, config.argon2_parallelism)?;
        let (listener, addr) = g::bind(&config.grpc_addr).await?;
        let service = grpc::IdentityService::new(pool.clone(), hasher, &config);
        Ok(Application { listener, addr, pool, service })
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

    /// Serves until `shutdown` resolves, then drains in-flight calls and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let (reporter, health) = g::health();
        reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
        reporter.set_service_status(SERVICE_NAME, tonic_health::ServingStatus::Serving).await;
        let router = g::server()
            .add_service(health)
            .add_service(g::reflection(iknow_proto::FILE_DESCRIPTOR_SET)?)
            .add_service(UserIdentityServer::new(self.service));
        tracing::info!(addr = %self.addr, "user-identity gRPC listening");
        router.serve_with_incoming_shutdown(g::incoming(self.listener), shutdown).await?;
        self.pool.close().await;
        Ok(())
    }
}
