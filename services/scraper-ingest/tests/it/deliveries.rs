//! What the worker does with a delivery, whatever its job row says: an unreadable message or one naming no job
//! is dead-lettered by the broker; a leftover of a finished job is dropped; a message of a job another worker
//! holds the lease of waits in the wait queue and resumes the job once that lease has expired; the message of
//! a failed attempt whose retry may be lost schedules the retry again; a job whose parameters cannot be read
//! is dead-lettered at once.

use lapin::options::{BasicGetOptions, BasicPublishOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::json;

use crate::helpers::*;
use crate::tmdb::{enqueue_person, setup};

async fn connect() -> Connection {
    Connection::connect(&iknow_testkit::amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ must be running")
}

/// The ready messages of `queue`, or `None` while it does not exist.
async fn depth(queue: &str) -> Option<u32> {
    let conn = connect().await;
    let channel = conn.create_channel().await.unwrap();
    let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
    let declared = channel.queue_declare(queue.into(), options, FieldTable::default()).await;
    let _ = conn.close(200, "OK".into()).await;
    declared.ok().map(|q| q.message_count())
}

/// Waits until `queue` holds exactly `n` ready messages.
async fn wait_depth(queue: &str, n: u32, secs: u64) {
    iknow_testkit::eventually(secs, || async move { (depth(queue).await == Some(n)).then_some(()) }).await;
}

/// Publishes `body` to `queue` (through the default exchange) and waits for the broker's confirm.
async fn publish(queue: &str, body: &[u8]) {
    let conn = connect().await;
    let channel = conn.create_channel().await.unwrap();
    channel.confirm_select(Default::default()).await.unwrap();
    let confirm = channel
        .basic_publish("".into(), queue.into(), BasicPublishOptions::default(), body, BasicProperties::default())
        .await
        .unwrap();
    assert!(confirm.await.unwrap().is_ack());
    let _ = conn.close(200, "OK".into()).await;
}

fn message(job_id: &str, kind: &str, attempt: i32) -> Vec<u8> {
    serde_json::to_vec(&json!({"jobId": job_id, "kind": kind, "attempt": attempt})).unwrap()
}

/// Every ready message of `queue`, taken off it.
async fn drain(queue: &str) -> Vec<lapin::message::BasicGetMessage> {
    let conn = connect().await;
    let channel = conn.create_channel().await.unwrap();
    let mut messages = Vec::new();
    while let Some(m) = channel.basic_get(queue.into(), BasicGetOptions { no_ack: true }).await.unwrap() {
        messages.push(m);
    }
    let _ = conn.close(200, "OK".into()).await;
    messages
}

async fn set(env: &Env, id: &str, assignments: &str) {
    sqlx::query(&format!("UPDATE scrape_jobs SET {assignments} WHERE id = $1::uuid"))
        .bind(id)
        .execute(&env.pool)
        .await
        .unwrap();
}

/// Enqueues through a replica without a consumer, and waits until the job's message is in the work queue.
async fn enqueue_unconsumed(env: &Env, dir: &std::path::Path) -> String {
    let mut api_only = env.config.clone();
    api_only.worker_enabled = false;
    let api = Running::start(api_only).await;
    let queued = api.enqueue(dir).await;
    wait_depth(&env.config.work_queue(), 1, 30).await;
    api.stop().await;
    queued.id
}

#[tokio::test]
async fn unreadable_messages_and_unknown_jobs_are_dead_lettered_and_leftovers_dropped() {
    let mut env = Env::new().await;
    // One delivery at a time: each is settled before the next one is handed out.
    env.config.prefetch = 1;
    let app = env.start().await;
    let dir = generated(5);
    let queued = app.enqueue(dir.path()).await;
    app.wait_for(&queued.id, "succeeded", 60).await;

    let work = env.config.work_queue();
    // The finished job's message again (a redelivery), and one of an attempt it never reached: both dropped.
    publish(&work, &message(&queued.id, "imdb_dataset", 1)).await;
    publish(&work, &message(&queued.id, "imdb_dataset", 7)).await;
    publish(&work, b"{not json").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    publish(&work, &message(&unknown, "imdb_dataset", 1)).await;

    let dead = env.config.dead_queue();
    wait_depth(&dead, 2, 30).await;
    let bodies: Vec<Vec<u8>> = drain(&dead).await.into_iter().map(|m| m.delivery.data).collect();
    assert_eq!(bodies, vec![b"{not json".to_vec(), message(&unknown, "imdb_dataset", 1)]);
    let job = app.job(&queued.id).await;
    assert_eq!((job.state.as_str(), job.attempts), ("succeeded", 1), "the leftovers changed nothing");
    assert_eq!(depth(&work).await, Some(0));
    app.stop().await;
}

#[tokio::test]
async fn a_job_whose_lease_is_held_waits_and_is_resumed_once_the_lease_expires() {
    let mut env = Env::new().await;
    env.config.busy_recheck_ms = 300;
    let dir = generated(20);
    let id = enqueue_unconsumed(&env, dir.path()).await;
    // As if another worker ran it (and then died): running, attempt 1, leased for an hour.
    set(
        &env,
        &id,
        "state = 'running', attempts = 1, lease_owner = gen_random_uuid(), lease_until = now() + interval '1 hour'",
    )
    .await;

    let app = env.start().await;
    // The message goes round between the wait queue and the work queue while the lease holds.
    wait_depth(&env.config.wait_queue(), 1, 30).await;
    let (state, attempts) = env.state(&id).await;
    assert_eq!((state.as_str(), attempts), ("running", 1), "not taken while leased");
    assert_eq!(env.catalog.count("content").await, 0);

    // The lease expires: the next look resumes the attempt.
    set(&env, &id, "lease_until = now() - interval '1 second'").await;
    let job = app.wait_for(&id, "succeeded", 60).await;
    assert_eq!(job.attempts, 1, "resumed, not retried");
    assert_eq!(counts(file(&job, "title.basics")), (20, 20, 0, 0, 0));
    assert_eq!(env.catalog.count("content").await, 20);
    app.stop().await;
}

#[tokio::test]
async fn the_message_of_a_failed_attempt_schedules_its_retry_again() {
    let mut env = Env::new().await;
    env.config.max_attempts = 5;
    let dir = generated(5);
    let id = enqueue_unconsumed(&env, dir.path()).await;
    // As if attempt 1 failed and the broker lost its retry: failed, due in an hour. Its message (of attempt 1)
    // is still in the work queue.
    set(&env, &id, "state = 'failed', attempts = 1, last_error = 'boom', retry_at = now() + interval '1 hour'").await;

    let app = env.start().await;
    let retry = env.config.retry_queue(1);
    wait_depth(&retry, 1, 30).await;
    let messages = drain(&retry).await;
    let body: serde_json::Value = serde_json::from_slice(&messages[0].delivery.data).unwrap();
    assert_eq!(body, json!({"jobId": id, "kind": "imdb_dataset", "attempt": 2}));
    // Delayed until the retry is due (the broker's expiration, in milliseconds).
    let expiration: u64 = messages[0].delivery.properties.expiration().as_ref().unwrap().as_str().parse().unwrap();
    assert!(expiration > 3_000_000 && expiration <= 3_600_000, "{expiration}");
    assert!(iknow_messaging::consume::header(&messages[0].delivery, "x-request-id").is_some());
    let (state, attempts) = env.state(&id).await;
    assert_eq!((state.as_str(), attempts), ("failed", 1), "the job waits for its retry");

    // The retry comes back: attempt 2 runs.
    set(&env, &id, "retry_at = now()").await;
    publish(&env.config.work_queue(), &messages[0].delivery.data).await;
    let job = app.wait_for(&id, "succeeded", 60).await;
    assert_eq!(job.attempts, 2);
    app.stop().await;
}

#[tokio::test]
async fn a_job_whose_parameters_cannot_be_read_is_dead_lettered_at_once() {
    let (env, _mock) = setup(|_| {}).await;
    let dir = generated(1);
    let imdb = enqueue_unconsumed(&env, dir.path()).await;
    set(&env, &imdb, "payload = '{\"directory\": 1}'").await;
    let app = env.start().await;
    let job = app.wait_for(&imdb, "dead", 30).await;
    assert_eq!(job.attempts, 1);
    assert!(job.last_error.starts_with("invalid imdb_dataset parameters"), "{job:#?}");

    // TMDB jobs likewise (enqueued, then their payload spoilt before a worker can take them).
    let mut api_only = env.config.clone();
    api_only.worker_enabled = false;
    app.stop().await;
    let api = Running::start(api_only).await;
    let person = enqueue_person(&api, 31, "").await.id;
    let request = iknow_proto::ingest::v1::EnqueueTmdbTitleRequest { tmdb_id: 13, ..Default::default() };
    let title = api.client.clone().enqueue_tmdb_title(request).await.unwrap().into_inner().id;
    wait_depth(&env.config.work_queue(), 2, 30).await;
    api.stop().await;
    set(&env, &person, "payload = '{\"tmdbId\": 31, \"imdbId\": \"nm0000158\"}'").await;
    set(&env, &title, "payload = '{\"tmdbId\": 13, \"mediaType\": \"episode\"}'").await;

    let app = env.start().await;
    let job = app.wait_for(&person, "dead", 30).await;
    assert_eq!(job.last_error, "a tmdb_person job needs exactly one of tmdbId and imdbId", "{job:#?}");
    let job = app.wait_for(&title, "dead", 30).await;
    assert_eq!(job.last_error, "unknown media type \"episode\" (movie or tv)", "{job:#?}");
    assert_eq!(env.catalog.count("content").await, 0);
    app.stop().await;
}
