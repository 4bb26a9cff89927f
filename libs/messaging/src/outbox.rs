//! The transactional outbox. A service that must announce a change (a mail to send, an entity upserted, a user
//! deleted) inserts the message into its own `outbox` table inside the transaction of the change; the relay
//! publishes it afterwards and deletes the row only once the broker has confirmed it. So a message is neither
//! lost while RabbitMQ is down nor published for a change that rolled back.
//!
//! Every service database that uses it has the table of [`MIGRATION_SQL`]: sqlx migrations are per service, so
//! each service copies that statement into its own migrations folder, and tests create the table with it.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

/// The `outbox` table, as every service's migration creates it (copy it verbatim into the service's migrations).
pub const MIGRATION_SQL: &str = "\
CREATE TABLE outbox (
    id UUID PRIMARY KEY,             -- UUID v7: publication follows insertion order
    exchange TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    payload JSONB NOT NULL,
    headers JSONB NOT NULL DEFAULT '{}'::jsonb,   -- string values only (request id, trace context)
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
";

/// One message waiting to be published.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub exchange: String,
    pub routing_key: String,
    pub payload: serde_json::Value,
    /// AMQP headers (string values): request id, trace context.
    pub headers: BTreeMap<String, String>,
}

impl OutboxMessage {
    /// A message whose body is `payload` serialised to JSON. Its headers start with the trace context
    /// (`traceparent`, `tracestate`) of the current span, see [`crate::trace::inject`]: the consumer's span of
    /// this message continues the trace of the request that wrote it.
    pub fn json(exchange: &str, routing_key: &str, payload: &impl Serialize) -> anyhow::Result<Self> {
        let mut headers = BTreeMap::new();
        crate::trace::inject(&mut headers);
        Ok(Self {
            exchange: exchange.to_owned(),
            routing_key: routing_key.to_owned(),
            payload: serde_json::to_value(payload)?,
            headers,
        })
    }

    /// The message of a typed [`crate::Event`]: routed by its name, its body carrying its `"type"`.
    pub fn event<E: crate::Event>(exchange: &str, event: &E) -> anyhow::Result<Self> {
        Self::json(exchange, E::NAME, &crate::events::to_value(event)?)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.insert(name.to_owned(), value.into());
        self
    }
}

/// Inserts `message` into the `outbox` table through `conn` (normally the open transaction of the change it
/// announces). Returns the message id.
pub async fn enqueue(conn: &mut sqlx::PgConnection, message: &OutboxMessage) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO outbox (id, exchange, routing_key, payload, headers) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(&message.exchange)
        .bind(&message.routing_key)
        .bind(&message.payload)
        .bind(serde_json::to_value(&message.headers).unwrap_or_default())
        .execute(conn)
        .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{self, UserDeleted};

    #[test]
    fn an_event_is_routed_by_its_name_and_carries_its_type() {
        let event = UserDeleted { user_id: Uuid::now_v7(), deleted_at: chrono::Utc::now() };
        let message = OutboxMessage::event("identity.events", &event).unwrap().header("x-request-id", "r-1");
        assert_eq!((message.exchange.as_str(), message.routing_key.as_str()), ("identity.events", "user.deleted"));
        assert_eq!(message.payload["type"], "user.deleted");
        assert_eq!(message.headers["x-request-id"], "r-1");
        let body = serde_json::to_vec(&message.payload).unwrap();
        assert_eq!(events::decode::<UserDeleted>(&body).unwrap(), event);
    }
}
