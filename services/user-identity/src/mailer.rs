//! The mailer: delivers the verification and password-reset mails the service puts in its outbox.
//!
//! It declares (idempotently) the notifications exchange, its own durable queue `{notifications_exchange}.mailer`
//! bound with `email.*` and the durable dead-letter queue `{notifications_exchange}.mailer.dead`, consumes with
//! manual acknowledgements and renders each message as a text and HTML mail (`multipart/alternative`) whose
//! link opens the web app. `mail_transport` says where it goes: `file` writes it as `<message-id>.eml` into
//! `mail_dir` (atomically: a temporary file renamed) and logs the file's path; `smtp` hands it to the SMTP server
//! of `smtp_url`.
//!
//! Delivery is at least once and a mail is sent once per message id. The id is the AMQP `message_id` the outbox
//! relay sets (the outbox row id; a hash of the routing key and body when a message has none) and becomes the
//! mail's `Message-ID` (`<id@iknow>`). Before delivering, the mailer claims the id in table `sent_mails`
//! inside a transaction it commits once the mail was delivered (rolled back when not), then acknowledges the
//! message: a redelivered or duplicated message whose id is recorded is acknowledged without sending, and a
//! duplicate handled at the same time by another replica waits on the claim. What remains: a mail delivered
//! whose record is lost (the process dies, or the database fails, between the SMTP server's acceptance and
//! the commit) is sent again when its message comes back.
//!
//! A failed delivery (the SMTP server refuses with a 4xx or cannot be reached, the folder cannot be written)
//! pauses the mailer (`mail_retry_base_ms`, doubled after each further failure up to `mail_retry_max_ms`, back
//! to the base after a delivery), then republishes the message to the back of its queue with its count of
//! failed attempts in header `x-mail-attempts` and acknowledges the original. After `mail_max_attempts`
//! failures, or at once on a permanent 5xx refusal, the message moves to the dead-letter queue (headers
//! `x-mail-attempts`, `x-mail-error`, `x-mail-routing-key`); so do messages of an unknown kind, unreadable
//! ones and mails that cannot be built. The token and the email address are never logged; the log lines name
//! the user id, the kind of mail and the message id.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt as _;
use iknow_messaging::consume;
use iknow_messaging::events::{self, EmailVerification, Event as _, PasswordReset, TokenMail};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel};
use lettre::message::header::ContentTransferEncoding;
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::Config;
use crate::config::MailTransport;

/// Messages RabbitMQ may hand over before they are acknowledged (mails are sent one at a time).
const PREFETCH: u16 = 4;
/// An SMTP conversation that takes longer counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Backoff between attempts to reach RabbitMQ.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// `sent_mails` rows older than this are pruned (at each connection to RabbitMQ): redeliveries come long before.
const KEEP_SENT_DAYS: i32 = 30;
/// AMQP delivery mode of persistent messages.
const PERSISTENT: u8 = 2;
/// The longest line a 7bit body may have (RFC 5322: 998 characters before the CRLF).
const MAX_LINE: usize = 998;

/// Header of a republished or dead-lettered message: how many deliveries of its mail failed.
pub const ATTEMPTS_HEADER: &str = "x-mail-attempts";
/// Header of a dead-lettered message: why the mailer gave up (an SMTP code or a short reason, never a value).
pub const ERROR_HEADER: &str = "x-mail-error";
/// Header of a republished or dead-lettered message: the routing key it was first published under (the kind of
/// mail; a message republished through the default exchange arrives with the queue's name as routing key).
pub const ROUTING_KEY_HEADER: &str = "x-mail-routing-key";

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

    /// Its routing key.
    pub fn name(self) -> &'static str {
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

    /// The web app's view the link opens.
    fn view(self) -> &'static str {
        match self {
            Kind::Verification => "verify-email",
            Kind::PasswordReset => "reset-password",
        }
    }
}

/// The link of a mail of `kind` carrying `token`: `{public_url}/?view=verify-email#token=…` or
/// `{public_url}/?view=reset-password#token=…`, the token URL-encoded. The token is in the fragment, so the
/// browser never sends it to a server (nor does it reach an access log).
pub fn link(kind: Kind, public_url: &str, token: &str) -> String {
    let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("{}/?view={}#token={token}", public_url.trim_end_matches('/'), kind.view())
}

/// A rendered mail: its subject, plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: &'static str,
    pub text: String,
    pub html: String,
}

/// Renders the mail of `kind` for `mail`, its link pointing at the web app of `public_url`; `valid_for` is
/// the token's lifetime (the service's TTL of that kind), said in words beside the expiry time.
pub fn render(kind: Kind, mail: &TokenMail, public_url: &str, valid_for: Duration) -> Rendered {
    let link = link(kind, public_url, &mail.token);
    let username = &mail.username;
    let until = mail.expires_at.format("%Y-%m-%d %H:%M UTC");
    let lifetime = lifetime(valid_for);
    let (subject, intro, button, validity, ignore) = match kind {
        Kind::Verification => (
            "Verify your I Know email address",
            "Please confirm your email address by opening this link:",
            "Verify my email address",
            format!("The link is valid for {lifetime}, until {until}."),
            "If you did not create an I Know account, ignore this mail.",
        ),
        Kind::PasswordReset => (
            "Reset your I Know password",
            "To choose a new password, open this link:",
            "Choose a new password",
            format!("The link is valid for {lifetime}, until {until}, and works once."),
            "If you did not ask for a new password, ignore this mail: your password stays as it is.",
        ),
    };
    let text = format!("Hello {username},\n\n{intro}\n\n{link}\n\n{validity}\n\n{ignore}\n");
    let e = escape_html;
    let muted = "font-size:14px;color:#555555";
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{subject}</title>\n\
         </head>\n\
         <body style=\"margin:0;padding:24px;background:#f4f4f6;color:#1d1d1f;\
         font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.5\">\n\
         <div style=\"max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:24px\">\n\
         <h1 style=\"font-size:20px;margin:0 0 16px\">{subject}</h1>\n\
         <p>Hello {username},</p>\n<p>{intro}</p>\n\
         <p style=\"margin:24px 0\"><a href=\"{link}\" style=\"display:inline-block;background:#0b57d0;\
         color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:8px;font-weight:600\">{button}</a></p>\n\
         <p style=\"{muted}\">Or copy this link into your browser:<br>\n\
         <a href=\"{link}\" style=\"color:#0b57d0;word-break:break-all\">{link}</a></p>\n\
         <p style=\"{muted}\">{validity}</p>\n<p style=\"{muted}\">{ignore}</p>\n\
         </div>\n</body>\n</html>\n",
        subject = e(subject),
        username = e(username),
        intro = e(intro),
        link = e(&link),
        button = e(button),
        validity = e(&validity),
        ignore = e(ignore),
    );
    Rendered { subject, text, html }
}

/// `text` made safe inside HTML text and double-quoted attributes; non-ASCII characters become numeric
/// references, so the HTML part is plain ASCII.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&format!("&#{};", u32::from(c))),
        }
    }
    out
}

/// A token lifetime in words: "3 days", "24 hours", "1 hour", "30 minutes", "45 seconds".
fn lifetime(valid_for: Duration) -> String {
    let s = valid_for.as_secs();
    let (n, unit) = if s >= 2 * 86_400 && s.is_multiple_of(86_400) {
        (s / 86_400, "day")
    } else if s >= 3_600 && s.is_multiple_of(3_600) {
        (s / 3_600, "hour")
    } else if s >= 60 {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The body of a text part: `7bit` (readable as it is in an `.eml` file, the link on one line) when it is
/// ASCII with lines of at most 998 characters, else whatever lettre finds best (quoted-printable, base64).
fn body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let plain = crlf.is_ascii()
        && !crlf.contains('\0')
        && crlf.split("\r\n").all(|line| line.len() <= MAX_LINE && !line.contains('\r'));
    if plain {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}

/// Where the mails go.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// The folder of the `.eml` files (absolute).
    File(PathBuf),
}

/// A delivery: to the SMTP server, or into this file.
enum Delivered {
    Smtp,
    File(PathBuf),
}

/// Why a delivery failed, in words that quote no value (neither address nor token).
struct Failure {
    /// A 5xx answer: trying again will not help.
    permanent: bool,
    /// `SMTP 451`, `SMTP server unreachable`, `cannot write the mail file: …`.
    reason: String,
    /// The SMTP server answered (refused) rather than could not be reached.
    refused: bool,
}

impl Transport {
    async fn deliver(&self, message: Message, id: Uuid) -> Result<Delivered, Failure> {
        match self {
            Transport::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Ok(Delivered::Smtp),
                // A server's answer may quote the recipient: only its code is kept.
                Err(e) => Err(match e.status() {
                    Some(code) => {
                        Failure { permanent: e.is_permanent(), reason: format!("SMTP {code}"), refused: true }
                    }
                    None => {
                        Failure { permanent: false, reason: format!("SMTP server unreachable: {e}"), refused: false }
                    }
                }),
            },
            Transport::File(dir) => write_eml(dir, id, &message.formatted()).await.map(Delivered::File).map_err(|e| {
                Failure { permanent: false, reason: format!("cannot write the mail file: {e}"), refused: false }
            }),
        }
    }
}

/// Writes `bytes` as `{dir}/{id}.eml`: into a hidden temporary file first, flushed to disk, then renamed, so a
/// reader never sees half a mail. The same id writes the same file.
pub async fn write_eml(dir: &Path, id: Uuid, bytes: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("{id}.eml"));
    let temp = dir.join(format!(".{id}.eml.{}.tmp", Uuid::now_v7().simple()));
    let written = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp, &path).await
    };
    if let Err(e) = written.await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e);
    }
    Ok(path)
}

/// The mailer: the transport and what every mail shares. Built with the service (a bad `smtp_url` or
/// `mail_from` stops the start), run beside the gRPC server with [`Mailer::run`].
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    public_url: String,
    verification_ttl: Duration,
    reset_ttl: Duration,
    pool: PgPool,
    amqp_url: iknow_common::secret::Secret,
    exchange: String,
    queue: String,
    dead_queue: String,
    max_attempts: u32,
    retry_base: Duration,
    retry_max: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("queue", &self.queue).finish_non_exhaustive()
    }
}

/// What became of one message.
enum Handled {
    /// The mail was delivered (the transport works: the pause starts again from its base).
    Delivered,
    /// Anything else: a duplicate, a dead letter, a retry.
    Other,
}

impl Mailer {
    /// Reads the mailer's settings: `mail_transport` with `mail_dir` or `smtp_url`
    /// (`smtp://[user:password@]host[:port]`, `?tls=required` or `?tls=opportunistic` for STARTTLS; `smtps://`
    /// for implicit TLS), `mail_from`, `public_url`, the tokens' lifetimes and the retry settings. `pool` is
    /// the identity database (table `sent_mails`).
    pub fn new(config: &Config, pool: PgPool) -> anyhow::Result<Mailer> {
        let transport = match config.mail_transport {
            // lettre's parse errors never contain the URL (it may carry a password).
            MailTransport::Smtp => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(config.smtp_url.expose())
                    .context("identity smtp_url is not a valid SMTP URL")?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            MailTransport::File => Transport::File(
                std::path::absolute(&config.mail_dir).context("identity mail_dir is not a usable path")?,
            ),
        };
        let from = config.mail_from.parse().context("identity mail_from is not a valid mailbox")?;
        anyhow::ensure!(config.mail_max_attempts >= 1, "identity mail_max_attempts must be at least 1");
        let seconds = |s: i64| Duration::from_secs(u64::try_from(s).unwrap_or(0));
        let retry_base = Duration::from_millis(config.mail_retry_base_ms);
        Ok(Mailer {
            transport,
            from,
            public_url: config.public_url.clone(),
            verification_ttl: seconds(config.email_verification_ttl_seconds),
            reset_ttl: seconds(config.password_reset_ttl_seconds),
            pool,
            amqp_url: config.amqp_url.clone(),
            exchange: config.notifications_exchange.clone(),
            queue: config.mailer_queue(),
            dead_queue: config.mailer_dead_queue(),
            max_attempts: config.mail_max_attempts,
            retry_base,
            retry_max: Duration::from_millis(config.mail_retry_max_ms).max(retry_base),
        })
    }

    /// Runs the mailer until `stop` turns true (or its sender goes), reconnecting to RabbitMQ with backoff. A
    /// mail being sent when it stops is not acknowledged: it comes back later (and is not sent twice if it
    /// was already recorded).
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let options = consume::Options::new("mailer").queue(&self.queue).backoff(MIN_BACKOFF, MAX_BACKOFF);
        consume::run(self.amqp_url.expose(), options, stop, |connection, attempt| self.session(connection, attempt))
            .await;
        tracing::info!(queue = %self.queue, "mailer stopped");
    }

    /// One connection's life: declare, then consume until the stream ends or fails.
    async fn session(&self, conn: lapin::Connection, attempt: consume::Attempt) -> anyhow::Result<()> {
        let channel = conn.create_channel().await?;
        // Republished and dead-lettered messages count only once the broker confirmed them.
        let publish = conn.create_channel().await?;
        publish.confirm_select(ConfirmSelectOptions { nowait: false }).await?;
        declare(&channel, &self.exchange, &self.queue).await?;
        self.prune().await;
        let mut consumer = consume::start(&channel, &self.queue, PREFETCH, false).await?;
        attempt.consuming().await;
        match &self.transport {
            Transport::File(dir) => tracing::info!(
                queue = %self.queue, exchange = %self.exchange, mail_dir = %dir.display(),
                "mailer started; mails are written as .eml files"
            ),
            Transport::Smtp(_) => {
                tracing::info!(queue = %self.queue, exchange = %self.exchange, "mailer started; mails go over SMTP");
            }
        }
        let mut pause = self.retry_base;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            let span = iknow_messaging::trace::delivery_span("mailer", &delivery);
            if let Handled::Delivered = self.handle(&publish, &delivery, &mut pause).instrument(span).await? {
                pause = self.retry_base;
            }
        }
        Ok(())
    }

    /// Drops the records of mails sent long ago; a failure only costs a warning.
    async fn prune(&self) {
        let pruned = sqlx::query("DELETE FROM sent_mails WHERE sent_at < now() - make_interval(days => $1)")
            .bind(KEEP_SENT_DAYS)
            .execute(&self.pool)
            .await;
        if let Err(e) = pruned {
            tracing::warn!(error = %e, "mailer: cannot prune sent_mails");
        }
    }

    /// Handles one message; see the module documentation. Errors are RabbitMQ's (the session ends; the
    /// message comes back with the next one).
    async fn handle(&self, publish: &Channel, delivery: &Delivery, pause: &mut Duration) -> anyhow::Result<Handled> {
        let routing_key =
            consume::header(delivery, ROUTING_KEY_HEADER).unwrap_or_else(|| delivery.routing_key.as_str().to_owned());
        let attempts = consume::header(delivery, ATTEMPTS_HEADER).and_then(|a| a.parse::<u32>().ok()).unwrap_or(0);
        let Some(kind) = Kind::from_routing_key(&routing_key) else {
            tracing::warn!(routing_key, "message of an unknown kind on the mailer queue dead-lettered");
            self.dead_letter(publish, delivery, &routing_key, attempts, "unknown kind").await?;
            return Ok(Handled::Other);
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
                tracing::warn!(kind = kind.name(), reason, "unreadable mail message dead-lettered");
                self.dead_letter(publish, delivery, &routing_key, attempts, &format!("unreadable: {reason}")).await?;
                return Ok(Handled::Other);
            }
        };
        let id = message_id(delivery, &routing_key);
        let message = match self.message(kind, &mail, id) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(kind = kind.name(), user_id = %mail.user_id, error = %e, "mail cannot be built; dead-lettered");
                self.dead_letter(publish, delivery, &routing_key, attempts, "mail cannot be built").await?;
                return Ok(Handled::Other);
            }
        };

        // Claim the id: held until the mail is delivered (commit) or not (rollback on drop).
        let claim = async {
            let mut tx = self.pool.begin().await?;
            let claimed =
                sqlx::query("INSERT INTO sent_mails (message_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id)
                    .bind(kind.name())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
            Ok::<_, sqlx::Error>((tx, claimed))
        };
        let tx = match claim.await {
            Ok((tx, true)) => tx,
            Ok((_, false)) => {
                delivery.ack(BasicAckOptions { multiple: false }).await?;
                tracing::info!(kind = kind.name(), user_id = %mail.user_id, message_id = %id, "mail already sent; duplicate message acknowledged");
                return Ok(Handled::Other);
            }
            Err(e) => {
                tracing::warn!(kind = kind.name(), user_id = %mail.user_id, error = %e, "identity database unavailable; the mail goes back to the queue");
                self.wait(pause).await;
                delivery.nack(BasicNackOptions { multiple: false, requeue: true }).await?;
                return Ok(Handled::Other);
            }
        };

        match self.transport.deliver(message, id).await {
            Ok(delivered) => {
                let recorded = tx.commit().await;
                delivery.ack(BasicAckOptions { multiple: false }).await?;
                match delivered {
                    Delivered::File(path) => tracing::info!(
                        kind = kind.name(), user_id = %mail.user_id, message_id = %id, path = %path.display(),
                        "mail written"
                    ),
                    Delivered::Smtp => {
                        tracing::info!(kind = kind.name(), user_id = %mail.user_id, message_id = %id, "mail sent");
                    }
                }
                if let Err(e) = recorded {
                    tracing::warn!(
                        message_id = %id, error = %e,
                        "mail delivered but not recorded: a redelivery of its message would send it again"
                    );
                }
                Ok(Handled::Delivered)
            }
            Err(failure) => {
                drop(tx);
                let failed = attempts.saturating_add(1);
                let give_up = failure.permanent || failed >= self.max_attempts;
                let outcome = if give_up { "moved to the dead-letter queue" } else { "it will be retried" };
                let (kind_name, user_id, max_attempts) = (kind.name(), mail.user_id, self.max_attempts);
                match (&self.transport, failure.refused) {
                    (Transport::Smtp(_), true) => tracing::warn!(
                        kind = kind_name, user_id = %user_id, message_id = %id, smtp = %failure.reason,
                        permanent = failure.permanent, attempt = failed, max_attempts,
                        "SMTP server refused the mail; {outcome}"
                    ),
                    (Transport::Smtp(_), false) => tracing::warn!(
                        kind = kind_name, user_id = %user_id, message_id = %id, error = %failure.reason,
                        attempt = failed, max_attempts, "SMTP server unreachable; {outcome}"
                    ),
                    (Transport::File(_), _) => tracing::warn!(
                        kind = kind_name, user_id = %user_id, message_id = %id, error = %failure.reason,
                        attempt = failed, max_attempts, "mail file not written; {outcome}"
                    ),
                }
                if give_up {
                    self.dead_letter(publish, delivery, &routing_key, failed, &failure.reason).await?;
                } else {
                    self.wait(pause).await;
                    let headers = [(ATTEMPTS_HEADER, failed.to_string()), (ROUTING_KEY_HEADER, routing_key)];
                    self.republish(publish, delivery, &self.queue, Some(id), &headers).await?;
                }
                Ok(Handled::Other)
            }
        }
    }

    /// Sleeps `pause`, then doubles it up to the maximum.
    async fn wait(&self, pause: &mut Duration) {
        tokio::time::sleep(*pause).await;
        *pause = (*pause * 2).min(self.retry_max);
    }

    /// Moves the message to the dead-letter queue.
    async fn dead_letter(
        &self,
        publish: &Channel,
        delivery: &Delivery,
        routing_key: &str,
        attempts: u32,
        error: &str,
    ) -> anyhow::Result<()> {
        let headers = [
            (ATTEMPTS_HEADER, attempts.to_string()),
            (ERROR_HEADER, error.to_owned()),
            (ROUTING_KEY_HEADER, routing_key.to_owned()),
        ];
        self.republish(publish, delivery, &self.dead_queue, None, &headers).await
    }

    /// Publishes a copy of `delivery` (body, properties, headers plus `headers`; `message_id` set to `id` when
    /// given) to `queue` through the default exchange, waits for the broker's confirm, then acknowledges the
    /// original; a copy the broker refused leaves the original to come back.
    async fn republish(
        &self,
        publish: &Channel,
        delivery: &Delivery,
        queue: &str,
        id: Option<Uuid>,
        headers: &[(&str, String)],
    ) -> anyhow::Result<()> {
        let mut table: FieldTable = delivery.properties.headers().clone().unwrap_or_default();
        for (name, value) in headers {
            table.insert(ShortString::from(*name), AMQPValue::LongString(LongString::from(value.as_str())));
        }
        let mut properties: BasicProperties =
            delivery.properties.clone().with_headers(table).with_delivery_mode(PERSISTENT);
        if let Some(id) = id {
            properties = properties.with_message_id(id.to_string().into());
        }
        let options = BasicPublishOptions { mandatory: false, immediate: false };
        let confirmation =
            publish.basic_publish("".into(), queue.into(), options, &delivery.data, properties).await?.await?;
        if confirmation.is_ack() {
            delivery.ack(BasicAckOptions { multiple: false }).await?;
        } else {
            tracing::warn!(queue, "the broker refused a mail message; it goes back to its queue");
            delivery.nack(BasicNackOptions { multiple: false, requeue: true }).await?;
        }
        Ok(())
    }

    fn message(&self, kind: Kind, mail: &TokenMail, id: Uuid) -> anyhow::Result<Message> {
        let to = Mailbox::new(Some(mail.username.clone()), mail.email.parse().context("invalid recipient address")?);
        let valid_for = match kind {
            Kind::Verification => self.verification_ttl,
            Kind::PasswordReset => self.reset_ttl,
        };
        let rendered = render(kind, mail, &self.public_url, valid_for);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(format!("<{id}@iknow>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(body(&rendered.text)))
                    .singlepart(SinglePart::html(body(&rendered.html))),
            )
            .context("invalid mail")
    }
}

/// The id a mail is sent once under: the message's `message_id` (the outbox row id), or for a message without
/// one a UUID made of the SHA-256 of its routing key and body (the same message gives the same id).
pub fn message_id(delivery: &Delivery, routing_key: &str) -> Uuid {
    consume::message_id(delivery).unwrap_or_else(|| {
        let digest = Sha256::new().chain_update(routing_key).chain_update([0]).chain_update(&delivery.data).finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    })
}

/// Declares the notifications exchange (durable topic, as the relay does), the mailer's durable queue and
/// their binding with `email.*` — the queue survives broker restarts, is shared by the service's replicas and
/// keeps mails published while no mailer runs — and the durable dead-letter queue `{queue}.dead` (reached
/// through the default exchange only). Idempotent.
pub async fn declare(channel: &Channel, exchange: &str, queue: &str) -> anyhow::Result<()> {
    consume::bind_queue(channel, queue, exchange, "email.*", true).await?;
    let dead = format!("{queue}.dead");
    let options =
        QueueDeclareOptions { passive: false, durable: true, exclusive: false, auto_delete: false, nowait: false };
    channel
        .queue_declare(dead.as_str().into(), options, FieldTable::default())
        .await
        .with_context(|| format!("cannot declare queue {dead}"))?;
    Ok(())
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

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn verification_mail_links_the_encoded_token_in_both_parts() {
        let r = render(Kind::Verification, &mail(), "https://iknow.example/", DAY);
        assert_eq!(r.subject, "Verify your I Know email address");
        let link = "https://iknow.example/?view=verify-email#token=a%2Bb%2Fc%3Dd";
        assert!(r.text.contains("Hello ada"), "{}", r.text);
        assert!(r.text.contains(&format!("\n{link}\n")), "{}", r.text);
        assert!(r.text.contains("valid for 24 hours, until 2026-01-02 03:04 UTC."), "{}", r.text);
        assert!(r.html.contains(&format!("<a href=\"{link}\"")), "{}", r.html);
        assert!(r.html.contains("<p>Hello ada,</p>"), "{}", r.html);
        assert!(r.html.contains("valid for 24 hours"), "{}", r.html);
    }

    #[test]
    fn reset_mail_links_the_reset_view() {
        let r = render(Kind::PasswordReset, &mail(), "http://127.0.0.1:3000", Duration::from_secs(3_600));
        assert_eq!(r.subject, "Reset your I Know password");
        assert!(r.text.contains("\nhttp://127.0.0.1:3000/?view=reset-password#token=a%2Bb%2Fc%3Dd\n"), "{}", r.text);
        assert!(r.text.contains("valid for 1 hour, until 2026-01-02 03:04 UTC, and works once."), "{}", r.text);
    }

    #[test]
    fn everything_inserted_into_the_html_is_escaped() {
        let mut m = mail();
        m.username = "<b>\"Zoë\"&'x'</b>".into();
        let r = render(Kind::Verification, &m, "https://x.test/a\"><script>", DAY);
        assert!(r.html.contains("Hello &lt;b&gt;&quot;Zo&#235;&quot;&amp;&#39;x&#39;&lt;/b&gt;,"), "{}", r.html);
        assert!(!r.html.contains("<script>") && !r.html.contains("<b>"), "{}", r.html);
        assert!(r.html.is_ascii());
        assert_eq!(escape_html("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    }

    #[test]
    fn lifetimes_read_as_words() {
        let words = |s| lifetime(Duration::from_secs(s));
        assert_eq!(words(86_400), "24 hours");
        assert_eq!(words(3 * 86_400), "3 days");
        assert_eq!(words(3_600), "1 hour");
        assert_eq!(words(5_400), "90 minutes");
        assert_eq!(words(60), "1 minute");
        assert_eq!(words(45), "45 seconds");
    }

    #[test]
    fn kinds_follow_the_routing_keys() {
        assert_eq!(Kind::from_routing_key("email.verification"), Some(Kind::Verification));
        assert_eq!(Kind::from_routing_key("email.password_reset"), Some(Kind::PasswordReset));
        assert_eq!(Kind::from_routing_key("email.other"), None);
    }

    #[test]
    fn ascii_bodies_stay_readable_and_others_are_encoded() {
        let long = format!("see\n{}\nend", "x".repeat(300));
        let b = body(&long);
        assert_eq!(b.encoding(), ContentTransferEncoding::SevenBit);
        assert_eq!(b.as_ref(), long.replace('\n', "\r\n").as_bytes());
        assert_ne!(body("Zoë").encoding(), ContentTransferEncoding::SevenBit);
        assert_ne!(body(&"y".repeat(MAX_LINE + 1)).encoding(), ContentTransferEncoding::SevenBit);
    }

    fn mailer(config: &Config) -> Mailer {
        let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        Mailer::new(config, pool).unwrap()
    }

    #[tokio::test]
    async fn a_mail_is_multipart_alternative_with_its_message_id() {
        let mut config = Config::for_tests("postgres://x/y");
        config.public_url = "https://iknow.test".into();
        let mailer = mailer(&config);
        let id = Uuid::now_v7();
        let formatted =
            String::from_utf8(mailer.message(Kind::Verification, &mail(), id).unwrap().formatted()).unwrap();
        assert!(formatted.contains(&format!("Message-ID: <{id}@iknow>\r\n")), "{formatted}");
        assert!(formatted.contains("To: ada <ada@example.com>\r\n"), "{formatted}");
        assert!(formatted.contains("Content-Type: multipart/alternative;"), "{formatted}");
        assert!(formatted.contains("Content-Type: text/plain; charset=utf-8"), "{formatted}");
        assert!(formatted.contains("Content-Type: text/html; charset=utf-8"), "{formatted}");
        let link = "https://iknow.test/?view=verify-email#token=a%2Bb%2Fc%3Dd";
        assert_eq!(formatted.matches(link).count(), 4, "text, button, copy link and its text: {formatted}");
    }

    #[tokio::test]
    async fn file_mode_resolves_the_folder_and_smtp_mode_checks_the_url() {
        let mut config = Config::for_tests("postgres://x/y");
        config.mail_transport = MailTransport::File;
        config.mail_dir = "var/mail".into();
        match mailer(&config).transport {
            Transport::File(dir) => assert_eq!(dir, std::env::current_dir().unwrap().join("var/mail")),
            Transport::Smtp(_) => panic!("file mode"),
        }
        config.mail_transport = MailTransport::Smtp;
        config.smtp_url = "smtp://user:pw@[bad".into();
        let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let error = format!("{:#}", Mailer::new(&config, pool).unwrap_err());
        assert!(error.contains("smtp_url") && !error.contains("pw"), "{error}");
    }

    #[tokio::test]
    async fn an_eml_file_appears_whole_under_its_id() {
        let dir = std::env::temp_dir().join(format!("iknow-eml-{}", Uuid::now_v7().simple()));
        let id = Uuid::now_v7();
        let path = write_eml(&dir.join("nested"), id, b"Subject: a\r\n\r\nfirst\r\n").await.unwrap();
        assert_eq!(path, dir.join("nested").join(format!("{id}.eml")));
        // The same id writes the same file again.
        write_eml(&dir.join("nested"), id, b"Subject: b\r\n\r\nsecond\r\n").await.unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [format!("{id}.eml")], "no temporary file left");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "Subject: b\r\n\r\nsecond\r\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
