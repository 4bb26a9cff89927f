//! The only write path: one `UpsertBatch` in one transaction (contents → episode links → ratings and akas →
//! actors → credits → popularity), bulk statements over UNNEST arrays, and `ON CONFLICT ... WHERE ... IS
//! DISTINCT FROM` so unchanged rows are neither written nor counted.
//!
//! # Which source may change what
//!
//! Every merged column of `actors` and `content` belongs to a source (`UpsertBatchRequest.source`; the tables
//! are in [`crate::source`]):
//!
//! - the IMDb dataset (`scraper`, also what an unspecified source means) owns an actor's name, birth and death
//!   year, professions and known-for titles, and a title's title, original title, type, years, runtime,
//!   genres and is_adult;
//! - TMDB (`api`) owns an actor's tmdb_id, birth_date, death_date, biography and profile_image_url, and a
//!   title's tmdb_id, overview and poster_url;
//! - `manual` (a curator) owns every column.
//!
//! A batch creates a missing row with every column it has. On an existing row it sets the columns its source
//! owns and fills another source's columns only while they are empty (NULL, or an empty list); one that is
//! never empty (a name, a title, a type, is_adult, the original title that goes with the title) keeps its
//! value. An absent optional (no year, no date, an empty biography or URL) never erases, whatever the source.
//! So a TMDB job adds photos, biographies, dates and overviews to IMDb rows without renaming them or changing
//! their years, and an IMDb re-import keeps what TMDB added.
//!
//! Credits of an `api` batch are added only for (actor, title) pairs the catalogue has no credit for yet (the
//! best billed one when the batch has several for a pair): TMDB spells characters differently from IMDb, and a
//! second row for the pair would list the role twice. Scraper and manual credits are upserted by their natural
//! key (actor, title, first character) as before.
//!
//! # Quality flags, scrape source and scrape time
//!
//! The same statements keep the quality flags true to the merged data: has_valid_photo / has_poster (an
//! absolute http(s) URL), has_birth_date (birth_date known), has_bio / has_overview (non-blank text),
//! has_release_date (release year known). has_complete_filmography / has_complete_cast are set by an api (or
//! manual) batch whose input says it carries the person's whole filmography (the TMDB person job) or the
//! title's whole cast (the TMDB title job), and no batch resets them.
//!
//! Every row a batch inserts or changes gets `scrape_source` = the batch's source and `last_scraped_at` =
//! `updated_at` = the transaction's time. An api batch also sets `last_scraped_at` on the rows it sent but did
//! not change, without touching `updated_at` or `scrape_source`: "when did TMDB last look at it" and "when did
//! it last change" stay apart, and a re-run of a TMDB job still changes no `updated_at`. Scraper batches leave
//! unchanged rows entirely alone: they are bulk, and re-importing the dataset must write nothing.
//!
//! Popularity is refreshed for the rows whose credits, year or votes changed ([`crate::popularity`]).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use iknow_common::db::is_retryable;
use iknow_proto::catalog::v1::{RejectedRow, UpsertBatchRequest, UpsertBatchResponse};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::prepare::{self, reject};
pub use crate::source::Source;
use crate::source::{self as merge, ACTOR_COLUMNS, CONTENT_COLUMNS};
use crate::{popularity, series_cast};

const SERVICE: &str = "actor-catalog";

/// What a batch did, and which rows the caches and search indexes must refresh.
#[derive(Debug, Default)]
pub struct Outcome {
    pub response: UpsertBatchResponse,
    pub touched_actors: Vec<Uuid>,
    pub touched_contents: Vec<Uuid>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Tries of a batch whose transaction PostgreSQL aborted for a deadlock or a serialization failure with a
/// concurrent batch (the same actors credited in two batches, say): each try starts over from the prepared rows.
const TRIES: u32 = 4;

/// The rows of a batch, checked and normalised once (before any try).
struct Prepared {
    contents: Vec<prepare::ContentRow>,
    episodes: Vec<prepare::EpisodeRow>,
    actors: Vec<prepare::ActorRow>,
    credits: Vec<prepare::CreditRow>,
    rated: crate::akas::Prepared,
    /// What the checks refused.
    rejected: Vec<RejectedRow>,
}

/// Writes one batch; rows that cannot be written are returned in `rejected` rather than failing the batch.
/// With `announce`, the `actor.upserted` / `content.upserted` events of the touched rows go into the outbox in
/// the same transaction, so other replicas hear of exactly the writes that committed. A transaction aborted
/// by a deadlock with a concurrent batch is tried again, up to [`TRIES`] times, after a short random pause.
pub async fn upsert_batch(
    pool: &PgPool,
    req: UpsertBatchRequest,
    announce: Option<&crate::events::Announce>,
) -> sqlx::Result<Outcome> {
    // The gRPC handler refuses an unknown source as InvalidArgument before this.
    let source = Source::from_proto(req.source).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let mut rejected: Vec<RejectedRow> = vec![];
    let contents = prepare::contents(req.contents, &mut rejected);
    let episodes = prepare::episodes(req.episodes, &mut rejected);
    let actors = prepare::actors(req.actors, &mut rejected);
    let credits = prepare::credits(req.credits, &mut rejected);
    let rated = crate::akas::Prepared::new(req.ratings, req.akas, &mut rejected);
    let batch = Prepared { contents, episodes, actors, credits, rated, rejected };
    let mut attempt = 1;
    loop {
        match write(pool, &batch, source, announce).await {
            Err(e) if is_retryable(&e) && attempt < TRIES => {
                let pause = std::time::Duration::from_millis(rand::random_range(20..100) * u64::from(attempt));
                let pause_ms = pause.as_millis() as u64;
                tracing::warn!(error = %e, attempt, pause_ms, "batch aborted by a concurrent one; trying again");
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// One try of a batch, in one transaction.
async fn write(
    pool: &PgPool,
    batch: &Prepared,
    source: Source,
    announce: Option<&crate::events::Announce>,
) -> sqlx::Result<Outcome> {
    let Prepared { contents, episodes, actors, credits, rated, rejected } = batch;
    let mut rejected = rejected.clone();
    let mut tx = pool.begin().await?;
    let changed_contents = upsert_contents(&mut tx, contents, source).await?;
    let linked = link_episodes(&mut tx, episodes, &mut rejected).await?;
    let rated = crate::akas::write(&mut tx, rated, &mut rejected).await?;
    let actors = without_tmdb_conflicts(&mut tx, actors, &mut rejected).await?;
    let changed_actors = upsert_actors(&mut tx, &actors, source).await?;
    let (credit_actors, credit_contents, credits_written) =
        upsert_credits(&mut tx, credits, source, &mut rejected).await?;
    // The aggregated casts of the series those credits and links belong to (see `series_cast`).
    let (pair_series, pair_actors) = series_cast::pairs_of(&mut tx, &credits_written).await?;
    series_cast::refresh_pairs(&mut tx, &pair_series, &pair_actors).await?;
    let series = series_cast::series_of(&mut tx, &linked, &changed_contents).await?;
    series_cast::refresh_series(&mut tx, &series).await?;
    let credits_written = credits_written.len();
    // A credit changes its actor's and its title's score; a title whose year or votes changed, its actors' too.
    let rescored: BTreeSet<Uuid> = changed_contents.iter().chain(&rated.contents).copied().collect();
    let rescored: Vec<Uuid> = rescored.into_iter().collect();
    popularity::refresh(&mut tx, &credit_actors, &rescored).await?;
    let cast_changed: Vec<Uuid> =
        credit_contents.iter().filter(|c| rescored.binary_search(c).is_err()).copied().collect();
    popularity::refresh_contents(&mut tx, &cast_changed).await?;
    let (seen_actors, seen_contents) = if source == Source::Api {
        let actors = mark_seen(&mut tx, "actors", actors.iter().map(|r| r.imdb_id.as_str()).collect()).await?;
        (actors, mark_seen(&mut tx, "content", contents.iter().map(|r| r.imdb_id.as_str()).collect()).await?)
    } else {
        (vec![], vec![])
    };
    // A changed title shows in its actors' filmographies, a changed actor in its titles' casts.
    let (dep_actors, mut dep_contents) = dependents(&mut tx, &changed_actors, &changed_contents).await?;
    dep_contents.extend(series_cast::series_showing(&mut tx, &changed_actors).await?);

    let response = UpsertBatchResponse {
        actors_written: count(changed_actors.len()),
        contents_written: count(changed_contents.len()),
        credits_written: count(credits_written),
        episodes_linked: count(linked.len()),
        rejected,
        ratings_written: count(rated.ratings),
        akas_written: count(rated.akas),
    };
    // Rows only marked seen are touched too: their cached reads carry last_scraped_at.
    let touched_actors: Vec<Uuid> = changed_actors
        .into_iter()
        .chain(seen_actors)
        .chain(credit_actors)
        .chain(dep_actors)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let touched_contents: Vec<Uuid> = changed_contents
        .into_iter()
        .chain(seen_contents)
        .chain(linked.iter().map(|l| l.0))
        .chain(series)
        .chain(pair_series)
        .chain(rated.contents)
        .chain(credit_contents)
        .chain(dep_contents)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if let Some(announce) = announce {
        for message in
            announce.messages(&touched_actors, &touched_contents).map_err(|e| sqlx::Error::Protocol(e.to_string()))?
        {
            iknow_messaging::outbox::enqueue(&mut tx, &message).await?;
        }
    }
    tx.commit().await?;
    Ok(Outcome { response, touched_actors, touched_contents })
}

/// The `INSERT ... ON CONFLICT` of titles for a batch of `source` (see the module doc).
fn contents_sql(source: Source) -> String {
    let m = |name: &str| merge::merged_of(source, "c", CONTENT_COLUMNS, name);
    let sets: Vec<String> = CONTENT_COLUMNS.iter().map(|c| format!("{} = {}", c.name, source.merged("c", c))).collect();
    let flags = ["has_poster", "has_overview", "has_release_date", "has_complete_cast"];
    let merged_flags = [
        merge::url_ok(&m("poster_url")),
        merge::text_ok(&m("overview")),
        format!("{} IS NOT NULL", m("release_year")),
        "c.has_complete_cast OR EXCLUDED.has_complete_cast".to_owned(),
    ];
    let flag_sets: Vec<String> = flags.iter().zip(&merged_flags).map(|(f, v)| format!("{f} = {v}")).collect();
    let old: Vec<String> =
        CONTENT_COLUMNS.iter().map(|c| format!("c.{}", c.name)).chain(flags.map(|f| format!("c.{f}"))).collect();
    let new: Vec<String> =
        CONTENT_COLUMNS.iter().map(|c| source.merged("c", c)).chain(merged_flags.iter().cloned()).collect();
    // A new title has no credits and no votes yet: its popularity is known here, and the refresh after the
    // credits then finds nothing to rewrite.
    let popularity = popularity::content_sql("0", "0", "u.release_year", "$16::int4");
    format!(
        "INSERT INTO content AS c (id, imdb_id, content_type, title, original_title, is_adult, release_year, \
                                   end_year, runtime_minutes, genres, tmdb_id, overview, poster_url, has_poster, \
                                   has_overview, has_release_date, has_complete_cast, popularity_score, \
                                   last_scraped_at, scrape_source) \
         SELECT u.id, u.imdb_id, u.content_type, u.title, u.original_title, u.is_adult, u.release_year, \
                u.end_year, u.runtime_minutes, string_to_array(u.genres, chr(31)), u.tmdb_id, u.overview, \
                u.poster_url, {poster_ok}, {overview_ok}, u.release_year IS NOT NULL, u.complete_cast, \
                {popularity}, now(), $15 \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::int2[], \
                     $8::int2[], $9::int4[], $10::text[], $11::int4[], $12::text[], $13::text[], $14::bool[]) \
              AS u(id, imdb_id, content_type, title, original_title, is_adult, release_year, end_year, \
                   runtime_minutes, genres, tmdb_id, overview, poster_url, complete_cast) \
         ON CONFLICT (imdb_id) DO UPDATE SET {sets}, {flag_sets}, \
             parent_id = CASE WHEN {content_type} = 'episode' THEN c.parent_id END, \
             last_scraped_at = now(), scrape_source = EXCLUDED.scrape_source, updated_at = now() \
         WHERE ({old}) IS DISTINCT FROM ({new}) \
         RETURNING c.id",
        poster_ok = merge::url_ok("u.poster_url"),
        overview_ok = merge::text_ok("u.overview"),
        sets = sets.join(", "),
        flag_sets = flag_sets.join(", "),
        content_type = m("content_type"),
        old = old.join(", "),
        new = new.join(", "),
    )
}

/// Inserts new titles and merges the batch into existing ones; returns the ids of the rows inserted or changed.
async fn upsert_contents(
    tx: &mut PgConnection,
    rows: &[prepare::ContentRow],
    source: Source,
) -> sqlx::Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    // New rows get a UUID v7 made here; on conflict the existing id stays.
    let ids: Vec<Uuid> = rows.iter().map(|_| iknow_common::id::new()).collect();
    let changed: Vec<Uuid> = sqlx::query_scalar(&contents_sql(source))
        .bind(&ids)
        .bind(rows.iter().map(|r| r.imdb_id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content_type).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.original_title.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.is_adult).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.year).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.end_year).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.runtime_minutes).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.genres.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.tmdb_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.overview.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.poster_url.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.complete_cast && source.marks_complete()).collect::<Vec<_>>())
        .bind(source.as_db())
        .bind(popularity::current_year())
        .fetch_all(&mut *tx)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "upsert_contents", started);
    Ok(changed)
}

/// Sets `last_scraped_at` (and nothing else) on the rows of `table` among `imdb_ids` that this transaction has
/// not written yet: what an api batch saw unchanged. Returns their ids.
async fn mark_seen(tx: &mut PgConnection, table: &'static str, imdb_ids: Vec<&str>) -> sqlx::Result<Vec<Uuid>> {
    if imdb_ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    // now() is the transaction's start: the rows inserted or changed above already have it.
    let sql = format!(
        "UPDATE {table} SET last_scraped_at = now() \
         WHERE imdb_id = ANY($1) AND last_scraped_at IS DISTINCT FROM now() RETURNING id"
    );
    let seen: Vec<Uuid> = sqlx::query_scalar(&sql).bind(imdb_ids).fetch_all(&mut *tx).await?;
    iknow_common::metrics::record_db_query(SERVICE, "mark_seen", started);
    Ok(seen)
}

/// IMDb id → (uuid, content_type) of the catalogued titles among `imdb_ids`.
async fn resolve_contents(tx: &mut PgConnection, imdb_ids: Vec<&str>) -> sqlx::Result<HashMap<String, (Uuid, String)>> {
    let started = Instant::now();
    let rows: Vec<(String, Uuid, String)> =
        sqlx::query_as("SELECT imdb_id, id, content_type FROM content WHERE imdb_id = ANY($1)")
            .bind(imdb_ids)
            .fetch_all(&mut *tx)
            .await?;
    iknow_common::metrics::record_db_query(SERVICE, "resolve_contents", started);
    Ok(rows.into_iter().map(|(imdb, id, kind)| (imdb, (id, kind))).collect())
}

async fn resolve_actors(tx: &mut PgConnection, imdb_ids: Vec<&str>) -> sqlx::Result<HashMap<String, Uuid>> {
    let started = Instant::now();
    let rows: Vec<(String, Uuid)> = sqlx::query_as("SELECT imdb_id, id FROM actors WHERE imdb_id = ANY($1)")
        .bind(imdb_ids)
        .fetch_all(&mut *tx)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "resolve_actors", started);
    Ok(rows.into_iter().collect())
}

/// Links episodes to their series; returns each episode whose link changed with its previous series.
async fn link_episodes(
    tx: &mut PgConnection,
    rows: &[prepare::EpisodeRow],
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<Vec<(Uuid, Option<Uuid>)>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let wanted = rows.iter().flat_map(|r| [r.episode_imdb_id.as_str(), r.series_imdb_id.as_str()]).collect();
    let known = resolve_contents(tx, wanted).await?;
    let (mut episode_ids, mut series_ids, mut seasons, mut numbers) = (vec![], vec![], vec![], vec![]);
    for r in rows {
        let key = format!("{}/{}", r.episode_imdb_id, r.series_imdb_id);
        match (known.get(&r.episode_imdb_id), known.get(&r.series_imdb_id)) {
            (None, _) => rejected.push(reject("episode", &key, "unknown episode")),
            (_, None) => rejected.push(reject("episode", &key, "unknown series")),
            (Some((_, kind)), _) if kind != "episode" => rejected.push(reject("episode", &key, "not an episode")),
            (Some((episode, _)), Some((series, _))) if episode == series => {
                rejected.push(reject("episode", &key, "an episode cannot be its own series"));
            }
            (Some((episode, _)), Some((series, _))) => {
                episode_ids.push(*episode);
                series_ids.push(*series);
                seasons.push(r.season_number);
                numbers.push(r.episode_number);
            }
        }
    }
    if episode_ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    // The old parent comes back too: a series an episode left must lose its credits from its aggregated cast.
    let linked: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "UPDATE content AS e SET parent_id = u.series_id, season_number = u.season, \
                episode_number = u.episode, updated_at = now() \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::int4[]) AS u(episode_id, series_id, season, episode), \
              content AS old \
         WHERE e.id = u.episode_id AND old.id = e.id \
           AND (e.parent_id, e.season_number, e.episode_number) IS DISTINCT FROM (u.series_id, u.season, u.episode) \
         RETURNING e.id, old.parent_id",
    )
    .bind(&episode_ids)
    .bind(&series_ids)
    .bind(&seasons)
    .bind(&numbers)
    .fetch_all(&mut *tx)
    .await?;
    iknow_common::metrics::record_db_query(SERVICE, "link_episodes", started);
    Ok(linked)
}

/// The actors of `rows` whose TMDB id no other actor has; the others become rejected rows (`actors.tmdb_id` is
/// unique: one of them would fail the whole batch).
async fn without_tmdb_conflicts<'a>(
    tx: &mut PgConnection,
    rows: &'a [prepare::ActorRow],
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<Vec<&'a prepare::ActorRow>> {
    let wanted: Vec<i32> = rows.iter().filter_map(|r| r.tmdb_id).collect();
    if wanted.is_empty() {
        return Ok(rows.iter().collect());
    }
    let started = Instant::now();
    let owners: Vec<(i32, Option<String>)> =
        sqlx::query_as("SELECT tmdb_id, imdb_id FROM actors WHERE tmdb_id = ANY($1)")
            .bind(&wanted)
            .fetch_all(&mut *tx)
            .await?;
    iknow_common::metrics::record_db_query(SERVICE, "actor_tmdb_owners", started);
    let owners: HashMap<i32, Option<String>> = owners.into_iter().collect();
    Ok(rows
        .iter()
        .filter(|r| match r.tmdb_id.and_then(|id| owners.get(&id)) {
            Some(owner) if owner.as_deref() != Some(r.imdb_id.as_str()) => {
                let other = owner.as_deref().unwrap_or("an actor without an IMDb id");
                rejected.push(reject("actor", &r.imdb_id, &format!("tmdb_id already belongs to {other}")));
                false
            }
            _ => true,
        })
        .collect())
}

/// The `INSERT ... ON CONFLICT` of actors for a batch of `source` (see the module doc).
fn actors_sql(source: Source) -> String {
    let m = |name: &str| merge::merged_of(source, "a", ACTOR_COLUMNS, name);
    let sets: Vec<String> = ACTOR_COLUMNS.iter().map(|c| format!("{} = {}", c.name, source.merged("a", c))).collect();
    let flags = ["has_valid_photo", "has_birth_date", "has_bio", "has_complete_filmography"];
    let merged_flags = [
        merge::url_ok(&m("profile_image_url")),
        format!("{} IS NOT NULL", m("birth_date")),
        merge::text_ok(&m("biography")),
        "a.has_complete_filmography OR EXCLUDED.has_complete_filmography".to_owned(),
    ];
    let flag_sets: Vec<String> = flags.iter().zip(&merged_flags).map(|(f, v)| format!("{f} = {v}")).collect();
    let old: Vec<String> =
        ACTOR_COLUMNS.iter().map(|c| format!("a.{}", c.name)).chain(flags.map(|f| format!("a.{f}"))).collect();
    let new: Vec<String> =
        ACTOR_COLUMNS.iter().map(|c| source.merged("a", c)).chain(merged_flags.iter().cloned()).collect();
    format!(
        "INSERT INTO actors AS a (id, imdb_id, name, birth_year, death_year, professions, known_for_imdb_ids, \
                                  tmdb_id, birth_date, death_date, biography, profile_image_url, has_valid_photo, \
                                  has_birth_date, has_bio, has_complete_filmography, last_scraped_at, scrape_source) \
         SELECT u.id, u.imdb_id, u.name, u.birth_year, u.death_year, string_to_array(u.professions, chr(31)), \
                string_to_array(u.known_for, chr(31)), u.tmdb_id, u.birth_date, u.death_date, u.biography, \
                u.profile_image_url, {photo_ok}, u.birth_date IS NOT NULL, {bio_ok}, u.complete, now(), $14 \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int2[], $5::int2[], $6::text[], $7::text[], \
                     $8::int4[], $9::date[], $10::date[], $11::text[], $12::text[], $13::bool[]) \
              AS u(id, imdb_id, name, birth_year, death_year, professions, known_for, tmdb_id, birth_date, \
                   death_date, biography, profile_image_url, complete) \
         ON CONFLICT (imdb_id) DO UPDATE SET {sets}, {flag_sets}, \
             last_scraped_at = now(), scrape_source = EXCLUDED.scrape_source, updated_at = now() \
         WHERE ({old}) IS DISTINCT FROM ({new}) \
         RETURNING a.id",
        photo_ok = merge::url_ok("u.profile_image_url"),
        bio_ok = merge::text_ok("u.biography"),
        sets = sets.join(", "),
        flag_sets = flag_sets.join(", "),
        old = old.join(", "),
        new = new.join(", "),
    )
}

/// Inserts new actors and merges the batch into existing ones; returns the ids of the rows inserted or changed.
async fn upsert_actors(tx: &mut PgConnection, rows: &[&prepare::ActorRow], source: Source) -> sqlx::Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let ids: Vec<Uuid> = rows.iter().map(|_| iknow_common::id::new()).collect();
    let changed: Vec<Uuid> = sqlx::query_scalar(&actors_sql(source))
        .bind(&ids)
        .bind(rows.iter().map(|r| r.imdb_id.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.birth_year).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.death_year).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.professions.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.known_for.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.tmdb_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.birth_date).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.death_date).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.biography.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.profile_image_url.as_deref()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.complete_filmography && source.marks_complete()).collect::<Vec<_>>())
        .bind(source.as_db())
        .fetch_all(&mut *tx)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "upsert_actors", started);
    Ok(changed)
}

/// Returns the actors and titles of the credits written, and the (actor, title) of each credit written. An api batch only adds
/// credits for (actor, title) pairs that have none yet (see the module doc).
async fn upsert_credits(
    tx: &mut PgConnection,
    rows: &[prepare::CreditRow],
    source: Source,
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<(Vec<Uuid>, Vec<Uuid>, Vec<(Uuid, Uuid)>)> {
    if rows.is_empty() {
        return Ok((vec![], vec![], vec![]));
    }
    let actors = resolve_actors(tx, rows.iter().map(|r| r.actor_imdb_id.as_str()).collect()).await?;
    let contents = resolve_contents(tx, rows.iter().map(|r| r.content_imdb_id.as_str()).collect()).await?;
    let mut valid: Vec<(Uuid, Uuid, &prepare::CreditRow)> = Vec::with_capacity(rows.len());
    for r in rows {
        let key = format!("{}/{}", r.actor_imdb_id, r.content_imdb_id);
        match (actors.get(&r.actor_imdb_id), contents.get(&r.content_imdb_id)) {
            (None, _) => rejected.push(reject("credit", &key, "unknown actor")),
            (_, None) => rejected.push(reject("credit", &key, "unknown content")),
            (Some(a), Some((c, _))) => valid.push((*a, *c, r)),
        }
    }
    // Lock rows in one order whatever the batch order, so concurrent batches do not deadlock.
    valid.sort_by(|x, y| (x.0, x.1, &x.2.role_name).cmp(&(y.0, y.1, &y.2.role_name)));
    if source == Source::Api {
        // One credit per pair: the best billed (unknown billing last), then the first character.
        valid.sort_by(|x, y| {
            let billing = |r: &prepare::CreditRow| (r.credit_order.is_none(), r.credit_order);
            (x.0, x.1, billing(x.2), &x.2.role_name).cmp(&(y.0, y.1, billing(y.2), &y.2.role_name))
        });
        valid.dedup_by_key(|v| (v.0, v.1));
    }
    if valid.is_empty() {
        return Ok((vec![], vec![], vec![]));
    }
    let started = Instant::now();
    let ids: Vec<Uuid> = valid.iter().map(|_| iknow_common::id::new()).collect();
    let sql = if source == Source::Api {
        // Concurrent api batches for one pair are serialised by the lock on their actor's row, which both
        // batches upserted first (a TMDB job always sends the actors of its credits).
        "INSERT INTO filmography AS f (id, actor_id, content_id, role_name, characters, category, credit_order) \
         SELECT u.id, u.actor_id, u.content_id, u.role_name, string_to_array(u.characters, chr(31)), u.category, \
                u.credit_order \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int4[]) \
              AS u(id, actor_id, content_id, role_name, characters, category, credit_order) \
         WHERE NOT EXISTS (SELECT 1 FROM filmography x WHERE x.actor_id = u.actor_id AND x.content_id = u.content_id) \
         ON CONFLICT (actor_id, content_id, role_name) DO NOTHING \
         RETURNING f.actor_id, f.content_id"
    } else {
        "INSERT INTO filmography AS f (id, actor_id, content_id, role_name, characters, category, credit_order) \
         SELECT u.id, u.actor_id, u.content_id, u.role_name, string_to_array(u.characters, chr(31)), u.category, \
                u.credit_order \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int4[]) \
              AS u(id, actor_id, content_id, role_name, characters, category, credit_order) \
         ON CONFLICT (actor_id, content_id, role_name) DO UPDATE SET \
             characters = EXCLUDED.characters, category = EXCLUDED.category, \
             credit_order = EXCLUDED.credit_order, updated_at = now() \
         WHERE (f.characters, f.category, f.credit_order) \
               IS DISTINCT FROM (EXCLUDED.characters, EXCLUDED.category, EXCLUDED.credit_order) \
         RETURNING f.actor_id, f.content_id"
    };
    let written: Vec<(Uuid, Uuid)> = sqlx::query_as(sql)
        .bind(&ids)
        .bind(valid.iter().map(|v| v.0).collect::<Vec<_>>())
        .bind(valid.iter().map(|v| v.1).collect::<Vec<_>>())
        .bind(valid.iter().map(|v| v.2.role_name.as_str()).collect::<Vec<_>>())
        .bind(valid.iter().map(|v| v.2.characters.as_str()).collect::<Vec<_>>())
        .bind(valid.iter().map(|v| v.2.category.as_str()).collect::<Vec<_>>())
        .bind(valid.iter().map(|v| v.2.credit_order).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "upsert_credits", started);
    let actor_ids: BTreeSet<Uuid> = written.iter().map(|w| w.0).collect();
    let content_ids: BTreeSet<Uuid> = written.iter().map(|w| w.1).collect();
    Ok((actor_ids.into_iter().collect(), content_ids.into_iter().collect(), written))
}

/// Actors credited in the changed titles, and titles crediting the changed actors.
async fn dependents(
    tx: &mut sqlx::PgConnection,
    changed_actors: &[Uuid],
    changed_contents: &[Uuid],
) -> sqlx::Result<(Vec<Uuid>, Vec<Uuid>)> {
    if changed_actors.is_empty() && changed_contents.is_empty() {
        return Ok((vec![], vec![]));
    }
    let started = Instant::now();
    let actors: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT actor_id FROM filmography WHERE content_id = ANY($1)")
        .bind(changed_contents)
        .fetch_all(&mut *tx)
        .await?;
    let contents: Vec<Uuid> =
        sqlx::query_scalar("SELECT DISTINCT content_id FROM filmography WHERE actor_id = ANY($1)")
            .bind(changed_actors)
            .fetch_all(&mut *tx)
            .await?;
    iknow_common::metrics::record_db_query(SERVICE, "dependents", started);
    Ok((actors, contents))
}
