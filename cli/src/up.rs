//! `iknow up`: the whole platform in one process — the catalogue, identity, library, the ingest service (its
//! gRPC and job consumer) and the gateway, wired to each other's bound addresses, with one shutdown signal
//! fanned out to all — and the sample import (direct, without the queue).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use iknow_common::config::Settings;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::import::{self, ImportOptions};

/// The sample dataset as laid out in the repository.
pub const SAMPLE_RELATIVE: &str = "data/sample/imdb";

/// The repository root this binary was built from, for files looked up relative to it.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The sample to import: `explicit` when given, else `data/sample/imdb` under the working directory, else
/// under the repository the binary was built from.
pub fn resolve_sample_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    [PathBuf::from(SAMPLE_RELATIVE), repo_root().join(SAMPLE_RELATIVE)].into_iter().find(|p| p.is_dir())
}

type ServiceResult = (&'static str, anyhow::Result<()>);

/// Every service of the platform running as tasks of this process.
pub struct Platform {
    /// Base URL of the gateway (`http://127.0.0.1:3000`).
    pub gateway_url: String,
    /// gRPC URL of the catalogue.
    pub catalog_url: String,
    /// gRPC URL of the ingest service (`iknow import imdb --ingest`).
    pub ingest_url: String,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<ServiceResult>,
}

impl Platform {
    /// Starts the catalogue (creating its database and running migrations), the other services (the ingest
    /// workers pointed at the catalogue), then the gateway pointed at the addresses they actually bound, so
    /// port 0 works everywhere.
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        let (shutdown, _) = watch::channel(false);
        let mut platform = Self {
            gateway_url: String::new(),
            catalog_url: String::new(),
            ingest_url: String::new(),
            shutdown,
            tasks: JoinSet::new(),
        };
        match platform.start_all(settings).await {
            Ok(()) => Ok(platform),
            Err(e) => {
                let _ = platform.shutdown().await;
                Err(e)
            }
        }
    }

    async fn start_all(&mut self, settings: &Settings) -> anyhow::Result<()> {
        // Both ends of the access token refuse a development secret in production, before anything starts.
        let environment = settings.environment();
        for (section, variable) in
            [("identity", "IKNOW__IDENTITY__JWT_SECRET"), ("gateway", "IKNOW__GATEWAY__JWT_SECRET")]
        {
            let secret: String =
                settings.section(&format!("{section}.jwt_secret")).with_context(|| format!("[{section}]"))?;
            iknow_common::token::check_secret(&secret, &environment, variable)?;
        }
        let catalog = actor_catalog::Application::build(settings.section("catalog").context("[catalog]")?)
            .await
            .context("starting actor-catalog")?;
        let catalog_addr = catalog.addr();
        self.spawn("actor-catalog", |stop| catalog.run_until(stop));

        let identity = user_identity::build(&settings.section("identity").context("[identity]")?)
            .await
            .context("starting user-identity")?;
        let identity_addr = identity.addr();
        self.spawn("user-identity", |stop| identity.run_until(stop));

        let library_settings =
            settings.clone().with_override("library.catalog_url", format!("http://{catalog_addr}"))?;
        let library = library::build(&library_settings.section("library").context("[library]")?)
            .await
            .context("starting library")?;
        let library_addr = library.addr();
        self.spawn("library", |stop| library.run_until(stop));

        let ingest_settings = settings.clone().with_override("ingest.catalog_url", format!("http://{catalog_addr}"))?;
        let ingest = scraper_ingest::build(&ingest_settings.section("ingest").context("[ingest]")?)
            .await
            .context("starting scraper-ingest")?;
        let ingest_addr = ingest.addr();
        self.spawn("scraper-ingest", |stop| ingest.run_until(stop));

        let url = |addr: SocketAddr| format!("http://{addr}");
        let mut wired = settings
            .clone()
            .with_override("gateway.catalog_url", url(catalog_addr))?
            .with_override("gateway.identity_url", url(identity_addr))?
            .with_override("gateway.library_url", url(library_addr))?
            .with_override("gateway.ingest_url", url(ingest_addr))?;
        let mut gateway_config: gateway::Config = wired.section("gateway").context("[gateway]")?;
        if gateway_config.web_dir.is_relative() && !gateway_config.web_dir.exists() {
            let in_repo = repo_root().join(&gateway_config.web_dir);
            if in_repo.exists() {
                wired = wired.with_override("gateway.web_dir", in_repo.to_string_lossy().into_owned())?;
                gateway_config = wired.section("gateway")?;
            }
        }
        let host = gateway_config
            .http_addr
            .parse::<SocketAddr>()
            .map(|a| if a.ip().is_unspecified() { "127.0.0.1".to_string() } else { a.ip().to_string() })
            .unwrap_or_else(|_| "127.0.0.1".into());
        let gateway = gateway::Application::build(gateway_config).await.context("starting the gateway")?;
        self.gateway_url = format!("http://{host}:{}", gateway.port());
        self.spawn("gateway", |stop| gateway.run_until(stop));

        self.catalog_url = url(catalog_addr);
        self.ingest_url = url(ingest_addr);
        Ok(())
    }

    fn spawn<F>(&mut self, name: &'static str, run: impl FnOnce(ShutdownSignal) -> F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let mut rx = self.shutdown.subscribe();
        let stop: ShutdownSignal = Box::pin(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        });
        let fut = run(stop);
        self.tasks.spawn(async move { (name, fut.await) });
    }

    /// Resolves when a service stops by itself (which only happens on an error): its name and result.
    pub async fn stopped(&mut self) -> ServiceResult {
        match self.tasks.join_next().await {
            Some(Ok(done)) => done,
            Some(Err(e)) => ("a service", Err(anyhow::anyhow!("service task failed: {e}"))),
            None => std::future::pending().await,
        }
    }

    /// Signals every service to stop and waits for them to drain; the first failure is returned.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let mut first_error = None;
        while let Some(done) = self.tasks.join_next().await {
            let (name, result) = done.unwrap_or_else(|e| ("a service", Err(anyhow::anyhow!("task failed: {e}"))));
            match result {
                Ok(()) => tracing::info!(service = name, "stopped"),
                Err(e) => {
                    tracing::error!(service = name, error = %format!("{e:#}"), "stopped with an error");
                    first_error.get_or_insert(e.context(format!("{name} failed")));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The future every service is given to know when to stop.
pub type ShutdownSignal = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Options of `iknow up`.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// Configuration file layered over the defaults.
    pub config: Option<PathBuf>,
    /// Skip the sample import.
    pub no_import: bool,
    /// The IMDb sample to import when the catalogue lacks it.
    pub sample_dir: Option<PathBuf>,
}

/// Imports the sample unless the catalogue already holds it. Whether it does is asked by upserting the
/// sample's first title (idempotent): unchanged means the sample was imported before.
pub async fn import_sample_if_missing(catalog_url: &str, dir: &Path) -> anyhow::Result<Option<import::ImportReport>> {
    if import::first_title_present(dir, catalog_url).await? {
        tracing::info!(dir = %dir.display(), "the catalogue already holds the sample; not importing");
        return Ok(None);
    }
    tracing::info!(dir = %dir.display(), "importing the sample into the catalogue");
    let report = import::import_imdb(dir, catalog_url, &ImportOptions::default()).await?;
    Ok(Some(report))
}

fn init_telemetry(settings: &Settings, explicit_file: bool) -> anyhow::Result<()> {
    let mut telemetry: iknow_common::telemetry::TelemetryConfig = settings.section("telemetry")?;
    let configured = explicit_file
        || std::env::var_os(iknow_common::config::CONFIG_FILE_ENV).is_some()
        || std::env::var_os("IKNOW__TELEMETRY__LOG_FORMAT").is_some();
    if !configured && import::stdout_is_terminal() {
        telemetry.log_format = "pretty".into();
    }
    iknow_common::telemetry::init("iknow", &telemetry);
    Ok(())
}

/// Runs the platform until ctrl-c or SIGTERM (or until a service fails), then stops everything.
pub async fn run(opts: UpOptions) -> anyhow::Result<()> {
    let settings = Settings::load(opts.config.as_deref()).context("loading configuration")?;
    init_telemetry(&settings, opts.config.is_some())?;
    let mut platform = Platform::start(&settings).await?;
    let catalog_url = platform.catalog_url.clone();
    let ready = async {
        if opts.no_import {
            return;
        }
        match resolve_sample_dir(opts.sample_dir.as_deref()) {
            None => tracing::warn!("no sample dataset found (use --sample DIR); not importing"),
            Some(dir) => match import_sample_if_missing(&catalog_url, &dir).await {
                Ok(Some(report)) => {
                    print!("{report}");
                    for e in report.errors() {
                        tracing::warn!(error = e, "the sample import was incomplete");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "the sample import failed"),
            },
        }
    };
    let (gateway_url, ingest_url) = (platform.gateway_url.clone(), platform.ingest_url.clone());
    let outcome = tokio::select! {
        () = async {
            ready.await;
            println!("I Know is up: {gateway_url} (API /api/v1, docs /docs, health /health); imports: {ingest_url}");
            iknow_common::shutdown::signal().await;
        } => None,
        failed = platform.stopped() => Some(failed),
    };
    let failed = match outcome {
        Some((name, result)) => {
            let e = result.err().unwrap_or_else(|| anyhow::anyhow!("stopped unexpectedly"));
            tracing::error!(service = name, error = %format!("{e:#}"), "a service stopped; shutting down");
            Some(e.context(format!("{name} stopped")))
        }
        None => None,
    };
    tracing::info!("shutting down");
    let stopped = platform.shutdown().await;
    match failed {
        Some(e) => Err(e),
        None => stopped,
    }
}
