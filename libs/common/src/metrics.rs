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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_queries_and_cache_lookups_are_rendered() {
        let handle = prometheus();
        record_db_query("test-service", "get_actor", Instant::now());
        record_cache("actor", true);
        record_cache("actor", false);
        record_cache("actor", false);
        let text = handle.render();
        // Latency histograms get the platform's buckets, from half a millisecond.
        assert!(
            text.contains(r#"db_query_duration_seconds_bucket{service="test-service",query="get_actor",le="0.0005"}"#),
            "{text}"
        );
        assert!(text.contains(r#"db_query_duration_seconds_count{service="test-service",query="get_actor"} 1"#));
        assert!(text.contains(r#"cache_hits_total{cache_type="actor"} 1"#), "{text}");
        assert!(text.contains(r#"cache_misses_total{cache_type="actor"} 2"#), "{text}");
        assert!(std::ptr::eq(handle, prometheus()), "one recorder per process");
    }
}
