//! The only write path: one `UpsertBatch` in one transaction (contents → episode links → actors → credits),
//! bulk statements over UNNEST arrays, and `ON CONFLICT ... WHERE ... IS DISTINCT FROM` so unchanged rows are
//! neither written nor counted.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use iknow_proto::catalog::v1::{RejectedRow, UpsertBatchRequest, UpsertBatchResponse};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::prepare::{self, reject};

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

/// Writes one batch; rows that cannot be written are returned in `rejected` rather than failing the batch.
/// With `announce`, the `actor.upserted` / `content.upserted` events of the touched rows go into the outbox in
/// the same transaction, so other replicas hear of exactly the writes that committed.
pub async fn upsert_batch(
    pool: &PgPool,
    req: UpsertBatchRequest,
    announce: Option<&crate::events::Announce>,
) -> sqlx::Result<Outcome> {
    let mut rejected: Vec<RejectedRow> = vec![];
    let contents = prepare::contents(req.contents, &mut rejected);
    let episodes = prepare::episodes(req.episodes, &mut rejected);
    let actors = prepare::actors(req.actors, &mut rejected);
    let credits = prepare::credits(req.credits, &mut rejected);

    let mut tx = pool.begin().await?;
    let changed_contents = upsert_contents(&mut tx, &contents).await?;
    let linked = link_episodes(&mut tx, &episodes, &mut rejected).await?;
    let changed_actors = upsert_actors(&mut tx, &actors).await?;
    let (credit_actors, credit_contents, credits_written) = upsert_credits(&mut tx, &credits, &mut rejected).await?;
    update_popularity(&mut tx, &credit_actors, &credit_contents).await?;
    // A changed title shows in its actors' filmographies, a changed actor in its titles' casts.
    let (dep_actors, dep_contents) = dependents(&mut tx, &changed_actors, &changed_contents).await?;

    let response = UpsertBatchResponse {
        actors_written: count(changed_actors.len()),
        contents_written: count(changed_contents.len()),
        credits_written: count(credits_written),
        episodes_linked: count(linked.len()),
        rejected,
    };
    let touched_actors: Vec<Uuid> = changed_actors
        .into_iter()
        .chain(credit_actors)
        .chain(dep_actors)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let touched_contents: Vec<Uuid> = changed_contents
        .into_iter()
        .chain(linked)
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

async fn upsert_contents(tx: &mut PgConnection, rows: &[prepare::ContentRow]) -> sqlx::Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    // New rows get a UUID v7 made here; on conflict the existing id stays.
    let ids: Vec<Uuid> = rows.iter().map(|_| iknow_common::id::new()).collect();
    let changed: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO content AS c (id, imdb_id, content_type, title, original_title, is_adult, release_year, \
                                   end_year, runtime_minutes, genres, has_release_date) \
         SELECT u.id, u.imdb_id, u.content_type, u.title, u.original_title, u.is_adult, u.release_year, \
                u.end_year, u.runtime_minutes, string_to_array(u.genres, chr(31)), u.release_year IS NOT NULL \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::int2[], \
                     $8::int2[], $9::int4[], $10::text[]) \
              AS u(id, imdb_id, content_type, title, original_title, is_adult, release_year, end_year, \
                   runtime_minutes, genres) \
         ON CONFLICT (imdb_id) DO UPDATE SET \
             content_type = EXCLUDED.content_type, title = EXCLUDED.title, \
             original_title = EXCLUDED.original_title, is_adult = EXCLUDED.is_adult, \
             release_year = EXCLUDED.release_year, end_year = EXCLUDED.end_year, \
             runtime_minutes = EXCLUDED.runtime_minutes, genres = EXCLUDED.genres, \
             has_release_date = EXCLUDED.has_release_date, \
             parent_id = CASE WHEN EXCLUDED.content_type = 'episode' THEN c.parent_id END, \
             updated_at = now() \
         WHERE (c.content_type, c.title, c.original_title, c.is_adult, c.release_year, c.end_year, \
                c.runtime_minutes, c.genres) \
               IS DISTINCT FROM (EXCLUDED.content_type, EXCLUDED.title, EXCLUDED.original_title, \
                EXCLUDED.is_adult, EXCLUDED.release_year, EXCLUDED.end_year, EXCLUDED.runtime_minutes, \
                EXCLUDED.genres) \
         RETURNING c.id",
    )
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
    .fetch_all(&mut *tx)
    .await?;
    iknow_common::metrics::record_db_query(SERVICE, "upsert_contents", started);
    Ok(changed)
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

async fn link_episodes(
    tx: &mut PgConnection,
    rows: &[prepare::EpisodeRow],
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<Vec<Uuid>> {
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
    let linked: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE content AS e SET parent_id = u.series_id, season_number = u.season, \
                episode_number = u.episode, updated_at = now() \
         FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::int4[]) AS u(episode_id, series_id, season, episode) \
         WHERE e.id = u.episode_id \
           AND (e.parent_id, e.season_number, e.episode_number) IS DISTINCT FROM (u.series_id, u.season, u.episode) \
         RETURNING e.id",
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

async fn upsert_actors(tx: &mut PgConnection, rows: &[prepare::ActorRow]) -> sqlx::Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let ids: Vec<Uuid> = rows.iter().map(|_| iknow_common::id::new()).collect();
    let changed: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO actors AS a (id, imdb_id, name, birth_year, death_year, professions, known_for_imdb_ids) \
         SELECT u.id, u.imdb_id, u.name, u.birth_year, u.death_year, string_to_array(u.professions, chr(31)), \
                string_to_array(u.known_for, chr(31)) \
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int2[], $5::int2[], $6::text[], $7::text[]) \
              AS u(id, imdb_id, name, birth_year, death_year, professions, known_for) \
         ON CONFLICT (imdb_id) DO UPDATE SET \
             name = EXCLUDED.name, birth_year = EXCLUDED.birth_year, death_year = EXCLUDED.death_year, \
             professions = EXCLUDED.professions, known_for_imdb_ids = EXCLUDED.known_for_imdb_ids, \
             updated_at = now() \
         WHERE (a.name, a.birth_year, a.death_year, a.professions, a.known_for_imdb_ids) \
               IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.birth_year, EXCLUDED.death_year, EXCLUDED.professions, \
                                 EXCLUDED.known_for_imdb_ids) \
         RETURNING a.id",
    )
    .bind(&ids)
    .bind(rows.iter().map(|r| r.imdb_id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.birth_year).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.death_year).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.professions.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.known_for.as_str()).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    iknow_common::metrics::record_db_query(SERVICE, "upsert_actors", started);
    Ok(changed)
}

/// Returns the actors and titles of the credits written, and how many were written.
async fn upsert_credits(
    tx: &mut PgConnection,
    rows: &[prepare::CreditRow],
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<(Vec<Uuid>, Vec<Uuid>, usize)> {
    if rows.is_empty() {
        return Ok((vec![], vec![], 0));
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
    if valid.is_empty() {
        return Ok((vec![], vec![], 0));
    }
    let started = Instant::now();
    let ids: Vec<Uuid> = valid.iter().map(|_| iknow_common::id::new()).collect();
    let written: Vec<(Uuid, Uuid)> = sqlx::query_as(
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
         RETURNING f.actor_id, f.content_id",
    )
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
    let n = written.len();
    let actor_ids: BTreeSet<Uuid> = written.iter().map(|w| w.0).collect();
    let content_ids: BTreeSet<Uuid> = written.iter().map(|w| w.1).collect();
    Ok((actor_ids.into_iter().collect(), content_ids.into_iter().collect(), n))
}

/// Popularity, simply for now: `min(100, 20 * ln(1 + credits))` for actors and titles alike (1 credit ≈ 14,
/// 10 ≈ 48, 50 ≈ 79, 148+ = 100). A log scale keeps prolific actors apart where a linear one saturates fast.
async fn update_popularity(tx: &mut PgConnection, actor_ids: &[Uuid], content_ids: &[Uuid]) -> sqlx::Result<()> {
    if !actor_ids.is_empty() {
        let started = Instant::now();
        sqlx::query(
            "UPDATE actors AS a SET popularity_score = s.p, updated_at = now() \
             FROM (SELECT actor_id, LEAST(100, round((20 * ln(1 + count(*)))::numeric, 2)) AS p \
                   FROM filmography WHERE actor_id = ANY($1) GROUP BY actor_id) AS s \
             WHERE a.id = s.actor_id AND a.popularity_score IS DISTINCT FROM s.p",
        )
        .bind(actor_ids)
        .execute(&mut *tx)
        .await?;
        iknow_common::metrics::record_db_query(SERVICE, "actor_popularity", started);
    }
    if !content_ids.is_empty() {
        let started = Instant::now();
        sqlx::query(
            "UPDATE content AS c SET popularity_score = s.p, updated_at = now() \
             FROM (SELECT content_id, LEAST(100, round((20 * ln(1 + count(*)))::numeric, 2)) AS p \
                   FROM filmography WHERE content_id = ANY($1) GROUP BY content_id) AS s \
             WHERE c.id = s.content_id AND c.popularity_score IS DISTINCT FROM s.p",
        )
        .bind(content_ids)
        .execute(&mut *tx)
        .await?;
        iknow_common::metrics::record_db_query(SERVICE, "content_popularity", started);
    }
    Ok(())
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
