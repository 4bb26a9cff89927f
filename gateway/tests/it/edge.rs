//! The edge rules: request ids, envelope 404/405/500, CORS, static files and the docs page.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use tower::ServiceExt;

use crate::helpers::{Options, error_code, spawn, spawn_with};

#[tokio::test]
async fn request_id_is_kept_or_made_and_echoed_on_every_response() {
    let app = spawn().await;
    let paths = [
        "/api/v1/actors/search?q=tom",
        "/api/v1/actors/search",
        "/api/v1/actors/nope",
        "/api/v1/no/such/route",
        "/health",
        "/metrics",
        "/api/v1/openapi.json",
    ];
    for path in paths {
        let r = app.http.get(format!("{}{path}", app.base)).header("x-request-id", "req-abc-123").send().await.unwrap();
        assert_eq!(r.headers()["x-request-id"], "req-abc-123", "{path}");
        if path.starts_with("/api/v1/actors") || path.starts_with("/api/v1/no") {
            let body: serde_json::Value = r.json().await.unwrap();
            let id = body.get("meta").or(body.get("error")).unwrap()["requestId"].clone();
            assert_eq!(id, "req-abc-123", "{path}: {body}");
        }

        let r = app.get(path).await;
        let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(uuid::Uuid::parse_str(&made).unwrap().get_version_num(), 7, "{path}");
    }
    // An unacceptable id is replaced.
    let r = app.http.get(format!("{}/health", app.base)).header("x-request-id", "has space").send().await.unwrap();
    assert_ne!(r.headers()["x-request-id"], "has space");
    let r = app.http.post(format!("{}/api/v1/actors/search", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_envelopes() {
    let app = spawn().await;
    let (status, body) = app.get_json("/api/v1/does-not-exist").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "NOT_FOUND"));
    let (status, body) = app.get_json("/api/v2/actors").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "NOT_FOUND"));
    let (status, body) = app.get_json("/nothing/here.txt").await;
    assert_eq!((status, error_code(&body).as_str()), (404, "NOT_FOUND"));

    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/actors/search"),
        (reqwest::Method::DELETE, "/api/v1/content/x"),
        (reqwest::Method::PUT, "/health"),
    ] {
        let r = app.http.request(method.clone(), format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "METHOD_NOT_ALLOWED", "{method} {path}");
    }
}

#[tokio::test]
async fn the_request_id_is_current_inside_handlers_and_panics_are_500_envelopes() {
    let routes: Router = Router::new()
        .route("/id", get(|| async { iknow_common::request_id::current().unwrap_or_default() }))
        .route("/boom", get(boom));
    let app = gateway::layered(routes);

    let req = http::Request::get("/id").header("x-request-id", "trace-me").body(Body::empty()).unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"trace-me", "handlers see the id gRPC clients forward");

    let req = http::Request::get("/boom").header("x-request-id", "boom-1").body(Body::empty()).unwrap();
    let r = app.oneshot(req).await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["x-request-id"], "boom-1");
    let body: serde_json::Value =
        serde_json::from_slice(&axum::body::to_bytes(r.into_body(), 4096).await.unwrap()).unwrap();
    assert_eq!(error_code(&body), "INTERNAL_ERROR");
    assert_eq!(body["error"]["requestId"], "boom-1");
    assert!(!body.to_string().contains("secret detail"));
}

#[tokio::test]
async fn oversized_bodies_are_413_envelopes() {
    let app = spawn().await;
    let r = app.http.get(format!("{}/health", app.base)).body(vec![b'x'; 100 * 1024]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.headers().contains_key("x-request-id"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn cors_allows_any_origin_for_get() {
    let app = spawn().await;
    let r = app.http.get(format!("{}/health", app.base)).header("origin", "https://example.org").send().await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let r = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/actors/search", app.base))
        .header("origin", "https://example.org")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "preflight: {}", r.status());
    assert!(r.headers()["access-control-allow-methods"].to_str().unwrap().contains("GET"));
}

#[tokio::test]
async fn web_app_files_are_served_with_index_fallback() {
    let dir = std::env::temp_dir().join(format!("iknow-web-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<html>the app</html>").unwrap();
    std::fs::write(dir.join("app.js"), "console.log(1)").unwrap();
    let app = spawn_with(Options { web_dir: Some(dir.clone()), ..Options::default() }).await;

    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "<html>the app</html>");
    assert_eq!(app.get("/app.js").await.text().await.unwrap(), "console.log(1)");
    let r = app.get("/some/client/route").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "<html>the app</html>");
    // API paths never fall back to the app.
    assert_eq!(app.get("/api/v1/nope").await.status(), 404);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn without_a_web_app_root_links_the_docs_and_docs_render_without_cdn() {
    let app = spawn().await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("href=\"/docs\""));

    let r = app.get("/docs").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("/api/v1/openapi.json"));
    assert!(!html.contains("https://") && !html.contains("http://"), "no external resources");
}

async fn boom() -> &'static str {
    panic!("secret detail")
}
