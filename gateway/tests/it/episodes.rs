//! `GET /api/v1/content/{id}/episodes` against the bundled sample's Star Trek: The Original Series (79 episodes:
//! 29, 26 and 24 per season): order, season filter, pages and their links, and the refusals.

use std::collections::HashMap;

use iknow_proto::catalog::v1 as pb;
use iknow_testkit::dataset::sample_rows;
use serde_json::Value;

use crate::helpers::{TestApp, data_of, error_code, failing_fields, spawn};

const TOS: &str = "tt65100000";

fn year(raw: &str) -> Option<i32> {
    raw.parse().ok()
}

/// The series and its episodes from the sample files, written in reverse file order so that neither insertion
/// order nor id order is the episode order.
fn sample_series() -> pb::UpsertBatchRequest {
    let titles: HashMap<String, Vec<String>> =
        sample_rows("title.basics.tsv").into_iter().map(|r| (r[0].clone(), r)).collect();
    let links: Vec<Vec<String>> = sample_rows("title.episode.tsv").into_iter().filter(|r| r[1] == TOS).rev().collect();
    let title = |imdb: &str, kind: pb::ContentType| {
        let r = &titles[imdb];
        pb::ContentInput {
            imdb_id: imdb.into(),
            content_type: kind.into(),
            title: r[2].clone(),
            original_title: r[3].clone(),
            year: year(&r[5]),
            end_year: year(&r[6]),
            ..Default::default()
        }
    };
    let mut contents = vec![title(TOS, pb::ContentType::Series)];
    contents.extend(links.iter().map(|l| title(&l[0], pb::ContentType::Episode)));
    let episodes = links
        .iter()
        .map(|l| pb::EpisodeLinkInput {
            episode_imdb_id: l[0].clone(),
            series_imdb_id: TOS.into(),
            season_number: l[2].parse().ok(),
            episode_number: l[3].parse().ok(),
        })
        .collect();
    pb::UpsertBatchRequest { contents, episodes, ..Default::default() }
}

/// A gateway whose catalogue has the sample series (and the small sample: a movie, a series and an episode);
/// the series' id.
async fn with_series() -> (TestApp, String, crate::helpers::Seeded) {
    let app = spawn().await;
    let seeded = app.seed().await;
    let written = app.catalog.clone().upsert_batch(sample_series()).await.expect("upsert").into_inner();
    assert!(written.rejected.is_empty(), "{:?}", written.rejected);
    assert_eq!((written.contents_written, written.episodes_linked), (80, 79));
    let pool = sqlx::PgPool::connect(&app.db_url).await.expect("catalogue database");
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM content WHERE imdb_id = $1").bind(TOS).fetch_one(&pool).await.unwrap();
    pool.close().await;
    let id = id.to_string();
    (app, id, seeded)
}

/// (season, episode) of each listed episode.
fn numbers(data: &Value) -> Vec<(i64, i64)> {
    data.as_array()
        .unwrap()
        .iter()
        .map(|e| (e["seasonNumber"].as_i64().unwrap(), e["episodeNumber"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_series_lists_its_episodes_by_season_then_number_in_pages() {
    let (app, id, _) = with_series().await;
    let path = format!("/api/v1/content/{id}/episodes");

    let (status, body) = app.get_json(&path).await;
    assert_eq!(status, 200, "{body}");
    let data = data_of(&body);
    let all = numbers(data);
    assert_eq!(all.len(), 79, "the default page (100) holds every episode");
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(all, expected, "by season, then episode number");
    for (season, count) in [(1, 29), (2, 26), (3, 24)] {
        assert_eq!(all.iter().filter(|(s, _)| *s == season).count(), count, "season {season}");
    }
    let first = &data[0];
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, ["episodeNumber", "id", "imdbId", "poster", "posterUrl", "seasonNumber", "title", "year"]);
    assert_eq!(
        (&first["imdbId"], &first["title"], &first["year"], &first["posterUrl"], &first["poster"]),
        (&"tt65101001".into(), &"The Man Trap".into(), &1966.into(), &Value::Null, &Value::Null)
    );
    let (status, episode) = app.get_json(&format!("/api/v1/content/{}", first["id"].as_str().unwrap())).await;
    assert_eq!((status, &episode["data"]["parent"]["id"]), (200, &Value::from(id.as_str())), "the id is the episode's");
    let page = &body["pagination"];
    assert_eq!(
        (&page["total"], &page["limit"], &page["offset"], &page["hasMore"]),
        (&79.into(), &100.into(), &0.into(), &false.into())
    );

    let (status, body) = app.get_json(&format!("{path}?season=2")).await;
    assert_eq!(status, 200, "{body}");
    let season_two = numbers(data_of(&body));
    assert_eq!(season_two, (1..=26).map(|n| (2, n)).collect::<Vec<_>>());
    assert_eq!(body["pagination"]["total"], 26);

    // Following `nextPage` from the first page of 30 walks the whole list once, in order.
    let mut walked = Vec::new();
    let mut next = Some(format!("{path}?limit=30"));
    let mut pages = 0;
    while let Some(url) = next {
        let (status, body) = app.get_json(&url).await;
        assert_eq!(status, 200, "{url}: {body}");
        walked.extend(numbers(data_of(&body)));
        assert_eq!(body["pagination"]["total"], 79);
        next = body["pagination"]["nextPage"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert_eq!((pages, walked), (3, all));

    let (_, body) = app.get_json(&format!("{path}?season=3&limit=10&offset=20")).await;
    assert_eq!(numbers(data_of(&body)), (21..=24).map(|n| (3, n)).collect::<Vec<_>>());
    let page = &body["pagination"];
    assert_eq!((&page["total"], &page["hasMore"]), (&24.into(), &false.into()));
    assert!(page["nextPage"].is_null(), "{page}");
    assert_eq!(page["prevPage"], format!("{path}?season=3&limit=10&offset=10"));

    let (status, body) = app.get_json(&format!("{path}?season=4")).await;
    assert_eq!((status, data_of(&body).as_array().unwrap().len(), &body["pagination"]["total"]), (200, 0, &0.into()));
}

#[tokio::test]
async fn only_a_series_has_episodes_and_bad_requests_say_why() {
    let (app, id, seeded) = with_series().await;

    let (status, body) = app.get_json(&format!("/api/v1/content/{}/episodes", seeded.breach_id)).await;
    assert_eq!((status, error_code(&body)), (400, "NOT_A_SERIES".into()), "{body}");
    assert_eq!(body["error"]["message"], "\"Breach\" is a movie, not a series: only a series has episodes");
    let (status, body) = app.get_json(&format!("/api/v1/content/{}/episodes", seeded.episode_id)).await;
    assert_eq!((status, error_code(&body)), (400, "NOT_A_SERIES".into()), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is an episode"), "{body}");

    let (status, body) = app.get_json(&format!("/api/v1/content/{}/episodes", uuid::Uuid::now_v7())).await;
    assert_eq!((status, error_code(&body)), (404, "CONTENT_NOT_FOUND".into()), "{body}");
    let (status, body) = app.get_json("/api/v1/content/not-a-uuid/episodes").await;
    assert_eq!((status, error_code(&body), failing_fields(&body)), (400, "VALIDATION_ERROR".into(), vec!["id".into()]));

    let (status, body) = app.get_json(&format!("/api/v1/content/{id}/episodes?season=-1&limit=501&offset=x")).await;
    assert_eq!((status, error_code(&body)), (400, "VALIDATION_ERROR".into()));
    assert_eq!(failing_fields(&body), ["season", "limit", "offset"]);
    let (status, body) = app.get_json(&format!("/api/v1/content/{id}/episodes?limit=0")).await;
    assert_eq!((status, failing_fields(&body)), (400, vec!["limit".to_owned()]));
    let (status, body) = app.get_json(&format!("/api/v1/content/{id}/episodes?limit=500&offset=78")).await;
    assert_eq!((status, numbers(data_of(&body))), (200, vec![(3, 24)]));
}
