//! The `[gateway]` configuration section.

use std::path::PathBuf;
use std::time::Duration;

use iknow_common::secret::Secret;
use serde::{Deserialize, Deserializer};

/// Where the gateway listens, where its downstream services are, and how long it waits for them.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the HTTP server binds (port 0 picks a free one).
    pub http_addr: String,
    /// gRPC URL of the actor-catalog service.
    pub catalog_url: String,
    /// gRPC URL of the user-identity service.
    pub identity_url: String,
    /// gRPC URL of the library service.
    pub library_url: String,
    /// gRPC URL of the scraper-ingest service.
    pub ingest_url: String,
    /// Deadline of one downstream call, in milliseconds.
    pub downstream_timeout_ms: u64,
    /// Deadline of one call to user-identity, in milliseconds: longer, because registering, signing in,
    /// resetting a password and deleting an account hash or verify a password with argon2id on purpose slowly
    /// (tens of milliseconds alone, far more while the machine is busy).
    pub identity_timeout_ms: u64,
    /// Deadline of opening a connection to a downstream service, in milliseconds.
    pub connect_timeout_ms: u64,
    /// PostgreSQL checked by `/health`.
    pub database_url: Secret,
    /// Redis checked by `/health`.
    pub redis_url: Secret,
    /// RabbitMQ checked by `/health`.
    pub amqp_url: Secret,
    /// Directory of the web app's static files, read at start-up and served at `/` (see [`crate::web`]).
    pub web_dir: PathBuf,
    /// Origins the web app may load images from (`img-src` of its Content-Security-Policy): the image host of
    /// the photo and poster URLs. A list in a file; a comma-separated string in `IKNOW__GATEWAY__IMAGE_ORIGINS`.
    #[serde(deserialize_with = "list_or_commas")]
    pub image_origins: Vec<String>,
    /// Whether `/api/v1` is rate limited (off for load tests).
    pub rate_limit_enabled: bool,
    /// Prefix of the rate-limit counters in Redis.
    pub rate_limit_redis_prefix: String,
    /// Longest wait for Redis before counting in process instead, in milliseconds.
    pub rate_limit_redis_timeout_ms: u64,
    /// Requests per window to the auth routes, per IP.
    pub rate_limit_auth_per_window: u64,
    /// Window of the auth limit, in seconds.
    pub rate_limit_auth_window_seconds: u64,
    /// Searches per window, per user (or IP when anonymous).
    pub rate_limit_search_per_window: u64,
    /// Window of the search limit, in seconds.
    pub rate_limit_search_window_seconds: u64,
    /// Requests per window to the rest of `/api/v1`, per user or IP.
    pub rate_limit_default_per_window: u64,
    /// Window of the default limit, in seconds.
    pub rate_limit_default_window_seconds: u64,
    /// HS256 secret access tokens are verified with; must equal `identity.jwt_secret`.
    pub jwt_secret: Secret,
    /// Prefix of the session-revocation markers in Redis (`{prefix}{userId}` = unix second of revocation).
    pub revocation_redis_prefix: String,
    /// How long a revocation marker lives, in seconds; at least the access-token lifetime.
    pub revocation_ttl_seconds: u64,
    /// Days of viewing history a free caller may read (from 00:00 UTC that many days ago); older history is
    /// premium.
    pub premium_history_window_days: u32,
}

/// A list, or a string of comma-separated items (what an environment variable can hold); items are trimmed and
/// empty ones dropped.
fn list_or_commas<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    let items = match ListOrCommas::deserialize(d)? {
        ListOrCommas::List(items) => items,
        ListOrCommas::Commas(s) => s.split(',').map(str::to_owned).collect(),
    };
    Ok(items.into_iter().map(|i| i.trim().to_owned()).filter(|i| !i.is_empty()).collect())
}

impl Config {
    pub fn downstream_timeout(&self) -> Duration {
        Duration::from_millis(self.downstream_timeout_ms)
    }

    pub fn identity_timeout(&self) -> Duration {
        Duration::from_millis(self.identity_timeout_ms)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_prints_no_secret() {
        let vars = [
            ("IKNOW__GATEWAY__DATABASE_URL", "postgres://app:db-password@db/gateway"),
            ("IKNOW__GATEWAY__REDIS_URL", "redis://:redis-password@cache:6379"),
            ("IKNOW__GATEWAY__AMQP_URL", "amqp://app:mq-password@mq/%2f"),
            ("IKNOW__GATEWAY__JWT_SECRET", "jwt-secret-value-jwt-secret-value"),
        ];
        let settings =
            iknow_common::config::Settings::load_with(None, vars.map(|(k, v)| (k.to_owned(), v.to_owned()))).unwrap();
        let c: super::Config = settings.section("gateway").unwrap();
        assert_eq!(c.jwt_secret.expose(), "jwt-secret-value-jwt-secret-value");
        let printed = format!("{c:?}");
        for secret in ["db-password", "redis-password", "mq-password", "jwt-secret-value"] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
        assert!(printed.contains("catalog_url"), "the rest is printed: {printed}");
    }

    fn image_origins(vars: &[(&str, &str)]) -> Vec<String> {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let settings = iknow_common::config::Settings::load_with(None, vars).unwrap();
        settings.section::<super::Config>("gateway").unwrap().image_origins
    }

    #[test]
    fn image_origins_are_a_list_in_the_file_or_comma_separated_in_the_environment() {
        assert_eq!(image_origins(&[]), ["https://image.tmdb.org"], "the default");
        let var = "IKNOW__GATEWAY__IMAGE_ORIGINS";
        assert_eq!(
            image_origins(&[(var, "https://image.tmdb.org, http://127.0.0.1:8123")]),
            ["https://image.tmdb.org", "http://127.0.0.1:8123"]
        );
        assert_eq!(image_origins(&[(var, "http://localhost:9000")]), ["http://localhost:9000"]);
        assert!(image_origins(&[(var, "")]).is_empty(), "none: only the gateway's own images");
    }
}
