//! The public edge of I Know: REST `/api/v1` over the gRPC services, with request ids, the response
//! envelope, health, metrics, OpenAPI docs and the web app's static files.
#![forbid(unsafe_code)]

pub mod account;
pub mod auth;
pub mod body;
pub mod config;
pub mod dto;
pub mod envelope;
pub mod extract;
pub mod filmography;
pub mod health;
pub mod images;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod state;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use http::Method;
use tokio::net::TcpListener;

pub use config::Config;
pub use middleware::layered;
pub use state::AppState;

use envelope::ApiError;

/// Served at `/` when there is no web app to serve.
const LANDING: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>I Know</title></head>\
<body><h1>I Know</h1><p>The web app is not installed. See the <a href=\"/docs\">API documentation</a>.</p></body></html>";

/// Every route of the gateway, wrapped in its middleware.
pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request records anything.
    iknow_common::metrics::prometheus();
    let routes = Router::new()
        .nest("/api/v1", routes::api())
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::render))
        .route("/docs", get(openapi::docs))
        .fallback(fallback)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.rate_limiter.clone(), rate_limit::enforce))
        // Outside the limiter, so that it counts an authenticated caller per user.
        .layer(axum::middleware::from_fn_with_state(state.auth.clone(), auth::authenticate));
    layered(routes).with_state(state)
}

/// Unknown API paths are envelope 404s; anything else is a file of the web app (see [`web`]), or the app's
/// `index.html` for a client route (a path whose last segment has no dot), or a landing page at `/` without an app.
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    let method = req.method().clone();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::route_not_found(path).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return middleware::method_not_allowed(method).await;
    }
    if let Some(response) = state.web.respond(&method, path, req.headers()) {
        return response;
    }
    if path == "/" && !state.web.has_index() {
        let mut response = Html(LANDING).into_response();
        state.web.html_headers(response.headers_mut());
        return response;
    }
    ApiError::route_not_found(path).into_response()
}

/// The running gateway: [`Application::build`] binds, [`Application::run_until_stopped`] serves.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: Router,
}

impl Application {
    /// Binds the HTTP listener and makes lazy downstream clients: the gateway starts even when every service
    /// is down, and answers 503 for what needs them.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let state = AppState::new(&config)?;
        let (listener, addr) = iknow_common::grpc::bind(&config.http_addr).await?;
        Ok(Self { listener, addr, router: router(state) })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until ctrl-c or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(iknow_common::shutdown::signal()).await
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "HTTP listening");
        axum::serve(
            self.listener.tap_io(|tcp| {
                // Without it a response split in two segments waits for the client's delayed ACK (~40 ms).
                let _ = tcp.set_nodelay(true);
            }),
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        Ok(())
    }
}
