//! The `[gateway]` configuration section.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Where the gateway listens, where its downstream services are, and how long it waits for them.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the HTTP server binds (port 0 picks a free one).
    pub http_addr: String,
    /// gRPC URL of the actor-catalog service.
    pub catalog_url: String,
    /// gRPC URL of the user-identity service.
    pub identity_url: String,
    /// gRPC URL of the library service.
    pub library_url: String,
    /// gRPC URL of the scraper-ingest service.
    pub ingest_url: String,
    /// Deadline of one downstream call, in milliseconds.
    pub downstream_timeout_ms: u64,
    /// Deadline of opening a connection to a downstream service, in milliseconds.
    pub connect_timeout_ms: u64,
    /// PostgreSQL checked by `/health`.
    pub database_url: String,
    /// Redis checked by `/health`.
    pub redis_url: String,
    /// RabbitMQ checked by `/health`.
    pub amqp_url: String,
    /// Directory of the web app's static files, served at `/`.
    pub web_dir: PathBuf,
}

impl Config {
    pub fn downstream_timeout(&self) -> Duration {
        Duration::from_millis(self.downstream_timeout_ms)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}
