//! Binary of the actor-catalog service: load configuration, start telemetry, serve until SIGTERM/ctrl-c.

// A faster allocator than the system's for many small strings (see the workspace Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = iknow_common::config::Settings::load(None)?;
    iknow_common::telemetry::init("actor-catalog", &settings.section("telemetry")?);
    let app = actor_catalog::Application::build(settings.section("catalog")?).await?;
    app.run_until_stopped().await?;
    iknow_common::telemetry::shutdown();
    Ok(())
}
