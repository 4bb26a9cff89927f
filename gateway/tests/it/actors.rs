//! The actor contract in the seed's names (with the deprecated aliases documented), and filmography entries with
//! the seed's flat fields: a series with its episodes is one entry, and the lead / supporting / cameo rule.

use iknow_proto::catalog::v1 as pb;
use serde_json::{Value, json};

use crate::helpers::{credit, data_of, spawn};

const BIO: &str = "An actress best known for Friends.";
const PHOTO: &str = "https://images.example.org/aniston.jpg";

#[tokio::test]
async fn actors_speak_the_seed_names_and_keep_the_old_ones_as_documented_aliases() {
    let app = spawn().await;
    app.seed().await;
    // What a TMDB person job writes: the full birth date, a biography and a portrait.
    let tmdb = pb::UpsertBatchRequest {
        actors: vec![pb::ActorInput {
            imdb_id: "nm0000098".into(),
            name: "Jennifer Aniston".into(),
            tmdb_id: Some(4491),
            birth_date: Some("1969-02-11".into()),
            biography: Some(BIO.into()),
            profile_image_url: Some(PHOTO.into()),
            ..Default::default()
        }],
        source: pb::ScrapeSource::Api.into(),
        ..Default::default()
    };
    let reply = app.catalog.clone().upsert_batch(tmdb).await.expect("upsert").into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);

    let (status, body) = app.get_json("/api/v1/actors/search?q=jennifer+aniston").await;
    assert_eq!(status, 200, "{body}");
    let found = &data_of(&body)[0];
    let (status, body) = app.get_json(&format!("/api/v1/actors/{}", found["id"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{body}");
    let page = data_of(&body);
    for a in [found, page] {
        assert_eq!(a["name"], "Jennifer Aniston");
        assert_eq!((&a["bio"], &a["photoUrl"]), (&json!(BIO), &json!(PHOTO)));
        assert_eq!((&a["biography"], &a["profileImageUrl"]), (&a["bio"], &a["photoUrl"]), "deprecated aliases");
        assert_eq!((&a["birthDate"], &a["birthYear"]), (&json!("1969-02-11"), &json!(1969)));
        assert!(a["deathDate"].is_null() && a["deathYear"].is_null());
        let verified = a["lastVerified"].as_str().expect("lastVerified");
        assert!(verified.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(verified).is_ok(), "{verified}");
        assert_eq!(a["lastVerified"], a["lastScrapedAt"]);
        assert_eq!(a["knownFor"], json!(["Friends"]), "titles, as the seed has them");
        assert_eq!(a["knownForContent"][0]["imdbId"], "tt0108778");
        assert_eq!(a["knownForContent"][0]["type"], "series");
    }

    // Only the year known: birthYear, and a null birthDate.
    let (_, body) = app.get_json("/api/v1/actors/search?q=tom+hanks").await;
    let hanks = &data_of(&body)[0];
    assert_eq!((&hanks["birthYear"], &hanks["birthDate"]), (&json!(1956), &Value::Null));

    // The document says which names are deprecated, and what replaces them.
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    for schema in ["Actor", "ActorSummary"] {
        let props = &schemas[schema]["properties"];
        for old in ["biography", "profileImageUrl"] {
            assert_eq!(props[old]["deprecated"], true, "{schema}.{old}");
            assert!(props[old]["description"].as_str().unwrap().contains("Deprecated"), "{schema}.{old}");
        }
        for new in ["bio", "photoUrl", "birthDate", "lastVerified", "knownFor", "knownForContent"] {
            assert!(props[new].is_object() && props[new].get("deprecated").is_none(), "{schema}.{new}");
        }
        assert_eq!(props["knownFor"]["items"]["type"], "string", "{schema}.knownFor");
        assert!(props["lastVerified"]["description"].as_str().unwrap().contains("lastScrapedAt"));
    }
    let entry = &schemas["FilmographyEntry"]["properties"];
    assert_eq!(entry["content"]["deprecated"], true);
    let rule = entry["characterType"]["description"].as_str().expect("the rule is documented");
    assert!(rule.contains("billing") && rule.contains("episodes"), "{rule}");
}

const SHOW: &str = "tt9200000";
const FILM: &str = "tt9200999";
const RITA: &str = "nm9200001";
const RHEA: &str = "nm9200002";
const GUS: &str = "nm9200003";
const SELF: &str = "nm9200004";

fn episode_imdb(season: i32, n: i32) -> String {
    format!("tt92{season:02}{n:03}")
}

/// A series of 2 seasons × 6 episodes (1990; episodes of 1990 and 2011), a film of 2000, and four people:
/// Rita on the series title (billed first) and on 8 episodes, Rhea on 3 episodes, Gus on one episode and billed
/// second in the film, and someone appearing as themselves in the film.
fn long_show() -> pb::UpsertBatchRequest {
    let title = |imdb: &str, kind: pb::ContentType, name: &str, year: i32| pb::ContentInput {
        imdb_id: imdb.into(),
        content_type: kind.into(),
        title: name.into(),
        year: Some(year),
        ..Default::default()
    };
    let mut contents = vec![
        title(SHOW, pb::ContentType::Series, "The Long Show", 1990),
        title(FILM, pb::ContentType::Movie, "A Film", 2000),
    ];
    let mut episodes = vec![];
    for season in 1..=2 {
        for n in 1..=6 {
            let imdb = episode_imdb(season, n);
            let year = if season == 1 { 1990 } else { 2011 };
            contents.push(title(&imdb, pb::ContentType::Episode, &format!("Chapter {season}.{n}"), year));
            episodes.push(pb::EpisodeLinkInput {
                episode_imdb_id: imdb,
                series_imdb_id: SHOW.into(),
                season_number: Some(season),
                episode_number: Some(n),
            });
        }
    }
    let person = |imdb: &str, name: &str| pb::ActorInput {
        imdb_id: imdb.into(),
        name: name.into(),
        professions: vec!["actor".into()],
        ..Default::default()
    };
    let mut credits = vec![credit(RITA, SHOW, "actress", "Rita", 1)];
    // Rita: S2E4..S2E6 first, to show the episodes come back in season and episode order.
    for (season, n) in [(2, 4), (2, 5), (2, 6), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5)] {
        credits.push(credit(RITA, &episode_imdb(season, n), "actress", "Rita", 1));
    }
    for n in [2, 3, 4] {
        credits.push(credit(RHEA, &episode_imdb(1, n), "actress", "Nurse Rhea", 6));
    }
    credits.push(credit(GUS, &episode_imdb(2, 3), "actor", "Innkeeper", 4));
    credits.push(credit(GUS, FILM, "actor", "Clerk", 2));
    credits.push(credit(SELF, FILM, "self", "Himself", 5));
    pb::UpsertBatchRequest {
        actors: vec![
            person(RITA, "Rita Regular"),
            person(RHEA, "Rhea Recurring"),
            person(GUS, "Gus Guest"),
            person(SELF, "Sam Self"),
        ],
        contents,
        credits,
        episodes,
        ..Default::default()
    }
}

async fn filmography(app: &crate::helpers::TestApp, imdb: &str) -> Vec<Value> {
    let pool = sqlx::PgPool::connect(&app.db_url).await.expect("catalogue database");
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM actors WHERE imdb_id = $1").bind(imdb).fetch_one(&pool).await.unwrap();
    pool.close().await;
    let (status, body) = app.get_json(&format!("/api/v1/actors/{id}")).await;
    assert_eq!(status, 200, "{body}");
    data_of(&body)["filmography"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_actor_on_many_episodes_of_a_series_has_one_entry_that_counts_and_lists_them() {
    let app = spawn().await;
    let reply = app.catalog.clone().upsert_batch(long_show()).await.expect("upsert").into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);

    let rita = filmography(&app, RITA).await;
    assert_eq!(rita.len(), 1, "the series title and 8 episodes are one entry: {rita:?}");
    let show = &rita[0];
    assert_eq!(
        (&show["title"], &show["type"], &show["year"]),
        (&json!("The Long Show"), &json!("series"), &json!(1990))
    );
    assert_eq!(
        (&show["roleName"], &show["episodeCount"], &show["creditOrder"]),
        (&json!("Rita"), &json!(8), &json!(1))
    );
    assert_eq!(show["content"]["id"], show["contentId"], "the deprecated object names the same series");
    let episodes = show["episodes"].as_array().unwrap();
    assert_eq!(episodes.len(), 8);
    let numbers: Vec<(i64, i64)> =
        episodes.iter().map(|e| (e["seasonNumber"].as_i64().unwrap(), e["episodeNumber"].as_i64().unwrap())).collect();
    assert_eq!(numbers, [(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 4), (2, 5), (2, 6)]);
    let first = &episodes[0];
    assert_eq!(
        (&first["title"], &first["year"], &first["roleName"]),
        (&json!("Chapter 1.1"), &json!(1990), &json!("Rita"))
    );
    // Reachable: each episode is a title page naming its series.
    let (status, body) = app.get_json(&format!("/api/v1/content/{}", first["contentId"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data_of(&body)["type"], "episode");
    assert_eq!(data_of(&body)["parent"]["id"], show["contentId"]);

    // Without a credit on the series title: the episodes alone make the entry.
    let rhea = filmography(&app, RHEA).await;
    assert_eq!(rhea.len(), 1, "{rhea:?}");
    assert_eq!((&rhea[0]["contentId"], &rhea[0]["episodeCount"]), (&show["contentId"], &json!(3)));
    assert_eq!(rhea[0]["creditOrder"], 6, "the best billing of the episodes");

    // Newest first by the series' year (1990), not by its episodes' (2011).
    let gus = filmography(&app, GUS).await;
    let titles: Vec<&str> = gus.iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["A Film", "The Long Show"]);
    assert_eq!(gus[1]["episodes"][0]["title"], "Chapter 2.3");
}

#[tokio::test]
async fn character_type_follows_billing_and_episode_share() {
    let app = spawn().await;
    let reply = app.catalog.clone().upsert_batch(long_show()).await.expect("upsert").into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
    let kind = |f: &Value| (f["characterType"].as_str().unwrap().to_owned(), f["isMainRole"].as_bool().unwrap());

    // Billed first on the series title, and in 8 of its 12 episodes.
    assert_eq!(kind(&filmography(&app, RITA).await[0]), ("lead".into(), true));
    // In 3 of 12 episodes.
    assert_eq!(kind(&filmography(&app, RHEA).await[0]), ("supporting".into(), false));
    // Billed second in a film; one episode of a 12-episode series.
    let gus = filmography(&app, GUS).await;
    assert_eq!(kind(&gus[0]), ("lead".into(), true));
    assert_eq!(kind(&gus[1]), ("cameo".into(), false));
    // As themselves.
    let sam = filmography(&app, SELF).await;
    assert_eq!((kind(&sam[0]), &sam[0]["category"]), (("cameo".into(), false), &json!("self")));
}
