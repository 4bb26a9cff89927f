//! Access tokens through HTTP: missing, malformed, forged, foreign-algorithm, expired and revoked tokens, and
//! refresh-token reuse revoking the family.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Options, error_code, spawn_identity, spawn_with};

const ME: &str = "/api/v1/users/me";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn me_with_header(app: &crate::helpers::TestApp, header: Option<&str>) -> (u16, String) {
    let mut req = app.http.get(format!("{}{ME}", app.base));
    if let Some(h) = header {
        req = req.header("authorization", h);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, error_code_or_ok(&body))
}

fn error_code_or_ok(body: &Value) -> String {
    if body.get("error").is_some() { error_code(body) } else { "OK".into() }
}

#[tokio::test]
async fn every_bad_token_is_401_with_its_code_and_a_good_one_passes() {
    let app = spawn_identity().await;
    let a = app.account("tokens_a").await;
    assert_eq!(me_with_header(&app, Some(&format!("Bearer {}", a.access))).await, (200, "OK".into()));
    assert_eq!(me_with_header(&app, None).await, (401, "UNAUTHORIZED".into()));

    let parts: Vec<&str> = a.access.split('.').collect();
    let mut forged = payload(&a.access);
    forged["tier"] = json!("family");
    let changed_payload = format!("{}.{}.{}", parts[0], b64(forged.to_string().as_bytes()), parts[2]);
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let rs_confusion = format!("{}.{}.{}", b64(br#"{"alg":"RS256","typ":"JWT"}"#), parts[1], parts[2]);
    let hs512 = format!("{}.{}.{}", b64(br#"{"alg":"HS512","typ":"JWT"}"#), parts[1], parts[2]);
    let other_secret = {
        let claims: iknow_common::token::Claims = serde_json::from_value(payload(&a.access)).unwrap();
        iknow_common::token::issue_access_token(&claims, "some-other-secret-some-other-secret").unwrap()
    };
    for (what, header) in [
        ("changed payload", format!("Bearer {changed_payload}")),
        ("alg none", format!("Bearer {none}")),
        ("RS/HS confusion", format!("Bearer {rs_confusion}")),
        ("HS512", format!("Bearer {hs512}")),
        ("another secret", format!("Bearer {other_secret}")),
        ("garbage", "Bearer not.a.jwt".into()),
        ("garbage without dots", "Bearer garbage".into()),
        ("basic auth", "Basic dXNlcjpwYXNz".into()),
        ("no scheme", a.access.clone()),
        ("empty bearer", "Bearer ".into()),
        ("refresh token as access token", format!("Bearer {}", a.refresh)),
    ] {
        assert_eq!(me_with_header(&app, Some(&header)).await, (401, "INVALID_TOKEN".into()), "{what}");
    }
}

#[tokio::test]
async fn an_expired_token_is_token_expired() {
    let app = spawn_with(Options {
        stubs: true,
        identity: Some(|c: &mut user_identity::Config| c.access_ttl_seconds = 1),
        ..Options::default()
    })
    .await;
    let a = app.account("expiring").await;
    iknow_testkit::eventually(20, || async {
        let (status, code) = me_with_header(&app, Some(&format!("Bearer {}", a.access))).await;
        (status == 401 && code == "TOKEN_EXPIRED").then_some(())
    })
    .await;
    // A refreshed session works again.
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tokenType"], "Bearer");
    assert_eq!(body["data"]["expiresIn"], 1);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_kills_the_family() {
    let app = spawn_identity().await;
    let a = app.account("rotating").await;
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    for key in ["accessToken", "refreshToken", "expiresIn", "tokenType", "user"] {
        assert!(!data[key].is_null(), "{key} in {body}");
    }
    assert_eq!(data["user"]["id"], a.id.as_str());
    let rotated = data["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(rotated, a.refresh);

    // Reusing the first token is refused and revokes the family: the rotated one dies too.
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": rotated})).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
}

#[tokio::test]
async fn logout_ends_the_session_and_is_idempotent() {
    let app = spawn_identity().await;
    let a = app.account("leaving").await;
    for _ in 0..2 {
        let (status, body) = app.post("/api/v1/auth/logout", json!({"refreshToken": a.refresh})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"], json!({"loggedOut": true}));
    }
    let (status, body) = app.post("/api/v1/auth/logout", json!({"refreshToken": "never-issued"})).await;
    assert_eq!((status, &body["data"]), (200, &json!({"loggedOut": true})));
    let (status, body) = app.post("/api/v1/auth/refresh", json!({"refreshToken": a.refresh})).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
}

#[tokio::test]
async fn login_failures_are_identical_for_unknown_users_and_wrong_passwords() {
    let app = spawn_identity().await;
    app.account("known").await;
    let strip = |mut body: Value| {
        let e = body["error"].as_object_mut().unwrap();
        e.remove("timestamp");
        e.remove("requestId");
        body
    };
    let (s1, wrong) = app.post("/api/v1/auth/login", json!({"login": "known", "password": "Wrong-Horse-9"})).await;
    let (s2, unknown) = app.post("/api/v1/auth/login", json!({"login": "nobody", "password": "Wrong-Horse-9"})).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(error_code(&wrong), "INVALID_CREDENTIALS");
    assert_eq!(strip(wrong), strip(unknown));
    // Email works as the login too.
    let (status, _) = app
        .post("/api/v1/auth/login", json!({"login": "known@example.com", "password": crate::helpers::PASSWORD}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_user_missing_from_identity_is_unauthorized() {
    // A valid token for an id identity does not know (its user is gone).
    let app = spawn_identity().await;
    let now = chrono::Utc::now().timestamp();
    let claims = iknow_common::token::Claims {
        sub: uuid::Uuid::now_v7().to_string(),
        exp: now + 600,
        iat: now,
        jti: "j".into(),
        tier: "free".into(),
        tier_expires: None,
        typ: iknow_common::token::ACCESS_TYPE.into(),
    };
    let token = iknow_common::token::issue_access_token(&claims, app.identity().jwt_secret.expose()).unwrap();
    for (method, path) in [(Method::GET, ME), (Method::GET, "/api/v1/users/me/export")] {
        let (status, body) = app.call(method, path, None, Some(&token)).await;
        assert_eq!((status, error_code(&body).as_str()), (401, "UNAUTHORIZED"), "{path}");
    }
}
