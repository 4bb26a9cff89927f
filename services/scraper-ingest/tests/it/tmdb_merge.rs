//! TMDB jobs over rows an IMDb import wrote, and an IMDb import after them: each source changes only the
//! columns it owns, TMDB's photos, biographies, dates and overviews arrive, no credit is doubled, and a
//! re-run records the scrape without changing `updated_at`.

use chrono::{DateTime, NaiveDate, Utc};
use iknow_testkit::catalog::ActorRow;

use crate::helpers::*;
use crate::tmdb::{enqueue_person, enqueue_title, setup};

const HANKS: &str = "nm0000158";
const GUMP: &str = "tt0109830";

/// Tom Hanks in Forrest Gump as the IMDb dataset has them: other professions, known-for titles, genres and
/// character text than TMDB's.
fn dataset() -> TempDir {
    let dir = TempDir::new("merge");
    dir.write(
        "title.basics.tsv",
        &[TITLE_HEADER, "tt0109830\tmovie\tForrest Gump\tForrest Gump\t0\t1994\t\\N\t142\tDrama,Romance"],
    );
    dir.write(
        "name.basics.tsv",
        &[NAME_HEADER, "nm0000158\tTom Hanks\t1956\t\\N\tactor,producer,soundtrack\ttt0109830"],
    );
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER, "tt0109830\t1\tnm0000158\tactor\t\\N\t[\"Forrest\"]"]);
    dir
}

async fn hanks(catalog: &TestCatalog) -> ActorRow {
    ActorRow::fetch(&catalog.pool, HANKS).await
}

#[derive(Debug, sqlx::FromRow, PartialEq)]
struct Gump {
    title: String,
    genres: Vec<String>,
    tmdb_id: Option<i32>,
    overview: Option<String>,
    poster_url: Option<String>,
    has_poster: bool,
    has_overview: bool,
    has_complete_cast: bool,
    scrape_source: Option<String>,
    last_scraped_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

async fn gump(catalog: &TestCatalog) -> Gump {
    sqlx::query_as(
        "SELECT title, genres, tmdb_id, overview, poster_url, has_poster, has_overview, has_complete_cast, \
                scrape_source, last_scraped_at, updated_at FROM content WHERE imdb_id = $1",
    )
    .bind(GUMP)
    .fetch_one(&catalog.pool)
    .await
    .unwrap()
}

/// The characters of every credit of Tom Hanks in Forrest Gump.
async fn hanks_in_gump(catalog: &TestCatalog) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT f.role_name FROM filmography f JOIN actors a ON a.id = f.actor_id \
         JOIN content c ON c.id = f.content_id WHERE a.imdb_id = $1 AND c.imdb_id = $2",
    )
    .bind(HANKS)
    .bind(GUMP)
    .fetch_all(&catalog.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn tmdb_jobs_complete_imdb_rows_and_an_imdb_reimport_keeps_what_they_added() {
    let (env, _mock) = setup(|_| {}).await;
    let app = env.start().await;
    let dir = dataset();
    let job = app.enqueue(dir.path()).await;
    app.wait_for(&job.id, "succeeded", 60).await;
    let imdb = hanks(&env.catalog).await;
    assert_eq!(imdb.scrape_source.as_deref(), Some("scraper"));
    assert!(imdb.biography.is_none() && !imdb.has_bio && !imdb.has_valid_photo);

    // The person job: TMDB's columns arrive, IMDb's stay, and the Forrest Gump credit is not doubled.
    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(counts(file(&job, "tmdb actors")), (1, 1, 0, 0, 0));
    assert_eq!(counts(file(&job, "tmdb titles")), (4, 3, 0, 0, 1), "Forrest Gump gets a poster, two are new");
    assert_eq!(counts(file(&job, "tmdb credits")), (4, 2, 1, 0, 1), "Forrest Gump's credit is IMDb's");
    let tmdb = hanks(&env.catalog).await;
    assert_eq!((tmdb.name.as_str(), tmdb.birth_year), ("Tom Hanks", Some(1956)));
    assert_eq!(tmdb.professions, ["actor", "producer", "soundtrack"], "IMDb's professions, not TMDB's");
    assert_eq!(tmdb.known_for_imdb_ids, [GUMP], "IMDb's known-for titles, not TMDB's");
    assert_eq!(tmdb.tmdb_id, Some(31));
    assert_eq!(tmdb.birth_date, NaiveDate::from_ymd_opt(1956, 7, 9));
    assert_eq!(tmdb.biography.as_deref(), Some("Tom Hanks is an American actor."));
    assert_eq!(tmdb.profile_image_url.as_deref(), Some("https://image.tmdb.org/t/p/original/31.jpg"));
    assert!(tmdb.has_valid_photo && tmdb.has_birth_date && tmdb.has_bio);
    assert!(tmdb.has_complete_filmography, "every credit of the person was followed");
    assert_eq!(tmdb.scrape_source.as_deref(), Some("api"));
    assert!(tmdb.last_scraped_at > imdb.last_scraped_at);
    let title = gump(&env.catalog).await;
    assert_eq!((title.title.as_str(), title.genres.clone()), ("Forrest Gump", vec!["Drama".into(), "Romance".into()]));
    assert_eq!(title.tmdb_id, Some(13));
    assert_eq!(title.overview.as_deref(), Some("Forrest Gump, as TMDB tells it."));
    assert_eq!(title.poster_url.as_deref(), Some("https://image.tmdb.org/t/p/original/p.jpg"));
    assert!(title.has_poster && title.has_overview && !title.has_complete_cast, "a person job sends no whole cast");
    assert_eq!(hanks_in_gump(&env.catalog).await, ["Forrest"], "IMDb's credit, and only it");

    // The same job again changes nothing, but the scrape is recorded.
    let queued = enqueue_person(&app, 31, "").await;
    let job = app.wait_for(&queued.id, "succeeded", 60).await;
    assert_eq!(counts(file(&job, "tmdb actors")), (1, 0, 1, 0, 0));
    let (again, title_again) = (hanks(&env.catalog).await, gump(&env.catalog).await);
    assert_eq!((again.updated_at, title_again.updated_at), (tmdb.updated_at, title.updated_at));
    assert!(again.last_scraped_at > tmdb.last_scraped_at && title_again.last_scraped_at > title.last_scraped_at);

    // The title job sends the whole cast.
    let queued = enqueue_title(&app, 13, "").await;
    app.wait_for(&queued.id, "succeeded", 60).await;
    assert!(gump(&env.catalog).await.has_complete_cast);
    assert_eq!(hanks_in_gump(&env.catalog).await, ["Forrest"], "TMDB's \"Forrest Gump\" is no second credit");

    // IMDb again: nothing of it changed, and nothing TMDB added is lost.
    let before = (hanks(&env.catalog).await, gump(&env.catalog).await);
    let job = app.enqueue(dir.path()).await;
    let job = app.wait_for(&job.id, "succeeded", 60).await;
    assert_eq!(file(&job, "name.basics").written, 0);
    assert_eq!(file(&job, "title.basics").written, 0);
    let after = (hanks(&env.catalog).await, gump(&env.catalog).await);
    assert_eq!(after.1, before.1, "the title is untouched");
    assert_eq!(after.0.updated_at, before.0.updated_at);
    assert_eq!(after.0.biography, tmdb.biography);
    assert_eq!(after.0.profile_image_url, tmdb.profile_image_url);
    assert!(after.0.has_valid_photo && after.0.has_bio && after.0.has_complete_filmography);
    app.stop().await;
}
