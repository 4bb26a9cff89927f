//! The TMDB client alone, against a scripted local server (axum on port 0): which answers fail for good (404,
//! 401, another 4xx, a body that is not the expected JSON, a base URL that is not http), which are tried again
//! until the tries run out (5xx, 408, timeouts, connection failures), how a 429 is waited out with or without
//! Retry-After, and that the key travels as `api_key` and never in a message.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use scraper_ingest::tmdb::{Client, Error};
use serde_json::{Value, json};

const KEY: &str = "client-test-key-9d2a";

/// One scripted answer.
#[derive(Clone, Copy)]
enum Answer {
    /// A status with a JSON error body, and a Retry-After in seconds.
    Status(u16, Option<&'static str>),
    /// 200 with this body.
    Body(&'static str),
    /// Answers only after this long (longer than the client's timeout).
    Late(Duration),
}

#[derive(Default)]
struct Script {
    /// Path (after `/3`) → answers given in turn; once used up, `{"id": 1}`.
    answers: Mutex<HashMap<String, VecDeque<Answer>>>,
    /// Every request: its path and query.
    hits: Mutex<Vec<(String, HashMap<String, String>)>>,
}

async fn answer(State(script): State<Arc<Script>>, uri: Uri, Query(query): Query<HashMap<String, String>>) -> Response {
    let path = uri.path().strip_prefix("/3").unwrap_or(uri.path()).to_owned();
    script.hits.lock().unwrap().push((path.clone(), query));
    let next = script.answers.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
    match next {
        None => axum::Json(json!({"id": 1})).into_response(),
        Some(Answer::Body(body)) => (StatusCode::OK, [("content-type", "application/json")], body).into_response(),
        Some(Answer::Status(status, retry_after)) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap(), axum::Json(json!({"success": false}))).into_response();
            if let Some(value) = retry_after {
                response.headers_mut().insert("retry-after", value.parse().unwrap());
            }
            response
        }
        Some(Answer::Late(delay)) => {
            tokio::time::sleep(delay).await;
            axum::Json(json!({"id": 1})).into_response()
        }
    }
}

struct Server {
    url: String,
    script: Arc<Script>,
}

impl Server {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/3", listener.local_addr().unwrap());
        let script = Arc::new(Script::default());
        let router = axum::Router::new().fallback(answer).with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, script }
    }

    fn script(&self, path: &str, answers: &[Answer]) {
        self.script.answers.lock().unwrap().insert(path.into(), answers.iter().cloned().collect());
    }

    fn hits(&self, path: &str) -> Vec<HashMap<String, String>> {
        self.script.hits.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, q)| q.clone()).collect()
    }
}

/// A client of `base` with three tries, a short pause between them and `timeout_ms`.
fn client(base: &str, timeout_ms: u64) -> Client {
    let mut config = scraper_ingest::Config::for_tests("postgres://unused", "http://unused", "");
    config.tmdb_base_url = format!("{base}/");
    config.tmdb_api_key = KEY.into();
    config.tmdb_tries = 3;
    config.tmdb_retry_base_ms = 10;
    config.tmdb_timeout_ms = timeout_ms;
    Client::new(&config).expect("the client builds")
}

async fn get(client: &Client, path: &str) -> Result<Value, Error> {
    client.get::<Value>(path, &[]).await
}

#[tokio::test]
async fn answers_that_cannot_improve_fail_for_good_after_one_request() {
    let server = Server::start().await;
    let client = client(&server.url, 2_000);

    server.script("/missing", &[Answer::Status(404, None)]);
    let error = get(&client, "/missing").await.unwrap_err();
    assert_eq!(error, Error::NotFound("/missing".into()));
    assert_eq!(error.to_string(), "TMDB has no /missing (404)");

    server.script("/locked", &[Answer::Status(401, None)]);
    let error = get(&client, "/locked").await.unwrap_err();
    assert!(matches!(&error, Error::Permanent(e) if e.contains("refused the API key (401) on /locked")), "{error}");
    assert!(error.to_string().contains("tmdb_api_key"), "the message names the setting: {error}");

    server.script("/forbidden", &[Answer::Status(403, None)]);
    let error = get(&client, "/forbidden").await.unwrap_err();
    assert_eq!(error, Error::Permanent("TMDB answered 403 Forbidden to GET /forbidden".into()));

    server.script("/garbled", &[Answer::Body("<html>not json</html>")]);
    let error = get(&client, "/garbled").await.unwrap_err();
    assert!(matches!(&error, Error::Permanent(e) if e.contains("answer to /garbled is not the expected JSON")));

    for path in ["/missing", "/locked", "/forbidden", "/garbled"] {
        assert_eq!(server.hits(path).len(), 1, "{path} was tried again");
    }
    assert!(!error.to_string().contains(KEY), "the key is in the message: {error}");
}

#[tokio::test]
async fn server_errors_and_request_timeouts_are_tried_again_then_given_up() {
    let server = Server::start().await;
    let client = client(&server.url, 2_000);

    // Two failures, then the answer: one call succeeds.
    server.script("/flaky", &[Answer::Status(500, None), Answer::Status(408, None)]);
    assert_eq!(get(&client, "/flaky").await.unwrap(), json!({"id": 1}));
    assert_eq!(server.hits("/flaky").len(), 3);

    // Failures until the tries run out.
    server.script("/down", &[Answer::Status(502, None), Answer::Status(503, None), Answer::Status(500, None)]);
    let error = get(&client, "/down").await.unwrap_err();
    assert_eq!(error, Error::Transient("GET /down: 500 Internal Server Error (gave up after 3 tries)".into()));
    assert_eq!(server.hits("/down").len(), 3);
}

#[tokio::test]
async fn a_429_is_waited_out_with_or_without_retry_after_unless_the_wait_is_too_long() {
    let server = Server::start().await;
    let client = client(&server.url, 2_000);

    // Without Retry-After (or with an HTTP date, which counts as absent) the client backs off on its own.
    server.script("/busy", &[Answer::Status(429, None), Answer::Status(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"))]);
    assert_eq!(get(&client, "/busy").await.unwrap(), json!({"id": 1}));
    assert_eq!(server.hits("/busy").len(), 3);

    // Retry-After: 0 is waited out (no wait) and the request made again.
    server.script("/now", &[Answer::Status(429, Some("0"))]);
    assert_eq!(get(&client, "/now").await.unwrap(), json!({"id": 1}));
    assert_eq!(server.hits("/now").len(), 2);

    // A wait longer than a minute fails the attempt at once: the job's retry comes back later.
    server.script("/later", &[Answer::Status(429, Some("120"))]);
    let error = get(&client, "/later").await.unwrap_err();
    assert_eq!(error, Error::Transient("GET /later: 429 Too Many Requests (Retry-After 120 s)".into()));
    assert_eq!(server.hits("/later").len(), 1);

    // 429s until the tries run out.
    server.script("/always", &[Answer::Status(429, Some("0")); 3]);
    let error = get(&client, "/always").await.unwrap_err();
    assert!(matches!(&error, Error::Transient(e) if e.ends_with("(gave up after 3 tries)")), "{error}");
    assert_eq!(server.hits("/always").len(), 3);
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_transient_and_keep_the_key_out() {
    let server = Server::start().await;
    let slow = client(&server.url, 200);
    server.script("/slow", &[Answer::Late(Duration::from_secs(3)); 3]);
    let error = get(&slow, "/slow").await.unwrap_err();
    assert!(
        matches!(&error, Error::Transient(e) if e.starts_with("GET /slow timed out") && e.ends_with("(gave up after 3 tries)")),
        "{error}"
    );
    assert_eq!(server.hits("/slow").len(), 3);
    assert!(!error.to_string().contains(KEY), "{error}");

    let dead = iknow_testkit::dead_addr().await;
    let refused = client(&format!("http://{dead}/3"), 2_000);
    let error = get(&refused, "/person/1").await.unwrap_err();
    assert!(matches!(&error, Error::Transient(e) if e.starts_with("GET /person/1 failed")), "{error}");
    assert!(!error.to_string().contains(KEY) && !error.to_string().contains(&dead.to_string()), "{error}");
}

#[tokio::test]
async fn a_base_url_that_is_not_http_fails_without_a_request() {
    let client = client("ftp://tmdb.example/3", 2_000);
    let error = get(&client, "/person/1").await.unwrap_err();
    assert_eq!(
        error,
        Error::Permanent("the TMDB base URL must be https:// or http://; tmdb_base_url starts \"ftp:\"".into())
    );
}

#[tokio::test]
async fn each_resource_has_its_path_and_query_and_the_key_never_prints() {
    let server = Server::start().await;
    let client = client(&server.url, 2_000);
    let debug = format!("{client:?}");
    assert!(debug.contains(&server.url) && !debug.contains(KEY), "{debug}");

    assert_eq!(client.person(7).await.unwrap().id, 1);
    client.combined_credits(7).await.unwrap();
    client.movie(8).await.unwrap();
    client.tv(9).await.unwrap();
    client.credits("tv", 9).await.unwrap();
    client.find("nm0000001").await.unwrap();
    for path in ["/person/7", "/person/7/combined_credits", "/movie/8", "/tv/9", "/tv/9/credits", "/find/nm0000001"] {
        let hits = server.hits(path);
        assert_eq!(hits.len(), 1, "{path}");
        assert_eq!(hits[0].get("api_key").map(String::as_str), Some(KEY), "{path}");
    }
    assert_eq!(server.hits("/tv/9")[0].get("append_to_response").map(String::as_str), Some("external_ids"));
    assert_eq!(server.hits("/find/nm0000001")[0].get("external_source").map(String::as_str), Some("imdb_id"));
}
