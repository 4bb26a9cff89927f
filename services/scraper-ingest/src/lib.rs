//! Queued imports from IMDb datasets and a TMDB-style API (built by the ingest issue).
//! For now it starts, answers `grpc.health.v1` and reflection, and does nothing else.
#![forbid(unsafe_code)]

use serde::Deserialize;

/// The `[ingest]` configuration section.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the gRPC server binds (port 0 picks a free one).
    pub grpc_addr: String,
}

/// The running service; [`Application::build`] binds, [`Application::run_until_stopped`] serves.
pub type Application = iknow_common::grpc::HealthOnlyApplication;

/// Binds the service's listener.
pub async fn build(config: &Config) -> anyhow::Result<Application> {
    Application::build("scraper-ingest", &config.grpc_addr, iknow_proto::FILE_DESCRIPTOR_SET).await
}
