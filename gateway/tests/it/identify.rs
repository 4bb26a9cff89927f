//! `GET /api/v1/identify` against the real catalogue: a misspelt title and free text, the validation envelope,
//! and 503 while the catalogue is down.

use iknow_proto::catalog::v1 as pb;

use crate::helpers::{data_of, error_code, failing_fields, spawn};

fn matrix() -> pb::UpsertBatchRequest {
    let person = |imdb: &str, name: &str| pb::ActorInput {
        imdb_id: imdb.into(),
        name: name.into(),
        professions: vec!["actor".into()],
        ..Default::default()
    };
    let credit = |actor: &str, character: &str, order: i32| pb::CreditInput {
        actor_imdb_id: actor.into(),
        content_imdb_id: "tt0133093".into(),
        category: "actor".into(),
        characters: vec![character.into()],
        credit_order: order,
    };
    pb::UpsertBatchRequest {
        contents: vec![pb::ContentInput {
            imdb_id: "tt0133093".into(),
            content_type: pb::ContentType::Movie.into(),
            title: "The Matrix".into(),
            original_title: "The Matrix".into(),
            year: Some(1999),
            ..Default::default()
        }],
        actors: vec![person("nm0000206", "Keanu Reeves"), person("nm0000401", "Laurence Fishburne")],
        credits: vec![credit("nm0000206", "Neo", 1), credit("nm0000401", "Morpheus", 2)],
        episodes: vec![],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_misspelt_title_and_free_text_find_the_actor() {
    let app = spawn().await;
    let reply = app.catalog.clone().upsert_batch(matrix()).await.unwrap().into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);

    let (status, body) = app.get_json("/api/v1/identify?title=the%20matrx&character=neo").await;
    assert_eq!(status, 200, "{body}");
    let first = &data_of(&body)[0];
    assert_eq!(first["actor"]["imdbId"], "nm0000206", "{body}");
    assert_eq!(first["actor"]["name"], "Keanu Reeves");
    assert!(first["actor"]["profileImageUrl"].is_null());
    assert_eq!(first["content"]["title"], "The Matrix");
    assert_eq!((first["content"]["type"].as_str(), first["content"]["year"].as_i64()), (Some("movie"), Some(1999)));
    assert_eq!(first["role"]["roleName"], "Neo");
    assert_eq!(first["role"]["creditOrder"], 1);
    assert_eq!(first["matchedBy"], "title_character");
    let confidence = first["confidence"].as_f64().unwrap();
    assert!(confidence > 0.5 && confidence < 1.0, "{confidence}");
    assert!(body["meta"]["searchTime"].is_number());
    assert!(body["meta"].get("interpretation").is_none(), "title mode: {body}");

    let (status, body) = app.get_json("/api/v1/identify?q=who+played+morpheus+in+the+matrix%3F").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body)[0]["actor"]["imdbId"], "nm0000401", "{body}");
    assert_eq!(data_of(&body)[0]["confidence"], 1.0);
    let read = &body["meta"]["interpretation"];
    assert_eq!((read["title"].as_str(), read["character"].as_str()), (Some("the matrix"), Some("morpheus")), "{body}");
    assert!(read["actorName"].is_null());

    let (status, body) = app.get_json("/api/v1/identify?q=keanu%20reves").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body)[0]["matchedBy"], "actor_name", "{body}");
    assert_eq!(body["meta"]["interpretation"]["actorName"], "keanu reves");

    let (status, body) = app.get_json("/api/v1/identify?title=nothing%20like%20it&character=nobody").await;
    assert_eq!((status, data_of(&body).as_array().map(Vec::len)), (200, Some(0)), "{body}");
}

#[tokio::test]
async fn every_invalid_parameter_is_listed_in_one_error() {
    let app = spawn().await;
    let (status, body) =
        app.get_json("/api/v1/identify?q=neo&title=matrix&year=1700&episode=x&limit=51&unknown=1").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "VALIDATION_ERROR"), "{body}");
    assert_eq!(failing_fields(&body), ["q", "title", "year", "episode", "limit"]);
    let (status, body) = app.get_json("/api/v1/identify").await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["q".to_string(), "title".to_string()]));
}

#[tokio::test]
async fn a_catalogue_that_is_down_is_503() {
    let app = spawn().await;
    app.catalog_proxy.cut();
    let started = std::time::Instant::now();
    let (status, body) = app.get_json("/api/v1/identify?title=the%20matrix&character=neo").await;
    assert_eq!((status, error_code(&body).as_str()), (503, "SERVICE_UNAVAILABLE"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_series_answers_with_its_aggregated_cast_and_identify_finds_its_episode_characters() {
    let app = spawn().await;
    app.seed().await;
    let (_, found) = app.get_json("/api/v1/content/search?q=friends&type=series").await;
    let friends = data_of(&found)[0]["id"].as_str().expect("Friends is found").to_owned();

    // The series page: Rachel is credited on an episode only, and is in the series' cast.
    let (status, body) = app.get_json(&format!("/api/v1/content/{friends}")).await;
    assert_eq!(status, 200, "{body}");
    let series = data_of(&body);
    assert_eq!((series["castTotal"].as_u64(), series["episodeCount"].as_u64()), (Some(1), Some(1)));
    let rachel = &series["cast"][0];
    assert_eq!(rachel["name"], "Jennifer Aniston");
    assert_eq!(rachel["characters"], serde_json::json!(["Rachel Green"]));
    assert_eq!((rachel["episodeCount"].as_u64(), rachel["seriesRegular"].as_bool()), (Some(1), Some(false)));
    assert_eq!(rachel["firstAppearance"]["title"], "The One Where Monica Gets a Roommate");
    assert_eq!(rachel["firstAppearance"]["seasonNumber"], 1);
    assert_eq!(rachel["lastAppearance"]["episodeNumber"], 1);

    // Pages of the cast, and their bounds.
    let (_, body) = app.get_json(&format!("/api/v1/content/{friends}?castLimit=1&castOffset=1")).await;
    assert_eq!(data_of(&body)["cast"].as_array().map(Vec::len), Some(0));
    assert_eq!(data_of(&body)["castTotal"], 1);
    let (status, body) = app.get_json(&format!("/api/v1/content/{friends}?castLimit=0&castOffset=-1")).await;
    assert_eq!((status, error_code(&body)), (400, "VALIDATION_ERROR".to_string()));
    assert_eq!(failing_fields(&body), ["castLimit", "castOffset"]);
    // A movie's cast has no episode counts.
    let (_, body) = app.get_json("/api/v1/content/search?q=die+hard").await;
    let die_hard = data_of(&body)[0]["id"].as_str().unwrap().to_owned();
    let (_, body) = app.get_json(&format!("/api/v1/content/{die_hard}")).await;
    assert!(data_of(&body)["cast"][0]["episodeCount"].is_null() && data_of(&body)["episodeCount"].is_null());

    // Identify by the series title finds the episode's character, with the episodes.
    let (status, body) = app.get_json("/api/v1/identify?title=frends&character=rachel").await;
    assert_eq!(status, 200, "{body}");
    let best = &data_of(&body)[0];
    assert_eq!(best["actor"]["name"], "Jennifer Aniston");
    assert_eq!(best["content"]["title"], "Friends");
    assert_eq!(best["role"]["roleName"], "Rachel Green");
    assert_eq!(best["role"]["episodeCount"], 1);
    assert_eq!(best["role"]["firstAppearance"]["title"], "The One Where Monica Gets a Roommate");
}
