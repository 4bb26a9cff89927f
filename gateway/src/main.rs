//! The gateway binary: load configuration, start telemetry, serve until a signal.

#![forbid(unsafe_code)]

// A faster allocator than the system's for many small strings (see the workspace Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use iknow_common::config::Settings;
use iknow_common::telemetry::{self, TelemetryConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load(None)?;
    let telemetry_config: TelemetryConfig = settings.section("telemetry")?;
    telemetry::init("gateway", &telemetry_config);
    let config: gateway::Config = settings.section("gateway")?;
    iknow_common::token::check_secret(
        config.jwt_secret.expose(),
        &settings.environment(),
        "IKNOW__GATEWAY__JWT_SECRET",
    )?;
    let app = gateway::Application::build(config).await?;
    let result = app.run_until_stopped().await;
    telemetry::shutdown();
    result
}
