//! Binary of the user-identity service: load configuration, start telemetry, serve until SIGTERM/ctrl-c.

// A faster allocator than the system's for many small strings (see the workspace Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = iknow_common::config::Settings::load(None)?;
    iknow_common::telemetry::init("user-identity", &settings.section("telemetry")?);
    let config: user_identity::Config = settings.section("identity")?;
    iknow_common::token::check_secret(
        config.jwt_secret.expose(),
        &settings.environment(),
        "IKNOW__IDENTITY__JWT_SECRET",
    )?;
    let app = user_identity::Application::build(config).await?;
    app.run_until_stopped().await?;
    iknow_common::telemetry::shutdown();
    Ok(())
}
