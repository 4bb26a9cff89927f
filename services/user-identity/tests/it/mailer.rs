//! The mailer: verification and password-reset mails (text and HTML) reach the SMTP server (a mock: it is outside
//! the product) or an `.eml` file through the real RabbitMQ, their links carry working tokens, a message id
//! is mailed once however often its message comes, nothing is lost while the SMTP server refuses or is down, a
//! mail that keeps failing ends in the dead-letter queue, and neither the token nor the address reaches the logs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use iknow_messaging::events::{self, EmailVerification, TokenMail};
use iknow_proto::identity::v1::{ConfirmPasswordResetRequest, RequestPasswordResetRequest, VerifyEmailRequest};
use iknow_testkit::logs::Capture;
use iknow_testkit::smtp::{Mail, Parsed, SmtpMock};
use lapin::BasicProperties;
use lapin::message::BasicGetMessage;
use lapin::options::BasicGetOptions;
use tracing::Level;
use user_identity::config::MailTransport;
use user_identity::mailer;

use crate::helpers::{TestApp, spawn_with};

/// Generous bound of every wait: the mails normally arrive within a second.
const WAIT: Duration = Duration::from_secs(30);

/// The service with its mailer on; the mailer's durable queues, the test's exchange and its mail folder are
/// deleted afterwards.
struct Mailing {
    // Dropped first: the service stops before its queues go.
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
    queues: [String; 2],
    exchange: String,
    mail_dir: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.mail_dir);
        let (queues, exchange) = (self.queues.clone(), self.exchange.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                let Ok(conn) = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await else { return };
                if let Ok(ch) = conn.create_channel().await {
                    for queue in &queues {
                        let _ = ch.queue_delete(queue.as_str().into(), Default::default()).await;
                    }
                    let _ = ch.exchange_delete(exchange.as_str().into(), Default::default()).await;
                }
                let _ = conn.close(200, "OK".into()).await;
            });
        })
        .join();
    }
}

/// The service mailing with `configure`'s settings (public URL `https://iknow.test`).
async fn spawn_mailing(configure: impl FnOnce(&mut user_identity::Config)) -> Mailing {
    let app = spawn_with(|c| {
        c.mailer_enabled = true;
        c.public_url = "https://iknow.test".into();
        configure(c);
    })
    .await;
    let _cleanup = Cleanup {
        queues: [app.config.mailer_queue(), app.config.mailer_dead_queue()],
        exchange: app.config.notifications_exchange.clone(),
        mail_dir: app.config.mail_dir.clone(),
    };
    // The queues exist before the test's first mail, as a deployed mailer's durable queues do (the mailer
    // connects in the background: a mail published before it has bound its queue would go nowhere).
    let conn = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    mailer::declare(&channel, &app.config.notifications_exchange, &app.config.mailer_queue()).await.unwrap();
    let _ = conn.close(200, "OK".into()).await;
    Mailing { app, _cleanup }
}

async fn spawn_mailing_to(smtp_url: String) -> Mailing {
    spawn_mailing(|c| c.smtp_url = smtp_url.into()).await
}

/// The token of the link to `view` (`https://iknow.test/?view={view}#token=…`) in `text`, URL-decoded.
fn token_in(text: &str, view: &str) -> String {
    let prefix = format!("https://iknow.test/?view={view}#token=");
    let start = text.find(&prefix).unwrap_or_else(|| panic!("no {view} link in {text}")) + prefix.len();
    let encoded = text[start..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap();
    url::form_urlencoded::parse(format!("t={encoded}").as_bytes()).next().unwrap().1.into_owned()
}

/// The token of the link to `view` in the mail's text part, URL-decoded.
fn link_token(mail: &Mail, view: &str) -> String {
    token_in(&mail.parsed().part("text/plain").expect("a text part").body, view)
}

async fn verify(app: &TestApp, token: &str) -> bool {
    let reply = app.client.clone().verify_email(VerifyEmailRequest { token: token.into() }).await;
    reply.expect("the mailed token verifies").into_inner().email_verified
}

/// Checks `parsed` is a `multipart/alternative` mail of a text and an HTML part that both carry the link to
/// `view`, and returns its token.
fn assert_text_and_html(parsed: &Parsed, view: &str) -> String {
    let content_type = parsed.header("Content-Type").unwrap_or_default();
    assert!(content_type.starts_with("multipart/alternative"), "{parsed:?}");
    assert_eq!(parsed.parts.len(), 2, "{parsed:?}");
    let text = parsed.part("text/plain").expect("a text part");
    let html = parsed.part("text/html").expect("an HTML part");
    let token = token_in(&text.body, view);
    assert_eq!(token_in(&html.body, view), token, "the same link in both parts");
    assert!(html.body.contains("<a href=\"https://iknow.test/?view="), "{}", html.body);
    let lifetime = if view == "verify-email" { "valid for 24 hours" } else { "valid for 1 hour" };
    assert!(text.body.contains(lifetime) && html.body.contains(lifetime), "{parsed:?}");
    token
}

async fn sent_mails(app: &TestApp) -> Vec<(uuid::Uuid, String)> {
    sqlx::query_as("SELECT message_id, kind FROM sent_mails ORDER BY sent_at").fetch_all(&app.pool).await.unwrap()
}

/// The `sent_mails` rows once there are `n` (a mail is recorded just after the SMTP server accepted it).
async fn wait_sent(app: &TestApp, n: usize) -> Vec<(uuid::Uuid, String)> {
    iknow_testkit::eventually(20, || async {
        let rows = sent_mails(app).await;
        (rows.len() >= n).then_some(rows)
    })
    .await
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
        let parsed = mail.parsed();
        assert_eq!(parsed.header("Subject"), Some("Verify your I Know email address"));
        assert_eq!(parsed.header("To"), Some(format!("{name} <{address}>").as_str()));
        assert!(parsed.part("text/plain").unwrap().body.starts_with(&format!("Hello {name},")), "{parsed:?}");
        let token = assert_text_and_html(&parsed, "verify-email");
        assert!(verify(&app, &token).await);
    }
    // Each mail's Message-ID is its message's id, recorded as sent.
    let recorded = wait_sent(&app, 2).await;
    assert_eq!(recorded.len(), 2);
    for (id, kind) in &recorded {
        assert_eq!(kind, "email.verification");
        let with_id = mails.iter().filter(|m| m.parsed().header("Message-ID") == Some(&format!("<{id}@iknow>")));
        assert_eq!(with_id.count(), 1, "{id}");
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
    let parsed = reset.parsed();
    assert_eq!(parsed.header("Subject"), Some("Reset your I Know password"));
    let token = assert_text_and_html(&parsed, "reset-password");
    assert_eq!(token, link_token(reset, "reset-password"));
    let new_password = "Mailed-Horse-3";
    client
        .confirm_password_reset(ConfirmPasswordResetRequest { token, new_password: new_password.into() })
        .await
        .expect("the mailed token resets the password");
    app.login("cy_mail", new_password).await.expect("the new password logs in");
}

/// The `.eml` files of `dir`.
fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    files.sort();
    files
}

async fn wait_for_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let waiting = async {
        loop {
            let files = eml_files(dir);
            if files.len() >= n {
                return files;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, waiting).await.unwrap_or_else(|_| panic!("{n} .eml files in {}", dir.display()))
}

// A current-thread runtime: the mailer runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn file_mode_writes_each_mail_as_an_eml_file_and_logs_its_path() {
    let app = spawn_mailing(|c| c.mail_transport = MailTransport::File).await;
    let dir = app.config.mail_dir.clone();
    let (capture, _guard) = Capture::install(Level::TRACE);
    app.register("hal@example.com", "hal_mail").await;
    app.client
        .clone()
        .request_password_reset(RequestPasswordResetRequest { email: "hal@example.com".into() })
        .await
        .unwrap();

    let files = wait_for_files(&dir, 2).await;
    assert_eq!(files.len(), 2);
    let mut tokens = vec![];
    for (file, (subject, view)) in files
        .iter()
        .zip([("Verify your I Know email address", "verify-email"), ("Reset your I Know password", "reset-password")])
    {
        let raw = std::fs::read_to_string(file).unwrap();
        assert!(raw.contains("\r\n"), "RFC 5322 line ends");
        let parsed = Parsed::new(&raw);
        // Named by the message id (UUID v7: the names sort in the order the mails were queued).
        let id = file.file_stem().unwrap().to_str().unwrap();
        assert_eq!(parsed.header("Message-ID"), Some(format!("<{id}@iknow>").as_str()));
        assert_eq!(parsed.header("To"), Some("hal_mail <hal@example.com>"));
        assert_eq!(parsed.header("From"), Some("\"I Know\" <no-reply@iknow.local>"));
        assert_eq!(parsed.header("Subject"), Some(subject));
        assert!(parsed.header("Date").is_some());
        // The link is on one line of the file as it is (7bit), for a person or a test reading the file.
        assert!(raw.contains(&format!("https://iknow.test/?view={view}#token=")), "{raw}");
        tokens.push(assert_text_and_html(&parsed, view));
        wait_for_log(&capture, &file.display().to_string()).await;
    }
    // No temporary file stays behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    assert_eq!(sent_mails(&app).await.len(), 2);
    let logs = capture.text();
    assert_eq!(capture.lines("INFO", "mail written"), 2, "{logs}");
    for secret in [tokens[0].as_str(), tokens[1].as_str(), "hal@example.com"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs: {logs}");
    }
    // The verification link works.
    assert!(verify(&app, &tokens[0]).await);
}

/// A readable verification message for `email`, published by hand with message id `id`.
async fn publish_verification(channel: &lapin::Channel, exchange: &str, id: uuid::Uuid, email: &str) {
    let mail = TokenMail {
        user_id: uuid::Uuid::now_v7(),
        email: email.into(),
        username: "hand_made".into(),
        token: format!("token-{id}"),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(24),
    };
    let body = serde_json::to_vec(&events::to_value(&EmailVerification(mail)).unwrap()).unwrap();
    let properties = BasicProperties::default().with_message_id(id.to_string().into());
    channel
        .basic_publish(exchange.into(), "email.verification".into(), Default::default(), &body, properties)
        .await
        .unwrap()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_message_published_twice_is_mailed_once() {
    let smtp = SmtpMock::start().await;
    let app = spawn_mailing_to(smtp.url()).await;
    let conn = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    let exchange = app.config.notifications_exchange.as_str();
    mailer::declare(&channel, exchange, &app.config.mailer_queue()).await.unwrap();
    let (twice, once) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    publish_verification(&channel, exchange, twice, "twice@example.com").await;
    publish_verification(&channel, exchange, twice, "twice@example.com").await;
    // Queued behind the duplicate (the mailer takes them in order): once it is mailed, the duplicate was handled.
    publish_verification(&channel, exchange, once, "once@example.com").await;

    let mails = smtp.wait_for(2, WAIT).await;
    let recipients: Vec<&str> = mails.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(recipients, ["twice@example.com", "once@example.com"]);
    assert_eq!(mails[0].parsed().header("Message-ID"), Some(format!("<{twice}@iknow>").as_str()));
    // Recorded once the SMTP server's acceptance came back.
    let recorded: Vec<uuid::Uuid> = wait_sent(&app, 2).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(recorded, [twice, once]);

    // A message redelivered later (the mailer's ack lost, the relay's confirm lost) is not mailed again either.
    publish_verification(&channel, exchange, twice, "twice@example.com").await;
    let after = uuid::Uuid::now_v7();
    publish_verification(&channel, exchange, after, "after@example.com").await;
    let mails = smtp.wait_for(3, WAIT).await;
    let recipients: Vec<&str> = mails.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(recipients, ["twice@example.com", "once@example.com", "after@example.com"]);
    let _ = conn.close(200, "OK".into()).await;
}

#[tokio::test]
async fn a_mail_refused_a_few_times_is_delivered_once_it_is_accepted() {
    let smtp = SmtpMock::start().await;
    smtp.refuse_next(3);
    let app = spawn_mailing_to(smtp.url()).await;
    app.register("dee@example.com", "dee_mail").await;

    // Refused three times: retried after a pause each time, not dropped nor dead-lettered, then sent once.
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(smtp.refused(), 3);
    assert_eq!(mails[0].to, ["dee@example.com"]);
    assert!(verify(&app, &link_token(&mails[0], "verify-email")).await);
    // Recorded once; nothing else comes, nothing is dead-lettered.
    assert_eq!(wait_sent(&app, 1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(smtp.refused(), 3);
    assert_eq!(queue_length(&app.config.mailer_queue()).await, 0);
    assert_eq!(queue_length(&app.config.mailer_dead_queue()).await, 0);
}

/// Messages ready in `queue` (declared passively).
async fn queue_length(queue: &str) -> u32 {
    let conn = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    let options = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
    let queue = channel.queue_declare(queue.into(), options, Default::default()).await.unwrap();
    let _ = conn.close(200, "OK".into()).await;
    queue.message_count()
}

/// Waits for the next message of the dead-letter queue and takes it.
async fn next_dead_letter(app: &TestApp) -> BasicGetMessage {
    let conn = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    // Declared here too: polling a queue the mailer has not declared yet would close the channel.
    mailer::declare(&channel, &app.config.notifications_exchange, &app.config.mailer_queue()).await.unwrap();
    let queue = app.config.mailer_dead_queue();
    let waiting = async {
        loop {
            let got = channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true }).await;
            if let Ok(Some(message)) = got {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let message = tokio::time::timeout(WAIT, waiting).await.expect("a dead letter");
    let _ = conn.close(200, "OK".into()).await;
    message
}

fn header(message: &BasicGetMessage, name: &str) -> Option<String> {
    iknow_messaging::consume::header(&message.delivery, name)
}

#[tokio::test]
async fn a_mail_the_smtp_server_keeps_refusing_is_dead_lettered_after_the_last_attempt() {
    let smtp = SmtpMock::start().await;
    smtp.refuse(true);
    let app = spawn_mailing(|c| {
        c.smtp_url = smtp.url().into();
        c.mail_max_attempts = 3;
        c.mail_retry_base_ms = 10;
        c.mail_retry_max_ms = 20;
    })
    .await;
    let mut listener = app.listen_notifications("email.verification").await;
    let user = app.register("ida@example.com", "ida_mail").await;
    let published = iknow_messaging::consume::message_id(&listener.next_delivery().await).unwrap();

    let dead = next_dead_letter(&app).await;
    assert_eq!(smtp.refused(), 3, "three attempts, no more");
    assert_eq!(header(&dead, mailer::ATTEMPTS_HEADER).as_deref(), Some("3"));
    assert_eq!(header(&dead, mailer::ERROR_HEADER).as_deref(), Some("SMTP 451"));
    assert_eq!(header(&dead, mailer::ROUTING_KEY_HEADER).as_deref(), Some("email.verification"));
    assert_eq!(iknow_messaging::consume::message_id(&dead.delivery), Some(published));
    let mail = events::decode::<EmailVerification>(&dead.delivery.data).expect("the message as it was").0;
    assert_eq!(mail.user_id.to_string(), user.id);
    assert!(smtp.messages().is_empty());
    assert!(sent_mails(&app).await.is_empty());
    assert_eq!(queue_length(&app.config.mailer_queue()).await, 0);
    // Nothing is tried after that.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.refused(), 3);
}

#[tokio::test]
async fn a_mail_rejected_for_good_is_dead_lettered_at_once() {
    let smtp = SmtpMock::start().await;
    smtp.reject(true);
    let app = spawn_mailing_to(smtp.url()).await;
    app.register("jo@example.com", "jo_mail").await;

    let dead = next_dead_letter(&app).await;
    assert_eq!(smtp.refused(), 1);
    assert_eq!(header(&dead, mailer::ATTEMPTS_HEADER).as_deref(), Some("1"));
    assert_eq!(header(&dead, mailer::ERROR_HEADER).as_deref(), Some("SMTP 550"));
    // The next mail goes through (the server accepts again).
    smtp.reject(false);
    app.register("kai@example.com", "kai_mail").await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, ["kai@example.com"]);
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
    wait_for_log(&capture, "SMTP server unreachable; it will be retried").await;

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
async fn unreadable_messages_are_dead_lettered_without_their_body_in_the_log() {
    let smtp = SmtpMock::start().await;
    let app = spawn_mailing_to(smtp.url()).await;
    let (capture, _guard) = Capture::install(Level::DEBUG);
    let conn = iknow_messaging::consume::connect(&iknow_testkit::amqp_url()).await.unwrap();
    let channel = conn.create_channel().await.unwrap();
    let exchange = app.config.notifications_exchange.as_str();
    mailer::declare(&channel, exchange, &app.config.mailer_queue()).await.unwrap();
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
    assert_eq!(logs.matches("unreadable mail message dead-lettered").count(), 2, "{logs}");
    assert!(!logs.contains("leaky-token-123"), "{logs}");
    // Both wait in the dead-letter queue, as they came, with why.
    let first = next_dead_letter(&app).await;
    assert_eq!(&first.delivery.data[..], b"not json");
    assert!(header(&first, mailer::ERROR_HEADER).unwrap().starts_with("unreadable: Syntax error"), "{first:?}");
    let second = next_dead_letter(&app).await;
    assert!(String::from_utf8_lossy(&second.delivery.data).contains("leaky-token-123"));
    assert_eq!(header(&second, mailer::ATTEMPTS_HEADER).as_deref(), Some("0"));
    let _ = conn.close(200, "OK".into()).await;
}
