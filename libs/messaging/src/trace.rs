//! W3C trace context in message headers, so a trace crosses RabbitMQ: the producer's span is the remote parent
//! of the span that handles the delivery.
//!
//! - Producing: [`OutboxMessage::json`](crate::OutboxMessage::json) calls [`inject`], which writes the
//!   `traceparent` (and a non-empty `tracestate`) of the current tracing span's OpenTelemetry context into the
//!   message's headers; the relay publishes them as AMQP long strings like every outbox header. A message
//!   published directly (not through the outbox) gets them with [`inject_amqp`].
//! - Consuming: [`delivery_span`] makes the span of one delivery, already a child of the remote context the
//!   delivery carries; [`set_parent`] does the same for a span the consumer builds itself (with more fields).
//!
//! The headers are written and read through the global OpenTelemetry text-map propagator, which
//! `iknow_common::telemetry::init` sets to W3C `TraceContextPropagator` (until then it is a no-op). Without an
//! OpenTelemetry layer in the subscriber (no OTLP endpoint configured) spans have no OpenTelemetry context:
//! nothing is injected, and a received context is not continued. Both sides cost nothing then.

use std::collections::BTreeMap;

use lapin::message::Delivery;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Header of the W3C trace parent (`00-{trace id}-{span id}-{flags}`).
pub const TRACEPARENT: &str = "traceparent";
/// Header of the W3C vendor trace state.
pub const TRACESTATE: &str = "tracestate";

/// Writes the trace context of the current tracing span into `headers` (outbox headers). Writes nothing when the
/// span has no valid OpenTelemetry context (no span, or no OpenTelemetry layer).
pub fn inject(headers: &mut BTreeMap<String, String>) {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return;
    }
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&cx, &mut MapInjector(headers));
    });
}

/// [`inject`] for a message published directly: writes the current trace context into its AMQP headers as long
/// strings.
pub fn inject_amqp(table: &mut FieldTable) {
    let mut headers = BTreeMap::new();
    inject(&mut headers);
    for (name, value) in headers {
        table.insert(ShortString::from(name), AMQPValue::LongString(LongString::from(value)));
    }
}

/// The remote OpenTelemetry context carried by AMQP `headers` (empty when there is none or it is malformed).
pub fn extract(headers: Option<&FieldTable>) -> opentelemetry::Context {
    let Some(headers) = headers else {
        return opentelemetry::Context::new();
    };
    opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&TableExtractor(headers)))
}

/// Makes `span` a child of the remote context carried by AMQP `headers`. Call it before the span is first
/// entered (or instrumented). Does nothing without a valid remote context, so the span keeps its local parent.
pub fn set_parent(span: &tracing::Span, headers: Option<&FieldTable>) {
    let cx = extract(headers);
    if cx.span().span_context().is_valid() {
        // Fails only when there is no OpenTelemetry layer or the span is disabled: nothing to continue then.
        let _ = span.set_parent(cx);
    }
}

/// The span to handle one delivery in, the child of the producer's span (see [`set_parent`]). `consumer` names
/// the consumer (its OpenTelemetry span name, and a field of the log lines); the message's routing key and
/// `x-request-id` are fields too. Instrument the handling with it:
/// `handle(&delivery).instrument(trace::delivery_span("user.deleted", &delivery))`.
pub fn delivery_span(consumer: &'static str, delivery: &Delivery) -> tracing::Span {
    let request_id = crate::consume::header(delivery, "x-request-id");
    let span = tracing::info_span!(
        "delivery",
        otel.name = consumer,
        otel.kind = "consumer",
        consumer,
        routing_key = %delivery.routing_key,
        request_id = request_id.as_deref().unwrap_or("-"),
    );
    set_parent(&span, delivery.properties.headers().as_ref());
    span
}

struct MapInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // An empty `tracestate` means the same as none (W3C); leave it out.
        if !value.is_empty() {
            self.0.insert(key.to_owned(), value);
        }
    }
}

struct TableExtractor<'a>(&'a FieldTable);

impl Extractor for TableExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match self.0.inner().get(key)? {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok(),
            AMQPValue::ShortString(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.0.inner().keys().map(ShortString::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::OutboxMessage;

    /// A subscriber with an OpenTelemetry layer over a provider without exporter, and the W3C propagator.
    fn subscriber() -> impl tracing::Subscriber + Send + Sync {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let tracer = SdkTracerProvider::builder().build().tracer("test");
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer))
    }

    fn trace_id(span: &tracing::Span) -> opentelemetry::trace::TraceId {
        span.context().span().span_context().trace_id()
    }

    #[test]
    fn an_outbox_message_carries_the_trace_context_of_the_span_that_built_it() {
        let _guard = tracing::subscriber::set_default(subscriber());
        let span = tracing::info_span!("request");
        let message = span.in_scope(|| OutboxMessage::json("ex", "key", &serde_json::json!({})).unwrap());

        let cx = span.context();
        let expected = cx.span().span_context().clone();
        assert!(expected.is_valid());
        let traceparent = message.headers.get(TRACEPARENT).expect("traceparent header");
        assert_eq!(traceparent, &format!("00-{}-{}-01", expected.trace_id(), expected.span_id()));
        // The trace state is empty: no header for it.
        assert!(!message.headers.contains_key(TRACESTATE), "{:?}", message.headers);

        // Outside any span: a new message carries no trace context.
        let outside = OutboxMessage::json("ex", "key", &serde_json::json!({})).unwrap();
        assert!(outside.headers.is_empty(), "{:?}", outside.headers);
    }

    #[test]
    fn a_span_with_the_headers_as_parent_continues_the_trace() {
        let _guard = tracing::subscriber::set_default(subscriber());
        let producer = tracing::info_span!("producer");
        let mut table = FieldTable::default();
        table.insert("x-request-id".into(), AMQPValue::LongString("r-1".into()));
        producer.in_scope(|| inject_amqp(&mut table));
        assert!(table.contains_key(TRACEPARENT));

        let consumer = tracing::info_span!("consumer");
        set_parent(&consumer, Some(&table));
        assert_eq!(trace_id(&consumer), trace_id(&producer));
        // Its own span, not the producer's.
        assert_ne!(
            consumer.context().span().span_context().span_id(),
            producer.context().span().span_context().span_id()
        );
    }

    #[test]
    fn headers_without_or_with_a_malformed_context_leave_the_span_alone() {
        let _guard = tracing::subscriber::set_default(subscriber());
        let parent = tracing::info_span!("session");
        for headers in [None, Some(FieldTable::default()), Some(malformed())] {
            let span = parent.in_scope(|| tracing::info_span!("delivery"));
            set_parent(&span, headers.as_ref());
            // Still in the local trace of its parent.
            assert_eq!(trace_id(&span), trace_id(&parent));
        }
        assert!(!extract(Some(&malformed())).span().span_context().is_valid());
    }

    fn malformed() -> FieldTable {
        let mut table = FieldTable::default();
        table.insert(TRACEPARENT.into(), AMQPValue::LongString("00-not-a-trace-01".into()));
        table
    }

    #[test]
    fn short_string_headers_are_read_and_other_values_ignored() {
        let _guard = tracing::subscriber::set_default(subscriber());
        let producer = tracing::info_span!("producer");
        let mut headers = BTreeMap::new();
        producer.in_scope(|| inject(&mut headers));
        let mut table = FieldTable::default();
        table.insert(TRACEPARENT.into(), AMQPValue::ShortString(headers[TRACEPARENT].as_str().into()));
        table.insert(TRACESTATE.into(), AMQPValue::LongLongInt(1));
        let extractor = TableExtractor(&table);
        assert_eq!(extractor.get(TRACEPARENT), Some(headers[TRACEPARENT].as_str()));
        assert_eq!(extractor.get(TRACESTATE), None, "not a string");
        let mut keys = extractor.keys();
        keys.sort_unstable();
        assert_eq!(keys, [TRACEPARENT, TRACESTATE]);
        let cx = extract(Some(&table));
        assert_eq!(cx.span().span_context().trace_id(), trace_id(&producer));
    }

    #[test]
    fn a_delivery_span_names_its_consumer_routing_key_and_request_id() {
        let (capture, _guard) = iknow_testkit::logs::Capture::install(tracing::Level::INFO);
        let mut delivery = Delivery::mock(1, "ex".into(), "user.deleted".into(), false, vec![]);
        tracing::info!(parent: &delivery_span("test consumer", &delivery), "without");
        let mut table = FieldTable::default();
        table.insert("x-request-id".into(), AMQPValue::LongString("r-7".into()));
        delivery.properties = lapin::BasicProperties::default().with_headers(table);
        tracing::info!(parent: &delivery_span("test consumer", &delivery), "with");
        let line = |message: &str| capture.text().lines().find(|l| l.ends_with(message)).unwrap().to_owned();
        let without = line("without");
        assert!(without.contains("consumer=\"test consumer\""), "{without}");
        assert!(without.contains("routing_key=user.deleted"), "{without}");
        assert!(without.contains("request_id=\"-\""), "{without}");
        assert!(line("with").contains("request_id=\"r-7\""), "{}", line("with"));
    }
}
