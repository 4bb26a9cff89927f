//! The trace context end to end: a span writes an outbox message, the relay publishes it to the real RabbitMQ,
//! and the consumer's delivery span continues the producer's trace.

use std::sync::{Arc, Mutex};

use iknow_messaging::trace;
use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::helpers::{Env, RunningRelay, config};

/// Keeps every finished span (the SDK's simple processor hands each one over as it ends).
#[derive(Debug, Clone, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collect {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }
}

impl Collect {
    fn span(&self, name: &str) -> SpanData {
        let spans = self.0.lock().unwrap();
        spans.iter().find(|s| s.name == name).cloned().unwrap_or_else(|| panic!("no span {name} in {spans:?}"))
    }
}

fn ids(span: &tracing::Span) -> (TraceId, SpanId) {
    let cx = span.context();
    let span_context = cx.span().span_context().clone();
    (span_context.trace_id(), span_context.span_id())
}

// A current-thread runtime: the relay's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn the_consumer_span_continues_the_trace_of_the_span_that_wrote_the_message() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let collect = Collect::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(collect.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let env = Env::new("trace-roundtrip").await;
    let mut listener = env.listen().await;
    let relay = RunningRelay::start(&env.pool, config(iknow_testkit::amqp_url()));

    // The producer: a request's span writes the message into the outbox (no header set by hand).
    let request = tracing::info_span!("request");
    let (trace_id, request_span_id) = ids(&request);
    let message = request.in_scope(|| env.message(1));
    env.enqueue_committed(std::slice::from_ref(&message)).await;
    drop(request);
    relay.handle.wake();

    let delivery = listener.next_delivery().await;
    assert_eq!(
        iknow_messaging::consume::header(&delivery, trace::TRACEPARENT),
        Some(format!("00-{trace_id}-{request_span_id}-01")),
    );
    let span = trace::delivery_span("test consumer", &delivery);
    let (consumer_trace_id, consumer_span_id) = ids(&span);
    assert_eq!(consumer_trace_id, trace_id, "the consumer's span is in the producer's trace");
    assert_ne!(consumer_span_id, request_span_id);
    async { tracing::info!("handled") }.instrument(span).await;

    // As exported: the delivery span's parent is the request's span, remote.
    let consumer = collect.span("test consumer");
    assert_eq!(consumer.span_context.trace_id(), trace_id);
    assert_eq!(consumer.parent_span_id, request_span_id);
    assert!(consumer.parent_span_is_remote);
    assert_eq!(collect.span("request").span_context.trace_id(), trace_id);

    env.wait_outbox_empty().await;
    relay.stop().await;
}
