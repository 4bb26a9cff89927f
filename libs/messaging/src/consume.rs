//! Small helpers for the consuming side (services and tests): connecting, declaring the topology the relay
//! publishes to, and reading what the relay put on a delivery.

use anyhow::Context;
use lapin::message::Delivery;
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use uuid::Uuid;

/// Connects to RabbitMQ at `amqp_url` (`amqp://user:pass@host:port/vhost`) on the current tokio runtime.
/// The URL is not part of the error: it may carry a password.
pub async fn connect(amqp_url: &str) -> anyhow::Result<Connection> {
    Connection::connect(amqp_url, ConnectionProperties::default()).await.context("cannot connect to RabbitMQ")
}

/// Declares `exchange` as a durable topic exchange, exactly as the relay does before publishing to it.
/// Idempotent: declaring an existing exchange with the same flags is a no-op for the broker.
pub async fn declare_exchange(channel: &Channel, exchange: &str) -> lapin::Result<()> {
    let options = ExchangeDeclareOptions {
        // Create it when missing (a passive declare would only check that it exists).
        passive: false,
        // Survives a broker restart, like the persistent messages published to it.
        durable: true,
        // Stays when its last binding goes: producers publish whether or not a consumer is bound yet.
        auto_delete: false,
        // Clients publish to it directly.
        internal: false,
        // Wait for declare-ok so a failure (e.g. the name exists with another type) surfaces here.
        nowait: false,
    };
    channel.exchange_declare(exchange.into(), ExchangeKind::Topic, options, FieldTable::default()).await
}

/// Declares the topic `exchange` (same flags as the relay), the queue `queue` and binds it with `routing_key`
/// (topic patterns such as `user.*` or `#` work).
///
/// A `durable` queue survives broker restarts and consumers (a service's work queue); otherwise the queue is
/// exclusive to this connection and deleted with it (a test's or a replica's private queue).
pub async fn bind_queue(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    routing_key: &str,
    durable: bool,
) -> anyhow::Result<()> {
    declare_exchange(channel, exchange).await.with_context(|| format!("cannot declare exchange {exchange}"))?;
    let options = QueueDeclareOptions {
        passive: false,
        durable,
        // A private queue belongs to this connection only...
        exclusive: !durable,
        // ...and goes away with its last consumer.
        auto_delete: !durable,
        nowait: false,
    };
    channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .with_context(|| format!("cannot declare queue {queue}"))?;
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            routing_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("cannot bind queue {queue} to {exchange}"))?;
    Ok(())
}

/// The outbox row id the relay put in `message_id`; consumers de-duplicate by it (the relay publishes at least
/// once: a message whose confirm was lost is published again).
pub fn message_id(delivery: &Delivery) -> Option<Uuid> {
    delivery.properties.message_id().as_ref().and_then(|id| Uuid::try_parse(id.as_str()).ok())
}

/// A string header of `delivery` (the relay sends every outbox header as an AMQP long string).
pub fn header(delivery: &Delivery, name: &str) -> Option<String> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get(name)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}
