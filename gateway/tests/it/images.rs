//! Photos and posters in three sizes on every actor-like and title-like object the API answers: TMDB URLs mapped
//! onto TMDB's size paths, other URLs as they are, null without an image.

use iknow_proto::catalog::v1 as pb;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, data_of, spawn_identity};

const TMDB: &str = "https://image.tmdb.org/t/p";
const HANKS: &str = "https://images.example.org/hanks.jpg";
const DIE_HARD: &str = "https://images.example.org/die-hard.jpg";

fn profile(file: &str) -> Value {
    json!({"small": format!("{TMDB}/w185/{file}"), "medium": format!("{TMDB}/h632/{file}"),
        "large": format!("{TMDB}/original/{file}")})
}

fn poster(file: &str) -> Value {
    json!({"small": format!("{TMDB}/w154/{file}"), "medium": format!("{TMDB}/w342/{file}"),
        "large": format!("{TMDB}/w780/{file}")})
}

fn same(url: &str) -> Value {
    json!({"small": url, "medium": url, "large": url})
}

/// What TMDB jobs write: Bruce Willis and Breach with TMDB images, Tom Hanks and Die Hard with other URLs.
async fn with_images(app: &TestApp) {
    let actor = |imdb: &str, name: &str, tmdb: i32, url: String| pb::ActorInput {
        imdb_id: imdb.into(),
        name: name.into(),
        tmdb_id: Some(tmdb),
        profile_image_url: Some(url),
        ..Default::default()
    };
    let title = |imdb: &str, name: &str, tmdb: i32, url: String| pb::ContentInput {
        imdb_id: imdb.into(),
        content_type: pb::ContentType::Movie.into(),
        title: name.into(),
        tmdb_id: Some(tmdb),
        poster_url: Some(url),
        ..Default::default()
    };
    let batch = pb::UpsertBatchRequest {
        actors: vec![
            actor("nm0000246", "Bruce Willis", 62, format!("{TMDB}/w500/bruce.jpg")),
            actor("nm0000158", "Tom Hanks", 31, HANKS.into()),
        ],
        contents: vec![
            title("tt9820556", "Breach", 653349, format!("{TMDB}/original/breach.jpg")),
            title("tt0095016", "Die Hard", 562, DIE_HARD.into()),
        ],
        source: pb::ScrapeSource::Api.into(),
        ..Default::default()
    };
    let reply = app.catalog.clone().upsert_batch(batch).await.expect("upsert").into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
}

#[tokio::test]
async fn catalogue_answers_carry_photos_and_posters_in_three_sizes() {
    let app = spawn_identity().await;
    let seeded = app.seed().await;
    with_images(&app).await;

    // Actors: search results and the actor page.
    let (status, body) = app.get_json("/api/v1/actors/search?q=bruce+willis").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body)[0]["photo"], profile("bruce.jpg"));
    let (_, body) = app.get_json(&format!("/api/v1/actors/{}", seeded.bruce_id)).await;
    let bruce = data_of(&body);
    assert_eq!(bruce["photo"], profile("bruce.jpg"));
    assert_eq!(bruce["photoUrl"], format!("{TMDB}/w500/bruce.jpg"), "the stored URL stays as it is");
    let (_, body) = app.get_json("/api/v1/actors/search?q=tom+hanks").await;
    assert_eq!(data_of(&body)[0]["photo"], same(HANKS), "another host: the URL in all three sizes");
    let (_, body) = app.get_json("/api/v1/actors/search?q=scarlett").await;
    let scarlett = &data_of(&body)[0];
    assert!(scarlett.get("photo").is_some_and(Value::is_null), "null, not missing: {scarlett}");

    // Titles: the page with its cast, and search results.
    let (status, body) = app.get_json(&format!("/api/v1/content/{}", seeded.breach_id)).await;
    assert_eq!(status, 200, "{body}");
    let breach = data_of(&body);
    assert_eq!(breach["poster"], poster("breach.jpg"));
    assert_eq!(breach["cast"][0]["name"], "Bruce Willis");
    assert_eq!(breach["cast"][0]["photo"], profile("bruce.jpg"));
    let (_, body) = app.get_json("/api/v1/content/search?q=die+hard").await;
    assert_eq!(data_of(&body)[0]["poster"], same(DIE_HARD));
    let (_, body) = app.get_json("/api/v1/content/search?q=cast+away").await;
    let cast_away = &data_of(&body)[0];
    assert!(cast_away.get("poster").is_some_and(Value::is_null), "null, not missing: {cast_away}");

    // Identification.
    let (status, body) = app.get_json("/api/v1/identify?title=breach&character=clay").await;
    assert_eq!(status, 200, "{body}");
    let best = &data_of(&body)[0]["actor"];
    assert_eq!((&best["name"], &best["photo"]), (&json!("Bruce Willis"), &profile("bruce.jpg")));

    // The document names the sizes.
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    let image = schemas["ImageSet"]["description"].as_str().expect("ImageSet is documented");
    for size in ["w185", "h632", "original", "w154", "w342", "w780"] {
        assert!(image.contains(size), "{size} in {image}");
    }
    for (schema, field) in [
        ("Actor", "photo"),
        ("ActorSummary", "photo"),
        ("CastMember", "photo"),
        ("IdentifiedActor", "photo"),
        ("Content", "poster"),
        ("ContentSummary", "poster"),
        ("LibraryTitle", "poster"),
        ("FamiliarFace", "photo"),
        ("ActorStat", "photo"),
    ] {
        let prop = &schemas[schema]["properties"][field];
        assert!(prop.to_string().contains("ImageSet"), "{schema}.{field}: {prop}");
        let required = schemas[schema]["required"].as_array().expect("required");
        assert!(required.contains(&json!(field)), "{schema}.{field} is required (null when none)");
    }
}

#[tokio::test]
async fn library_answers_carry_the_posters_and_photos_of_their_snapshots() {
    let app = spawn_identity().await;
    let seeded = app.seed().await;
    with_images(&app).await;
    let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
    let die_hard: String =
        sqlx::query_scalar("SELECT id::text FROM content WHERE imdb_id = 'tt0095016'").fetch_one(&pool).await.unwrap();
    pool.close().await;
    let fan = app.account("posterfan").await;
    let token = Some(fan.access.as_str());
    let (status, body) =
        app.call(Method::POST, "/api/v1/users/me/history", Some(json!({"contentId": die_hard})), token).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(data_of(&body)["content"]["poster"], same(DIE_HARD));
    let add = json!({"contentId": seeded.breach_id});
    let (status, body) = app.call(Method::POST, "/api/v1/users/me/watchlist", Some(add), token).await;
    assert_eq!(status, 201, "{body}");

    let (_, body) = app.call(Method::GET, "/api/v1/users/me/watchlist", None, token).await;
    assert_eq!(data_of(&body)[0]["content"]["poster"], poster("breach.jpg"));
    let (_, body) = app.call(Method::GET, "/api/v1/users/me/history", None, token).await;
    assert_eq!(data_of(&body)[0]["content"]["poster"], same(DIE_HARD));

    let path = format!("/api/v1/actors/{}/known-from", seeded.bruce_id);
    let (status, body) = app.call(Method::GET, &path, None, token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body)["items"][0]["content"]["poster"], same(DIE_HARD));

    // Bruce Willis in Breach, seen in Die Hard.
    let path = format!("/api/v1/content/{}/familiar-faces", seeded.breach_id);
    let (status, body) = app.call(Method::GET, &path, None, token).await;
    assert_eq!(status, 200, "{body}");
    let face = &data_of(&body)["faces"][0];
    assert_eq!((&face["actorName"], &face["photo"]), (&json!("Bruce Willis"), &profile("bruce.jpg")));
    assert_eq!(face["example"]["content"]["poster"], same(DIE_HARD));

    let (status, body) = app.call(Method::GET, "/api/v1/users/me/stats/actors", None, token).await;
    assert_eq!(status, 200, "{body}");
    let bruce = &data_of(&body)["actors"][0];
    assert_eq!((&bruce["actorName"], &bruce["photo"]), (&json!("Bruce Willis"), &profile("bruce.jpg")));
}
