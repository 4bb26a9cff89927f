//! "Where do I know them from": known-from, familiar faces and actor stats. Each joins the user's seen titles
//! ([`crate::seen`]) with batch reads of the catalogue (`GetFilmographies`, `GetCasts`; never a call per row),
//! and answers Unavailable while the catalogue is down.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1 as cat;
use iknow_proto::library::v1 as pb;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::seen::{SeenCache, SeenIndex, Sighting};
use crate::store::time;

/// Default and largest `limit` of `ActorStats`.
pub const DEFAULT_STATS_LIMIT: i32 = 20;
/// Largest `limit` of `ActorStats`.
pub const MAX_STATS_LIMIT: i32 = 100;

fn content_type(t: i32) -> &'static str {
    match cat::ContentType::try_from(t) {
        Ok(cat::ContentType::Movie) => "movie",
        Ok(cat::ContentType::Series) => "series",
        Ok(cat::ContentType::Episode) => "episode",
        _ => "unknown",
    }
}

/// Billing position for ordering: unknown (0) after every known one.
fn billing(order: i32) -> i32 {
    if order > 0 { order } else { i32::MAX }
}

/// One actor's credits grouped by title: the most prominent credit of each title (lowest billing), with the
/// characters of all its credits in the title. In filmography order.
#[derive(Debug, Clone)]
struct TitleCredit {
    content: cat::ContentRef,
    series_id: Option<Uuid>,
    role_name: String,
    characters: Vec<String>,
    credit_order: i32,
}

fn by_title(credits: &[cat::FilmographyCredit]) -> Vec<(Uuid, TitleCredit)> {
    let mut order: Vec<Uuid> = vec![];
    let mut titles: HashMap<Uuid, TitleCredit> = HashMap::new();
    for c in credits {
        let Some(entry) = &c.entry else { continue };
        let Some(content) = &entry.content else { continue };
        let Some(id) = iknow_common::id::parse(&content.id) else { continue };
        match titles.get_mut(&id) {
            Some(t) => {
                for ch in &entry.characters {
                    if !t.characters.contains(ch) {
                        t.characters.push(ch.clone());
                    }
                }
                if billing(entry.credit_order) < billing(t.credit_order) {
                    t.role_name = entry.role_name.clone();
                    t.credit_order = entry.credit_order;
                }
            }
            None => {
                order.push(id);
                titles.insert(
                    id,
                    TitleCredit {
                        content: content.clone(),
                        series_id: c.series.as_ref().and_then(|s| iknow_common::id::parse(&s.id)),
                        role_name: entry.role_name.clone(),
                        characters: entry.characters.clone(),
                        credit_order: entry.credit_order,
                    },
                );
            }
        }
    }
    order.into_iter().filter_map(|id| titles.remove(&id).map(|t| (id, t))).collect()
}

fn item(id: Uuid, t: TitleCredit, seen: Sighting, index: &SeenIndex) -> pb::KnownFromItem {
    let stored = index.stored.get(&id);
    pb::KnownFromItem {
        content: Some(pb::ContentSummary {
            id: t.content.id,
            title: t.content.title,
            content_type: content_type(t.content.content_type).into(),
            year: t.content.year,
            poster_url: stored.and_then(|s| s.poster_url.clone()).unwrap_or_default(),
            runtime_minutes: stored.and_then(|s| s.runtime_minutes),
            series_id: t.series_id.map(|s| s.to_string()).unwrap_or_default(),
        }),
        role_name: t.role_name,
        characters: t.characters,
        credit_order: t.credit_order,
        last_viewed_at: time(seen.last),
        view_count: seen.views.clamp(0, u32::MAX as i64) as u32,
    }
}

/// The seen titles among one actor's credits (leaving out `excluded` titles and their episodes), most
/// recently seen first, and the number of distinct titles considered.
fn known_from(
    credits: &[cat::FilmographyCredit],
    index: &SeenIndex,
    excluded: &HashSet<Uuid>,
) -> (Vec<(pb::KnownFromItem, Sighting)>, usize) {
    let titles = by_title(credits);
    let mut considered = 0;
    let mut items = vec![];
    for (id, t) in titles {
        if excluded.contains(&id) || t.series_id.is_some_and(|s| excluded.contains(&s)) {
            continue;
        }
        considered += 1;
        if let Some(seen) = index.titles.get(&id) {
            items.push((item(id, t, *seen, index), *seen));
        }
    }
    items.sort_by(|(a, sa), (b, sb)| {
        sb.last.cmp(&sa.last).then_with(|| title_of(a).cmp(title_of(b))).then_with(|| id_of(a).cmp(id_of(b)))
    });
    (items, considered)
}

fn title_of(i: &pb::KnownFromItem) -> &str {
    i.content.as_ref().map(|c| c.title.as_str()).unwrap_or_default()
}

fn id_of(i: &pb::KnownFromItem) -> &str {
    i.content.as_ref().map(|c| c.id.as_str()).unwrap_or_default()
}

fn uuid(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> Uuid {
    iknow_common::id::parse(value).unwrap_or_else(|| {
        violations.push(FieldViolation::new(field, "must be a UUID"));
        Uuid::nil()
    })
}

fn two_ids(user_id: &str, field: &str, value: &str) -> Result<(Uuid, Uuid), Error> {
    let mut violations = vec![];
    let user = uuid("userId", user_id, &mut violations);
    let other = uuid(field, value, &mut violations);
    if violations.is_empty() { Ok((user, other)) } else { Err(Error::validation(violations)) }
}

/// `KnownFrom`.
pub async fn known_from_actor(
    seen: &SeenCache,
    catalog: &Catalog,
    r: &pb::KnownFromRequest,
) -> Result<pb::KnownFromResponse, Error> {
    let (user_id, actor_id) = two_ids(&r.user_id, "actorId", &r.actor_id)?;
    let actor = [actor_id];
    let (index, films) = tokio::join!(seen.of(user_id), catalog.filmographies(&actor));
    let index = index.map_err(Error::internal)?;
    let film = films?
        .into_iter()
        .find(|f| f.actor_id == actor_id.to_string())
        .ok_or_else(|| Error::not_found("ACTOR_NOT_FOUND", "Actor not found"))?;
    let (items, filmography_count) = known_from(&film.credits, &index, &HashSet::new());
    let seen_count = items.len() as u32;
    let share = if filmography_count == 0 { 0.0 } else { f64::from(seen_count) / filmography_count as f64 };
    Ok(pb::KnownFromResponse {
        items: items.into_iter().map(|(i, _)| i).collect(),
        seen_count,
        filmography_count: filmography_count as u32,
        share,
    })
}

/// `FamiliarFaces`.
pub async fn familiar_faces(
    seen: &SeenCache,
    catalog: &Catalog,
    r: &pb::FamiliarFacesRequest,
) -> Result<pb::FamiliarFacesResponse, Error> {
    let (user_id, content_id) = two_ids(&r.user_id, "contentId", &r.content_id)?;
    // The cast and its filmographies are read while the history query runs.
    let catalogue = async {
        let cast = catalog
            .casts(&[content_id], true)
            .await?
            .into_iter()
            .find(|c| c.content_id == content_id.to_string())
            .ok_or_else(|| Error::not_found("CONTENT_NOT_FOUND", "No title with this id"))?;
        let mut members: Vec<(Uuid, cat::CastCredit)> = vec![];
        let mut listed = HashSet::new();
        for credit in cast.cast {
            let Some(id) = credit.member.as_ref().and_then(|m| iknow_common::id::parse(&m.actor_id)) else { continue };
            if listed.insert(id) {
                members.push((id, credit));
            }
        }
        let ids: Vec<Uuid> = members.iter().map(|(id, _)| *id).collect();
        let films: HashMap<String, cat::ActorFilmography> =
            catalog.filmographies(&ids).await?.into_iter().map(|f| (f.actor_id.clone(), f)).collect();
        Ok::<_, Error>((cast.series_id, members, films))
    };
    let (index, answer) = tokio::join!(seen.of(user_id), catalogue);
    let index = index.map_err(Error::internal)?;
    let (series_id, members, films) = answer?;
    if index.is_empty() || members.is_empty() {
        return Ok(pb::FamiliarFacesResponse { faces: vec![] });
    }
    // This title, and for an episode its series: neither they nor the series' episodes count as "elsewhere".
    let mut excluded = HashSet::from([content_id]);
    excluded.extend(iknow_common::id::parse(&series_id));
    let mut faces = vec![];
    for (id, credit) in members {
        let Some(m) = credit.member else { continue };
        let Some(film) = films.get(&id.to_string()) else { continue };
        let (items, _) = known_from(&film.credits, &index, &excluded);
        let Some(last) = items.iter().map(|(_, s)| s.last).max() else { continue };
        let seen_count = items.len() as u32;
        let example = items
            .into_iter()
            .min_by(|(a, sa), (b, sb)| {
                billing(a.credit_order).cmp(&billing(b.credit_order)).then_with(|| sb.last.cmp(&sa.last))
            })
            .map(|(i, _)| i);
        faces.push((
            last,
            pb::FamiliarFace {
                actor_id: m.actor_id,
                actor_name: m.actor_name,
                profile_image_url: m.profile_image_url,
                role_name: m.role_name,
                characters: m.characters,
                series_regular: credit.series_regular,
                example,
                seen_count,
                last_viewed_at: time(last),
            },
        ));
    }
    faces.sort_by(|(la, a), (lb, b)| {
        b.seen_count
            .cmp(&a.seen_count)
            .then_with(|| lb.cmp(la))
            .then_with(|| a.actor_name.cmp(&b.actor_name))
            .then_with(|| a.actor_id.cmp(&b.actor_id))
    });
    Ok(pb::FamiliarFacesResponse { faces: faces.into_iter().map(|(_, f)| f).collect() })
}

/// The limit of an `ActorStats` request: 1 to 100, default 20.
pub fn stats_limit(limit: Option<i32>) -> Result<usize, Error> {
    match limit.unwrap_or(DEFAULT_STATS_LIMIT) {
        l @ 1..=MAX_STATS_LIMIT => Ok(l as usize),
        _ => Err(Error::field("limit", "must be between 1 and 100")),
    }
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
    let mut violations = vec![];
    let user_id = uuid("userId", &r.user_id, &mut violations);
    let limit = match stats_limit(r.limit) {
        Ok(l) => l,
        Err(_) => {
            violations.push(FieldViolation::new("limit", "must be between 1 and 100"));
            0
        }
    };
    if !violations.is_empty() {
        return Err(Error::validation(violations));
    }
    let index = seen.of(user_id).await.map_err(Error::internal)?;
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
    use crate::seen::test_rows::seen;

    fn credit(id: Uuid, series: Option<Uuid>, role: &str, order: i32) -> cat::FilmographyCredit {
        cat::FilmographyCredit {
            entry: Some(cat::FilmographyEntry {
                content: Some(cat::ContentRef { id: id.to_string(), title: role.into(), ..Default::default() }),
                role_name: role.into(),
                characters: vec![role.into()],
                category: "actor".into(),
                credit_order: order,
            }),
            series: series.map(|s| cat::ContentRef { id: s.to_string(), ..Default::default() }),
        }
    }

    #[test]
    fn several_credits_in_one_title_are_one_item_and_exclusions_cover_episodes() {
        let (movie, series, episode, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let index = SeenIndex::new(vec![seen(movie, None, 2, 1), seen(episode, Some(series), 4, 1)]);
        let credits = vec![
            credit(movie, None, "Twin B", 7),
            credit(movie, None, "Twin A", 3),
            credit(episode, Some(series), "Guest", 0),
            credit(other, None, "Unseen", 1),
        ];
        let (items, considered) = known_from(&credits, &index, &HashSet::new());
        assert_eq!(considered, 3);
        let roles: Vec<(&str, i32)> = items.iter().map(|(i, _)| (i.role_name.as_str(), i.credit_order)).collect();
        assert_eq!(roles, [("Guest", 0), ("Twin A", 3)], "most recent first, lowest billing per title");
        assert_eq!(items[1].0.characters, ["Twin B", "Twin A"]);
        let (items, considered) = known_from(&credits, &index, &HashSet::from([series]));
        assert_eq!((items.len(), considered), (1, 2), "the excluded series' episodes are left out");
    }

    #[test]
    fn the_stats_limit_is_checked() {
        assert_eq!(stats_limit(None).unwrap(), 20);
        assert_eq!(stats_limit(Some(100)).unwrap(), 100);
        assert!(stats_limit(Some(0)).is_err());
        assert!(stats_limit(Some(101)).is_err());
    }
}
