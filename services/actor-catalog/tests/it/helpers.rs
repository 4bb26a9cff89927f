//! Spawning the service on port 0 and a small, realistic sample catalogue.

use actor_catalog::{Application, config_for_tests};
use iknow_proto::catalog::v1::{
    ActorInput, ContentInput, ContentType, CreditInput, EpisodeLinkInput, UpsertBatchRequest, UpsertBatchResponse,
    actor_catalog_client::ActorCatalogClient,
};
use iknow_testkit::TestDb;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use uuid::Uuid;

pub struct TestApp {
    pub client: ActorCatalogClient<Channel>,
    pub pool: PgPool,
    pub prefix: String,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn upsert(&mut self, batch: UpsertBatchRequest) -> UpsertBatchResponse {
        self.client.upsert_batch(batch).await.expect("upsert").into_inner()
    }

    pub async fn actor_id(&self, imdb_id: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM actors WHERE imdb_id = $1")
            .bind(imdb_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn content_id(&self, imdb_id: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM content WHERE imdb_id = $1")
            .bind(imdb_id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) -> TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.pool.close().await;
        self.db
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(TestDb::new().await, &iknow_testkit::redis_url()).await
}

pub async fn spawn_with(db: TestDb, redis_url: &str) -> TestApp {
    iknow_common::telemetry::init_for_tests();
    let prefix = iknow_testkit::unique_prefix("catalog");
    let app = Application::build(config_for_tests(&db.url, redis_url, &prefix)).await.expect("build");
    let pool = app.pool().clone();
    let url = format!("http://{}", app.addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let client = ActorCatalogClient::connect(url).await.expect("connect");
    TestApp { client, pool, prefix, db, stop: Some(stop), server: Some(server) }
}

pub fn actor(imdb: &str, name: &str, birth: Option<i32>) -> ActorInput {
    ActorInput {
        imdb_id: imdb.into(),
        name: name.into(),
        birth_year: birth,
        professions: vec!["actor".into()],
        ..Default::default()
    }
}

pub fn content(imdb: &str, kind: ContentType, title: &str, year: i32) -> ContentInput {
    ContentInput {
        imdb_id: imdb.into(),
        content_type: kind.into(),
        title: title.into(),
        original_title: title.into(),
        year: Some(year),
        genres: vec!["Drama".into()],
        ..Default::default()
    }
}

pub fn credit(actor: &str, content: &str, chars: &[&str], order: i32) -> CreditInput {
    CreditInput {
        actor_imdb_id: actor.into(),
        content_imdb_id: content.into(),
        category: "actor".into(),
        characters: chars.iter().map(|c| c.to_string()).collect(),
        credit_order: order,
    }
}

pub const HANKS: &str = "nm0000158";
pub const REEVES: &str = "nm0000206";
pub const HARDY: &str = "nm0362766";
pub const HANKINS: &str = "nm9000001";
pub const TIM_HANKS: &str = "nm9000002";
pub const CRUZ: &str = "nm0004851";
pub const JOHANSSON: &str = "nm0424060";
pub const CRANSTON: &str = "nm0186505";
pub const WRIGHT: &str = "nm0000705";
pub const SINISE: &str = "nm0000641";

pub const BIG: &str = "tt0094737";
pub const GUMP: &str = "tt0109830";
pub const RYAN: &str = "tt0120815";
pub const MATRIX: &str = "tt0133093";
pub const BREAKING_BAD: &str = "tt0903747";
pub const PILOT: &str = "tt0959621";
pub const INCEPTION: &str = "tt1375666";
pub const VOLVER: &str = "tt0441909";

/// Actors, titles (a series with an episode too), credits and an episode link.
pub fn sample() -> UpsertBatchRequest {
    use ContentType::*;
    let mut hanks = actor(HANKS, "Tom Hanks", Some(1956));
    hanks.known_for_imdb_ids = vec![GUMP.into(), "tt9999999".into(), BIG.into()];
    UpsertBatchRequest {
        actors: vec![
            hanks,
            actor(REEVES, "Keanu Reeves", Some(1964)),
            actor(HARDY, "Tom Hardy", Some(1977)),
            actor(HANKINS, "Tom Hankins", None),
            actor(TIM_HANKS, "Tim Hanks", None),
            actor(CRUZ, "Penélope Cruz", Some(1974)),
            actor(JOHANSSON, "Scarlett Johansson", Some(1984)),
            actor(CRANSTON, "Bryan Cranston", Some(1956)),
            actor(WRIGHT, "Robin Wright", Some(1966)),
            actor(SINISE, "Gary Sinise", Some(1955)),
        ],
        contents: vec![
            content(BIG, Movie, "Big", 1988),
            content(GUMP, Movie, "Forrest Gump", 1994),
            content(RYAN, Movie, "Saving Private Ryan", 1998),
            content(MATRIX, Movie, "The Matrix", 1999),
            content(BREAKING_BAD, Series, "Breaking Bad", 2008),
            content(PILOT, Episode, "Pilot", 2008),
            content(INCEPTION, Movie, "Inception", 2010),
            ContentInput { original_title: "Volver".into(), ..content(VOLVER, Movie, "Volver (To Return)", 2006) },
        ],
        credits: vec![
            // Deliberately not in billing or year order.
            credit(SINISE, GUMP, &["Lt. Dan Taylor"], 3),
            credit(HANKS, BIG, &["Josh Baskin"], 1),
            credit(HANKS, RYAN, &["Captain Miller"], 1),
            credit(WRIGHT, GUMP, &["Jenny Curran"], 2),
            credit(HANKS, GUMP, &["Forrest Gump"], 1),
            credit(REEVES, MATRIX, &["Neo", "Thomas A. Anderson"], 1),
            credit(HARDY, INCEPTION, &["Eames"], 4),
            credit(CRANSTON, BREAKING_BAD, &["Walter White"], 1),
            credit(CRANSTON, PILOT, &["Walter White"], 1),
            credit(CRUZ, VOLVER, &["Raimunda"], 1),
        ],
        episodes: vec![EpisodeLinkInput {
            episode_imdb_id: PILOT.into(),
            series_imdb_id: BREAKING_BAD.into(),
            season_number: Some(1),
            episode_number: Some(1),
        }],
        ..Default::default()
    }
}

pub fn error_code(status: &tonic::Status) -> &str {
    status.metadata().get(iknow_common::error::CODE_METADATA).and_then(|v| v.to_str().ok()).unwrap_or_default()
}
