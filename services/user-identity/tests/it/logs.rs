//! No password, hash or token ever reaches the logs: every call is made with a capturing subscriber. Account
//! deletion writes one audit line without personal data.

use iknow_proto::identity::v1::{
    ConfirmPasswordResetRequest, DeleteUserRequest, ExportUserRequest, LogoutRequest, RefreshRequest,
    RequestPasswordResetRequest, VerifyEmailRequest,
};
use iknow_testkit::logs::Capture;
use tracing::Level;

use crate::helpers::{PASSWORD, spawn};

// A current-thread runtime: the server's tasks run on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_appear_in_logs() {
    let app = spawn().await;
    let (capture, _guard) = Capture::install(Level::TRACE);

    app.register("jan@example.com", "jan").await;
    let session = app.login("jan", PASSWORD).await.unwrap();
    assert!(app.login("jan", "Wrong-Password-2").await.is_err());
    let mut client = app.client.clone();
    let rotated =
        client.refresh(RefreshRequest { refresh_token: session.refresh_token.clone() }).await.unwrap().into_inner();
    assert!(client.refresh(RefreshRequest { refresh_token: session.refresh_token.clone() }).await.is_err());
    client.logout(LogoutRequest { refresh_token: rotated.refresh_token.clone() }).await.unwrap();

    let logs = capture.text();
    assert!(logs.contains("login succeeded"), "the capture works: {logs}");
    assert!(logs.contains("family revoked"));
    for secret in [PASSWORD, "Wrong-Password-2", "$argon2", &session.access_token, &session.refresh_token] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    assert!(!logs.contains(&rotated.refresh_token) && !logs.contains(&rotated.access_token));
}

#[tokio::test(flavor = "current_thread")]
async fn account_deletion_is_audited_without_personal_data_and_mailed_tokens_are_never_logged() {
    let app = spawn().await;
    let (capture, _guard) = Capture::install(Level::TRACE);
    let mut mails = app.listen_notifications("email.*").await;

    let user = app.register("xia@example.com", "xia_audit").await;
    let verification = mails.next_json().await["token"].as_str().unwrap().to_owned();
    let mut client = app.client.clone();
    client.verify_email(VerifyEmailRequest { token: verification.clone() }).await.unwrap();
    client.request_password_reset(RequestPasswordResetRequest { email: "xia@example.com".into() }).await.unwrap();
    let reset = mails.next_json().await["token"].as_str().unwrap().to_owned();
    let new_password = "Audit-Horse-77!";
    client
        .confirm_password_reset(ConfirmPasswordResetRequest { token: reset.clone(), new_password: new_password.into() })
        .await
        .unwrap();
    let session = app.login("xia_audit", new_password).await.unwrap();
    app.login("xia_audit", new_password).await.unwrap();
    client.export_user(ExportUserRequest { id: user.id.clone() }).await.unwrap();
    client.delete_user(DeleteUserRequest { id: user.id.clone(), password: new_password.into() }).await.unwrap();

    let logs = capture.text();
    let audit: Vec<&str> = logs.lines().filter(|l| l.contains("account_deleted")).collect();
    assert_eq!(audit.len(), 1, "one audit line: {logs}");
    let line = audit[0];
    assert!(line.contains("audit:") && line.contains("audit_id=") && line.contains("sessions_revoked=2"), "{line}");
    for personal in [user.id.as_str(), "xia@example.com", "xia_audit", "127.0.0.1"] {
        assert!(!line.contains(personal), "{personal} in the audit line: {line}");
    }
    for secret in
        [PASSWORD, new_password, "$argon2", &verification, &reset, &session.refresh_token, &session.access_token]
    {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
}
