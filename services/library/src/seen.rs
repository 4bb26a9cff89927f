//! The titles a user has seen, as "where do I know them from" needs them, cached per user in each replica.
//!
//! "Seen" is a title in the history or a completed watchlist item. An episode seen also counts its series as
//! seen, because series regulars are credited on the series: the series' last view is its latest episode
//! view, its view count the sum of its episodes' (and its own).
//!
//! The cache is keyed by two counters the database keeps (`library_versions`, bumped by triggers): the
//! user's, changed by every write to their watchlist or history on any replica, and a global one changed when
//! a stored title summary changes. Each read costs one primary-key lookup; the history query runs only when
//! either counter moved.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use iknow_common::Error;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{self, SeenTitle};

/// Users whose seen titles a replica keeps, and for how long at most.
const CAPACITY: u64 = 10_000;
const TTL: Duration = Duration::from_secs(600);

/// When and how often a title counts as seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sighting {
    pub last: DateTime<Utc>,
    pub views: i64,
}

/// The seen titles by id, with every series counted as seen through its seen episodes.
#[derive(Debug, Default)]
pub struct SeenIndex {
    pub titles: HashMap<Uuid, Sighting>,
    /// What the library stores about the titles seen directly (poster, runtime).
    pub stored: HashMap<Uuid, SeenTitle>,
}

impl SeenIndex {
    /// Indexes `rows`, adding each seen episode's series.
    pub fn new(rows: Vec<SeenTitle>) -> Self {
        let mut titles: HashMap<Uuid, Sighting> = HashMap::with_capacity(rows.len());
        let mut add = |id: Uuid, s: Sighting| {
            titles
                .entry(id)
                .and_modify(|t| {
                    t.last = t.last.max(s.last);
                    t.views += s.views;
                })
                .or_insert(s);
        };
        for r in &rows {
            let s = Sighting { last: r.last_viewed_at, views: r.view_count };
            add(r.content_id, s);
            if let Some(series) = r.series_id {
                add(series, s);
            }
        }
        Self { titles, stored: rows.into_iter().map(|r| (r.content_id, r)).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.titles.is_empty()
    }
}

/// Each user's [`SeenIndex`], reloaded when the user's rows (or a title summary) changed.
#[derive(Clone)]
pub struct SeenCache {
    pool: PgPool,
    entries: moka::future::Cache<Uuid, (store::Versions, Arc<SeenIndex>)>,
}

impl SeenCache {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, entries: moka::future::Cache::builder().max_capacity(CAPACITY).time_to_live(TTL).build() }
    }

    /// The user's seen titles. The counters are read before the rows, so a write racing with the read can
    /// only make the cached copy newer than its key, never older.
    pub async fn of(&self, user_id: Uuid) -> Result<Arc<SeenIndex>, Error> {
        let versions = store::versions(&self.pool, user_id).await?;
        if let Some((cached, index)) = self.entries.get(&user_id).await
            && cached == versions
        {
            return Ok(index);
        }
        let index = Arc::new(SeenIndex::new(store::seen_titles(&self.pool, user_id).await?));
        self.entries.insert(user_id, (versions, index.clone())).await;
        Ok(index)
    }
}

/// Rows for unit tests of this module and of [`crate::insights`].
#[cfg(test)]
pub(crate) mod test_rows {
    use super::*;

    /// 2024-05-01 at `h`:00 UTC.
    pub fn at(h: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap().and_hms_opt(h, 0, 0).unwrap().and_utc()
    }

    /// A title seen `views` times, last at `h`:00.
    pub fn seen(id: Uuid, series: Option<Uuid>, h: u32, views: i64) -> SeenTitle {
        SeenTitle {
            content_id: id,
            last_viewed_at: at(h),
            view_count: views,
            minutes: 10,
            series_id: series,
            poster_url: None,
            runtime_minutes: None,
            season_number: None,
            episode_number: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_rows::{at, seen};
    use super::*;

    #[test]
    fn episodes_count_their_series_as_seen() {
        let (series, e1, e2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let index = SeenIndex::new(vec![seen(e1, Some(series), 3, 1), seen(e2, Some(series), 5, 2)]);
        assert_eq!(index.titles[&series], Sighting { last: at(5), views: 3 });
        assert_eq!(index.titles.len(), 3);
        assert_eq!(index.stored.len(), 2);
    }
}
