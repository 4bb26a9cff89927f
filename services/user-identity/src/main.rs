//! Binary of the user-identity service: load configuration, start telemetry, serve until SIGTERM/ctrl-c.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = iknow_common::config::Settings::load(None)?;
    iknow_common::telemetry::init("user-identity", &settings.section("telemetry")?);
    let app = user_identity::build(&settings.section("identity")?).await?;
    app.run_until_stopped().await?;
    iknow_common::telemetry::shutdown();
    Ok(())
}
