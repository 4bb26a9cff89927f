//! RabbitMQ for tests: a private queue listening to an exchange, and the shared broker's address and URL (to put
//! a [`TcpProxy`] in front of it).

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume;
use lapin::message::Delivery;
use lapin::options::BasicConsumeOptions;
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{Connection, Consumer};
use uuid::Uuid;

use crate::{TcpProxy, amqp_url};

/// Longest wait for one delivery; far below the 60 s poll interval the relay's wake test relies on.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(20);

/// An exclusive, auto-deleted queue bound to one exchange and routing key, consumed without acks; bind it
/// before the action under test.
pub struct Listener {
    consumer: Consumer,
    _connection: Connection,
}

impl Listener {
    /// A new queue bound to `exchange` (declared when missing) with `routing_key` (topic patterns such as
    /// `email.*` or `#` work).
    pub async fn bind(exchange: &str, routing_key: &str) -> Self {
        let connection = consume::connect(&amqp_url()).await.expect("RabbitMQ must be running");
        let channel = connection.create_channel().await.unwrap();
        let queue = format!("{exchange}.{routing_key}.{}", Uuid::now_v7().simple());
        consume::bind_queue(&channel, &queue, exchange, routing_key, false).await.expect("bind queue");
        let options = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
        let consumer =
            channel.basic_consume(queue.as_str().into(), "test".into(), options, FieldTable::default()).await.unwrap();
        Self { consumer, _connection: connection }
    }

    /// The next delivery; panics when none comes within [`DELIVERY_WAIT`].
    pub async fn next_delivery(&mut self) -> Delivery {
        tokio::time::timeout(DELIVERY_WAIT, self.consumer.next())
            .await
            .expect("a delivery within the wait")
            .expect("consumer open")
            .expect("delivery")
    }

    /// The JSON body of the next delivery, which must say it is `application/json`.
    pub async fn next_json(&mut self) -> serde_json::Value {
        let delivery = self.next_delivery().await;
        assert_eq!(delivery.properties.content_type().as_ref().map(|c| c.as_str()), Some("application/json"));
        serde_json::from_slice(&delivery.data).expect("JSON body")
    }

    /// The message ids (the outbox row ids the relay sets) of the next `n` deliveries.
    pub async fn next_ids(&mut self, n: usize) -> Vec<Uuid> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let delivery = self.next_delivery().await;
            ids.push(consume::message_id(&delivery).expect("message id"));
        }
        ids
    }
}

/// The shared broker's socket address.
pub async fn broker_addr() -> SocketAddr {
    let uri: AMQPUri = amqp_url().parse().expect("amqp url");
    tokio::net::lookup_host((uri.authority.host.as_str(), uri.authority.port))
        .await
        .expect("broker host")
        .next()
        .expect("broker address")
}

/// The shared broker's URL rewritten to go through `proxy` (a proxy started on [`broker_addr`]).
pub fn through_proxy(proxy: &TcpProxy) -> String {
    let mut uri: AMQPUri = amqp_url().parse().expect("amqp url");
    uri.authority.host = proxy.addr.ip().to_string();
    uri.authority.port = proxy.addr.port();
    uri.to_string()
}
