//! Binary of the user-identity service: load configuration, start telemetry, serve until SIGTERM/ctrl-c.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = iknow_common::config::Settings::load(None)?;
    iknow_common::telemetry::init("user-identity", &settings.section("telemetry")?);
    let config: user_identity::Config = settings.section("identity")?;
    if settings.environment() == "production" && config.jwt_secret == user_identity::config::DEV_JWT_SECRET {
        anyhow::bail!(
            "refusing to start in production with the development JWT secret (set IKNOW__IDENTITY__JWT_SECRET)"
        );
    }
    let app = user_identity::Application::build(config).await?;
    app.run_until_stopped().await?;
    iknow_common::telemetry::shutdown();
    Ok(())
}
