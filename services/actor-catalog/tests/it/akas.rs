//! IMDb ratings and alternate titles through `UpsertBatch`: written once, rejected for unknown titles, read
//! back on titles, and akas searchable.

use chrono::{DateTime, Utc};
use iknow_proto::catalog::v1::{AkaInput, GetContentRequest, RatingInput, SearchRequest, UpsertBatchRequest};

use crate::helpers::*;

fn rating(imdb: &str, average: f64, votes: u32) -> RatingInput {
    RatingInput { content_imdb_id: imdb.into(), average_rating: average, num_votes: votes }
}

fn aka(imdb: &str, ordering: i32, title: &str, region: &str) -> AkaInput {
    AkaInput {
        content_imdb_id: imdb.into(),
        ordering,
        title: title.into(),
        region: region.into(),
        types: vec!["imdbDisplay".into()],
        ..Default::default()
    }
}

async fn content_updated_at(app: &TestApp) -> Vec<(String, DateTime<Utc>)> {
    sqlx::query_as("SELECT imdb_id, updated_at FROM content ORDER BY 1").fetch_all(&app.pool).await.unwrap()
}

async fn rating_of(app: &mut TestApp, imdb: &str) -> (Option<f64>, Option<u32>) {
    let id = app.content_id(imdb).await.to_string();
    let c = app.client.get_content(GetContentRequest { id, ..Default::default() }).await.unwrap().into_inner();
    (c.rating, c.vote_count)
}

async fn titles_found(app: &mut TestApp, query: &str) -> Vec<String> {
    let search = SearchRequest { query: query.into(), limit: 10, ..Default::default() };
    let found = app.client.search_content(search).await.unwrap().into_inner();
    found.contents.into_iter().map(|c| c.title).collect()
}

#[tokio::test]
async fn ratings_are_written_once_read_back_and_unknown_or_invalid_ones_rejected() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    // Read (and cache) a title before it has a rating: the write must refresh it.
    assert_eq!(rating_of(&mut app, GUMP).await, (None, None));
    let ratings = || UpsertBatchRequest {
        ratings: vec![
            rating(GUMP, 8.8, 2_300_000),
            rating(MATRIX, 8.7, 2_100_000),
            rating("tt7777777", 5.0, 10),
            rating(BIG, 10.5, 3),
            rating(RYAN, 0.0, 0),
        ],
        ..Default::default()
    };
    let first = app.upsert(ratings()).await;
    assert_eq!(first.ratings_written, 3, "{first:?}");
    let rejected: Vec<(&str, &str, &str)> =
        first.rejected.iter().map(|r| (r.kind.as_str(), r.key.as_str(), r.reason.as_str())).collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].0, "rating");
    assert_eq!(rejected[0].1, BIG);
    assert!(rejected[0].2.contains("0..=10"), "{rejected:?}");
    assert_eq!(rejected[1], ("rating", "tt7777777", "unknown title"));
    assert_eq!(rating_of(&mut app, GUMP).await, (Some(8.8), Some(2_300_000)));
    assert_eq!(rating_of(&mut app, RYAN).await, (Some(0.0), Some(0)));
    assert_eq!(rating_of(&mut app, BIG).await, (None, None));
    let stored: String = sqlx::query_scalar("SELECT rating::text FROM content WHERE imdb_id = $1")
        .bind(MATRIX)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, "8.7", "NUMERIC(3,1), exact");

    let before = content_updated_at(&app).await;
    let again = app.upsert(ratings()).await;
    assert_eq!((again.ratings_written, again.rejected.len()), (0, 2));
    assert_eq!(content_updated_at(&app).await, before, "no row was rewritten");

    let mut changed = ratings();
    changed.ratings[1].average_rating = 8.6;
    let r = app.upsert(changed).await;
    assert_eq!(r.ratings_written, 1);
    let after = content_updated_at(&app).await;
    let rewritten: Vec<&str> =
        before.iter().zip(&after).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0.as_str()).collect();
    assert_eq!(rewritten, [MATRIX]);
    assert_eq!(rating_of(&mut app, MATRIX).await, (Some(8.6), Some(2_100_000)));
}

#[tokio::test]
async fn akas_are_searchable_written_once_and_unknown_titles_rejected() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    // Before the akas, no word of the German title but "ryan" names anything.
    assert!(titles_found(&mut app, "der soldat james").await.is_empty());
    let mut original = aka(RYAN, 1, "Saving Private Ryan", "");
    original.is_original = true;
    original.types = vec!["original".into()];
    let akas = || UpsertBatchRequest {
        akas: vec![
            original.clone(),
            aka(RYAN, 2, "Der Soldat James Ryan", "DE"),
            aka(RYAN, 3, "Il faut sauver le soldat Ryan", "FR"),
            aka(RYAN, 4, "Der Soldat James Ryan", "AT"),
            aka(INCEPTION, 1, "Origen", "ES"),
            aka("tt7777777", 1, "Nobody's Film", "DE"),
            aka(GUMP, 0, "Zero", "DE"),
        ],
        ..Default::default()
    };
    let first = app.upsert(akas()).await;
    assert_eq!(first.akas_written, 5, "{first:?}");
    let rejected: Vec<(&str, &str, &str)> =
        first.rejected.iter().map(|r| (r.kind.as_str(), r.key.as_str(), r.reason.as_str())).collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!((rejected[0].0, rejected[0].1), ("aka", "tt0109830/0"));
    assert_eq!(rejected[1], ("aka", "tt7777777/1", "unknown title"));
    let (types, original): (Vec<String>, bool) =
        sqlx::query_as("SELECT types, is_original FROM content_akas WHERE ordering = 1 AND title = $1")
            .bind("Saving Private Ryan")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((types, original), (vec!["original".to_string()], true));

    // Found by an aka, exactly and with a typo; the title it names is what search returns.
    for query in ["der soldat james ryan", "soldat jmes ryan", "origen", "sauver le soldat"] {
        let found = titles_found(&mut app, query).await;
        let expected = if query == "origen" { "Inception" } else { "Saving Private Ryan" };
        assert_eq!(found.first().map(String::as_str), Some(expected), "{query:?} gave {found:?}");
    }
    assert_eq!(titles_found(&mut app, "saving private ryan").await, ["Saving Private Ryan"]);

    let before = content_updated_at(&app).await;
    let again = app.upsert(akas()).await;
    assert_eq!((again.akas_written, again.rejected.len()), (0, 2));
    assert_eq!(content_updated_at(&app).await, before);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM content_akas").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 5);

    // A changed aka replaces the old one in search too.
    let mut changed = akas();
    changed.akas[2].title = "Salvate il soldato Ryan".into();
    changed.akas[2].region = "IT".into();
    assert_eq!(app.upsert(changed).await.akas_written, 1);
    assert_eq!(titles_found(&mut app, "salvate il soldato").await, ["Saving Private Ryan"]);
    assert!(titles_found(&mut app, "faut sauver").await.is_empty());
}
