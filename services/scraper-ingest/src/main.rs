//! Binary of the scraper-ingest service: load configuration, start telemetry, serve until SIGTERM/ctrl-c.

// A faster allocator than the system's for many small strings (see the workspace Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = iknow_common::config::Settings::load(None)?;
    iknow_common::telemetry::init("scraper-ingest", &settings.section("telemetry")?);
    let app = scraper_ingest::build(&settings.section("ingest")?).await?;
    app.run_until_stopped().await?;
    iknow_common::telemetry::shutdown();
    Ok(())
}
