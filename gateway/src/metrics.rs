//! HTTP metrics: a middleware recording `http_request_duration_seconds` and `http_requests_total`
//! `{method,route,status_code}` (route = the matched route template, or `unmatched`), and `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Records one request's duration and count.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let labels = [("method", method), ("route", route), ("status_code", response.status().as_u16().to_string())];
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    metrics::counter!("http_requests_total", &labels).increment(1);
    response
}

/// Prometheus text exposition of every metric of the process.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
pub async fn render() -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], iknow_common::metrics::prometheus().render())
}
