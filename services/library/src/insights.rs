//! "Where do I know them from": known-from, familiar faces and actor stats. Each joins the user's seen titles
//! ([`crate::seen`]) with batch reads of the catalogue (`GetFilmographies`, `GetCasts`; never a call per row),
//! familiar faces through the casts of the seen titles this replica keeps ([`crate::casts`]), and answers
//! Unavailable while the catalogue is down (familiar faces only when what it needs is not kept).
//!
//! Familiar faces of an episode also count the other episodes of its series the user has seen ("that's the
//! innkeeper from season 2"), marked `same_series`, with one rule against noise: such a sighting counts only
//! for an actor credited on this episode itself and on fewer than half of the series' episodes (the
//! catalogue's `series_episodes` against `series_episode_total`; an unknown total counts none). The series'
//! regulars, credited on the series title or on half its episodes or more, were in the previous episode too.
//! A face known from another title comes before one known only from the series, and within a face another
//! title is the example before an episode of the series. The watched title and its series are never sightings.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_proto::catalog::v1 as cat;
use iknow_proto::library::v1 as pb;
use uuid::Uuid;

use crate::casts::{CastCache, SeenActors};
use crate::catalog::Catalog;
use crate::seen::{SeenCache, SeenIndex, Sighting};
use crate::store::time;
use crate::validate;

/// Billing position for ordering: unknown (0) after every known one.
fn billing(order: i32) -> i32 {
    if order > 0 { order } else { i32::MAX }
}

/// How a title among an actor's credits counts for one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    /// Not at all (the watched title, its series, or an episode of it that does not count).
    No,
    /// As a title elsewhere.
    Elsewhere,
    /// As another episode of the watched episode's series.
    SameSeries,
}

/// One seen title among an actor's credits: the most prominent credit in it (lowest billing), with the
/// characters of all its credits there. Borrows what the credits were read from: only the items answered
/// are built.
#[derive(Debug)]
struct SeenCredit<'a> {
    id: Uuid,
    content: &'a cat::ContentRef,
    series_id: Option<Uuid>,
    series_title: &'a str,
    role_name: &'a str,
    characters: Vec<&'a str>,
    credit_order: i32,
    seen: Sighting,
    same_series: bool,
}

/// Gathers an actor's credits in seen titles, one [`SeenCredit`] per title, in the order first met.
#[derive(Default)]
struct Collector<'a> {
    found: Vec<SeenCredit<'a>>,
    at: HashMap<Uuid, usize>,
}

impl<'a> Collector<'a> {
    /// Adds one credit in the seen title `t` (whose role and characters are those of this credit).
    fn add(&mut self, t: SeenCredit<'a>, characters: &'a [String]) {
        match self.at.get(&t.id) {
            Some(&i) => {
                let known = &mut self.found[i];
                for ch in characters {
                    if !known.characters.contains(&ch.as_str()) {
                        known.characters.push(ch);
                    }
                }
                if billing(t.credit_order) < billing(known.credit_order) {
                    known.role_name = t.role_name;
                    known.credit_order = t.credit_order;
                }
            }
            None => {
                self.at.insert(t.id, self.found.len());
                self.found.push(SeenCredit { characters: characters.iter().map(String::as_str).collect(), ..t });
            }
        }
    }
}

fn item(t: &SeenCredit<'_>, index: &SeenIndex) -> pb::KnownFromItem {
    let stored = index.stored.get(&t.id);
    pb::KnownFromItem {
        content: Some(pb::ContentSummary {
            id: t.content.id.clone(),
            title: t.content.title.clone(),
            content_type: cat::ContentType::name_of(t.content.content_type).unwrap_or("unknown").into(),
            year: t.content.year,
            poster_url: stored.and_then(|s| s.poster_url.clone()).unwrap_or_default(),
            runtime_minutes: stored.and_then(|s| s.runtime_minutes),
            series_id: t.series_id.map(|s| s.to_string()).unwrap_or_default(),
        }),
        role_name: t.role_name.to_owned(),
        characters: t.characters.iter().map(|c| (*c).to_owned()).collect(),
        credit_order: t.credit_order,
        last_viewed_at: time(t.seen.last),
        view_count: t.seen.views.clamp(0, u32::MAX as i64) as u32,
        season_number: stored.and_then(|s| s.season_number),
        episode_number: stored.and_then(|s| s.episode_number),
        series_title: t.series_title.to_owned(),
        same_series: t.same_series,
    }
}

/// Every seen title of one actor's credits, most recently seen first, and the number of distinct titles.
fn known_from(credits: &[cat::FilmographyCredit], index: &SeenIndex) -> (Vec<pb::KnownFromItem>, usize) {
    let mut all: HashSet<Uuid> = HashSet::new();
    let mut seen = Collector::default();
    for c in credits {
        let Some(entry) = &c.entry else { continue };
        let Some(content) = &entry.content else { continue };
        let Some(id) = iknow_common::id::parse(&content.id) else { continue };
        all.insert(id);
        let Some(sighting) = index.titles.get(&id) else { continue };
        let t = SeenCredit {
            id,
            content,
            series_id: c.series.as_ref().and_then(|s| iknow_common::id::parse(&s.id)),
            series_title: c.series.as_ref().map(|s| s.title.as_str()).unwrap_or_default(),
            role_name: &entry.role_name,
            characters: vec![],
            credit_order: entry.credit_order,
            seen: *sighting,
            same_series: false,
        };
        seen.add(t, &entry.characters);
    }
    let mut found = seen.found;
    found.sort_by(|a, b| {
        b.seen.last.cmp(&a.seen.last).then_with(|| a.content.title.cmp(&b.content.title)).then_with(|| a.id.cmp(&b.id))
    });
    (found.iter().map(|t| item(t, index)).collect(), all.len())
}

/// The title being watched, as familiar faces judge sightings against it.
#[derive(Debug, Clone, Copy)]
struct Watching {
    content: Uuid,
    /// For an episode, its series.
    series: Option<Uuid>,
    /// Episodes of the series in the catalogue; 0 when unknown (or not an episode).
    series_episode_total: u32,
}

impl Watching {
    /// Whether a cast member's other episodes of the series count: credited on this episode (not a regular
    /// credited on the series) and on fewer than half of the series' episodes.
    fn same_series_counts(&self, credit: &cat::CastCredit) -> bool {
        self.series.is_some()
            && self.series_episode_total > 0
            && !credit.series_regular
            && u64::from(credit.series_episodes) * 2 < u64::from(self.series_episode_total)
    }

    /// How a title `id` (of series `series`) counts for a member whose same-series sightings count or not.
    fn counts(&self, id: Uuid, series: Option<Uuid>, same_series: bool) -> Counts {
        if id == self.content || Some(id) == self.series || series == Some(self.content) {
            Counts::No
        } else if series.is_some() && series == self.series {
            if same_series { Counts::SameSeries } else { Counts::No }
        } else {
            Counts::Elsewhere
        }
    }
}

/// One cast member's face, when the user has seen them in a title that counts: a lookup of the actor in the
/// user's seen actors, then a look at the credits of each of their seen titles.
fn face(
    watching: &Watching,
    actor: Uuid,
    credit: &cat::CastCredit,
    actors: &SeenActors,
    index: &SeenIndex,
) -> Option<(DateTime<Utc>, pb::FamiliarFace)> {
    // Credited on the series title too: a regular, whatever this episode's cast says (a regular credited on the
    // episode is listed as its own credit). The series is among the seen titles whenever an episode of it is.
    let on_series =
        watching.series.and_then(|s| actors.titles.get(&s)).is_some_and(|t| t.credits.iter().any(|c| c.actor == actor));
    let same_series = watching.same_series_counts(credit) && !on_series;
    let mut seen = Collector::default();
    for cast in actors.actors.get(&actor)? {
        let how = watching.counts(cast.id, cast.series, same_series);
        if how == Counts::No {
            continue;
        }
        let Some(sighting) = index.titles.get(&cast.id) else { continue };
        let series_title = cast.series.and_then(|s| actors.titles.get(&s)).map(|s| s.content.title.as_str());
        for c in cast.credits.iter().filter(|c| c.actor == actor) {
            let t = SeenCredit {
                id: cast.id,
                content: &cast.content,
                series_id: cast.series,
                series_title: series_title.unwrap_or_default(),
                role_name: &c.role_name,
                characters: vec![],
                credit_order: c.credit_order,
                seen: *sighting,
                same_series: how == Counts::SameSeries,
            };
            seen.add(t, &c.characters);
        }
    }
    let found = seen.found;
    let last = found.iter().map(|t| t.seen.last).max()?;
    let same_series_count = found.iter().filter(|t| t.same_series).count() as u32;
    // Another title before an episode of this series, then the most prominent role, then the latest view.
    let example = found.iter().min_by(|a, b| {
        a.same_series
            .cmp(&b.same_series)
            .then_with(|| billing(a.credit_order).cmp(&billing(b.credit_order)))
            .then_with(|| b.seen.last.cmp(&a.seen.last))
            .then_with(|| a.content.title.cmp(&b.content.title))
            .then_with(|| a.id.cmp(&b.id))
    })?;
    let m = credit.member.as_ref()?;
    Some((
        last,
        pb::FamiliarFace {
            actor_id: m.actor_id.clone(),
            actor_name: m.actor_name.clone(),
            profile_image_url: m.profile_image_url.clone(),
            role_name: m.role_name.clone(),
            characters: m.characters.clone(),
            series_regular: credit.series_regular,
            example: Some(item(example, index)),
            seen_count: found.len() as u32,
            last_viewed_at: time(last),
            same_series: same_series_count as usize == found.len(),
            same_series_count,
        },
    ))
}

/// Faces seen in other titles first, then those known only from the series; within each, most other titles
/// seen, then most same-series episodes seen, then most recently seen, then name and id.
fn rank(faces: &mut [(DateTime<Utc>, pb::FamiliarFace)]) {
    faces.sort_by(|(la, a), (lb, b)| {
        a.same_series
            .cmp(&b.same_series)
            .then_with(|| (b.seen_count - b.same_series_count).cmp(&(a.seen_count - a.same_series_count)))
            .then_with(|| b.same_series_count.cmp(&a.same_series_count))
            .then_with(|| lb.cmp(la))
            .then_with(|| a.actor_name.cmp(&b.actor_name))
            .then_with(|| a.actor_id.cmp(&b.actor_id))
    });
}

/// `KnownFrom`.
pub async fn known_from_actor(
    seen: &SeenCache,
    catalog: &Catalog,
    r: &pb::KnownFromRequest,
) -> Result<pb::KnownFromResponse, Error> {
    let (user_id, actor_id) = validate::user_and(&r.user_id, "actorId", &r.actor_id)?;
    let actor = [actor_id];
    let (index, films) = tokio::join!(seen.of(user_id), catalog.filmographies(&actor));
    let index = index?;
    let film = films?
        .into_iter()
        .find(|f| f.actor_id == actor_id.to_string())
        .ok_or_else(|| Error::not_found("ACTOR_NOT_FOUND", "Actor not found"))?;
    let (items, filmography_count) = known_from(&film.credits, &index);
    let seen_count = items.len() as u32;
    let share = if filmography_count == 0 { 0.0 } else { f64::from(seen_count) / filmography_count as f64 };
    Ok(pb::KnownFromResponse { items, seen_count, filmography_count: filmography_count as u32, share })
}

/// `FamiliarFaces`: the title's cast (`GetCasts`, kept in [`CastCache`] too) joined by lookups with the user's
/// seen actors ([`CastCache`]); the catalogue is asked for nothing unless the user's seen titles, or the
/// catalogue, changed since.
pub async fn familiar_faces(
    seen: &SeenCache,
    casts: &CastCache,
    r: &pb::FamiliarFacesRequest,
) -> Result<pb::FamiliarFacesResponse, Error> {
    let (user_id, content_id) = validate::user_and(&r.user_id, "contentId", &r.content_id)?;
    // The cast is read while the user's seen titles (and then their seen actors) are.
    let cast = async {
        casts.cast_of(content_id).await?.ok_or_else(|| Error::not_found("CONTENT_NOT_FOUND", "No title with this id"))
    };
    let seen_actors = async {
        let index = seen.of(user_id).await?;
        let actors = casts.seen_actors(user_id, &index).await?;
        Ok::<_, Error>((index, actors))
    };
    let (cast, seen_actors) = tokio::join!(cast, seen_actors);
    let cast = cast?;
    let (index, actors) = seen_actors?;
    let watching = Watching {
        content: content_id,
        series: iknow_common::id::parse(&cast.series_id),
        series_episode_total: cast.series_episode_total,
    };
    let mut listed = HashSet::new();
    let mut faces: Vec<(DateTime<Utc>, pb::FamiliarFace)> = cast
        .cast
        .iter()
        .filter_map(|credit| {
            let id = credit.member.as_ref().and_then(|m| iknow_common::id::parse(&m.actor_id))?;
            if !listed.insert(id) {
                return None;
            }
            face(&watching, id, credit, &actors, &index)
        })
        .collect();
    rank(&mut faces);
    Ok(pb::FamiliarFacesResponse { faces: faces.into_iter().map(|(_, f)| f).collect() })
}

/// One actor's running totals in `ActorStats`.
struct Tally {
    name: String,
    photo: String,
    titles: HashSet<Uuid>,
    minutes: i64,
    last: DateTime<Utc>,
}

/// `ActorStats`.
pub async fn actor_stats(
    seen: &SeenCache,
    catalog: &Catalog,
    r: &pb::ActorStatsRequest,
) -> Result<pb::ActorStatsResponse, Error> {
    let (user_id, limit) = validate::actor_stats(r)?;
    let index = seen.of(user_id).await?;
    if index.stored.is_empty() {
        return Ok(pb::ActorStatsResponse { actors: vec![], titles_seen: 0 });
    }
    let ids: Vec<Uuid> = index.stored.keys().copied().collect();
    let casts = catalog.casts(&ids, true).await?;
    let mut tallies: HashMap<String, Tally> = HashMap::new();
    for cast in &casts {
        let Some(content_id) = iknow_common::id::parse(&cast.content_id) else { continue };
        let Some(seen) = index.stored.get(&content_id) else { continue };
        let series = iknow_common::id::parse(&cast.series_id);
        let mut counted = HashSet::new();
        for credit in &cast.cast {
            let Some(m) = &credit.member else { continue };
            if !counted.insert(m.actor_id.as_str()) {
                continue;
            }
            // A regular counts their series once, however many of its episodes were seen.
            let title = if credit.series_regular { series.unwrap_or(content_id) } else { content_id };
            let t = tallies.entry(m.actor_id.clone()).or_insert_with(|| Tally {
                name: m.actor_name.clone(),
                photo: m.profile_image_url.clone(),
                titles: HashSet::new(),
                minutes: 0,
                last: seen.last_viewed_at,
            });
            t.titles.insert(title);
            t.minutes += seen.minutes;
            t.last = t.last.max(seen.last_viewed_at);
        }
    }
    let mut ranked: Vec<(String, Tally)> = tallies.into_iter().collect();
    ranked.sort_by(|(ia, a), (ib, b)| {
        b.titles
            .len()
            .cmp(&a.titles.len())
            .then_with(|| b.minutes.cmp(&a.minutes))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| ia.cmp(ib))
    });
    let titles_seen = index.titles.len() as u32;
    let actors = ranked
        .into_iter()
        .take(limit)
        .map(|(id, t)| pb::ActorStat {
            actor_id: id,
            actor_name: t.name,
            profile_image_url: t.photo,
            titles_seen: t.titles.len() as u32,
            minutes_watched: t.minutes,
            last_viewed_at: time(t.last),
        })
        .collect();
    Ok(pb::ActorStatsResponse { actors, titles_seen })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::casts::{Credit, TitleCast};
    use crate::seen::test_rows::seen;

    fn credit(id: Uuid, series: Option<Uuid>, role: &str, order: i32) -> cat::FilmographyCredit {
        cat::FilmographyCredit {
            entry: Some(cat::FilmographyEntry {
                content: Some(cat::ContentRef { id: id.to_string(), title: role.into(), ..Default::default() }),
                role_name: role.into(),
                characters: vec![role.into()],
                category: "actor".into(),
                credit_order: order,
                ..Default::default()
            }),
            series: series.map(|s| cat::ContentRef { id: s.to_string(), ..Default::default() }),
        }
    }

    #[test]
    fn several_credits_in_one_title_are_one_item_and_episodes_name_their_place() {
        let (movie, series, episode, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut stored = seen(episode, Some(series), 4, 1);
        (stored.season_number, stored.episode_number) = (Some(2), Some(5));
        let index = SeenIndex::new(vec![seen(movie, None, 2, 1), stored]);
        let credits = vec![
            credit(movie, None, "Twin B", 7),
            credit(movie, None, "Twin A", 3),
            credit(episode, Some(series), "Guest", 0),
            credit(other, None, "Unseen", 1),
        ];
        let (items, considered) = known_from(&credits, &index);
        assert_eq!(considered, 3);
        let roles: Vec<(&str, i32)> = items.iter().map(|i| (i.role_name.as_str(), i.credit_order)).collect();
        assert_eq!(roles, [("Guest", 0), ("Twin A", 3)], "most recent first, lowest billing per title");
        assert_eq!(items[1].characters, ["Twin B", "Twin A"]);
        assert_eq!((items[0].season_number, items[0].episode_number), (Some(2), Some(5)));
        assert_eq!(items[0].content.as_ref().unwrap().series_id, series.to_string());
        assert!(!items[0].same_series, "known-from has no watched title");
        assert_eq!((items[1].season_number, items[1].series_title.as_str()), (None, ""));
    }

    fn member(id: Uuid, regular: bool, episodes: u32) -> cat::CastCredit {
        cat::CastCredit {
            member: Some(cat::CastMember {
                actor_id: id.to_string(),
                actor_name: id.to_string(),
                ..Default::default()
            }),
            series_regular: regular,
            series_episodes: episodes,
        }
    }

    /// A title of `series` crediting (actor, character, billing).
    fn title(id: Uuid, series: Option<Uuid>, credits: &[(Uuid, &str, i32)]) -> (Uuid, std::sync::Arc<TitleCast>) {
        let credits = credits
            .iter()
            .map(|(actor, role, order)| Credit {
                actor: *actor,
                role_name: (*role).into(),
                characters: vec![(*role).into()],
                credit_order: *order,
            })
            .collect();
        let content = cat::ContentRef { id: id.to_string(), title: id.to_string(), ..Default::default() };
        (id, std::sync::Arc::new(TitleCast { id, content, series, credits }))
    }

    #[test]
    fn same_series_sightings_count_for_guests_only_and_after_other_titles() {
        let (series, watched, early, late, movie) =
            (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let index = SeenIndex::new(vec![
            seen(early, Some(series), 3, 1),
            seen(late, Some(series), 9, 1),
            seen(movie, None, 1, 1),
        ]);
        let (guest, both, regular, frequent) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let lead = Uuid::now_v7();
        // The guest and the frequent guest were in the early episode, the other one in both episodes and in a
        // movie, the regular is credited on the series, the lead on the series and on the watched and early
        // episodes. The watched episode is never a sighting of itself.
        let actors = SeenActors::new(HashMap::from([
            title(series, None, &[(regular, "Hero", 1), (lead, "Lead", 1)]),
            title(watched, Some(series), &[(guest, "Innkeeper", 9), (lead, "Lead", 1)]),
            title(
                early,
                Some(series),
                &[(guest, "Innkeeper", 9), (both, "Bard", 2), (frequent, "Cook", 6), (lead, "Lead", 1)],
            ),
            title(late, Some(series), &[(both, "Bard", 4), (regular, "Hero", 1)]),
            title(movie, None, &[(both, "Knight", 8)]),
        ]));
        let watching = Watching { content: watched, series: Some(series), series_episode_total: 10 };
        let mut faces: Vec<_> = [
            face(&watching, guest, &member(guest, false, 2), &actors, &index),
            face(&watching, both, &member(both, false, 4), &actors, &index),
            face(&watching, regular, &member(regular, true, 1), &actors, &index),
            face(&watching, frequent, &member(frequent, false, 5), &actors, &index),
            face(&watching, lead, &member(lead, false, 2), &actors, &index),
        ]
        .into_iter()
        .flatten()
        .collect();
        rank(&mut faces);
        let faces: Vec<pb::FamiliarFace> = faces.into_iter().map(|(_, f)| f).collect();
        let ids: Vec<String> = faces.iter().map(|f| f.actor_id.clone()).collect();
        assert_eq!(
            ids,
            [both.to_string(), guest.to_string()],
            "credited on the series, or on half the episodes or more: never through the series"
        );

        let b = &faces[0];
        assert_eq!((b.same_series, b.seen_count, b.same_series_count), (false, 3, 2));
        let example = b.example.as_ref().unwrap();
        assert_eq!((example.role_name.as_str(), example.same_series), ("Knight", false), "another title first");
        assert_eq!(b.last_viewed_at, time(crate::seen::test_rows::at(9)));

        let g = &faces[1];
        assert_eq!((g.same_series, g.seen_count, g.same_series_count), (true, 1, 1));
        let example = g.example.as_ref().unwrap();
        assert!(example.same_series);
        assert_eq!(example.content.as_ref().unwrap().id, early.to_string(), "never the watched episode itself");
        assert_eq!(example.content.as_ref().unwrap().series_id, series.to_string());
        assert_eq!(example.series_title, series.to_string());

        // An unknown episode total counts no episode of the series.
        let unknown = Watching { series_episode_total: 0, ..watching };
        assert!(face(&unknown, guest, &member(guest, false, 2), &actors, &index).is_none());
        // A series page: its episodes are the title itself.
        let series_page = Watching { content: series, series: None, series_episode_total: 0 };
        let (_, on_series_page) = face(&series_page, both, &member(both, false, 0), &actors, &index).unwrap();
        assert_eq!(on_series_page.seen_count, 1, "only the movie");
    }
}
