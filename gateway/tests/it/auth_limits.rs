//! Rate limits with authentication: the auth bucket is per IP (tokens or not) and shared by replicas, the
//! search bucket is per user when authenticated, and with Redis cut both limits and revocations fall back to
//! the process while log-in keeps working.

use reqwest::Method;
use serde_json::json;

use iknow_testkit::TcpProxy;

use crate::helpers::{Options, PASSWORD, TestApp, error_code, spawn_with, start_gateway};

const YEAR: u64 = 365 * 24 * 3600;

async fn spawn_limited(change: impl FnOnce(&mut gateway::Config) + Send + 'static) -> TestApp {
    spawn_with(Options {
        stubs: true,
        gateway: Some(Box::new(move |c: &mut gateway::Config| {
            c.rate_limit_auth_window_seconds = YEAR;
            c.rate_limit_search_window_seconds = YEAR;
            change(c);
        })),
        ..Options::default()
    })
    .await
}

async fn login_status(http: &reqwest::Client, base: &str, token: Option<&str>) -> u16 {
    let mut req =
        http.post(format!("{base}/api/v1/auth/login")).json(&json!({"login": "nobody", "password": "Wrong-1a"}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn two_gateways_on_one_redis_share_the_auth_limit() {
    let app = spawn_limited(|c| c.rate_limit_auth_per_window = 5).await;
    let other = start_gateway(app.gateway_config.clone()).await;
    for base in [&app.base, &other, &app.base, &other, &app.base] {
        assert_eq!(login_status(&app.http, base, None).await, 401);
    }
    for base in [&other, &app.base] {
        let r = app.http.post(format!("{base}/api/v1/auth/login")).json(&json!({"login": "a", "password": "b"}));
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
        assert_eq!(error_code(&r.json().await.unwrap()), "RATE_LIMIT_EXCEEDED");
    }
}

#[tokio::test]
async fn the_auth_limit_counts_per_ip_even_with_a_token() {
    let app = spawn_limited(|c| c.rate_limit_auth_per_window = 6).await;
    let a = app.account("limited").await; // 2 auth requests
    for _ in 0..3 {
        assert_eq!(login_status(&app.http, &app.base, Some(&a.access)).await, 401);
    }
    assert_eq!(login_status(&app.http, &app.base, None).await, 401, "the 6th request of this IP");
    assert_eq!(login_status(&app.http, &app.base, Some(&a.access)).await, 429, "a token buys no more attempts");
    assert_eq!(login_status(&app.http, &app.base, None).await, 429);
    // Other buckets are not affected.
    assert_eq!(app.call(Method::GET, "/api/v1/users/me", None, Some(&a.access)).await.0, 200);
}

#[tokio::test]
async fn searches_count_per_user_when_authenticated() {
    let app = spawn_limited(|c| c.rate_limit_search_per_window = 60).await;
    let (a, b) = (app.account("searcher_a").await, app.account("searcher_b").await);
    let search =
        async |token: Option<&str>| app.call(Method::GET, "/api/v1/actors/search?q=bruce", None, token).await.0;
    for i in 0..60 {
        assert_eq!(search(Some(&a.access)).await, 200, "A's search {i}");
    }
    assert_eq!(search(Some(&a.access)).await, 429, "A's 61st");
    for i in 0..60 {
        assert_eq!(search(Some(&b.access)).await, 200, "B has its own 60 ({i})");
    }
    assert_eq!(search(Some(&b.access)).await, 429);
    assert_eq!(search(None).await, 200, "the IP's own bucket is untouched");
}

#[tokio::test]
async fn with_redis_cut_limits_and_revocations_fall_back_in_process_and_login_works() {
    let proxy = TcpProxy::start(iknow_testkit::redis_addr()).await;
    let redis_url = proxy.url("redis");
    let app = spawn_limited(move |c| {
        c.redis_url = redis_url.into();
        c.rate_limit_redis_timeout_ms = 200;
        c.rate_limit_auth_per_window = 6;
    })
    .await;
    // One auth request while Redis works: it is counted there, not in process.
    assert_eq!(login_status(&app.http, &app.base, None).await, 401);
    proxy.cut();
    let a = app.account("offline").await;
    let (status, body) = app.call(Method::GET, "/api/v1/users/me", None, Some(&a.access)).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..4 {
        assert_eq!(login_status(&app.http, &app.base, None).await, 401);
    }
    assert_eq!(login_status(&app.http, &app.base, None).await, 429, "6 in process, the 7th is refused");

    // A revocation made while Redis is cut is still enforced by this replica.
    let (status, body) =
        app.call(Method::DELETE, "/api/v1/users/me", Some(json!({"password": PASSWORD})), Some(&a.access)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.call(Method::GET, "/api/v1/users/me", None, Some(&a.access)).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
    proxy.restore();
}
