//! The `[catalog]` configuration section.

use iknow_common::secret::Secret;
use serde::Deserialize;

/// Settings of the actor-catalog service (section `[catalog]` of config/default.toml).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the gRPC server listens on; port 0 picks a free port.
    pub grpc_addr: String,
    /// PostgreSQL URL of the catalogue database; the database is created when missing.
    pub database_url: Secret,
    /// Upper bound of the connection pool.
    pub database_max_connections: u32,
    /// Redis URL of the shared cache tier; Redis being down only costs cache hits.
    pub redis_url: Secret,
    /// Prefix of every Redis key this service writes.
    pub redis_prefix: String,
    /// Seconds an entry lives in Redis.
    pub cache_ttl_seconds: u64,
    /// Entries kept in the in-process cache.
    pub local_cache_capacity: u64,
    /// Seconds an entry lives in the in-process cache.
    pub local_cache_ttl_seconds: u64,
    /// Rows written (actors, titles, credits) after which the tables are analysed again; 0 never.
    pub analyze_after_rows: u64,
    /// RabbitMQ URL: upserts are announced there (through the outbox) and every replica listens.
    pub amqp_url: Secret,
    /// Topic exchange of `actor.upserted` / `content.upserted`.
    pub events_exchange: String,
}

impl Config {
    /// A configuration for tests: any free port, a small pool, the given database and Redis.
    pub fn for_tests(database_url: &str, redis_url: &str, redis_prefix: &str) -> Self {
        Self {
            grpc_addr: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            database_max_connections: 5,
            redis_url: redis_url.into(),
            redis_prefix: redis_prefix.into(),
            cache_ttl_seconds: 3600,
            local_cache_capacity: 10_000,
            local_cache_ttl_seconds: 300,
            analyze_after_rows: 100_000,
            amqp_url: std::env::var("IKNOW_TEST_AMQP")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
                .into(),
            // One exchange for every test, so none is left behind per test: a replica hearing another test's
            // events only forgets ids its own database does not hold, which changes nothing.
            events_exchange: "test.catalog.events".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_section_deserialises() {
        let settings = iknow_common::config::Settings::load_with(None, []).unwrap();
        let c: super::Config = settings.section("catalog").unwrap();
        assert_eq!(c.redis_prefix, "iknow:catalog:");
        assert!(c.local_cache_capacity > 0);
        assert_eq!(c.analyze_after_rows, 100_000);
        assert_eq!(c.events_exchange, "catalog.events");
    }
}
