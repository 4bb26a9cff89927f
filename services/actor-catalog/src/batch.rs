//! Batch reads for services that join a user's titles against the catalogue: the filmographies of many
//! actors (`GetFilmographies`) and the casts of many titles (`GetCasts`), each in one or two SQL queries
//! with `= ANY($1)`, never one query per id.

use std::collections::HashMap;
use std::time::Instant;

use iknow_common::Error;
use iknow_proto::catalog::v1::{
    ActorFilmography, CastCredit, CastMember, ContentCast, FilmographyCredit, FilmographyEntry,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::rows::{CastRow, JoinedCreditRow, maybe_content_ref};

/// Most actor ids one `GetFilmographies` call may ask for.
pub const MAX_FILMOGRAPHY_IDS: usize = 1_000;
/// Most title ids one `GetCasts` call may ask for.
pub const MAX_CAST_IDS: usize = 5_000;

fn timed(query: &'static str, started: Instant) {
    iknow_common::metrics::record_db_query("actor-catalog", query, started);
}

/// Parses `ids` (UUIDs, at most `max`), dropping repeats and keeping the first-seen order; `field` names
/// the request field in a violation.
pub fn parse_ids(ids: &[String], max: usize, field: &str) -> Result<Vec<Uuid>, Error> {
    if ids.len() > max {
        return Err(Error::field(field, &format!("at most {max} ids")));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let mut out = Vec::with_capacity(ids.len());
    for s in ids {
        let id = iknow_common::id::parse(s).ok_or_else(|| Error::field(field, "must be UUIDs"))?;
        if seen.insert(id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// One credit of an actor (none: an actor without credits), with the series of an episode.
#[derive(sqlx::FromRow)]
struct FilmographyRow {
    actor_id: Uuid,
    #[sqlx(flatten)]
    credit: JoinedCreditRow,
    series_id: Option<Uuid>,
    series_imdb_id: Option<String>,
    series_title: Option<String>,
    series_type: Option<String>,
    series_year: Option<i32>,
}

/// The credits of every known actor of `ids` (one query), in `ids` order; unknown ids are left out, an
/// actor without credits has an empty list. Credits newest first, as `GetActor` lists them.
pub async fn filmographies(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<ActorFilmography>, Error> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let rows: Vec<FilmographyRow> = sqlx::query_as(
        "SELECT a.id AS actor_id, c.id AS content_id, c.imdb_id, c.title, c.content_type, \
                c.release_year::int4 AS year, f.role_name, f.characters, f.category, f.credit_order, \
                p.id AS series_id, p.imdb_id AS series_imdb_id, p.title AS series_title, \
                p.content_type AS series_type, p.release_year::int4 AS series_year \
         FROM actors a \
         LEFT JOIN filmography f ON f.actor_id = a.id \
         LEFT JOIN content c ON c.id = f.content_id \
         LEFT JOIN content p ON p.id = c.parent_id \
         WHERE a.id = ANY($1) \
         ORDER BY a.id, c.release_year DESC NULLS LAST, f.credit_order ASC NULLS LAST, c.title, f.role_name",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    timed("filmographies_of_actors", started);
    let mut by_actor: HashMap<Uuid, Vec<FilmographyCredit>> = HashMap::with_capacity(ids.len());
    for r in rows {
        let credits = by_actor.entry(r.actor_id).or_default();
        let series =
            maybe_content_ref(r.series_id, r.series_imdb_id, r.series_title, r.series_type.as_deref(), r.series_year);
        let Some((content, role)) = r.credit.into_credit() else { continue };
        credits.push(FilmographyCredit {
            entry: Some(FilmographyEntry {
                content: Some(content),
                role_name: role.role_name,
                characters: role.characters,
                category: role.category,
                credit_order: role.credit_order,
                ..Default::default()
            }),
            series,
        });
    }
    Ok(ids
        .iter()
        .filter_map(|id| by_actor.remove(id).map(|credits| ActorFilmography { actor_id: id.to_string(), credits }))
        .collect())
}

/// A title asked for and its series, when it is an episode.
#[derive(sqlx::FromRow)]
struct TitleParentRow {
    id: Uuid,
    parent_id: Option<Uuid>,
}

/// A cast member of one of the titles asked for.
#[derive(sqlx::FromRow)]
struct ContentCastRow {
    content_id: Uuid,
    #[sqlx(flatten)]
    member: CastRow,
}

/// The casts of every known title of `ids` (two queries: the titles, then every credit of them and, when
/// `with_series`, of their series), in `ids` order; unknown ids are left out. Each cast is in credit order;
/// an episode's series regulars follow its own cast, without the actors already credited on the episode. For an
/// episode, each member carries the episodes of the series they are in and the cast the series' episode count
/// (one more query, on `series_cast`).
pub async fn casts(pool: &PgPool, ids: &[Uuid], with_series: bool) -> Result<Vec<ContentCast>, Error> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let started = Instant::now();
    let titles: Vec<TitleParentRow> =
        sqlx::query_as("SELECT id, parent_id FROM content WHERE id = ANY($1)").bind(ids).fetch_all(pool).await?;
    timed("titles_of_casts", started);
    let mut wanted: Vec<Uuid> = titles.iter().map(|t| t.id).collect();
    if with_series {
        wanted.extend(titles.iter().filter_map(|t| t.parent_id));
        wanted.sort_unstable();
        wanted.dedup();
    }
    let started = Instant::now();
    let rows: Vec<ContentCastRow> = sqlx::query_as(
        "SELECT f.content_id, a.id AS actor_id, a.imdb_id AS actor_imdb_id, a.name AS actor_name, f.role_name, \
                f.characters, f.category, f.credit_order, a.profile_image_url \
         FROM filmography f JOIN actors a ON a.id = f.actor_id \
         WHERE f.content_id = ANY($1) \
         ORDER BY f.content_id, f.credit_order ASC NULLS LAST, a.name, f.role_name",
    )
    .bind(&wanted)
    .fetch_all(pool)
    .await?;
    timed("casts_of_contents", started);
    let mut by_content: HashMap<Uuid, Vec<CastMember>> = HashMap::new();
    for r in rows {
        by_content.entry(r.content_id).or_default().push(r.member.into());
    }
    // For episodes: how many episodes of its series each cast member is in, and how many the series has.
    let series: Vec<Uuid> = {
        let mut s: Vec<Uuid> = titles.iter().filter_map(|t| t.parent_id).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let actors: Vec<Uuid> = {
        let mut a: Vec<Uuid> = titles
            .iter()
            .filter(|t| t.parent_id.is_some())
            .flat_map(|t| by_content.get(&t.id).into_iter().flatten())
            .chain(series.iter().flat_map(|s| by_content.get(s).into_iter().flatten()))
            .filter_map(|m| Uuid::parse_str(&m.actor_id).ok())
            .collect();
        a.sort_unstable();
        a.dedup();
        a
    };
    let (per_actor, totals) = crate::series_cast::episode_counts(pool, &series, &actors).await?;
    let parents: HashMap<Uuid, Option<Uuid>> = titles.into_iter().map(|t| (t.id, t.parent_id)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| {
            let parent = *parents.get(id)?;
            let own = by_content.get(id).cloned().unwrap_or_default();
            let episodes_of = |m: &CastMember| {
                let (Some(series), Ok(actor)) = (parent, Uuid::parse_str(&m.actor_id)) else { return 0 };
                per_actor.get(&(series, actor)).copied().unwrap_or_default()
            };
            let mut cast: Vec<CastCredit> = own
                .into_iter()
                .map(|m| CastCredit { series_episodes: episodes_of(&m), member: Some(m), series_regular: false })
                .collect();
            if let (true, Some(series)) = (with_series, parent) {
                let credited: std::collections::HashSet<String> =
                    cast.iter().filter_map(|c| c.member.as_ref().map(|m| m.actor_id.clone())).collect();
                let regulars = by_content.get(&series).map(Vec::as_slice).unwrap_or_default();
                let mut added = std::collections::HashSet::new();
                for m in regulars {
                    if !credited.contains(&m.actor_id) && added.insert(m.actor_id.clone()) {
                        cast.push(CastCredit {
                            member: Some(m.clone()),
                            series_regular: true,
                            series_episodes: episodes_of(m),
                        });
                    }
                }
            }
            Some(ContentCast {
                content_id: id.to_string(),
                series_id: parent.map(|p| p.to_string()).unwrap_or_default(),
                cast,
                series_episode_total: parent.and_then(|p| totals.get(&p)).copied().unwrap_or_default(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_capped_deduplicated_and_checked() {
        let a = Uuid::now_v7().to_string();
        let b = Uuid::now_v7().to_string();
        let ids = parse_ids(&[a.clone(), b.clone(), a.clone()], 3, "ids").unwrap();
        assert_eq!(ids.iter().map(Uuid::to_string).collect::<Vec<_>>(), [a.clone(), b]);
        assert!(matches!(parse_ids(&vec![a.clone(); 4], 3, "ids"), Err(Error::Validation { .. })));
        assert!(matches!(parse_ids(&["nope".into()], 3, "contentIds"), Err(Error::Validation { .. })));
    }
}
