//! The layers around every route: request id (kept or made, scoped, echoed), tracing span, metrics, panic
//! catching, global deadline, body limit and CORS — plus the envelope 404/405 answers.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode};
use iknow_common::Error;
use iknow_common::request_id::{CURRENT, HEADER, is_acceptable};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any as AnyOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::envelope::{ApiError, RequestContext, error_response};

/// Longest a request may take end to end (downstream calls have their own, shorter deadline).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Keeps an acceptable `X-Request-ID` or makes one, runs the request with it as the task's current id (so
/// gRPC clients forward it) and echoes it on the response, whatever the response is.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| iknow_common::id::new().to_string());
    let header = HeaderValue::from_str(&id).expect("acceptable ids are valid header values");
    req.headers_mut().insert(HEADER, header.clone());
    req.extensions_mut().insert(RequestContext::new(id.clone()));
    let mut response = CURRENT.scope(id, next.run(req)).await;
    response.headers_mut().insert(HEADER, header);
    response
}

/// Answers 503 when a request outlives [`REQUEST_TIMEOUT`] instead of holding the client, and turns the body
/// limit's plain-text 413 into the envelope.
async fn deadline(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("Request bodies are limited to {BODY_LIMIT} bytes"),
        ),
        Ok(r) => r,
        Err(_) => ApiError(Error::unavailable("The request took too long")).into_response(),
    }
}

fn make_span(req: &Request<Body>) -> tracing::Span {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
    let id = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("http", method = %req.method(), route = %route, request_id = %id)
}

#[derive(Clone, Copy)]
struct PanicToEnvelope;

impl tower_http::catch_panic::ResponseForPanic for PanicToEnvelope {
    type ResponseBody = Body;

    fn response_for_panic(&mut self, err: Box<dyn Any + Send + 'static>) -> http::Response<Body> {
        let detail = err
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "unknown panic".into());
        ApiError(Error::internal(anyhow::anyhow!("handler panicked: {detail}"))).into_response()
    }
}

/// Wraps every route of `routes` (and its fallback) in the gateway's middleware stack.
pub fn layered<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    let cors = CorsLayer::new()
        .allow_origin(AnyOrigin)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS, Method::POST, Method::PATCH, Method::DELETE])
        // A wildcard does not cover `Authorization` in browsers: name it.
        .allow_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::header::HeaderName::from_static(HEADER),
            http::header::HeaderName::from_static(crate::routes::library::params::IDEMPOTENCY_KEY),
        ])
        .expose_headers([
            http::header::HeaderName::from_static(HEADER),
            http::header::HeaderName::from_static(crate::routes::library::IDEMPOTENT_REPLAYED),
        ]);
    routes.layer(
        ServiceBuilder::new()
            .layer(from_fn(request_id))
            .layer(TraceLayer::new_for_http().make_span_with(make_span as fn(&Request<Body>) -> tracing::Span))
            .layer(from_fn(crate::metrics::track))
            .layer(CatchPanicLayer::custom(PanicToEnvelope))
            .layer(from_fn(deadline))
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            // Routes take axum's body type; the limit stays in force inside it.
            .map_request(to_axum_body)
            .layer(cors),
    )
}

fn to_axum_body<B>(req: http::Request<B>) -> Request
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    req.map(Body::new)
}

/// 405 for a known path asked with a method it does not serve.
pub async fn method_not_allowed(method: Method) -> Response {
    error_response(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", format!("Method {method} is not allowed here"))
}
