//! A series' aggregated cast (table `series_cast`, migration 0007): its own credits plus every episode's, one
//! row per actor with every character, the episode count and the first and last appearance. Written where
//! credits are written, never computed per request:
//! - `UpsertBatch` refreshes the (series, actor) pairs of the credits it wrote ([`refresh_pairs`]) and whole
//!   series whose episodes it linked, moved or renamed ([`refresh_series`]), in the batch's transaction;
//! - a bulk load refreshes everything once, after its swap ([`refresh_all`]).
//!
//! Reads: [`of_one`] (a series' cast in order: most episodes, then billing), [`of_series`] (the casts of some
//! series, for identification) and [`episode_counts`] (how many episodes an episode's cast members and its series
//! have, for familiar faces).

use std::collections::HashMap;
use std::time::Instant;

use iknow_proto::catalog::v1::{CastMember, EpisodeRef};
use iknow_search::matcher::WordFilter;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

const SERVICE: &str = "actor-catalog";

fn timed(query: &'static str, started: Instant) {
    iknow_common::metrics::record_db_query(SERVICE, query, started);
}

/// The aggregation over `credits` (a CTE the caller defines with the columns below), as rows of `series_cast`.
/// Episodes sort by season, then number (unknown last), then year and title; a member's characters, those credited
/// on the series title first (TVmaze credits a regular's on no episode), then by most episodes.
const AGGREGATE: &str = "\
    chars AS ( \
      SELECT series_id, actor_id, ch, count(DISTINCT episode_id) AS n, bool_or(on_series) AS on_series \
      FROM credits, LATERAL unnest(CASE WHEN cardinality(characters) > 0 THEN characters \
                                        ELSE ARRAY[role_name] END) AS ch \
      WHERE ch <> '' \
      GROUP BY 1, 2, 3), \
    roles AS ( \
      SELECT series_id, actor_id, \
             array_agg(ch ORDER BY on_series DESC, n DESC, ch) AS characters, \
             array_agg(n::int4 ORDER BY on_series DESC, n DESC, ch) AS character_episodes \
      FROM chars GROUP BY 1, 2), \
    agg AS ( \
      SELECT series_id, actor_id, count(DISTINCT episode_id)::int4 AS episode_count, \
             bool_or(on_series) AS on_series, \
             COALESCE(min(credit_order) FILTER (WHERE on_series), min(credit_order)) AS credit_order, \
             (array_agg(category ORDER BY on_series DESC, credit_order NULLS LAST))[1] AS category, \
             (array_agg(ROW(episode_id, season_number, episode_number, episode_title, release_year)::series_cast_episode \
                ORDER BY season_number NULLS LAST, episode_number NULLS LAST, release_year NULLS LAST, episode_title) \
                FILTER (WHERE NOT on_series)) AS episodes \
      FROM credits GROUP BY 1, 2) \
    SELECT a.series_id, a.actor_id, COALESCE(r.characters, '{}'), COALESCE(r.character_episodes, '{}'), \
           a.episode_count, a.on_series, a.credit_order, a.category, \
           (a.episodes[1]).id, (a.episodes[1]).season, (a.episodes[1]).episode, (a.episodes[1]).title, \
           (a.episodes[1]).year, \
           (a.episodes[cardinality(a.episodes)]).id, (a.episodes[cardinality(a.episodes)]).season, \
           (a.episodes[cardinality(a.episodes)]).episode, (a.episodes[cardinality(a.episodes)]).title, \
           (a.episodes[cardinality(a.episodes)]).year \
    FROM agg a LEFT JOIN roles r USING (series_id, actor_id)";

const INSERT: &str = "INSERT INTO series_cast (series_id, actor_id, characters, character_episodes, episode_count, \
    on_series, credit_order, category, first_episode_id, first_season, first_episode, first_title, first_year, \
    last_episode_id, last_season, last_episode, last_title, last_year) ";

const UPSERT_TAIL: &str = " ON CONFLICT (series_id, actor_id) DO UPDATE SET characters = EXCLUDED.characters, \
    character_episodes = EXCLUDED.character_episodes, episode_count = EXCLUDED.episode_count, \
    on_series = EXCLUDED.on_series, credit_order = EXCLUDED.credit_order, category = EXCLUDED.category, \
    first_episode_id = EXCLUDED.first_episode_id, first_season = EXCLUDED.first_season, \
    first_episode = EXCLUDED.first_episode, first_title = EXCLUDED.first_title, first_year = EXCLUDED.first_year, \
    last_episode_id = EXCLUDED.last_episode_id, last_season = EXCLUDED.last_season, \
    last_episode = EXCLUDED.last_episode, last_title = EXCLUDED.last_title, last_year = EXCLUDED.last_year";

/// The `credits` CTE: episode credits (`episodes` filters `e` and `f`) and credits on series titles (`series`
/// filters `s` and `f`).
fn credits(episodes: &str, series: &str) -> String {
    format!(
        "WITH credits AS ( \
           SELECT e.parent_id AS series_id, f.actor_id, e.id AS episode_id, e.season_number, e.episode_number, \
                  e.title AS episode_title, e.release_year::int4 AS release_year, f.characters, f.role_name, \
                  f.credit_order, f.category, false AS on_series \
           {episodes} \
           UNION ALL \
           SELECT s.id, f.actor_id, NULL::uuid, NULL::int4, NULL::int4, NULL::varchar, NULL::int4, f.characters, \
                  f.role_name, f.credit_order, f.category, true \
           {series}), "
    )
}

/// Recomputes the rows of the (series, actor) pairs `series[i]`, `actors[i]` (credits written on an episode
/// or on a series title); a pair left without credits loses its row.
pub async fn refresh_pairs(tx: &mut PgConnection, series: &[Uuid], actors: &[Uuid]) -> sqlx::Result<()> {
    if series.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    sqlx::query(
        "DELETE FROM series_cast sc USING UNNEST($1::uuid[], $2::uuid[]) AS p(series_id, actor_id) \
         WHERE sc.series_id = p.series_id AND sc.actor_id = p.actor_id",
    )
    .bind(series)
    .bind(actors)
    .execute(&mut *tx)
    .await?;
    let sql = format!(
        "{}{}{}{}",
        INSERT,
        // One index walk of each actor's credits, then each credit's title by id: `OFFSET 0` keeps the planner,
        // which cannot estimate the UNNEST, from walking every episode of the series for each pair instead
        // (9 s for a batch of 5,000 credits of one 1,000-episode series; 0.8 s so, cold).
        credits(
            "FROM UNNEST($1::uuid[], $2::uuid[]) AS p(series_id, actor_id) \
             CROSS JOIN LATERAL (SELECT x.* FROM filmography x WHERE x.actor_id = p.actor_id OFFSET 0) f \
             CROSS JOIN LATERAL (SELECT y.* FROM content y WHERE y.id = f.content_id OFFSET 0) e \
             WHERE e.parent_id = p.series_id",
            "FROM UNNEST($1::uuid[], $2::uuid[]) AS p(series_id, actor_id) \
             CROSS JOIN LATERAL (SELECT x.* FROM filmography x \
                                 WHERE x.actor_id = p.actor_id AND x.content_id = p.series_id) f \
             JOIN content s ON s.id = f.content_id AND s.content_type = 'series'",
        ),
        AGGREGATE,
        UPSERT_TAIL
    );
    sqlx::query(&sql).bind(series).bind(actors).execute(&mut *tx).await?;
    timed("series_cast_pairs", started);
    Ok(())
}

/// Recomputes every row of `series` (episodes linked, moved or renamed).
pub async fn refresh_series(tx: &mut PgConnection, series: &[Uuid]) -> sqlx::Result<()> {
    if series.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    sqlx::query("DELETE FROM series_cast WHERE series_id = ANY($1)").bind(series).execute(&mut *tx).await?;
    let sql = format!(
        "{}{}{}{}",
        INSERT,
        credits(
            "FROM content e JOIN filmography f ON f.content_id = e.id WHERE e.parent_id = ANY($1)",
            "FROM content s JOIN filmography f ON f.content_id = s.id \
             WHERE s.id = ANY($1) AND s.content_type = 'series'",
        ),
        AGGREGATE,
        UPSERT_TAIL
    );
    sqlx::query(&sql).bind(series).execute(&mut *tx).await?;
    timed("series_cast_series", started);
    Ok(())
}

/// Recomputes the whole table (after a bulk load).
pub async fn refresh_all(tx: &mut PgConnection) -> sqlx::Result<u64> {
    let started = Instant::now();
    sqlx::query("DELETE FROM series_cast").execute(&mut *tx).await?;
    let sql = format!(
        "{}{}{}",
        INSERT,
        credits(
            "FROM content e JOIN filmography f ON f.content_id = e.id WHERE e.parent_id IS NOT NULL",
            "FROM content s JOIN filmography f ON f.content_id = s.id WHERE s.content_type = 'series'",
        ),
        AGGREGATE
    );
    let n = sqlx::query(&sql).execute(&mut *tx).await?.rows_affected();
    timed("series_cast_all", started);
    Ok(n)
}

/// The series whose aggregated cast a batch must refresh (in one query): the series of each episode whose link
/// changed, before and after (`linked`: the episode and its previous series), and of each changed episode (its
/// title, number or year shows as an appearance). A changed series' own row changes none of its cast.
pub async fn series_of(
    tx: &mut PgConnection,
    linked: &[(Uuid, Option<Uuid>)],
    changed: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    if linked.is_empty() && changed.is_empty() {
        return Ok(vec![]);
    }
    let episodes: Vec<Uuid> = linked.iter().map(|l| l.0).chain(changed.iter().copied()).collect();
    let previous: Vec<Uuid> = linked.iter().filter_map(|l| l.1).collect();
    sqlx::query_scalar(
        "SELECT parent_id FROM content WHERE id = ANY($1) AND parent_id IS NOT NULL \
         UNION SELECT id FROM content WHERE id = ANY($2) AND content_type = 'series'",
    )
    .bind(&episodes)
    .bind(&previous)
    .fetch_all(&mut *tx)
    .await
}

/// The (series, actor) pairs of written credits `(actor, title)`: the title's series for an episode, the title
/// for a series; movies have none.
pub async fn pairs_of(tx: &mut PgConnection, credits: &[(Uuid, Uuid)]) -> sqlx::Result<(Vec<Uuid>, Vec<Uuid>)> {
    if credits.is_empty() {
        return Ok((vec![], vec![]));
    }
    let actors: Vec<Uuid> = credits.iter().map(|c| c.0).collect();
    let titles: Vec<Uuid> = credits.iter().map(|c| c.1).collect();
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT DISTINCT COALESCE(c.parent_id, c.id), p.actor_id \
         FROM UNNEST($1::uuid[], $2::uuid[]) AS p(actor_id, content_id) \
         CROSS JOIN LATERAL (SELECT x.id, x.parent_id, x.content_type FROM content x WHERE x.id = p.content_id) c \
         WHERE c.parent_id IS NOT NULL OR c.content_type = 'series' \
         ORDER BY 1, 2",
    )
    .bind(&actors)
    .bind(&titles)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().unzip())
}

/// The series whose aggregated cast shows one of `actors` (their name or photo changed).
pub async fn series_showing(tx: &mut PgConnection, actors: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    if actors.is_empty() {
        return Ok(vec![]);
    }
    sqlx::query_scalar("SELECT DISTINCT series_id FROM series_cast WHERE actor_id = ANY($1)")
        .bind(actors)
        .fetch_all(&mut *tx)
        .await
}

#[derive(sqlx::FromRow)]
struct Row {
    series_id: Uuid,
    actor_id: Uuid,
    actor_imdb_id: Option<String>,
    actor_name: String,
    profile_image_url: Option<String>,
    characters: Vec<String>,
    character_episodes: Vec<i32>,
    episode_count: i32,
    on_series: bool,
    credit_order: Option<i32>,
    category: String,
    first_episode_id: Option<Uuid>,
    first_season: Option<i32>,
    first_episode: Option<i32>,
    first_title: Option<String>,
    first_year: Option<i32>,
    last_episode_id: Option<Uuid>,
    last_season: Option<i32>,
    last_episode: Option<i32>,
    last_title: Option<String>,
    last_year: Option<i32>,
}

const SELECT: &str = "SELECT sc.series_id, sc.actor_id, a.imdb_id AS actor_imdb_id, a.name AS actor_name, \
    a.profile_image_url, sc.characters, sc.character_episodes, sc.episode_count, sc.on_series, sc.credit_order, \
    sc.category, sc.first_episode_id, sc.first_season, sc.first_episode, sc.first_title, \
    sc.first_year::int4 AS first_year, sc.last_episode_id, sc.last_season, sc.last_episode, sc.last_title, \
    sc.last_year::int4 AS last_year \
    FROM series_cast sc CROSS JOIN LATERAL (SELECT x.imdb_id, x.name, x.profile_image_url FROM actors x \
                                            WHERE x.id = sc.actor_id) a";

/// The order of a series' cast: its regulars (credited on the series title) first in their billing, then the
/// others by most episodes, then billing (unknown last), then name. Regulars lead because many sources credit them
/// on the series alone (TVmaze: on no episode at all, so their episode counts say nothing).
const ORDER: &str = "sc.on_series DESC, CASE WHEN sc.on_series THEN sc.credit_order END ASC NULLS LAST, \
    sc.episode_count DESC, sc.credit_order ASC NULLS LAST, a.name, sc.actor_id";

fn episode(
    id: Option<Uuid>,
    season: Option<i32>,
    number: Option<i32>,
    title: Option<String>,
    year: Option<i32>,
) -> Option<EpisodeRef> {
    id.map(|id| EpisodeRef {
        id: id.to_string(),
        season_number: season,
        episode_number: number,
        title: title.unwrap_or_default(),
        year,
    })
}

impl From<Row> for SeriesCastRow {
    fn from(r: Row) -> Self {
        let member = CastMember {
            actor_id: r.actor_id.to_string(),
            actor_imdb_id: r.actor_imdb_id.unwrap_or_default(),
            actor_name: r.actor_name,
            role_name: r.characters.first().cloned().unwrap_or_default(),
            characters: r.characters,
            category: r.category,
            credit_order: r.credit_order.unwrap_or_default(),
            profile_image_url: r.profile_image_url.unwrap_or_default(),
            episode_count: u32::try_from(r.episode_count).unwrap_or_default(),
            character_episodes: r
                .character_episodes
                .into_iter()
                .map(|n| u32::try_from(n).unwrap_or_default())
                .collect(),
            first_appearance: episode(r.first_episode_id, r.first_season, r.first_episode, r.first_title, r.first_year),
            last_appearance: episode(r.last_episode_id, r.last_season, r.last_episode, r.last_title, r.last_year),
            on_series: r.on_series,
        };
        SeriesCastRow { series_id: r.series_id, member }
    }
}

/// A series' aggregated cast in order, each member with the normalised tokens of its name and of each of its
/// characters as identification compares them, every distinct token numbered once (tokenising and comparing
/// thousands of names per request cost more than the rest of a request).
#[derive(Debug, Clone, Default)]
pub struct PreparedCast {
    pub members: Vec<PreparedMember>,
    /// Every distinct token of the characters and names; a member's `*_ids` index it.
    pub tokens: Vec<String>,
    /// [`iknow_search::matcher::letters`] of each token.
    pub token_letters: Vec<u64>,
}

/// One member of a [`PreparedCast`].
#[derive(Debug, Clone)]
pub struct PreparedMember {
    pub member: CastMember,
    /// The tokens of each of `member.characters`, in order, and their numbers in [`PreparedCast::tokens`].
    pub characters: Vec<Vec<String>>,
    pub character_ids: Vec<Vec<u32>>,
    pub name: Vec<String>,
    pub name_ids: Vec<u32>,
    /// [`iknow_search::matcher::letters`] of every character, and of the name: what the prefilter compares.
    pub character_letters: u64,
    pub name_letters: u64,
}

/// [`PreparedCast`] of one cast.
pub fn prepare(cast: Vec<CastMember>) -> PreparedCast {
    use iknow_search::matcher::{letters, tokens};
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut distinct: Vec<String> = Vec::new();
    let mut number = |t: &String| -> u32 {
        *numbers.entry(t.clone()).or_insert_with(|| {
            distinct.push(t.clone());
            (distinct.len() - 1) as u32
        })
    };
    let members = cast
        .into_iter()
        .map(|m| {
            let characters: Vec<Vec<String>> = m.characters.iter().map(|c| tokens(c)).collect();
            let character_ids = characters.iter().map(|c| c.iter().map(&mut number).collect()).collect();
            let name = tokens(&m.actor_name);
            let name_ids = name.iter().map(&mut number).collect();
            PreparedMember {
                character_letters: characters.iter().map(|t| letters(t)).fold(0, |a, b| a | b),
                name_letters: letters(&name),
                characters,
                character_ids,
                name,
                name_ids,
                member: m,
            }
        })
        .collect();
    let token_letters = distinct.iter().map(|t| letters(&[t])).collect();
    PreparedCast { members, tokens: distinct, token_letters }
}

/// Word scores of one query against a [`PreparedCast`]'s distinct tokens, each computed once, when first asked.
pub struct WordScores<'a> {
    query: &'a [String],
    cast: &'a PreparedCast,
    /// Each query word's letter filter: a token it cannot match is scored 0 without comparing.
    words: Vec<WordFilter>,
    /// Query word `i`, token `t` at `i * tokens.len() + t`; negative until computed.
    scores: Vec<f32>,
}

impl<'a> WordScores<'a> {
    pub fn new(query: &'a [String], cast: &'a PreparedCast) -> Self {
        let words = query.iter().map(|w| WordFilter::new(w)).collect();
        Self { query, cast, words, scores: vec![-1.0; query.len() * cast.tokens.len()] }
    }

    /// [`iknow_search::matcher::similarity`] of the query and a tokenised text whose token numbers are `ids`.
    pub fn similarity(&mut self, text: &[String], ids: &[u32]) -> f32 {
        let n = self.cast.tokens.len();
        let (query, cast, words, scores) = (self.query, self.cast, &self.words, &mut self.scores);
        iknow_search::matcher::similarity_by(query, text, |qi, ci| {
            let t = ids[ci] as usize;
            let slot = &mut scores[qi * n + t];
            if *slot < 0.0 {
                *slot = if words[qi].may_match(cast.token_letters[t]) {
                    iknow_search::matcher::word_score(&query[qi], &cast.tokens[t])
                } else {
                    0.0
                };
            }
            *slot
        })
    }
}

/// One member of a series' aggregated cast.
#[derive(Debug, Clone)]
pub struct SeriesCastRow {
    pub series_id: Uuid,
    pub member: CastMember,
}

/// The whole aggregated cast of one series, in order (most episodes, then billing).
pub async fn of_one(pool: &PgPool, series: Uuid) -> sqlx::Result<Vec<CastMember>> {
    let started = Instant::now();
    let sql = format!("{SELECT} WHERE sc.series_id = $1 ORDER BY {ORDER}");
    let rows: Vec<Row> = sqlx::query_as(&sql).bind(series).fetch_all(pool).await?;
    timed("series_cast_of_series", started);
    Ok(rows.into_iter().map(|r| SeriesCastRow::from(r).member).collect())
}

/// The aggregated casts of many series (one query), each in order.
pub async fn of_series(pool: &PgPool, series: &[Uuid]) -> sqlx::Result<HashMap<Uuid, Vec<CastMember>>> {
    let mut out: HashMap<Uuid, Vec<CastMember>> = HashMap::new();
    if series.is_empty() {
        return Ok(out);
    }
    let started = Instant::now();
    let sql = format!("{SELECT} WHERE sc.series_id = ANY($1) ORDER BY sc.series_id, {ORDER}");
    let rows: Vec<Row> = sqlx::query_as(&sql).bind(series).fetch_all(pool).await?;
    timed("series_cast_of_many", started);
    for r in rows {
        let row = SeriesCastRow::from(r);
        out.entry(row.series_id).or_default().push(row.member);
    }
    Ok(out)
}

/// For familiar faces: the episodes each of `actors` is credited on in `series`, and the episodes each series
/// has, in two queries.
pub async fn episode_counts(
    pool: &PgPool,
    series: &[Uuid],
    actors: &[Uuid],
) -> sqlx::Result<(HashMap<(Uuid, Uuid), u32>, HashMap<Uuid, u32>)> {
    if series.is_empty() {
        return Ok((HashMap::new(), HashMap::new()));
    }
    let started = Instant::now();
    let per_actor: Vec<(Uuid, Uuid, i32)> = sqlx::query_as(
        "SELECT series_id, actor_id, episode_count FROM series_cast \
         WHERE series_id = ANY($1) AND actor_id = ANY($2)",
    )
    .bind(series)
    .bind(actors)
    .fetch_all(pool)
    .await?;
    let totals: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT parent_id, count(*) FROM content WHERE parent_id = ANY($1) GROUP BY parent_id")
            .bind(series)
            .fetch_all(pool)
            .await?;
    timed("series_episode_counts", started);
    Ok((
        per_actor.into_iter().map(|(s, a, n)| ((s, a), u32::try_from(n).unwrap_or_default())).collect(),
        totals.into_iter().map(|(s, n)| (s, u32::try_from(n).unwrap_or_default())).collect(),
    ))
}
