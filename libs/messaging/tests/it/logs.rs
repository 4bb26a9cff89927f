//! What the relay logs across an outage: one warning when RabbitMQ goes, one line when it is back, and never a
//! payload or the broker password.

use iknow_testkit::TcpProxy;
use iknow_testkit::amqp::{broker_addr, through_proxy};
use iknow_testkit::logs::Capture;

use crate::helpers::{Env, RunningRelay, config};

// A current-thread runtime: the relay's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn an_outage_logs_one_warning_and_one_recovery_without_payloads() {
    let (capture, _guard) = Capture::install(tracing::Level::DEBUG);

    let env = Env::new("relay-logs").await;
    let mut listener = env.listen().await;
    let proxy = TcpProxy::start(broker_addr().await).await;
    proxy.cut();
    let relay = RunningRelay::start(&env.pool, config(through_proxy(&proxy)));

    let ids = env.enqueue_committed(&[env.message(1)]).await;
    relay.handle.wake();
    // Several failed rounds (the backoff starts at 100 ms).
    iknow_testkit::eventually(20, || async {
        let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM outbox").fetch_one(&env.pool).await.unwrap();
        (attempts >= 3).then_some(())
    })
    .await;
    proxy.restore();
    assert_eq!(listener.next_ids(1).await, ids);
    env.wait_outbox_empty().await;
    relay.stop().await;

    let logs = capture.text();
    assert_eq!(logs.matches("RabbitMQ unavailable").count(), 1, "one warning per outage:\n{logs}");
    assert_eq!(logs.matches("RabbitMQ reachable again").count(), 1, "one recovery line:\n{logs}");
    assert!(!logs.contains("secret-token"), "payload logged:\n{logs}");
    assert!(!logs.contains("guest:guest"), "broker password logged:\n{logs}");
}
