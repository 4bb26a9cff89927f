//! Email verification: the token mailed through the outbox on registration, single use, expiry; the outbox
//! keeping mails while RabbitMQ is unreachable.

use chrono::{DateTime, Utc};
use iknow_messaging::consume;
use iknow_proto::identity::v1::{
    DeleteUserRequest, GetUserRequest, RequestPasswordResetRequest, User, VerifyEmailRequest,
};
use iknow_testkit::TcpProxy;

use crate::helpers::{PASSWORD, TestApp, broker_addr, failing_fields, registration, spawn, spawn_with, through_proxy};

async fn verify(app: &TestApp, token: &str) -> Result<User, tonic::Status> {
    app.client.clone().verify_email(VerifyEmailRequest { token: token.into() }).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn register_mails_a_token_that_verifies_once() {
    let app = spawn().await;
    let mut mails = app.listen_notifications("email.verification").await;
    let mut request = tonic::Request::new(registration("Kim@Example.com", "kim"));
    request.metadata_mut().insert("x-request-id", "req-verify-1".parse().unwrap());
    let user = app.client.clone().register(request).await.expect("registers").into_inner();
    assert!(!user.email_verified);

    let delivery = mails.next_delivery().await;
    assert_eq!(consume::header(&delivery, "x-request-id").as_deref(), Some("req-verify-1"));
    let mail: serde_json::Value = serde_json::from_slice(&delivery.data).unwrap();
    assert_eq!(mail["type"], "email_verification");
    assert_eq!(mail["userId"], user.id.as_str());
    assert_eq!(mail["email"], "Kim@Example.com");
    assert_eq!(mail["username"], "kim");
    let token = mail["token"].as_str().expect("token").to_owned();
    assert_eq!(token.len(), 43, "32 bytes, base64url without padding");
    let expires: DateTime<Utc> = mail["expiresAt"].as_str().unwrap().parse().expect("RFC 3339");
    let hours = (expires - Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.0..=24.0).contains(&hours), "24 h lifetime, got {hours} h");

    // Only the SHA-256 is stored; the relay deletes the row once published.
    let stored: String =
        sqlx::query_scalar("SELECT email_verification_token_hash FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&token));
    iknow_testkit::eventually(20, || async { (app.outbox_rows().await == 0).then_some(()) }).await;

    let verified = verify(&app, &token).await.expect("the mailed token verifies");
    assert_eq!(verified.id, user.id);
    assert!(verified.email_verified);
    assert!(verified.updated_at >= user.updated_at);
    let got = app.client.clone().get_user(GetUserRequest { id: user.id.clone() }).await.unwrap().into_inner();
    assert!(got.email_verified);
    let cleared: (Option<String>, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT email_verification_token_hash, email_verification_expires FROM users")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(cleared, (None, None));

    // Single use; unknown and empty tokens get the same answer.
    for bad in [token.as_str(), "not-a-token", ""] {
        let status = verify(&app, bad).await.expect_err("refused");
        assert_eq!(failing_fields(&status), ["token"], "{bad}");
    }
}

#[tokio::test]
async fn expired_verification_token_is_refused() {
    let app = spawn().await;
    let mut mails = app.listen_notifications("email.verification").await;
    app.register("lou@example.com", "lou").await;
    let token = mails.next_json().await["token"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE users SET email_verification_expires = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    let status = verify(&app, &token).await.expect_err("expired");
    assert_eq!(failing_fields(&status), ["token"]);
    let verified: bool = sqlx::query_scalar("SELECT email_verified FROM users").fetch_one(&app.pool).await.unwrap();
    assert!(!verified);
}

#[tokio::test]
async fn rabbitmq_unreachable_never_fails_a_call_and_messages_wait_in_the_outbox() {
    let dead = iknow_testkit::dead_addr().await;
    let app = spawn_with(|c| c.amqp_url = format!("amqp://guest:guest@{dead}/%2f").into()).await;
    let user = app.register("max@example.com", "max").await;
    let mut client = app.client.clone();
    client.request_password_reset(RequestPasswordResetRequest { email: "max@example.com".into() }).await.unwrap();
    app.register("ned@example.com", "ned").await;
    client.delete_user(DeleteUserRequest { id: user.id.clone(), password: PASSWORD.into() }).await.expect("deleted");

    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT exchange, routing_key FROM outbox ORDER BY id").fetch_all(&app.pool).await.unwrap();
    let (notifications, events) = (&app.config.notifications_exchange, &app.config.events_exchange);
    assert_eq!(
        rows,
        [
            (notifications.clone(), "email.verification".to_owned()),
            (notifications.clone(), "email.password_reset".to_owned()),
            (notifications.clone(), "email.verification".to_owned()),
            (events.clone(), "user.deleted".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_mail_held_while_rabbitmq_is_cut_arrives_once_it_is_back() {
    let proxy = TcpProxy::start(broker_addr().await).await;
    proxy.cut();
    let app = spawn_with(|c| c.amqp_url = through_proxy(&proxy).into()).await;
    let mut mails = app.listen_notifications("email.verification").await;
    let user = app.register("oli@example.com", "oli").await;
    assert_eq!(app.outbox_rows().await, 1, "the mail waits while the broker is unreachable");
    proxy.restore();
    let mail = mails.next_json().await;
    assert_eq!(mail["userId"], user.id.as_str());
    iknow_testkit::eventually(20, || async { (app.outbox_rows().await == 0).then_some(()) }).await;
}

#[tokio::test]
async fn shutdown_stops_the_server_and_the_relay() {
    iknow_common::telemetry::init_for_tests();
    let db = iknow_testkit::TestDb::new().await;
    let app = user_identity::Application::build(user_identity::Config::for_tests(&db.url)).await.unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(30), running).await;
    ended.expect("run_until returns after shutdown").expect("task").expect("clean stop");
}
