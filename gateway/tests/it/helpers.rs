//! Spawning a gateway wired to a real catalogue (and, when asked, the stub services), seeding the catalogue
//! through its gRPC write path, and small request helpers.

use std::path::PathBuf;

use iknow_proto::catalog::v1 as pb;
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_testkit::{TcpProxy, TestDb};
use serde_json::Value;
use tokio::sync::oneshot;

pub use iknow_testkit::amqp::Listener;

/// A change to the gateway's configuration.
pub type ConfigChange = Box<dyn FnOnce(&mut gateway::Config) + Send>;

/// Which pieces a test needs.
#[derive(Default)]
pub struct Options {
    /// Start identity, library and ingest stubs (else their URLs point where nothing listens).
    pub stubs: bool,
    /// Directory of web files to serve (else a directory that does not exist).
    pub web_dir: Option<PathBuf>,
    /// Changes to the identity service's test configuration (short token lifetimes, say).
    pub identity: Option<fn(&mut user_identity::Config)>,
    /// Changes to the gateway's configuration (rate limits, say).
    pub gateway: Option<ConfigChange>,
}

/// A running gateway and what it talks to; everything stops when this is dropped.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub catalog: ActorCatalogClient<tonic::transport::Channel>,
    /// The catalogue as the gateway sees it; cut it to simulate an outage.
    pub catalog_proxy: TcpProxy,
    /// Stops each stub service by name (`identity`, `library`, `ingest`).
    pub stub_stops: Vec<(&'static str, oneshot::Sender<()>)>,
    /// Stops the catalogue service.
    pub stop_catalog: Option<oneshot::Sender<()>>,
    pub db_url: String,
    /// The identity service's configuration, when it runs (its secret is the gateway's).
    pub identity_config: Option<user_identity::Config>,
    /// The gateway's configuration (start another replica from it).
    pub gateway_config: gateway::Config,
    _db: TestDb,
    _identity_db: Option<TestDb>,
    _library_db: Option<TestDb>,
    _ingest_db: Option<TestDb>,
}

fn stop_signal() -> (oneshot::Sender<()>, impl Future<Output = ()> + Send + 'static) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

pub async fn spawn() -> TestApp {
    spawn_with(Options::default()).await
}

pub async fn spawn_with(options: Options) -> TestApp {
    iknow_common::telemetry::init_for_tests();
    let db = TestDb::new().await;
    let catalog_config =
        actor_catalog::config_for_tests(&db.url, &iknow_testkit::redis_url(), &iknow_testkit::unique_prefix("gateway"));
    let catalog_app = actor_catalog::Application::build(catalog_config).await.expect("catalogue builds");
    let catalog_addr = catalog_app.addr();
    let (stop_catalog, signal) = stop_signal();
    tokio::spawn(catalog_app.run_until(signal));
    let catalog_proxy = TcpProxy::start(catalog_addr).await;

    let mut stub_urls = Vec::new();
    let mut stub_stops = Vec::new();
    let mut identity_db = None;
    let mut identity_config = None;
    let mut library_db = None;
    let mut ingest_db = None;
    for name in ["identity", "library", "ingest"] {
        if !options.stubs {
            stub_urls.push(format!("http://{}", iknow_testkit::dead_addr().await));
            continue;
        }
        let (stop, signal) = stop_signal();
        let port = if name == "identity" {
            // The identity service has its own database.
            let idb = TestDb::new().await;
            let mut config = user_identity::Config::for_tests(&idb.url);
            if let Some(change) = options.identity {
                change(&mut config);
            }
            identity_config = Some(config.clone());
            let app = user_identity::Application::build(config).await.expect("identity builds");
            identity_db = Some(idb);
            let port = app.port();
            tokio::spawn(app.run_until(signal));
            port
        } else {
            if name == "library" {
                // Its own database: sqlx's migration table would clash with the catalogue's.
                let ldb = TestDb::new().await;
                // It listens for `user.deleted` on this test's own identity events exchange.
                let events = identity_config.as_ref().map(|c| c.events_exchange.clone()).expect("identity first");
                let config = library::Config::for_tests(&ldb.url, &catalog_proxy.url("http"), &events);
                library_db = Some(ldb);
                let app = library::build(&config).await.expect("library builds");
                let port = app.port();
                tokio::spawn(app.run_until(signal));
                port
            } else {
                // Health and gRPC only: no worker, and a broker address where nothing listens, so it declares
                // no queues on the shared RabbitMQ.
                let idb = TestDb::new().await;
                let mut config = scraper_ingest::Config::for_tests(&idb.url, &catalog_proxy.url("http"), "");
                config.worker_enabled = false;
                config.amqp_url = format!("amqp://guest:guest@{}/%2f", iknow_testkit::dead_addr().await).into();
                ingest_db = Some(idb);
                let app = scraper_ingest::build(&config).await.expect("ingest builds");
                let port = app.port();
                tokio::spawn(app.run_until(signal));
                port
            }
        };
        stub_urls.push(format!("http://127.0.0.1:{port}"));
        stub_stops.push((name, stop));
    }

    let mut config = gateway::Config {
        http_addr: "127.0.0.1:0".into(),
        catalog_url: catalog_proxy.url("http"),
        identity_url: stub_urls[0].clone(),
        library_url: stub_urls[1].clone(),
        ingest_url: stub_urls[2].clone(),
        downstream_timeout_ms: 800,
        identity_timeout_ms: 5000,
        connect_timeout_ms: 300,
        database_url: db.url.clone().into(),
        redis_url: iknow_testkit::redis_url().into(),
        amqp_url: iknow_testkit::amqp_url().into(),
        web_dir: options.web_dir.unwrap_or_else(|| PathBuf::from("/nonexistent/iknow-web")),
        ..generous_limits()
    };
    if let Some(identity) = &identity_config {
        config.jwt_secret = identity.jwt_secret.clone();
    }
    if let Some(change) = options.gateway {
        change(&mut config);
    }
    let gateway_config = config.clone();
    let base = start_gateway(config).await;

    let catalog = ActorCatalogClient::connect(format!("http://{catalog_addr}")).await.expect("catalogue answers");
    TestApp {
        base,
        http: reqwest::Client::new(),
        catalog,
        catalog_proxy,
        stub_stops,
        stop_catalog: Some(stop_catalog),
        db_url: db.url.clone(),
        identity_config,
        gateway_config,
        _db: db,
        _identity_db: identity_db,
        _library_db: library_db,
        _ingest_db: ingest_db,
    }
}

impl TestApp {
    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.http.get(format!("{}{path_and_query}", self.base)).send().await.expect("gateway answers")
    }

    /// GET returning status and JSON body.
    pub async fn get_json(&self, path_and_query: &str) -> (u16, Value) {
        let r = self.get(path_and_query).await;
        let status = r.status().as_u16();
        let body = r.json::<Value>().await.expect("a JSON body");
        (status, body)
    }

    /// Seeds the sample catalogue and returns it.
    pub async fn seed(&self) -> Seeded {
        let reply = self.catalog.clone().upsert_batch(sample_batch()).await.expect("upsert").into_inner();
        assert!(reply.rejected.is_empty(), "rejected rows: {:?}", reply.rejected);
        let pool = sqlx::PgPool::connect(&self.db_url).await.expect("catalogue database");
        let id = async |table: &str, imdb: &str| -> String {
            let sql = format!("SELECT id FROM {table} WHERE imdb_id = $1");
            let id: uuid::Uuid = sqlx::query_scalar(&sql).bind(imdb).fetch_one(&pool).await.expect("seeded row");
            id.to_string()
        };
        let (bruce_id, breach_id, episode_id) =
            (id("actors", "nm0000246").await, id("content", "tt9820556").await, id("content", "tt0583459").await);
        pool.close().await;
        Seeded { bruce_id, breach_id, episode_id }
    }
}

/// Ids of seeded rows the tests look up.
pub struct Seeded {
    pub bruce_id: String,
    pub breach_id: String,
    pub episode_id: String,
}

fn actor(imdb: &str, name: &str, birth: Option<i32>, known_for: &[&str]) -> pb::ActorInput {
    pb::ActorInput {
        imdb_id: imdb.into(),
        name: name.into(),
        birth_year: birth,
        death_year: None,
        professions: vec!["actor".into()],
        known_for_imdb_ids: known_for.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn title(imdb: &str, kind: pb::ContentType, name: &str, year: i32, genres: &[&str]) -> pb::ContentInput {
    pb::ContentInput {
        imdb_id: imdb.into(),
        content_type: kind as i32,
        title: name.into(),
        original_title: name.into(),
        is_adult: false,
        year: Some(year),
        end_year: None,
        runtime_minutes: Some(100),
        genres: genres.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// One credit with one character.
pub fn credit(actor: &str, content: &str, category: &str, character: &str, order: i32) -> pb::CreditInput {
    pb::CreditInput {
        actor_imdb_id: actor.into(),
        content_imdb_id: content.into(),
        category: category.into(),
        characters: vec![character.into()],
        credit_order: order,
    }
}

/// Real names from data/sample/imdb plus a few well-known ones for typo, accent and word-order searches.
pub fn sample_batch() -> pb::UpsertBatchRequest {
    use pb::ContentType::{Episode, Movie, Series};
    let mut friends = title("tt0108778", Series, "Friends", 1994, &["Comedy", "Romance"]);
    friends.end_year = Some(2004);
    pb::UpsertBatchRequest {
        contents: vec![
            title("tt9820556", Movie, "Breach", 2020, &["Action", "Horror", "Sci-Fi"]),
            title("tt0095016", Movie, "Die Hard", 1988, &["Action", "Thriller"]),
            title("tt0162222", Movie, "Cast Away", 2000, &["Adventure", "Drama"]),
            title("tt1375666", Movie, "Inception", 2010, &["Action", "Sci-Fi"]),
            title("tt0259711", Movie, "Vanilla Sky", 2001, &["Fantasy", "Mystery"]),
            title("tt0335266", Movie, "Lost in Translation", 2003, &["Comedy", "Drama"]),
            friends,
            title("tt0583459", Episode, "The One Where Monica Gets a Roommate", 1994, &["Comedy"]),
        ],
        episodes: vec![pb::EpisodeLinkInput {
            episode_imdb_id: "tt0583459".into(),
            series_imdb_id: "tt0108778".into(),
            season_number: Some(1),
            episode_number: Some(1),
        }],
        actors: vec![
            actor("nm0000246", "Bruce Willis", Some(1955), &["tt9820556", "tt0095016"]),
            actor("nm0000158", "Tom Hanks", Some(1956), &["tt0162222"]),
            actor("nm0362766", "Tom Hardy", Some(1977), &["tt1375666"]),
            actor("nm0004851", "Penélope Cruz", Some(1974), &["tt0259711"]),
            actor("nm0424060", "Scarlett Johansson", Some(1984), &["tt0335266"]),
            actor("nm0000098", "Jennifer Aniston", Some(1969), &["tt0108778"]),
        ],
        credits: vec![
            credit("nm0000246", "tt9820556", "actor", "Clay", 2),
            credit("nm0000246", "tt0095016", "actor", "John McClane", 1),
            credit("nm0000158", "tt0162222", "actor", "Chuck Noland", 1),
            credit("nm0362766", "tt1375666", "actor", "Eames", 3),
            credit("nm0004851", "tt0259711", "actress", "Sofia Serrano", 2),
            credit("nm0424060", "tt0335266", "actress", "Charlotte", 2),
            credit("nm0000098", "tt0583459", "actress", "Rachel Green", 1),
        ],
        ratings: vec![pb::RatingInput { content_imdb_id: "tt0095016".into(), average_rating: 8.2, num_votes: 950_000 }],
        ..Default::default()
    }
}

/// Asserts the success envelope's `meta` and returns `data`.
pub fn data_of(body: &Value) -> &Value {
    let meta = &body["meta"];
    assert!(meta["requestId"].is_string(), "meta.requestId in {body}");
    assert_eq!(meta["version"], "v1");
    assert!(meta["processingTime"].is_number());
    let ts = meta["timestamp"].as_str().expect("meta.timestamp");
    assert!(ts.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "RFC 3339 UTC: {ts}");
    &body["data"]
}

/// Asserts the error envelope and returns its code.
pub fn error_code(body: &Value) -> String {
    let e = &body["error"];
    assert!(e["message"].is_string(), "error.message in {body}");
    assert!(e["requestId"].is_string(), "error.requestId in {body}");
    let ts = e["timestamp"].as_str().expect("error.timestamp");
    assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok());
    e["code"].as_str().expect("error.code").to_owned()
}

/// The fields listed in a validation error's details.
pub fn failing_fields(body: &Value) -> Vec<String> {
    body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("details.fields in {body}"))
        .iter()
        .map(|f| {
            assert!(f["message"].is_string());
            f["field"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// A gateway alone, its catalogue at `catalog_url` and every other service where nothing listens; returns
/// its base URL.
pub async fn spawn_gateway_only(catalog_url: String) -> String {
    let dead = format!("http://{}", iknow_testkit::dead_addr().await);
    let config = gateway::Config {
        catalog_url,
        identity_url: dead.clone(),
        library_url: dead.clone(),
        ingest_url: dead,
        ..generous_limits()
    };
    let app = gateway::Application::build(config).await.expect("gateway builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    base
}

/// A gateway configuration with every downstream where nothing listens, the shared Redis, and rate limits
/// (own Redis prefix) high enough that no test meets them; the base of struct updates.
pub fn generous_limits() -> gateway::Config {
    gateway::Config {
        http_addr: "127.0.0.1:0".into(),
        catalog_url: "http://127.0.0.1:1".into(),
        identity_url: "http://127.0.0.1:1".into(),
        library_url: "http://127.0.0.1:1".into(),
        ingest_url: "http://127.0.0.1:1".into(),
        downstream_timeout_ms: 800,
        identity_timeout_ms: 5000,
        connect_timeout_ms: 300,
        database_url: format!("{}/postgres", iknow_testkit::pg_server_url()).into(),
        redis_url: iknow_testkit::redis_url().into(),
        amqp_url: iknow_testkit::amqp_url().into(),
        web_dir: "/nonexistent".into(),
        image_origins: vec!["https://image.tmdb.org".into()],
        rate_limit_enabled: true,
        rate_limit_redis_prefix: iknow_testkit::unique_prefix("gateway-rl"),
        rate_limit_redis_timeout_ms: 1000,
        rate_limit_auth_per_window: 100_000,
        rate_limit_auth_window_seconds: 900,
        rate_limit_search_per_window: 100_000,
        rate_limit_search_window_seconds: 900,
        rate_limit_default_per_window: 100_000,
        rate_limit_default_window_seconds: 900,
        jwt_secret: iknow_common::token::DEV_JWT_SECRET.into(),
        revocation_redis_prefix: iknow_testkit::unique_prefix("gateway-revoked"),
        revocation_ttl_seconds: 900,
        premium_history_window_days: 90,
    }
}

/// The password of every test account (meets identity's rules).
pub const PASSWORD: &str = "Correct-Horse-9";

/// A registered, logged-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// Sends `method path` with an optional JSON body and bearer token; returns status and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("gateway answers");
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.expect("a JSON body"))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body), None).await
    }

    /// Registers `name` (`{name}@example.com`) and logs in.
    pub async fn account(&self, name: &str) -> Account {
        let email = format!("{name}@example.com");
        let (status, body) = self
            .post(
                "/api/v1/users/register",
                serde_json::json!({"email": email, "username": name, "password": PASSWORD, "acceptTerms": true}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) =
            self.post("/api/v1/auth/login", serde_json::json!({"login": name, "password": PASSWORD})).await;
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        Account {
            id: data["user"]["id"].as_str().unwrap().to_owned(),
            email,
            access: data["accessToken"].as_str().unwrap().to_owned(),
            refresh: data["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// The identity service's configuration (panics without the stubs).
    pub fn identity(&self) -> &user_identity::Config {
        self.identity_config.as_ref().expect("spawned with stubs")
    }
}

/// A gateway with real identity (and the other stubs).
pub async fn spawn_identity() -> TestApp {
    spawn_with(Options { stubs: true, ..Options::default() }).await
}

/// Starts a gateway with `config` and returns its base URL.
pub async fn start_gateway(config: gateway::Config) -> String {
    let app = gateway::Application::build(config).await.expect("gateway builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    base
}
