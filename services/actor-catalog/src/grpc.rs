//! The `ActorCatalog` gRPC service: validates requests, translates proto ↔ search/store types, and goes
//! through the two-tier cache to PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use iknow_common::rules::years;
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1::{
    Actor, Content, ContentType, GetActorRequest, GetActorsResponse, GetContentRequest, GetContentsResponse,
    GetManyRequest, ListEpisodesRequest, ListEpisodesResponse, SearchActorsResponse, SearchContentResponse,
    SearchRequest, SeriesEpisode, UpsertBatchRequest, UpsertBatchResponse, actor_catalog_server::ActorCatalog,
};
use iknow_search::{NameIndex, Query, SortBy, SortOrder};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::cache::Cache;
use crate::index::Indexes;
use crate::{store, upsert};

/// Cast members `GetContent` returns when the request says 0, and the most it returns.
pub const DEFAULT_CAST_LIMIT: u32 = 200;
pub const MAX_CAST_LIMIT: u32 = 1_000;

/// The (offset, limit) of a `GetContent` cast page; InvalidArgument above the maximum.
fn cast_page(limit: u32, offset: u32) -> Result<(usize, usize), Status> {
    if limit > MAX_CAST_LIMIT {
        return Err(Error::field("castLimit", &format!("must be from 1 to {MAX_CAST_LIMIT}")).into());
    }
    let limit = if limit == 0 { DEFAULT_CAST_LIMIT } else { limit };
    Ok((offset as usize, limit as usize))
}

/// Episodes `ListEpisodes` returns when the request says 0, the most it returns, its deepest offset, and the
/// highest season it may be asked for.
pub const DEFAULT_EPISODE_LIMIT: u32 = 100;
pub const MAX_EPISODE_LIMIT: u32 = 500;
pub const MAX_EPISODE_OFFSET: u32 = 100_000;
pub const MAX_SEASON: i32 = 100_000;

/// Error code of `ListEpisodes` asked about a movie or an episode.
pub const NOT_A_SERIES: &str = "NOT_A_SERIES";

/// The (season, offset, limit) of a `ListEpisodes` request; InvalidArgument listing every field out of range.
fn episode_page(r: &ListEpisodesRequest) -> Result<(Option<i32>, usize, usize), Status> {
    let mut violations = vec![];
    if r.season.is_some_and(|s| !(0..=MAX_SEASON).contains(&s)) {
        violations.push(FieldViolation::new("season", format!("must be from 0 to {MAX_SEASON}")));
    }
    if r.limit > MAX_EPISODE_LIMIT {
        violations.push(FieldViolation::new("limit", format!("must be from 1 to {MAX_EPISODE_LIMIT}")));
    }
    if r.offset > MAX_EPISODE_OFFSET {
        violations.push(FieldViolation::new("offset", format!("must be from 0 to {MAX_EPISODE_OFFSET}")));
    }
    if !violations.is_empty() {
        return Err(Error::validation(violations).into());
    }
    let limit = if r.limit == 0 { DEFAULT_EPISODE_LIMIT } else { r.limit };
    Ok((r.season, r.offset as usize, limit as usize))
}

/// FAILED_PRECONDITION `NOT_A_SERIES`: `title` is a movie or an episode, which have no episodes.
fn not_a_series(title: &str, content_type: &str) -> Status {
    let mut status = Status::failed_precondition(format!(
        "\"{title}\" is {} {content_type}, not a series: only a series has episodes",
        if content_type.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
    ));
    status
        .metadata_mut()
        .insert(iknow_common::error::CODE_METADATA, tonic::metadata::MetadataValue::from_static(NOT_A_SERIES));
    status
}

/// Most ids one `GetActors`/`GetContents` call may ask for.
const MAX_BATCH_IDS: usize = 1000;

#[derive(Clone)]
pub struct CatalogService {
    pool: PgPool,
    cache: Cache,
    indexes: Indexes,
    analyzer: Arc<crate::analyze::Analyzer>,
    /// Where upserts are announced (none: not announced), and the relay to wake after one.
    events: Option<(crate::events::Announce, iknow_messaging::RelayHandle)>,
    /// Id maps of the bulk loads staged by this replica.
    resolvers: Arc<crate::bulk::Resolvers>,
}

fn parse_id(s: &str) -> Result<Uuid, Status> {
    iknow_common::id::parse(s).ok_or_else(|| Error::field("id", "must be a UUID").into())
}

fn parse_ids(ids: &[String]) -> Result<Vec<Uuid>, Status> {
    if ids.len() > MAX_BATCH_IDS {
        return Err(Error::field("ids", &format!("at most {MAX_BATCH_IDS} ids")).into());
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for s in ids {
        let id = iknow_common::id::parse(s).ok_or_else(|| Status::from(Error::field("ids", "must be UUIDs")))?;
        if seen.insert(id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Checks a search request and turns it into an index query.
pub fn to_query(r: &SearchRequest) -> Result<Query, Error> {
    let mut violations = vec![];
    let text = r.query.trim();
    let len = text.chars().count();
    if !(1..=100).contains(&len) {
        violations.push(FieldViolation::new("query", "must be 1 to 100 characters"));
    }
    if !(1..=100).contains(&r.limit) {
        violations.push(FieldViolation::new("limit", "must be between 1 and 100"));
    }
    if (r.offset as usize).saturating_add(r.limit as usize) > iknow_search::MAX_WINDOW {
        violations.push(FieldViolation::new(
            "offset",
            format!("offset + limit must not exceed {}", iknow_search::MAX_WINDOW),
        ));
    }
    if r.year != 0 && !years::is_valid(r.year) {
        violations.push(FieldViolation::new("year", years::message()));
    }
    let kind = match ContentType::try_from(r.content_type) {
        Ok(t) => crate::index::kind(t),
        Err(_) => {
            violations.push(FieldViolation::new("content_type", "unknown content type"));
            None
        }
    };
    use iknow_proto::catalog::v1 as pb;
    let sort_by = match pb::SortBy::try_from(r.sort_by) {
        Ok(pb::SortBy::Relevance) => SortBy::Relevance,
        Ok(pb::SortBy::Name) => SortBy::Name,
        Ok(pb::SortBy::Popularity) => SortBy::Popularity,
        Ok(pb::SortBy::Year) => SortBy::Year,
        Err(_) => {
            violations.push(FieldViolation::new("sort_by", "unknown sort"));
            SortBy::Relevance
        }
    };
    let sort_order = match pb::SortOrder::try_from(r.sort_order) {
        Ok(pb::SortOrder::Desc) => SortOrder::Desc,
        Ok(pb::SortOrder::Asc) => SortOrder::Asc,
        Err(_) => {
            violations.push(FieldViolation::new("sort_order", "unknown order"));
            SortOrder::Desc
        }
    };
    if !violations.is_empty() {
        return Err(Error::validation(violations));
    }
    Ok(Query {
        text: text.to_owned(),
        kind,
        year: (r.year != 0).then_some(r.year),
        sort_by,
        sort_order,
        limit: r.limit as usize,
        offset: r.offset as usize,
    })
}

fn search(index: &NameIndex, q: &Query) -> Result<iknow_search::Hits, Error> {
    index.search(q).map_err(Error::internal)
}

/// Puts `items` in the order of `ids`, leaving out ids with no item.
fn in_order<T>(ids: &[Uuid], items: Vec<(Uuid, T)>) -> Vec<T> {
    let mut by_id: HashMap<Uuid, T> = items.into_iter().collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

impl CatalogService {
    pub fn new(pool: PgPool, cache: Cache, indexes: Indexes) -> Self {
        Self {
            pool,
            cache,
            indexes,
            analyzer: crate::analyze::Analyzer::new(0),
            events: None,
            resolvers: Arc::default(),
        }
    }

    /// The id maps of the bulk loads staging here.
    pub fn resolvers(&self) -> Arc<crate::bulk::Resolvers> {
        self.resolvers.clone()
    }

    /// Announces every upsert on `catalog.events` (see [`crate::events`]).
    pub fn with_events(self, announce: crate::events::Announce, relay: iknow_messaging::RelayHandle) -> Self {
        Self { events: Some((announce, relay)), ..self }
    }

    /// Refreshes the planner statistics after bulk writes (see [`crate::analyze`]).
    pub fn with_analyzer(self, analyzer: Arc<crate::analyze::Analyzer>) -> Self {
        Self { analyzer, ..self }
    }

    /// What a bulk load's finish needs (the finish outlives the call).
    fn finisher(&self) -> crate::bulk::Finisher {
        crate::bulk::Finisher {
            pool: self.pool.clone(),
            resolvers: self.resolvers.clone(),
            cache: self.cache.clone(),
            indexes: self.indexes.clone(),
            events: self.events.clone(),
        }
    }

    /// Actors without filmography, from the in-process cache where present, else one query; in `ids` order.
    async fn actors_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Actor>, Status> {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = vec![];
        for id in ids {
            match self.cache.peek_actor_summary(*id).await {
                Some(a) => found.push((*id, Arc::unwrap_or_clone(a))),
                None => missing.push(*id),
            }
        }
        let generation = self.cache.generation();
        for a in store::actors(&self.pool, &missing).await? {
            let id = a.id.parse().map_err(Error::internal)?;
            self.cache.put_actor_summary(id, Arc::new(a.clone()), generation).await;
            found.push((id, a));
        }
        Ok(in_order(ids, found))
    }

    /// Filmographies, from the in-process cache where present, else one query for the rest; in `ids` order.
    async fn filmographies_by_ids(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<iknow_proto::catalog::v1::ActorFilmography>, Status> {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = vec![];
        for id in ids {
            match self.cache.peek_filmography(*id).await {
                Some(f) => found.push((*id, Arc::unwrap_or_clone(f))),
                None => missing.push(*id),
            }
        }
        let generation = self.cache.generation();
        for f in crate::batch::filmographies(&self.pool, &missing).await? {
            let id = f.actor_id.parse().map_err(Error::internal)?;
            self.cache.put_filmography(id, Arc::new(f.clone()), generation).await;
            found.push((id, f));
        }
        Ok(in_order(ids, found))
    }

    /// Every episode of series `id` in order, from the in-process cache where present, else the database.
    async fn episodes_of(&self, id: Uuid) -> Result<Arc<Vec<SeriesEpisode>>, Status> {
        if let Some(hit) = self.cache.peek_episodes(id).await {
            return Ok(hit);
        }
        let generation = self.cache.generation();
        match store::episodes(&self.pool, id).await? {
            store::Episodes::Unknown => Err(Error::not_found("CONTENT_NOT_FOUND", "Content not found").into()),
            store::Episodes::NotASeries { title, content_type } => Err(not_a_series(&title, &content_type)),
            store::Episodes::Series(episodes) => {
                let episodes = Arc::new(episodes);
                self.cache.put_episodes(id, episodes.clone(), generation).await;
                Ok(episodes)
            }
        }
    }

    /// Titles without cast, from the in-process cache where present, else one query; in `ids` order.
    async fn contents_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Content>, Status> {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = vec![];
        for id in ids {
            match self.cache.peek_content_summary(*id).await {
                Some(c) => found.push((*id, Arc::unwrap_or_clone(c))),
                None => missing.push(*id),
            }
        }
        let generation = self.cache.generation();
        for c in store::contents(&self.pool, &missing).await? {
            let id = c.id.parse().map_err(Error::internal)?;
            self.cache.put_content_summary(id, Arc::new(c.clone()), generation).await;
            found.push((id, c));
        }
        Ok(in_order(ids, found))
    }
}

#[tonic::async_trait]
impl ActorCatalog for CatalogService {
    #[tracing::instrument(skip_all, fields(id = %request.get_ref().id))]
    async fn get_actor(&self, request: Request<GetActorRequest>) -> Result<Response<Actor>, Status> {
        let id = parse_id(&request.get_ref().id)?;
        if let Some(hit) = self.cache.get_actor(id).await {
            return Ok(Response::new(Arc::unwrap_or_clone(hit)));
        }
        let generation = self.cache.generation();
        let actor = store::actor(&self.pool, id)
            .await?
            .ok_or_else(|| Error::not_found("ACTOR_NOT_FOUND", "Actor not found"))?;
        let actor = Arc::new(actor);
        self.cache.put_actor(id, actor.clone(), generation).await;
        Ok(Response::new(Arc::unwrap_or_clone(actor)))
    }

    #[tracing::instrument(skip_all, fields(query = %request.get_ref().query, limit = request.get_ref().limit))]
    async fn search_actors(&self, request: Request<SearchRequest>) -> Result<Response<SearchActorsResponse>, Status> {
        let query = to_query(request.get_ref())?;
        let hits = search(&self.indexes.actors, &query)?;
        let actors = self.actors_by_ids(&hits.ids).await?;
        Ok(Response::new(SearchActorsResponse { actors, total: hits.total }))
    }

    #[tracing::instrument(skip_all, fields(id = %request.get_ref().id))]
    async fn get_content(&self, request: Request<GetContentRequest>) -> Result<Response<Content>, Status> {
        let r = request.get_ref();
        let id = parse_id(&r.id)?;
        let (offset, limit) = cast_page(r.cast_limit, r.cast_offset)?;
        let content = match self.cache.get_content(id).await {
            Some(hit) => hit,
            None => {
                let generation = self.cache.generation();
                let content = store::content(&self.pool, id)
                    .await?
                    .ok_or_else(|| Error::not_found("CONTENT_NOT_FOUND", "Content not found"))?;
                let content = Arc::new(content);
                self.cache.put_content(id, content.clone(), generation).await;
                content
            }
        };
        // The cache holds the whole cast (a long series has thousands); only the page is copied out.
        let page = content.cast.iter().skip(offset).take(limit).cloned().collect();
        let cast_total = u32::try_from(content.cast.len()).unwrap_or(u32::MAX);
        Ok(Response::new(Content { cast: page, cast_total, ..store::without_cast(&content) }))
    }

    #[tracing::instrument(skip_all, fields(query = %request.get_ref().query, limit = request.get_ref().limit))]
    async fn search_content(&self, request: Request<SearchRequest>) -> Result<Response<SearchContentResponse>, Status> {
        let query = to_query(request.get_ref())?;
        let hits = search(&self.indexes.contents, &query)?;
        let contents = self.contents_by_ids(&hits.ids).await?;
        Ok(Response::new(SearchContentResponse { contents, total: hits.total }))
    }

    #[tracing::instrument(skip_all, fields(id = %request.get_ref().id, season = ?request.get_ref().season))]
    async fn list_episodes(
        &self,
        request: Request<ListEpisodesRequest>,
    ) -> Result<Response<ListEpisodesResponse>, Status> {
        let r = request.get_ref();
        let id = parse_id(&r.id)?;
        let (season, offset, limit) = episode_page(r)?;
        let all = self.episodes_of(id).await?;
        let in_season = |e: &&SeriesEpisode| season.is_none_or(|s| e.season_number == Some(s));
        let total = all.iter().filter(in_season).count() as u64;
        let episodes = all.iter().filter(in_season).skip(offset).take(limit).cloned().collect();
        Ok(Response::new(ListEpisodesResponse { episodes, total }))
    }

    #[tracing::instrument(skip_all, fields(
        actors = request.get_ref().actors.len(),
        contents = request.get_ref().contents.len(),
        credits = request.get_ref().credits.len(),
        episodes = request.get_ref().episodes.len(),
        ratings = request.get_ref().ratings.len(),
        akas = request.get_ref().akas.len(),
    ))]
    async fn upsert_batch(
        &self,
        request: Request<UpsertBatchRequest>,
    ) -> Result<Response<UpsertBatchResponse>, Status> {
        upsert::Source::from_proto(request.get_ref().source)?;
        let started = std::time::Instant::now();
        let announce = self.events.as_ref().map(|(a, _)| a);
        let outcome = upsert::upsert_batch(&self.pool, request.into_inner(), announce).await.map_err(|e| {
            if iknow_common::db::is_retryable(&e) {
                // Still conflicting after every try: nothing was written, and the caller may send it again.
                tracing::warn!(error = %e, "batch kept conflicting with concurrent ones");
                Status::from(Error::unavailable("the batch conflicted with concurrent writes; send it again"))
            } else {
                Status::from(Error::from(e))
            }
        })?;
        if let Some((_, relay)) = &self.events {
            relay.wake();
        }
        let db_ms = started.elapsed().as_millis() as u64;
        let r = &outcome.response;
        let written = u64::from(r.actors_written)
            + u64::from(r.contents_written)
            + u64::from(r.credits_written)
            + u64::from(r.akas_written);
        self.analyzer.wrote(written, &self.pool);
        self.cache.invalidate(&outcome.touched_actors, &outcome.touched_contents).await;
        // The batch is committed: a failed index refresh leaves search stale, it must not fail the call.
        if let Err(e) = self.indexes.refresh(&self.pool, &outcome.touched_actors, &outcome.touched_contents).await {
            tracing::error!(error = ?e, "search index refresh failed");
        }
        tracing::info!(
            actors_written = r.actors_written,
            contents_written = r.contents_written,
            credits_written = r.credits_written,
            episodes_linked = r.episodes_linked,
            ratings_written = r.ratings_written,
            akas_written = r.akas_written,
            rejected = r.rejected.len(),
            db_ms,
            total_ms = started.elapsed().as_millis() as u64,
            "batch upserted"
        );
        Ok(Response::new(outcome.response))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().ids.len()))]
    async fn get_actors(&self, request: Request<GetManyRequest>) -> Result<Response<GetActorsResponse>, Status> {
        let ids = parse_ids(&request.get_ref().ids)?;
        let actors = self.actors_by_ids(&ids).await?;
        Ok(Response::new(GetActorsResponse { actors }))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().ids.len()))]
    async fn get_contents(&self, request: Request<GetManyRequest>) -> Result<Response<GetContentsResponse>, Status> {
        let ids = parse_ids(&request.get_ref().ids)?;
        let contents = self.contents_by_ids(&ids).await?;
        Ok(Response::new(GetContentsResponse { contents }))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().ids.len()))]
    async fn get_filmographies(
        &self,
        request: Request<GetManyRequest>,
    ) -> Result<Response<iknow_proto::catalog::v1::GetFilmographiesResponse>, Status> {
        let ids = crate::batch::parse_ids(&request.get_ref().ids, crate::batch::MAX_FILMOGRAPHY_IDS, "ids")?;
        let filmographies = self.filmographies_by_ids(&ids).await?;
        Ok(Response::new(iknow_proto::catalog::v1::GetFilmographiesResponse { filmographies }))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().content_ids.len()))]
    async fn get_casts(
        &self,
        request: Request<iknow_proto::catalog::v1::GetCastsRequest>,
    ) -> Result<Response<iknow_proto::catalog::v1::GetCastsResponse>, Status> {
        let r = request.get_ref();
        let ids = crate::batch::parse_ids(&r.content_ids, crate::batch::MAX_CAST_IDS, "content_ids")?;
        let casts = crate::batch::casts(&self.pool, &ids, r.include_series_regulars).await?;
        Ok(Response::new(iknow_proto::catalog::v1::GetCastsResponse { casts }))
    }

    #[tracing::instrument(skip_all, fields(free_text = !request.get_ref().q.trim().is_empty(), limit = request.get_ref().limit, candidates))]
    async fn identify(
        &self,
        request: Request<iknow_proto::catalog::v1::IdentifyRequest>,
    ) -> Result<Response<iknow_proto::catalog::v1::IdentifyResponse>, Status> {
        let params = crate::identify::validate(request.get_ref())?;
        let response = crate::identify::identify(&self.pool, &self.indexes, &self.cache, &params).await?;
        tracing::Span::current().record("candidates", response.candidates.len());
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(load_id = %request.get_ref().load_id))]
    async fn begin_credits_load(
        &self,
        request: Request<iknow_proto::catalog::v1::BeginCreditsLoadRequest>,
    ) -> Result<Response<iknow_proto::catalog::v1::CreditsLoadState>, Status> {
        Ok(Response::new(crate::bulk::begin(&self.pool, &self.resolvers, &request.get_ref().load_id).await?))
    }

    #[tracing::instrument(skip_all, fields(
        load_id = %request.get_ref().load_id,
        first_line = request.get_ref().first_line,
        credits = request.get_ref().credits.len(),
    ))]
    async fn stage_credits(
        &self,
        request: Request<iknow_proto::catalog::v1::StageCreditsRequest>,
    ) -> Result<Response<iknow_proto::catalog::v1::StageCreditsResponse>, Status> {
        Ok(Response::new(crate::bulk::stage(&self.pool, &self.resolvers, request.into_inner()).await?))
    }

    #[tracing::instrument(skip_all, fields(load_id = %request.get_ref().load_id))]
    async fn finish_credits_load(
        &self,
        request: Request<iknow_proto::catalog::v1::FinishCreditsLoadRequest>,
    ) -> Result<Response<iknow_proto::catalog::v1::CreditsLoadState>, Status> {
        Ok(Response::new(crate::bulk::finish(&self.finisher(), &request.get_ref().load_id).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iknow_search::Kind;

    fn req(query: &str, limit: u32) -> SearchRequest {
        SearchRequest { query: query.into(), limit, ..Default::default() }
    }

    #[test]
    fn search_requests_are_rechecked() {
        assert!(to_query(&req("tom", 10)).is_ok());
        let e = to_query(&req("   ", 0)).unwrap_err();
        let Error::Validation { violations, .. } = e else { panic!("validation expected") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["query", "limit"]);
        assert!(to_query(&req(&"x".repeat(101), 10)).is_err());
        assert!(to_query(&SearchRequest { year: 3000, ..req("a", 1) }).is_err());
        assert!(to_query(&SearchRequest { content_type: 42, ..req("a", 1) }).is_err());
        let deep = to_query(&SearchRequest { offset: 9_999, ..req("a", 20) }).unwrap_err();
        assert!(matches!(deep, Error::Validation { ref violations, .. } if violations[0].field == "offset"));
        assert!(to_query(&SearchRequest { offset: 9_980, ..req("a", 20) }).is_ok());
        let q = to_query(&SearchRequest { year: 1999, content_type: 1, offset: 5, ..req(" tom ", 100) }).unwrap();
        assert_eq!(
            (q.text.as_str(), q.kind, q.year, q.limit, q.offset),
            ("tom", Some(Kind::Movie), Some(1999), 100, 5)
        );
    }

    #[test]
    fn episode_pages_are_checked_and_defaulted() {
        let req = |season, limit, offset| ListEpisodesRequest { id: String::new(), season, limit, offset };
        assert_eq!(episode_page(&req(None, 0, 0)).unwrap(), (None, 0, 100));
        assert_eq!(episode_page(&req(Some(0), 500, 100_000)).unwrap(), (Some(0), 100_000, 500));
        let e = Error::from_status(&episode_page(&req(Some(-1), 501, 100_001)).unwrap_err());
        let Error::Validation { violations, .. } = e else { panic!("validation expected") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["season", "limit", "offset"]);
    }

    #[test]
    fn not_a_series_names_the_title_and_its_type() {
        let status = not_a_series("Breach", "movie");
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(status.message(), "\"Breach\" is a movie, not a series: only a series has episodes");
        assert_eq!(status.metadata().get(iknow_common::error::CODE_METADATA).unwrap(), NOT_A_SERIES);
        assert!(not_a_series("Pilot", "episode").message().contains("is an episode"));
    }
}
