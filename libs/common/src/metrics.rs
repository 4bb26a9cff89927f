//! Prometheus metrics: one process-wide recorder; `/metrics` renders it.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Installs the recorder on first use and returns the handle that renders the text format.
pub fn prometheus() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a test binary, say); ours still renders what it saw.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Records how long one named database query took (`db_query_duration_seconds{service,query}`).
pub fn record_db_query(service: &'static str, query: &'static str, started: Instant) {
    metrics::histogram!("db_query_duration_seconds", "service" => service, "query" => query)
        .record(started.elapsed().as_secs_f64());
}

/// Counts a cache lookup (`cache_hits_total` / `cache_misses_total{cache_type}`).
pub fn record_cache(cache_type: &'static str, hit: bool) {
    if hit {
        metrics::counter!("cache_hits_total", "cache_type" => cache_type).increment(1);
    } else {
        metrics::counter!("cache_misses_total", "cache_type" => cache_type).increment(1);
    }
}
