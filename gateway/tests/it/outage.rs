//! A catalogue that is down answers 503 `SERVICE_UNAVAILABLE` quickly, never a hang, and the gateway
//! recovers when it is back.

use std::time::{Duration, Instant};

use crate::helpers::{error_code, spawn};

#[tokio::test]
async fn a_cut_catalogue_is_503_within_a_second_and_recovers() {
    let app = spawn().await;
    let seeded = app.seed().await;
    let path = format!("/api/v1/actors/{}", seeded.bruce_id);
    assert_eq!(app.get_json(&path).await.0, 200);

    app.catalog_proxy.cut();
    for p in [path.as_str(), "/api/v1/actors/search?q=tom", "/api/v1/content/search?q=breach"] {
        let started = Instant::now();
        let (status, body) = app.get_json(p).await;
        assert!(started.elapsed() < Duration::from_secs(1), "{p} took {:?}", started.elapsed());
        assert_eq!((status, error_code(&body).as_str()), (503, "SERVICE_UNAVAILABLE"), "{p}: {body}");
    }

    app.catalog_proxy.restore();
    let ok = iknow_testkit::eventually(10, || async { (app.get_json(&path).await.0 == 200).then_some(()) }).await;
    assert_eq!(ok, ());
}

#[tokio::test]
async fn a_stopped_catalogue_is_503_within_a_second() {
    let mut app = spawn().await;
    app.seed().await;
    app.stop_catalog.take().unwrap().send(()).unwrap();
    // Wait until the catalogue is really gone, then time one request.
    iknow_testkit::eventually(10, || async {
        (app.get_json("/api/v1/actors/search?q=tom").await.0 == 503).then_some(())
    })
    .await;
    let started = Instant::now();
    let (status, body) = app.get_json("/api/v1/content/search?q=breach").await;
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!((status, error_code(&body).as_str()), (503, "SERVICE_UNAVAILABLE"), "{body}");
}

#[tokio::test]
async fn a_catalogue_that_never_answers_is_503_within_a_second() {
    // Accepts connections and holds them without a byte of reply.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_addr = hole.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = hole.accept().await {
            held.push(sock);
        }
    });
    let base = crate::helpers::spawn_gateway_only(format!("http://{hole_addr}")).await;

    for path in ["/api/v1/actors/search?q=tom", &format!("/api/v1/content/{}", uuid::Uuid::now_v7())] {
        let started = Instant::now();
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(1), "{path} took {:?}", started.elapsed());
        assert_eq!(r.status(), 503, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "SERVICE_UNAVAILABLE");
    }
    let started = Instant::now();
    let r = reqwest::get(format!("{base}/health")).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "/health took {:?}", started.elapsed());
    assert_eq!(r.status(), 503);
}
