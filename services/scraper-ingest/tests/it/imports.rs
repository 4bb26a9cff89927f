//! Queued imports that go well: exact counts, idempotent re-import, malformed lines, validation, listing.

use iknow_common::FieldViolation;
use iknow_proto::ingest::v1 as pb;
use iknow_testkit::dataset::SampleCounts;

use crate::helpers::*;

#[tokio::test]
async fn the_sample_imports_through_the_queue_with_exact_counts_and_again_unchanged() {
    let sample = SampleCounts::read();
    let titles = sample.titles;

    // The recorder is process-wide (one test per process under nextest): installed before anything counts.
    let metrics = iknow_common::metrics::prometheus();
    let env = Env::new().await;
    let app = env.start().await;
    let queued = app.enqueue(&sample_dir()).await;
    assert_eq!((queued.state.as_str(), queued.kind.as_str(), queued.attempts), ("queued", "imdb_dataset", 0));
    let job = app.wait_for(&queued.id, "succeeded", 120).await;
    assert_eq!(job.attempts, 1);
    assert!(job.last_error.is_empty() && !job.finished_at.is_empty(), "{job:#?}");

    assert_eq!(counts(file(&job, "title.basics")), (titles, titles, 0, 0, 0));
    let people = file(&job, "name.basics");
    assert_eq!(people.rows_read, sample.people);
    assert_eq!(people.written, sample.written_people());
    assert_eq!((people.rejected, people.skipped), (0, people.rows_read - people.written));
    let credits = file(&job, "title.principals");
    assert_eq!(credits.rows_read, sample.principals);
    assert_eq!(credits.skipped, sample.principals - sample.acting_credits, "crew credits are skipped");
    assert_eq!(credits.written + credits.unchanged, sample.known_credits);
    let missing = sample.missing.len() as u64;
    assert_eq!(credits.rejected, missing, "credits of people missing upstream are refused: {credits:#?}");
    assert!(credits.rejections.iter().all(|r| r.line > 1), "refused credits keep their lines");
    assert!(job.files.iter().all(|f| f.complete));
    let checkpoint = job.checkpoint.clone().expect("a checkpoint");
    assert_eq!(checkpoint.file, "title.principals.tsv");
    assert_eq!(checkpoint.line, sample.principals + 1, "the header is line 1");
    assert_eq!(env.catalog.count("content").await, titles as i64);
    assert_eq!(env.catalog.count("filmography").await, credits.written as i64);

    let again = app.enqueue(&sample_dir()).await;
    let again = app.wait_for(&again.id, "succeeded", 120).await;
    for f in &again.files {
        assert_eq!(f.written, 0, "a second import changes nothing: {f:#?}");
    }
    assert_eq!(counts(file(&again, "title.basics")), (titles, 0, titles, 0, 0));
    assert_eq!(file(&again, "name.basics").unchanged, people.written);
    assert_eq!(file(&again, "title.principals").unchanged, credits.written + credits.unchanged);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&env.pool).await.unwrap();
    assert_eq!(outbox, 0, "every job message was published");

    // /metrics: both jobs, and the rows of both.
    let text = metrics.render();
    let value = |line_start: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(line_start)).unwrap_or_else(|| panic!("{line_start} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value(r#"ingest_jobs_total{kind="imdb_dataset",outcome="succeeded"}"#), 2.0);
    let read: u64 = job.files.iter().map(|f| f.rows_read).sum();
    assert_eq!(value(r#"ingest_rows_total{kind="imdb_dataset",outcome="read"}"#), (2 * read) as f64);
    assert_eq!(value(r#"ingest_rows_total{kind="imdb_dataset",outcome="unchanged"}"#) as u64, {
        let first: u64 = job.files.iter().map(|f| f.unchanged).sum();
        let second: u64 = again.files.iter().map(|f| f.unchanged).sum();
        first + second
    });
    assert!(
        text.contains("ingest_job_duration_seconds_count{kind=\"imdb_dataset\",outcome=\"succeeded\"} 2"),
        "{text}"
    );
    // The queue depths are sampled from the broker (every 10 s): the drained work queue reads 0.
    iknow_testkit::eventually(30, || async {
        let text = metrics.render();
        text.lines()
            .any(|l| l.starts_with("ingest_queue_messages{") && l.contains("scrape.jobs\"}") && l.ends_with(" 0"))
            .then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn malformed_lines_are_counted_with_their_line_numbers_and_the_rest_imports() {
    let dir = TempDir::new("ingest");
    dir.write(
        "title.basics.tsv",
        &[
            TITLE_HEADER,
            "tt0000001\tmovie\tGood One\tGood One\t0\t2001\t\\N\t90\tDrama",
            "tt0000002\tmovie\tToo Few Columns",
            "tt0000003\tmovie\tBad Year\tBad Year\t0\tnineteen\t\\N\t90\tDrama",
            "tt0000005\tmovie\tGood Two\tGood Two\t0\t2002\t\\N\t\\N\tComedy",
        ],
    );
    dir.write("name.basics.tsv", &[NAME_HEADER, "nm0000001\tAnn Actor\t1970\t\\N\tactress\ttt0000001"]);
    dir.write(
        "title.principals.tsv",
        &[
            PRINCIPAL_HEADER,
            "tt0000001\t1\tnm0000001\tactress\t\\N\t[\"Mary\",\"Jane\"]",
            "tt0000001\t2\tnm0000001\tactress\t\\N\t[\"Broken\"",
            "tt0000005\t1\tnm0000001\tactress\t\\N",
            "tt0000005\t2\tnm0000001\tself\t\\N\t\\N",
        ],
    );
    // A gzip stream cut short: the rows before the break import, the break is reported with its line.
    let mut episodes = String::from("tconst\tparentTconst\tseasonNumber\tepisodeNumber\n");
    for i in 1..=3000 {
        episodes.push_str(&format!("tt9{i:06}\ttt0000001\t1\t{i}\n"));
    }
    let path = dir.write_gz("title.episode.tsv.gz", episodes.as_bytes());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 3 / 4]).unwrap();

    let env = Env::new().await;
    let app = env.start().await;
    let job = app.enqueue(dir.path()).await;
    let job = app.wait_for(&job.id, "succeeded", 60).await;

    let titles = file(&job, "title.basics");
    assert_eq!(counts(titles), (4, 2, 0, 2, 0));
    assert_eq!(titles.rejections.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4]);
    assert!(titles.rejections[0].reason.contains("columns"), "{titles:#?}");
    assert!(titles.rejections[1].reason.contains("startYear"), "{titles:#?}");
    let credits = file(&job, "title.principals");
    assert_eq!(counts(credits), (4, 2, 0, 2, 0));
    assert_eq!(credits.rejections.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4]);
    assert!(credits.rejections[0].reason.contains("JSON"), "{credits:#?}");
    let episodes = file(&job, "title.episode");
    assert!(episodes.error.contains("read error after line"), "{episodes:#?}");
    // The episodes name titles the catalogue does not hold: refused, each with its line.
    assert!(episodes.rows_read > 1000 && episodes.rows_read < 3000, "{episodes:#?}");
    assert_eq!(episodes.rejected, episodes.rows_read, "{episodes:#?}");
    assert_eq!(episodes.rejections.first().map(|r| r.line), Some(2));
    app.stop().await;
}

fn fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let violations: Vec<FieldViolation> = serde_json::from_slice(status.details()).expect("field details");
    violations.into_iter().map(|v| v.field).collect()
}

#[tokio::test]
async fn invalid_requests_answer_invalid_argument_with_their_fields() {
    let env = Env::new().await;
    let app = env.start().await;
    let mut client = app.client.clone();
    for dir in ["", "relative/dir", "/with\0nul"] {
        let e = client.enqueue_imdb_dataset(pb::EnqueueImdbDatasetRequest { dir: dir.into() }).await.unwrap_err();
        assert_eq!(fields(&e), vec!["dir"], "{dir:?}");
    }
    let e = client.get_job(pb::GetJobRequest { id: "nope".into() }).await.unwrap_err();
    assert_eq!(fields(&e), vec!["id"]);
    let e = client.get_job(pb::GetJobRequest { id: uuid::Uuid::now_v7().to_string() }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let e = client.list_jobs(pb::ListJobsRequest { limit: 500, state: Some("paused".into()) }).await.unwrap_err();
    assert_eq!(fields(&e), vec!["limit", "state"]);
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_jobs").fetch_one(&env.pool).await.unwrap();
    assert_eq!(none, 0, "nothing was enqueued");
    app.stop().await;
}

#[tokio::test]
async fn jobs_are_listed_newest_first_and_by_state() {
    let env = Env::new().await;
    let app = env.start().await;
    let missing = std::env::temp_dir().join(format!("iknow-missing-{}", uuid::Uuid::now_v7().simple()));
    let dead = app.enqueue(&missing).await;
    app.wait_for(&dead.id, "dead", 30).await;
    let dir = TempDir::new("ingest");
    dir.write("title.basics.tsv", &[TITLE_HEADER]);
    dir.write("name.basics.tsv", &[NAME_HEADER]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER]);
    let ok = app.enqueue(dir.path()).await;
    app.wait_for(&ok.id, "succeeded", 30).await;

    let mut client = app.client.clone();
    let all = client.list_jobs(pb::ListJobsRequest::default()).await.unwrap().into_inner().jobs;
    assert_eq!(all.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), vec![ok.id.as_str(), dead.id.as_str()]);
    let only = pb::ListJobsRequest { limit: 10, state: Some("dead".into()) };
    let dead_only = client.list_jobs(only).await.unwrap().into_inner().jobs;
    assert_eq!(dead_only.len(), 1);
    assert_eq!(dead_only[0].id, dead.id);
    let one = pb::ListJobsRequest { limit: 1, state: None };
    assert_eq!(client.list_jobs(one).await.unwrap().into_inner().jobs.len(), 1);
    app.stop().await;
}
