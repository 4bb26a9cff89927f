//! Registration: every validation rule, duplicates (case-insensitive email), the returned user.

use iknow_common::Error;
use iknow_proto::identity::v1::RegisterRequest;

use crate::helpers::{PASSWORD, assert_no_secret, registration, spawn};

async fn failing_fields(app: &crate::helpers::TestApp, r: RegisterRequest) -> Vec<String> {
    let status = app.client.clone().register(r).await.expect_err("must be refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    match Error::from_status(&status) {
        Error::Validation { violations, .. } => violations.into_iter().map(|v| v.field).collect(),
        other => panic!("expected validation, got {other:?}"),
    }
}

#[tokio::test]
async fn register_returns_user_with_defaults_and_never_the_hash() {
    let app = spawn().await;
    let user = app.register("Alice@Example.com", "alice_1").await;
    assert_eq!(user.email, "Alice@Example.com");
    assert_eq!(user.username, "alice_1");
    assert!(!user.email_verified);
    assert_eq!(user.subscription_tier, "free");
    assert!(uuid::Uuid::parse_str(&user.id).is_ok());
    assert!(!user.created_at.is_empty());
    let prefs: serde_json::Value = serde_json::from_str(&user.preferences_json).unwrap();
    assert_eq!(prefs["ui"]["theme"], "system");
    assert_eq!(prefs["notifications"]["email"], true);
    assert_no_secret(&format!("{user:?}"));
    // Stored as an argon2id hash with the OWASP parameters, never in clear.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users").fetch_one(&app.pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn every_failing_field_is_listed() {
    let app = spawn().await;
    let r =
        RegisterRequest { email: "nope".into(), username: "a".into(), password: "short".into(), accept_terms: false };
    assert_eq!(failing_fields(&app, r).await, ["email", "username", "password", "acceptTerms"]);
}

#[tokio::test]
async fn each_rule_is_enforced() {
    let app = spawn().await;
    let long_email = format!("{}@example.com", "a".repeat(250));
    let cases: Vec<(RegisterRequest, &str)> = vec![
        (RegisterRequest { email: "no-at-sign".into(), ..registration("", "valid_name") }, "email"),
        (RegisterRequest { email: "a@b".into(), ..registration("", "valid_name") }, "email"),
        (RegisterRequest { email: long_email, ..registration("", "valid_name") }, "email"),
        (registration("a@example.com", "ab"), "username"),
        (registration("a@example.com", &"a".repeat(31)), "username"),
        (registration("a@example.com", "bad name"), "username"),
        (registration("a@example.com", "bad.name"), "username"),
        (RegisterRequest { password: "Sh0rt-pass".into(), ..registration("a@example.com", "valid_name") }, "password"),
        (
            RegisterRequest { password: "nouppercase-12".into(), ..registration("a@example.com", "valid_name") },
            "password",
        ),
        (
            RegisterRequest { password: "NOLOWERCASE-12".into(), ..registration("a@example.com", "valid_name") },
            "password",
        ),
        (
            RegisterRequest { password: "No-Digits-Here".into(), ..registration("a@example.com", "valid_name") },
            "password",
        ),
        (
            RegisterRequest { password: "NoSpecials1234".into(), ..registration("a@example.com", "valid_name") },
            "password",
        ),
        (RegisterRequest { accept_terms: false, ..registration("a@example.com", "valid_name") }, "acceptTerms"),
    ];
    for (r, field) in cases {
        let desc = format!("{}/{}", r.email, r.username);
        assert_eq!(failing_fields(&app, r).await, [field], "{desc}");
    }
    // Boundaries that are valid.
    app.register("b@example.com", "abc").await;
    app.register("c@example.com", &"z".repeat(30)).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn duplicates_are_conflicts_with_specific_codes() {
    let app = spawn().await;
    app.register("bob@example.com", "bob").await;
    let mut client = app.client.clone();
    let status = client.register(registration("BOB@example.COM", "bobby")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    assert_eq!(Error::from_status(&status).code(), "DUPLICATE_EMAIL");
    let status = client.register(registration("other@example.com", "bob")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::AlreadyExists);
    assert_eq!(Error::from_status(&status).code(), "DUPLICATE_USERNAME");
}

#[tokio::test]
async fn get_user_finds_and_reports_missing() {
    let app = spawn().await;
    let user = app.register("carol@example.com", "carol").await;
    let mut client = app.client.clone();
    let got = client.get_user(iknow_proto::identity::v1::GetUserRequest { id: user.id.clone() }).await.unwrap();
    assert_eq!(got.into_inner(), user);
    let missing = uuid::Uuid::now_v7().to_string();
    let status = client.get_user(iknow_proto::identity::v1::GetUserRequest { id: missing }).await.unwrap_err();
    assert_eq!(Error::from_status(&status).code(), "USER_NOT_FOUND");
    let status = client.get_user(iknow_proto::identity::v1::GetUserRequest { id: "x".into() }).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}
