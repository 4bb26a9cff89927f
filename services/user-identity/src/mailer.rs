//! The mailer: delivers the verification and password-reset mails the service puts in its outbox.
//!
//! It declares (idempotently) the notifications exchange and its own durable queue
//! `{notifications_exchange}.mailer` bound with `email.*`, consumes with manual acknowledgements, renders each
//! message as a short plain-text mail and hands it to the SMTP server of `smtp_url`. A message is acknowledged
//! only once the SMTP server accepted the mail; when it refuses or cannot be reached the message goes back to
//! the queue after a pause that doubles up to [`MAX_PAUSE`], so nothing is lost while the SMTP server is down. A
//! message that cannot be read is dropped with a warning. The token and the email address are never logged;
//! the log lines name the user id and the kind of mail.

use std::time::Duration;

use anyhow::Context as _;
use chrono::SecondsFormat;
use futures::StreamExt as _;
use iknow_messaging::consume;
use iknow_messaging::events::{self, EmailVerification, Event as _, PasswordReset, TokenMail};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::Config;

/// Messages RabbitMQ may hand over before they are acknowledged (mails are sent one at a time).
const PREFETCH: u16 = 4;
/// The pause before a mail the SMTP server did not accept goes back to the queue, doubled after each further
/// failure up to [`MAX_PAUSE`]; back to this after a mail was accepted.
const MIN_PAUSE: Duration = Duration::from_millis(250);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// An SMTP conversation that takes longer counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The kinds of mail, by routing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `email.verification`
    Verification,
    /// `email.password_reset`
    PasswordReset,
}

impl Kind {
    /// The kind published under `routing_key`, if any.
    pub fn from_routing_key(routing_key: &str) -> Option<Kind> {
        match routing_key {
            EmailVerification::NAME => Some(Kind::Verification),
            PasswordReset::NAME => Some(Kind::PasswordReset),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Verification => EmailVerification::NAME,
            Kind::PasswordReset => PasswordReset::NAME,
        }
    }

    /// Reads a message of this kind.
    pub fn decode(self, body: &[u8]) -> Result<TokenMail, events::DecodeError> {
        match self {
            Kind::Verification => events::decode::<EmailVerification>(body).map(|e| e.0),
            Kind::PasswordReset => events::decode::<PasswordReset>(body).map(|e| e.0),
        }
    }
}

/// A rendered mail: its subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: &'static str,
    pub body: String,
}

/// Renders the mail of `kind` for `mail`, its link pointing at the web app of `public_url`.
pub fn render(kind: Kind, mail: &TokenMail, public_url: &str) -> Rendered {
    let token: String = url::form_urlencoded::byte_serialize(mail.token.as_bytes()).collect();
    let base = public_url.trim_end_matches('/');
    let expires = mail.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let username = &mail.username;
    match kind {
        Kind::Verification => Rendered {
            subject: "Verify your I Know email address",
            body: format!(
                "Hello {username},\n\nplease confirm your email address by opening this link:\n\n\
                 {base}/#/verify-email?token={token}\n\nThe link is valid until {expires}.\n\n\
                 If you did not create an I Know account, ignore this mail.\n"
            ),
        },
        Kind::PasswordReset => Rendered {
            subject: "Reset your I Know password",
            body: format!(
                "Hello {username},\n\nto choose a new password, open this link:\n\n\
                 {base}/#/reset-password?token={token}\n\nThe link is valid until {expires} and works once.\n\n\
                 If you did not ask for a new password, ignore this mail: your password stays as it is.\n"
            ),
        },
    }
}

/// The mailer: the SMTP transport and what every mail shares. Built with the service (a bad `smtp_url` or
/// `mail_from` stops the start), run beside the gRPC server with [`Mailer::run`].
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
    amqp_url: iknow_common::secret::Secret,
    exchange: String,
    queue: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("queue", &self.queue).finish_non_exhaustive()
    }
}

impl Mailer {
    /// Reads the mailer's settings: `smtp_url` (`smtp://[user:password@]host[:port]`, `?tls=required` or
    /// `?tls=opportunistic` for STARTTLS; `smtps://` for implicit TLS), `mail_from` and `public_url`.
    pub fn new(config: &Config) -> anyhow::Result<Mailer> {
        // lettre's parse errors never contain the URL (it may carry a password).
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.smtp_url.expose())
            .context("identity smtp_url is not a valid SMTP URL")?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = config.mail_from.parse().context("identity mail_from is not a valid mailbox")?;
        Ok(Mailer {
            transport,
            from,
            public_url: config.public_url.clone(),
            amqp_url: config.amqp_url.clone(),
            exchange: config.notifications_exchange.clone(),
            queue: config.mailer_queue(),
        })
    }

    /// Runs the mailer until `stop` turns true (or its sender goes), reconnecting to RabbitMQ with backoff. A
    /// mail being sent when it stops is not acknowledged: it is sent again later.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let options = consume::Options::new("mailer").queue(&self.queue).backoff(MIN_BACKOFF, MAX_BACKOFF);
        consume::run(self.amqp_url.expose(), options, stop, |connection, attempt| self.session(connection, attempt))
            .await;
        tracing::info!(queue = %self.queue, "mailer stopped");
    }

    /// One connection's life: declare, then consume until the stream ends or fails.
    async fn session(&self, conn: lapin::Connection, attempt: consume::Attempt) -> anyhow::Result<()> {
        let channel = conn.create_channel().await?;
        declare(&channel, &self.exchange, &self.queue).await?;
        let mut consumer = consume::start(&channel, &self.queue, PREFETCH, false).await?;
        attempt.consuming().await;
        tracing::info!(queue = %self.queue, exchange = %self.exchange, "mailer started");
        let mut pause = MIN_PAUSE;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            let span = iknow_messaging::trace::delivery_span("mailer", &delivery);
            if self.handle(&delivery).instrument(span).await? {
                pause = MIN_PAUSE;
            } else {
                // The SMTP server did not take it: wait, then give it back to the queue to try again.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
                delivery.nack(BasicNackOptions { multiple: false, requeue: true }).await?;
            }
        }
        Ok(())
    }

    /// Handles one message: sends and acknowledges it (true), drops it when unreadable (true), or reports
    /// that the SMTP server did not accept it (false; left unacknowledged).
    async fn handle(&self, delivery: &Delivery) -> anyhow::Result<bool> {
        let routing_key = delivery.routing_key.as_str();
        let Some(kind) = Kind::from_routing_key(routing_key) else {
            tracing::warn!(routing_key, "message of an unknown kind on the mailer queue dropped");
            delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await?;
            return Ok(true);
        };
        let mail = match kind.decode(&delivery.data) {
            Ok(mail) => mail,
            Err(e) => {
                // Where and how it failed, never a value: serde's messages may quote one (the token).
                let reason = match &e {
                    events::DecodeError::Unreadable(json) => {
                        format!("{:?} error at line {} column {}", json.classify(), json.line(), json.column())
                    }
                    other @ events::DecodeError::OtherType { .. } => other.to_string(),
                };
                tracing::warn!(kind = kind.name(), reason, "unreadable mail message dropped");
                delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await?;
                return Ok(true);
            }
        };
        let message = match self.message(kind, &mail) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(kind = kind.name(), user_id = %mail.user_id, error = %e, "mail cannot be built; dropped");
                delivery.nack(BasicNackOptions { multiple: false, requeue: false }).await?;
                return Ok(true);
            }
        };
        match self.transport.send(message).await {
            Ok(_) => {
                delivery.ack(BasicAckOptions { multiple: false }).await?;
                tracing::info!(kind = kind.name(), user_id = %mail.user_id, "mail sent");
                Ok(true)
            }
            Err(e) => {
                // A server's answer may quote the recipient: only its code is logged.
                match e.status() {
                    Some(code) => tracing::warn!(
                        kind = kind.name(), user_id = %mail.user_id, smtp_code = %code, permanent = e.is_permanent(),
                        "SMTP server refused the mail; it will be retried"
                    ),
                    None => tracing::warn!(
                        kind = kind.name(), user_id = %mail.user_id, error = %e,
                        "SMTP server unreachable; the mail will be retried"
                    ),
                }
                Ok(false)
            }
        }
    }

    fn message(&self, kind: Kind, mail: &TokenMail) -> anyhow::Result<Message> {
        let to = Mailbox::new(Some(mail.username.clone()), mail.email.parse().context("invalid recipient address")?);
        let rendered = render(kind, mail, &self.public_url);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(rendered.body)
            .context("invalid mail")
    }
}

/// Declares the notifications exchange (durable topic, as the relay does), the mailer's durable queue and
/// their binding with `email.*`: the queue survives broker restarts, is shared by the service's replicas and
/// keeps mails published while no mailer runs. Idempotent.
pub async fn declare(channel: &lapin::Channel, exchange: &str, queue: &str) -> anyhow::Result<()> {
    consume::bind_queue(channel, queue, exchange, "email.*", true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> TokenMail {
        TokenMail {
            user_id: uuid::Uuid::nil(),
            email: "ada@example.com".into(),
            username: "ada".into(),
            token: "a+b/c=d".into(),
            expires_at: "2026-01-02T03:04:05.678Z".parse().unwrap(),
        }
    }

    #[test]
    fn verification_mail_links_the_encoded_token() {
        let r = render(Kind::Verification, &mail(), "https://iknow.example/");
        assert_eq!(r.subject, "Verify your I Know email address");
        assert!(r.body.contains("Hello ada"), "{}", r.body);
        assert!(r.body.contains("https://iknow.example/#/verify-email?token=a%2Bb%2Fc%3Dd\n"), "{}", r.body);
        assert!(r.body.contains("2026-01-02T03:04:05Z"), "{}", r.body);
    }

    #[test]
    fn reset_mail_links_the_reset_page() {
        let r = render(Kind::PasswordReset, &mail(), "http://127.0.0.1:3000");
        assert_eq!(r.subject, "Reset your I Know password");
        assert!(r.body.contains("http://127.0.0.1:3000/#/reset-password?token=a%2Bb%2Fc%3Dd\n"), "{}", r.body);
    }

    #[test]
    fn kinds_follow_the_routing_keys() {
        assert_eq!(Kind::from_routing_key("email.verification"), Some(Kind::Verification));
        assert_eq!(Kind::from_routing_key("email.password_reset"), Some(Kind::PasswordReset));
        assert_eq!(Kind::from_routing_key("email.other"), None);
    }
}
