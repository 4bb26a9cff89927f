//! Refresh-token rotation, reuse detection revoking the family, logout.

use iknow_common::Error;
use iknow_proto::identity::v1::{LogoutRequest, RefreshRequest, Session};

use crate::helpers::{PASSWORD, SECRET, TestApp, assert_no_secret, spawn};

async fn refresh(app: &TestApp, token: &str) -> Result<Session, Error> {
    app.client
        .clone()
        .refresh(RefreshRequest { refresh_token: token.into() })
        .await
        .map(tonic::Response::into_inner)
        .map_err(|s| Error::from_status(&s))
}

fn assert_invalid_token(r: Result<Session, Error>) {
    let e = r.expect_err("must be refused");
    assert!(matches!(e, Error::Unauthenticated { .. }), "{e:?}");
    assert_eq!(e.code(), "INVALID_TOKEN");
}

#[tokio::test]
async fn refresh_rotates_and_old_token_is_single_use() {
    let app = spawn().await;
    let user = app.register("fay@example.com", "fay").await;
    let first = app.login("fay", PASSWORD).await.unwrap();
    let second = refresh(&app, &first.refresh_token).await.expect("rotation");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.user.as_ref().unwrap().id, user.id);
    let claims = iknow_common::token::verify_access_token(&second.access_token, SECRET).unwrap();
    assert_eq!(claims.sub, user.id);
    assert_no_secret(&format!("{second:?}"));
    let third = refresh(&app, &second.refresh_token).await.expect("the new token works");
    assert_ne!(third.refresh_token, second.refresh_token);
    assert_invalid_token(refresh(&app, "not-a-token").await);
}

#[tokio::test]
async fn reuse_revokes_the_whole_family_but_not_other_sessions() {
    let app = spawn().await;
    app.register("gus@example.com", "gus").await;
    let other_session = app.login("gus", PASSWORD).await.unwrap();
    let stolen = app.login("gus", PASSWORD).await.unwrap();
    let rotated = refresh(&app, &stolen.refresh_token).await.unwrap();
    // The thief (or the victim) presents the already-used token: the family dies.
    assert_invalid_token(refresh(&app, &stolen.refresh_token).await);
    assert_invalid_token(refresh(&app, &rotated.refresh_token).await);
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(live, 1, "only the other session's token survives");
    refresh(&app, &other_session.refresh_token).await.expect("another family is untouched");
}

#[tokio::test]
async fn logout_revokes_the_current_family() {
    let app = spawn().await;
    app.register("hal@example.com", "hal").await;
    let kept = app.login("hal", PASSWORD).await.unwrap();
    let session = app.login("hal", PASSWORD).await.unwrap();
    let rotated = refresh(&app, &session.refresh_token).await.unwrap();
    let mut client = app.client.clone();
    client.logout(LogoutRequest { refresh_token: rotated.refresh_token.clone() }).await.expect("logout");
    assert_invalid_token(refresh(&app, &rotated.refresh_token).await);
    // Idempotent, and unknown tokens are not an error (nothing to reveal).
    client.logout(LogoutRequest { refresh_token: rotated.refresh_token.clone() }).await.expect("again");
    client.logout(LogoutRequest { refresh_token: "unknown".into() }).await.expect("unknown");
    refresh(&app, &kept.refresh_token).await.expect("the other session still works");
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let app = spawn().await;
    app.register("ivy@example.com", "ivy").await;
    let session = app.login("ivy", PASSWORD).await.unwrap();
    sqlx::query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    assert_invalid_token(refresh(&app, &session.refresh_token).await);
}
