//! Read-side SQL: one small function per query, each timed into `db_query_duration_seconds`, and the
//! assembly of rows into the proto messages the service returns (and caches).

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use iknow_common::Error;
use iknow_proto::catalog::v1::{
    Actor, ActorQuality, CastMember, Content, ContentQuality, ContentRef, ContentType, FilmographyEntry, SeriesEpisode,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::rows::{CastRow, TitleRefRow, maybe_content_ref};

const SERVICE: &str = "actor-catalog";

fn timed(query: &'static str, started: Instant) {
    iknow_common::metrics::record_db_query(SERVICE, query, started);
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[derive(sqlx::FromRow)]
struct ActorRow {
    id: Uuid,
    imdb_id: Option<String>,
    name: String,
    birth_year: Option<i32>,
    death_year: Option<i32>,
    biography: Option<String>,
    profile_image_url: Option<String>,
    professions: Vec<String>,
    popularity_score: f64,
    has_valid_photo: bool,
    has_complete_filmography: bool,
    has_birth_date: bool,
    has_bio: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_scraped_at: Option<DateTime<Utc>>,
    scrape_source: Option<String>,
    birth_date: Option<NaiveDate>,
    death_date: Option<NaiveDate>,
}

const ACTOR_COLUMNS: &str = "a.id, a.imdb_id, a.name, a.birth_year::int4 AS birth_year, \
    a.death_year::int4 AS death_year, a.biography, a.profile_image_url, a.professions, \
    a.popularity_score::float8 AS popularity_score, a.has_valid_photo, a.has_complete_filmography, \
    a.has_birth_date, a.has_bio, a.created_at, a.updated_at, a.last_scraped_at, a.scrape_source::text, \
    a.birth_date, a.death_date";

impl From<ActorRow> for Actor {
    fn from(r: ActorRow) -> Self {
        Actor {
            id: r.id.to_string(),
            imdb_id: r.imdb_id.unwrap_or_default(),
            name: r.name,
            birth_year: r.birth_year,
            death_year: r.death_year,
            biography: r.biography.unwrap_or_default(),
            profile_image_url: r.profile_image_url.unwrap_or_default(),
            professions: r.professions,
            known_for: vec![],
            popularity_score: r.popularity_score,
            quality: Some(ActorQuality {
                has_valid_photo: r.has_valid_photo,
                has_complete_filmography: r.has_complete_filmography,
                has_birth_date: r.has_birth_date,
                has_bio: r.has_bio,
            }),
            filmography: vec![],
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            last_scraped_at: r.last_scraped_at.map(ts).unwrap_or_default(),
            scrape_source: r.scrape_source.unwrap_or_default(),
            birth_date: r.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            death_date: r.death_date.map(|d| d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// A known-for title of an actor.
#[derive(sqlx::FromRow)]
struct KnownForRow {
    owner: Uuid,
    #[sqlx(flatten)]
    title: TitleRefRow,
}

#[derive(sqlx::FromRow)]
struct FilmRow {
    #[sqlx(flatten)]
    content: TitleRefRow,
    role_name: String,
    characters: Vec<String>,
    category: String,
    credit_order: Option<i32>,
    season_number: Option<i32>,
    episode_number: Option<i32>,
    series_id: Option<Uuid>,
    series_imdb_id: Option<String>,
    series_title: Option<String>,
    series_year: Option<i32>,
    series_episode_total: i64,
}

/// One actor with known-for titles and filmography (newest first); `None` when unknown.
pub async fn actor(pool: &PgPool, id: Uuid) -> Result<Option<Actor>, Error> {
    let started = Instant::now();
    let sql = format!("SELECT {ACTOR_COLUMNS} FROM actors a WHERE a.id = $1");
    let row: Option<ActorRow> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
    timed("actor_by_id", started);
    let Some(row) = row else { return Ok(None) };
    let mut actor = Actor::from(row);
    actor.filmography = filmography(pool, id).await?;
    actor.known_for = known_for(pool, &[id]).await?.remove(&id).unwrap_or_default();
    Ok(Some(actor))
}

/// Many actors by id (with known-for, without filmography), in no particular order.
pub async fn actors(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Actor>, Error> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let sql = format!("SELECT {ACTOR_COLUMNS} FROM actors a WHERE a.id = ANY($1)");
    let rows: Vec<ActorRow> = sqlx::query_as(&sql).bind(ids).fetch_all(pool).await?;
    timed("actors_by_ids", started);
    let mut known = known_for(pool, ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id;
            let mut a = Actor::from(r);
            a.known_for = known.remove(&id).unwrap_or_default();
            a
        })
        .collect())
}

/// Every credit of one actor, newest first by the year of its series (of the title itself when it is not an
/// episode), with an episode's series, season and episode, and the number of episodes each series has in the
/// catalogue (counted once per series, not per credit).
async fn filmography(pool: &PgPool, actor_id: Uuid) -> sqlx::Result<Vec<FilmographyEntry>> {
    let started = Instant::now();
    let rows: Vec<FilmRow> = sqlx::query_as(
        "WITH credits AS ( \
           SELECT c.id, c.imdb_id, c.title, c.content_type, c.release_year::int4 AS year, \
                  f.role_name, f.characters, f.category, f.credit_order, c.season_number, c.episode_number, \
                  p.id AS series_id, p.imdb_id AS series_imdb_id, p.title AS series_title, \
                  p.release_year::int4 AS series_year, \
                  CASE WHEN p.id IS NOT NULL THEN p.id WHEN c.content_type = 'series' THEN c.id END AS series_key \
           FROM filmography f JOIN content c ON c.id = f.content_id LEFT JOIN content p ON p.id = c.parent_id \
           WHERE f.actor_id = $1 \
         ), totals AS ( \
           SELECT s.series_key, (SELECT count(*) FROM content e WHERE e.parent_id = s.series_key) AS total \
           FROM (SELECT DISTINCT series_key FROM credits WHERE series_key IS NOT NULL) s \
         ) \
         SELECT k.id, k.imdb_id, k.title, k.content_type, k.year, k.role_name, k.characters, k.category, \
                k.credit_order, k.season_number, k.episode_number, k.series_id, k.series_imdb_id, k.series_title, \
                k.series_year, coalesce(t.total, 0) AS series_episode_total \
         FROM credits k LEFT JOIN totals t ON t.series_key = k.series_key \
         ORDER BY CASE WHEN k.series_id IS NULL THEN k.year ELSE k.series_year END DESC NULLS LAST, \
                  k.series_key NULLS FIRST, k.series_id IS NOT NULL, k.season_number NULLS LAST, \
                  k.episode_number NULLS LAST, k.year NULLS LAST, k.credit_order ASC NULLS LAST, k.title, k.role_name",
    )
    .bind(actor_id)
    .fetch_all(pool)
    .await?;
    timed("filmography_of_actor", started);
    Ok(rows
        .into_iter()
        .map(|r| FilmographyEntry {
            content: Some(r.content.into()),
            role_name: r.role_name,
            characters: r.characters,
            category: r.category,
            credit_order: r.credit_order.unwrap_or_default(),
            series: maybe_content_ref(r.series_id, r.series_imdb_id, r.series_title, Some("series"), r.series_year),
            season_number: r.season_number,
            episode_number: r.episode_number,
            series_episode_total: u32::try_from(r.series_episode_total).unwrap_or(u32::MAX),
        })
        .collect())
}

/// Known-for titles per actor: the catalogued titles of `known_for_imdb_ids` in their order, else the
/// actor's top 4 credits by title popularity, then billing.
async fn known_for(pool: &PgPool, actor_ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, Vec<ContentRef>>> {
    let started = Instant::now();
    let rows: Vec<KnownForRow> = sqlx::query_as(
        "SELECT owner, id, imdb_id, title, content_type, year FROM ( \
           SELECT a.id AS owner, c.id, c.imdb_id, c.title, c.content_type, c.release_year::int4 AS year, \
                  o.ord AS rank \
           FROM actors a \
           CROSS JOIN LATERAL unnest(a.known_for_imdb_ids) WITH ORDINALITY AS o(imdb, ord) \
           JOIN content c ON c.imdb_id = o.imdb \
           WHERE a.id = ANY($1) \
           UNION ALL \
           SELECT a.id, t.id, t.imdb_id, t.title, t.content_type, t.year, t.rank \
           FROM actors a \
           CROSS JOIN LATERAL ( \
             SELECT c.id, c.imdb_id, c.title, c.content_type, c.release_year::int4 AS year, \
                    row_number() OVER (ORDER BY c.popularity_score DESC, min(f.credit_order) ASC NULLS LAST, c.id) \
                      AS rank \
             FROM filmography f JOIN content c ON c.id = f.content_id \
             WHERE f.actor_id = a.id \
             GROUP BY c.id \
             ORDER BY rank LIMIT 4 \
           ) t \
           WHERE a.id = ANY($1) \
             AND NOT EXISTS (SELECT 1 FROM content kc WHERE kc.imdb_id = ANY(a.known_for_imdb_ids)) \
         ) k ORDER BY owner, rank",
    )
    .bind(actor_ids)
    .fetch_all(pool)
    .await?;
    timed("known_for", started);
    let mut out: HashMap<Uuid, Vec<ContentRef>> = HashMap::new();
    for r in rows {
        out.entry(r.owner).or_default().push(r.title.into());
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct ContentRow {
    id: Uuid,
    imdb_id: Option<String>,
    title: String,
    original_title: Option<String>,
    content_type: String,
    year: Option<i32>,
    end_year: Option<i32>,
    runtime_minutes: Option<i32>,
    genres: Vec<String>,
    overview: Option<String>,
    poster_url: Option<String>,
    is_adult: bool,
    popularity_score: f64,
    has_poster: bool,
    has_overview: bool,
    has_complete_cast: bool,
    has_release_date: bool,
    season_number: Option<i32>,
    episode_number: Option<i32>,
    parent_id: Option<Uuid>,
    parent_imdb_id: Option<String>,
    parent_title: Option<String>,
    parent_type: Option<String>,
    parent_year: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rating: Option<f64>,
    vote_count: Option<i32>,
    last_scraped_at: Option<DateTime<Utc>>,
    scrape_source: Option<String>,
}

const CONTENT_SELECT: &str = "SELECT c.id, c.imdb_id, c.title, c.original_title, c.content_type, \
    c.release_year::int4 AS year, c.end_year::int4 AS end_year, c.runtime_minutes, c.genres, c.overview, \
    c.poster_url, c.is_adult, c.popularity_score::float8 AS popularity_score, c.has_poster, c.has_overview, \
    c.has_complete_cast, c.has_release_date, c.season_number, c.episode_number, \
    p.id AS parent_id, p.imdb_id AS parent_imdb_id, p.title AS parent_title, p.content_type AS parent_type, \
    p.release_year::int4 AS parent_year, c.created_at, c.updated_at, c.rating::float8 AS rating, c.vote_count, \
    c.last_scraped_at, c.scrape_source::text \
    FROM content c LEFT JOIN content p ON p.id = c.parent_id";

impl From<ContentRow> for Content {
    fn from(r: ContentRow) -> Self {
        let parent =
            maybe_content_ref(r.parent_id, r.parent_imdb_id, r.parent_title, r.parent_type.as_deref(), r.parent_year);
        Content {
            id: r.id.to_string(),
            imdb_id: r.imdb_id.unwrap_or_default(),
            title: r.title,
            original_title: r.original_title.unwrap_or_default(),
            content_type: ContentType::from_name(&r.content_type).into(),
            year: r.year,
            end_year: r.end_year,
            runtime_minutes: r.runtime_minutes,
            genres: r.genres,
            overview: r.overview.unwrap_or_default(),
            poster_url: r.poster_url.unwrap_or_default(),
            is_adult: r.is_adult,
            popularity_score: r.popularity_score,
            quality: Some(ContentQuality {
                has_poster: r.has_poster,
                has_overview: r.has_overview,
                has_complete_cast: r.has_complete_cast,
                has_release_date: r.has_release_date,
            }),
            parent,
            season_number: r.season_number,
            episode_number: r.episode_number,
            cast: vec![],
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            rating: r.rating,
            // Only beside a rating; a negative count is not one.
            vote_count: r.rating.and(r.vote_count).and_then(|v| u32::try_from(v).ok()),
            last_scraped_at: r.last_scraped_at.map(ts).unwrap_or_default(),
            scrape_source: r.scrape_source.unwrap_or_default(),
            cast_total: 0,
            episode_total: 0,
        }
    }
}

/// One title with its parent (for an episode) and its whole cast: in credit order, or for a series its aggregated
/// cast; `None` when unknown.
pub async fn content(pool: &PgPool, id: Uuid) -> Result<Option<Content>, Error> {
    let started = Instant::now();
    let sql = format!("{CONTENT_SELECT} WHERE c.id = $1");
    let row: Option<ContentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
    timed("content_by_id", started);
    let Some(row) = row else { return Ok(None) };
    let mut content = Content::from(row);
    if content.content_type == ContentType::Series as i32 {
        // Its aggregated cast (own credits and every episode's), kept by `series_cast`, and its episode count.
        content.cast = crate::series_cast::of_one(pool, id).await?;
        let started = Instant::now();
        let episodes: i64 =
            sqlx::query_scalar("SELECT count(*) FROM content WHERE parent_id = $1").bind(id).fetch_one(pool).await?;
        timed("episodes_of_series", started);
        content.episode_total = u32::try_from(episodes).unwrap_or_default();
    } else {
        content.cast = cast(pool, id).await?;
    }
    Ok(Some(content))
}

/// A copy of `c` without its cast, which is never cloned (a series' aggregated cast has thousands of members).
pub fn without_cast(c: &Content) -> Content {
    Content {
        id: c.id.clone(),
        imdb_id: c.imdb_id.clone(),
        title: c.title.clone(),
        original_title: c.original_title.clone(),
        content_type: c.content_type,
        year: c.year,
        end_year: c.end_year,
        runtime_minutes: c.runtime_minutes,
        genres: c.genres.clone(),
        overview: c.overview.clone(),
        poster_url: c.poster_url.clone(),
        is_adult: c.is_adult,
        popularity_score: c.popularity_score,
        quality: c.quality,
        parent: c.parent.clone(),
        season_number: c.season_number,
        episode_number: c.episode_number,
        cast: vec![],
        created_at: c.created_at.clone(),
        updated_at: c.updated_at.clone(),
        rating: c.rating,
        vote_count: c.vote_count,
        last_scraped_at: c.last_scraped_at.clone(),
        scrape_source: c.scrape_source.clone(),
        cast_total: 0,
        episode_total: c.episode_total,
    }
}

/// Many titles by id (with parent, without cast), in no particular order.
pub async fn contents(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Content>, Error> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let sql = format!("{CONTENT_SELECT} WHERE c.id = ANY($1)");
    let rows: Vec<ContentRow> = sqlx::query_as(&sql).bind(ids).fetch_all(pool).await?;
    timed("contents_by_ids", started);
    Ok(rows.into_iter().map(Content::from).collect())
}

async fn cast(pool: &PgPool, content_id: Uuid) -> sqlx::Result<Vec<CastMember>> {
    let started = Instant::now();
    let rows: Vec<CastRow> = sqlx::query_as(
        "SELECT a.id AS actor_id, a.imdb_id AS actor_imdb_id, a.name AS actor_name, f.role_name, f.characters, \
                f.category, f.credit_order, a.profile_image_url \
         FROM filmography f JOIN actors a ON a.id = f.actor_id \
         WHERE f.content_id = $1 \
         ORDER BY f.credit_order ASC NULLS LAST, a.name, f.role_name",
    )
    .bind(content_id)
    .fetch_all(pool)
    .await?;
    timed("cast_of_content", started);
    Ok(rows.into_iter().map(CastMember::from).collect())
}

/// What a title has in the way of episodes ([`episodes`]).
#[derive(Debug)]
pub enum Episodes {
    /// No title has the id.
    Unknown,
    /// A movie or an episode: its title and its type as stored (`movie`, `episode`).
    NotASeries { title: String, content_type: String },
    /// A series: every episode it has in the catalogue, by season, then number (unknown last), then year and
    /// title.
    Series(Vec<SeriesEpisode>),
}

#[derive(sqlx::FromRow)]
struct EpisodeRow {
    id: Uuid,
    imdb_id: Option<String>,
    title: String,
    season_number: Option<i32>,
    episode_number: Option<i32>,
    year: Option<i32>,
    poster_url: Option<String>,
}

impl From<EpisodeRow> for SeriesEpisode {
    fn from(r: EpisodeRow) -> Self {
        SeriesEpisode {
            id: r.id.to_string(),
            imdb_id: r.imdb_id.unwrap_or_default(),
            title: r.title,
            season_number: r.season_number,
            episode_number: r.episode_number,
            year: r.year,
            poster_url: r.poster_url.unwrap_or_default(),
        }
    }
}

/// The episodes of title `id`, whole (a long soap has thousands; the caller pages them).
pub async fn episodes(pool: &PgPool, id: Uuid) -> Result<Episodes, Error> {
    let started = Instant::now();
    let kind: Option<(String, String)> =
        sqlx::query_as("SELECT title, content_type FROM content WHERE id = $1").bind(id).fetch_optional(pool).await?;
    timed("content_type_by_id", started);
    let Some((title, content_type)) = kind else { return Ok(Episodes::Unknown) };
    if ContentType::from_name(&content_type) != ContentType::Series {
        return Ok(Episodes::NotASeries { title, content_type });
    }
    let started = Instant::now();
    let rows: Vec<EpisodeRow> = sqlx::query_as(
        "SELECT id, imdb_id, title, season_number, episode_number, release_year::int4 AS year, poster_url \
         FROM content WHERE parent_id = $1 \
         ORDER BY season_number NULLS LAST, episode_number NULLS LAST, release_year NULLS LAST, title, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    timed("episodes_of_series_list", started);
    Ok(Episodes::Series(rows.into_iter().map(SeriesEpisode::from).collect()))
}
