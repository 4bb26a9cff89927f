//! Rate limits: 429 envelope and headers, sharing through Redis, the in-process fallback, switching off,
//! and separate buckets per client.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use gateway::rate_limit::RateLimitSubject;
use tower::ServiceExt;

use iknow_testkit::TcpProxy;

use crate::helpers::{error_code, generous_limits};

/// A window long enough that no test sees it roll over.
const YEAR: u64 = 365 * 24 * 3600;

/// Limits of 3 per (year-long) window for every bucket; the rest as in `generous_limits`.
fn small_limits() -> gateway::Config {
    gateway::Config {
        rate_limit_auth_per_window: 3,
        rate_limit_auth_window_seconds: YEAR,
        rate_limit_search_per_window: 3,
        rate_limit_search_window_seconds: YEAR,
        rate_limit_default_per_window: 3,
        rate_limit_default_window_seconds: YEAR,
        ..generous_limits()
    }
}

async fn spawn(config: gateway::Config) -> String {
    iknow_common::telemetry::init_for_tests();
    let app = gateway::Application::build(config).await.expect("gateway builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    base
}

async fn get(base: &str, path: &str) -> reqwest::Response {
    reqwest::get(format!("{base}{path}")).await.expect("gateway answers")
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn over_the_limit_is_429_with_the_four_headers_and_allowed_responses_carry_ratelimit_headers() {
    let base = spawn(small_limits()).await;
    for remaining in ["2", "1", "0"] {
        let r = get(&base, "/api/v1/openapi.json").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some(remaining));
        let reset: u64 = header(&r, "ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=YEAR).contains(&reset));
        assert_eq!(header(&r, "retry-after"), None);
    }
    let r = get(&base, "/api/v1/openapi.json").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-limit").as_deref(), Some("3"));
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("0"));
    let retry: u64 = header(&r, "retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=YEAR).contains(&retry));
    assert_eq!(header(&r, "ratelimit-reset").unwrap(), retry.to_string());
    assert!(r.headers().contains_key("x-request-id"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMIT_EXCEEDED");

    // Other buckets have their own count; unlimited routes carry no headers.
    let r = get(&base, "/api/v1/auth/login").await;
    assert_ne!(r.status(), 429);
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("2"));
    let r = get(&base, "/health").await;
    assert_eq!(header(&r, "ratelimit-limit"), None);
}

#[tokio::test]
async fn auth_routes_share_one_bucket_separate_from_search() {
    let base = spawn(small_limits()).await;
    for path in ["/api/v1/auth/login", "/api/v1/users/register", "/api/v1/auth/refresh"] {
        assert_ne!(get(&base, path).await.status(), 429);
    }
    let r = get(&base, "/api/v1/auth/logout").await;
    assert_eq!(r.status(), 429);
    let r = get(&base, "/api/v1/actors/search?q=bruce").await;
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("2"));
}

#[tokio::test]
async fn two_gateways_on_one_redis_share_the_count() {
    let config = small_limits();
    let prefix = config.rate_limit_redis_prefix.clone();
    let a = spawn(config).await;
    let b = spawn(gateway::Config { rate_limit_redis_prefix: prefix, ..small_limits() }).await;
    assert_eq!(get(&a, "/api/v1/openapi.json").await.status(), 200);
    assert_eq!(get(&b, "/api/v1/openapi.json").await.status(), 200);
    let r = get(&a, "/api/v1/openapi.json").await;
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(get(&b, "/api/v1/openapi.json").await.status(), 429);
    assert_eq!(get(&a, "/api/v1/openapi.json").await.status(), 429);
}

#[tokio::test]
async fn with_redis_down_limits_are_enforced_in_process_and_requests_served() {
    let dead = iknow_testkit::dead_addr().await;
    let base = spawn(gateway::Config {
        redis_url: format!("redis://{dead}").into(),
        rate_limit_redis_timeout_ms: 50,
        ..small_limits()
    })
    .await;
    for remaining in ["2", "1", "0"] {
        let r = get(&base, "/api/v1/openapi.json").await;
        assert_eq!(r.status(), 200, "served while Redis is down");
        assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some(remaining));
    }
    let r = get(&base, "/api/v1/openapi.json").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn disabled_limits_never_answer_429() {
    let base = spawn(gateway::Config { rate_limit_enabled: false, ..small_limits() }).await;
    for _ in 0..10 {
        let r = get(&base, "/api/v1/openapi.json").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "ratelimit-limit"), None);
    }
}

#[tokio::test]
async fn different_ips_and_subjects_have_their_own_buckets() {
    iknow_common::telemetry::init_for_tests();
    let config = small_limits();
    let router = gateway::router(gateway::AppState::new(&config).expect("state"));
    let call = async |ip: [u8; 4], subject: Option<&str>| {
        let mut req = http::Request::get("/api/v1/openapi.json").body(axum::body::Body::empty()).unwrap();
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 4000))));
        if let Some(s) = subject {
            req.extensions_mut().insert(RateLimitSubject(s.to_owned()));
        }
        router.clone().oneshot(req).await.unwrap().status().as_u16()
    };
    for _ in 0..3 {
        assert_eq!(call([10, 0, 0, 1], None).await, 200);
    }
    assert_eq!(call([10, 0, 0, 1], None).await, 429);
    assert_eq!(call([10, 0, 0, 2], None).await, 200, "another IP");
    // A subject replaces the IP: user-a from the exhausted IP still passes, and has its own count.
    for _ in 0..3 {
        assert_eq!(call([10, 0, 0, 1], Some("user-a")).await, 200);
    }
    assert_eq!(call([10, 0, 0, 3], Some("user-a")).await, 429, "user-a's bucket follows the user");
    assert_eq!(call([10, 0, 0, 1], Some("user-b")).await, 200);
}

#[tokio::test]
async fn a_gateway_that_loses_redis_keeps_serving_and_shares_counts_again_once_it_is_back() {
    let proxy = TcpProxy::start(iknow_testkit::redis_addr()).await;
    let config = gateway::Config { rate_limit_default_per_window: 100, ..small_limits() };
    let prefix = config.rate_limit_redis_prefix.clone();
    let direct = spawn(config).await;
    let via_proxy = spawn(gateway::Config {
        redis_url: proxy.url("redis").into(),
        rate_limit_redis_prefix: prefix,
        rate_limit_redis_timeout_ms: 200,
        rate_limit_default_per_window: 100,
        ..small_limits()
    })
    .await;
    let remaining = async |base: &str| -> u64 {
        let r = get(base, "/api/v1/openapi.json").await;
        assert_eq!(r.status(), 200);
        header(&r, "ratelimit-remaining").unwrap().parse().unwrap()
    };
    assert_eq!(remaining(&direct).await, 99);
    assert_eq!(remaining(&via_proxy).await, 98, "shared through Redis");
    proxy.cut();
    // Served, counted in process (its own count starts afresh).
    let local = remaining(&via_proxy).await;
    assert_eq!(local, 99, "in-process count while Redis is cut");
    proxy.restore();
    iknow_testkit::eventually(10, || async {
        let shared = remaining(&direct).await;
        (remaining(&via_proxy).await + 1 == shared).then_some(())
    })
    .await;
}

#[tokio::test]
async fn openapi_documents_429_with_its_headers_on_api_routes() {
    let base = spawn(generous_limits()).await;
    let doc: serde_json::Value = get(&base, "/api/v1/openapi.json").await.json().await.unwrap();
    let too_many = &doc["paths"]["/api/v1/actors/search"]["get"]["responses"]["429"];
    for h in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"] {
        assert!(too_many["headers"][h].is_object(), "{h} in {too_many}");
    }
    assert!(doc["paths"]["/health"]["get"]["responses"]["429"].is_null());
}
