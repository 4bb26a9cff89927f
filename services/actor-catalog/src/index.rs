//! The in-memory search indexes (iknow-search `NameIndex`) of actors and titles: built from PostgreSQL at
//! start (streamed in chunks) and refreshed for the rows each `UpsertBatch` touched.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use iknow_proto::catalog::v1::ContentType;
use iknow_search::{Doc, Kind, NameIndex};
use sqlx::PgPool;
use uuid::Uuid;

/// Docs handed to the index at once while building.
const CHUNK: usize = 10_000;
/// Segments an index may keep once writes stop (each search walks every segment's term dictionary)...
const MAX_IDLE_SEGMENTS: usize = 4;
/// ...after this long without a write.
const QUIET: Duration = Duration::from_secs(10);
/// How often the compactor looks.
const COMPACT_CHECK: Duration = Duration::from_secs(5);

#[derive(sqlx::FromRow)]
struct ActorDocRow {
    id: Uuid,
    name: String,
    popularity: f64,
    kinds: Vec<String>,
    years: Vec<i32>,
}

/// Actor docs: name, popularity, kinds and years of the credited titles (year = the latest of them).
const ACTOR_DOCS: &str = "SELECT a.id, a.name, a.popularity_score::float8 AS popularity, \
    COALESCE(array_agg(DISTINCT c.content_type) FILTER (WHERE c.content_type IS NOT NULL), '{}') AS kinds, \
    COALESCE(array_agg(DISTINCT c.release_year::int4) FILTER (WHERE c.release_year IS NOT NULL), '{}') AS years \
    FROM actors a LEFT JOIN filmography f ON f.actor_id = a.id LEFT JOIN content c ON c.id = f.content_id";

#[derive(sqlx::FromRow)]
struct ContentDocRow {
    id: Uuid,
    title: String,
    original_title: Option<String>,
    popularity: f64,
    content_type: String,
    year: Option<i32>,
    /// The distinct titles of its akas (`content_akas`).
    akas: Vec<String>,
}

/// Title docs: title, then original title and akas as alternative names.
const CONTENT_DOCS: &str = "SELECT c.id, c.title, c.original_title, c.popularity_score::float8 AS popularity, \
    c.content_type, c.release_year::int4 AS year, \
    ARRAY(SELECT DISTINCT k.title::text FROM content_akas k WHERE k.content_id = c.id) AS akas FROM content c";

/// The index's kind of a content type; `None` for `Unspecified`.
pub fn kind(t: ContentType) -> Option<Kind> {
    match t {
        ContentType::Movie => Some(Kind::Movie),
        ContentType::Series => Some(Kind::Series),
        ContentType::Episode => Some(Kind::Episode),
        ContentType::Unspecified => None,
    }
}

/// The index's kind of a stored content type (`movie`, `series`, `episode`).
fn stored_kind(s: &str) -> Option<Kind> {
    kind(ContentType::from_name(s))
}

impl From<ActorDocRow> for Doc {
    fn from(r: ActorDocRow) -> Self {
        Doc {
            id: r.id,
            name: r.name,
            alt_names: vec![],
            popularity: r.popularity,
            year: r.years.iter().copied().max(),
            kinds: r.kinds.iter().filter_map(|k| stored_kind(k)).collect(),
            years: r.years,
        }
    }
}

impl From<ContentDocRow> for Doc {
    fn from(r: ContentDocRow) -> Self {
        let alt_names = alt_names(&r.title, r.original_title.into_iter().chain(r.akas));
        Doc {
            id: r.id,
            name: r.title,
            alt_names,
            popularity: r.popularity,
            year: r.year,
            kinds: stored_kind(&r.content_type).into_iter().collect(),
            years: r.year.into_iter().collect(),
        }
    }
}

/// The alternative names of a title: each distinct one once (case aside), none equal to the title itself.
fn alt_names(title: &str, names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::from([title.trim().to_lowercase()]);
    names.into_iter().filter(|n| !n.trim().is_empty() && seen.insert(n.trim().to_lowercase())).collect()
}

/// Both search indexes; cheap to clone (clones share the index).
#[derive(Clone)]
pub struct Indexes {
    pub actors: NameIndex,
    pub contents: NameIndex,
    reloads: Arc<Reloads>,
}

/// Reloads asked for and done, so that overlapping requests (events, reconnections) share one re-read.
#[derive(Default)]
struct Reloads {
    /// Requests so far (each takes the next number).
    asked: AtomicU64,
    /// One reload at a time.
    running: tokio::sync::Mutex<()>,
    /// Requests covered: the number of requests made when the last finished reload began.
    done: AtomicU64,
}

impl Reloads {
    /// Runs `reload`, after the one running if any, unless a reload that began after this call finished
    /// meanwhile (it saw every write this call was made for); answers whether it ran.
    async fn run<F>(&self, reload: impl FnOnce() -> F) -> anyhow::Result<bool>
    where
        F: std::future::Future<Output = anyhow::Result<()>>,
    {
        let ticket = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let _running = self.running.lock().await;
        if self.done.load(Ordering::SeqCst) >= ticket {
            return Ok(false);
        }
        let covers = self.asked.load(Ordering::SeqCst);
        reload().await?;
        self.done.fetch_max(covers, Ordering::SeqCst);
        Ok(true)
    }
}

/// Hands docs to the index off the async workers (indexing is CPU work).
async fn upsert(index: &NameIndex, docs: Vec<Doc>) -> anyhow::Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let index = index.clone();
    tokio::task::spawn_blocking(move || index.upsert(docs)).await??;
    Ok(())
}

/// Merges `index` whole, off the async workers (a merge of millions of docs takes seconds); logged.
async fn compact(what: &str, index: &NameIndex) {
    let (started, before) = (Instant::now(), index.segment_count());
    let merging = index.clone();
    match tokio::task::spawn_blocking(move || merging.compact()).await {
        Ok(Ok(true)) => tracing::info!(
            index = what,
            segments_before = before,
            ms = started.elapsed().as_millis() as u64,
            "search index compacted"
        ),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, index = what, "search index compaction failed; tried again later"),
        Err(e) => tracing::warn!(error = %e, index = what, "search index compaction panicked"),
    }
}

/// Compacts either index when it has more than [`MAX_IDLE_SEGMENTS`] segments and no write for [`QUIET`]
/// (after an import, say: its batches leave a segment each), until `stop` turns true or its sender goes. Not
/// while a bulk load stages here (`busy`): its finish re-reads every row into the indexes and compacts them.
pub async fn compactor(indexes: Indexes, busy: impl Fn() -> bool, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(COMPACT_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for (what, index) in [("actors", &indexes.actors), ("contents", &indexes.contents)] {
                    if !busy() && index.compaction_due(MAX_IDLE_SEGMENTS, QUIET) {
                        compact(what, index).await;
                    }
                }
            }
            () = async {
                let _ = stop.wait_for(|stop| *stop).await;
            } => return,
        }
    }
}

async fn remove(index: &NameIndex, ids: Vec<Uuid>) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let index = index.clone();
    tokio::task::spawn_blocking(move || index.remove(&ids)).await??;
    Ok(())
}

impl Indexes {
    /// Builds both indexes from every row in the database.
    pub async fn build(pool: &PgPool) -> anyhow::Result<Self> {
        let this = Self { actors: NameIndex::new()?, contents: NameIndex::new()?, reloads: Arc::default() };
        this.fill(pool, "search indexes built").await?;
        Ok(this)
    }

    /// Re-reads every row into the indexes (after a bulk load, whose rows are all new or rescored, or a
    /// reconnection). Searches go on meanwhile: each doc is replaced in place. A call made while a reload runs
    /// waits for it and starts one more, which then also covers every call made before it began.
    pub async fn reload(&self, pool: &PgPool) -> anyhow::Result<()> {
        self.reloads.run(|| self.fill(pool, "search indexes reloaded")).await.map(drop)
    }

    /// Streams every doc of both tables into the indexes, a chunk at a time.
    async fn fill(&self, pool: &PgPool, done: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let sql = format!("{ACTOR_DOCS} GROUP BY a.id");
        let mut rows = sqlx::query_as::<_, ActorDocRow>(&sql).fetch(pool);
        let mut chunk = Vec::with_capacity(CHUNK);
        while let Some(row) = rows.try_next().await? {
            chunk.push(Doc::from(row));
            if chunk.len() == CHUNK {
                upsert(&self.actors, std::mem::take(&mut chunk)).await?;
            }
        }
        upsert(&self.actors, chunk).await?;
        drop(rows);
        let mut rows = sqlx::query_as::<_, ContentDocRow>(CONTENT_DOCS).fetch(pool);
        let mut chunk = Vec::with_capacity(CHUNK);
        while let Some(row) = rows.try_next().await? {
            chunk.push(Doc::from(row));
            if chunk.len() == CHUNK {
                upsert(&self.contents, std::mem::take(&mut chunk)).await?;
            }
        }
        upsert(&self.contents, chunk).await?;
        compact("actors", &self.actors).await;
        compact("contents", &self.contents).await;
        tracing::info!(
            actors = self.actors.len(),
            contents = self.contents.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "{done}"
        );
        Ok(())
    }

    /// Re-reads the docs of these rows (and drops those that no longer exist).
    pub async fn refresh(&self, pool: &PgPool, actor_ids: &[Uuid], content_ids: &[Uuid]) -> anyhow::Result<()> {
        if !actor_ids.is_empty() {
            let started = Instant::now();
            let sql = format!("{ACTOR_DOCS} WHERE a.id = ANY($1) GROUP BY a.id");
            let rows: Vec<ActorDocRow> = sqlx::query_as(&sql).bind(actor_ids).fetch_all(pool).await?;
            iknow_common::metrics::record_db_query("actor-catalog", "actor_docs", started);
            let found: HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
            upsert(&self.actors, rows.into_iter().map(Doc::from).collect()).await?;
            remove(&self.actors, actor_ids.iter().filter(|id| !found.contains(id)).copied().collect()).await?;
        }
        if !content_ids.is_empty() {
            let started = Instant::now();
            let sql = format!("{CONTENT_DOCS} WHERE c.id = ANY($1)");
            let rows: Vec<ContentDocRow> = sqlx::query_as(&sql).bind(content_ids).fetch_all(pool).await?;
            iknow_common::metrics::record_db_query("actor-catalog", "content_docs", started);
            let found: HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
            upsert(&self.contents, rows.into_iter().map(Doc::from).collect()).await?;
            remove(&self.contents, content_ids.iter().filter(|id| !found.contains(id)).copied().collect()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Reloads, alt_names};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn reloads_asked_while_one_runs_share_the_next_one() {
        let reloads = Arc::new(Reloads::default());
        let ran = Arc::new(AtomicUsize::new(0));
        let (open, gate) = tokio::sync::oneshot::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (reloads, ran) = (reloads.clone(), ran.clone());
            tokio::spawn(async move {
                reloads
                    .run(|| async move {
                        ran.fetch_add(1, Ordering::SeqCst);
                        started.send(()).unwrap();
                        gate.await.unwrap();
                        Ok(())
                    })
                    .await
                    .unwrap()
            })
        };
        running.await.unwrap();
        // Two more asked while the first runs (it may have read rows before their writes)...
        let later: Vec<_> = (0..2)
            .map(|_| {
                let (reloads, ran) = (reloads.clone(), ran.clone());
                tokio::spawn(async move {
                    reloads
                        .run(|| async move {
                            ran.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        while reloads.asked.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
        open.send(()).unwrap();
        assert!(first.await.unwrap());
        let mut outcomes = vec![];
        for task in later {
            outcomes.push(task.await.unwrap());
        }
        outcomes.sort();
        // ...share one more run, which began after both asked.
        assert_eq!(outcomes, [false, true]);
        assert_eq!(ran.load(Ordering::SeqCst), 2);
        // A reload asked after all that runs again.
        assert!(reloads.run(|| async { Ok(()) }).await.unwrap());
    }

    #[test]
    fn alternative_names_are_distinct_and_never_the_title() {
        let names = ["Das Boot", "Le Bateau", "das boot ", "The Boat", "Le Bateau", "", "the boat"];
        let got = alt_names("The Boat", names.into_iter().map(String::from));
        assert_eq!(got, ["Das Boot", "Le Bateau"]);
    }
}
