//! `iknow up`'s platform: every service started on port 0 and wired together, the sample import done once,
//! and one shutdown stopping everything.

use std::process::ExitCode;

use iknow::import::queue;
use iknow::up::{Platform, import_sample_if_missing, resolve_sample_dir};
use iknow_common::config::Settings;
use iknow_proto::ingest::v1::ListJobsRequest;
use iknow_testkit::TestDb;

use crate::helpers::*;

/// Port 0 everywhere; the catalogue, identity, library and ingest each on their own test database, the
/// ingest queues under a prefix of their own.
fn settings(db: &TestDb, identity_db: &TestDb, library_db: &TestDb, ingest_db: &TestDb) -> Settings {
    let mut s = Settings::load_with(None, []).unwrap();
    for key in ["catalog.grpc_addr", "identity.grpc_addr", "library.grpc_addr", "ingest.grpc_addr", "gateway.http_addr"]
    {
        s = s.with_override(key, "127.0.0.1:0").unwrap();
    }
    s.with_override("catalog.database_url", db.url.clone())
        .unwrap()
        .with_override("catalog.redis_prefix", iknow_testkit::unique_prefix("up"))
        .unwrap()
        .with_override("catalog.database_max_connections", 5)
        .unwrap()
        .with_override("identity.database_url", identity_db.url.clone())
        .unwrap()
        // No mail here: the mailer would declare the shared `notifications.mailer` queue on the broker, where
        // later runs' mails would pile up for an SMTP server that never comes (user-identity tests the mailer).
        .with_override("identity.mailer_enabled", false)
        .unwrap()
        .with_override("library.database_url", library_db.url.clone())
        .unwrap()
        .with_override("library.database_max_connections", 5)
        .unwrap()
        .with_override("ingest.database_url", ingest_db.url.clone())
        .unwrap()
        .with_override("ingest.queue_prefix", iknow_testkit::unique_prefix("up"))
        .unwrap()
}

#[tokio::test]
async fn the_platform_starts_wired_imports_once_and_shuts_down() {
    iknow_common::telemetry::init_for_tests();
    let (db, identity_db, library_db) = (TestDb::new().await, TestDb::new().await, TestDb::new().await);
    let ingest_db = TestDb::new().await;
    let up_settings = settings(&db, &identity_db, &library_db, &ingest_db);
    let platform = Platform::start(&up_settings).await.expect("the platform starts");
    assert!(platform.ingest_url.starts_with("http://127.0.0.1:"));
    assert!(platform.gateway_url.starts_with("http://127.0.0.1:"));
    assert_ne!(platform.gateway_url, "http://127.0.0.1:3000", "port 0 was honoured");

    let http = reqwest::Client::new();
    let health = format!("{}/health", platform.gateway_url);
    iknow_testkit::eventually(30, || {
        let (http, health) = (http.clone(), health.clone());
        async move { http.get(&health).send().await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
    })
    .await;

    let dir = TempDir::new("cli");
    dir.write("title.basics.tsv", &[TITLE_HEADER, "tt0000001\tmovie\tUp Movie\tUp Movie\t0\t2001\t\\N\t90\tDrama"]);
    dir.write("name.basics.tsv", &[NAME_HEADER, "nm0000001\tUma Up\t1970\t\\N\tactress\ttt0000001"]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER, "tt0000001\t1\tnm0000001\tactress\t\\N\t[\"Herself\"]"]);
    let first = import_sample_if_missing(&platform.catalog_url, dir.path()).await.unwrap();
    let first = first.expect("an empty catalogue gets the sample");
    // The probe already wrote the first title; the import finds it unchanged.
    let total = first.total();
    assert_eq!((total.written, total.unchanged, total.rejected), (2, 1, 0), "{first}");
    let second = import_sample_if_missing(&platform.catalog_url, dir.path()).await.unwrap();
    assert!(second.is_none(), "the sample is imported once");

    // The same files through the ingest service's queue: a job followed to its report, then listed and shown.
    let ingest_url = platform.ingest_url.clone();
    let code = queue::import(&ingest_url, dir.path(), false).await.expect("the queued import runs");
    assert_eq!(code, ExitCode::SUCCESS, "every file whole");
    let mut client = queue::connect(&ingest_url).await.unwrap();
    let jobs = client.list_jobs(ListJobsRequest { limit: 5, state: None }).await.unwrap().into_inner().jobs;
    let job = jobs.first().expect("the job is listed");
    assert_eq!((job.kind.as_str(), job.state.as_str()), ("imdb_dataset", "succeeded"));
    let total = queue::report(job).total();
    assert_eq!((total.written, total.rejected), (0, 0), "the catalogue held it all: {}", queue::report(job));
    queue::list(&ingest_url, 5, Some("succeeded".into())).await.expect("jobs are listed");
    queue::show(&ingest_url, &job.id).await.expect("the job is shown");
    let unknown = queue::show(&ingest_url, &uuid::Uuid::now_v7().to_string()).await.unwrap_err();
    assert!(unknown.to_string().starts_with("reading the job failed: "), "{unknown:#}");
    for (target, why) in [
        (queue::TmdbTarget::Title { id: "tt0109830".into(), tv: true }, "--tv goes with a TMDB id"),
        (queue::TmdbTarget::Person("forrest".into()), "neither a TMDB id"),
    ] {
        let e = queue::import_tmdb(&ingest_url, &target, false).await.unwrap_err();
        assert!(e.to_string().contains(why), "{e:#}");
    }

    let catalog_url = platform.catalog_url.clone();
    let ingest: scraper_ingest::Config = up_settings.section("ingest").unwrap();
    platform.shutdown().await.expect("every service stops cleanly");
    scraper_ingest::topology::delete_all(&ingest).await.expect("the test's queues are deleted");
    let after = iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient::connect(catalog_url).await;
    assert!(after.is_err(), "the catalogue no longer listens");
}

#[test]
fn the_bundled_sample_is_found() {
    let dir = resolve_sample_dir(None).expect("the repository's sample");
    assert!(dir.join("title.basics.tsv").is_file());
    let explicit = std::path::Path::new("/somewhere/else");
    assert_eq!(resolve_sample_dir(Some(explicit)).unwrap(), explicit);
}
