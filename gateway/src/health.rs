//! `GET /health`: probes every downstream service (gRPC health), PostgreSQL, Redis and RabbitMQ in parallel,
//! each with a short deadline, and reports `healthy` (200) or `degraded` (503).

use iknow_common::secret::Secret;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::Mutex;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use utoipa::ToSchema;

use crate::config::Config;
use crate::envelope::{elapsed_ms, now_rfc3339};
use crate::state::AppState;

/// Deadline of one probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// The dependencies `/health` probes; connections are made on first use, kept, and remade once broken.
pub struct Probes {
    services: Vec<(&'static str, Channel)>,
    db: PgPool,
    redis: redis::Client,
    redis_conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    amqp_url: Secret,
    amqp: Mutex<Option<lapin::Connection>>,
}

impl Probes {
    pub fn new(services: Vec<(&'static str, Channel)>, config: &Config) -> anyhow::Result<Self> {
        let db = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(PROBE_TIMEOUT)
            .connect_lazy(config.database_url.expose())
            .map_err(|e| anyhow::anyhow!("invalid gateway.database_url: {}", redact(&e.to_string())))?;
        let redis = redis::Client::open(config.redis_url.expose())
            .map_err(|e| anyhow::anyhow!("invalid gateway.redis_url: {}", redact(&e.to_string())))?;
        Ok(Self {
            services,
            db,
            redis,
            redis_conn: Mutex::new(None),
            amqp_url: config.amqp_url.clone(),
            amqp: Mutex::new(None),
        })
    }

    async fn grpc(channel: Channel) -> Result<(), String> {
        let reply = HealthClient::new(channel)
            .check(HealthCheckRequest { service: String::new() })
            .await
            .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
        match reply.into_inner().status() {
            ServingStatus::Serving => Ok(()),
            other => Err(format!("reports {}", other.as_str_name())),
        }
    }

    async fn postgres(&self) -> Result<(), String> {
        sqlx::query("SELECT 1").execute(&self.db).await.map(drop).map_err(|e| e.to_string())
    }

    async fn redis(&self) -> Result<(), String> {
        let mut slot = self.redis_conn.lock().await;
        let mut conn = match slot.take() {
            Some(c) => c,
            None => self.redis.get_multiplexed_async_connection().await.map_err(|e| e.to_string())?,
        };
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.map_err(|e| e.to_string())?;
        // Kept only after it answered, so a broken connection is remade next time.
        *slot = Some(conn);
        if pong == "PONG" { Ok(()) } else { Err(format!("unexpected reply {pong:?}")) }
    }

    async fn rabbitmq(&self) -> Result<(), String> {
        let mut slot = self.amqp.lock().await;
        if let Some(conn) = slot.as_ref()
            && conn.status().connected()
        {
            return Ok(());
        }
        *slot = None;
        let conn = lapin::Connection::connect(self.amqp_url.expose(), lapin::ConnectionProperties::default())
            .await
            .map_err(|e| e.to_string())?;
        *slot = Some(conn);
        Ok(())
    }
}

/// Whether a dependency answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Up,
    Down,
}

/// The outcome of one probe.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub status: CheckStatus,
    /// How long the probe took, in milliseconds.
    pub latency_ms: f64,
    /// Why the dependency is down (never a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
}

/// Overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OverallStatus {
    Healthy,
    Degraded,
}

/// Body of `GET /health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthResponse {
    pub status: OverallStatus,
    /// One entry per dependency: catalog, identity, library, ingest, postgres, redis, rabbitmq.
    pub checks: BTreeMap<String, Check>,
    /// RFC 3339 UTC.
    pub timestamp: String,
    /// Gateway version.
    pub version: String,
}

async fn timed(fut: impl Future<Output = Result<(), String>>) -> Check {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(PROBE_TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis())),
    };
    let latency_ms = (elapsed_ms(started) * 100.0).round() / 100.0;
    match outcome {
        Ok(()) => Check { status: CheckStatus::Up, latency_ms, error: None },
        Err(e) => Check { status: CheckStatus::Down, latency_ms, error: Some(redact(&e)) },
    }
}

/// Probes every dependency at once.
pub async fn check_all(probes: &Probes) -> HealthResponse {
    let services = futures::future::join_all(
        probes.services.iter().map(|(name, ch)| async move { (*name, timed(Probes::grpc(ch.clone())).await) }),
    );
    let (services, pg, redis, amqp) =
        tokio::join!(services, timed(probes.postgres()), timed(probes.redis()), timed(probes.rabbitmq()));
    let mut checks: BTreeMap<String, Check> = services.into_iter().map(|(n, c)| (n.to_owned(), c)).collect();
    checks.insert("postgres".into(), pg);
    checks.insert("redis".into(), redis);
    checks.insert("rabbitmq".into(), amqp);
    let healthy = checks.values().all(|c| c.status == CheckStatus::Up);
    HealthResponse {
        status: if healthy { OverallStatus::Healthy } else { OverallStatus::Degraded },
        checks,
        timestamp: now_rfc3339(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

/// Health of the gateway and everything it depends on.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Every dependency answered", body = HealthResponse),
        (status = 503, description = "At least one dependency is down", body = HealthResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let report = check_all(&state.probes).await;
    let status = if report.status == OverallStatus::Healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(report))
}

/// Removes credentials from any URL inside a message (`amqp://user:secret@host` → `amqp://host`).
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c.is_whitespace() || c == '/' || c == '"' || c == '\'').unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => rest = &tail[at + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_credentials() {
        assert_eq!(super::redact("cannot reach amqp://guest:pw@h:5672/%2f now"), "cannot reach amqp://h:5672/%2f now");
        assert_eq!(super::redact("plain"), "plain");
    }
}
