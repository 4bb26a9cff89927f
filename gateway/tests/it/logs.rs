//! No password, hash or token reaches the gateway's logs (nor identity's, in the same process).

use iknow_testkit::logs::Capture;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, spawn_identity};

// A current-thread runtime: the servers' tasks run on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_appear_in_logs() {
    let app = spawn_identity().await;
    let (capture, _guard) = Capture::install(tracing::Level::TRACE);

    let a = app.account("logged").await;
    let (status, _) = app.post("/api/v1/auth/login", json!({"login": "logged", "password": "Wrong-Password-2"})).await;
    assert_eq!(status, 401);
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!(status, 200);
    let rotated_access = body["data"]["accessToken"].as_str().unwrap().to_owned();
    let rotated_refresh = body["data"]["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(app.call(Method::GET, "/api/v1/users/me", None, Some(&a.access)).await.0, 200);
    let (status, _) =
        app.call(Method::DELETE, "/api/v1/users/me", Some(json!({"password": PASSWORD})), Some(&rotated_access)).await;
    assert_eq!(status, 200);

    let logs = capture.text();
    assert!(logs.contains("/api/v1/users/me"), "the capture sees the gateway: {logs}");
    for secret in [PASSWORD, "Wrong-Password-2", "$argon2", &a.access, &a.refresh, &rotated_access, &rotated_refresh] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
}
