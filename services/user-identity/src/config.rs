//! The `[identity]` configuration section.

use std::path::PathBuf;

use iknow_common::secret::Secret;
use serde::Deserialize;

/// The development JWT secret; production refuses to start with it.
pub use iknow_common::token::DEV_JWT_SECRET;

/// Settings of the user-identity service (section `[identity]` of config/default.toml).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the gRPC server listens on; port 0 picks a free port.
    pub grpc_addr: String,
    /// PostgreSQL URL of the identity database; the database is created when missing.
    pub database_url: Secret,
    /// Upper bound of the connection pool.
    pub database_max_connections: u32,
    /// HS256 secret signing access tokens. Never logged.
    pub jwt_secret: Secret,
    /// Lifetime of an access token, in seconds.
    pub access_ttl_seconds: i64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_ttl_seconds: i64,
    /// argon2id memory cost in KiB (OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// argon2id iterations (OWASP: 2).
    pub argon2_iterations: u32,
    /// argon2id parallelism (OWASP: 1).
    pub argon2_parallelism: u32,
    /// RabbitMQ URL the outbox relay publishes to. Never logged: it carries a password.
    pub amqp_url: Secret,
    /// Topic exchange of mails to send (`email.verification`, `email.password_reset`).
    pub notifications_exchange: String,
    /// Topic exchange of identity events (`user.deleted`).
    pub events_exchange: String,
    /// Lifetime of an email verification token, in seconds.
    pub email_verification_ttl_seconds: i64,
    /// Lifetime of a password reset token, in seconds.
    pub password_reset_ttl_seconds: i64,
    /// Runs the mailer beside the server: it delivers the mails of `notifications_exchange`.
    pub mailer_enabled: bool,
    /// How the mailer delivers: `file` writes each mail as an `.eml` file into `mail_dir`, `smtp` sends it
    /// to the SMTP server of `smtp_url`.
    pub mail_transport: MailTransport,
    /// Folder of the `.eml` files in `file` mode (relative to the working directory unless absolute; created
    /// when missing).
    pub mail_dir: PathBuf,
    /// SMTP server of the mailer: `smtp://[user:password@]host[:port]` (plain; `?tls=required` for STARTTLS),
    /// `smtps://…` for implicit TLS. Never logged: it may carry a password.
    pub smtp_url: Secret,
    /// Sender of the mails, `Name <address>`.
    pub mail_from: String,
    /// Address of the web app the mailed links open (`{public_url}/?view=verify-email#token=…`).
    pub public_url: String,
    /// Failed deliveries of one mail (refused or unreachable SMTP server, unwritable folder) before it is
    /// moved to the dead-letter queue `{notifications_exchange}.mailer.dead`.
    pub mail_max_attempts: u32,
    /// The mailer's pause after a failed delivery, in milliseconds, doubled after each further failure up to
    /// `mail_retry_max_ms` and back to this after a delivery.
    pub mail_retry_base_ms: u64,
    /// Longest pause between two failed deliveries, in milliseconds.
    pub mail_retry_max_ms: u64,
}

/// How the mailer delivers its mails (`[identity] mail_transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// An RFC 5322 `.eml` file per mail in `mail_dir` (a laptop: open it, click the link).
    File,
    /// The SMTP server of `smtp_url`.
    Smtp,
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "identity on {} (secret redacted)", self.grpc_addr)
    }
}

impl Config {
    /// A configuration for tests: any free port, a small pool, the given database, OWASP argon2 parameters,
    /// RabbitMQ from `IKNOW_TEST_AMQP` (default the local broker) and exchanges of its own
    /// (`test.<uuid>.notifications`, `test.<uuid>.identity.events`) so parallel tests never see each other's
    /// messages. The mailer is off: tests that want it turn it on and point `smtp_url` at their SMTP mock (or
    /// `mail_dir`, a folder of their own under the system's temporary folder, in `file` mode); its pauses are
    /// short (100 ms doubling to 2 s).
    pub fn for_tests(database_url: &str) -> Self {
        let unique = format!("test.{}", uuid::Uuid::now_v7().simple());
        Self {
            grpc_addr: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            database_max_connections: 5,
            jwt_secret: "test-secret-for-identity-tests".into(),
            access_ttl_seconds: 900,
            refresh_ttl_seconds: 604_800,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            amqp_url: std::env::var("IKNOW_TEST_AMQP")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
                .into(),
            notifications_exchange: format!("{unique}.notifications"),
            events_exchange: format!("{unique}.identity.events"),
            email_verification_ttl_seconds: 86_400,
            password_reset_ttl_seconds: 3_600,
            mailer_enabled: false,
            mail_transport: MailTransport::Smtp,
            mail_dir: std::env::temp_dir().join(format!("iknow-{unique}-mail")),
            smtp_url: "smtp://127.0.0.1:1025".into(),
            mail_from: "I Know <no-reply@iknow.local>".into(),
            public_url: "http://127.0.0.1:3000".into(),
            mail_max_attempts: 8,
            mail_retry_base_ms: 100,
            mail_retry_max_ms: 2_000,
        }
    }

    /// The mailer's durable queue, `{notifications_exchange}.mailer`.
    pub fn mailer_queue(&self) -> String {
        format!("{}.mailer", self.notifications_exchange)
    }

    /// The durable queue of mails the mailer gave up on, `{notifications_exchange}.mailer.dead`.
    pub fn mailer_dead_queue(&self) -> String {
        format!("{}.dead", self.mailer_queue())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_section_deserialises() {
        let settings = iknow_common::config::Settings::load_with(None, []).unwrap();
        let c: super::Config = settings.section("identity").unwrap();
        assert_eq!(c.access_ttl_seconds, 900);
        assert_eq!(c.refresh_ttl_seconds, 604_800);
        assert_eq!((c.argon2_memory_kib, c.argon2_iterations, c.argon2_parallelism), (19_456, 2, 1));
        assert_eq!(c.jwt_secret.expose(), super::DEV_JWT_SECRET);
        assert_eq!(c.amqp_url, "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        assert_eq!(
            (c.notifications_exchange.as_str(), c.events_exchange.as_str()),
            ("notifications", "identity.events")
        );
        assert_eq!((c.email_verification_ttl_seconds, c.password_reset_ttl_seconds), (86_400, 3_600));
        assert!(c.mailer_enabled);
        assert_eq!(c.mail_transport, super::MailTransport::File);
        assert_eq!(c.mail_dir, std::path::Path::new("var/mail"));
        assert_eq!((c.mail_max_attempts, c.mail_retry_base_ms, c.mail_retry_max_ms), (8, 5_000, 300_000));
        assert_eq!(c.smtp_url.expose(), "smtp://127.0.0.1:1025");
        assert_eq!(
            (c.mail_from.as_str(), c.public_url.as_str()),
            ("I Know <no-reply@iknow.local>", "http://127.0.0.1:3000")
        );
        assert_eq!(c.mailer_queue(), "notifications.mailer");
        assert_eq!(c.mailer_dead_queue(), "notifications.mailer.dead");
    }

    #[test]
    fn the_transport_is_chosen_by_env() {
        let vars = [("IKNOW__IDENTITY__MAIL_TRANSPORT", "smtp"), ("IKNOW__IDENTITY__MAIL_DIR", "/srv/mail")];
        let settings =
            iknow_common::config::Settings::load_with(None, vars.map(|(k, v)| (k.to_owned(), v.to_owned()))).unwrap();
        let c: super::Config = settings.section("identity").unwrap();
        assert_eq!(c.mail_transport, super::MailTransport::Smtp);
        assert_eq!(c.mail_dir, std::path::Path::new("/srv/mail"));
        let bad = [("IKNOW__IDENTITY__MAIL_TRANSPORT".to_owned(), "pigeon".to_owned())];
        let settings = iknow_common::config::Settings::load_with(None, bad).unwrap();
        assert!(settings.section::<super::Config>("identity").is_err(), "an unknown transport is refused");
    }

    #[test]
    fn debug_prints_no_secret() {
        let vars = [
            ("IKNOW__IDENTITY__DATABASE_URL", "postgres://app:db-password@db/identity"),
            ("IKNOW__IDENTITY__AMQP_URL", "amqp://app:mq-password@mq/%2f"),
            ("IKNOW__IDENTITY__JWT_SECRET", "jwt-secret-value-jwt-secret-value"),
            ("IKNOW__IDENTITY__SMTP_URL", "smtp://mailer:smtp-password@smtp:587?tls=required"),
        ];
        let settings =
            iknow_common::config::Settings::load_with(None, vars.map(|(k, v)| (k.to_owned(), v.to_owned()))).unwrap();
        let c: super::Config = settings.section("identity").unwrap();
        assert_eq!(c.database_url.expose(), "postgres://app:db-password@db/identity");
        let printed = format!("{c:?}");
        for secret in ["db-password", "mq-password", "jwt-secret-value", "smtp-password"] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
        assert!(printed.contains("grpc_addr"), "the rest is printed: {printed}");
    }

    #[test]
    fn test_configs_have_their_own_exchanges() {
        let (a, b) = (super::Config::for_tests("postgres://x/a"), super::Config::for_tests("postgres://x/a"));
        assert_ne!(a.notifications_exchange, b.notifications_exchange);
        assert_ne!(a.events_exchange, b.events_exchange);
        assert!(a.notifications_exchange.starts_with("test.") && a.notifications_exchange.ends_with(".notifications"));
    }
}
