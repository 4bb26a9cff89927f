//! The mailer: verification and password-reset mails reach the SMTP server (a mock: it is outside the product)
//! through the real RabbitMQ, their links carry working tokens, nothing is lost while the SMTP server refuses or
//! is down, and neither the token nor the address reaches the logs.

use std::time::Duration;

use iknow_proto::identity::v1::{ConfirmPasswordResetRequest, RequestPasswordResetRequest, VerifyEmailRequest};
use iknow_testkit::logs::Capture;
use iknow_testkit::smtp::{Mail, SmtpMock};
use tracing::Level;

use crate::helpers::{TestApp, spawn_with};

/// Generous bound of every wait: the mails normally arrive within a second.
const WAIT: Duration = Duration::from_secs(30);

/// The service with its mailer on; the mailer's durable queue and the test's exchange are deleted afterwards.
struct Mailing {
    // Dropped first: the service stops before its queue goes.
    app: TestApp,
    _cleanup: Cleanup,
}

impl std::ops::Deref for Mailing {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

struct Cleanup {
    queue: String,
    exchange: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (queue, exchange) = (self.queue.clone(), self.exchange.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                let Ok(conn) = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await else { return };
                if let Ok(ch) = conn.create_channel().await {
                    let _ = ch.queue_delete(queue.as_str().into(), Default::default()).await;
                    let _ = ch.exchange_delete(exchange.as_str().into(), Default::default()).await;
                }
                let _ = conn.close(200, "OK".into()).await;
            });
        })
        .join();
    }
}

async fn spawn_mailing_to(smtp_url: String) -> Mailing {
    let app = spawn_with(|c| {
        c.mailer_enabled = true;
        c.smtp_url = smtp_url.into();
        c.public_url = "https://iknow.test".into();
    })
    .await;
    let _cleanup = Cleanup { queue: app.config.mailer_queue(), exchange: app.config.notifications_exchange.clone() };
    Mailing { app, _cleanup }
}

/// The token of the mail's link to `page` (`https://iknow.test/#/{page}?token=…`), URL-decoded.
fn link_token(mail: &Mail, page: &str) -> String {
    let text = mail.text();
    let prefix = format!("https://iknow.test/#/{page}?token=");
    let start = text.find(&prefix).unwrap_or_else(|| panic!("no {page} link in {text}")) + prefix.len();
    let encoded = text[start..].split_whitespace().next().unwrap();
    url::form_urlencoded::parse(format!("t={encoded}").as_bytes()).next().unwrap().1.into_owned()
}

async fn verify(app: &TestApp, token: &str) -> bool {
    let reply = app.client.clone().verify_email(VerifyEmailRequest { token: token.into() }).await;
    reply.expect("the mailed token verifies").into_inner().email_verified
}

#[tokio::test]
async fn registration_mails_one_working_verification_link_per_user() {
    let smtp = SmtpMock::start().await;
    let app = spawn_mailing_to(smtp.url()).await;
    app.register("ana@example.com", "ana_mail").await;
    app.register("bo@example.com", "bo_mail").await;

    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    for (address, name) in [("ana@example.com", "ana_mail"), ("bo@example.com", "bo_mail")] {
        let to_them: Vec<&Mail> = mails.iter().filter(|m| m.to == [address]).collect();
        assert_eq!(to_them.len(), 1, "one mail to {address}");
        let mail = to_them[0];
        assert_eq!(mail.from, "no-reply@iknow.local");
        let text = mail.text();
        assert!(text.contains("Subject: Verify your I Know email address"), "{text}");
        assert!(text.contains(&format!("Hello {name},")), "{text}");
        assert!(verify(&app, &link_token(mail, "verify-email")).await);
    }
}

#[tokio::test]
async fn password_reset_mails_a_working_reset_link() {
    let smtp = SmtpMock::start().await;
    let app = spawn_mailing_to(smtp.url()).await;
    app.register("cy@example.com", "cy_mail").await;
    let mut client = app.client.clone();
    client.request_password_reset(RequestPasswordResetRequest { email: "cy@example.com".into() }).await.unwrap();

    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "the verification mail, then the reset mail");
    let reset = &mails[1];
    assert_eq!(reset.to, ["cy@example.com"]);
    assert!(reset.text().contains("Subject: Reset your I Know password"), "{}", reset.text());
    let token = link_token(reset, "reset-password");
    let new_password = "Mailed-Horse-3";
    client
        .confirm_password_reset(ConfirmPasswordResetRequest { token, new_password: new_password.into() })
        .await
        .expect("the mailed token resets the password");
    app.login("cy_mail", new_password).await.expect("the new password logs in");
}

#[tokio::test]
async fn a_mail_refused_by_the_smtp_server_is_delivered_once_it_accepts() {
    let smtp = SmtpMock::start().await;
    smtp.refuse(true);
    let app = spawn_mailing_to(smtp.url()).await;
    app.register("dee@example.com", "dee_mail").await;

    // Refused twice: retried after a pause, not dropped.
    smtp.wait_for_refusals(2, WAIT).await;
    assert!(smtp.messages().is_empty());
    smtp.refuse(false);
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, ["dee@example.com"]);
    assert!(verify(&app, &link_token(&mails[0], "verify-email")).await);
}

/// Waits until the captured log shows `line` (the log is the only witness of an attempt that found no server).
async fn wait_for_log(capture: &Capture, line: &str) {
    let waiting = async {
        while !capture.text().contains(line) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, waiting).await.unwrap_or_else(|_| panic!("no {line:?} in the log"));
}

// A current-thread runtime: the mailer runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_mail_sent_while_the_smtp_server_is_down_is_delivered_when_it_is_back() {
    // A port nobody listens on: the SMTP server is down.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = spawn_mailing_to(format!("smtp://{addr}")).await;
    let (capture, _guard) = Capture::install(Level::DEBUG);
    app.register("eve@example.com", "eve_mail").await;
    wait_for_log(&capture, "SMTP server unreachable").await;

    let smtp = SmtpMock::start_on(addr).await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, ["eve@example.com"]);
    assert!(verify(&app, &link_token(&mails[0], "verify-email")).await);
}

// A current-thread runtime: the mailer runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn the_mailer_never_logs_the_token_or_the_address() {
    let smtp = SmtpMock::start().await;
    smtp.refuse(true);
    let app = spawn_mailing_to(smtp.url()).await;
    let (capture, _guard) = Capture::install(Level::TRACE);
    let user = app.register("fay@example.com", "fay_mail").await;
    smtp.wait_for_refusals(1, WAIT).await;
    smtp.refuse(false);
    let mails = smtp.wait_for(1, WAIT).await;
    let token = link_token(&mails[0], "verify-email");
    // The acknowledgement's log line follows the SMTP answer: wait for it.
    wait_for_log(&capture, "mail sent").await;

    let logs = capture.text();
    assert!(logs.contains("mail sent") && logs.contains(&user.id), "the capture works: {logs}");
    assert!(logs.contains("SMTP server refused the mail"), "{logs}");
    for secret in [token.as_str(), "fay@example.com"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs: {logs}");
    }
}

// A current-thread runtime: the mailer runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn unreadable_messages_are_dropped_without_their_body_in_the_log() {
    let smtp = SmtpMock::start().await;
    let app = spawn_mailing_to(smtp.url()).await;
    let (capture, _guard) = Capture::install(Level::DEBUG);
    let conn = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    let exchange = app.config.notifications_exchange.as_str();
    user_identity::mailer::declare(&channel, exchange, &app.config.mailer_queue()).await.unwrap();
    for body in [&b"not json"[..], br#"{"type":"email_verification","token":"leaky-token-123"}"#] {
        channel
            .basic_publish(exchange.into(), "email.verification".into(), Default::default(), body, Default::default())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // Queued behind them: delivered, so they did not block the queue.
    app.register("gus@example.com", "gus_mail").await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, ["gus@example.com"]);
    wait_for_log(&capture, "mail sent").await;
    let logs = capture.text();
    assert_eq!(logs.matches("unreadable mail message dropped").count(), 2, "{logs}");
    assert!(!logs.contains("leaky-token-123"), "{logs}");
    let _ = conn.close(200, "OK".into()).await;
}
