//! Batches from different sources: what a TMDB (api) batch may change on IMDb (scraper) rows and back, the
//! quality flags, scrape source and scrape time, per-row validation of dates and URLs, and popularity.

use chrono::{DateTime, Utc};
use iknow_proto::catalog::v1::{
    ActorInput, ContentInput, ContentType, GetActorRequest, GetContentRequest, ScrapeSource, UpsertBatchRequest,
};
use iknow_testkit::catalog::ActorRow;
use uuid::Uuid;

use crate::helpers::*;

const BIO: &str = "Thomas Jeffrey Hanks is an American actor and filmmaker.";
const PHOTO: &str = "https://image.tmdb.org/t/p/original/xndWFsBlClOJFRdhSt4NBwiPq2o.jpg";
const POSTER: &str = "https://image.tmdb.org/t/p/original/arw2vcBveWOVZr6pxd9XTd1TdQa.jpg";

/// Tom Hanks and Forrest Gump as the TMDB person job sends them: another spelling of the name, a birth year
/// IMDb does not have, other character text, and a credit IMDb has not got.
fn tmdb_hanks() -> UpsertBatchRequest {
    UpsertBatchRequest {
        source: ScrapeSource::Api.into(),
        actors: vec![ActorInput {
            imdb_id: HANKS.into(),
            name: "Thomas Hanks".into(),
            birth_year: Some(1957),
            professions: vec!["actor".into()],
            tmdb_id: Some(31),
            birth_date: Some("1956-07-09".into()),
            biography: Some(format!("  {BIO}\n")),
            profile_image_url: Some(PHOTO.into()),
            complete_filmography: true,
            ..Default::default()
        }],
        contents: vec![
            ContentInput {
                imdb_id: GUMP.into(),
                content_type: ContentType::Movie.into(),
                title: "Forrest Gump (TMDB)".into(),
                year: Some(1995),
                runtime_minutes: Some(142),
                tmdb_id: Some(13),
                overview: Some("A man with a low IQ has accomplished great things.".into()),
                poster_url: Some(POSTER.into()),
                complete_cast: true,
                ..Default::default()
            },
            ContentInput {
                tmdb_id: Some(8358),
                overview: Some("A FedEx executive is stranded on an island.".into()),
                ..content("tt0162222", ContentType::Movie, "Cast Away", 2000)
            },
        ],
        credits: vec![
            credit(HANKS, GUMP, &["Forrest"], 1),
            credit(HANKS, GUMP, &["Forrest Gump (young)"], 7),
            credit(HANKS, "tt0162222", &["Chuck Noland"], 1),
        ],
        ..Default::default()
    }
}

/// (title, release year, overview, poster, has_poster, has_overview, has_complete_cast, scrape_source,
/// last_scraped_at, updated_at) of a title.
type ContentState = (
    String,
    Option<i16>,
    Option<String>,
    Option<String>,
    bool,
    bool,
    bool,
    Option<String>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

async fn content_state(app: &TestApp, imdb: &str) -> ContentState {
    sqlx::query_as(
        "SELECT title, release_year, overview, poster_url, has_poster, has_overview, has_complete_cast, \
                scrape_source, last_scraped_at, updated_at FROM content WHERE imdb_id = $1",
    )
    .bind(imdb)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn roles(app: &TestApp, actor: &str, title: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT f.role_name FROM filmography f JOIN actors a ON a.id = f.actor_id \
         JOIN content c ON c.id = f.content_id WHERE a.imdb_id = $1 AND c.imdb_id = $2 ORDER BY 1",
    )
    .bind(actor)
    .bind(title)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_tmdb_batch_adds_photos_bios_and_dates_to_imdb_rows_without_overwriting_them() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let imdb = ActorRow::fetch(&app.pool, HANKS).await;
    assert_eq!(imdb.scrape_source.as_deref(), Some("scraper"));
    assert!(imdb.last_scraped_at.is_some());
    assert!(!imdb.has_bio && !imdb.has_valid_photo && !imdb.has_birth_date && !imdb.has_complete_filmography);

    let r = app.upsert(tmdb_hanks()).await;
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!((r.actors_written, r.contents_written), (1, 2));
    assert_eq!(r.credits_written, 1, "only Cast Away is new: Hanks already has a Forrest Gump credit");

    let hanks = ActorRow::fetch(&app.pool, HANKS).await;
    assert_eq!((hanks.name.as_str(), hanks.birth_year), ("Tom Hanks", Some(1956)), "IMDb's name and year stay");
    assert_eq!(hanks.tmdb_id, Some(31));
    assert_eq!(hanks.birth_date, chrono::NaiveDate::from_ymd_opt(1956, 7, 9));
    assert_eq!(hanks.biography.as_deref(), Some(BIO), "trimmed");
    assert_eq!(hanks.profile_image_url.as_deref(), Some(PHOTO));
    assert!(hanks.has_valid_photo && hanks.has_birth_date && hanks.has_bio && hanks.has_complete_filmography);
    assert_eq!(hanks.scrape_source.as_deref(), Some("api"));
    assert!(hanks.last_scraped_at > imdb.last_scraped_at && hanks.updated_at > imdb.updated_at);

    let gump = content_state(&app, GUMP).await;
    assert_eq!((gump.0.as_str(), gump.1), ("Forrest Gump", Some(1994)), "IMDb's title and year stay");
    assert!(gump.2.is_some() && gump.3.as_deref() == Some(POSTER));
    assert!(gump.4 && gump.5 && gump.6, "poster, overview and complete cast");
    assert_eq!(gump.7.as_deref(), Some("api"));
    let cast_away = content_state(&app, "tt0162222").await;
    assert_eq!(cast_away.7.as_deref(), Some("api"), "created by the api batch");
    assert!(cast_away.5 && !cast_away.4, "an overview, no poster");

    assert_eq!(roles(&app, HANKS, GUMP).await, ["Forrest Gump"], "no second credit for the same actor and title");
    assert_eq!(roles(&app, HANKS, "tt0162222").await, ["Chuck Noland"]);

    // The reads carry it all.
    let id = app.actor_id(HANKS).await;
    let actor = app.client.get_actor(GetActorRequest { id: id.to_string() }).await.unwrap().into_inner();
    assert_eq!((actor.biography.as_str(), actor.profile_image_url.as_str()), (BIO, PHOTO));
    let quality = actor.quality.unwrap();
    assert!(quality.has_bio && quality.has_valid_photo && quality.has_birth_date && quality.has_complete_filmography);
    assert_eq!(actor.scrape_source, "api");
    assert_eq!(DateTime::parse_from_rfc3339(&actor.last_scraped_at).unwrap(), hanks.last_scraped_at.unwrap());
    let id = app.content_id(GUMP).await;
    let title = app
        .client
        .get_content(GetContentRequest { id: id.to_string(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(title.poster_url, POSTER);
    assert!(title.overview.starts_with("A man"));
    assert!(title.quality.unwrap().has_complete_cast);
    let hanks_in_cast = title.cast.iter().find(|m| m.actor_imdb_id == HANKS).unwrap();
    assert_eq!(hanks_in_cast.profile_image_url, PHOTO, "the cast shows the actor's new photo");
}

#[tokio::test]
async fn a_tmdb_rerun_changes_no_updated_at_but_records_the_scrape() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    app.upsert(tmdb_hanks()).await;
    let (hanks, gump, ryan) =
        (ActorRow::fetch(&app.pool, HANKS).await, content_state(&app, GUMP).await, content_state(&app, RYAN).await);
    // Read once, so both cache tiers hold the actor.
    let id = app.actor_id(HANKS).await.to_string();
    let cached = app.client.get_actor(GetActorRequest { id: id.clone() }).await.unwrap().into_inner();

    let again = app.upsert(tmdb_hanks()).await;
    assert_eq!((again.actors_written, again.contents_written, again.credits_written), (0, 0, 0));
    let (hanks2, gump2) = (ActorRow::fetch(&app.pool, HANKS).await, content_state(&app, GUMP).await);
    assert_eq!(hanks2.updated_at, hanks.updated_at);
    assert_eq!(gump2.9, gump.9);
    assert!(hanks2.last_scraped_at > hanks.last_scraped_at, "TMDB looked again");
    assert!(gump2.8 > gump.8);
    let read = app.client.get_actor(GetActorRequest { id }).await.unwrap().into_inner();
    assert_eq!(read.updated_at, cached.updated_at);
    assert_ne!(read.last_scraped_at, cached.last_scraped_at, "the cached read follows the new scrape time");
    assert_eq!(content_state(&app, RYAN).await, ryan, "rows the batch did not send are left alone");

    // An IMDb re-import of unchanged rows touches nothing at all, not even the scrape time.
    let before = ActorRow::fetch(&app.pool, REEVES).await;
    let r = app.upsert(sample()).await;
    assert_eq!((r.actors_written, r.contents_written, r.credits_written), (0, 0, 0));
    let after = ActorRow::fetch(&app.pool, REEVES).await;
    assert_eq!((after.last_scraped_at, after.updated_at), (before.last_scraped_at, before.updated_at));
}

#[tokio::test]
async fn an_imdb_reimport_keeps_what_tmdb_added_and_imdb_still_owns_its_columns() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    app.upsert(tmdb_hanks()).await;

    let r = app.upsert(sample()).await;
    assert_eq!((r.actors_written, r.contents_written, r.credits_written), (0, 0, 0), "{r:?}");
    let hanks = ActorRow::fetch(&app.pool, HANKS).await;
    assert_eq!((hanks.biography.as_deref(), hanks.profile_image_url.as_deref()), (Some(BIO), Some(PHOTO)));
    assert!(hanks.has_complete_filmography, "a scraper batch never resets it");

    // IMDb renames him and drops his birth year: the name follows IMDb, an absent year erases nothing.
    let mut batch = sample();
    batch.actors[0].name = "Tom J. Hanks".into();
    batch.actors[0].birth_year = None;
    batch.contents[1].title = "Forrest Gump!".into();
    let r = app.upsert(batch).await;
    assert_eq!((r.actors_written, r.contents_written), (1, 1));
    let hanks = ActorRow::fetch(&app.pool, HANKS).await;
    assert_eq!((hanks.name.as_str(), hanks.birth_year), ("Tom J. Hanks", Some(1956)));
    assert_eq!((hanks.biography.as_deref(), hanks.tmdb_id), (Some(BIO), Some(31)));
    assert!(hanks.has_valid_photo && hanks.has_bio && hanks.has_birth_date && hanks.has_complete_filmography);
    assert_eq!(hanks.scrape_source.as_deref(), Some("scraper"));
    let gump = content_state(&app, GUMP).await;
    assert_eq!(gump.0, "Forrest Gump!");
    assert_eq!(gump.3.as_deref(), Some(POSTER));
    assert!(gump.4 && gump.5 && gump.6);
}

#[tokio::test]
async fn an_api_batch_creates_whole_rows_and_fills_only_empty_imdb_columns() {
    let mut app = spawn_app().await;
    // TMDB first: the row gets the API's name and year, IMDb's import later takes its columns back.
    let r = app.upsert(tmdb_hanks()).await;
    assert_eq!(r.rejected.len(), 0, "{:?}", r.rejected);
    assert_eq!(ActorRow::fetch(&app.pool, HANKS).await.name, "Thomas Hanks");
    let mut imdb = sample();
    imdb.actors[0].birth_year = None;
    app.upsert(imdb).await;
    let hanks = ActorRow::fetch(&app.pool, HANKS).await;
    assert_eq!((hanks.name.as_str(), hanks.birth_year), ("Tom Hanks", Some(1957)), "NULL never erases");
    assert_eq!(hanks.biography.as_deref(), Some(BIO));

    // An api batch fills what IMDb left empty (a birth year, professions) and nothing else.
    let mut bare = UpsertBatchRequest { actors: vec![actor("nm0000001", "Fred Astaire", None)], ..Default::default() };
    bare.actors[0].professions.clear();
    app.upsert(bare).await;
    let tmdb = UpsertBatchRequest {
        source: ScrapeSource::Api.into(),
        actors: vec![ActorInput {
            birth_year: Some(1899),
            professions: vec!["actor".into(), "director".into()],
            ..actor("nm0000001", "Frederick Austerlitz", None)
        }],
        ..Default::default()
    };
    assert_eq!(app.upsert(tmdb).await.actors_written, 1);
    let (name, year, professions): (String, Option<i16>, Vec<String>) =
        sqlx::query_as("SELECT name, birth_year, professions FROM actors WHERE imdb_id = 'nm0000001'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), year), ("Fred Astaire", Some(1899)));
    assert_eq!(professions, ["actor", "director"]);

    // A curator may set every column.
    let manual = UpsertBatchRequest {
        source: ScrapeSource::Manual.into(),
        actors: vec![ActorInput {
            biography: Some("Dancer.".into()),
            ..actor("nm0000001", "Fred Astaire Jr.", Some(1900))
        }],
        ..Default::default()
    };
    assert_eq!(app.upsert(manual).await.actors_written, 1);
    let state = ActorRow::fetch(&app.pool, "nm0000001").await;
    assert_eq!((state.name.as_str(), state.birth_year), ("Fred Astaire Jr.", Some(1900)));
    assert_eq!((state.biography.as_deref(), state.scrape_source.as_deref()), (Some("Dancer."), Some("manual")));
}

#[tokio::test]
async fn invalid_dates_urls_and_tmdb_ids_reject_their_row_only() {
    let mut app = spawn_app().await;
    app.upsert(tmdb_hanks()).await;
    let person = |imdb: &str| ActorInput { imdb_id: imdb.into(), name: format!("Person {imdb}"), ..Default::default() };
    let title = |imdb: &str| content(imdb, ContentType::Movie, &format!("Title {imdb}"), 2001);
    let batch = UpsertBatchRequest {
        source: ScrapeSource::Api.into(),
        actors: vec![
            ActorInput { birth_date: Some("1956-13-01".into()), ..person("nm1000001") },
            ActorInput { birth_date: Some("09/07/1956".into()), ..person("nm1000002") },
            ActorInput { birth_date: Some("1956-7-9".into()), ..person("nm1000003") },
            ActorInput {
                birth_date: Some("1956-07-09".into()),
                death_date: Some("1950-01-01".into()),
                ..person("nm1000004")
            },
            ActorInput { profile_image_url: Some("ftp://example.com/a.jpg".into()), ..person("nm1000005") },
            ActorInput { profile_image_url: Some("/xndWFsBlClOJFRdhSt4NBwiPq2o.jpg".into()), ..person("nm1000006") },
            ActorInput { tmdb_id: Some(31), ..person("nm1000007") },
            ActorInput { tmdb_id: Some(-4), ..person("nm1000008") },
            ActorInput {
                birth_date: Some(" ".into()),
                profile_image_url: Some(String::new()),
                biography: Some("   ".into()),
                ..person("nm1000009")
            },
            ActorInput {
                birth_date: Some("2000-02-29".into()),
                profile_image_url: Some("HTTP://example.com/p.png".into()),
                ..person("nm1000010")
            },
        ],
        contents: vec![
            ContentInput { poster_url: Some("not a url".into()), ..title("tt1000001") },
            ContentInput { poster_url: Some("https:///p.jpg".into()), ..title("tt1000002") },
            ContentInput { poster_url: Some("https://example.com/p.jpg".into()), ..title("tt1000003") },
        ],
        ..Default::default()
    };
    let r = app.upsert(batch).await;
    let mut got: Vec<(String, String, String)> =
        r.rejected.iter().map(|x| (x.kind.clone(), x.key.clone(), x.reason.clone())).collect();
    got.sort();
    let keys: Vec<(&str, &str)> = got.iter().map(|g| (g.0.as_str(), g.1.as_str())).collect();
    assert_eq!(
        keys,
        [
            ("actor", "nm1000001"),
            ("actor", "nm1000002"),
            ("actor", "nm1000003"),
            ("actor", "nm1000004"),
            ("actor", "nm1000005"),
            ("actor", "nm1000006"),
            ("actor", "nm1000007"),
            ("actor", "nm1000008"),
            ("content", "tt1000001"),
            ("content", "tt1000002")
        ],
        "{got:#?}"
    );
    let reasons: Vec<&str> = got.iter().map(|g| g.2.as_str()).collect();
    assert!(reasons[..3].iter().all(|r| r.contains("birth_date must be a YYYY-MM-DD date")), "{reasons:?}");
    assert!(reasons[3].contains("death_date is before birth_date"));
    assert!(reasons[4].contains("profile_image_url") && reasons[5].contains("absolute http(s) URL"));
    assert!(reasons[6].contains("tmdb_id already belongs to nm0000158"), "{reasons:?}");
    assert!(reasons[7].contains("tmdb_id must be positive"));
    assert_eq!(r.actors_written, 2, "the empty values and the valid ones");
    assert!(reasons[8..].iter().all(|r| r.contains("poster_url must be an absolute http(s) URL")), "{reasons:?}");
    assert_eq!(r.contents_written, 1);

    let empty = ActorRow::fetch(&app.pool, "nm1000009").await;
    assert_eq!((empty.birth_date, empty.profile_image_url, empty.biography), (None, None, None), "empty = unset");
    assert!(!empty.has_bio && !empty.has_valid_photo && !empty.has_birth_date);
    let valid = ActorRow::fetch(&app.pool, "nm1000010").await;
    assert!(valid.has_valid_photo && valid.has_birth_date, "leap day and an upper-case scheme");

    // An unknown source is the caller's mistake, not a batch of unknown rules.
    let status = app
        .client
        .upsert_batch(UpsertBatchRequest { source: 42, ..Default::default() })
        .await
        .expect_err("unknown source");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

/// (votes, distinct cast, release year, score) of every title.
async fn title_inputs(app: &TestApp) -> Vec<(Uuid, i64, i64, Option<i32>, f64)> {
    sqlx::query_as(
        "SELECT c.id, COALESCE(c.vote_count, 0)::int8, \
                (SELECT count(DISTINCT actor_id) FROM filmography f WHERE f.content_id = c.id), \
                c.release_year::int4, c.popularity_score::float8 FROM content c ORDER BY c.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// (distinct titles, their votes, newest year, score) of every actor.
async fn actor_inputs(app: &TestApp) -> Vec<(Uuid, i64, i64, Option<i32>, f64)> {
    sqlx::query_as(
        "SELECT a.id, count(t.id), COALESCE(sum(COALESCE(t.vote_count, 0)), 0)::int8, max(t.release_year)::int4, \
                a.popularity_score::float8 \
         FROM actors a \
         LEFT JOIN content t ON t.id IN (SELECT content_id FROM filmography f WHERE f.actor_id = a.id) \
         GROUP BY a.id ORDER BY a.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn popularity_in_sql_agrees_with_the_documented_formula() {
    use actor_catalog::popularity::{actor_score, content_score, current_year, refresh, refresh_all};
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let year = current_year();
    // Scores after the batch follow the formula already.
    for (id, votes, cast, y, score) in title_inputs(&app).await {
        assert_eq!(score, content_score(votes, cast, y, year), "title {id}");
    }
    for (id, titles, votes, latest, score) in actor_inputs(&app).await {
        assert_eq!(score, actor_score(titles, votes, latest, year), "actor {id}");
    }

    // Votes arrive (as the ratings import writes them): refresh recomputes the title and its actors.
    for (imdb, votes) in [(GUMP, 2_400_000), (BIG, 230_000), (MATRIX, 2_100_000), (PILOT, 41_234), (VOLVER, 99)] {
        sqlx::query("UPDATE content SET vote_count = $2 WHERE imdb_id = $1")
            .bind(imdb)
            .bind(votes)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let gump = app.content_id(GUMP).await;
    let hanks_before: f64 = sqlx::query_scalar("SELECT popularity_score::float8 FROM actors WHERE imdb_id = $1")
        .bind(HANKS)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    refresh(&mut conn, &[], &[gump]).await.unwrap();
    let cast = [app.actor_id(HANKS).await, app.actor_id(WRIGHT).await, app.actor_id(SINISE).await];
    let actors = actor_inputs(&app).await;
    for (id, titles, votes, latest, score) in actors.iter().filter(|a| cast.contains(&a.0)) {
        assert_eq!(*score, actor_score(*titles, *votes, *latest, year), "each of the cast is refreshed: {id}");
    }
    let hanks_after = actors.iter().find(|a| a.0 == cast[0]).unwrap().4;
    assert!(hanks_after > hanks_before, "Forrest Gump's votes lift its cast");

    refresh_all(&mut conn).await.unwrap();
    let titles = title_inputs(&app).await;
    for &(id, votes, cast, y, score) in &titles {
        assert_eq!(score, content_score(votes, cast, y, year), "title {id}");
        assert!((0.0..=100.0).contains(&score));
    }
    for (id, titles, votes, latest, score) in actor_inputs(&app).await {
        assert_eq!(score, actor_score(titles, votes, latest, year), "actor {id}");
    }
    let matrix = app.content_id(MATRIX).await;
    let volver = app.content_id(VOLVER).await;
    let score_of = |id: Uuid| titles.iter().find(|t| t.0 == id).unwrap().4;
    assert!(score_of(matrix) > score_of(volver), "more votes, a higher score");

    // Nothing changed since: a second pass writes no row.
    let before: Vec<DateTime<Utc>> =
        sqlx::query_scalar("SELECT updated_at FROM content ORDER BY id").fetch_all(&app.pool).await.unwrap();
    refresh_all(&mut conn).await.unwrap();
    let after: Vec<DateTime<Utc>> =
        sqlx::query_scalar("SELECT updated_at FROM content ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(before, after);
}
