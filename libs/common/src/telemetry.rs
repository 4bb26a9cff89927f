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

    /// Set in the child process: which [`TelemetryConfig`] it initialises with.
    const CHILD: &str = "IKNOW_TELEMETRY_TEST_CASE";

    /// Runs the test `name` of this binary again in a child process with `CHILD=case` (the global subscriber
    /// can be installed once per process); returns its stdout and stderr.
    fn in_child(name: &str, case: &str) -> (String, String) {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([&format!("telemetry::tests::{name}"), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, case)
            .env_remove("RUST_LOG")
            .env_remove("TEST_LOG");
        if case == "test-log" {
            command.env("TEST_LOG", "1");
        }
        let out = command.output().unwrap();
        let (stdout, stderr) =
            (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        (stdout, stderr)
    }

    /// In the child: initialises for `case` and logs one line inside a span; true when the span has a valid
    /// OpenTelemetry context (an OTLP exporter is installed).
    fn child(case: &str) -> bool {
        let cfg = match case {
            "pretty" => TelemetryConfig { log_format: "pretty".into(), ..TelemetryConfig::default() },
            "otlp" => TelemetryConfig { otlp_endpoint: "http://127.0.0.1:9".into(), ..TelemetryConfig::default() },
            "bad-otlp" => TelemetryConfig { otlp_endpoint: "not a uri".into(), ..TelemetryConfig::default() },
            _ => TelemetryConfig::default(),
        };
        // As in a service: inside a runtime (the OTLP exporter's channel needs one).
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let _entered = runtime.enter();
        init("child", &cfg);
        // The log lines start on a line of their own, after the test harness's "test ... " prefix.
        println!();
        let span = tracing::info_span!("request", request_id = "r-1");
        span.in_scope(|| tracing::info!(answer = 42, "hello from the child"));
        tracing::debug!("below the level");
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let valid = opentelemetry::trace::TraceContextExt::span(&span.context()).span_context().is_valid();
        drop(span);
        // Flushed while the runtime still runs.
        shutdown();
        valid
    }

    #[test]
    fn json_lines_carry_the_fields_flat_and_the_current_span() {
        if let Ok(case) = std::env::var(CHILD) {
            assert!(!child(&case), "no exporter, no OpenTelemetry context");
            return;
        }
        let (stdout, _) = in_child("json_lines_carry_the_fields_flat_and_the_current_span", "json");
        let line = stdout.lines().find(|l| l.contains("hello from the child")).expect(&stdout);
        let v: serde_json::Value = serde_json::from_str(line).expect(line);
        assert_eq!(v["message"], "hello from the child");
        assert_eq!(v["answer"], 42);
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["span"]["request_id"], "r-1");
        assert!(v.get("spans").is_none(), "no span list: {line}");
        assert!(!stdout.contains("below the level"), "the info level filters debug lines");
    }

    /// `line` without its ANSI colour sequences (`ESC [ ... m`).
    fn without_colours(line: &str) -> String {
        let mut out = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn pretty_lines_are_text_without_the_target() {
        if let Ok(case) = std::env::var(CHILD) {
            assert!(!child(&case));
            return;
        }
        let (stdout, _) = in_child("pretty_lines_are_text_without_the_target", "pretty");
        let line = stdout.lines().find(|l| l.contains("hello from the child")).expect(&stdout);
        let line = without_colours(line);
        let line = line.as_str();
        assert!(serde_json::from_str::<serde_json::Value>(line).is_err(), "{line}");
        assert!(line.contains("INFO") && line.contains("request") && line.contains("answer=42"), "{line}");
        assert!(!line.contains("iknow_common"), "no target: {line}");
    }

    #[test]
    fn an_otlp_endpoint_gives_spans_an_opentelemetry_context() {
        if let Ok(case) = std::env::var(CHILD) {
            let valid = child(&case);
            assert_eq!(valid, case == "otlp");
            assert_eq!(PROVIDER.get().is_some(), case == "otlp");
            return;
        }
        in_child("an_otlp_endpoint_gives_spans_an_opentelemetry_context", "otlp");
        // An endpoint the exporter cannot use: logs still work, without export, and the reason is said.
        let (stdout, stderr) = in_child("an_otlp_endpoint_gives_spans_an_opentelemetry_context", "bad-otlp");
        assert!(stderr.contains("OTLP exporter disabled"), "{stderr}");
        assert!(stdout.contains("hello from the child"), "{stdout}");
    }

    #[test]
    fn test_logging_is_pretty_and_only_when_asked_for() {
        if std::env::var_os(CHILD).is_some() {
            init_for_tests();
            tracing::info!("hello from the child");
            return;
        }
        let (stdout, _) = in_child("test_logging_is_pretty_and_only_when_asked_for", "quiet");
        assert!(!stdout.contains("hello from the child"), "{stdout}");
        let (stdout, _) = in_child("test_logging_is_pretty_and_only_when_asked_for", "test-log");
        let line = stdout.lines().find(|l| l.contains("hello from the child")).expect(&stdout);
        assert!(line.contains("INFO") && !line.starts_with('{'), "{line}");
    }
}
