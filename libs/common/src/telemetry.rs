//! Tracing setup: JSON (or pretty) logs to stdout with span fields such as `request_id`, an OTLP exporter
//! only when an endpoint is configured, and always the W3C trace-context propagator as the global text-map
//! propagator (what `iknow_messaging::trace` writes into and reads from message headers).

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use serde::Deserialize;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetryConfig {
    /// EnvFilter directives; `RUST_LOG` wins when set.
    pub log_level: String,
    /// `json` or `pretty`.
    pub log_format: String,
    /// OTLP gRPC endpoint; empty disables export.
    #[serde(default)]
    pub otlp_endpoint: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { log_level: "info".into(), log_format: "json".into(), otlp_endpoint: String::new() }
    }
}

static PROVIDER: OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber once per process; later calls are no-ops.
pub fn init(service: &'static str, cfg: &TelemetryConfig) {
    // Cheap and harmless without an exporter: spans then have no OpenTelemetry context to propagate.
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.log_level));
    let fmt = if cfg.log_format == "pretty" {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    };
    let otel = if cfg.otlp_endpoint.is_empty() {
        None
    } else {
        match otlp_provider(service, &cfg.otlp_endpoint) {
            Ok(provider) => {
                let tracer = provider.tracer(service);
                let _ = PROVIDER.set(provider);
                Some(tracing_opentelemetry::layer().with_tracer(tracer))
            }
            Err(e) => {
                eprintln!("OTLP exporter disabled: {e}");
                None
            }
        }
    };
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
}

fn otlp_provider(service: &'static str, endpoint: &str) -> anyhow::Result<opentelemetry_sdk::trace::SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service).build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Flushes exported spans; call before the process exits.
pub fn shutdown() {
    if let Some(p) = PROVIDER.get() {
        let _ = p.shutdown();
    }
}

/// For tests: logs only when `TEST_LOG` is set, so test output stays readable.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init("test", &TelemetryConfig { log_format: "pretty".into(), ..TelemetryConfig::default() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_installs_the_w3c_propagator() {
        init("test", &TelemetryConfig { log_level: "off".into(), ..TelemetryConfig::default() });
        let fields: Vec<String> =
            opentelemetry::global::get_text_map_propagator(|p| p.fields().map(str::to_owned).collect());
        assert_eq!(fields, ["traceparent", "tracestate"]);
    }
}
