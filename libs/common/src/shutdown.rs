//! Waiting for the signal to stop: ctrl-c or SIGTERM.

/// Resolves on ctrl-c or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    use tokio::signal::unix::{SignalKind, signal as listen};

    /// Sends `signal` (`TERM`, `INT`) to this process.
    fn raise(signal: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), std::process::id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// `signal()` resolves when this process receives `name`, and not before.
    async fn resolves_on(kind: SignalKind, name: &str) {
        // Our own listener first: from now on the signal is caught, never the default action (exit).
        let mut caught = listen(kind).unwrap();
        let mut waiting = std::pin::pin!(super::signal());
        // Polled until it has registered its listeners (its first poll); nothing received yet.
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut waiting).await.is_err());
        raise(name);
        caught.recv().await;
        tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("signal() resolves on the signal");
    }

    // One test for both: signals go to the whole process, and a test harness may run tests side by side in one.
    #[tokio::test]
    async fn sigterm_or_ctrl_c_asks_to_stop() {
        resolves_on(SignalKind::terminate(), "TERM").await;
        resolves_on(SignalKind::interrupt(), "INT").await;
    }
}
