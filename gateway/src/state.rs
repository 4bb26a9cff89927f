//! Shared state of every handler: the downstream gRPC clients (lazy channels, so the gateway starts while
//! services are down), the `/health` probes, the web app's files and the OpenAPI document.

use std::sync::Arc;

use axum::extract::FromRef;
use iknow_common::request_id::Propagate;
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_proto::identity::v1::user_identity_client::UserIdentityClient;
use iknow_proto::library::v1::library_client::LibraryClient as LibraryGrpcClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::config::Config;
use crate::health::Probes;

/// Catalogue client that forwards the current request id.
pub type CatalogClient = ActorCatalogClient<InterceptedService<Channel, Propagate>>;

/// User-identity client that forwards the current request id.
pub type IdentityClient = UserIdentityClient<InterceptedService<Channel, Propagate>>;

/// Library client (watchlist, history) that forwards the current request id.
pub type LibraryClient = LibraryGrpcClient<InterceptedService<Channel, Propagate>>;

/// Handler state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub catalog: CatalogClient,
    pub identity: IdentityClient,
    pub library: LibraryClient,
    /// Token verification and session revocation.
    pub auth: Arc<crate::auth::Authenticator>,
    pub probes: Arc<Probes>,
    /// The web app's files, read at start-up.
    pub web: Arc<crate::web::WebApp>,
    pub openapi: Arc<serde_json::Value>,
    pub rate_limiter: Arc<crate::rate_limit::RateLimiter>,
    /// Days of viewing history a free caller may read (`premium_history_window_days`).
    pub history_window_days: u32,
}

/// A channel that connects on first use, bounded by the configured connect and call deadlines.
pub fn lazy_channel(url: &str, config: &Config) -> anyhow::Result<Channel> {
    lazy_channel_with(url, config, config.downstream_timeout())
}

/// [`lazy_channel`] with its own call deadline.
fn lazy_channel_with(url: &str, config: &Config, timeout: std::time::Duration) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| anyhow::anyhow!("invalid downstream URL {url:?}: {e}"))?
        .connect_timeout(config.connect_timeout())
        .timeout(timeout);
    Ok(endpoint.connect_lazy())
}

impl AppState {
    /// Makes the clients and probes; connects to nothing yet.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let catalog_channel = lazy_channel(&config.catalog_url, config)?;
        let catalog = ActorCatalogClient::with_interceptor(catalog_channel.clone(), Propagate);
        let identity_channel = lazy_channel_with(&config.identity_url, config, config.identity_timeout())?;
        let identity = UserIdentityClient::with_interceptor(identity_channel.clone(), Propagate);
        let library_channel = lazy_channel(&config.library_url, config)?;
        let library = LibraryGrpcClient::with_interceptor(library_channel.clone(), Propagate);
        let services = vec![
            ("catalog", catalog_channel),
            ("identity", identity_channel),
            ("library", library_channel),
            ("ingest", lazy_channel(&config.ingest_url, config)?),
        ];
        let probes = Probes::new(services, config)?;
        Ok(Self {
            catalog,
            identity,
            library,
            auth: Arc::new(crate::auth::Authenticator::new(config)?),
            probes: Arc::new(probes),
            web: Arc::new(crate::web::WebApp::load(&config.web_dir, &config.image_origins)?),
            openapi: Arc::new(crate::openapi::document()),
            rate_limiter: Arc::new(crate::rate_limit::RateLimiter::new(config)?),
            history_window_days: config.premium_history_window_days,
        })
    }
}

impl FromRef<AppState> for Arc<crate::auth::Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}
