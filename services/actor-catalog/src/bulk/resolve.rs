//! IMDb id → uuid of every actor and title, read once per load by the replica that stages it, so a staged
//! credit goes straight into the load's new table (one write of each row) instead of into the stage and then
//! through a join at the finish (two writes and a join of every row).
//!
//! Keys are packed into a `u64` (two prefix letters, the digit count and the number: `nm0000123` and
//! `nm000123` stay apart), about 24 bytes an entry: ~72 MB for 2M names and 1M titles, for the duration of a
//! load. An id that does not have that shape, or that was not in the catalogue when the map was read (a name
//! written after the load began), is not resolved here: its credit goes to the stage and the finish's join
//! resolves it or rejects it, as before.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::TryStreamExt;
use rustc_hash::FxHashMap;
use sqlx::PgPool;
use sqlx::postgres::PgPoolCopyExt;
use uuid::Uuid;

/// The packed form of an IMDb-shaped id (`nm0000123`, `tt0111161`): two ASCII letters and 1 to 12 digits.
pub fn key(id: &str) -> Option<u64> {
    key_bytes(id.as_bytes())
}

fn key_bytes(b: &[u8]) -> Option<u64> {
    let (prefix, digits) = (b.get(..2)?, b.get(2..)?);
    if !prefix.iter().all(u8::is_ascii_alphabetic) || digits.is_empty() || digits.len() > 12 {
        return None;
    }
    let mut number = 0_u64;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        number = number * 10 + u64::from(d - b'0');
    }
    // 10^12 < 2^40; 4 bits of digit count; 16 bits of prefix.
    Some(u64::from(prefix[0]) << 52 | u64::from(prefix[1]) << 44 | (digits.len() as u64) << 40 | number)
}

/// One line of `COPY (SELECT imdb_id, id ...) TO STDOUT` (text): the key and the uuid, when both parse (an
/// id COPY had to escape is not IMDb-shaped anyway).
fn parse_line(line: &[u8]) -> Option<(u64, Uuid)> {
    let tab = line.iter().position(|b| *b == b'\t')?;
    Some((key_bytes(&line[..tab])?, Uuid::try_parse_ascii(&line[tab + 1..]).ok()?))
}

/// The ids of one table.
#[derive(Default)]
pub struct Ids(FxHashMap<u64, Uuid>);

impl Ids {
    pub fn get(&self, imdb_id: &str) -> Option<Uuid> {
        key(imdb_id).and_then(|k| self.0.get(&k).copied())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every IMDb id of `table`, by COPY (millions of rows: a COPY stream parses several times faster than
    /// rows one by one).
    async fn read(pool: &PgPool, table: &str) -> sqlx::Result<Self> {
        let estimate: f32 = sqlx::query_scalar("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = $1::regclass")
            .bind(table)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0.0);
        let mut map = FxHashMap::with_capacity_and_hasher(estimate as usize, Default::default());
        let sql = format!("COPY (SELECT imdb_id, id FROM {table} WHERE imdb_id IS NOT NULL) TO STDOUT");
        let mut stream = pool.copy_out_raw(&sql).await?;
        let mut carry: Vec<u8> = Vec::with_capacity(1 << 16);
        while let Some(chunk) = stream.try_next().await? {
            carry.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(end) = carry[start..].iter().position(|b| *b == b'\n') {
                if let Some((k, id)) = parse_line(&carry[start..start + end]) {
                    map.insert(k, id);
                }
                start += end + 1;
            }
            carry.drain(..start);
        }
        map.shrink_to_fit();
        Ok(Self(map))
    }
}

/// Both tables' ids.
pub struct Resolver {
    pub actors: Ids,
    pub contents: Ids,
}

impl Resolver {
    pub async fn read(pool: &PgPool) -> sqlx::Result<Self> {
        let started = Instant::now();
        let (actors, contents) = futures::try_join!(Ids::read(pool, "actors"), Ids::read(pool, "content"))?;
        tracing::info!(
            actors = actors.len(),
            contents = contents.len(),
            ms = started.elapsed().as_millis() as u64,
            "ids read for a bulk load"
        );
        Ok(Self { actors, contents })
    }

    /// Both uuids of a credit, or `None` when either is not known here. `last` remembers the previous title
    /// looked up: the principals file comes sorted by title, ten credits or so each.
    pub fn credit<'a>(
        &self,
        last: &mut Option<(&'a str, Option<Uuid>)>,
        actor_imdb_id: &str,
        content_imdb_id: &'a str,
    ) -> Option<(Uuid, Uuid)> {
        let content = match *last {
            Some((id, found)) if id == content_imdb_id => found,
            _ => {
                let found = self.contents.get(content_imdb_id);
                *last = Some((content_imdb_id, found));
                found
            }
        };
        Some((self.actors.get(actor_imdb_id)?, content?))
    }
}

type Slot = Arc<tokio::sync::OnceCell<Arc<Resolver>>>;

/// The resolver of the load this replica is staging (one at a time: a load that begins to stage here
/// replaces the previous one's map).
#[derive(Default)]
pub struct Resolvers(Mutex<Option<(String, Slot)>>);

impl Resolvers {
    /// The map of `load_id`, read on its first chunk (concurrent first chunks wait for the same read).
    pub async fn get(&self, pool: &PgPool, load_id: &str) -> sqlx::Result<Arc<Resolver>> {
        let slot = {
            let mut current = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match &*current {
                Some((id, slot)) if id == load_id => slot.clone(),
                _ => {
                    let slot = Slot::default();
                    *current = Some((load_id.to_owned(), slot.clone()));
                    slot
                }
            }
        };
        slot.get_or_try_init(|| async { Resolver::read(pool).await.map(Arc::new) }).await.cloned()
    }

    /// Whether a load is staging on this replica (its map is held).
    pub fn staging(&self) -> bool {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()
    }

    /// Frees the map of `load_id` (its staging is over).
    pub fn forget(&self, load_id: &str) {
        let mut current = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if matches!(&*current, Some((id, _)) if id == load_id) {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_apart_what_the_strings_keep_apart() {
        let ids = ["nm0000123", "nm000123", "tt0000123", "nm1", "nm0000124", "ab999999999999", "NM0000123"];
        let keys: Vec<_> = ids.iter().map(|id| key(id)).collect();
        assert!(keys.iter().all(Option::is_some), "{keys:?}");
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(i == j, a == b, "{} vs {}", ids[i], ids[j]);
            }
        }
    }

    #[test]
    fn copy_lines_parse_to_key_and_uuid() {
        let id = Uuid::now_v7();
        assert_eq!(parse_line(format!("nm0000123\t{id}").as_bytes()), Some((key("nm0000123").unwrap(), id)));
        assert_eq!(parse_line(format!("n\\\\m1\t{id}").as_bytes()), None, "an escaped id is not IMDb-shaped");
        assert_eq!(parse_line(b"nm1\tnot-a-uuid"), None);
        assert_eq!(parse_line(b"nm1"), None);
    }

    #[test]
    fn ids_of_another_shape_are_left_to_the_join() {
        for id in ["", "nm", "n1", "nm12a", "nm1234567890123", "1m123", "nm-1", "nmé1"] {
            assert_eq!(key(id), None, "{id:?}");
        }
    }
}
