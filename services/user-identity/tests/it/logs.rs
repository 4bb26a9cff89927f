//! No password, hash or token ever reaches the logs: every call is made with a capturing subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use iknow_proto::identity::v1::{LogoutRequest, RefreshRequest};

use crate::helpers::{PASSWORD, spawn};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// A current-thread runtime: the server's tasks run on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_appear_in_logs() {
    let app = spawn().await;
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    app.register("jan@example.com", "jan").await;
    let session = app.login("jan", PASSWORD).await.unwrap();
    assert!(app.login("jan", "Wrong-Password-2").await.is_err());
    let mut client = app.client.clone();
    let rotated =
        client.refresh(RefreshRequest { refresh_token: session.refresh_token.clone() }).await.unwrap().into_inner();
    assert!(client.refresh(RefreshRequest { refresh_token: session.refresh_token.clone() }).await.is_err());
    client.logout(LogoutRequest { refresh_token: rotated.refresh_token.clone() }).await.unwrap();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("login succeeded"), "the capture works: {logs}");
    assert!(logs.contains("family revoked"));
    for secret in [PASSWORD, "Wrong-Password-2", "$argon2", &session.access_token, &session.refresh_token] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
    assert!(!logs.contains(&rotated.refresh_token) && !logs.contains(&rotated.access_token));
}
