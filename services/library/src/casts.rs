//! The casts of the titles users have seen, kept in each replica so that familiar faces joins a title's cast
//! with the user's seen titles by lookups, instead of asking for (and decoding) the whole filmography of every
//! cast member on every answer.
//!
//! Three tiers, all in process:
//! - **watched**: the casts familiar faces were asked about, as `GetCasts` (with an episode's series regulars
//!   and episode counts) gave them, until the next catalogue write;
//! - **titles**: each seen title's credits and name (`GetCasts` without series regulars plus `GetContents`,
//!   asked in batches only for titles not held yet), shared by every user;
//! - **users**: for each user, their seen actors: actor id → the seen titles crediting them, built from the
//!   titles tier for the user's current [`SeenIndex`]. A history or watchlist write, a deletion or an erasure
//!   gives the user a new `SeenIndex` ([`crate::seen::SeenCache`]); when its titles differ, the next answer
//!   rebuilds their seen actors from the titles tier (asking the catalogue only for titles it does not hold).
//!
//! The catalogue announces its writes on `catalog.events` ([`crate::catalog_events`]): `content.upserted`
//! (every title whose row, credits or credited actors changed) drops those titles, `catalog.reloaded` (a bulk
//! load) and every (re)connection of the listener drop everything. Each drop bumps a generation, which makes
//! every user's seen actors and every watched cast stale and keeps a read that raced with the drop from
//! storing what it loaded. A
//! time to live bounds what a listener that cannot reach RabbitMQ would miss.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use iknow_common::Error;
use iknow_proto::catalog::v1 as cat;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::seen::SeenIndex;

/// Credits the titles tier holds at most (each title weighs its credits, at least 1).
const TITLE_CREDITS: u64 = 2_000_000;
/// Credits the watched casts hold at most (each cast weighs its credits, at least 1).
const WATCHED_CREDITS: u64 = 1_000_000;
/// Actor–title pairs the users tier holds at most (each user weighs theirs, at least 1).
const USER_PAIRS: u64 = 4_000_000;
/// The longest an entry lives, for a listener that missed events.
const TTL: Duration = Duration::from_secs(600);

/// One credit of a title's own cast.
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    pub actor: Uuid,
    pub role_name: String,
    pub characters: Vec<String>,
    pub credit_order: i32,
}

/// What familiar faces needs of one title: its name, its series, its own credits.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleCast {
    pub id: Uuid,
    pub content: cat::ContentRef,
    /// For an episode: its series.
    pub series: Option<Uuid>,
    pub credits: Vec<Credit>,
}

impl TitleCast {
    fn new(content: &cat::Content, cast: Option<cat::ContentCast>) -> Option<Self> {
        let id = iknow_common::id::parse(&content.id)?;
        let credits = cast
            .map(|c| c.cast)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| {
                let m = c.member?;
                Some(Credit {
                    actor: iknow_common::id::parse(&m.actor_id)?,
                    role_name: m.role_name,
                    characters: m.characters,
                    credit_order: m.credit_order,
                })
            })
            .collect();
        Some(Self {
            id,
            content: cat::ContentRef {
                id: content.id.clone(),
                imdb_id: content.imdb_id.clone(),
                title: content.title.clone(),
                content_type: content.content_type,
                year: content.year,
            },
            series: content.parent.as_ref().and_then(|p| iknow_common::id::parse(&p.id)),
            credits,
        })
    }

    fn weight(&self) -> u32 {
        self.credits.len().clamp(1, u32::MAX as usize) as u32
    }
}

/// One user's seen titles by the actors they credit.
#[derive(Debug, Default)]
pub struct SeenActors {
    /// Each actor's seen titles (a title once, however many credits the actor has in it).
    pub actors: HashMap<Uuid, Vec<Arc<TitleCast>>>,
    /// Every seen title the catalogue knows, by id (a series seen through its episodes included).
    pub titles: HashMap<Uuid, Arc<TitleCast>>,
}

impl SeenActors {
    pub fn new(titles: HashMap<Uuid, Arc<TitleCast>>) -> Self {
        let mut actors: HashMap<Uuid, Vec<Arc<TitleCast>>> = HashMap::new();
        for cast in titles.values() {
            for (i, credit) in cast.credits.iter().enumerate() {
                // An actor with several credits in one title lists it once: at their first credit.
                if cast.credits[..i].iter().all(|c| c.actor != credit.actor) {
                    actors.entry(credit.actor).or_default().push(cast.clone());
                }
            }
        }
        Self { actors, titles }
    }

    fn weight(&self) -> u32 {
        self.actors.values().map(Vec::len).sum::<usize>().clamp(1, u32::MAX as usize) as u32
    }
}

/// A user's seen actors, with the seen titles and the generation they were built from.
#[derive(Clone)]
struct UserEntry {
    index: Arc<SeenIndex>,
    generation: u64,
    actors: Arc<SeenActors>,
}

/// Whether two seen indexes hold the same titles (a reload after a title summary changed usually does).
fn same_titles(a: &Arc<SeenIndex>, b: &Arc<SeenIndex>) -> bool {
    Arc::ptr_eq(a, b) || (a.titles.len() == b.titles.len() && a.titles.keys().all(|id| b.titles.contains_key(id)))
}

/// The tiers and their generation.
#[derive(Clone)]
pub struct CastCache {
    catalog: Catalog,
    /// The casts familiar faces are asked about (with an episode's series regulars and episode counts), as
    /// `GetCasts` gave them, under the generation they were read at: any catalogue write may change an
    /// episode's counts, so any drop makes them all stale.
    watched: moka::future::Cache<Uuid, (u64, Arc<cat::ContentCast>)>,
    titles: moka::future::Cache<Uuid, Arc<TitleCast>>,
    users: moka::future::Cache<Uuid, UserEntry>,
    generation: Arc<AtomicU64>,
}

impl CastCache {
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog,
            watched: moka::future::Cache::builder()
                .max_capacity(WATCHED_CREDITS)
                .weigher(|_, (_, c): &(u64, Arc<cat::ContentCast>)| c.cast.len().clamp(1, u32::MAX as usize) as u32)
                .time_to_live(TTL)
                .build(),
            titles: moka::future::Cache::builder()
                .max_capacity(TITLE_CREDITS)
                .weigher(|_, t: &Arc<TitleCast>| t.weight())
                .time_to_live(TTL)
                .build(),
            users: moka::future::Cache::builder()
                .max_capacity(USER_PAIRS)
                .weigher(|_, e: &UserEntry| e.actors.weight())
                .time_to_live(TTL)
                .build(),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Drops these titles (the catalogue changed them); every user's seen actors are rebuilt on their next read.
    /// The generation moves before (a catalogue read already under way does not store what it loaded) and
    /// after (seen actors built from a title read before it was dropped are not kept).
    pub async fn forget(&self, content_ids: &[Uuid]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for id in content_ids {
            self.titles.invalidate(id).await;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops everything (a bulk load in the catalogue, or events that may have been missed).
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.titles.invalidate_all();
        self.users.invalidate_all();
        self.watched.invalidate_all();
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The cast of `content_id` with, for an episode, its series' regulars (`GetCasts`), kept until the next
    /// catalogue write; `None` when the catalogue does not know the title. Unavailable when the catalogue is
    /// needed and cannot answer.
    pub async fn cast_of(&self, content_id: Uuid) -> Result<Option<Arc<cat::ContentCast>>, Error> {
        let generation = self.generation();
        if let Some((at, cast)) = self.watched.get(&content_id).await
            && at == generation
        {
            return Ok(Some(cast));
        }
        let wanted = content_id.to_string();
        let Some(cast) = self.catalog.casts(&[content_id], true).await?.into_iter().find(|c| c.content_id == wanted)
        else {
            return Ok(None);
        };
        let cast = Arc::new(cast);
        if self.generation() == generation {
            self.watched.insert(content_id, (generation, cast.clone())).await;
        }
        Ok(Some(cast))
    }

    /// The seen actors of `user_id`, whose seen titles are `index`: the held copy while neither the titles nor
    /// the catalogue changed, else rebuilt (asking the catalogue for the titles not held). Unavailable when
    /// the catalogue is needed and cannot answer.
    pub async fn seen_actors(&self, user_id: Uuid, index: &Arc<SeenIndex>) -> Result<Arc<SeenActors>, Error> {
        if index.is_empty() {
            // Nothing seen (or the user erased): nothing of theirs is kept.
            self.users.invalidate(&user_id).await;
            return Ok(Arc::default());
        }
        let generation = self.generation();
        if let Some(e) = self.users.get(&user_id).await
            && e.generation == generation
            && same_titles(&e.index, index)
        {
            return Ok(e.actors);
        }
        let ids: Vec<Uuid> = index.titles.keys().copied().collect();
        let actors = Arc::new(SeenActors::new(self.titles(&ids).await?));
        if self.generation() == generation {
            let entry = UserEntry { index: index.clone(), generation, actors: actors.clone() };
            self.users.insert(user_id, entry).await;
        }
        Ok(actors)
    }

    /// The titles of `ids` the catalogue knows, from the titles tier where held, else in one batch read.
    async fn titles(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Arc<TitleCast>>, Error> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = vec![];
        for id in ids {
            match self.titles.get(id).await {
                Some(t) => {
                    found.insert(*id, t);
                }
                None => missing.push(*id),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let generation = self.generation();
        let (contents, casts) = tokio::try_join!(self.catalog.contents(&missing), self.catalog.casts(&missing, false))?;
        let mut casts: HashMap<String, cat::ContentCast> =
            casts.into_iter().map(|c| (c.content_id.clone(), c)).collect();
        for content in &contents {
            let Some(t) = TitleCast::new(content, casts.remove(&content.id)) else { continue };
            let (id, t) = (t.id, Arc::new(t));
            if self.generation() == generation {
                self.titles.insert(id, t.clone()).await;
            }
            found.insert(id, t);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast(id: Uuid, series: Option<Uuid>, actors: &[Uuid]) -> Arc<TitleCast> {
        Arc::new(TitleCast {
            id,
            content: cat::ContentRef { id: id.to_string(), ..Default::default() },
            series,
            credits: actors
                .iter()
                .map(|a| Credit { actor: *a, role_name: String::new(), characters: vec![], credit_order: 0 })
                .collect(),
        })
    }

    #[test]
    fn each_actor_lists_each_seen_title_once() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let (one, two) = (Uuid::now_v7(), Uuid::now_v7());
        let seen = SeenActors::new(HashMap::from([(one, cast(one, None, &[a, b, a])), (two, cast(two, None, &[a]))]));
        let mut of_a: Vec<String> = seen.actors[&a].iter().map(|t| t.content.id.clone()).collect();
        of_a.sort();
        let mut both = vec![one.to_string(), two.to_string()];
        both.sort();
        assert_eq!(of_a, both, "two credits in one title: listed once");
        assert_eq!(seen.actors[&b].len(), 1);
        assert_eq!(seen.weight(), 3);
    }

    #[test]
    fn seen_indexes_with_the_same_titles_share_their_seen_actors() {
        use crate::seen::test_rows::seen;
        let (a, b, series) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let one = Arc::new(SeenIndex::new(vec![seen(a, None, 1, 1), seen(b, Some(series), 2, 1)]));
        let again = Arc::new(SeenIndex::new(vec![seen(b, Some(series), 5, 2), seen(a, None, 3, 1)]));
        let other = Arc::new(SeenIndex::new(vec![seen(a, None, 1, 1), seen(series, None, 2, 1)]));
        assert!(same_titles(&one, &again), "later views of the same titles");
        assert!(!same_titles(&one, &other), "another title");
        assert!(!same_titles(&one, &Arc::new(SeenIndex::new(vec![seen(a, None, 1, 1)]))));
    }

    #[test]
    fn a_title_keeps_its_name_series_and_credits() {
        let (id, series, actor) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let content = cat::Content {
            id: id.to_string(),
            title: "Pilot".into(),
            content_type: cat::ContentType::Episode as i32,
            year: Some(2008),
            parent: Some(cat::ContentRef { id: series.to_string(), ..Default::default() }),
            ..Default::default()
        };
        let member = cat::CastMember {
            actor_id: actor.to_string(),
            role_name: "Guest".into(),
            characters: vec!["Guest".into()],
            credit_order: 5,
            ..Default::default()
        };
        let credits = cat::ContentCast {
            content_id: id.to_string(),
            cast: vec![cat::CastCredit { member: Some(member), ..Default::default() }],
            ..Default::default()
        };
        let t = TitleCast::new(&content, Some(credits)).unwrap();
        assert_eq!((t.content.title.as_str(), t.content.year, t.series), ("Pilot", Some(2008), Some(series)));
        assert_eq!(
            t.credits,
            [Credit { actor, role_name: "Guest".into(), characters: vec!["Guest".into()], credit_order: 5 }]
        );
        assert!(TitleCast::new(&content, None).unwrap().credits.is_empty(), "a title without cast");
    }
}
