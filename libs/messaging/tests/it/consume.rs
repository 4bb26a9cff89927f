//! `consume::run`, the reconnecting consumer loop, against the real RabbitMQ behind a TCP proxy the test cuts:
//! one warning per outage, the reconnection hook, the backoff back to its minimum, and both ways of stopping;
//! a broker that never answers, streams that end, and `consume::start`'s prefetch and exclusivity.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use iknow_messaging::consume::{self, Attempt, Options};
use iknow_testkit::TcpProxy;
use iknow_testkit::amqp::{broker_addr, through_proxy};
use iknow_testkit::logs::Capture;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The test's exchange, and what its consumer saw.
struct Probe {
    exchange: String,
    sessions: Arc<AtomicUsize>,
    reconnects: Arc<AtomicUsize>,
    received: mpsc::UnboundedReceiver<String>,
}

/// One session: a private queue bound to the exchange, every body sent on `seen`, until the stream ends.
async fn session(
    connection: Connection,
    attempt: Attempt,
    exchange: String,
    sessions: Arc<AtomicUsize>,
    seen: mpsc::UnboundedSender<String>,
) -> anyhow::Result<()> {
    let channel = connection.create_channel().await?;
    let queue = format!("{exchange}.consumer");
    consume::bind_queue(&channel, &queue, &exchange, "#", false).await?;
    let options = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
    let mut consumer = channel.basic_consume(queue.as_str().into(), "".into(), options, FieldTable::default()).await?;
    attempt.consuming().await;
    sessions.fetch_add(1, Ordering::SeqCst);
    while let Some(delivery) = consumer.next().await {
        let _ = seen.send(String::from_utf8_lossy(&delivery?.data).into_owned());
    }
    Ok(())
}

/// `consume::run` through `amqp_url` in the background, with a short backoff.
fn start(amqp_url: String, options: Options, stop: watch::Receiver<bool>) -> (Probe, JoinHandle<()>) {
    let exchange = iknow_testkit::unique_prefix("consume").trim_end_matches(':').replace(':', ".");
    let (seen, received) = mpsc::unbounded_channel();
    let (sessions, reconnects) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = reconnects.clone();
    let options = options.on_reconnect(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async {}
    });
    let (ex, s) = (exchange.clone(), sessions.clone());
    let task = tokio::spawn(async move {
        consume::run(&amqp_url, options, stop, |connection, attempt| {
            session(connection, attempt, ex.clone(), s.clone(), seen.clone())
        })
        .await;
    });
    (Probe { exchange, sessions, reconnects, received }, task)
}

/// Publishes `body` to `exchange` straight to the broker (not through the proxy).
async fn publish(exchange: &str, body: &str) {
    let connection = consume::connect(&iknow_testkit::amqp_url()).await.expect("RabbitMQ must be running");
    let channel = connection.create_channel().await.unwrap();
    consume::declare_exchange(&channel, exchange).await.unwrap();
    channel
        .basic_publish(
            exchange.into(),
            "test".into(),
            BasicPublishOptions::default(),
            body.as_bytes(),
            BasicProperties::default(),
        )
        .await
        .unwrap();
    let _ = connection.close(200, "OK".into()).await;
}

impl Probe {
    /// Publishes bodies until one arrives (the queue may not be bound yet), and returns it.
    async fn round_trip(&mut self, body: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            assert!(tokio::time::Instant::now() < deadline, "{body} never arrived");
            publish(&self.exchange, body).await;
            match tokio::time::timeout(Duration::from_millis(300), self.received.recv()).await {
                Ok(Some(got)) if got == body => return,
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => panic!("the consumer task ended"),
            }
        }
    }
}

async fn stopped_within(task: JoinHandle<()>, secs: u64) {
    tokio::time::timeout(Duration::from_secs(secs), task).await.expect("run returns once stopped").unwrap();
}

// A current-thread runtime: the consumer's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn an_outage_warns_once_runs_the_hook_on_reconnect_and_the_consumer_carries_on() {
    let (capture, _guard) = Capture::install(tracing::Level::DEBUG);

    let proxy = TcpProxy::start(broker_addr().await).await;
    let (stop_tx, stop) = watch::channel(false);
    let options = Options::new("test consumer")
        .queue("test-queue")
        .backoff(Duration::from_millis(50), Duration::from_millis(200));
    let (mut probe, task) = start(through_proxy(&proxy), options, stop);

    probe.round_trip("before").await;
    assert_eq!((probe.sessions.load(Ordering::SeqCst), probe.reconnects.load(Ordering::SeqCst)), (1, 0));

    proxy.cut();
    // Several failed attempts at the short backoff.
    iknow_testkit::eventually(20, || async { (capture.lines("DEBUG", "test consumer still down") >= 3).then_some(()) })
        .await;
    proxy.restore();
    probe.round_trip("after").await;
    assert_eq!(probe.sessions.load(Ordering::SeqCst), 2);
    assert_eq!(probe.reconnects.load(Ordering::SeqCst), 1, "the hook runs once per reconnection");
    let warnings = capture.lines("WARN", "test consumer");
    assert_eq!(warnings, 1, "one warning for the outage");
    assert_eq!(capture.lines("WARN", "test-queue"), 1, "the queue is a field of the line");

    // A second outage warns again, once.
    proxy.cut();
    iknow_testkit::eventually(20, || async { (capture.lines("WARN", "test consumer") == 2).then_some(()) }).await;
    // Stopping while the broker is away ends the backoff at once.
    stop_tx.send(true).unwrap();
    stopped_within(task, 5).await;
    assert!(!amqp_url_logged(&capture), "the broker URL (it may carry a password) is never logged");
}

fn amqp_url_logged(capture: &Capture) -> bool {
    capture.lines("", "amqp://") > 0
}

#[tokio::test]
async fn stopping_drops_the_session_unless_it_stops_itself() {
    for session_stops in [false, true] {
        let (stop_tx, stop) = watch::channel(false);
        let finished = Arc::new(AtomicUsize::new(0));
        let options = Options::new("stopping consumer");
        let options = if session_stops { options.session_stops() } else { options };
        let (f, own_stop) = (finished.clone(), stop.clone());
        let task = tokio::spawn(async move {
            consume::run(&iknow_testkit::amqp_url(), options, stop, |_connection, attempt| {
                let (f, mut own_stop) = (f.clone(), own_stop.clone());
                async move {
                    attempt.consuming().await;
                    consume::until_stopped(&mut own_stop).await;
                    // Work that settles after the stop: done only when the runner waits for the session.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    f.fetch_add(1, Ordering::SeqCst);
                    anyhow::Ok(())
                }
            })
            .await;
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop_tx.send(true).unwrap();
        stopped_within(task, 5).await;
        assert_eq!(finished.load(Ordering::SeqCst), usize::from(session_stops), "session_stops: {session_stops}");
    }
}

#[tokio::test]
async fn a_dead_broker_is_retried_until_stopped() {
    let (stop_tx, stop) = watch::channel(false);
    let attempts = Arc::new(AtomicUsize::new(0));
    let url = format!("amqp://guest:guest@{}/%2f", iknow_testkit::dead_addr().await);
    let options = Options::new("dead consumer").backoff(Duration::from_millis(20), Duration::from_millis(40));
    let a = attempts.clone();
    let task = tokio::spawn(async move {
        consume::run(&url, options, stop, |_connection, _attempt| {
            a.fetch_add(1, Ordering::SeqCst);
            async { anyhow::Ok(()) }
        })
        .await;
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).unwrap();
    stopped_within(task, 5).await;
    assert_eq!(attempts.load(Ordering::SeqCst), 0, "no connection, no session");
}

/// A listener that accepts TCP connections and never answers (a broker that hangs in its handshake).
async fn silent_broker() -> (String, JoinHandle<()>) {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("amqp://guest:guest@{}/%2f", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    (url, held)
}

// A current-thread runtime: the consumer's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_broker_that_never_answers_fails_each_attempt_at_the_connect_timeout() {
    let (capture, _guard) = Capture::install(tracing::Level::DEBUG);
    let (url, held) = silent_broker().await;
    let (stop_tx, stop) = watch::channel(false);
    let sessions = Arc::new(AtomicUsize::new(0));
    let options = Options::new("silent consumer")
        .connect_timeout(Duration::from_millis(100))
        .backoff(Duration::from_millis(10), Duration::from_millis(20));
    let s = sessions.clone();
    let task = tokio::spawn(async move {
        consume::run(&url, options, stop, |_connection, _attempt| {
            s.fetch_add(1, Ordering::SeqCst);
            async { anyhow::Ok(()) }
        })
        .await;
    });
    iknow_testkit::eventually(20, || async {
        (capture.lines("DEBUG", "silent consumer still down") >= 2).then_some(())
    })
    .await;
    stop_tx.send(true).unwrap();
    stopped_within(task, 5).await;
    held.abort();

    assert_eq!(sessions.load(Ordering::SeqCst), 0, "no connection, no session");
    // (At most one warning: the exact count per outage is the first test's; under `cargo test`, where tests
    // share a process, the thread-local subscriber can miss the very first event.)
    assert!(capture.lines("WARN", "silent consumer") <= 1, "one warning for the outage");
    // Every attempt failed at the timeout, and says so.
    assert_eq!(capture.lines("", "cannot connect to RabbitMQ within 100ms"), capture.lines("", "silent consumer"));
}

// A current-thread runtime: the consumer's task runs on this thread, under the thread-local subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_stream_that_ends_is_reconnected_with_a_warning_each_time() {
    let (capture, _guard) = Capture::install(tracing::Level::DEBUG);
    let (stop_tx, stop) = watch::channel(false);
    let (sessions, reconnects) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = reconnects.clone();
    let options = Options::new("ending consumer")
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
        .on_reconnect(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        });
    let (s, own_stop) = (sessions.clone(), stop.clone());
    let task = tokio::spawn(async move {
        consume::run(&iknow_testkit::amqp_url(), options, stop, |_connection, attempt| {
            let (s, mut own_stop) = (s.clone(), own_stop.clone());
            async move {
                attempt.consuming().await;
                // The first two sessions' streams end at once; the third stays until stopped.
                if s.fetch_add(1, Ordering::SeqCst) >= 2 {
                    consume::until_stopped(&mut own_stop).await;
                }
                anyhow::Ok(())
            }
        })
        .await;
    });
    iknow_testkit::eventually(20, || async { (sessions.load(Ordering::SeqCst) == 3).then_some(()) }).await;
    stop_tx.send(true).unwrap();
    stopped_within(task, 5).await;

    assert_eq!(capture.lines("WARN", "ending consumer stream ended; reconnecting"), 2, "{}", capture.text());
    assert_eq!(reconnects.load(Ordering::SeqCst), 2, "the hook runs in every session after the first");
}

/// The next delivery of `consumer`, within 20 s.
async fn next(consumer: &mut lapin::Consumer) -> lapin::message::Delivery {
    let next = tokio::time::timeout(Duration::from_secs(20), consumer.next()).await;
    next.expect("a delivery").expect("consumer open").expect("delivery")
}

/// A private queue on `exchange` for [`consume::start`], a channel to consume it on, and a publisher.
async fn work_queue(what: &str) -> (Connection, String, String) {
    let connection = consume::connect(&iknow_testkit::amqp_url()).await.expect("RabbitMQ must be running");
    let exchange = iknow_testkit::unique_prefix(what).trim_end_matches(':').replace(':', ".");
    let queue = format!("{exchange}.work");
    let channel = connection.create_channel().await.unwrap();
    // Not durable: exclusive to this connection, gone with it.
    consume::bind_queue(&channel, &queue, &exchange, "#", false).await.unwrap();
    (connection, exchange, queue)
}

#[tokio::test]
async fn start_holds_back_deliveries_beyond_the_prefetch_until_one_is_acked() {
    let (connection, exchange, queue) = work_queue("consume-prefetch").await;
    let channel = connection.create_channel().await.unwrap();
    let mut consumer = consume::start(&channel, &queue, 1, false).await.unwrap();
    for body in ["one", "two"] {
        publish(&exchange, body).await;
    }
    let first = next(&mut consumer).await;
    assert_eq!(first.data, b"one");
    // The second waits in the queue while the first is unacknowledged.
    let inspect = connection.create_channel().await.unwrap();
    let passive = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
    let ready = iknow_testkit::eventually(20, || async {
        let count = inspect.queue_declare(queue.as_str().into(), passive, FieldTable::default()).await.unwrap();
        (count.message_count() == 1).then_some(count.message_count())
    })
    .await;
    assert_eq!(ready, 1);
    first.acker.ack(BasicAckOptions::default()).await.unwrap();
    assert_eq!(next(&mut consumer).await.data, b"two");
}

#[tokio::test]
async fn an_exclusive_consumer_keeps_the_queue_to_itself() {
    let (connection, _exchange, queue) = work_queue("consume-exclusive").await;
    let first = connection.create_channel().await.unwrap();
    let second = connection.create_channel().await.unwrap();
    let _only = consume::start(&first, &queue, 10, true).await.unwrap();
    let refused = consume::start(&second, &queue, 10, false).await.expect_err("the queue is taken");
    assert!(refused.to_string().contains("ACCESS_REFUSED"), "{refused}");

    // Shared consumers may be several.
    let (connection, _exchange, queue) = work_queue("consume-shared").await;
    let (a, b) = (connection.create_channel().await.unwrap(), connection.create_channel().await.unwrap());
    // (Kept: the queue is deleted with its last consumer.)
    let _a = consume::start(&a, &queue, 10, false).await.unwrap();
    let _b = consume::start(&b, &queue, 10, false).await.expect("a second shared consumer");
}
