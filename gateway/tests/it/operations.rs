//! `/health`, `/metrics` and the OpenAPI document.

use std::time::Duration;

use iknow_testkit::eventually;

use crate::helpers::{Options, spawn, spawn_with};

const CHECKS: [&str; 7] = ["catalog", "identity", "library", "ingest", "postgres", "redis", "rabbitmq"];

#[tokio::test]
async fn health_is_healthy_when_everything_answers_and_degraded_when_a_service_stops() {
    let mut app = spawn_with(Options { stubs: true, ..Options::default() }).await;
    // First probes open connections; give a loaded machine a few tries.
    let body = eventually(20, || async {
        let (status, body) = app.get_json("/health").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(body["status"], "healthy");
    assert!(body["timestamp"].is_string() && body["version"].is_string());
    for name in CHECKS {
        assert_eq!(body["checks"][name]["status"], "up", "{name}: {body}");
        assert!(body["checks"][name]["latencyMs"].is_number());
        assert!(body["checks"][name].get("error").is_none());
    }

    let (_, stop) = app.stub_stops.remove(app.stub_stops.iter().position(|(n, _)| *n == "library").unwrap());
    stop.send(()).unwrap();
    let body = eventually(20, || async {
        let (status, body) = app.get_json("/health").await;
        (status == 503).then_some(body)
    })
    .await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["library"]["status"], "down", "{body}");
    assert!(body["checks"]["library"]["error"].is_string());
    assert_eq!(body["checks"]["catalog"]["status"], "up", "{body}");
}

#[tokio::test]
async fn health_reports_down_dependencies_without_secrets_and_quickly() {
    // No stubs: identity, library and ingest point where nothing listens.
    let app = spawn().await;
    let started = std::time::Instant::now();
    let (status, body) = app.get_json("/health").await;
    assert!(started.elapsed() < Duration::from_secs(2), "probes are bounded: {:?}", started.elapsed());
    assert_eq!(status, 503);
    assert_eq!(body["status"], "degraded");
    for name in ["identity", "library", "ingest"] {
        assert_eq!(body["checks"][name]["status"], "down", "{name}: {body}");
    }
    assert!(!body.to_string().contains("guest:guest"), "no credentials: {body}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn().await;
    app.get("/api/v1/actors/search?q=tom").await;
    app.get("/api/v1/actors/not-a-uuid").await;
    app.get("/api/v1/nowhere").await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(text.contains("http_requests_total"), "{text}");
    let has = |route: &str, status: &str| {
        text.lines().any(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status_code=\"{status}\""))
                && l.contains("method=\"GET\"")
        })
    };
    assert!(has("/api/v1/actors/search", "200"), "{text}");
    assert!(has("/api/v1/actors/{id}", "400"), "{text}");
    assert!(has("unmatched", "404"), "{text}");
}

#[tokio::test]
async fn openapi_documents_every_path_and_error() {
    let app = spawn().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    for path in
        ["/api/v1/actors/{id}", "/api/v1/actors/search", "/api/v1/content/{id}", "/api/v1/content/search", "/health"]
    {
        let op = &doc["paths"][path]["get"];
        assert!(op.is_object(), "{path} documented");
        for code in ["200", "503"] {
            assert!(op["responses"][code].is_object(), "{path} documents {code}");
        }
        if path.starts_with("/api") {
            assert!(op["responses"]["400"].is_object(), "{path} documents 400");
        }
    }
    for path in ["/api/v1/actors/{id}", "/api/v1/content/{id}"] {
        assert!(doc["paths"][path]["get"]["responses"]["404"].is_object());
    }
    let params = doc["paths"]["/api/v1/actors/search"]["get"]["parameters"].as_array().unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["q", "limit", "offset", "type", "year", "sortBy", "sortOrder"]);
    let year = params.iter().find(|p| p["name"] == "year").unwrap();
    assert!(year["schema"]["maximum"].as_i64().unwrap() > 2000, "run-time year bound: {year}");

    let schemas = &doc["components"]["schemas"];
    let actor = &schemas["Actor"];
    let required: Vec<&str> = actor["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"deathYear") && required.contains(&"filmography"), "{actor}");
    assert!(actor["properties"]["deathYear"].to_string().contains("null"), "nullable: {actor}");
    assert!(schemas["ErrorResponse"].is_object());
}
