//! RabbitMQ dropping the service's connection in the middle of an import: no job is lost (one enqueued
//! during the outage waits in the outbox), nothing runs twice, the counts are exact.

use iknow_testkit::TcpProxy;

use crate::helpers::*;

#[tokio::test]
async fn the_broker_connection_cut_mid_import_loses_no_job_and_writes_no_credit_twice() {
    let mut env = Env::new().await;
    env.config.batch_size = 100;
    env.config.concurrency = 1;
    let broker = TcpProxy::start(amqp_addr().await).await;
    env.config.amqp_url = format!("amqp://guest:guest@{}/%2f", broker.addr).into();
    let app = env.start().await;

    let first = generated(3000);
    let queued = app.enqueue(first.path()).await;
    // Mid-import: some batches committed, the titles not all written yet.
    let committed = |at_least: u64| {
        let (app, id) = (&app, queued.id.clone());
        async move {
            iknow_testkit::eventually(60, || async {
                let job = app.job(&id).await;
                job.files.first().filter(|f| f.committed_line >= at_least).map(|f| f.committed_line)
            })
            .await
        }
    };
    let at_cut = committed(300).await;
    broker.cut();

    // Enqueued while the broker is unreachable: the job's message waits in the outbox.
    let second = TempDir::new("ingest");
    second.write("title.basics.tsv", &[TITLE_HEADER, "tt9000001\tmovie\tLater\tLater\t0\t2020\t\\N\t95\tDrama"]);
    second.write("name.basics.tsv", &[NAME_HEADER, "nm9000001\tLate Actor\t1990\t\\N\tactor\t\\N"]);
    second.write("title.principals.tsv", &[PRINCIPAL_HEADER, "tt9000001\t1\tnm9000001\tactor\t\\N\t[\"Late\"]"]);
    let later = app.enqueue(second.path()).await;
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&env.pool).await.unwrap();
    assert!(waiting >= 1, "the message waits in the outbox");
    // The running job carries on while the broker is away (its state is in PostgreSQL, not in the channel).
    committed(at_cut + 500).await;
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&env.pool).await.unwrap();
    assert!(waiting >= 1, "still waiting: the broker is unreachable");

    broker.restore();
    let job = app.wait_for(&queued.id, "succeeded", 120).await;
    assert_eq!(job.attempts, 1, "the attempt was never run twice: {job:#?}");
    assert_eq!(counts(file(&job, "title.basics")), (3000, 3000, 0, 0, 0));
    assert_eq!(counts(file(&job, "name.basics")), (100, 100, 0, 0, 0));
    assert_eq!(counts(file(&job, "title.principals")), (3000, 3000, 0, 0, 0), "each credit written once");
    let job = app.wait_for(&later.id, "succeeded", 120).await;
    assert_eq!(counts(file(&job, "title.principals")), (1, 1, 0, 0, 0));
    assert_eq!(env.catalog.count("filmography").await, 3001);
    app.stop().await;
}
