//! Integration tests of scraper-ingest: the real service on port 0 over a fresh database, a real actor-catalog
//! started in process (behind a TCP proxy a test can cut), the shared RabbitMQ with queues under a per-test
//! prefix (deleted afterwards), everything through gRPC.

mod broker;
mod bulk;
mod deliveries;
mod faults;
mod helpers;
mod imports;
mod ratings;
mod reports;
mod resume;
mod tmdb;
mod tmdb_client;
mod tmdb_jobs;
mod tmdb_merge;
mod tmdb_tls;
