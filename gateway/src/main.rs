//! The gateway binary: load configuration, start telemetry, serve until a signal.
#![forbid(unsafe_code)]

use iknow_common::config::Settings;
use iknow_common::telemetry::{self, TelemetryConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load(None)?;
    let telemetry_config: TelemetryConfig = settings.section("telemetry")?;
    telemetry::init("gateway", &telemetry_config);
    let app = gateway::Application::build(settings.section("gateway")?).await?;
    let result = app.run_until_stopped().await;
    telemetry::shutdown();
    result
}
