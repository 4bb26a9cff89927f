//! Integration tests of the gateway against the real actor-catalog service (fresh database, unique Redis
//! prefix per test), the stub services, and the shared PostgreSQL, Redis and RabbitMQ.

mod actors;
mod api;
mod auth_limits;
mod edge;
mod episodes;
mod helpers;
mod history;
mod identify;
mod images;
mod library;
mod logs;
mod operations;
mod outage;
mod propagation;
mod rate_limit;
mod tokens;
mod users;
mod validation;
mod web;
