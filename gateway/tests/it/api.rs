//! The read API end to end: actor and title pages, search tolerance, paging.

use serde_json::Value;

use crate::helpers::{data_of, error_code, spawn};

fn names(data: &Value) -> Vec<String> {
    data.as_array().expect("data is an array").iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn actor_page_has_every_field_and_filmography_newest_first() {
    let app = spawn().await;
    let seeded = app.seed().await;
    let (status, body) = app.get_json(&format!("/api/v1/actors/{}", seeded.bruce_id)).await;
    assert_eq!(status, 200, "{body}");
    let a = data_of(&body);
    assert_eq!(a["id"], seeded.bruce_id);
    assert_eq!(a["imdbId"], "nm0000246");
    assert_eq!(a["name"], "Bruce Willis");
    assert_eq!(a["birthYear"], 1955);
    // Absent values are null, never missing nor "".
    for key in ["deathYear", "birthDate", "deathDate", "bio", "photoUrl", "biography", "profileImageUrl"] {
        assert!(a.get(key).is_some_and(Value::is_null), "{key} is null in {a}");
    }
    assert_eq!(a["professions"], serde_json::json!(["actor"]));
    assert!(a["popularityScore"].is_number());
    for flag in ["hasValidPhoto", "hasCompleteFilmography", "hasBirthDate", "hasBio"] {
        assert!(a["quality"][flag].is_boolean(), "quality.{flag}");
    }
    assert!(a["createdAt"].is_string() && a["updatedAt"].is_string());
    // Written by a batch without a source: the scraper's, just now.
    assert_eq!(a["scrapeSource"], "scraper");
    let scraped = a["lastScrapedAt"].as_str().expect("lastScrapedAt");
    assert!(scraped.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(scraped).is_ok(), "{scraped}");
    assert_eq!(a["lastVerified"], a["lastScrapedAt"]);
    let known: Vec<&str> =
        a["knownForContent"].as_array().unwrap().iter().map(|k| k["imdbId"].as_str().unwrap()).collect();
    assert!(known.contains(&"tt9820556"), "{known:?}");
    for k in a["knownForContent"].as_array().unwrap() {
        for key in ["id", "imdbId", "title", "type", "year"] {
            assert!(k.get(key).is_some(), "knownForContent.{key}");
        }
    }
    let titles: Vec<&str> =
        a["knownForContent"].as_array().unwrap().iter().map(|k| k["title"].as_str().unwrap()).collect();
    assert_eq!(a["knownFor"], serde_json::json!(titles), "knownFor: the same titles, as strings");

    let films = a["filmography"].as_array().unwrap();
    let titles: Vec<&str> = films.iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Breach", "Die Hard"], "newest first");
    let breach = &films[0];
    assert_eq!(breach["contentId"], seeded.breach_id);
    assert_eq!(breach["imdbId"], "tt9820556");
    assert_eq!(breach["type"], "movie");
    assert_eq!(breach["year"], 2020);
    assert_eq!((&breach["isMainRole"], &breach["characterType"]), (&Value::Bool(true), &Value::from("lead")));
    assert!(breach["episodeCount"].is_null(), "a movie has no episode count");
    assert_eq!(breach["episodes"], serde_json::json!([]));
    // Deprecated, kept for one minor version: the same title as an object.
    assert_eq!(breach["content"]["id"], seeded.breach_id);
    assert_eq!(breach["content"]["imdbId"], "tt9820556");
    assert_eq!(breach["content"]["type"], "movie");
    assert_eq!(breach["content"]["year"], 2020);
    assert_eq!(breach["roleName"], "Clay");
    assert_eq!(breach["characters"], serde_json::json!(["Clay"]));
    assert_eq!(breach["category"], "actor");
    assert_eq!(breach["creditOrder"], 2);
}

#[tokio::test]
async fn unknown_ids_are_404_and_bad_ids_400() {
    let app = spawn().await;
    app.seed().await;
    let unknown = uuid::Uuid::now_v7();

    let (status, body) = app.get_json(&format!("/api/v1/actors/{unknown}")).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "ACTOR_NOT_FOUND"), "{body}");
    let (status, body) = app.get_json(&format!("/api/v1/content/{unknown}")).await;
    assert_eq!((status, error_code(&body).as_str()), (404, "CONTENT_NOT_FOUND"), "{body}");

    for path in ["/api/v1/actors/not-a-uuid", "/api/v1/content/12345"] {
        let (status, body) = app.get_json(path).await;
        assert_eq!((status, error_code(&body).as_str()), (400, "VALIDATION_ERROR"), "{path}: {body}");
        assert_eq!(crate::helpers::failing_fields(&body), ["id"]);
    }
}

#[tokio::test]
async fn content_pages_show_cast_and_episode_parent() {
    let app = spawn().await;
    let seeded = app.seed().await;

    let (status, body) = app.get_json(&format!("/api/v1/content/{}", seeded.breach_id)).await;
    assert_eq!(status, 200, "{body}");
    let c = data_of(&body);
    assert_eq!(c["title"], "Breach");
    // The catalogue keeps an original title only when it differs from the title.
    assert!(c["originalTitle"].is_null());
    assert_eq!(c["type"], "movie");
    assert_eq!(c["year"], 2020);
    assert_eq!(c["runtimeMinutes"], 100);
    assert_eq!(c["genres"], serde_json::json!(["Action", "Horror", "Sci-Fi"]));
    assert_eq!(c["isAdult"], false);
    for key in ["endYear", "overview", "posterUrl", "parent", "seasonNumber", "episodeNumber", "rating", "voteCount"] {
        assert!(c.get(key).is_some_and(Value::is_null), "{key} is null in {c}");
    }
    for flag in ["hasPoster", "hasOverview", "hasCompleteCast", "hasReleaseDate"] {
        assert!(c["quality"][flag].is_boolean(), "quality.{flag}");
    }
    assert_eq!(c["quality"]["hasReleaseDate"], true);
    assert_eq!(c["scrapeSource"], "scraper");
    assert!(c["lastScrapedAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{c}");
    let cast = c["cast"].as_array().unwrap();
    assert_eq!(cast.len(), 1);
    assert_eq!(cast[0]["actorId"], seeded.bruce_id);
    assert_eq!(cast[0]["actorImdbId"], "nm0000246");
    assert_eq!(cast[0]["name"], "Bruce Willis");
    assert_eq!(cast[0]["roleName"], "Clay");
    assert_eq!(cast[0]["category"], "actor");
    assert_eq!(cast[0]["creditOrder"], 2);
    assert!(cast[0]["profileImageUrl"].is_null());

    let (status, body) = app.get_json(&format!("/api/v1/content/{}", seeded.episode_id)).await;
    assert_eq!(status, 200, "{body}");
    let e = data_of(&body);
    assert_eq!(e["type"], "episode");
    assert_eq!(e["parent"]["title"], "Friends");
    assert_eq!(e["parent"]["type"], "series");
    assert_eq!(e["parent"]["imdbId"], "tt0108778");
    assert_eq!((e["seasonNumber"].as_i64(), e["episodeNumber"].as_i64()), (Some(1), Some(1)));
}

#[tokio::test]
async fn actor_search_tolerates_typos_accents_word_order_and_prefixes() {
    let app = spawn().await;
    app.seed().await;
    for (q, expected) in [
        ("tom%20hnks", "Tom Hanks"),
        ("penelope%20cruz", "Penélope Cruz"),
        ("johansson%20scarlett", "Scarlett Johansson"),
        ("scarl", "Scarlett Johansson"),
        ("bruce%20wilis", "Bruce Willis"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/actors/search?q={q}")).await;
        assert_eq!(status, 200, "{q}: {body}");
        let data = data_of(&body);
        assert_eq!(names(data).first().map(String::as_str), Some(expected), "{q}: {body}");
        assert!(data[0].get("filmography").is_none(), "search results carry no filmography");
        assert!(body["meta"]["searchTime"].is_number());
    }
}

#[tokio::test]
async fn search_filters_by_type_and_year() {
    let app = spawn().await;
    app.seed().await;
    let (_, body) = app.get_json("/api/v1/content/search?q=one%20where%20monica&type=episode").await;
    let data = data_of(&body).as_array().unwrap().clone();
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(data[0]["type"], "episode");
    assert!(data[0].get("cast").is_none(), "search results carry no cast");
    let (_, body) = app.get_json("/api/v1/content/search?q=one%20where%20monica&type=movie").await;
    assert_eq!(data_of(&body).as_array().unwrap().len(), 0, "{body}");

    // A rated title carries IMDb's rating and votes in search results too.
    let (_, body) = app.get_json("/api/v1/content/search?q=die%20hard&type=movie").await;
    let hit = &data_of(&body)[0];
    assert_eq!(
        (hit["title"].as_str(), hit["rating"].as_f64(), hit["voteCount"].as_u64()),
        (Some("Die Hard"), Some(8.2), Some(950_000)),
        "{body}"
    );

    let (_, body) = app.get_json("/api/v1/actors/search?q=tom&year=2010").await;
    assert_eq!(names(data_of(&body)), ["Tom Hardy"], "{body}");
}

#[tokio::test]
async fn pagination_links_and_edges() {
    let app = spawn().await;
    app.seed().await;

    let (status, body) = app.get_json("/api/v1/actors/search?q=tom&limit=1").await;
    assert_eq!(status, 200, "{body}");
    let p = &body["pagination"];
    assert_eq!((p["total"].as_u64(), p["limit"].as_u64(), p["offset"].as_u64()), (Some(2), Some(1), Some(0)));
    assert_eq!(p["hasMore"], true);
    assert_eq!(p["nextPage"], "/api/v1/actors/search?q=tom&limit=1&offset=1");
    assert!(p.get("prevPage").is_none(), "no previous page on the first: {p}");
    assert_eq!(data_of(&body).as_array().unwrap().len(), 1);

    let (_, body) = app.get_json("/api/v1/actors/search?q=tom&limit=1&offset=1").await;
    let p = &body["pagination"];
    assert_eq!(p["hasMore"], false);
    assert!(p.get("nextPage").is_none(), "no next page on the last: {p}");
    assert_eq!(p["prevPage"], "/api/v1/actors/search?q=tom&limit=1&offset=0");

    // The next page link really is the next page.
    let (_, first) = app.get_json("/api/v1/actors/search?q=tom&limit=1").await;
    let (_, second) = app.get_json(first["pagination"]["nextPage"].as_str().unwrap()).await;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);

    let (status, body) = app.get_json("/api/v1/actors/search?q=tom&offset=50").await;
    assert_eq!(status, 200);
    assert_eq!(data_of(&body).as_array().unwrap().len(), 0);
    assert_eq!(body["pagination"]["hasMore"], false);
    assert_eq!(body["pagination"]["total"], 2);
    assert!(body["pagination"].get("nextPage").is_none());

    let (_, body) = app.get_json("/api/v1/content/search?q=breach&sortBy=year&sortOrder=asc").await;
    assert_eq!(body["pagination"]["total"], 1, "{body}");
    assert_eq!(body["data"][0]["title"], "Breach");
}
