//! The TMDB jobs where data is missing or refused, against the mock of `tmdb.rs`: a person or title TMDB knows
//! no IMDb id for is dead-lettered with the reason; a series found through /find; a credited title or cast
//! member TMDB answers 404 for is rejected and counted (the job succeeds, its list marked incomplete); one that
//! keeps failing fails the attempt, which the queue retries; rows the catalogue refuses are reported per kind;
//! a catalogue that is down fails the attempt until the job is given up.

use iknow_proto::ingest::v1 as pb;

use crate::helpers::*;
use crate::tmdb::{enqueue_person, enqueue_title, setup};

async fn enqueue_series(app: &Running, tmdb_id: u64) -> pb::Job {
    let request = pb::EnqueueTmdbTitleRequest { tmdb_id, imdb_id: String::new(), media_type: "tv".into() };
    app.client.clone().enqueue_tmdb_title(request).await.expect("enqueued").into_inner()
}

/// Whether the catalogue marks the actor's filmography complete.
async fn complete_filmography(env: &Env, imdb_id: &str) -> bool {
    sqlx::query_scalar("SELECT has_complete_filmography FROM actors WHERE imdb_id = $1")
        .bind(imdb_id)
        .fetch_one(&env.catalog.pool)
        .await
        .unwrap()
}

/// Whether the catalogue marks the title's cast complete.
async fn complete_cast(env: &Env, imdb_id: &str) -> bool {
    sqlx::query_scalar("SELECT has_complete_cast FROM content WHERE imdb_id = $1")
        .bind(imdb_id)
        .fetch_one(&env.catalog.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_or_title_without_an_imdb_id_is_dead_lettered_and_nothing_is_written() {
    let (env, _mock) = setup(|_| {}).await;
    let app = env.start().await;

    let queued = enqueue_person(&app, 34, "").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert_eq!(job.attempts, 1);
    assert!(job.last_error.contains("TMDB person 34 (Unknown Extra) has no IMDb id"), "{job:#?}");

    let queued = enqueue_title(&app, 99999, "").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert!(job.last_error.contains("TMDB movie 99999 has no IMDb id"), "{job:#?}");

    let queued = enqueue_title(&app, 0, "tt0000001").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert!(job.last_error.contains("TMDB knows no movie or series with IMDb id tt0000001"), "{job:#?}");

    // A series TMDB does not have.
    let queued = enqueue_series(&app, 457).await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert!(job.last_error.contains("TMDB has no tv 457 (/tv/457 answered 404)"), "{job:#?}");

    assert_eq!(env.catalog.count("actors").await, 0);
    assert_eq!(env.catalog.count("content").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_series_found_by_imdb_id_reports_the_cast_member_the_catalogue_refuses() {
    let (env, mock) = setup(|_| {}).await;
    let app = env.start().await;
    let queued = enqueue_title(&app, 0, "tt0096697").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(mock.hits_of("/tv/456/credits").len(), 1, "found as a series");
    assert_eq!(counts(file(&job, "tmdb titles")), (1, 1, 0, 0, 0));
    // Without a name the catalogue refuses the actor, and so the credit that names them.
    let actors = file(&job, "tmdb actors");
    assert_eq!(counts(actors), (2, 1, 0, 1, 0), "{job:#?}");
    assert_eq!(actors.rejections[0].reason, "actor nm0000901: name must be 1..=255 characters");
    let credits = file(&job, "tmdb credits");
    assert_eq!((credits.rows_read, credits.written, credits.rejected), (2, 1, 1), "{job:#?}");
    assert!(credits.rejections[0].reason.starts_with("credit "), "{credits:#?}");
    assert_eq!(env.catalog.count("filmography").await, 1);

    // The same series by its TMDB id and media type.
    let queued = enqueue_series(&app, 456).await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(counts(file(&job, "tmdb titles")), (1, 0, 1, 0, 0), "unchanged the second time");
    app.stop().await;
}

#[tokio::test]
async fn a_credit_tmdb_has_no_answer_for_is_rejected_and_the_list_is_incomplete() {
    let (env, mock) = setup(|_| {}).await;
    mock.fail("/movie/8358", &[(404, None)]);
    mock.fail("/person/33", &[(404, None)]);
    let app = env.start().await;

    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    let titles = file(&job, "tmdb titles");
    // Four titles read: Cast Away refused, Untitled Project without an IMDb id.
    assert_eq!(counts(titles), (4, 2, 0, 1, 1), "{job:#?}");
    assert_eq!(titles.rejections[0].reason, "movie 8358: TMDB has no /movie/8358 (404)");
    assert!(!complete_filmography(&env, "nm0000158").await, "a refused title leaves the filmography incomplete");

    let queued = enqueue_title(&app, 13, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    let actors = file(&job, "tmdb actors");
    // Four cast members: Gary Sinise refused, the extra without an IMDb id.
    assert_eq!((actors.rows_read, actors.rejected, actors.skipped), (4, 1, 1), "{job:#?}");
    assert_eq!(actors.rejections[0].reason, "person 33: TMDB has no /person/33 (404)");
    assert_eq!(file(&job, "tmdb credits").skipped, 2, "no credit for either");
    assert!(!complete_cast(&env, "tt0109830").await, "a refused cast member leaves the cast incomplete");
    app.stop().await;
}

#[tokio::test]
async fn a_credit_that_keeps_failing_fails_the_attempt_and_the_retry_completes_the_job() {
    let (env, mock) = setup(|_| {}).await;
    mock.fail("/movie/8358", &[(500, None); 3]);
    mock.fail("/person/32", &[(503, None); 3]);
    let app = env.start().await;

    let person = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&person.id, "succeeded", 60).await;
    assert_eq!(job.attempts, 2, "{job:#?}");
    assert_eq!(counts(file(&job, "tmdb titles")), (4, 3, 0, 0, 1));
    assert!(complete_filmography(&env, "nm0000158").await);

    let title = enqueue_title(&app, 13, "").await;
    let job = app.wait_for(&title.id, "succeeded", 60).await;
    assert_eq!(job.attempts, 2, "{job:#?}");
    assert_eq!(file(&job, "tmdb actors").rejected, 0);
    assert!(complete_cast(&env, "tt0109830").await);
    app.stop().await;
}

#[tokio::test]
async fn a_catalogue_that_stays_down_fails_every_attempt_until_the_job_is_dead() {
    let (env, mock) = setup(|c| c.max_attempts = 2).await;
    env.catalog.proxy.cut();
    let app = env.start().await;
    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert_eq!(job.attempts, 2);
    assert!(job.last_error.starts_with("gave up after 2 attempts: UpsertBatch of the TMDB rows failed"), "{job:#?}");
    assert_eq!(mock.hits_of("/person/31").len(), 2, "every attempt fetched again");
    app.stop().await;
}
