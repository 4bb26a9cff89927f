//! A consumer stopped in the middle of an import (as by SIGTERM) leaves a checkpoint; the next one resumes
//! from it: the lines before it are never read again, nothing is written twice, the counts are exact. A killed
//! one keeps its lease until it expires; then the next delivery resumes the job from the last checkpoint.

use iknow_testkit::TcpProxy;

use crate::helpers::*;

#[tokio::test]
async fn a_stopped_consumer_checkpoints_and_the_next_one_resumes_without_rereading() {
    let mut env = Env::new().await;
    env.config.batch_size = 100;
    env.config.concurrency = 2;
    let dir = generated(4000);
    let app = env.start().await;
    let queued = app.enqueue(dir.path()).await;
    iknow_testkit::eventually(60, || async {
        let job = app.job(&queued.id).await;
        job.files.first().is_some_and(|f| f.committed_line >= 500).then_some(())
    })
    .await;
    app.stop().await;

    let (state, attempts) = env.state(&queued.id).await;
    assert_eq!((state.as_str(), attempts), ("running", 1), "the job waits to be resumed");
    let lease: Option<uuid::Uuid> = sqlx::query_scalar("SELECT lease_owner FROM scrape_jobs WHERE id = $1::uuid")
        .bind(&queued.id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(lease.is_none(), "the stopped worker gave its lease up");
    // A replica that only answers gRPC (no consumer) shows the checkpoint.
    let mut api_only = env.config.clone();
    api_only.worker_enabled = false;
    let api = Running::start(api_only).await;
    let stopped = api.job(&queued.id).await;
    api.stop().await;
    let checkpoint = stopped.checkpoint.clone().expect("a checkpoint");
    assert!(checkpoint.line > 1, "{stopped:#?}");
    assert!(stopped.files.iter().any(|f| !f.complete), "stopped mid-import: {stopped:#?}");

    // Overwrite every committed line of that file with garbage: read again, they would be rejected.
    let path = dir.path().join(&checkpoint.file);
    let text = std::fs::read_to_string(&path).unwrap();
    let rewritten: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| if i == 0 || i as u64 >= checkpoint.line { line.to_owned() } else { "garbage".to_owned() })
        .collect();
    std::fs::write(&path, rewritten.join("\n") + "\n").unwrap();

    let resumed = env.start().await;
    let job = resumed.wait_for(&queued.id, "succeeded", 120).await;
    assert_eq!(job.attempts, 1, "resumed, not retried");
    assert_eq!(counts(file(&job, "title.basics")), (4000, 4000, 0, 0, 0), "{job:#?}");
    assert_eq!(counts(file(&job, "name.basics")), (100, 100, 0, 0, 0));
    assert_eq!(counts(file(&job, "title.principals")), (4000, 4000, 0, 0, 0));
    assert_eq!(env.catalog.count("content").await, 4000);
    assert_eq!(env.catalog.count("filmography").await, 4000);
    resumed.stop().await;
}

#[tokio::test]
async fn a_killed_consumer_loses_the_job_when_its_lease_expires_and_the_next_one_resumes() {
    let mut env = Env::new().await;
    env.config.batch_size = 100;
    env.config.concurrency = 1;
    env.config.lease_seconds = 2;
    let broker = TcpProxy::start(amqp_addr().await).await;
    let mut doomed = env.config.clone();
    doomed.amqp_url = format!("amqp://guest:guest@{}/%2f", broker.addr).into();
    let dir = generated(4000);
    let app = Running::start(doomed).await;
    let queued = app.enqueue(dir.path()).await;
    iknow_testkit::eventually(60, || async {
        let job = app.job(&queued.id).await;
        job.files.first().is_some_and(|f| f.committed_line >= 500).then_some(())
    })
    .await;
    app.kill().await;
    broker.cut();
    let lease: Option<uuid::Uuid> = sqlx::query_scalar("SELECT lease_owner FROM scrape_jobs WHERE id = $1::uuid")
        .bind(&queued.id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(lease.is_some(), "a killed worker gives nothing up");

    let next = env.start().await;
    let job = next.wait_for(&queued.id, "succeeded", 120).await;
    assert_eq!(job.attempts, 1, "taken over, not retried");
    let titles = file(&job, "title.basics");
    // A batch the killed worker had in flight past its checkpoint may have been committed by the catalogue:
    // sent again, it counts as unchanged. Every row is there once, none rejected.
    assert_eq!((titles.rows_read, titles.written + titles.unchanged, titles.rejected), (4000, 4000, 0), "{job:#?}");
    assert!(titles.unchanged <= 100, "at most the one batch in flight: {titles:#?}");
    assert_eq!(counts(file(&job, "title.principals")), (4000, 4000, 0, 0, 0));
    assert_eq!(env.catalog.count("content").await, 4000);
    assert_eq!(env.catalog.count("filmography").await, 4000);
    next.stop().await;
}
