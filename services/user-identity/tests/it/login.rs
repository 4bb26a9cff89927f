//! Login: email or username, the issued JWT, identical failures for an unknown user and a wrong password.

use iknow_common::Error;

use crate::helpers::{PASSWORD, SECRET, assert_no_secret, spawn};

#[tokio::test]
async fn login_by_email_or_username_issues_tokens() {
    let app = spawn().await;
    let user = app.register("dave@example.com", "dave").await;
    let session = app.login("DAVE@example.com", PASSWORD).await.expect("login by email");
    assert_eq!(session.expires_in, 900);
    let claims = iknow_common::token::verify_access_token(&session.access_token, SECRET).expect("valid JWT");
    assert_eq!(claims.sub, user.id);
    assert_eq!(claims.typ, "access");
    assert_eq!(claims.tier, "free");
    assert_eq!(claims.exp - claims.iat, 900);
    assert!(session.refresh_token.len() >= 43);
    let returned = session.user.clone().unwrap();
    assert_eq!(returned.id, user.id);
    assert!(!returned.last_login.is_empty());
    assert_no_secret(&format!("{session:?}"));

    let again = app.login("dave", PASSWORD).await.expect("login by username");
    assert_ne!(again.refresh_token, session.refresh_token);
    let count: i32 = sqlx::query_scalar("SELECT login_count FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 2);
    // Only SHA-256 digests of refresh tokens are stored.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens").fetch_all(&app.pool).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h.len() == 32 && *h != session.refresh_token.as_bytes()));
}

#[tokio::test]
async fn unknown_user_and_wrong_password_fail_identically() {
    let app = spawn().await;
    app.register("erin@example.com", "erin").await;
    let wrong = app.login("erin@example.com", "Wrong-Password-1").await.unwrap_err();
    let unknown = app.login("nobody@example.com", PASSWORD).await.unwrap_err();
    let empty = app.login("", "").await.unwrap_err();
    for e in [&wrong, &unknown, &empty] {
        assert!(matches!(e, Error::Unauthenticated { .. }), "{e:?}");
        assert_eq!(e.code(), "INVALID_CREDENTIALS");
        assert_eq!(e.public_message(), wrong.public_message());
    }
    let count: i32 = sqlx::query_scalar("SELECT login_count FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
}
