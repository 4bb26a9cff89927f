//! The OpenAPI 3 document, generated from the handlers and DTOs, served at `/api/v1/openapi.json`, and the
//! self-contained docs page at `/docs` that renders it (no CDN).

use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use utoipa::OpenApi;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "I Know API",
        version = "v1",
        description = "Who is that actor and where do I know them from? Every response carries `X-Request-ID`; \
            successes are `{data, meta, pagination?}`, failures `{error: {code, message, details?, timestamp, \
            requestId}}`."
    ),
    paths(
        crate::routes::actors::get_actor,
        crate::routes::actors::search_actors,
        crate::routes::content::get_content,
        crate::routes::content::search_content,
        crate::health::health,
        crate::metrics::render,
    ),
    tags(
        (name = "actors", description = "Actors and their filmographies"),
        (name = "content", description = "Movies, series and episodes with their cast"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

/// The document, with bounds only known at run time filled in (the latest accepted `year`).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    let max_year = crate::extract::max_year();
    document_rate_limits(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for op in paths.values_mut().filter_map(|item| item.get_mut("get")) {
            let Some(params) = op.get_mut("parameters").and_then(|p| p.as_array_mut()) else { continue };
            for p in params.iter_mut().filter(|p| p["name"] == "year") {
                if let Some(schema) = p.get_mut("schema").and_then(|s| s.as_object_mut()) {
                    schema.insert("maximum".into(), max_year.into());
                }
            }
        }
    }
    doc
}

/// Adds the 429 answer of the rate limits (see [`crate::rate_limit`]) to every operation under `/api/v1`.
fn document_rate_limits(doc: &mut serde_json::Value) {
    let header = |description: &str| serde_json::json!({ "description": description, "schema": { "type": "integer", "minimum": 0 } });
    let too_many = serde_json::json!({
        "description": "`RATE_LIMIT_EXCEEDED`: too many requests in the current window",
        "headers": {
            "RateLimit-Limit": header("Requests allowed in the window"),
            "RateLimit-Remaining": header("Requests left in the window"),
            "RateLimit-Reset": header("Seconds until the window resets"),
            "Retry-After": header("Seconds to wait before retrying"),
        },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorResponse" } } },
    });
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    for (path, item) in paths.iter_mut() {
        if crate::rate_limit::classify(path).is_none() {
            continue;
        }
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            if let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) {
                responses.insert("429".into(), too_many.clone());
            }
        }
    }
}

/// The OpenAPI document of this API.
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.openapi.as_ref().clone())
}

/// A readable rendering of the OpenAPI document.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../static/docs.html"))
}
