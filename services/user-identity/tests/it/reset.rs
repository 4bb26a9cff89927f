//! Password reset: the same answer for unknown emails, the mailed single-use token, the new password, and
//! every session revoked.

use iknow_common::Error;
use iknow_proto::identity::v1::{ConfirmPasswordResetRequest, RefreshRequest, RequestPasswordResetRequest};

use crate::helpers::{Listener, PASSWORD, TestApp, failing_fields, spawn};

const NEW_PASSWORD: &str = "Brand-New-Horse-2";

async fn request_reset(app: &TestApp, email: &str) {
    app.client
        .clone()
        .request_password_reset(RequestPasswordResetRequest { email: email.into() })
        .await
        .expect("always Ok");
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> Result<String, tonic::Status> {
    app.client
        .clone()
        .confirm_password_reset(ConfirmPasswordResetRequest { token: token.into(), new_password: password.into() })
        .await
        .map(|r| r.into_inner().user_id)
}

async fn next_token(mails: &mut Listener) -> String {
    mails.next_json().await["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn unknown_email_is_ok_and_mails_nothing() {
    let app = spawn().await;
    let user = app.register("lee@example.com", "lee").await;
    let mut mails = app.listen_notifications("email.password_reset").await;
    request_reset(&app, "nobody@example.com").await;
    request_reset(&app, "").await;
    request_reset(&app, "LEE@EXAMPLE.com").await;
    // Messages leave in outbox order: had the unknown email produced one, it would come first.
    let mail = mails.next_json().await;
    assert_eq!(mail["type"], "password_reset");
    assert_eq!(mail["userId"], user.id.as_str());
    assert_eq!(mail["email"], "lee@example.com");
    assert_eq!(mail["username"], "lee");
    let expires: chrono::DateTime<chrono::Utc> = mail["expiresAt"].as_str().unwrap().parse().unwrap();
    let minutes = (expires - chrono::Utc::now()).num_minutes();
    assert!((58..=60).contains(&minutes), "1 h lifetime, got {minutes} min");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE password_reset_token_hash IS NOT NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(pending, 1);
}

#[tokio::test]
async fn confirm_sets_the_password_and_revokes_every_session_once() {
    let app = spawn().await;
    let user = app.register("meg@example.com", "meg").await;
    let first = app.login("meg", PASSWORD).await.unwrap();
    let second = app.login("meg", PASSWORD).await.unwrap();
    let mut mails = app.listen_notifications("email.password_reset").await;
    request_reset(&app, "meg@example.com").await;
    let token = next_token(&mut mails).await;

    // A weak password is refused and does not use the token up.
    let status = confirm(&app, &token, "weak").await.unwrap_err();
    assert_eq!(failing_fields(&status), ["newPassword"]);

    assert_eq!(confirm(&app, &token, NEW_PASSWORD).await.expect("reset"), user.id);
    let old = app.login("meg", PASSWORD).await.unwrap_err();
    assert_eq!(old.code(), "INVALID_CREDENTIALS");
    app.login("meg@example.com", NEW_PASSWORD).await.expect("the new password works");
    for session in [&first, &second] {
        let status = app
            .client
            .clone()
            .refresh(RefreshRequest { refresh_token: session.refresh_token.clone() })
            .await
            .unwrap_err();
        assert_eq!(Error::from_status(&status).code(), "INVALID_TOKEN");
    }

    let status = confirm(&app, &token, "Another-Horse-33").await.expect_err("single use");
    assert_eq!(failing_fields(&status), ["token"]);
    app.login("meg", NEW_PASSWORD).await.expect("the second attempt changed nothing");
}

#[tokio::test]
async fn replaced_expired_and_unknown_tokens_fail() {
    let app = spawn().await;
    app.register("nia@example.com", "nia").await;
    let mut mails = app.listen_notifications("email.password_reset").await;
    request_reset(&app, "nia@example.com").await;
    let replaced = next_token(&mut mails).await;
    request_reset(&app, "nia@example.com").await;
    let latest = next_token(&mut mails).await;
    assert_ne!(replaced, latest);

    let status = confirm(&app, &replaced, NEW_PASSWORD).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["token"], "a newer request replaces the token");

    sqlx::query("UPDATE users SET password_reset_expires = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let status = confirm(&app, &latest, NEW_PASSWORD).await.unwrap_err();
    assert_eq!(failing_fields(&status), ["token"], "expired");

    let status = confirm(&app, "unknown", "weak").await.unwrap_err();
    assert_eq!(failing_fields(&status), ["token", "newPassword"], "both failures listed");
    app.login("nia", PASSWORD).await.expect("the password is unchanged");
}
