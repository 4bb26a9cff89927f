//! Integration tests of the library: a real PostgreSQL database per service, a real actor-catalog started in
//! process (seeded through its UpsertBatch RPC, reached through a TCP proxy a test can cut), RabbitMQ with a
//! per-test exchange, everything through gRPC.

mod events;
mod helpers;
mod history;
mod idempotency;
mod insights;
mod isolation;
mod outage;
mod watchlist;
