//! Integration tests of iknow-messaging: a real PostgreSQL database per test and the real RabbitMQ, each test
//! with its own exchange and exclusive queue; `consume::run` behind a TCP proxy the test cuts.

mod consume;
mod helpers;
mod logs;
mod relay;
mod relay_failures;
mod trace;
