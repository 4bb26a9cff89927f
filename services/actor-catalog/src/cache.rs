//! Two-tier read cache of assembled `Actor`/`Content` messages: moka in-process, then Redis (optional: when it
//! is down the service answers from PostgreSQL, warns once, and reconnects by itself at most once a second).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iknow_proto::catalog::v1::{Actor, ActorFilmography, Content, SeriesEpisode};
use prost::Message;
use redis::aio::MultiplexedConnection;
use uuid::Uuid;

use crate::Config;
use crate::series_cast::PreparedCast;

/// Bound of one Redis connect attempt and of each command: a slow cache must not slow reads down.
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);
/// At most one reconnect attempt per this interval.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// The cache in front of PostgreSQL for actors and titles.
#[derive(Clone)]
pub struct Cache {
    actors: moka::future::Cache<Uuid, Arc<Actor>>,
    contents: moka::future::Cache<Uuid, Arc<Content>>,
    /// Actors without filmography and titles without cast, as search results and batch reads return
    /// them: in process only (they are cheap to rebuild and hot only on the replica that serves the search).
    actor_summaries: moka::future::Cache<Uuid, Arc<Actor>>,
    content_summaries: moka::future::Cache<Uuid, Arc<Content>>,
    /// Each actor's credits with their series, as `GetFilmographies` returns them: in process only (the
    /// library asks for the same cast's filmographies again and again).
    filmographies: moka::future::Cache<Uuid, Arc<ActorFilmography>>,
    /// Each series' aggregated cast with its characters' normalised tokens, as identification scores it: in
    /// process only, dropped with the series' entry (a credit, link or rename touching the series).
    series_casts: moka::future::Cache<Uuid, Arc<PreparedCast>>,
    /// Each series' whole episode list, as `ListEpisodes` pages it: in process only, dropped with the series'
    /// entry (a link, move or change of one of its episodes touches the series).
    episodes: moka::future::Cache<Uuid, Arc<Vec<SeriesEpisode>>>,
    redis: Arc<RedisTier>,
    prefix: String,
    ttl_seconds: u64,
    /// Bumped by every invalidation; a read that raced with one does not store what it loaded.
    generation: Arc<AtomicU64>,
}

/// Which kind of entry a key names.
#[derive(Debug, Clone, Copy)]
enum Entity {
    Actor,
    Content,
}

impl Entity {
    fn name(self) -> &'static str {
        match self {
            Entity::Actor => "actor",
            Entity::Content => "content",
        }
    }
}

impl Cache {
    pub fn new(config: &Config) -> Self {
        let ttl = Duration::from_secs(config.local_cache_ttl_seconds);
        let capacity = config.local_cache_capacity;
        Self {
            actors: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            contents: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            actor_summaries: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            content_summaries: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            filmographies: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            series_casts: moka::future::Cache::builder().max_capacity(1_000).time_to_live(ttl).build(),
            episodes: moka::future::Cache::builder().max_capacity(1_000).time_to_live(ttl).build(),
            redis: Arc::new(RedisTier::new(config.redis_url.expose())),
            prefix: config.redis_prefix.clone(),
            ttl_seconds: config.cache_ttl_seconds.max(1),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The Redis key of one entry: `{prefix}actor:{uuid}` or `{prefix}content:{uuid}`.
    fn key(&self, entity: Entity, id: Uuid) -> String {
        format!("{}{}:{id}", self.prefix, entity.name())
    }

    /// The current generation; pass it back to `put_*` after loading from the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Tries Redis once at start so its state is logged early.
    pub async fn probe(&self) {
        let _ = self.redis.connection().await;
    }

    pub async fn get_actor(&self, id: Uuid) -> Option<Arc<Actor>> {
        if let Some(hit) = self.actors.get(&id).await {
            iknow_common::metrics::record_cache("local", true);
            return Some(hit);
        }
        iknow_common::metrics::record_cache("local", false);
        let value = Arc::new(self.redis_get::<Actor>(Entity::Actor, id).await?);
        self.actors.insert(id, value.clone()).await;
        Some(value)
    }

    pub async fn get_content(&self, id: Uuid) -> Option<Arc<Content>> {
        if let Some(hit) = self.contents.get(&id).await {
            iknow_common::metrics::record_cache("local", true);
            return Some(hit);
        }
        iknow_common::metrics::record_cache("local", false);
        let value = Arc::new(self.redis_get::<Content>(Entity::Content, id).await?);
        self.contents.insert(id, value.clone()).await;
        Some(value)
    }

    /// Only what the cache already holds in process (no Redis round trip): for batch reads.
    pub async fn peek_actor(&self, id: Uuid) -> Option<Arc<Actor>> {
        self.actors.get(&id).await
    }

    /// Only what the cache already holds in process (no Redis round trip): for batch reads.
    pub async fn peek_content(&self, id: Uuid) -> Option<Arc<Content>> {
        self.contents.get(&id).await
    }

    /// An actor without filmography, from the in-process tiers only (summary, else the full entry).
    pub async fn peek_actor_summary(&self, id: Uuid) -> Option<Arc<Actor>> {
        if let Some(hit) = self.actor_summaries.get(&id).await {
            return Some(hit);
        }
        let full = self.actors.get(&id).await?;
        let summary = Arc::new(Actor { filmography: vec![], ..Actor::clone(&full) });
        self.actor_summaries.insert(id, summary.clone()).await;
        Some(summary)
    }

    /// A title without cast, from the in-process tiers only (summary, else the full entry).
    pub async fn peek_content_summary(&self, id: Uuid) -> Option<Arc<Content>> {
        if let Some(hit) = self.content_summaries.get(&id).await {
            return Some(hit);
        }
        let full = self.contents.get(&id).await?;
        let summary = Arc::new(crate::store::without_cast(&full));
        self.content_summaries.insert(id, summary.clone()).await;
        Some(summary)
    }

    /// Stores an actor summary (no filmography) loaded at `generation`, unless an invalidation happened since.
    pub async fn put_actor_summary(&self, id: Uuid, actor: Arc<Actor>, generation: u64) {
        if self.generation() == generation {
            self.actor_summaries.insert(id, actor).await;
        }
    }

    /// An actor's cached filmography (in process only).
    pub async fn peek_filmography(&self, id: Uuid) -> Option<Arc<ActorFilmography>> {
        self.filmographies.get(&id).await
    }

    /// Stores a filmography loaded at `generation`, unless an invalidation happened since.
    pub async fn put_filmography(&self, id: Uuid, filmography: Arc<ActorFilmography>, generation: u64) {
        if self.generation() == generation {
            self.filmographies.insert(id, filmography).await;
        }
    }

    /// A series' prepared aggregated cast (in process only).
    pub async fn peek_series_cast(&self, id: Uuid) -> Option<Arc<PreparedCast>> {
        self.series_casts.get(&id).await
    }

    /// Stores a series' prepared cast loaded at `generation`, unless an invalidation happened since.
    pub async fn put_series_cast(&self, id: Uuid, cast: Arc<PreparedCast>, generation: u64) {
        if self.generation() == generation {
            self.series_casts.insert(id, cast).await;
        }
    }

    /// A series' cached episode list (in process only).
    pub async fn peek_episodes(&self, id: Uuid) -> Option<Arc<Vec<SeriesEpisode>>> {
        self.episodes.get(&id).await
    }

    /// Stores a series' episode list loaded at `generation`, unless an invalidation happened since.
    pub async fn put_episodes(&self, id: Uuid, episodes: Arc<Vec<SeriesEpisode>>, generation: u64) {
        if self.generation() == generation {
            self.episodes.insert(id, episodes).await;
        }
    }

    /// Stores a title summary (no cast) loaded at `generation`, unless an invalidation happened since.
    pub async fn put_content_summary(&self, id: Uuid, content: Arc<Content>, generation: u64) {
        if self.generation() == generation {
            self.content_summaries.insert(id, content).await;
        }
    }

    /// Stores an actor loaded from the database at `generation`, unless an invalidation happened since.
    pub async fn put_actor(&self, id: Uuid, actor: Arc<Actor>, generation: u64) {
        if self.generation() != generation {
            return;
        }
        self.redis_set(Entity::Actor, id, actor.encode_to_vec()).await;
        self.actors.insert(id, actor).await;
    }

    /// Stores a title loaded from the database at `generation`, unless an invalidation happened since.
    pub async fn put_content(&self, id: Uuid, content: Arc<Content>, generation: u64) {
        if self.generation() != generation {
            return;
        }
        self.redis_set(Entity::Content, id, content.encode_to_vec()).await;
        self.contents.insert(id, content).await;
    }

    /// Drops entries from the in-process tiers only (another replica wrote them and dropped Redis's).
    pub async fn forget_local(&self, actor_ids: &[Uuid], content_ids: &[Uuid]) {
        if actor_ids.is_empty() && content_ids.is_empty() {
            return;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        for id in actor_ids {
            self.actors.invalidate(id).await;
            self.actor_summaries.invalidate(id).await;
            self.filmographies.invalidate(id).await;
        }
        for id in content_ids {
            self.contents.invalidate(id).await;
            self.content_summaries.invalidate(id).await;
            self.series_casts.invalidate(id).await;
            self.episodes.invalidate(id).await;
        }
    }

    /// Drops every in-process entry (events may have been missed).
    pub async fn forget_all_local(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.actors.invalidate_all();
        self.contents.invalidate_all();
        self.actor_summaries.invalidate_all();
        self.content_summaries.invalidate_all();
        self.filmographies.invalidate_all();
        self.series_casts.invalidate_all();
        self.episodes.invalidate_all();
    }

    /// Drops entries from both tiers.
    pub async fn invalidate(&self, actor_ids: &[Uuid], content_ids: &[Uuid]) {
        if actor_ids.is_empty() && content_ids.is_empty() {
            return;
        }
        self.forget_local(actor_ids, content_ids).await;
        let keys: Vec<String> = actor_ids
            .iter()
            .map(|id| self.key(Entity::Actor, *id))
            .chain(content_ids.iter().map(|id| self.key(Entity::Content, *id)))
            .collect();
        for chunk in keys.chunks(1000) {
            let mut cmd = redis::cmd("DEL");
            cmd.arg(chunk);
            if self.redis.run::<i64>(&cmd).await.is_none() {
                // Redis is down: entries it holds are stale until their TTL; nothing more we can do.
                break;
            }
        }
    }

    async fn redis_get<M: Message + Default>(&self, entity: Entity, id: Uuid) -> Option<M> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(entity, id));
        let bytes = self.redis.run::<Option<Vec<u8>>>(&cmd).await.flatten();
        iknow_common::metrics::record_cache("redis", bytes.is_some());
        match M::decode(bytes?.as_slice()) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, entity = entity.name(), %id, "undecodable cache entry ignored");
                None
            }
        }
    }

    async fn redis_set(&self, entity: Entity, id: Uuid, bytes: Vec<u8>) {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(entity, id)).arg(bytes).arg("EX").arg(self.ttl_seconds);
        let _ = self.redis.run::<()>(&cmd).await;
    }
}

/// The Redis side: one multiplexed connection, made lazily and remade after a failure.
struct RedisTier {
    client: Option<redis::Client>,
    state: Mutex<RedisState>,
}

#[derive(Default)]
struct RedisState {
    conn: Option<MultiplexedConnection>,
    last_attempt: Option<Instant>,
    down: bool,
}

impl RedisTier {
    fn new(url: &str) -> Self {
        let client = match redis::Client::open(url) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "invalid Redis URL: the cache runs in process only");
                None
            }
        };
        Self { client, state: Mutex::new(RedisState::default()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RedisState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The live connection, or a new one if the last attempt is old enough; `None` while Redis is down.
    async fn connection(&self) -> Option<MultiplexedConnection> {
        let client = self.client.as_ref()?;
        {
            let mut s = self.state();
            if let Some(c) = &s.conn {
                return Some(c.clone());
            }
            if s.last_attempt.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
                return None;
            }
            s.last_attempt = Some(Instant::now());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        let attempt =
            tokio::time::timeout(REDIS_TIMEOUT * 2, client.get_multiplexed_async_connection_with_config(&config)).await;
        match attempt {
            Ok(Ok(conn)) => {
                self.state().conn = Some(conn.clone());
                Some(conn)
            }
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                None
            }
            Err(_) => {
                self.failed("connect timed out");
                None
            }
        }
    }

    /// Runs one command; `None` when Redis is unavailable (the connection is then dropped and remade later).
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Option<T> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(REDIS_TIMEOUT, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => {
                let mut s = self.state();
                if s.down {
                    s.down = false;
                    tracing::info!("Redis is reachable again: cache tier restored");
                }
                Some(v)
            }
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                None
            }
            Err(_) => {
                self.failed("command timed out");
                None
            }
        }
    }

    fn failed(&self, why: &str) {
        let mut s = self.state();
        s.conn = None;
        s.last_attempt = Some(Instant::now());
        if !s.down {
            s.down = true;
            tracing::warn!(error = why, "Redis unavailable: serving from the in-process cache and PostgreSQL");
        }
    }
}
