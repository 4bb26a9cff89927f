//! Validation and de-duplication of an `UpsertBatch` request before any SQL: rows the database would refuse
//! become `RejectedRow`s instead of failing the whole batch, and duplicates inside one batch collapse (last one
//! wins) so a bulk `INSERT ... ON CONFLICT` never touches a row twice. Output is sorted by key, so concurrent
//! batches lock rows in the same order.

use std::collections::BTreeMap;

use iknow_proto::catalog::v1::{ActorInput, ContentInput, ContentType, CreditInput, EpisodeLinkInput, RejectedRow};

use crate::store::content_type_to_db;

/// Joins text-array elements for one `text` parameter; split again in SQL with `string_to_array(x, chr(31))`.
pub const SEP: char = '\u{1f}';

/// A content row ready for SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRow {
    pub imdb_id: String,
    pub content_type: &'static str,
    pub title: String,
    pub original_title: Option<String>,
    pub is_adult: bool,
    pub year: Option<i16>,
    pub end_year: Option<i16>,
    pub runtime_minutes: Option<i32>,
    /// Genres joined by [`SEP`].
    pub genres: String,
}

/// An actor row ready for SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorRow {
    pub imdb_id: String,
    pub name: String,
    pub birth_year: Option<i16>,
    pub death_year: Option<i16>,
    /// Professions joined by [`SEP`].
    pub professions: String,
    /// Known-for IMDb ids joined by [`SEP`].
    pub known_for: String,
}

/// A credit still keyed by IMDb ids (resolved to uuids by one query per batch).
#[derive(Debug, Clone, PartialEq)]
pub struct CreditRow {
    pub actor_imdb_id: String,
    pub content_imdb_id: String,
    pub category: String,
    /// The first character, or '' (part of the credit's natural key).
    pub role_name: String,
    /// Characters joined by [`SEP`].
    pub characters: String,
    pub credit_order: Option<i32>,
}

/// An episode → series link still keyed by IMDb ids.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    pub episode_imdb_id: String,
    pub series_imdb_id: String,
    pub season_number: Option<i32>,
    pub episode_number: Option<i32>,
}

pub fn reject(kind: &str, key: &str, reason: &str) -> RejectedRow {
    RejectedRow { kind: kind.into(), key: key.into(), reason: reason.into() }
}

/// Trims and drops characters PostgreSQL text refuses (NUL) or that we use as a separator.
pub fn clean(s: &str) -> String {
    s.trim().chars().filter(|c| *c != '\0' && *c != SEP).collect()
}

fn join(items: &[String]) -> String {
    let cleaned: Vec<String> = items.iter().map(|s| clean(s)).filter(|s| !s.is_empty()).collect();
    cleaned.join(&SEP.to_string())
}

fn small_year(y: Option<i32>) -> Result<Option<i16>, ()> {
    y.map(i16::try_from).transpose().map_err(|_| ())
}

fn imdb_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20
}

pub fn contents(input: Vec<ContentInput>, rejected: &mut Vec<RejectedRow>) -> Vec<ContentRow> {
    let mut out = BTreeMap::new();
    for c in input {
        let imdb_id = clean(&c.imdb_id);
        let title = clean(&c.title);
        let original = clean(&c.original_title);
        let kind = ContentType::try_from(c.content_type).ok().and_then(content_type_to_db);
        let why = if !imdb_ok(&imdb_id) {
            Some("imdb_id must be 1..=20 characters")
        } else if title.is_empty() || title.chars().count() > 500 {
            Some("title must be 1..=500 characters")
        } else if original.chars().count() > 500 {
            Some("original_title must be at most 500 characters")
        } else if kind.is_none() {
            Some("content_type is required")
        } else {
            None
        };
        let (Ok(year), Ok(end_year)) = (small_year(c.year), small_year(c.end_year)) else {
            rejected.push(reject("content", &imdb_id, "year out of range"));
            continue;
        };
        if let Some(why) = why {
            rejected.push(reject("content", &imdb_id, why));
            continue;
        }
        let row = ContentRow {
            content_type: kind.unwrap_or("movie"),
            original_title: (!original.is_empty() && original != title).then_some(original),
            title,
            is_adult: c.is_adult,
            year,
            end_year,
            // A non-positive runtime means the source does not know it.
            runtime_minutes: c.runtime_minutes.filter(|m| *m > 0),
            genres: join(&c.genres),
            imdb_id: imdb_id.clone(),
        };
        out.insert(imdb_id, row);
    }
    out.into_values().collect()
}

pub fn actors(input: Vec<ActorInput>, rejected: &mut Vec<RejectedRow>) -> Vec<ActorRow> {
    let mut out = BTreeMap::new();
    for a in input {
        let imdb_id = clean(&a.imdb_id);
        let name = clean(&a.name);
        let (Ok(birth_year), Ok(death_year)) = (small_year(a.birth_year), small_year(a.death_year)) else {
            rejected.push(reject("actor", &imdb_id, "year out of range"));
            continue;
        };
        let why = if !imdb_ok(&imdb_id) {
            Some("imdb_id must be 1..=20 characters")
        } else if name.is_empty() || name.chars().count() > 255 {
            Some("name must be 1..=255 characters")
        } else if matches!((birth_year, death_year), (Some(b), Some(d)) if d < b) {
            Some("death_year is before birth_year")
        } else {
            None
        };
        if let Some(why) = why {
            rejected.push(reject("actor", &imdb_id, why));
            continue;
        }
        let row = ActorRow {
            name,
            birth_year,
            death_year,
            professions: join(&a.professions),
            known_for: join(&a.known_for_imdb_ids),
            imdb_id: imdb_id.clone(),
        };
        out.insert(imdb_id, row);
    }
    out.into_values().collect()
}

pub fn credits(input: Vec<CreditInput>, rejected: &mut Vec<RejectedRow>) -> Vec<CreditRow> {
    let mut out = BTreeMap::new();
    for c in input {
        let actor = clean(&c.actor_imdb_id);
        let content = clean(&c.content_imdb_id);
        let key = format!("{actor}/{content}");
        let category = clean(&c.category).to_lowercase();
        let characters: Vec<String> = c.characters.iter().map(|s| clean(s)).filter(|s| !s.is_empty()).collect();
        let role_name = characters.first().cloned().unwrap_or_default();
        let why = if !imdb_ok(&actor) || !imdb_ok(&content) {
            Some("imdb ids must be 1..=20 characters")
        } else if !matches!(category.as_str(), "actor" | "actress" | "self") {
            Some("category must be actor, actress or self")
        } else if role_name.chars().count() > 500 {
            Some("character name longer than 500 characters")
        } else {
            None
        };
        if let Some(why) = why {
            rejected.push(reject("credit", &key, why));
            continue;
        }
        let row = CreditRow {
            actor_imdb_id: actor.clone(),
            content_imdb_id: content.clone(),
            category,
            characters: characters.join(&SEP.to_string()),
            role_name: role_name.clone(),
            // 0 is proto's "unset"; billing starts at 1.
            credit_order: (c.credit_order != 0).then_some(c.credit_order),
        };
        out.insert((actor, content, role_name), row);
    }
    out.into_values().collect()
}

pub fn episodes(input: Vec<EpisodeLinkInput>, rejected: &mut Vec<RejectedRow>) -> Vec<EpisodeRow> {
    let mut out = BTreeMap::new();
    for e in input {
        let episode = clean(&e.episode_imdb_id);
        let series = clean(&e.series_imdb_id);
        let why = if !imdb_ok(&episode) || !imdb_ok(&series) {
            Some("imdb ids must be 1..=20 characters")
        } else if e.season_number.is_some_and(|n| n < 0) || e.episode_number.is_some_and(|n| n < 0) {
            Some("season and episode numbers must not be negative")
        } else {
            None
        };
        if let Some(why) = why {
            rejected.push(reject("episode", &format!("{episode}/{series}"), why));
            continue;
        }
        let row = EpisodeRow {
            episode_imdb_id: episode.clone(),
            series_imdb_id: series,
            season_number: e.season_number,
            episode_number: e.episode_number,
        };
        out.insert(episode, row);
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credit(actor: &str, content: &str, chars: &[&str]) -> CreditInput {
        CreditInput {
            actor_imdb_id: actor.into(),
            content_imdb_id: content.into(),
            category: "actor".into(),
            characters: chars.iter().map(|s| s.to_string()).collect(),
            credit_order: 1,
        }
    }

    #[test]
    fn duplicate_credits_collapse_and_role_is_first_character() {
        let mut rejected = vec![];
        let rows = credits(
            vec![
                credit("nm1", "tt1", &["Neo", "Thomas"]),
                credit("nm1", "tt1", &["Neo", "Mr. Anderson"]),
                credit("nm1", "tt1", &[]),
            ],
            &mut rejected,
        );
        assert!(rejected.is_empty());
        assert_eq!(rows.len(), 2);
        let neo = rows.iter().find(|r| r.role_name == "Neo").unwrap();
        assert_eq!(neo.characters, format!("Neo{SEP}Mr. Anderson"));
        assert!(rows.iter().any(|r| r.role_name.is_empty() && r.characters.is_empty()));
    }

    #[test]
    fn invalid_rows_are_rejected_not_fatal() {
        let mut rejected = vec![];
        let mut bad = credit("nm1", "tt1", &["x"]);
        bad.category = "director".into();
        assert!(credits(vec![bad], &mut rejected).is_empty());
        let rows = actors(
            vec![
                ActorInput { imdb_id: "nm1".into(), name: "  ".into(), ..Default::default() },
                ActorInput {
                    imdb_id: "nm2".into(),
                    name: "Old\0 Timer".into(),
                    birth_year: Some(1900),
                    death_year: Some(1890),
                    ..Default::default()
                },
                ActorInput {
                    imdb_id: "nm3".into(),
                    name: "Ok\0".into(),
                    birth_year: Some(99999),
                    ..Default::default()
                },
                ActorInput { imdb_id: "nm4".into(), name: " Fine ".into(), ..Default::default() },
            ],
            &mut rejected,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "Fine");
        let contents = contents(
            vec![ContentInput { imdb_id: "tt1".into(), title: "T".into(), ..Default::default() }],
            &mut rejected,
        );
        assert!(contents.is_empty(), "unspecified content type is rejected");
        let kinds: Vec<&str> = rejected.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["credit", "actor", "actor", "actor", "content"]);
    }

    #[test]
    fn original_title_kept_only_when_different() {
        let mut rejected = vec![];
        let input = |imdb: &str, original: &str| ContentInput {
            imdb_id: imdb.into(),
            title: "Amélie".into(),
            original_title: original.into(),
            content_type: ContentType::Movie.into(),
            runtime_minutes: Some(0),
            ..Default::default()
        };
        let rows =
            contents(vec![input("tt2", "Le Fabuleux Destin d'Amélie Poulain"), input("tt1", "Amélie")], &mut rejected);
        assert_eq!(rows[0].imdb_id, "tt1", "sorted by key");
        assert_eq!(rows[0].original_title, None);
        assert_eq!(rows[0].runtime_minutes, None);
        assert!(rows[1].original_title.is_some());
    }
}
