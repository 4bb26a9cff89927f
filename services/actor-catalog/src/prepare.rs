//! Validation and de-duplication of an `UpsertBatch` request before any SQL: rows the database would refuse
//! become `RejectedRow`s instead of failing the whole batch, and duplicates inside one batch collapse (last one
//! wins) so a bulk `INSERT ... ON CONFLICT` never touches a row twice. Output is sorted by key, so concurrent
//! batches lock rows in the same order.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use iknow_proto::catalog::v1::{
    ActorInput, AkaInput, ContentInput, ContentType, CreditInput, EpisodeLinkInput, RatingInput, RejectedRow,
};

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
    pub tmdb_id: Option<i32>,
    /// Trimmed, never empty.
    pub overview: Option<String>,
    /// An absolute http(s) URL.
    pub poster_url: Option<String>,
    pub complete_cast: bool,
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
    pub tmdb_id: Option<i32>,
    pub birth_date: Option<NaiveDate>,
    pub death_date: Option<NaiveDate>,
    /// Trimmed, never empty.
    pub biography: Option<String>,
    /// An absolute http(s) URL.
    pub profile_image_url: Option<String>,
    pub complete_filmography: bool,
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

/// [`clean`] of an owned string, which is kept as it is (no copy) when there is nothing to clean: the common
/// case of a bulk load's millions of fields.
fn clean_owned(s: String) -> String {
    let untouched = s.trim().len() == s.len() && !s.contains(['\0', SEP]);
    if untouched { s } else { clean(&s) }
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

/// Longest photo or poster URL taken.
const MAX_URL_CHARS: usize = 2048;

/// Cleaned and trimmed text (also of what a dropped NUL left at the ends); absent and empty are both `None`.
fn text(s: Option<&str>) -> Option<String> {
    s.map(|s| clean(s).trim().to_owned()).filter(|s| !s.is_empty())
}

/// A `YYYY-MM-DD` date (exactly that form, a real day); absent or empty is `Ok(None)`.
fn date(s: Option<&str>) -> Result<Option<NaiveDate>, ()> {
    let Some(s) = text(s) else { return Ok(None) };
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(());
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Some).map_err(|_| ())
}

/// An absolute `http://` or `https://` URL with a host, without whitespace, at most [`MAX_URL_CHARS`].
/// The SQL of the `has_valid_photo` / `has_poster` flags checks the same shape.
pub fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !host.starts_with(':')
        && s.chars().count() <= MAX_URL_CHARS
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A URL field: absent or empty is `Ok(None)`, anything but an absolute http(s) URL is an error.
fn url(s: Option<&str>) -> Result<Option<String>, ()> {
    match text(s) {
        Some(u) if !is_http_url(&u) => Err(()),
        u => Ok(u),
    }
}

/// A TMDB id must be positive.
fn tmdb_id(id: Option<i32>) -> Result<Option<i32>, ()> {
    match id {
        Some(n) if n <= 0 => Err(()),
        id => Ok(id),
    }
}

pub fn contents(input: Vec<ContentInput>, rejected: &mut Vec<RejectedRow>) -> Vec<ContentRow> {
    let mut out = BTreeMap::new();
    for c in input {
        let imdb_id = clean(&c.imdb_id);
        let title = clean(&c.title);
        let original = clean(&c.original_title);
        let kind = ContentType::name_of(c.content_type);
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
        let (tmdb, poster) = (tmdb_id(c.tmdb_id), url(c.poster_url.as_deref()));
        let why = why.or(match (&tmdb, &poster) {
            (Err(()), _) => Some("tmdb_id must be positive"),
            (_, Err(())) => Some("poster_url must be an absolute http(s) URL of at most 2048 characters"),
            _ => None,
        });
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
            tmdb_id: tmdb.unwrap_or_default(),
            overview: text(c.overview.as_deref()),
            poster_url: poster.unwrap_or_default(),
            complete_cast: c.complete_cast,
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
        let (birth_date, death_date) = (date(a.birth_date.as_deref()), date(a.death_date.as_deref()));
        let (tmdb, photo) = (tmdb_id(a.tmdb_id), url(a.profile_image_url.as_deref()));
        let why = if !imdb_ok(&imdb_id) {
            Some("imdb_id must be 1..=20 characters")
        } else if name.is_empty() || name.chars().count() > 255 {
            Some("name must be 1..=255 characters")
        } else if matches!((birth_year, death_year), (Some(b), Some(d)) if d < b) {
            Some("death_year is before birth_year")
        } else if birth_date.is_err() {
            Some("birth_date must be a YYYY-MM-DD date")
        } else if death_date.is_err() {
            Some("death_date must be a YYYY-MM-DD date")
        } else if matches!((birth_date, death_date), (Ok(Some(b)), Ok(Some(d))) if d < b) {
            Some("death_date is before birth_date")
        } else if tmdb.is_err() {
            Some("tmdb_id must be positive")
        } else if photo.is_err() {
            Some("profile_image_url must be an absolute http(s) URL of at most 2048 characters")
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
            tmdb_id: tmdb.unwrap_or_default(),
            birth_date: birth_date.unwrap_or_default(),
            death_date: death_date.unwrap_or_default(),
            biography: text(a.biography.as_deref()),
            profile_image_url: photo.unwrap_or_default(),
            complete_filmography: a.complete_filmography,
            imdb_id: imdb_id.clone(),
        };
        out.insert(imdb_id, row);
    }
    // `actors.tmdb_id` is unique: a second actor of the batch with the same TMDB id would fail the whole batch.
    let mut tmdb_ids = HashSet::new();
    out.into_values()
        .filter(|row| {
            let first = row.tmdb_id.is_none_or(|id| tmdb_ids.insert(id));
            if !first {
                rejected.push(reject("actor", &row.imdb_id, "tmdb_id is given to another actor of this batch"));
            }
            first
        })
        .collect()
}

/// One credit checked and cleaned, or why it cannot be written.
pub fn credit(c: CreditInput) -> Result<CreditRow, RejectedRow> {
    let actor = clean_owned(c.actor_imdb_id);
    let content = clean_owned(c.content_imdb_id);
    let mut category = clean_owned(c.category);
    if category.bytes().any(|b| !b.is_ascii_lowercase()) {
        category = category.to_lowercase();
    }
    let mut characters: Vec<String> = c.characters.into_iter().map(clean_owned).filter(|s| !s.is_empty()).collect();
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
        return Err(reject("credit", &format!("{actor}/{content}"), why));
    }
    let characters =
        if characters.len() == 1 { characters.pop().unwrap_or_default() } else { characters.join(&SEP.to_string()) };
    Ok(CreditRow {
        actor_imdb_id: actor,
        content_imdb_id: content,
        category,
        characters,
        role_name,
        // 0 is proto's "unset"; billing starts at 1.
        credit_order: (c.credit_order != 0).then_some(c.credit_order),
    })
}

impl CreditRow {
    /// The credit's natural key: (actor, title, role).
    pub fn key(&self) -> (String, String, String) {
        (self.actor_imdb_id.clone(), self.content_imdb_id.clone(), self.role_name.clone())
    }

    /// [`CreditRow::key`], borrowed.
    pub fn key_ref(&self) -> (&str, &str, &str) {
        (&self.actor_imdb_id, &self.content_imdb_id, &self.role_name)
    }
}

pub fn credits(input: Vec<CreditInput>, rejected: &mut Vec<RejectedRow>) -> Vec<CreditRow> {
    let mut out = BTreeMap::new();
    for c in input {
        match credit(c) {
            Ok(row) => {
                out.insert(row.key(), row);
            }
            Err(r) => rejected.push(r),
        }
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

/// A rating still keyed by the IMDb id of its title.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingRow {
    pub content_imdb_id: String,
    /// The average in tenths (73 for 7.3): exact, and what `NUMERIC(3,1)` holds.
    pub tenths: i16,
    pub votes: i32,
}

/// An alternate title still keyed by the IMDb id of its title.
#[derive(Debug, Clone, PartialEq)]
pub struct AkaRow {
    pub content_imdb_id: String,
    pub ordering: i32,
    pub title: String,
    pub region: Option<String>,
    pub language: Option<String>,
    /// Types joined by [`SEP`].
    pub types: String,
    pub is_original: bool,
}

/// The tenths of an average of 0..=10 with at most one decimal (a float's error aside); `None` otherwise.
fn rating_tenths(rating: f64) -> Option<i16> {
    let tenths = rating * 10.0;
    let rounded = tenths.round();
    let ok = tenths.is_finite() && (0.0..=100.0).contains(&rounded) && (tenths - rounded).abs() < 1e-6;
    // In 0..=100, so the cast is exact.
    ok.then_some(rounded as i16)
}

pub fn ratings(input: Vec<RatingInput>, rejected: &mut Vec<RejectedRow>) -> Vec<RatingRow> {
    let mut out = BTreeMap::new();
    for r in input {
        let imdb_id = clean(&r.content_imdb_id);
        let why = match (imdb_ok(&imdb_id), rating_tenths(r.average_rating), i32::try_from(r.num_votes)) {
            (false, _, _) => "imdb_id must be 1..=20 characters",
            (_, None, _) => "average_rating must be 0..=10 with at most one decimal",
            (_, _, Err(_)) => "num_votes must be at most 2147483647",
            (true, Some(tenths), Ok(votes)) => {
                out.insert(imdb_id.clone(), RatingRow { content_imdb_id: imdb_id, tenths, votes });
                continue;
            }
        };
        rejected.push(reject("rating", &imdb_id, why));
    }
    out.into_values().collect()
}

pub fn akas(input: Vec<AkaInput>, rejected: &mut Vec<RejectedRow>) -> Vec<AkaRow> {
    let mut out = BTreeMap::new();
    for a in input {
        let imdb_id = clean(&a.content_imdb_id);
        let title = clean(&a.title);
        let region = clean(&a.region);
        let language = clean(&a.language);
        let why = if !imdb_ok(&imdb_id) {
            Some("imdb_id must be 1..=20 characters")
        } else if a.ordering < 1 {
            Some("ordering must be positive")
        } else if title.is_empty() || title.chars().count() > 500 {
            Some("title must be 1..=500 characters")
        } else if region.chars().count() > 20 || language.chars().count() > 20 {
            Some("region and language must be at most 20 characters")
        } else {
            None
        };
        if let Some(why) = why {
            rejected.push(reject("aka", &format!("{imdb_id}/{}", a.ordering), why));
            continue;
        }
        let row = AkaRow {
            content_imdb_id: imdb_id.clone(),
            ordering: a.ordering,
            title,
            region: (!region.is_empty()).then_some(region),
            language: (!language.is_empty()).then_some(language),
            types: join(&a.types),
            is_original: a.is_original,
        };
        out.insert((imdb_id, a.ordering), row);
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

    #[test]
    fn dates_urls_and_texts_of_the_api_columns() {
        assert_eq!(date(Some("1956-07-09")), Ok(NaiveDate::from_ymd_opt(1956, 7, 9)));
        assert_eq!(date(Some(" ")), Ok(None));
        assert_eq!(date(None), Ok(None));
        for bad in ["1956-7-9", "1956-02-30", "09/07/1956", "1956-07-09T00:00", "+1956-07-0"] {
            assert_eq!(date(Some(bad)), Err(()), "{bad}");
        }
        assert!(is_http_url("https://image.tmdb.org/t/p/original/a.jpg"));
        assert!(is_http_url("HTTP://example.com:8080/p.png?x=1"));
        for bad in
            ["/a.jpg", "ftp://x/a.jpg", "https://", "https:///a.jpg", "https://:80/a", "https://a b/c", "http:/x"]
        {
            assert!(!is_http_url(bad), "{bad}");
        }
        assert!(!is_http_url(&format!("https://x/{}", "a".repeat(MAX_URL_CHARS))));
        assert_eq!(url(Some("")), Ok(None));
        assert_eq!(text(Some("  two\nlines \0 ")), Some("two\nlines".into()));
        let mut rejected = vec![];
        let dup =
            |imdb: &str| ActorInput { imdb_id: imdb.into(), name: "X".into(), tmdb_id: Some(7), ..Default::default() };
        let rows = actors(vec![dup("nm2"), dup("nm1")], &mut rejected);
        assert_eq!(rows.iter().map(|r| r.imdb_id.as_str()).collect::<Vec<_>>(), ["nm1"]);
        assert_eq!(rejected[0].key, "nm2", "one TMDB id, one actor");
    }
}
