//! What identification reads: candidate titles from the title index and their rows, the episodes asked
//! about, and actors by name with their most prominent credit — one SQL query each, for every reading at once.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use iknow_common::Error;
use iknow_proto::catalog::v1::{CastMember, IdentifyCandidate};
use iknow_search::{NameIndex, Query, matcher};
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    ACTOR_ANY_CANDIDATES, ACTOR_CANDIDATES, EPISODE_UNKNOWN, INDEX_TEXT_CHARS, KEPT_TITLES, Kept, MAX_EPISODES,
    MIN_NAME_SCORE, MIN_TITLE_SCORE, NOT_A_SERIES, Scored, TITLE_CANDIDATES, title_score,
};
use crate::rows::{JoinedCreditRow, TitleRefRow, content_ref};

/// Cuts `text` to what the index accepts.
fn index_text(text: &str) -> String {
    text.chars().take(INDEX_TEXT_CHARS).collect()
}

fn timed(query: &'static str, started: Instant) {
    iknow_common::metrics::record_db_query("actor-catalog", query, started);
}

/// A candidate title: its reference, original title and popularity.
#[derive(sqlx::FromRow)]
pub(super) struct TitleRow {
    #[sqlx(flatten)]
    title: TitleRefRow,
    original_title: Option<String>,
    popularity: f64,
}

#[derive(sqlx::FromRow)]
struct EpisodeRow {
    id: Uuid,
    parent_id: Uuid,
    imdb_id: Option<String>,
    title: String,
    year: Option<i32>,
    popularity: f64,
}

/// Titles that may be the one asked: those named exactly so, those matching every word (typo- and
/// prefix-tolerant, of the year first when one is given) and, unless a title has exactly the asked name, those
/// matching any word, for a typo in a short word or an extra word. The any-word search ranks every title
/// sharing a common word ("station", "love"): on a large catalogue it cost more than the rest of the request.
pub(super) fn title_candidates(index: &NameIndex, title: &str, year: Option<i32>) -> Result<Vec<Uuid>, Error> {
    let text = index_text(title);
    let mut ids = index.exact(&text, TITLE_CANDIDATES).map_err(Error::internal)?;
    let named_exactly = !ids.is_empty();
    if year.is_some() {
        let q = Query { text: text.clone(), year, limit: TITLE_CANDIDATES / 2, ..Query::default() };
        ids.extend(index.search(&q).map_err(Error::internal)?.ids);
    }
    let q = Query { text: text.clone(), limit: TITLE_CANDIDATES, ..Query::default() };
    ids.extend(index.search(&q).map_err(Error::internal)?.ids);
    if !named_exactly {
        ids.extend(index.search_any(&text, TITLE_CANDIDATES).map_err(Error::internal)?);
    }
    Ok(ids)
}

pub(super) async fn title_rows(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<TitleRow>, Error> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let rows = sqlx::query_as(
        "SELECT id, imdb_id, title, original_title, content_type, release_year::int4 AS year, \
                popularity_score::float8 AS popularity \
         FROM content WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    timed("identify_titles", started);
    Ok(rows)
}

/// The titles of `rows` that match `query` well enough and at most `margin` below the best, best first (ties:
/// the more popular).
pub(super) fn keep_titles(query: &[String], year: Option<i32>, margin: f32, rows: &[TitleRow]) -> Vec<Kept> {
    let mut scored: Vec<(f32, &TitleRow)> = rows
        .iter()
        .map(|r| (title_score(query, &r.title.title, r.original_title.as_deref(), year, r.title.year), r))
        .filter(|(s, _)| *s >= MIN_TITLE_SCORE)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.popularity.total_cmp(&a.1.popularity)));
    let best = scored.first().map_or(0.0, |s| s.0);
    scored
        .into_iter()
        .take_while(|(s, _)| *s >= best - margin)
        .take(KEPT_TITLES)
        .map(|(score, r)| Kept {
            id: r.title.id,
            content: r.title.content_ref(),
            score,
            popularity: r.popularity,
            regulars_content: None,
        })
        .collect()
}

/// Replaces each kept series by the episodes asked (one query for all); a series without such an episode
/// keeps its own cast, a little less likely, and a movie is less likely still.
pub(super) async fn resolve_episodes(
    pool: &PgPool,
    kept: &mut [Vec<Kept>],
    rows: &[TitleRow],
    season: Option<i32>,
    episode: Option<i32>,
) -> Result<(), Error> {
    let kinds: HashMap<Uuid, &str> = rows.iter().map(|r| (r.title.id, r.title.content_type.as_str())).collect();
    let series: Vec<Uuid> = kept
        .iter()
        .flatten()
        .filter(|k| kinds.get(&k.id) == Some(&"series"))
        .map(|k| k.id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut episodes: HashMap<Uuid, Vec<EpisodeRow>> = HashMap::new();
    if !series.is_empty() {
        let started = Instant::now();
        let found: Vec<EpisodeRow> = sqlx::query_as(
            "SELECT id, parent_id, imdb_id, title, release_year::int4 AS year, \
                    popularity_score::float8 AS popularity \
             FROM content \
             WHERE parent_id = ANY($1) AND ($2::int4 IS NULL OR season_number = $2) \
               AND ($3::int4 IS NULL OR episode_number = $3) \
             ORDER BY parent_id, season_number, episode_number LIMIT $4",
        )
        .bind(&series)
        .bind(season)
        .bind(episode)
        .bind(MAX_EPISODES)
        .fetch_all(pool)
        .await?;
        timed("identify_episodes", started);
        for e in found {
            episodes.entry(e.parent_id).or_default().push(e);
        }
    }
    for titles in kept.iter_mut() {
        let mut resolved = Vec::with_capacity(titles.len());
        for k in titles.drain(..) {
            match (kinds.get(&k.id).copied(), episodes.get(&k.id)) {
                (Some("series"), Some(eps)) => {
                    let regulars = (eps.len() > 1).then(|| k.content.clone());
                    resolved.extend(eps.iter().map(|e| Kept {
                        id: e.id,
                        content: content_ref(e.id, e.imdb_id.clone(), e.title.clone(), "episode", e.year),
                        score: k.score,
                        popularity: e.popularity.max(k.popularity),
                        regulars_content: regulars.clone(),
                    }));
                }
                (Some("series"), None) => resolved.push(Kept { score: k.score * EPISODE_UNKNOWN, ..k }),
                (Some("episode"), _) => resolved.push(k),
                _ => resolved.push(Kept { score: k.score * NOT_A_SERIES, ..k }),
            }
        }
        *titles = resolved;
    }
    Ok(())
}

/// An actor found by name, with their most prominent credit (none: no credit).
#[derive(sqlx::FromRow)]
struct ActorCreditRow {
    actor_id: Uuid,
    actor_imdb_id: Option<String>,
    actor_name: String,
    profile_image_url: Option<String>,
    popularity: f64,
    #[sqlx(flatten)]
    credit: JoinedCreditRow,
}

/// The actors whose name is like `name`, each with their most prominent credit (top-billed, in a popular,
/// recent movie or series before an episode), in one query; confidence is the name similarity.
pub(super) async fn actor_candidates(
    pool: &PgPool,
    index: &NameIndex,
    name: &str,
    reading: usize,
) -> Result<Vec<Scored>, Error> {
    let wanted = matcher::tokens(name);
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    // Every word (typo-tolerant from four letters), then any word: a typo in a short word ("jake pal") or in
    // a first letter ("wen goode") leaves the other words to find the actor by.
    let text = index_text(name);
    let q = Query { text: text.clone(), limit: ACTOR_CANDIDATES, ..Query::default() };
    let mut ids = index.search(&q).map_err(Error::internal)?.ids;
    let mut seen: HashSet<Uuid> = ids.iter().copied().collect();
    for id in index.search_any(&text, ACTOR_ANY_CANDIDATES).map_err(Error::internal)? {
        if seen.insert(id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let rows: Vec<ActorCreditRow> = sqlx::query_as(
        "SELECT a.id AS actor_id, a.imdb_id AS actor_imdb_id, a.name AS actor_name, a.profile_image_url, \
                a.popularity_score::float8 AS popularity, b.content_id, b.imdb_id, b.title, b.content_type, \
                b.year, b.role_name, b.characters, b.category, b.credit_order \
         FROM actors a \
         LEFT JOIN LATERAL ( \
           SELECT c.id AS content_id, c.imdb_id, c.title, c.content_type, c.release_year::int4 AS year, \
                  f.role_name, f.characters, f.category, f.credit_order \
           FROM filmography f JOIN content c ON c.id = f.content_id \
           WHERE f.actor_id = a.id \
           ORDER BY c.content_type = 'episode', COALESCE(f.credit_order, 1000) > 3, c.popularity_score DESC, \
                    c.release_year DESC NULLS LAST, f.credit_order NULLS LAST \
           LIMIT 1) b ON true \
         WHERE a.id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    timed("identify_actors", started);
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let score = matcher::similarity(&wanted, &matcher::tokens(&r.actor_name));
            if score < MIN_NAME_SCORE {
                return None;
            }
            let (content, role) = r.credit.into_credit().unzip();
            let role = role.unwrap_or_default();
            let member = CastMember {
                actor_id: r.actor_id.to_string(),
                actor_imdb_id: r.actor_imdb_id.unwrap_or_default(),
                actor_name: r.actor_name,
                role_name: role.role_name,
                characters: role.characters,
                category: role.category,
                credit_order: role.credit_order,
                profile_image_url: r.profile_image_url.unwrap_or_default(),
                ..Default::default()
            };
            Some(Scored {
                credit_order: member.credit_order,
                episodes: 0,
                candidate: IdentifyCandidate {
                    member: Some(member),
                    content,
                    confidence: 0.0,
                    matched_by: "actor_name".into(),
                },
                confidence: score,
                popularity: r.popularity,
                reading,
            })
        })
        .collect())
}
