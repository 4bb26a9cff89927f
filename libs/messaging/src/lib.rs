//! RabbitMQ plumbing shared by the services: the transactional outbox (a message written in the same database
//! transaction as the change it announces), its relay, which publishes with publisher confirms, and small
//! helpers for the consuming side. [`trace`] carries the W3C trace context in message headers: every outbox
//! message gets the producer's, and a consumer's delivery span continues it.
#![forbid(unsafe_code)]

pub mod consume;
pub mod events;
pub mod outbox;
pub mod relay;
pub mod trace;

pub use events::Event;
pub use outbox::{OutboxMessage, enqueue};
pub use relay::{Relay, RelayConfig, RelayHandle};
