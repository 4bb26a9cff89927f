//! The watchlist, history and "where do I know them from" routes through HTTP against real identity, library
//! and catalogue services: the JSON contract (camelCase, envelopes, codes), validation listing every field,
//! the duplicate add's existing item, the same-day update, the premium history window, isolation between
//! users on every route, the library joining the GDPR export and delete, and 503 only where the catalogue is
//! needed.

use chrono::{Duration, Utc};
use iknow_proto::catalog::v1 as pb;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Account, PASSWORD, TestApp, data_of, error_code, failing_fields, spawn_identity};

const WATCHLIST: &str = "/api/v1/users/me/watchlist";
const HISTORY: &str = "/api/v1/users/me/history";
const STATS: &str = "/api/v1/users/me/stats/actors";

/// Titles and people of these tests: the sample plus Friends' regular Matthew Perry (also in The Whole Nine
/// Yards with Bruce Willis) and an episode with Bruce Willis as a guest.
struct Fixture {
    bruce: String,
    perry: String,
    breach: String,
    die_hard: String,
    nine_yards: String,
    guest_episode: String,
    first_episode: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let seeded = app.seed().await;
    let batch = pb::UpsertBatchRequest {
        contents: vec![
            title("tt0190138", pb::ContentType::Movie, "The Whole Nine Yards"),
            title("tt0583600", pb::ContentType::Episode, "The One Where Paul's the Man"),
        ],
        episodes: vec![pb::EpisodeLinkInput {
            episode_imdb_id: "tt0583600".into(),
            series_imdb_id: "tt0108778".into(),
            season_number: Some(6),
            episode_number: Some(22),
        }],
        actors: vec![pb::ActorInput {
            imdb_id: "nm0001612".into(),
            name: "Matthew Perry".into(),
            professions: vec!["actor".into()],
            ..Default::default()
        }],
        credits: vec![
            credit("nm0001612", "tt0108778", "Chandler Bing", 2),
            credit("nm0001612", "tt0190138", "Oz", 1),
            credit("nm0000246", "tt0190138", "Jimmy", 2),
            credit("nm0000246", "tt0583600", "Paul Stevens", 8),
        ],
        ..Default::default()
    };
    let reply = app.catalog.clone().upsert_batch(batch).await.expect("upsert").into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
    let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
    let id = async |table: &str, imdb: &str| -> String {
        let sql = format!("SELECT id::text FROM {table} WHERE imdb_id = $1");
        sqlx::query_scalar(&sql).bind(imdb).fetch_one(&pool).await.unwrap()
    };
    let f = Fixture {
        bruce: seeded.bruce_id,
        perry: id("actors", "nm0001612").await,
        breach: seeded.breach_id,
        die_hard: id("content", "tt0095016").await,
        nine_yards: id("content", "tt0190138").await,
        guest_episode: id("content", "tt0583600").await,
        first_episode: seeded.episode_id,
    };
    pool.close().await;
    f
}

fn title(imdb: &str, kind: pb::ContentType, name: &str) -> pb::ContentInput {
    pb::ContentInput {
        imdb_id: imdb.into(),
        content_type: kind as i32,
        title: name.into(),
        original_title: name.into(),
        year: Some(2000),
        runtime_minutes: Some(98),
        genres: vec!["Comedy".into()],
        ..Default::default()
    }
}

fn credit(actor: &str, content: &str, character: &str, order: i32) -> pb::CreditInput {
    pb::CreditInput {
        actor_imdb_id: actor.into(),
        content_imdb_id: content.into(),
        category: "actor".into(),
        characters: vec![character.into()],
        credit_order: order,
    }
}

impl TestApp {
    async fn as_user(&self, who: &Account, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, path, body, Some(&who.access)).await
    }

    /// Records a view `days_ago` days ago; returns the status and the entry.
    async fn watch(&self, who: &Account, content_id: &str, days_ago: i64) -> (u16, Value) {
        let viewed = (Utc::now() - Duration::days(days_ago)).to_rfc3339();
        let body = json!({"contentId": content_id, "viewedAt": viewed, "duration": 90, "completionPercentage": 95.5,
            "context": {"platform": "netflix"}});
        let (status, reply) = self.as_user(who, Method::POST, HISTORY, Some(body)).await;
        (status, data_of(&reply).clone())
    }
}

#[tokio::test]
async fn the_watchlist_contract_from_add_to_remove() {
    let app = spawn_identity().await;
    let f = fixture(&app).await;
    let a = app.account("lister").await;

    let (status, body) =
        app.as_user(&a, Method::POST, WATCHLIST, Some(json!({"contentId": f.breach, "priority": 7}))).await;
    assert_eq!(status, 201, "{body}");
    let item = data_of(&body);
    assert_eq!((item["status"].as_str(), item["priority"].as_i64()), (Some("to_watch"), Some(7)));
    assert_eq!(item["content"]["title"], "Breach");
    assert!(item["completedAt"].is_null() && item["notes"].is_null());
    let added_at = item["addedAt"].as_str().unwrap();
    assert!(added_at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(added_at).is_ok());

    // A duplicate add is 409 with the existing item.
    let (status, body) = app.as_user(&a, Method::POST, WATCHLIST, Some(json!({"contentId": f.breach}))).await;
    assert_eq!((status, error_code(&body).as_str()), (409, "DUPLICATE_WATCHLIST_ITEM"));
    assert_eq!(body["error"]["details"]["existingItem"]["id"], item["id"]);
    assert_eq!(body["error"]["details"]["existingItem"]["priority"], 7);

    // Unknown title; every bad field listed; nothing added by either.
    let unknown = uuid::Uuid::now_v7().to_string();
    let (status, body) = app.as_user(&a, Method::POST, WATCHLIST, Some(json!({"contentId": unknown}))).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "CONTENT_NOT_FOUND"));
    let bad = json!({"contentId": "nope", "status": "binge", "priority": 11, "notes": "x".repeat(2001)});
    let (status, body) = app.as_user(&a, Method::POST, WATCHLIST, Some(bad)).await;
    assert_eq!(status, 400, "{body}");
    let mut fields = failing_fields(&body);
    fields.sort();
    assert_eq!(fields, ["contentId", "notes", "priority", "status"]);

    app.as_user(&a, Method::POST, WATCHLIST, Some(json!({"contentId": f.die_hard, "priority": 2}))).await;
    let (status, body) = app.as_user(&a, Method::GET, &format!("{WATCHLIST}?sortBy=priority&limit=1"), None).await;
    assert_eq!(status, 200);
    assert_eq!(data_of(&body).as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["content"]["title"], "Breach", "highest priority first");
    assert_eq!((body["pagination"]["total"].as_u64(), body["pagination"]["hasMore"].as_bool()), (Some(2), Some(true)));
    let (status, body) = app.as_user(&a, Method::GET, &format!("{WATCHLIST}?status=nope&limit=0"), None).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["status".to_owned(), "limit".to_owned()]));

    // Completing sets completedAt; the status filter finds it.
    let path = format!("{WATCHLIST}/{}", f.die_hard);
    let (status, body) = app.as_user(&a, Method::PATCH, &path, Some(json!({"status": "completed"}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(data_of(&body)["completedAt"].is_string());
    let (_, body) = app.as_user(&a, Method::GET, &format!("{WATCHLIST}?status=completed"), None).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (status, body) = app.as_user(&a, Method::PATCH, &path, Some(json!({"priority": -1}))).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["priority".to_owned()]));

    let (status, _) = app.as_user(&a, Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    let (status, body) = app.as_user(&a, Method::DELETE, &path, None).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "WATCHLIST_ITEM_NOT_FOUND"));
    let (status, body) = app.call(Method::GET, WATCHLIST, None, None).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "UNAUTHORIZED"));
}

#[tokio::test]
async fn an_ascending_watchlist_is_the_descending_one_reversed_page_by_page() {
    let app = spawn_identity().await;
    let f = fixture(&app).await;
    let a = app.account("ascender").await;
    // Two titles share a priority: the tie-breakers reverse too.
    for (content, priority) in [(&f.breach, 3), (&f.die_hard, 3), (&f.nine_yards, 9)] {
        let body = json!({"contentId": content, "priority": priority});
        let (status, reply) = app.as_user(&a, Method::POST, WATCHLIST, Some(body)).await;
        assert_eq!(status, 201, "{reply}");
    }
    let page = async |query: &str| -> (Vec<String>, Value) {
        let (status, body) = app.as_user(&a, Method::GET, &format!("{WATCHLIST}?{query}"), None).await;
        assert_eq!(status, 200, "{query}: {body}");
        let ids = data_of(&body).as_array().unwrap().iter().map(|i| i["contentId"].as_str().unwrap().to_owned());
        (ids.collect(), body["pagination"].clone())
    };
    for (sort, link) in [("addedAt", ""), ("priority", "&sortBy=priority")] {
        let (mut ascending, _) = page(&format!("sortBy={sort}")).await;
        ascending.reverse();
        let (first, pagination) = page(&format!("sortBy={sort}&sortOrder=asc&limit=2")).await;
        assert_eq!(first, ascending[..2], "{sort}");
        assert_eq!((pagination["total"].as_u64(), pagination["hasMore"].as_bool()), (Some(3), Some(true)));
        assert_eq!(pagination["nextPage"], format!("{WATCHLIST}?limit=2&offset=2{link}&sortOrder=asc"));
        let (second, pagination) = page(&format!("sortBy={sort}&sortOrder=asc&limit=2&offset=2")).await;
        assert_eq!(second, ascending[2..], "{sort}");
        assert_eq!((pagination["total"].as_u64(), pagination["hasMore"].as_bool()), (Some(3), Some(false)));
        assert_eq!(pagination["prevPage"], format!("{WATCHLIST}?limit=2&offset=0{link}&sortOrder=asc"));
        let (beyond, pagination) = page(&format!("sortBy={sort}&sortOrder=asc&offset=5")).await;
        assert!(beyond.is_empty(), "{sort}: {beyond:?}");
        assert_eq!(pagination["total"].as_u64(), Some(3));
    }
}

#[tokio::test]
async fn history_updates_the_same_day_keeps_rewatches_and_limits_free_callers_to_the_window() {
    let app = spawn_identity().await;
    let f = fixture(&app).await;
    let a = app.account("viewer").await;

    let (status, first) = app.watch(&a, &f.breach, 3).await;
    assert_eq!((status, first["updated"].as_bool()), (201, Some(false)));
    assert_eq!(first["completionPercentage"], 95.5);
    assert_eq!(first["context"], json!({"platform": "netflix"}));
    let (status, again) = app.watch(&a, &f.breach, 3).await;
    assert_eq!((status, again["updated"].as_bool()), (200, Some(true)), "same UTC day: that row");
    assert_eq!(again["id"], first["id"]);
    let (status, rewatch) = app.watch(&a, &f.breach, 1).await;
    assert_eq!(status, 201, "another day: a new row");
    assert_ne!(rewatch["id"], first["id"]);

    let (status, body) = app.as_user(&a, Method::GET, HISTORY, None).await;
    assert_eq!(status, 200);
    let ids: Vec<&Value> = data_of(&body).as_array().unwrap().iter().map(|e| &e["id"]).collect();
    assert_eq!(ids, [&rewatch["id"], &first["id"]], "newest first");
    assert_eq!(body["meta"]["historyWindowDays"], 90, "a free caller reads the window");
    let from = (Utc::now() - Duration::days(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, body) = app.as_user(&a, Method::GET, &format!("{HISTORY}?from={from}"), None).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "the date range filters");

    let old = (Utc::now() - Duration::days(120)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, body) = app.as_user(&a, Method::GET, &format!("{HISTORY}?from={old}"), None).await;
    assert_eq!((status, error_code(&body).as_str()), (403, "SUBSCRIPTION_REQUIRED"));
    assert_eq!(body["error"]["details"]["requiredTier"], "premium");

    let bad = json!({"contentId": f.breach, "completionPercentage": 101, "duration": -5, "context": {"season": "x"}});
    let (status, body) = app.as_user(&a, Method::POST, HISTORY, Some(bad)).await;
    assert_eq!(status, 400, "{body}");
    let mut fields = failing_fields(&body);
    fields.sort();
    assert_eq!(fields, ["completionPercentage", "context", "duration"]);

    let path = format!("{HISTORY}/{}", first["id"].as_str().unwrap());
    assert_eq!(app.as_user(&a, Method::DELETE, &path, None).await.0, 200);
    let (status, body) = app.as_user(&a, Method::DELETE, &path, None).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "HISTORY_ENTRY_NOT_FOUND"));
}

#[tokio::test]
async fn where_do_i_know_them_from() {
    let app = spawn_identity().await;
    let f = fixture(&app).await;
    let a = app.account("fan").await;
    app.watch(&a, &f.die_hard, 10).await;
    app.watch(&a, &f.breach, 2).await;
    app.watch(&a, &f.first_episode, 5).await;
    app.as_user(&a, Method::POST, WATCHLIST, Some(json!({"contentId": f.nine_yards, "status": "completed"}))).await;

    let (status, body) = app.as_user(&a, Method::GET, &format!("/api/v1/actors/{}/known-from", f.bruce), None).await;
    assert_eq!(status, 200, "{body}");
    let known = data_of(&body);
    let titles: Vec<&str> =
        known["items"].as_array().unwrap().iter().map(|i| i["content"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["The Whole Nine Yards", "Breach", "Die Hard"], "most recent first");
    assert_eq!(known["items"][1]["roleName"], "Clay");
    assert_eq!(known["items"][2]["creditOrder"], 1);
    assert_eq!(known["items"][1]["viewCount"], 1);
    assert!(known["items"][0]["lastViewedAt"].as_str().unwrap().ends_with('Z'));
    // Breach, Die Hard, The Whole Nine Yards and a Friends episode: three of four.
    assert_eq!((known["seenCount"].as_u64(), known["filmographyCount"].as_u64()), (Some(3), Some(4)));
    assert_eq!(known["share"], 0.75);

    // The guest episode: Bruce (its guest) and Matthew Perry (a regular of Friends, seen in The Whole Nine
    // Yards; the episode watched from the same series does not count as elsewhere).
    let path = format!("/api/v1/content/{}/familiar-faces", f.guest_episode);
    let (status, body) = app.as_user(&a, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    let faces = data_of(&body)["faces"].as_array().unwrap().clone();
    let names: Vec<&str> = faces.iter().map(|f| f["actorName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bruce Willis", "Matthew Perry"], "most titles seen first");
    assert_eq!((faces[0]["seenCount"].as_u64(), faces[0]["seriesRegular"].as_bool()), (Some(3), Some(false)));
    assert_eq!(faces[0]["roleName"], "Paul Stevens");
    assert_eq!(faces[0]["example"]["content"]["title"], "Die Hard", "top billed wins the example");
    assert_eq!((faces[0]["sameSeries"].as_bool(), faces[0]["sameSeriesCount"].as_u64()), (Some(false), Some(0)));
    let example = &faces[0]["example"];
    assert_eq!(
        (&example["seasonNumber"], &example["seriesTitle"], &example["sameSeries"]),
        (&json!(null), &json!(null), &json!(false))
    );
    assert_eq!(faces[1]["actorId"], f.perry.as_str());
    assert_eq!(faces[1]["seriesRegular"], true);
    assert_eq!(faces[1]["example"]["roleName"], "Oz");

    let (status, body) = app.as_user(&a, Method::GET, &format!("{STATS}?limit=2"), None).await;
    assert_eq!(status, 200, "{body}");
    let stats = data_of(&body);
    assert_eq!(stats["actors"][0]["actorName"], "Bruce Willis");
    assert_eq!(stats["actors"][0]["titlesSeen"], 3);
    assert_eq!(stats["actors"].as_array().unwrap().len(), 2);
    let (status, body) = app.as_user(&a, Method::GET, &format!("{STATS}?limit=500"), None).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["limit".to_owned()]));

    let unknown = uuid::Uuid::now_v7();
    let (status, body) = app.as_user(&a, Method::GET, &format!("/api/v1/actors/{unknown}/known-from"), None).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "ACTOR_NOT_FOUND"));
    let (status, body) = app.as_user(&a, Method::GET, &format!("/api/v1/content/{unknown}/familiar-faces"), None).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "CONTENT_NOT_FOUND"));
    let (status, body) = app.call(Method::GET, &path, None, None).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "UNAUTHORIZED"));

    // The catalogue down: these answer 503, but for familiar faces the library already holds (the casts it
    // keeps); the watchlist and history still answer.
    app.catalog_proxy.cut();
    let not_asked = format!("/api/v1/content/{}/familiar-faces", f.breach);
    for path in [format!("/api/v1/actors/{}/known-from", f.bruce), not_asked, STATS.to_owned()] {
        let (status, body) = app.as_user(&a, Method::GET, &path, None).await;
        assert_eq!((status, error_code(&body).as_str()), (503, "SERVICE_UNAVAILABLE"), "{path}");
    }
    let (status, body) = app.as_user(&a, Method::GET, &path, None).await;
    assert_eq!((status, data_of(&body)["faces"].as_array().map(Vec::len)), (200, Some(2)), "kept: {body}");
    assert_eq!(app.as_user(&a, Method::GET, WATCHLIST, None).await.0, 200);
    assert_eq!(app.as_user(&a, Method::GET, HISTORY, None).await.0, 200);
    app.catalog_proxy.restore();
}

#[tokio::test]
async fn familiar_faces_name_a_guest_back_from_an_earlier_episode() {
    let app = spawn_identity().await;
    let f = fixture(&app).await;
    // Three more Friends episodes (five in all) and a guest of S1E1 back in S6E22: two of five episodes.
    let mut contents = vec![];
    let mut episodes = vec![];
    for (imdb, season) in [("tt0583401", 2), ("tt0583402", 3), ("tt0583403", 4)] {
        contents.push(title(imdb, pb::ContentType::Episode, &format!("Filler {season}")));
        episodes.push(pb::EpisodeLinkInput {
            episode_imdb_id: imdb.into(),
            series_imdb_id: "tt0108778".into(),
            season_number: Some(season),
            episode_number: Some(1),
        });
    }
    let batch = pb::UpsertBatchRequest {
        contents,
        episodes,
        actors: vec![pb::ActorInput {
            imdb_id: "nm0001285".into(),
            name: "Elliott Gould".into(),
            professions: vec!["actor".into()],
            ..Default::default()
        }],
        credits: vec![
            credit("nm0001285", "tt0583459", "Jack Geller", 5),
            credit("nm0001285", "tt0583600", "Jack Geller", 6),
        ],
        ..Default::default()
    };
    let reply = app.catalog.clone().upsert_batch(batch).await.expect("upsert").into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
    let a = app.account("rewatcher").await;
    app.watch(&a, &f.first_episode, 3).await;

    let path = format!("/api/v1/content/{}/familiar-faces", f.guest_episode);
    let (status, body) = app.as_user(&a, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    let faces = data_of(&body)["faces"].as_array().unwrap().clone();
    // Matthew Perry, a regular credited on the series, never counts through its episodes.
    let names: Vec<&str> = faces.iter().map(|f| f["actorName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Elliott Gould"]);
    let gould = &faces[0];
    assert_eq!((gould["sameSeries"].as_bool(), gould["sameSeriesCount"].as_u64()), (Some(true), Some(1)));
    assert_eq!((gould["seenCount"].as_u64(), gould["seriesRegular"].as_bool()), (Some(1), Some(false)));
    let example = &gould["example"];
    assert_eq!(example["content"]["title"], "The One Where Monica Gets a Roommate");
    assert_eq!(example["content"]["contentType"], "episode");
    assert_eq!((example["seasonNumber"].as_i64(), example["episodeNumber"].as_i64()), (Some(1), Some(1)));
    assert_eq!((example["seriesTitle"].as_str(), example["sameSeries"].as_bool()), (Some("Friends"), Some(true)));
    assert_eq!(example["roleName"], "Jack Geller");

    // Known-from names the episode the same way, without a watched title to be the same series as.
    let gould_id = gould["actorId"].as_str().unwrap();
    let (status, body) = app.as_user(&a, Method::GET, &format!("/api/v1/actors/{gould_id}/known-from"), None).await;
    assert_eq!(status, 200, "{body}");
    let item = &data_of(&body)["items"][0];
    assert_eq!((item["seasonNumber"].as_i64(), item["episodeNumber"].as_i64()), (Some(1), Some(1)));
    assert_eq!((item["seriesTitle"].as_str(), item["sameSeries"].as_bool()), (Some("Friends"), Some(false)));
    let (_, body) = app.as_user(&a, Method::GET, &format!("/api/v1/content/{}/familiar-faces", f.breach), None).await;
    assert_eq!(data_of(&body)["faces"], json!([]), "nobody of Breach seen elsewhere");
}

#[tokio::test]
async fn one_users_token_never_reads_or_changes_anothers_library() {
    let app = spawn_identity().await;
    let f = fixture(&app).await;
    let (a, b) = (app.account("owner").await, app.account("intruder").await);
    app.as_user(&a, Method::POST, WATCHLIST, Some(json!({"contentId": f.breach}))).await;
    let (_, entry) = app.watch(&a, &f.die_hard, 1).await;
    let entry_id = entry["id"].as_str().unwrap();

    for path in [WATCHLIST, HISTORY, STATS] {
        let (status, body) = app.as_user(&b, Method::GET, path, None).await;
        assert_eq!(status, 200);
        let data = data_of(&body);
        let empty = data.as_array().map(Vec::is_empty).unwrap_or_else(|| data["actors"].as_array().unwrap().is_empty());
        assert!(empty, "{path}: {body}");
    }
    let (_, body) = app.as_user(&b, Method::GET, &format!("/api/v1/actors/{}/known-from", f.bruce), None).await;
    assert_eq!(data_of(&body)["seenCount"], 0);
    let path = format!("{WATCHLIST}/{}", f.breach);
    let (status, _) = app.as_user(&b, Method::PATCH, &path, Some(json!({"priority": 9}))).await;
    assert_eq!(status, 404);
    assert_eq!(app.as_user(&b, Method::DELETE, &path, None).await.0, 404);
    assert_eq!(app.as_user(&b, Method::DELETE, &format!("{HISTORY}/{entry_id}"), None).await.0, 404);
    let (_, body) = app.as_user(&b, Method::GET, "/api/v1/users/me/export", None).await;
    assert_eq!(data_of(&body)["library"], json!({"watchlist": [], "history": []}));

    // A's rows are untouched, are in A's export, and go with A's account.
    let (_, body) = app.as_user(&a, Method::GET, "/api/v1/users/me/export", None).await;
    let library = &data_of(&body)["library"];
    assert_eq!(
        (library["watchlist"][0]["priority"].as_i64(), library["history"][0]["id"].as_str()),
        (Some(0), Some(entry_id))
    );
    let (status, _) = app.as_user(&a, Method::DELETE, "/api/v1/users/me", Some(json!({"password": PASSWORD}))).await;
    assert_eq!(status, 200);
    let (status, body) = app.as_user(&a, Method::GET, WATCHLIST, None).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "INVALID_TOKEN"));
    // The intruder can add the same title: nothing of A's is left to clash with.
    let (status, _) = app.as_user(&b, Method::POST, WATCHLIST, Some(json!({"contentId": f.breach}))).await;
    assert_eq!(status, 201);
}
