//! Integration tests of the actor-catalog service through a real gRPC client, against a fresh database and a
//! unique Redis prefix per test.

mod actor_series;
mod akas;
mod batch;
mod bulk;
mod cache;
mod episodes;
mod events;
mod helpers;
mod identify;
mod reads;
mod search;
mod series_cast;
mod sources;
mod upsert;
