//! Plumbing shared by every crate of the platform: layered configuration, telemetry, the one error
//! model, UUID v7 ids, request-id propagation, Prometheus metrics and the gRPC server scaffolding.
#![forbid(unsafe_code)]

pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod id;
pub mod metrics;
pub mod preferences;
pub mod request_id;
pub mod rules;
pub mod secret;
pub mod shutdown;
pub mod telemetry;
pub mod time;
pub mod token;

pub use error::{Error, FieldViolation};
