//! The TMDB jobs against a local mock of the TMDB v3 API (axum on port 0, JSON of the real API's shape) and a
//! real catalogue: a person with combined credits, a movie with its cast, IMDb ids through /find, a 429 with
//! Retry-After, a 500, a 404, the request rate, and the API key kept out of the logs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use iknow_proto::ingest::v1 as pb;
use iknow_testkit::logs::Capture;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const KEY: &str = "mock-api-key-5e1f0c";

/// One request the mock answered.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    at: Instant,
    pub(crate) path: String,
    pub(crate) api_key: Option<String>,
}

/// A status to answer with, and its Retry-After in seconds.
type Fault = (u16, Option<u64>);
/// (imdb id, type, year, runtime, genres) of a catalogued title.
type TitleRow = (String, String, Option<i16>, Option<i32>, Vec<String>);

#[derive(Default)]
struct MockState {
    /// Path (after `/3`) → the JSON answered.
    fixtures: HashMap<String, Value>,
    /// Path → statuses answered before the fixture (with a Retry-After in seconds).
    faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    hits: Mutex<Vec<Hit>>,
}

/// A TMDB-compatible server on a free port, serving the fixtures under `/3`.
pub(crate) struct MockTmdb {
    pub(crate) url: String,
    state: Arc<MockState>,
}

async fn answer(
    State(state): State<Arc<MockState>>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let path = uri.path().strip_prefix("/3").unwrap_or(uri.path()).to_owned();
    state.hits.lock().unwrap().push(Hit {
        at: Instant::now(),
        path: path.clone(),
        api_key: query.get("api_key").cloned(),
    });
    let fault = state.faults.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
    if let Some((status, retry_after)) = fault {
        let status = StatusCode::from_u16(status).unwrap();
        let body = json!({"success": false, "status_code": 25, "status_message": "Your request count is over the allowed limit."});
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
        }
        return response;
    }
    match state.fixtures.get(&path) {
        Some(body) => axum::Json(body.clone()).into_response(),
        // TMDB answers an IMDb id it does not know with empty results, not a 404.
        None if path.starts_with("/find/") => axum::Json(json!({
            "movie_results": [], "person_results": [], "tv_results": [], "tv_episode_results": [], "tv_season_results": []
        }))
        .into_response(),
        None => {
            let body = json!({"success": false, "status_code": 34, "status_message": "The resource you requested could not be found."});
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}

impl MockTmdb {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/3", listener.local_addr().unwrap());
        Self::serve(listener, url)
    }

    /// Serves the fixtures on `listener` (plain TCP, or TLS on top of it), reached at `url`.
    pub(crate) fn serve<L>(listener: L, url: String) -> Self
    where
        L: axum::serve::Listener,
        L::Addr: std::fmt::Debug,
    {
        let state = Arc::new(MockState { fixtures: fixtures(), ..MockState::default() });
        let router = axum::Router::new().fallback(answer).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, state }
    }

    /// Answers `path` with these statuses first (then the fixture).
    pub(crate) fn fail(&self, path: &str, faults: &[Fault]) {
        self.state.faults.lock().unwrap().insert(path.into(), faults.iter().copied().collect());
    }

    pub(crate) fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    pub(crate) fn hits_of(&self, path: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.path == path).collect()
    }
}

/// Real-shaped answers: Tom Hanks (31) with four acting credits (one without an IMDb id) and a crew credit;
/// Forrest Gump (13) with its cast; The Simpsons (456) with a cast member the catalogue refuses; /find for the
/// IMDb ids of Tom Hanks, Forrest Gump and The Simpsons.
fn fixtures() -> HashMap<String, Value> {
    let person = |id: u64, name: &str, imdb: Option<&str>, gender: u8, birthday: &str| {
        json!({
            "adult": false, "also_known_as": [], "biography": format!("{name} is an American actor."),
            "birthday": birthday, "deathday": null,
            "gender": gender, "homepage": null, "id": id, "imdb_id": imdb, "known_for_department": "Acting",
            "name": name, "place_of_birth": null, "popularity": 20.5, "profile_path": format!("/{id}.jpg")
        })
    };
    let movie = |id: u64, title: &str, imdb: Option<&str>, date: &str, runtime: i32| {
        json!({
            "adult": false, "backdrop_path": "/b.jpg", "belongs_to_collection": null, "budget": 55000000,
            "genres": [{"id": 35, "name": "Comedy"}, {"id": 18, "name": "Drama"}], "homepage": "", "id": id,
            "imdb_id": imdb, "original_language": "en", "original_title": title,
            "overview": format!("{title}, as TMDB tells it."), "popularity": 60.1,
            "poster_path": "/p.jpg", "release_date": date, "revenue": 0, "runtime": runtime, "status": "Released",
            "tagline": "", "title": title, "video": false, "vote_average": 8.5, "vote_count": 27000
        })
    };
    let movie_credit = |id: u64, title: &str, character: &str, order: i32, popularity: f64| {
        json!({
            "adult": false, "backdrop_path": null, "genre_ids": [18], "id": id, "original_language": "en",
            "original_title": title, "overview": "", "popularity": popularity, "poster_path": null,
            "release_date": "2000-01-01", "title": title, "video": false, "vote_average": 7.0, "vote_count": 100,
            "character": character, "credit_id": format!("c{id}"), "order": order, "media_type": "movie"
        })
    };
    let cast_member = |id: u64, name: &str, gender: u8, character: &str, order: i32| {
        json!({
            "adult": false, "gender": gender, "id": id, "known_for_department": "Acting", "name": name,
            "original_name": name, "popularity": 10.0, "profile_path": null, "cast_id": order + 10,
            "character": character, "credit_id": format!("k{id}"), "order": order
        })
    };
    let mut f = HashMap::new();
    f.insert("/person/31".into(), person(31, "Tom Hanks", Some("nm0000158"), 2, "1956-07-09"));
    f.insert("/person/32".into(), person(32, "Robin Wright", Some("nm0000705"), 1, "1966-04-08"));
    f.insert("/person/33".into(), person(33, "Gary Sinise", Some("nm0000641"), 2, "1955-03-17"));
    f.insert("/person/34".into(), person(34, "Unknown Extra", None, 0, ""));
    f.insert(
        "/person/31/combined_credits".into(),
        json!({
            "id": 31,
            "cast": [
                movie_credit(13, "Forrest Gump", "Forrest Gump", 0, 60.1),
                movie_credit(8358, "Cast Away", "Chuck Noland", 0, 40.2),
                movie_credit(99999, "Untitled Project", "", 3, 1.0),
                {
                    "adult": false, "backdrop_path": null, "genre_ids": [16, 35], "id": 456, "origin_country": ["US"],
                    "original_language": "en", "original_name": "The Simpsons", "overview": "", "popularity": 300.0,
                    "poster_path": null, "first_air_date": "1989-12-17", "name": "The Simpsons", "vote_average": 8.0,
                    "vote_count": 9000, "character": "Himself (voice)", "credit_id": "s456", "episode_count": 1,
                    "media_type": "tv"
                }
            ],
            "crew": [{"id": 13, "media_type": "movie", "title": "Forrest Gump", "department": "Production", "job": "Producer"}]
        }),
    );
    f.insert("/movie/13".into(), movie(13, "Forrest Gump", Some("tt0109830"), "1994-06-23", 142));
    f.insert("/movie/8358".into(), movie(8358, "Cast Away", Some("tt0162222"), "2000-12-22", 143));
    f.insert("/movie/99999".into(), movie(99999, "Untitled Project", None, "", 0));
    f.insert(
        "/tv/456".into(),
        json!({
            "adult": false, "episode_run_time": [22], "first_air_date": "1989-12-17", "genres": [{"id": 16, "name": "Animation"}],
            "id": 456, "in_production": true, "last_air_date": "2024-05-19", "name": "The Simpsons",
            "number_of_seasons": 35, "original_name": "The Simpsons", "poster_path": "/s.jpg",
            "status": "Returning Series", "type": "Scripted",
            "external_ids": {"imdb_id": "tt0096697", "tvdb_id": 71663, "wikidata_id": "Q886"}
        }),
    );
    f.insert(
        "/movie/13/credits".into(),
        json!({
            "id": 13,
            "cast": [
                cast_member(31, "Tom Hanks", 2, "Forrest Gump", 0),
                cast_member(32, "Robin Wright", 1, "Jenny Curran", 1),
                cast_member(33, "Gary Sinise", 2, "Lt. Dan Taylor", 2),
                cast_member(34, "Unknown Extra", 0, "Bus Passenger", 3)
            ],
            "crew": []
        }),
    );
    // The Simpsons' cast: Tom Hanks, and someone TMDB has no name for (the catalogue refuses them).
    f.insert("/person/35".into(), person(35, "", Some("nm0000901"), 2, "1960-01-01"));
    f.insert(
        "/tv/456/credits".into(),
        json!({
            "id": 456,
            "cast": [cast_member(31, "Tom Hanks", 2, "Himself (voice)", 0), cast_member(35, "", 2, "Ghost", 1)],
            "crew": []
        }),
    );
    f.insert(
        "/find/tt0096697".into(),
        json!({"movie_results": [], "person_results": [], "tv_results": [{"id": 456, "name": "The Simpsons", "media_type": "tv"}], "tv_episode_results": [], "tv_season_results": []}),
    );
    let find = |people: Value, movies: Value| json!({"movie_results": movies, "person_results": people, "tv_results": [], "tv_episode_results": [], "tv_season_results": []});
    f.insert(
        "/find/nm0000158".into(),
        find(
            json!([{"id": 31, "name": "Tom Hanks", "media_type": "person", "known_for_department": "Acting"}]),
            json!([]),
        ),
    );
    f.insert(
        "/find/tt0109830".into(),
        find(
            json!([]),
            json!([{"id": 13, "title": "Forrest Gump", "media_type": "movie", "release_date": "1994-06-23"}]),
        ),
    );
    f
}

/// A test's environment pointed at a fresh mock.
pub(crate) async fn setup(configure: impl FnOnce(&mut scraper_ingest::Config)) -> (Env, MockTmdb) {
    let mut env = Env::new().await;
    let mock = MockTmdb::start().await;
    env.config.tmdb_base_url = mock.url.clone();
    env.config.tmdb_api_key = KEY.into();
    configure(&mut env.config);
    (env, mock)
}

pub(crate) async fn enqueue_person(app: &Running, tmdb_id: u64, imdb_id: &str) -> pb::Job {
    let request = pb::EnqueueTmdbPersonRequest { tmdb_id, imdb_id: imdb_id.into() };
    app.client.clone().enqueue_tmdb_person(request).await.expect("enqueued").into_inner()
}

pub(crate) async fn enqueue_title(app: &Running, tmdb_id: u64, imdb_id: &str) -> pb::Job {
    let request = pb::EnqueueTmdbTitleRequest { tmdb_id, imdb_id: imdb_id.into(), media_type: String::new() };
    app.client.clone().enqueue_tmdb_title(request).await.expect("enqueued").into_inner()
}

/// (actor, title, role, category, billing) of every catalogued credit, sorted.
async fn credits(catalog: &TestCatalog) -> Vec<(String, String, String, String, Option<i32>)> {
    sqlx::query_as(
        "SELECT a.name, c.title, f.role_name, f.category, f.credit_order FROM filmography f \
         JOIN actors a ON a.id = f.actor_id JOIN content c ON c.id = f.content_id ORDER BY 1, 2",
    )
    .fetch_all(&catalog.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_person_job_writes_the_actor_their_titles_and_credits_and_never_logs_the_key() {
    let (logs, _capture) = Capture::install(tracing::Level::DEBUG);
    let (env, mock) = setup(|_| {}).await;
    let app = env.start().await;

    let queued = enqueue_person(&app, 31, "").await;
    assert_eq!(queued.kind, "tmdb_person");
    assert!(matches!(&queued.params, Some(pb::job::Params::TmdbPerson(p)) if p.tmdb_id == 31 && p.imdb_id.is_empty()));
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(job.attempts, 1);
    assert_eq!(counts(file(&job, "tmdb actors")), (1, 1, 0, 0, 0));
    // Four titles read, Untitled Project has no IMDb id.
    assert_eq!(counts(file(&job, "tmdb titles")), (4, 3, 0, 0, 1));
    assert_eq!(counts(file(&job, "tmdb credits")), (4, 3, 0, 0, 1));

    let actor: (String, Option<i16>, Vec<String>, Vec<String>) = sqlx::query_as(
        "SELECT name, birth_year, professions, known_for_imdb_ids FROM actors WHERE imdb_id = 'nm0000158'",
    )
    .fetch_one(&env.catalog.pool)
    .await
    .unwrap();
    assert_eq!((actor.0.as_str(), actor.1), ("Tom Hanks", Some(1956)));
    assert_eq!(actor.2, vec!["actor"]);
    assert_eq!(actor.3, vec!["tt0096697", "tt0109830", "tt0162222"], "most popular first");
    let titles: Vec<TitleRow> = sqlx::query_as(
        "SELECT imdb_id, content_type, release_year, runtime_minutes, genres FROM content ORDER BY imdb_id",
    )
    .fetch_all(&env.catalog.pool)
    .await
    .unwrap();
    assert_eq!(titles.len(), 3);
    assert_eq!(titles[0], ("tt0096697".into(), "series".into(), Some(1989), Some(22), vec!["Animation".into()]));
    assert_eq!(titles[1].0, "tt0109830");
    assert_eq!((titles[1].2, titles[1].3), (Some(1994), Some(142)));
    let credits = credits(&env.catalog).await;
    let expected = |t: &str, r: &str, c: &str, o: Option<i32>| ("Tom Hanks".into(), t.into(), r.into(), c.into(), o);
    assert_eq!(
        credits,
        vec![
            expected("Cast Away", "Chuck Noland", "actor", Some(1)),
            expected("Forrest Gump", "Forrest Gump", "actor", Some(1)),
            expected("The Simpsons", "Himself (voice)", "self", None),
        ]
    );

    // The key reached the mock on every request, and no log line.
    let hits = mock.hits();
    assert_eq!(hits.len(), 6, "{hits:#?}");
    assert!(hits.iter().all(|h| h.api_key.as_deref() == Some(KEY)));
    let text = logs.text();
    assert!(text.contains("/person/31/combined_credits"), "the capture sees the client's lines");
    assert!(!text.contains(KEY), "the API key was logged");

    // The same import again changes nothing.
    let again = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&again.id, "succeeded", 60).await;
    assert_eq!(counts(file(&job, "tmdb actors")), (1, 0, 1, 0, 0));
    assert_eq!(counts(file(&job, "tmdb credits")), (4, 0, 3, 0, 1));

    // Exactly one of the ids, and IMDb ids of the right kind.
    let mut client = app.client.clone();
    for (tmdb_id, imdb_id) in [(0, ""), (31, "nm0000158"), (0, "tt0109830")] {
        let request = pb::EnqueueTmdbPersonRequest { tmdb_id, imdb_id: imdb_id.into() };
        let status = client.enqueue_tmdb_person(request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{tmdb_id} {imdb_id}");
    }
    let request = pb::EnqueueTmdbTitleRequest { tmdb_id: 13, imdb_id: String::new(), media_type: "episode".into() };
    assert_eq!(client.enqueue_tmdb_title(request).await.unwrap_err().code(), tonic::Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn imdb_ids_are_resolved_through_find_for_titles_and_people() {
    let (env, mock) = setup(|_| {}).await;
    let app = env.start().await;

    let queued = enqueue_title(&app, 0, "tt0109830").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(mock.hits_of("/find/tt0109830").len(), 1);
    assert_eq!(counts(file(&job, "tmdb titles")), (1, 1, 0, 0, 0));
    // Four cast members, the extra without an IMDb id.
    assert_eq!(counts(file(&job, "tmdb actors")), (4, 3, 0, 0, 1));
    assert_eq!(counts(file(&job, "tmdb credits")), (4, 3, 0, 0, 1));
    let cast = credits(&env.catalog).await;
    let row = |a: &str, r: &str, c: &str, o: i32| (a.into(), "Forrest Gump".into(), r.into(), c.into(), Some(o));
    assert_eq!(
        cast,
        vec![
            row("Gary Sinise", "Lt. Dan Taylor", "actor", 3),
            row("Robin Wright", "Jenny Curran", "actress", 2),
            row("Tom Hanks", "Forrest Gump", "actor", 1),
        ]
    );

    let queued = enqueue_person(&app, 0, "nm0000158").await;
    app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(mock.hits_of("/find/nm0000158").len(), 1);
    assert_eq!(mock.hits_of("/person/31").len(), 2, "once as the title's cast, once for the person job");
    assert_eq!(env.catalog.count("filmography").await, 5, "Cast Away and The Simpsons added");

    // An IMDb id TMDB does not know is final.
    let queued = enqueue_person(&app, 0, "nm9999999").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert!(job.last_error.contains("no person with IMDb id nm9999999"), "{job:#?}");
    app.stop().await;
}

#[tokio::test]
async fn a_429_is_waited_out_and_a_500_is_retried_within_the_attempt() {
    let (env, mock) = setup(|_| {}).await;
    mock.fail("/person/31", &[(429, Some(1))]);
    mock.fail("/movie/13", &[(500, None)]);
    mock.fail("/tv/456", &[(503, None), (502, None)]);
    let app = env.start().await;

    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(job.attempts, 1, "retried inside the attempt, not through the queue");
    let person = mock.hits_of("/person/31");
    assert_eq!(person.len(), 2);
    let waited = person[1].at - person[0].at;
    assert!(waited >= Duration::from_secs(1), "Retry-After: 1 was not waited out ({waited:?})");
    assert_eq!(mock.hits_of("/movie/13").len(), 2);
    assert_eq!(mock.hits_of("/tv/456").len(), 3);
    assert_eq!(env.catalog.count("filmography").await, 3);
    app.stop().await;
}

#[tokio::test]
async fn a_404_dead_letters_the_job_with_its_reason_and_no_retry() {
    let (env, mock) = setup(|_| {}).await;
    let app = env.start().await;
    let queued = enqueue_person(&app, 999, "").await;
    let job = app.wait_for(&queued.id, "dead", 60).await;
    assert_eq!(job.attempts, 1);
    assert!(job.last_error.contains("TMDB has no person 999") && job.last_error.contains("404"), "{job:#?}");
    assert_eq!(mock.hits_of("/person/999").len(), 1, "a 404 is not tried again");
    let message = next_message(&env.config.dead_queue()).await;
    let body: Value = serde_json::from_slice(&message.delivery.data).unwrap();
    assert_eq!(body["jobId"], queued.id.as_str());
    let reason = iknow_messaging::consume::header(&message.delivery, "x-failure-reason").unwrap();
    assert!(reason.contains("TMDB has no person 999"), "{reason}");
    assert!(!reason.contains(KEY));

    // 5xx answers until the tries run out fail the attempt, which the queue retries.
    mock.fail("/movie/13", &[(500, None); 3]);
    let queued = enqueue_title(&app, 13, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(job.attempts, 2, "{job:#?}");
    app.stop().await;
}

#[tokio::test]
async fn the_request_rate_stays_within_the_configured_limit() {
    let (env, mock) = setup(|c| c.tmdb_requests_per_second = 5).await;
    let app = env.start().await;
    // Both jobs at once (prefetch 2): 6 requests for the person, 6 for the title.
    let person = enqueue_person(&app, 31, "").await;
    let title = enqueue_title(&app, 13, "").await;
    app.wait_for(&person.id, "succeeded", 60).await;
    app.wait_for(&title.id, "succeeded", 60).await;

    let mut at: Vec<Instant> = mock.hits().iter().map(|h| h.at).collect();
    at.sort();
    assert_eq!(at.len(), 12);
    // Any window of 0.8 s holds at most 5 (4 at an exact 5/s; 8 if the limit were 10/s). The margin absorbs
    // requests that a busy machine delays on their way to the mock and then delivers closer together.
    let window = Duration::from_millis(800);
    let busiest = (0..at.len()).map(|i| at[i..].iter().take_while(|t| **t - at[i] < window).count()).max().unwrap();
    assert!(busiest <= 5, "{busiest} requests within {window:?}");
    assert!(at[11] - at[0] >= Duration::from_millis(1900), "12 requests at 5/s take two seconds at least");
    app.stop().await;
}
