//! `POST /api/v1/users/me/history` with an `Idempotency-Key`, through HTTP against real identity, library and
//! catalogue services: a retry with the key answers the entry first recorded (same id, 200,
//! `Idempotent-Replayed: true`), a bad key is a 400 naming the header, concurrent retries record one row, and
//! another user's same key is their own.

use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, data_of, error_code, failing_fields, spawn_identity};

const HISTORY: &str = "/api/v1/users/me/history";

/// What a POST answered: status, `Idempotent-Replayed` header, body.
struct Answer {
    status: u16,
    replayed: Option<String>,
    body: Value,
}

impl Answer {
    fn id(&self) -> &str {
        data_of(&self.body)["id"].as_str().unwrap_or_else(|| panic!("an entry id in {}", self.body))
    }
}

impl TestApp {
    /// Records a view of `content_id` as `who` with an `Idempotency-Key` of raw bytes (none when `None`).
    async fn record(&self, who: &Account, content_id: &str, duration: i64, key: Option<&[u8]>) -> Answer {
        let mut request = self
            .http
            .post(format!("{}{HISTORY}", self.base))
            .bearer_auth(&who.access)
            .json(&json!({"contentId": content_id, "duration": duration}));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", HeaderValue::from_bytes(key).unwrap());
        }
        let reply = request.send().await.expect("gateway answers");
        let status = reply.status().as_u16();
        let replayed = reply.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap().to_owned());
        Answer { status, replayed, body: reply.json().await.expect("a JSON body") }
    }

    /// The caller's history: (total, entry ids).
    async fn history_of(&self, who: &Account) -> (u64, Vec<String>) {
        let (status, body) = self.call(reqwest::Method::GET, HISTORY, None, Some(&who.access)).await;
        assert_eq!(status, 200, "{body}");
        let ids = data_of(&body).as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        (body["pagination"]["total"].as_u64().unwrap(), ids)
    }
}

#[tokio::test]
async fn history_retry_with_an_idempotency_key_answers_the_first_entry_with_200_and_the_replayed_header() {
    let app = spawn_identity().await;
    let seeded = app.seed().await;
    let a = app.account("retrier").await;
    let key = b"0191d2b0-0000-7000-8000-0000000000aa";

    let first = app.record(&a, &seeded.breach_id, 30, Some(key)).await;
    assert_eq!((first.status, first.replayed.as_deref()), (201, None), "{}", first.body);
    assert_eq!(data_of(&first.body)["updated"], false);

    let retry = app.record(&a, &seeded.breach_id, 30, Some(key)).await;
    assert_eq!((retry.status, retry.replayed.as_deref()), (200, Some("true")), "{}", retry.body);
    assert_eq!(retry.body["data"], first.body["data"], "the same entry, the same shape, unchanged");

    // Another body with the same key: still the first entry, nothing recorded.
    let other = app.record(&a, &seeded.episode_id, 99, Some(key)).await;
    assert_eq!((other.status, other.replayed.as_deref()), (200, Some("true")));
    assert_eq!(other.id(), first.id());
    assert_eq!(data_of(&other.body)["duration"], 30);
    assert_eq!(app.history_of(&a).await, (1, vec![first.id().to_owned()]));

    // Without a key, or with a new one, a view is recorded as before.
    let unkeyed = app.record(&a, &seeded.episode_id, 10, None).await;
    assert_eq!((unkeyed.status, unkeyed.replayed.as_deref()), (201, None));
    let new_key = app.record(&a, &seeded.breach_id, 45, Some(b"another-key")).await;
    assert_eq!((new_key.status, new_key.replayed.as_deref()), (200, None), "the same day's row, updated");
    assert_eq!((new_key.id(), &data_of(&new_key.body)["updated"]), (first.id(), &json!(true)));
    assert_eq!(app.history_of(&a).await.0, 2);
}

#[tokio::test]
async fn history_rejects_a_bad_idempotency_key_with_a_validation_error_naming_the_header() {
    let app = spawn_identity().await;
    let seeded = app.seed().await;
    let a = app.account("badkey").await;
    let long = vec![b'k'; 101];
    for bad in [&b""[..], b"two words", "cl\u{e9}".as_bytes(), &long] {
        let answer = app.record(&a, &seeded.breach_id, 30, Some(bad)).await;
        assert_eq!(answer.status, 400, "{:?}: {}", String::from_utf8_lossy(bad), answer.body);
        assert_eq!(error_code(&answer.body), "VALIDATION_ERROR");
        assert_eq!(failing_fields(&answer.body), ["Idempotency-Key"]);
    }
    // Listed with the body's own failing fields.
    let reply = app
        .http
        .post(format!("{}{HISTORY}", app.base))
        .bearer_auth(&a.access)
        .header("Idempotency-Key", "two words")
        .json(&json!({"contentId": "nope", "duration": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(failing_fields(&body), ["contentId", "duration", "Idempotency-Key"]);
    // Two keys on one request.
    let reply = app
        .http
        .post(format!("{}{HISTORY}", app.base))
        .bearer_auth(&a.access)
        .header("Idempotency-Key", "one")
        .header("Idempotency-Key", "two")
        .json(&json!({"contentId": seeded.breach_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    assert_eq!(failing_fields(&reply.json().await.unwrap()), ["Idempotency-Key"]);
    // The longest key is fine.
    let longest = app.record(&a, &seeded.breach_id, 30, Some(&[b'~'; 100])).await;
    assert_eq!(longest.status, 201, "{}", longest.body);
    assert_eq!(app.history_of(&a).await.0, 1, "nothing was recorded by the rejected calls");
}

#[tokio::test]
async fn history_concurrent_retries_with_one_key_record_exactly_one_row() {
    let app = std::sync::Arc::new(spawn_identity().await);
    let seeded = app.seed().await;
    let a = app.account("racer").await;
    let calls = (0..8).map(|i| {
        let (app, a) = (app.clone(), a.clone());
        // Every other call names another title: one row whatever the bodies.
        let content = if i % 2 == 0 { seeded.breach_id.clone() } else { seeded.episode_id.clone() };
        tokio::spawn(async move { app.record(&a, &content, 30, Some(b"race")).await })
    });
    let answers: Vec<Answer> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    let recorded: Vec<&Answer> = answers.iter().filter(|x| x.status == 201).collect();
    assert_eq!(recorded.len(), 1, "{:?}", answers.iter().map(|x| (x.status, &x.body)).collect::<Vec<_>>());
    let id = recorded[0].id();
    for x in answers.iter().filter(|x| x.status != 201) {
        assert_eq!((x.status, x.replayed.as_deref(), x.id()), (200, Some("true"), id));
    }
    assert_eq!(app.history_of(&a).await, (1, vec![id.to_owned()]));
}

#[tokio::test]
async fn history_idempotency_keys_are_per_user() {
    let app = spawn_identity().await;
    let seeded = app.seed().await;
    let (a, b) = (app.account("keyholder").await, app.account("samekey").await);
    let mine = app.record(&a, &seeded.breach_id, 30, Some(b"shared-key")).await;
    let theirs = app.record(&b, &seeded.breach_id, 30, Some(b"shared-key")).await;
    assert_eq!((mine.status, theirs.status, theirs.replayed.as_deref()), (201, 201, None));
    assert_ne!(mine.id(), theirs.id(), "another user's same key records their own row");
    assert_eq!(app.history_of(&b).await, (1, vec![theirs.id().to_owned()]));
    let again = app.record(&b, &seeded.breach_id, 30, Some(b"shared-key")).await;
    assert_eq!((again.status, again.replayed.as_deref(), again.id()), (200, Some("true"), theirs.id()));
    assert_eq!(app.history_of(&a).await, (1, vec![mine.id().to_owned()]));
}

#[tokio::test]
async fn history_openapi_documents_the_idempotency_key_and_the_replayed_header() {
    let app = crate::helpers::spawn().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let post = &doc["paths"][HISTORY]["post"];
    let key = post["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "Idempotency-Key");
    let key = key.unwrap_or_else(|| panic!("the header parameter in {post}"));
    assert_eq!((&key["in"], &key["required"]), (&json!("header"), &json!(false)));
    assert_eq!(key["schema"]["maxLength"], 100);
    assert!(post["responses"]["200"]["headers"]["Idempotent-Replayed"].is_object(), "{post}");
    assert!(post["responses"]["400"]["description"].as_str().unwrap().contains("Idempotency-Key"));
}

#[tokio::test]
async fn history_cors_lets_another_origin_send_the_key_and_read_the_replayed_header() {
    let app = crate::helpers::spawn().await;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}{HISTORY}", app.base))
        .header("origin", "https://example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,idempotency-key")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "preflight: {}", preflight.status());
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
    let answer =
        app.http.get(format!("{}/health", app.base)).header("origin", "https://example.org").send().await.unwrap();
    let exposed = answer.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("idempotent-replayed"), "{exposed}");
}
