//! The `[library]` configuration section.

use iknow_common::secret::Secret;
use std::time::Duration;

use serde::Deserialize;

/// Settings of the library service (section `[library]` of config/default.toml).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the gRPC server binds (port 0 picks a free one).
    pub grpc_addr: String,
    /// PostgreSQL URL of the library database; the database is created when missing.
    pub database_url: Secret,
    /// Upper bound of the connection pool.
    pub database_max_connections: u32,
    /// gRPC URL of the actor-catalog service (content checks, casts, filmographies).
    pub catalog_url: String,
    /// Deadline of one catalogue call, in milliseconds.
    pub catalog_timeout_ms: u64,
    /// Deadline of opening a connection to the catalogue, in milliseconds.
    pub catalog_connect_timeout_ms: u64,
    /// RabbitMQ URL (the library consumes `user.deleted` from the identity events exchange).
    pub amqp_url: Secret,
    /// Exchange on which user-identity publishes `user.deleted`.
    pub identity_events_exchange: String,
    /// Exchange on which the catalogue announces its writes (`content.upserted`, `catalog.reloaded`): they
    /// drop the casts this replica keeps for familiar faces.
    pub catalog_events_exchange: String,
}

impl Config {
    /// A configuration for tests: any free port, a small pool, the given database and catalogue.
    pub fn for_tests(database_url: &str, catalog_url: &str, identity_events_exchange: &str) -> Self {
        Self {
            grpc_addr: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            database_max_connections: 5,
            catalog_url: catalog_url.into(),
            catalog_timeout_ms: 800,
            catalog_connect_timeout_ms: 300,
            amqp_url: std::env::var("IKNOW_TEST_AMQP")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
                .into(),
            identity_events_exchange: identity_events_exchange.into(),
            // The exchange of the catalogue's test configuration.
            catalog_events_exchange: "test.catalog.events".into(),
        }
    }

    /// Deadline of one catalogue call.
    pub fn catalog_timeout(&self) -> Duration {
        Duration::from_millis(self.catalog_timeout_ms.max(1))
    }

    /// Deadline of opening a connection to the catalogue.
    pub fn catalog_connect_timeout(&self) -> Duration {
        Duration::from_millis(self.catalog_connect_timeout_ms.max(1))
    }

    /// The durable queue of `user.deleted` events, derived from the exchange so tests each get their own.
    pub fn user_deleted_queue(&self) -> String {
        format!("{}.library.user-deleted", self.identity_events_exchange)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_section_deserialises() {
        let settings = iknow_common::config::Settings::load_with(None, []).unwrap();
        let c: super::Config = settings.section("library").unwrap();
        assert_eq!(c.identity_events_exchange, "identity.events");
        assert_eq!(c.user_deleted_queue(), "identity.events.library.user-deleted");
        assert_eq!((c.catalog_timeout_ms, c.catalog_connect_timeout_ms), (800, 300));
        assert_eq!(c.catalog_events_exchange, "catalog.events");
    }
}
