//! An actor's filmography as the REST API shows it: one entry per movie or series, with the seed's flat fields.
//! The actor's credits on a series title and on its episodes merge into the series' one entry, which counts and
//! lists the episodes; the lead / supporting / cameo rule is [`character_type`].

use std::collections::HashMap;

use iknow_proto::catalog::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use crate::dto::{ContentKind, ContentRef, non_blank};

/// Last billing position of a lead.
const LEAD_BILLING: i32 = 3;
/// Last billing position of a supporting part; any later one is a cameo.
const SUPPORTING_BILLING: i32 = 15;
/// A series with at least this many catalogued episodes is long: one episode of it is a cameo.
const LONG_SERIES: u32 = 10;

/// How big a part is: `lead`, `supporting` or `cameo` (see `FilmographyEntry.characterType` for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CharacterType {
    Lead,
    Supporting,
    Cameo,
}

/// What [`character_type`] looks at in one entry (its credits merged).
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// Every credit of the entry is `self` (the person appears as themselves).
    pub as_self: bool,
    /// Best billing on the movie, or on the series title itself (1 = top billed); `None` when unknown or not
    /// credited there.
    pub billing: Option<i32>,
    /// For a series: (episodes the actor is credited on, episodes the series has in the catalogue).
    pub episodes: Option<(u32, u32)>,
}

/// The rule, stated in the OpenAPI text of `FilmographyEntry.characterType`:
/// - `self` credits only: cameo;
/// - a movie (any title without episodes), by billing: 1–3 lead, 4–15 supporting, 16 or later cameo, unknown
///   supporting;
/// - a series: lead when billed 1–3 on the series title itself, or credited on at least 2 episodes and at least
///   half of the series' catalogued episodes; cameo when credited on a single episode of a series with 10 or more
///   catalogued episodes and not on the series title; credited on the series title only: by billing, as a movie;
///   supporting otherwise.
pub fn character_type(part: &Part) -> CharacterType {
    if part.as_self {
        return CharacterType::Cameo;
    }
    let by_billing = match part.billing {
        Some(1..=LEAD_BILLING) => CharacterType::Lead,
        Some(n) if n > SUPPORTING_BILLING => CharacterType::Cameo,
        _ => CharacterType::Supporting,
    };
    match part.episodes {
        None | Some((0, _)) => by_billing,
        Some((credited, total)) => {
            if by_billing == CharacterType::Lead || (credited >= 2 && 2 * credited >= total) {
                CharacterType::Lead
            } else if credited == 1 && total >= LONG_SERIES && part.billing.is_none() {
                CharacterType::Cameo
            } else {
                CharacterType::Supporting
            }
        }
    }
}

/// One episode of a series entry the actor is credited on (several credits on one episode are one item).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilmographyEpisode {
    /// The episode's id (`GET /api/v1/content/{contentId}` shows it).
    pub content_id: String,
    pub imdb_id: String,
    pub title: String,
    #[schema(required = true)]
    pub season_number: Option<i32>,
    #[schema(required = true)]
    pub episode_number: Option<i32>,
    /// Release year of the episode, when known.
    #[schema(required = true)]
    pub year: Option<i32>,
    /// The character played in this episode, when the source names one.
    #[schema(required = true)]
    pub role_name: Option<String>,
    /// Every character of the episode's credits.
    pub characters: Vec<String>,
    /// Billing position within the episode's cast (1 = top billed; 0 when unknown).
    pub credit_order: i32,
}

/// One entry of an actor's filmography: a movie, or a series with every episode the actor is credited on (a
/// credit on the series title and credits on its episodes are one entry). An episode whose series is not in the
/// catalogue is an entry of its own (`type: episode`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilmographyEntry {
    /// The movie's or series' id.
    pub content_id: String,
    pub imdb_id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: ContentKind,
    /// Release year (a series' first year), when known.
    #[schema(required = true)]
    pub year: Option<i32>,
    /// The character played, when the source names one: the one credited on the movie or series title, else the
    /// one played in most episodes.
    #[schema(required = true)]
    pub role_name: Option<String>,
    /// Every character of the entry's credits, in order of first appearance.
    pub characters: Vec<String>,
    /// `characterType == "lead"`.
    pub is_main_role: bool,
    /// `lead`, `supporting` or `cameo`, by billing order and episode share: credits as `self` only are a cameo.
    /// A movie (or any title without episodes) by billing: 1–3 lead, 4–15 supporting, 16th or later cameo,
    /// unknown supporting. A series is a lead when billed 1–3 on the series title itself, or credited on at least
    /// 2 episodes and at least half of the series' catalogued episodes; a cameo when credited on a single episode
    /// of a series with 10 or more catalogued episodes and not on the series title; credited on the series title
    /// only, by billing as a movie; supporting otherwise.
    pub character_type: CharacterType,
    /// For a series: how many of its episodes the actor is credited on (0 when credited on the series title only);
    /// null for other titles.
    #[schema(required = true)]
    pub episode_count: Option<u32>,
    /// For a series: the episodes counted by `episodeCount`, by season and episode number; empty for other titles.
    pub episodes: Vec<FilmographyEpisode>,
    /// `actor`, `actress` or `self` (for a merged series entry, the first that is not `self`, if any).
    pub category: String,
    /// Billing position (1 = top billed; 0 when unknown): on the title itself, else the best of the episodes.
    pub credit_order: i32,
    /// Deprecated (removed in the next minor version): the same title as `contentId`, `imdbId`, `title`, `type`
    /// and `year`.
    #[schema(deprecated)]
    pub content: ContentRef,
}

fn billing(order: i32) -> Option<i32> {
    (order > 0).then_some(order)
}

/// The credits of one entry while they are gathered.
struct Merged {
    head: ContentRef,
    /// Episodes in the catalogue, for a series.
    total: u32,
    /// Credits on the movie or series title itself, in the catalogue's order.
    own: Vec<pb::FilmographyEntry>,
    episodes: Vec<(FilmographyEpisode, String)>,
    episode_at: HashMap<String, usize>,
}

impl Merged {
    fn new(head: ContentRef, total: u32) -> Self {
        Self { head, total, own: vec![], episodes: vec![], episode_at: HashMap::new() }
    }

    fn add_episode(&mut self, episode: ContentRef, credit: pb::FilmographyEntry) {
        if let Some(&at) = self.episode_at.get(&episode.id) {
            let (item, _) = &mut self.episodes[at];
            push_new(&mut item.characters, credit.characters);
            if item.role_name.is_none() {
                item.role_name = non_blank(credit.role_name);
            }
            if let Some(order) = billing(credit.credit_order) {
                item.credit_order = billing(item.credit_order).map_or(order, |o| o.min(order));
            }
            return;
        }
        self.episode_at.insert(episode.id.clone(), self.episodes.len());
        let item = FilmographyEpisode {
            content_id: episode.id,
            imdb_id: episode.imdb_id,
            title: episode.title,
            season_number: credit.season_number,
            episode_number: credit.episode_number,
            year: episode.year,
            role_name: non_blank(credit.role_name),
            characters: credit.characters,
            credit_order: credit.credit_order.max(0),
        };
        self.episodes.push((item, credit.category));
    }

    fn finish(self) -> FilmographyEntry {
        let is_series = self.head.kind == ContentKind::Series;
        let own_billing = self.own.iter().filter_map(|c| billing(c.credit_order)).min();
        let credit_order = own_billing
            .or_else(|| self.episodes.iter().filter_map(|(e, _)| billing(e.credit_order)).min())
            .unwrap_or(0);
        let categories: Vec<&str> =
            self.own.iter().map(|c| c.category.as_str()).chain(self.episodes.iter().map(|(_, c)| c.as_str())).collect();
        let category =
            categories.iter().find(|c| **c != "self").or(categories.first()).copied().unwrap_or_default().to_owned();
        let as_self = !categories.is_empty() && categories.iter().all(|c| *c == "self");
        let role_name = self
            .own
            .iter()
            .find_map(|c| non_blank(c.role_name.clone()))
            .or_else(|| most_played(self.episodes.iter().filter_map(|(e, _)| e.role_name.as_deref())));
        let mut characters = vec![];
        for c in &self.own {
            push_new(&mut characters, c.characters.iter().cloned());
        }
        for (e, _) in &self.episodes {
            push_new(&mut characters, e.characters.iter().cloned());
        }
        let count = u32::try_from(self.episodes.len()).unwrap_or(u32::MAX);
        let episodes = is_series.then_some((count, self.total.max(count)));
        let character_type = character_type(&Part { as_self, billing: own_billing, episodes });
        FilmographyEntry {
            content_id: self.head.id.clone(),
            imdb_id: self.head.imdb_id.clone(),
            title: self.head.title.clone(),
            kind: self.head.kind,
            year: self.head.year,
            role_name,
            characters,
            is_main_role: character_type == CharacterType::Lead,
            character_type,
            episode_count: episodes.map(|(n, _)| n),
            episodes: self.episodes.into_iter().map(|(e, _)| e).collect(),
            category,
            credit_order,
            content: self.head,
        }
    }
}

fn push_new(into: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// The name played most often; the first of them on a tie.
fn most_played<'a>(names: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = vec![];
    for name in names {
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    let best = counts.iter().map(|(_, c)| *c).max()?;
    counts.into_iter().find(|(_, c)| *c == best).map(|(n, _)| n.to_owned())
}

/// Merges the catalogue's credits (newest first, an episode's credits with their series) into entries, newest
/// first by the year of the movie or series; the episodes of an entry keep the catalogue's order (season, episode).
pub fn entries(credits: Vec<pb::FilmographyEntry>) -> Vec<FilmographyEntry> {
    let mut merged: Vec<Merged> = vec![];
    let mut at: HashMap<String, usize> = HashMap::new();
    for mut credit in credits {
        let Some(content) = credit.content.take() else { continue };
        let content = ContentRef::from(content);
        let total = credit.series_episode_total;
        let series = credit.series.take().filter(|s| !s.id.is_empty()).map(ContentRef::from);
        let key = series.as_ref().map_or(&content.id, |s| &s.id).clone();
        let slot = *at.entry(key).or_insert_with(|| {
            let head = series.clone().map(|s| ContentRef { kind: ContentKind::Series, ..s });
            merged.push(Merged::new(head.unwrap_or_else(|| content.clone()), total));
            merged.len() - 1
        });
        let entry = &mut merged[slot];
        entry.total = entry.total.max(total);
        if series.is_some() {
            entry.add_episode(content, credit);
        } else {
            entry.own.push(credit);
        }
    }
    let mut out: Vec<FilmographyEntry> = merged.into_iter().map(Merged::finish).collect();
    // Stable: the catalogue's order within a year. `None` (unknown year) last.
    out.sort_by_key(|e| std::cmp::Reverse(e.year.map_or(i64::MIN, i64::from)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(billing: Option<i32>, episodes: Option<(u32, u32)>) -> Part {
        Part { as_self: false, billing, episodes }
    }

    #[test]
    fn character_type_follows_billing_and_episode_share() {
        use CharacterType::{Cameo, Lead, Supporting};
        // Movies: billing.
        assert_eq!(character_type(&part(Some(1), None)), Lead);
        assert_eq!(character_type(&part(Some(3), None)), Lead);
        assert_eq!(character_type(&part(Some(4), None)), Supporting);
        assert_eq!(character_type(&part(Some(15), None)), Supporting);
        assert_eq!(character_type(&part(Some(16), None)), Cameo);
        assert_eq!(character_type(&part(None, None)), Supporting, "unknown billing");
        assert_eq!(character_type(&Part { as_self: true, billing: Some(1), episodes: None }), Cameo);
        // Series: episode share.
        assert_eq!(character_type(&part(None, Some((40, 73)))), Lead, "in more than half");
        assert_eq!(character_type(&part(None, Some((5, 10)))), Lead, "exactly half");
        assert_eq!(character_type(&part(None, Some((4, 10)))), Supporting);
        assert_eq!(character_type(&part(None, Some((1, 2)))), Supporting, "one episode is never a lead by share");
        assert_eq!(character_type(&part(None, Some((1, 10)))), Cameo, "one episode of a long series");
        assert_eq!(character_type(&part(None, Some((1, 9)))), Supporting, "one episode of a short series");
        // Series: billing on the series title itself.
        assert_eq!(character_type(&part(Some(2), Some((1, 100)))), Lead, "top billed on the series");
        assert_eq!(character_type(&part(Some(8), Some((1, 100)))), Supporting, "credited on the series title");
        assert_eq!(character_type(&part(Some(2), Some((0, 100)))), Lead, "series title only, by billing");
        assert_eq!(character_type(&part(Some(20), Some((0, 100)))), Cameo, "series title only, far down");
        assert_eq!(character_type(&Part { as_self: true, billing: None, episodes: Some((50, 60)) }), Cameo);
    }

    fn title(id: &str, kind: pb::ContentType, year: i32) -> pb::ContentRef {
        pb::ContentRef {
            id: id.into(),
            imdb_id: format!("tt{id}"),
            title: format!("Title {id}"),
            content_type: kind.into(),
            year: Some(year),
        }
    }

    fn credit(content: pb::ContentRef, role: &str, order: i32) -> pb::FilmographyEntry {
        pb::FilmographyEntry {
            content: Some(content),
            role_name: role.into(),
            characters: vec![role.into()],
            category: "actress".into(),
            credit_order: order,
            ..Default::default()
        }
    }

    fn episode(n: i32, series: &pb::ContentRef, role: &str) -> pb::FilmographyEntry {
        pb::FilmographyEntry {
            series: Some(series.clone()),
            season_number: Some(1),
            episode_number: Some(n),
            series_episode_total: 12,
            ..credit(title(&format!("e{n}"), pb::ContentType::Episode, 1995), role, 5)
        }
    }

    #[test]
    fn a_series_and_its_episodes_are_one_entry_and_a_movie_with_two_roles_is_one() {
        use pb::ContentType::{Movie, Series};
        let show = title("s", Series, 1994);
        let mut credits =
            vec![credit(title("m", Movie, 2001), "Twin A", 4), credit(title("m", Movie, 2001), "Twin B", 2)];
        credits.push(pb::FilmographyEntry {
            series_episode_total: 12,
            characters: vec![],
            ..credit(show.clone(), "", 0)
        });
        credits.extend((1..=7).map(|n| episode(n, &show, if n == 3 { "Nurse" } else { "Rachel" })));
        let out = entries(credits);
        assert_eq!(out.len(), 2, "{out:?}");
        let movie = &out[0];
        assert_eq!((movie.content_id.as_str(), movie.credit_order, movie.episode_count), ("m", 2, None));
        assert_eq!(
            (movie.role_name.as_deref(), movie.characters.clone()),
            (Some("Twin A"), vec!["Twin A".into(), "Twin B".into()])
        );
        assert_eq!(movie.character_type, CharacterType::Lead, "billed 2nd");
        let series = &out[1];
        assert_eq!((series.content_id.as_str(), series.kind, series.year), ("s", ContentKind::Series, Some(1994)));
        assert_eq!(series.episode_count, Some(7));
        assert_eq!(
            series.episodes.iter().map(|e| e.episode_number.unwrap()).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(series.role_name.as_deref(), Some("Rachel"), "the part played most");
        assert_eq!(series.characters, ["Rachel", "Nurse"]);
        assert_eq!((series.character_type, series.is_main_role), (CharacterType::Lead, true), "7 of 12 episodes");
        assert_eq!(series.credit_order, 5, "no billing on the series title: the episodes' best");
        assert_eq!(series.content.id, "s");
    }
}
