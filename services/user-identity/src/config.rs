//! The `[identity]` configuration section.

use serde::Deserialize;

/// The development JWT secret; production refuses to start with it.
pub const DEV_JWT_SECRET: &str = "dev-only-change-me";

/// Settings of the user-identity service (section `[identity]` of config/default.toml).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the gRPC server listens on; port 0 picks a free port.
    pub grpc_addr: String,
    /// PostgreSQL URL of the identity database; the database is created when missing.
    pub database_url: String,
    /// Upper bound of the connection pool.
    #[serde(default = "default_max_connections")]
    pub database_max_connections: u32,
    /// HS256 secret signing access tokens. Never logged.
    pub jwt_secret: String,
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
}

fn default_max_connections() -> u32 {
    16
}

impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "identity on {} (secret redacted)", self.grpc_addr)
    }
}

impl Config {
    /// A configuration for tests: any free port, a small pool, the given database, OWASP argon2 parameters.
    pub fn for_tests(database_url: &str) -> Self {
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
        }
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
        assert_eq!(c.jwt_secret, super::DEV_JWT_SECRET);
    }
}
