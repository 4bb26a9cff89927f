//! Request ids: made or kept at the gateway, carried to services as `x-request-id` gRPC metadata by
//! [`Propagate`], and recorded on every service span by [`grpc_span`] so each log line names its request.

use tonic::service::Interceptor;

/// Header and metadata key.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request the current task serves (set by the gateway around each handler).
    pub static CURRENT: String;
}

/// The current task's request id, if it serves one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// gRPC client interceptor that forwards the current request id.
#[derive(Debug, Clone, Copy, Default)]
pub struct Propagate;

impl Interceptor for Propagate {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(id) = current()
            && let Ok(v) = id.parse()
        {
            req.metadata_mut().insert(HEADER, v);
        }
        Ok(req)
    }
}

/// Span for one incoming gRPC call, carrying the caller's request id.
pub fn grpc_span<B>(req: &http::Request<B>) -> tracing::Span {
    let id = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("grpc", method = %req.uri().path(), request_id = %id)
}

/// Whether a client-supplied id is safe to keep (printable, bounded); otherwise the gateway makes one.
pub fn is_acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The request id of an incoming gRPC call: the caller's `x-request-id` metadata when it is acceptable, else
/// the current task's (a caller in the same process, see [`current`]).
pub fn of<T>(request: &tonic::Request<T>) -> Option<String> {
    request
        .metadata()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_acceptable(id))
        .map(str::to_owned)
        .or_else(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn interceptor_forwards_the_task_request_id() {
        let req =
            CURRENT.scope("abc-123".to_string(), async { Propagate.call(tonic::Request::new(())).unwrap() }).await;
        assert_eq!(req.metadata().get(HEADER).unwrap(), "abc-123");
        let outside = Propagate.call(tonic::Request::new(())).unwrap();
        assert!(outside.metadata().get(HEADER).is_none());
    }

    #[tokio::test]
    async fn a_call_keeps_the_callers_acceptable_id_else_the_tasks() {
        let mut req = tonic::Request::new(());
        req.metadata_mut().insert(HEADER, "req-1".parse().unwrap());
        assert_eq!(of(&req).as_deref(), Some("req-1"));
        let mut unsafe_id = tonic::Request::new(());
        unsafe_id.metadata_mut().insert(HEADER, "x".repeat(200).parse().unwrap());
        assert_eq!(of(&unsafe_id), None);
        let in_task = CURRENT.scope("task-1".to_string(), async { of(&unsafe_id) }).await;
        assert_eq!(in_task.as_deref(), Some("task-1"));
    }

    #[test]
    fn rejects_unsafe_ids() {
        assert!(is_acceptable("0191-abc"));
        assert!(!is_acceptable(""));
        assert!(!is_acceptable("a b"));
        assert!(!is_acceptable(&"x".repeat(200)));
    }

    /// A log line's writer for the test's own subscriber.
    #[derive(Clone, Default)]
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_grpc_span_names_the_method_and_the_callers_request_id() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let call = |id: Option<&str>| {
            let mut req = http::Request::builder().uri("/iknow.catalog.v1.Catalog/GetActor");
            if let Some(id) = id {
                req = req.header(HEADER, id);
            }
            tracing::info!(parent: &grpc_span(&req.body(()).unwrap()), "call");
        };
        call(Some("req-9"));
        call(None);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let logged: Vec<&str> = text.lines().collect();
        assert_eq!(logged.len(), 2, "{text}");
        assert!(logged[0].contains("grpc{method=/iknow.catalog.v1.Catalog/GetActor request_id=req-9}"), "{text}");
        assert!(logged[1].contains("request_id=-}"), "{text}");
    }
}
