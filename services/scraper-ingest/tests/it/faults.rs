//! Jobs that fail: straight to the dead-letter queue when retrying cannot help, retried with backoff while
//! the catalogue is down, dead-lettered once the attempts run out.

use crate::helpers::*;

fn header(message: &lapin::message::BasicGetMessage, name: &str) -> Option<String> {
    iknow_messaging::consume::header(&message.delivery, name)
}

#[tokio::test]
async fn a_missing_directory_goes_straight_to_the_dead_letter_queue_with_its_reason() {
    let env = Env::new().await;
    let app = env.start().await;
    let missing = std::env::temp_dir().join(format!("iknow-missing-{}", uuid::Uuid::now_v7().simple()));
    let queued = app.enqueue(&missing).await;
    let job = app.wait_for(&queued.id, "dead", 30).await;
    assert_eq!(job.attempts, 1, "no point retrying a missing directory");
    assert!(job.last_error.contains("does not exist"), "{job:#?}");
    assert!(!job.finished_at.is_empty());

    let message = next_message(&env.config.dead_queue()).await;
    let body: serde_json::Value = serde_json::from_slice(&message.delivery.data).unwrap();
    assert_eq!(body["jobId"], queued.id.as_str());
    let reason = header(&message, "x-failure-reason").expect("the reason travels with the message");
    assert!(reason.contains("does not exist") && reason.contains(&missing.display().to_string()), "{reason}");
    assert_eq!(header(&message, "x-attempts").as_deref(), Some("1"));
    assert!(header(&message, "x-request-id").is_some_and(|id| !id.is_empty()), "the request id travels too");

    // A missing required file is just as final.
    let dir = TempDir::new("ingest");
    dir.write("title.basics.tsv", &[TITLE_HEADER]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER]);
    let queued = app.enqueue(dir.path()).await;
    let job = app.wait_for(&queued.id, "dead", 30).await;
    assert!(job.last_error.contains("name.basics.tsv"), "{job:#?}");
    app.stop().await;
}

#[tokio::test]
async fn a_catalogue_outage_is_retried_with_backoff_and_succeeds_once_it_is_back() {
    let mut env = Env::new().await;
    env.config.max_attempts = 20;
    env.config.retry_base_ms = 200;
    let app = env.start().await;
    let dir = generated(300);
    env.catalog.proxy.cut();
    let queued = app.enqueue(dir.path()).await;

    // Two attempts fail while the catalogue is unreachable, each scheduled after a delay.
    let failed = iknow_testkit::eventually(60, || async {
        let job = app.job(&queued.id).await;
        (job.state == "failed" && job.attempts >= 2).then_some(job)
    })
    .await;
    assert!(failed.last_error.contains("UpsertBatch"), "{failed:#?}");
    let retry_at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT retry_at FROM scrape_jobs WHERE id = $1::uuid")
            .bind(&queued.id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(retry_at.is_some(), "the retry has a due time");

    env.catalog.proxy.restore();
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert!(job.attempts >= 2, "{job:#?}");
    assert!(job.last_error.is_empty());
    assert_eq!(counts(file(&job, "title.basics")), (300, 300, 0, 0, 0));
    assert_eq!(counts(file(&job, "name.basics")), (100, 100, 0, 0, 0));
    assert_eq!(counts(file(&job, "title.principals")), (300, 300, 0, 0, 0));
    assert_eq!(env.catalog.count("filmography").await, 300);
    app.stop().await;
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_dead_lettered_after_its_attempts() {
    let env = Env::new().await;
    let app = env.start().await;
    let dir = generated(10);
    env.catalog.proxy.cut();
    let queued = app.enqueue(dir.path()).await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert_eq!(job.attempts, env.config.max_attempts);
    assert!(job.last_error.starts_with("gave up after 3 attempts"), "{job:#?}");
    let message = next_message(&env.config.dead_queue()).await;
    assert!(header(&message, "x-failure-reason").is_some_and(|r| r.contains("UpsertBatch")));
    assert_eq!(header(&message, "x-attempts").as_deref(), Some("3"));
    app.stop().await;
}
