//! The write path: idempotence, change detection, rejected rows, migrations run twice.

use chrono::{DateTime, Utc};
use iknow_proto::catalog::v1::{GetActorRequest, UpsertBatchRequest};

use crate::helpers::*;

async fn updated_at(app: &TestApp) -> Vec<(String, DateTime<Utc>)> {
    sqlx::query_as(
        "SELECT imdb_id, updated_at FROM actors UNION ALL SELECT imdb_id, updated_at FROM content ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn first_batch_writes_everything_and_the_same_batch_twice_writes_nothing() {
    let mut app = spawn_app().await;
    let first = app.upsert(sample()).await;
    assert_eq!(first.actors_written, 10);
    assert_eq!(first.contents_written, 8);
    assert_eq!(first.credits_written, 10);
    assert_eq!(first.episodes_linked, 1);
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    let before = updated_at(&app).await;

    let second = app.upsert(sample()).await;
    assert_eq!(
        (second.actors_written, second.contents_written, second.credits_written, second.episodes_linked),
        (0, 0, 0, 0)
    );
    assert!(second.rejected.is_empty());
    assert_eq!(updated_at(&app).await, before, "no row was rewritten");
}

#[tokio::test]
async fn a_changed_name_updates_exactly_that_row() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let before = updated_at(&app).await;
    let mut batch = sample();
    batch.actors[1].name = "Keanu Charles Reeves".into();
    let r = app.upsert(batch).await;
    assert_eq!((r.actors_written, r.contents_written, r.credits_written), (1, 0, 0));
    let after = updated_at(&app).await;
    let changed: Vec<&str> = before.iter().zip(&after).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0.as_str()).collect();
    assert_eq!(changed, [REEVES]);
    let id = app.actor_id(REEVES).await;
    let actor = app.client.get_actor(GetActorRequest { id: id.to_string() }).await.unwrap().into_inner();
    assert_eq!(actor.name, "Keanu Charles Reeves");
}

#[tokio::test]
async fn credits_of_unknown_actors_or_titles_are_rejected_and_the_rest_written() {
    let mut app = spawn_app().await;
    let mut batch = sample();
    batch.credits.push(credit("nm7777777", MATRIX, &["Agent"], 5));
    batch.credits.push(credit(REEVES, "tt7777777", &["Someone"], 1));
    // Duplicates inside one batch must not break the bulk statement.
    batch.credits.push(credit(HANKS, BIG, &["Josh Baskin"], 1));
    let r = app.upsert(batch).await;
    assert_eq!(r.credits_written, 10);
    let mut keys: Vec<(String, String)> = r.rejected.iter().map(|x| (x.kind.clone(), x.key.clone())).collect();
    keys.sort();
    assert_eq!(
        keys,
        [("credit".to_string(), format!("{REEVES}/tt7777777")), ("credit".to_string(), format!("nm7777777/{MATRIX}"))]
    );
    assert!(r.rejected.iter().all(|x| !x.reason.is_empty()));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM filmography").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 10);
}

#[tokio::test]
async fn credits_can_come_in_a_later_batch_than_their_actors_and_titles() {
    let mut app = spawn_app().await;
    let mut people_and_titles = sample();
    let credits = std::mem::take(&mut people_and_titles.credits);
    app.upsert(people_and_titles).await;
    let r = app.upsert(UpsertBatchRequest { credits, ..Default::default() }).await;
    assert_eq!(r.credits_written, 10);
    let popularity: f64 = sqlx::query_scalar("SELECT popularity_score::float8 FROM actors WHERE imdb_id = $1")
        .bind(HANKS)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(popularity > 0.0, "popularity follows credits");
}

#[tokio::test]
async fn migrations_are_idempotent_and_data_survives_a_restart() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let id = app.actor_id(HANKS).await;
    let db = app.stop().await;
    // Building on the same database again runs the migrations again and rebuilds the indexes.
    let mut again = spawn_with(db, &iknow_testkit::redis_url()).await;
    let actor = again.client.get_actor(GetActorRequest { id: id.to_string() }).await.unwrap().into_inner();
    assert_eq!(actor.name, "Tom Hanks");
    let migrations: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&again.pool).await.unwrap();
    let files =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/actor-catalog")).unwrap().count();
    assert_eq!(migrations, files as i64, "each migration applied once");
    let r = again.upsert(sample()).await;
    assert_eq!(r.actors_written + r.contents_written + r.credits_written, 0);
}

#[tokio::test]
async fn bulk_writes_refresh_the_planner_statistics() {
    iknow_common::telemetry::init_for_tests();
    let db = iknow_testkit::TestDb::new().await;
    let mut config =
        actor_catalog::config_for_tests(&db.url, &iknow_testkit::redis_url(), &iknow_testkit::unique_prefix("analyze"));
    config.analyze_after_rows = 5;
    let app = actor_catalog::Application::build(config).await.unwrap();
    let pool = app.pool().clone();
    let url = format!("http://{}", app.addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let mut client = iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient::connect(url).await.unwrap();
    let analysed = async || -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('actors', 'content', 'filmography') \
             AND GREATEST(last_analyze, last_autoanalyze) IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(analysed().await, 0, "a new database has never been analysed");
    client.upsert_batch(sample()).await.unwrap();
    iknow_testkit::eventually(20, || async { (analysed().await == 3).then_some(()) }).await;
}

/// Backends of this test's database waiting for a lock.
async fn waiting_for_locks(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_batch_aborted_by_a_deadlock_is_tried_again_and_written() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    // Another writer locks Tom Hanks...
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("UPDATE actors SET name = 'Tom Hanks (locked)' WHERE imdb_id = $1")
        .bind(HANKS)
        .execute(&mut *other)
        .await
        .unwrap();
    // ...while a batch locks Big (its title changed), then waits for him (his name changed)...
    use iknow_proto::catalog::v1::ContentType;
    let batch = UpsertBatchRequest {
        contents: vec![content(BIG, ContentType::Movie, "Big (1988)", 1988)],
        actors: vec![actor(HANKS, "Thomas Hanks", Some(1956))],
        ..Default::default()
    };
    let mut client = app.client.clone();
    let call = tokio::spawn(async move { client.upsert_batch(batch).await });
    iknow_testkit::eventually(20, || async { (waiting_for_locks(&app.pool).await > 0).then_some(()) }).await;
    // ...and the other writer now waits for Big: a deadlock. The batch waited first, so PostgreSQL aborts it.
    sqlx::query("UPDATE content SET title = 'Big (locked)' WHERE imdb_id = $1")
        .bind(BIG)
        .execute(&mut *other)
        .await
        .unwrap();
    other.commit().await.unwrap();

    let written = call.await.unwrap().expect("the batch is tried again once the other writer is done").into_inner();
    assert_eq!((written.actors_written, written.contents_written), (1, 1));
    let (name, title): (String, String) =
        sqlx::query_as("SELECT a.name, c.title FROM actors a, content c WHERE a.imdb_id = $1 AND c.imdb_id = $2")
            .bind(HANKS)
            .bind(BIG)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), title.as_str()), ("Thomas Hanks", "Big (1988)"), "the batch's try came last");
}
