//! Spawning the library wired to a real, seeded catalogue, and small request helpers.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use iknow_common::FieldViolation;
use iknow_proto::catalog::v1::{
    self as cat, ContentType, EpisodeLinkInput, UpsertBatchRequest, actor_catalog_client::ActorCatalogClient,
};
use iknow_proto::library::v1 as pb;
use iknow_proto::library::v1::library_client::LibraryClient;
use iknow_testkit::{TcpProxy, TestDb};
use sqlx::PgPool;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use uuid::Uuid;

pub const MATRIX: &str = "tt0133093";
pub const BIG: &str = "tt0094737";
pub const GUMP: &str = "tt0109830";
pub const INCEPTION: &str = "tt1375666";
pub const BREAKING_BAD: &str = "tt0903747";
pub const PILOT: &str = "tt0959621";
/// Breaking Bad S1E2.
pub const CATS_IN_THE_BAG: &str = "tt1054724";
pub const DRIVE: &str = "tt0780504";

pub const KEANU: &str = "nm0000206";
pub const FISHBURNE: &str = "nm0000401";
pub const HANKS: &str = "nm0000158";
pub const CRANSTON: &str = "nm0186505";
pub const AARON_PAUL: &str = "nm0666739";

/// Ids of the seeded titles, by IMDb id.
pub struct Titles {
    pool: PgPool,
}

impl Titles {
    pub async fn id(&self, imdb: &str) -> String {
        let id: Uuid = sqlx::query_scalar("SELECT id FROM content WHERE imdb_id = $1")
            .bind(imdb)
            .fetch_one(&self.pool)
            .await
            .expect("a seeded title");
        id.to_string()
    }

    /// The catalogue id of a seeded actor.
    pub async fn actor(&self, imdb: &str) -> String {
        let id: Uuid = sqlx::query_scalar("SELECT id FROM actors WHERE imdb_id = $1")
            .bind(imdb)
            .fetch_one(&self.pool)
            .await
            .expect("a seeded actor");
        id.to_string()
    }
}

/// A running library and the catalogue it asks; both stop when this is dropped, and the test's RabbitMQ
/// exchange and queue are deleted.
pub struct TestApp {
    pub client: LibraryClient<Channel>,
    /// The channel to the library (for health checks).
    pub channel: Channel,
    /// The library's database.
    pub pool: PgPool,
    /// The catalogue as the library sees it; cut it to simulate an outage.
    pub catalog_proxy: TcpProxy,
    /// The catalogue itself (not through the proxy), to write more titles.
    pub catalog: ActorCatalogClient<Channel>,
    pub titles: Titles,
    /// The identity events exchange of this test.
    pub exchange: String,
    /// The library's `user.deleted` queue of this test.
    pub queue: String,
    stop: Option<oneshot::Sender<()>>,
    _dbs: (TestDb, TestDb),
}

/// How to start the library.
#[derive(Default)]
pub struct Options {
    /// RabbitMQ URL the library uses (else the shared broker).
    pub amqp_url: Option<String>,
}

pub async fn spawn() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    iknow_common::telemetry::init_for_tests();
    let catalog_db = TestDb::new().await;
    let catalog_config = actor_catalog::config_for_tests(
        &catalog_db.url,
        &iknow_testkit::redis_url(),
        &iknow_testkit::unique_prefix("library"),
    );
    let catalog_app = actor_catalog::Application::build(catalog_config).await.expect("the catalogue builds");
    let catalog_addr = catalog_app.addr();
    let catalog_pool = catalog_app.pool().clone();
    let (stop_catalog, catalog_stopped) = oneshot::channel::<()>();
    tokio::spawn(catalog_app.run_until(async move {
        let _ = catalog_stopped.await;
    }));
    let mut catalog = ActorCatalogClient::connect(format!("http://{catalog_addr}")).await.expect("catalogue");
    let reply = catalog.upsert_batch(sample()).await.expect("seeded").into_inner();
    assert!(reply.rejected.is_empty(), "rejected: {:?}", reply.rejected);
    let catalog_proxy = TcpProxy::start(catalog_addr).await;

    let library_db = TestDb::new().await;
    let exchange = format!("test.identity.{}", Uuid::now_v7().simple());
    let mut config = library::Config::for_tests(&library_db.url, &catalog_proxy.url("http"), &exchange);
    if let Some(url) = options.amqp_url {
        config.amqp_url = url.into();
    }
    let queue = config.user_deleted_queue();
    let app = library::build(&config).await.expect("the library builds");
    let pool = app.pool().clone();
    let url = format!("http://{}", app.addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
        let _ = stop_catalog.send(());
    }));
    let channel = Channel::from_shared(url).unwrap().connect().await.expect("the library answers");
    TestApp {
        client: LibraryClient::new(channel.clone()),
        channel,
        pool,
        catalog_proxy,
        catalog,
        titles: Titles { pool: catalog_pool },
        exchange,
        queue,
        stop: Some(stop),
        _dbs: (catalog_db, library_db),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop first, so the consumer does not declare the queue again once it is deleted.
        drop(self.stop.take());
        let (exchange, queue) = (self.exchange.clone(), self.queue.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                let Ok(conn) = amqp().await else { return };
                if let Ok(ch) = conn.create_channel().await {
                    let _ = ch.queue_delete(queue.as_str().into(), Default::default()).await;
                    let _ = ch.exchange_delete(exchange.as_str().into(), Default::default()).await;
                }
                let _ = conn.close(200, "OK".into()).await;
            });
        })
        .join();
    }
}

/// A connection to the shared RabbitMQ.
pub async fn amqp() -> lapin::Result<lapin::Connection> {
    lapin::Connection::connect(&iknow_testkit::amqp_url(), lapin::ConnectionProperties::default()).await
}

pub fn title(imdb: &str, kind: ContentType, name: &str, year: i32, runtime: i32) -> cat::ContentInput {
    cat::ContentInput {
        imdb_id: imdb.into(),
        content_type: kind as i32,
        title: name.into(),
        original_title: name.into(),
        year: Some(year),
        runtime_minutes: Some(runtime),
        genres: vec!["Drama".into()],
        ..Default::default()
    }
}

pub fn actor(imdb: &str, name: &str) -> cat::ActorInput {
    cat::ActorInput { imdb_id: imdb.into(), name: name.into(), professions: vec!["actor".into()], ..Default::default() }
}

pub fn credit(actor: &str, content: &str, character: &str, order: i32) -> cat::CreditInput {
    cat::CreditInput {
        actor_imdb_id: actor.into(),
        content_imdb_id: content.into(),
        category: "actor".into(),
        characters: vec![character.into()],
        credit_order: order,
    }
}

/// `episode` is episode `number` of season `season` of `series`.
pub fn episode(series: &str, episode: &str, season: i32, number: i32) -> EpisodeLinkInput {
    EpisodeLinkInput {
        episode_imdb_id: episode.into(),
        series_imdb_id: series.into(),
        season_number: Some(season),
        episode_number: Some(number),
    }
}

/// A few titles, a series with two episodes among them, and their casts: Bryan Cranston and Aaron Paul are
/// credited on the series (its regulars), Laurence Fishburne on the pilot alone (a guest).
pub fn sample() -> UpsertBatchRequest {
    use ContentType::*;
    UpsertBatchRequest {
        contents: vec![
            title(MATRIX, Movie, "The Matrix", 1999, 136),
            title(BIG, Movie, "Big", 1988, 104),
            title(GUMP, Movie, "Forrest Gump", 1994, 142),
            title(INCEPTION, Movie, "Inception", 2010, 148),
            title(DRIVE, Movie, "Drive", 2011, 100),
            title(BREAKING_BAD, Series, "Breaking Bad", 2008, 49),
            title(PILOT, Episode, "Pilot", 2008, 58),
            title(CATS_IN_THE_BAG, Episode, "Cat's in the Bag...", 2008, 48),
        ],
        episodes: vec![episode(BREAKING_BAD, PILOT, 1, 1), episode(BREAKING_BAD, CATS_IN_THE_BAG, 1, 2)],
        actors: vec![
            actor(KEANU, "Keanu Reeves"),
            actor(FISHBURNE, "Laurence Fishburne"),
            actor(HANKS, "Tom Hanks"),
            actor(CRANSTON, "Bryan Cranston"),
            actor(AARON_PAUL, "Aaron Paul"),
        ],
        credits: vec![
            credit(KEANU, MATRIX, "Neo", 1),
            credit(FISHBURNE, MATRIX, "Morpheus", 2),
            credit(HANKS, BIG, "Josh Baskin", 1),
            credit(HANKS, GUMP, "Forrest Gump", 1),
            credit(CRANSTON, DRIVE, "Shannon", 3),
            credit(CRANSTON, BREAKING_BAD, "Walter White", 1),
            credit(AARON_PAUL, BREAKING_BAD, "Jesse Pinkman", 2),
            credit(FISHBURNE, PILOT, "Guest Chemist", 5),
        ],
        ..Default::default()
    }
}

/// A new user id (the gateway would pass the authenticated caller's).
pub fn user() -> String {
    Uuid::now_v7().to_string()
}

/// The public error code of a failed call.
pub fn code(status: &tonic::Status) -> &str {
    status.metadata().get(iknow_common::error::CODE_METADATA).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The fields listed by an InvalidArgument.
pub fn fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let violations: Vec<FieldViolation> = serde_json::from_slice(status.details()).expect("field details");
    violations.into_iter().map(|v| v.field).collect()
}

/// `days` days ago at `hh:mm` UTC.
pub fn at(days: i64, hh: u32, mm: u32) -> DateTime<Utc> {
    let day = (Utc::now() - Duration::days(days)).date_naive();
    day.and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap()).and_utc()
}

impl TestApp {
    /// A second library replica on the same database (it stops with the test's runtime).
    pub async fn replica(&self) -> LibraryClient<Channel> {
        let config = library::Config::for_tests(&self._dbs.1.url, &self.catalog_proxy.url("http"), &self.exchange);
        let app = library::build(&config).await.expect("the replica builds");
        let url = format!("http://{}", app.addr());
        tokio::spawn(app.run_until(std::future::pending()));
        LibraryClient::connect(url).await.expect("the replica answers")
    }

    pub async fn add(&self, user: &str, content_id: &str) -> Result<pb::WatchlistItem, tonic::Status> {
        self.add_with(pb::AddToWatchlistRequest {
            user_id: user.into(),
            content_id: content_id.into(),
            ..Default::default()
        })
        .await
    }

    pub async fn add_with(&self, r: pb::AddToWatchlistRequest) -> Result<pb::WatchlistItem, tonic::Status> {
        self.client.clone().add_to_watchlist(r).await.map(|r| r.into_inner())
    }

    pub async fn update(&self, r: pb::UpdateWatchlistItemRequest) -> Result<pb::WatchlistItem, tonic::Status> {
        self.client.clone().update_watchlist_item(r).await.map(|r| r.into_inner())
    }

    pub async fn remove(&self, user: &str, content_id: &str) -> Result<(), tonic::Status> {
        let r = pb::RemoveFromWatchlistRequest { user_id: user.into(), content_id: content_id.into() };
        self.client.clone().remove_from_watchlist(r).await.map(|_| ())
    }

    pub async fn list(&self, r: pb::ListWatchlistRequest) -> Result<pb::ListWatchlistResponse, tonic::Status> {
        self.client.clone().list_watchlist(r).await.map(|r| r.into_inner())
    }

    /// Every watchlist item of the user (one page of 100).
    pub async fn watchlist(&self, user: &str) -> Vec<pb::WatchlistItem> {
        self.list(pb::ListWatchlistRequest { user_id: user.into(), limit: Some(100), ..Default::default() })
            .await
            .expect("list")
            .items
    }

    pub async fn view(&self, r: pb::RecordViewRequest) -> Result<pb::RecordViewResponse, tonic::Status> {
        self.client.clone().record_view(r).await.map(|r| r.into_inner())
    }

    /// Records a view of `content_id` at `when` with `duration` minutes.
    pub async fn view_at(
        &self,
        user: &str,
        content_id: &str,
        when: DateTime<Utc>,
        duration: Option<i32>,
    ) -> pb::RecordViewResponse {
        self.view(pb::RecordViewRequest {
            user_id: user.into(),
            content_id: content_id.into(),
            viewed_at: Some(when.to_rfc3339()),
            duration,
            ..Default::default()
        })
        .await
        .expect("view recorded")
    }

    pub async fn history(&self, r: pb::ListHistoryRequest) -> Result<pb::ListHistoryResponse, tonic::Status> {
        self.client.clone().list_history(r).await.map(|r| r.into_inner())
    }

    /// Every history row of the user (one page of 100).
    pub async fn all_history(&self, user: &str) -> Vec<pb::HistoryEntry> {
        self.history(pb::ListHistoryRequest { user_id: user.into(), limit: Some(100), ..Default::default() })
            .await
            .expect("history")
            .entries
    }

    pub async fn delete_entry(&self, user: &str, id: &str) -> Result<(), tonic::Status> {
        let r = pb::DeleteHistoryEntryRequest { user_id: user.into(), id: id.into() };
        self.client.clone().delete_history_entry(r).await.map(|_| ())
    }

    pub async fn seen(&self, user: &str) -> Vec<pb::SeenItem> {
        let r = pb::SeenContentRequest { user_id: user.into() };
        self.client.clone().seen_content(r).await.expect("seen").into_inner().items
    }

    pub async fn export(&self, user: &str) -> serde_json::Value {
        let r = pb::ExportUserDataRequest { user_id: user.into() };
        let json = self.client.clone().export_user_data(r).await.expect("export").into_inner().json;
        serde_json::from_str(&json).expect("export is JSON")
    }
}
