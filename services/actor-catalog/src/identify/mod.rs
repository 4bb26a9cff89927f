//! `Identify`: who plays a character in a title ("neo" in "the matrx"), or a free-text question ("who played
//! neo in the matrix", "keanu reves"). Candidate titles come from the title index, are scored with
//! `iknow_search::matcher` (typos, prefixes, partial names) and the year, their casts (with series regulars)
//! are scored against the character, and an actor-name reading competes for free text. A fixed handful of SQL
//! queries per request, never one per row.

mod free_text;
mod recall;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use iknow_common::rules::years;
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1::{
    CastCredit, CastMember, ContentRef, ContentType, IdentifyCandidate, IdentifyRequest, IdentifyResponse,
};
use iknow_search::matcher;
use sqlx::PgPool;
use uuid::Uuid;

pub use self::free_text::{Reading, parse as parse_free_text};
use self::recall::{actor_candidates, keep_titles, resolve_episodes, title_candidates, title_rows};
use crate::cache::Cache;
use crate::index::Indexes;
use crate::series_cast::{PreparedCast, PreparedMember, WordScores};

/// Longest `title`, `character` or `q`, in characters after trimming.
pub const MAX_TEXT_CHARS: usize = 200;
/// Candidates returned when the request says 0.
pub const DEFAULT_LIMIT: usize = 10;
pub const MAX_LIMIT: usize = 50;
/// Largest accepted season or episode number.
pub const MAX_EPISODE_NUMBER: i32 = 100_000;

/// Titles asked of each index search per reading (two searches: every word, any word).
const TITLE_CANDIDATES: usize = 50;
/// Titles whose cast is read per reading: enough for a partial title ("untitled", "love") shared by many.
const KEPT_TITLES: usize = 40;
/// A title scoring less is no match; nor is one this far below the best title.
const MIN_TITLE_SCORE: f32 = 0.5;
const TITLE_MARGIN: f32 = 0.35;
/// Without a character nothing tells near titles apart: only those about as good as the best are listed.
const TITLE_ONLY_MARGIN: f32 = 0.05;
/// A character (or, in free text, an actor's name) scoring less is no match.
const MIN_CHARACTER_SCORE: f32 = 0.5;
/// Actors asked of the actor index for a name reading, and the least name similarity kept.
const ACTOR_CANDIDATES: usize = 10;
const ACTOR_ANY_CANDIDATES: usize = 30;
const MIN_NAME_SCORE: f32 = 0.6;
/// Most episodes read for a season/episode question.
const MAX_EPISODES: i64 = 200;
/// Title-score factors: a movie when an episode was asked for; a series whose asked episode is unknown.
const NOT_A_SERIES: f32 = 0.85;
const EPISODE_UNKNOWN: f32 = 0.9;
/// The index refuses longer texts; a title cut there still finds its candidates.
const INDEX_TEXT_CHARS: usize = iknow_search::MAX_QUERY_CHARS;

/// What a valid request asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// A title, maybe a character, year and episode.
    Title { title: String, character: Option<String>, year: Option<i32>, season: Option<i32>, episode: Option<i32> },
    /// Free text (a year, when given, still prefers titles of that year).
    Free { q: String, year: Option<i32> },
}

/// A validated `IdentifyRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub mode: Mode,
    pub limit: usize,
}

/// Checks every field and reports every failing one (InvalidArgument).
pub fn validate(r: &IdentifyRequest) -> Result<Params, Error> {
    let mut bad = Vec::new();
    let mut text = |field: &str, raw: &str| -> Option<String> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        if t.chars().count() > MAX_TEXT_CHARS {
            bad.push(FieldViolation::new(field, format!("must be 1 to {MAX_TEXT_CHARS} characters")));
        }
        Some(t.to_owned())
    };
    let title = text("title", &r.title);
    let character = text("character", &r.character);
    let q = text("q", &r.q);
    match (&q, &title) {
        (Some(_), Some(_)) => {
            bad.push(FieldViolation::new("q", "give either q or title, not both"));
            bad.push(FieldViolation::new("title", "give either q or title, not both"));
        }
        (None, None) => {
            bad.push(FieldViolation::new("q", "q or title is required"));
            bad.push(FieldViolation::new("title", "q or title is required"));
        }
        _ => {}
    }
    if q.is_some() && character.is_some() {
        bad.push(FieldViolation::new("character", "only with title, not with q"));
    }
    if let Some(y) = r.year
        && !years::is_valid(y)
    {
        bad.push(FieldViolation::new("year", years::message()));
    }
    for (field, value) in [("season", r.season), ("episode", r.episode)] {
        let Some(v) = value else { continue };
        if !(0..=MAX_EPISODE_NUMBER).contains(&v) {
            bad.push(FieldViolation::new(field, format!("must be from 0 to {MAX_EPISODE_NUMBER}")));
        } else if title.is_none() {
            bad.push(FieldViolation::new(field, "only with title"));
        }
    }
    if r.limit as usize > MAX_LIMIT {
        bad.push(FieldViolation::new("limit", format!("must be from 1 to {MAX_LIMIT} (0 means {DEFAULT_LIMIT})")));
    }
    if !bad.is_empty() {
        return Err(Error::validation(bad));
    }
    let limit = if r.limit == 0 { DEFAULT_LIMIT } else { r.limit as usize };
    let mode = match (q, title) {
        (Some(q), _) => Mode::Free { q, year: r.year },
        (None, Some(title)) => Mode::Title { title, character, year: r.year, season: r.season, episode: r.episode },
        (None, None) => unreachable!("rejected above"),
    };
    Ok(Params { mode, limit })
}

/// How much a title's year agrees with the year asked: exact 1, a year off slightly less, else clearly less.
pub fn year_factor(wanted: Option<i32>, actual: Option<i32>) -> f32 {
    match (wanted, actual) {
        (None, _) => 1.0,
        (Some(w), Some(a)) if w == a => 1.0,
        (Some(w), Some(a)) if w.abs_diff(a) == 1 => 0.97,
        (Some(_), None) => 0.9,
        (Some(_), Some(_)) => 0.8,
    }
}

/// Similarity of the asked title to a title or its original title, times the year agreement.
pub fn title_score(
    query: &[String],
    title: &str,
    original_title: Option<&str>,
    wanted: Option<i32>,
    year: Option<i32>,
) -> f32 {
    let mut s = text_score(query, &matcher::tokens(title));
    if let Some(o) = original_title.filter(|o| !o.is_empty() && *o != title) {
        s = s.max(text_score(query, &matcher::tokens(o)));
    }
    s * year_factor(wanted, year)
}

/// [`matcher::similarity`], also reading a last word of one or two letters as a word still being typed
/// ("star tr"), which the matcher ignores: the words before it count, a little less, when it starts a word.
fn text_score(query: &[String], candidate: &[String]) -> f32 {
    let s = matcher::similarity(query, candidate);
    match query.split_last() {
        Some((last, head))
            if !head.is_empty()
                && last.chars().count() < 3
                && candidate.iter().any(|c| c.len() > last.len() && c.starts_with(last.as_str())) =>
        {
            s.max(0.95 * matcher::similarity(head, candidate))
        }
        _ => s,
    }
}

/// Best similarity of the asked character to any character of a credit (the role name included).
pub fn character_score(query: &[String], member: &CastMember) -> f32 {
    best_character(query, member).0
}

/// [`character_score`] and the character that scored it (the first of equals: in a series' aggregated cast,
/// the one played in most episodes).
fn best_character<'a>(query: &[String], member: &'a CastMember) -> (f32, Option<&'a String>) {
    let mut best = (0.0, None);
    for c in member.characters.iter().chain(std::iter::once(&member.role_name)) {
        if c.trim().is_empty() {
            continue;
        }
        let s = matcher::similarity(query, &matcher::tokens(c));
        if s > best.0 {
            best = (s, Some(c));
        }
    }
    best
}

/// [`best_character`] over a series' prepared cast (`role_name` is one of the characters there).
fn best_prepared<'a>(scores: &mut WordScores<'_>, p: &'a PreparedMember) -> (f32, Option<&'a String>) {
    let mut best = (0.0, None);
    for ((c, t), ids) in p.member.characters.iter().zip(&p.characters).zip(&p.character_ids) {
        let s = scores.similarity(t, ids);
        if s > best.0 {
            best = (s, Some(c));
        }
    }
    best
}

/// One cast member as scored: the credit, its title-only billing, and tokens a series' prepared cast has already.
struct Entry<'a> {
    member: &'a CastMember,
    series_regular: bool,
    billing: i32,
    prepared: Option<&'a PreparedMember>,
    /// The series whose prepared cast `prepared` is in.
    series: Option<Uuid>,
}

/// For a title without a character: the top-billed member is as likely as the title, later ones less.
pub fn billing_factor(credit_order: i32) -> f32 {
    if credit_order <= 0 { 0.5 } else { 1.0 / (1.0 + 0.1 * (credit_order - 1).min(40) as f32) }
}

/// A title of one reading whose cast is scored.
struct Kept {
    id: Uuid,
    content: ContentRef,
    score: f32,
    popularity: f64,
    /// The content series regulars are shown in when several episodes were read (else the episode itself).
    regulars_content: Option<ContentRef>,
}

/// One ranked answer before the cut.
struct Scored {
    candidate: IdentifyCandidate,
    confidence: f32,
    credit_order: i32,
    /// Episodes of the series the actor is in (a series' aggregated cast), else 0.
    episodes: u32,
    popularity: f64,
    reading: usize,
}

impl Scored {
    /// Higher confidence first; ties by episodes in the series (the character's usual face), then billing, then
    /// title popularity, then name (deterministic).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let order = |o: i32| if o <= 0 { i32::MAX } else { o };
        other
            .confidence
            .total_cmp(&self.confidence)
            .then_with(|| other.episodes.cmp(&self.episodes))
            .then_with(|| order(self.credit_order).cmp(&order(other.credit_order)))
            .then_with(|| other.popularity.total_cmp(&self.popularity))
            .then_with(|| self.name().cmp(other.name()))
    }

    fn name(&self) -> &str {
        self.candidate.member.as_ref().map_or("", |m| m.actor_name.as_str())
    }

    fn key(&self) -> (String, String) {
        let actor = self.candidate.member.as_ref().map(|m| m.actor_id.clone()).unwrap_or_default();
        let content = self.candidate.content.as_ref().map(|c| c.id.clone()).unwrap_or_default();
        (actor, content)
    }
}

/// The readings of a request: one for title mode, the free-text interpretations otherwise.
fn readings(mode: &Mode) -> Vec<Reading> {
    match mode {
        Mode::Title { title, character, year, .. } => vec![Reading {
            title: Some(title.clone()),
            character: character.clone(),
            actor_name: None,
            year: *year,
            character_may_be_actor: false,
        }],
        Mode::Free { q, year } => {
            let mut rs = parse_free_text(q);
            for r in &mut rs {
                r.year = r.year.or(*year);
            }
            rs
        }
    }
}

/// The prepared aggregated casts of `series` (in process, else read in one query and kept).
async fn prepared_series_casts(
    pool: &PgPool,
    cache: &Cache,
    series: &[Uuid],
) -> Result<HashMap<Uuid, Arc<PreparedCast>>, Error> {
    let mut out = HashMap::with_capacity(series.len());
    let mut missing = Vec::new();
    for id in series {
        match cache.peek_series_cast(*id).await {
            Some(hit) => {
                out.insert(*id, hit);
            }
            None => missing.push(*id),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let generation = cache.generation();
    for (id, cast) in crate::series_cast::of_series(pool, &missing).await? {
        let prepared = Arc::new(crate::series_cast::prepare(cast));
        cache.put_series_cast(id, prepared.clone(), generation).await;
        out.insert(id, prepared);
    }
    Ok(out)
}

/// Answers one validated request.
pub async fn identify(
    pool: &PgPool,
    indexes: &Indexes,
    cache: &Cache,
    params: &Params,
) -> Result<IdentifyResponse, Error> {
    let readings = readings(&params.mode);
    let (season, episode) = match params.mode {
        Mode::Title { season, episode, .. } => (season, episode),
        Mode::Free { .. } => (None, None),
    };
    let title_tokens: Vec<Vec<String>> =
        readings.iter().map(|r| r.title.as_deref().map(matcher::tokens).unwrap_or_default()).collect();

    // Candidate titles of every reading, read in one query.
    let mut wanted: Vec<Uuid> = Vec::new();
    let mut seen = HashSet::new();
    for (r, tokens) in readings.iter().zip(&title_tokens) {
        let Some(title) = r.title.as_deref().filter(|_| !tokens.is_empty()) else { continue };
        for id in title_candidates(&indexes.contents, title, r.year)? {
            if seen.insert(id) {
                wanted.push(id);
            }
        }
    }
    let rows = title_rows(pool, &wanted).await?;

    let mut kept: Vec<Vec<Kept>> = readings
        .iter()
        .zip(&title_tokens)
        .map(|(r, tokens)| {
            let margin = if r.character.is_some() { TITLE_MARGIN } else { TITLE_ONLY_MARGIN };
            if tokens.is_empty() { vec![] } else { keep_titles(tokens, r.year, margin, &rows) }
        })
        .collect();
    if season.is_some() || episode.is_some() {
        resolve_episodes(pool, &mut kept, &rows, season, episode).await?;
    }

    // Casts of every kept title in one call (an episode's series regulars included); a series (no episode
    // asked, or none found) answers with its aggregated cast: its own credits and every episode's.
    let mut cast_ids: Vec<Uuid> = Vec::new();
    let mut series_ids: Vec<Uuid> = Vec::new();
    let mut seen = HashSet::new();
    for k in kept.iter().flatten() {
        if seen.insert(k.id) {
            if k.content.content_type == ContentType::Series as i32 {
                series_ids.push(k.id);
            } else {
                cast_ids.push(k.id);
            }
        }
    }
    let casts = crate::batch::casts(pool, &cast_ids, true).await?;
    let casts: HashMap<String, Vec<CastCredit>> = casts.into_iter().map(|c| (c.content_id, c.cast)).collect();
    let series_casts = prepared_series_casts(pool, cache, &series_ids).await?;
    let entries = |id: &Uuid| -> Vec<Entry<'_>> {
        if let Some(cast) = series_casts.get(id) {
            // In cast order (regulars, then most episodes): the position is the billing of a title-only answer.
            return cast
                .members
                .iter()
                .enumerate()
                .map(|(i, p)| Entry {
                    member: &p.member,
                    series_regular: false,
                    billing: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    prepared: Some(p),
                    series: Some(*id),
                })
                .collect();
        }
        let credits = casts.get(&id.to_string()).map(Vec::as_slice).unwrap_or_default();
        credits
            .iter()
            .filter_map(|c| {
                let member = c.member.as_ref()?;
                Some(Entry {
                    member,
                    series_regular: c.series_regular,
                    billing: member.credit_order,
                    prepared: None,
                    series: None,
                })
            })
            .collect()
    };

    let mut scored = Vec::new();
    for (i, (reading, titles)) in readings.iter().zip(&kept).enumerate() {
        let character = reading.character.as_deref().map(matcher::tokens).filter(|t| !t.is_empty());
        // Skips, without comparing, the members of a long series' cast that share too few letters to match.
        let prefilter = character.as_deref().map(matcher::Prefilter::new);
        // Word scores against each series' distinct tokens, computed once per reading.
        let mut word_scores: HashMap<Uuid, WordScores<'_>> = match &character {
            Some(q) => series_casts.iter().map(|(id, cast)| (*id, WordScores::new(q, cast))).collect(),
            None => HashMap::new(),
        };
        for k in titles {
            for entry in entries(&k.id) {
                let member = entry.member;
                let content = match (&k.regulars_content, entry.series_regular) {
                    (Some(series), true) => series.clone(),
                    _ => k.content.clone(),
                };
                if let (Some(p), Some(filter)) = (entry.prepared, &prefilter)
                    && !filter.may_match(p.character_letters)
                    && !(reading.character_may_be_actor && filter.may_match(p.name_letters))
                {
                    continue;
                }
                let mut role = None;
                let (score, matched_by) = match &character {
                    None => (k.score * billing_factor(entry.billing), "title"),
                    Some(wanted) => {
                        let scores = entry.series.and_then(|s| word_scores.get_mut(&s));
                        let (by_character, by_name) = match (entry.prepared, scores) {
                            (Some(p), Some(scores)) => {
                                let (s, matched) = best_prepared(scores, p);
                                role = matched;
                                let by_name = if reading.character_may_be_actor {
                                    scores.similarity(&p.name, &p.name_ids)
                                } else {
                                    0.0
                                };
                                (s, by_name)
                            }
                            _ => {
                                let (s, matched) = best_character(wanted, member);
                                role = matched;
                                let by_name = if reading.character_may_be_actor {
                                    matcher::similarity(wanted, &matcher::tokens(&member.actor_name))
                                } else {
                                    0.0
                                };
                                (s, by_name)
                            }
                        };
                        let (s, how) = if by_name > by_character {
                            (by_name, "actor_name")
                        } else {
                            (by_character, "title_character")
                        };
                        if s < MIN_CHARACTER_SCORE {
                            continue;
                        }
                        (k.score * s, how)
                    }
                };
                let mut member = member.clone();
                // The character asked about is the role answered (a series actor may have played several).
                if let Some(role) = role.filter(|r| matched_by == "title_character" && **r != member.role_name) {
                    member.role_name = role.clone();
                }
                scored.push(Scored {
                    credit_order: entry.billing,
                    episodes: member.episode_count,
                    candidate: IdentifyCandidate {
                        member: Some(member),
                        content: Some(content),
                        confidence: 0.0,
                        matched_by: matched_by.into(),
                    },
                    confidence: score,
                    popularity: k.popularity,
                    reading: i,
                });
            }
        }
    }

    for (i, reading) in readings.iter().enumerate() {
        if let Some(name) = reading.actor_name.as_deref() {
            scored.extend(actor_candidates(pool, &indexes.actors, name, i).await?);
        }
    }

    scored.sort_by(Scored::cmp);
    let mut seen = HashSet::new();
    scored.retain(|s| seen.insert(s.key()));
    scored.truncate(params.limit);

    let mut response = IdentifyResponse::default();
    if let (Mode::Free { .. }, Some(best)) = (&params.mode, scored.first()) {
        let r = &readings[best.reading];
        response.title = r.title.clone().unwrap_or_default();
        if best.candidate.matched_by == "actor_name" && r.actor_name.is_none() {
            response.actor_name = r.character.clone().unwrap_or_default();
        } else {
            response.character = r.character.clone().unwrap_or_default();
            response.actor_name = r.actor_name.clone().unwrap_or_default();
        }
    }
    response.candidates = scored
        .into_iter()
        .map(|s| IdentifyCandidate { confidence: f64::from(s.confidence.clamp(0.0, 1.0)), ..s.candidate })
        .collect();
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(title: &str, character: &str, q: &str) -> IdentifyRequest {
        IdentifyRequest { title: title.into(), character: character.into(), q: q.into(), ..Default::default() }
    }

    fn fields(e: Error) -> Vec<String> {
        let Error::Validation { violations, .. } = e else { panic!("validation expected") };
        violations.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn requests_are_validated_field_by_field() {
        let ok = validate(&req(" The Matrix ", " neo ", "")).unwrap();
        assert_eq!(ok.limit, DEFAULT_LIMIT);
        assert_eq!(
            ok.mode,
            Mode::Title {
                title: "The Matrix".into(),
                character: Some("neo".into()),
                year: None,
                season: None,
                episode: None
            }
        );
        assert!(matches!(validate(&req("", "", "keanu")).unwrap().mode, Mode::Free { .. }));
        assert_eq!(fields(validate(&req("matrix", "", "neo")).unwrap_err()), ["q", "title"]);
        assert_eq!(fields(validate(&req("  ", "", "")).unwrap_err()), ["q", "title"]);
        assert_eq!(fields(validate(&req("", "neo", "keanu")).unwrap_err()), ["character"]);
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(fields(validate(&req(&long, "", "")).unwrap_err()), ["title"]);
        assert!(validate(&req(&"x".repeat(MAX_TEXT_CHARS), "", "")).is_ok());
        let bad =
            IdentifyRequest { year: Some(1869), season: Some(-1), episode: Some(2), limit: 51, ..req("", "", "x") };
        assert_eq!(fields(validate(&bad).unwrap_err()), ["year", "season", "episode", "limit"]);
        let fine = IdentifyRequest {
            year: Some(years::max_year()),
            season: Some(0),
            episode: Some(100_000),
            limit: 50,
            ..req("x", "", "")
        };
        assert_eq!(validate(&fine).unwrap().limit, 50);
    }

    #[test]
    fn titles_score_by_text_then_year() {
        let t = |q: &str| matcher::tokens(q);
        assert_eq!(title_score(&t("the matrix"), "The Matrix", None, None, Some(1999)), 1.0);
        assert_eq!(title_score(&t("volver"), "Volver (To Return)", Some("Volver"), None, None), 1.0);
        let typo = title_score(&t("the matrx"), "The Matrix", None, None, Some(1999));
        assert!(typo > 0.8 && typo < 1.0, "{typo}");
        // A year picks the sequel over the exact title of another year.
        let reloaded = title_score(&t("the matrix"), "The Matrix Reloaded", None, Some(2003), Some(2003));
        let original = title_score(&t("the matrix"), "The Matrix", None, Some(2003), Some(1999));
        assert!(reloaded > original, "{reloaded} vs {original}");
        assert!(year_factor(Some(1999), Some(2000)) > year_factor(Some(1999), Some(2003)));
        assert!(year_factor(Some(1999), Some(2000)) < 1.0);
        // A last word still being typed.
        let typing = title_score(&t("star tr"), "Star Trek Beyond", None, None, None);
        assert!(typing > 0.75, "{typing}");
        assert!(title_score(&t("star tr"), "Star Wars", None, None, None) < typing);
    }

    #[test]
    fn characters_match_any_listed_name_and_billing_orders_a_cast() {
        let member = CastMember {
            role_name: "Neo".into(),
            characters: vec!["Neo".into(), "Thomas A. Anderson".into()],
            ..Default::default()
        };
        assert_eq!(character_score(&matcher::tokens("neo"), &member), 1.0);
        assert!(character_score(&matcher::tokens("anderson"), &member) > 0.8);
        assert!(character_score(&matcher::tokens("nwo"), &member) > MIN_CHARACTER_SCORE);
        assert_eq!(character_score(&matcher::tokens("trinity"), &member), 0.0);
        assert_eq!(billing_factor(1), 1.0);
        assert!(billing_factor(2) < 1.0 && billing_factor(2) > billing_factor(10));
        assert!(billing_factor(0) > 0.0);
    }
}
