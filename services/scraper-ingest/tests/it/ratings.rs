//! The optional `title.ratings` and `title.akas` files of a queued import: imported after the titles, rows of
//! unknown titles and malformed lines reported with their lines, a second import unchanged, akas searchable.

use chrono::{DateTime, Utc};
use iknow_proto::catalog::v1::{SearchRequest, actor_catalog_client::ActorCatalogClient};

use crate::helpers::*;

use iknow_testkit::dataset::{AKA_HEADER, RATING_HEADER};

/// Two titles, one actor credited in both; no ratings or akas yet.
fn dataset() -> TempDir {
    let dir = TempDir::new("ingest");
    dir.write(
        "title.basics.tsv",
        &[
            TITLE_HEADER,
            "tt0120815\tmovie\tSaving Private Ryan\tSaving Private Ryan\t0\t1998\t\\N\t169\tDrama,War",
            "tt1375666\tmovie\tInception\tInception\t0\t2010\t\\N\t148\tAction,Sci-Fi",
        ],
    );
    dir.write("name.basics.tsv", &[NAME_HEADER, "nm0000158\tTom Hanks\t1956\t\\N\tactor\ttt0120815"]);
    dir.write(
        "title.principals.tsv",
        &[
            PRINCIPAL_HEADER,
            "tt0120815\t1\tnm0000158\tactor\t\\N\t[\"Captain Miller\"]",
            "tt1375666\t1\tnm0000158\tactor\t\\N\t[\"Nobody\"]",
        ],
    );
    dir
}

fn ratings(dir: &TempDir, inception: &str) {
    dir.write(
        "title.ratings.tsv",
        &[RATING_HEADER, "tt0120815\t8.6\t1500000", "tt0000009\t7.0\t10", &format!("tt1375666\t{inception}\t2400000")],
    );
}

fn akas(dir: &TempDir) {
    let lines = [
        AKA_HEADER,
        "tt0120815\t1\tDer Soldat James Ryan\tDE\t\\N\timdbDisplay\t\\N\t0",
        "tt0120815\t2\tIl faut sauver le soldat Ryan\tFR\t\\N\timdbDisplay\t\\N\t0",
        "tt0000009\t1\tNobody's Film\tDE\t\\N\t\\N\t\\N\t0",
        "tt1375666\t1\tOrigen\tES\t\\N\timdbDisplay\t\\N\t0",
        "tt1375666\t2\tInception\t\\N\t\\N\toriginal\t\\N\t1",
    ];
    dir.write_gz("title.akas.tsv.gz", format!("{}\n", lines.join("\n")).as_bytes());
}

async fn updated_at(catalog: &TestCatalog) -> Vec<(String, DateTime<Utc>)> {
    sqlx::query_as("SELECT imdb_id, updated_at FROM content ORDER BY 1").fetch_all(&catalog.pool).await.unwrap()
}

#[tokio::test]
async fn ratings_and_akas_import_after_the_titles_and_a_second_import_changes_nothing() {
    let dir = dataset();
    ratings(&dir, "8.8");
    akas(&dir);
    let env = Env::new().await;
    let app = env.start().await;
    let job = app.enqueue(dir.path()).await;
    let job = app.wait_for(&job.id, "succeeded", 60).await;

    let order: Vec<&str> = job.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(
        order,
        ["title.basics.tsv", "title.ratings.tsv", "title.akas.tsv.gz", "name.basics.tsv", "title.principals.tsv"]
    );
    let rated = file(&job, "title.ratings");
    assert_eq!(counts(rated), (3, 2, 0, 1, 0), "{rated:#?}");
    assert_eq!(rated.rejections.len(), 1);
    assert_eq!(rated.rejections[0].line, 3, "the header is line 1: {rated:#?}");
    assert!(rated.rejections[0].reason.contains("tt0000009: unknown title"), "{rated:#?}");
    let aka = file(&job, "title.akas");
    assert_eq!(counts(aka), (5, 4, 0, 1, 0), "{aka:#?}");
    assert_eq!(aka.rejections.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
    assert!(aka.rejections[0].reason.contains("tt0000009/1: unknown title"), "{aka:#?}");
    let stored: Vec<(String, Option<String>, Option<i32>)> =
        sqlx::query_as("SELECT imdb_id, rating::text, vote_count FROM content ORDER BY 1")
            .fetch_all(&env.catalog.pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        [
            ("tt0120815".to_string(), Some("8.6".to_string()), Some(1_500_000)),
            ("tt1375666".to_string(), Some("8.8".to_string()), Some(2_400_000)),
        ]
    );
    assert_eq!(env.catalog.count("content_akas").await, 4);

    // The German title finds the film through the catalogue's title search.
    let mut catalog = ActorCatalogClient::connect(env.catalog.url()).await.unwrap();
    let search = SearchRequest { query: "der soldat james ryan".into(), limit: 5, ..Default::default() };
    let found = catalog.search_content(search).await.unwrap().into_inner();
    let titles: Vec<&str> = found.contents.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Saving Private Ryan"]);
    assert_eq!(found.contents[0].rating, Some(8.6));

    let before = updated_at(&env.catalog).await;
    let again = app.enqueue(dir.path()).await;
    let again = app.wait_for(&again.id, "succeeded", 60).await;
    for f in &again.files {
        assert_eq!(f.written, 0, "a second import changes nothing: {f:#?}");
    }
    assert_eq!(counts(file(&again, "title.ratings")), (3, 0, 2, 1, 0));
    assert_eq!(counts(file(&again, "title.akas")), (5, 0, 4, 1, 0));
    assert_eq!(updated_at(&env.catalog).await, before, "no title was rewritten");

    // One changed rating rewrites exactly that title.
    ratings(&dir, "8.7");
    let changed = app.enqueue(dir.path()).await;
    let changed = app.wait_for(&changed.id, "succeeded", 60).await;
    assert_eq!(counts(file(&changed, "title.ratings")), (3, 1, 1, 1, 0));
    let after = updated_at(&env.catalog).await;
    let rewritten: Vec<&str> =
        before.iter().zip(&after).filter(|(b, a)| b.1 != a.1).map(|(b, _)| b.0.as_str()).collect();
    assert_eq!(rewritten, ["tt1375666"]);
    app.stop().await;
}

#[tokio::test]
async fn malformed_ratings_and_akas_lines_are_reported_with_their_line_numbers() {
    let dir = dataset();
    dir.write(
        "title.ratings.tsv",
        &[
            RATING_HEADER,
            "tt0120815\t8.6",
            "tt0120815\tgood\t10",
            "tt0120815\t11.0\t10",
            "tt0120815\t8.6\tmany",
            "tt1375666\t8.8\t2400000",
        ],
    );
    dir.write(
        "title.akas.tsv",
        &[
            AKA_HEADER,
            "tt0120815\t1\tDer Soldat James Ryan\tDE",
            "tt0120815\tfirst\tDer Soldat James Ryan\tDE\t\\N\t\\N\t\\N\t0",
            "tt0120815\t1\tDer Soldat James Ryan\tDE\t\\N\t\\N\t\\N\tyes",
            "tt0120815\t1\tDer Soldat James Ryan\tDE\t\\N\timdbDisplay\t\\N\t0",
        ],
    );
    let env = Env::new().await;
    let app = env.start().await;
    let job = app.enqueue(dir.path()).await;
    let job = app.wait_for(&job.id, "succeeded", 60).await;

    let rated = file(&job, "title.ratings");
    assert_eq!(counts(rated), (5, 1, 0, 4, 0), "{rated:#?}");
    let lines: Vec<(u64, &str)> = rated.rejections.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        lines,
        [
            (2, "expected 3 columns, found 2"),
            (3, "averageRating is not a number: \"good\""),
            (4, "averageRating is out of range: \"11.0\""),
            (5, "numVotes is not a number: \"many\""),
        ]
    );
    let aka = file(&job, "title.akas");
    assert_eq!(counts(aka), (4, 1, 0, 3, 0), "{aka:#?}");
    let lines: Vec<(u64, &str)> = aka.rejections.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        lines,
        [
            (2, "expected 8 columns, found 4"),
            (3, "ordering is not a number: \"first\""),
            (4, "isOriginalTitle is not a number: \"yes\""),
        ]
    );
    assert_eq!(env.catalog.count("content_akas").await, 1);
    app.stop().await;
}
