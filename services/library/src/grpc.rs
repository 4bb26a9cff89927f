//! The `Library` gRPC service: validates each request, checks titles with the catalogue only where a new
//! title enters the library (add, record), and answers everything else from its own database.

use iknow_common::Error;
use iknow_proto::library::v1::{self as pb, library_server::Library};
use prost::Message;
use sqlx::PgPool;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use crate::catalog::Catalog;
use crate::{store, validate};

/// Binary metadata entry of a DUPLICATE_WATCHLIST_ITEM error: the protobuf encoding of the existing item.
pub const EXISTING_ITEM_METADATA: &str = "x-existing-item-bin";

/// The library service.
#[derive(Clone)]
pub struct LibraryService {
    pool: PgPool,
    catalog: Catalog,
    seen: crate::seen::SeenCache,
    casts: crate::casts::CastCache,
}

fn item_not_found() -> Status {
    Error::not_found("WATCHLIST_ITEM_NOT_FOUND", "This title is not on your watchlist").into()
}

/// The AlreadyExists answer to a duplicate add, carrying the existing item when there is one (see
/// [`EXISTING_ITEM_METADATA`]).
fn duplicate(existing: Option<pb::WatchlistItem>) -> Status {
    let mut status = Status::from(Error::Conflict {
        code: "DUPLICATE_WATCHLIST_ITEM".into(),
        message: "This title is already on your watchlist".into(),
    });
    if let Some(item) = existing {
        status.metadata_mut().insert_bin(EXISTING_ITEM_METADATA, MetadataValue::from_bytes(&item.encode_to_vec()));
    }
    status
}

/// The existing item carried by a DUPLICATE_WATCHLIST_ITEM status, if any.
pub fn existing_item(status: &Status) -> Option<pb::WatchlistItem> {
    let bytes = status.metadata().get_bin(EXISTING_ITEM_METADATA)?.to_bytes().ok()?;
    pb::WatchlistItem::decode(bytes).ok()
}

fn summary_json(c: &Option<pb::ContentSummary>) -> serde_json::Value {
    let Some(c) = c else { return serde_json::Value::Null };
    serde_json::json!({
        "id": c.id,
        "title": c.title,
        "type": c.content_type,
        "year": c.year,
        "posterUrl": Some(&c.poster_url).filter(|p| !p.is_empty()),
        "runtimeMinutes": c.runtime_minutes,
        "seriesId": Some(&c.series_id).filter(|p| !p.is_empty()),
    })
}

/// A watchlist item in the REST shape (camelCase).
pub fn item_json(i: &pb::WatchlistItem) -> serde_json::Value {
    serde_json::json!({
        "id": i.id,
        "contentId": i.content_id,
        "status": i.status,
        "priority": i.priority,
        "notes": i.notes,
        "addedAt": i.added_at,
        "updatedAt": i.updated_at,
        "completedAt": Some(&i.completed_at).filter(|t| !t.is_empty()),
        "content": summary_json(&i.content),
    })
}

/// A history entry in the REST shape (camelCase).
pub fn entry_json(e: &pb::HistoryEntry) -> serde_json::Value {
    let context = serde_json::from_str::<serde_json::Value>(&e.context_json).ok();
    serde_json::json!({
        "id": e.id,
        "contentId": e.content_id,
        "actorId": Some(&e.actor_id).filter(|a| !a.is_empty()),
        "viewedAt": e.viewed_at,
        "duration": e.duration,
        "totalDuration": e.total_duration,
        "completionPercentage": e.completion_percentage,
        "context": context,
        "createdAt": e.created_at,
        "updatedAt": e.updated_at,
        "content": summary_json(&e.content),
    })
}

impl LibraryService {
    pub fn new(pool: PgPool, catalog: Catalog, casts: crate::casts::CastCache) -> Self {
        Self { seen: crate::seen::SeenCache::new(pool.clone()), pool, catalog, casts }
    }
}

#[tonic::async_trait]
impl Library for LibraryService {
    #[tracing::instrument(skip_all, fields(rpc = "AddToWatchlist"))]
    async fn add_to_watchlist(
        &self,
        request: Request<pb::AddToWatchlistRequest>,
    ) -> Result<Response<pb::WatchlistItem>, Status> {
        let item = validate::add(request.get_ref())?;
        self.catalog.ensure_content(&self.pool, item.content_id).await?;
        if let Some(row) = store::insert_item(&self.pool, &item).await? {
            return Ok(Response::new(row.into()));
        }
        let existing = store::item(&self.pool, item.user_id, item.content_id).await?;
        // None when removed between the insert and this read: still a conflict, only without the item.
        Err(duplicate(existing.map(Into::into)))
    }

    #[tracing::instrument(skip_all, fields(rpc = "UpdateWatchlistItem"))]
    async fn update_watchlist_item(
        &self,
        request: Request<pb::UpdateWatchlistItemRequest>,
    ) -> Result<Response<pb::WatchlistItem>, Status> {
        let change = validate::update(request.get_ref())?;
        let row = store::update_item(&self.pool, &change).await?;
        row.map(|r| Response::new(r.into())).ok_or_else(item_not_found)
    }

    #[tracing::instrument(skip_all, fields(rpc = "RemoveFromWatchlist"))]
    async fn remove_from_watchlist(
        &self,
        request: Request<pb::RemoveFromWatchlistRequest>,
    ) -> Result<Response<pb::RemoveFromWatchlistResponse>, Status> {
        let r = request.get_ref();
        let (user_id, content_id) = validate::user_and(&r.user_id, "contentId", &r.content_id)?;
        if store::delete_item(&self.pool, user_id, content_id).await? {
            Ok(Response::new(pb::RemoveFromWatchlistResponse {}))
        } else {
            Err(item_not_found())
        }
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListWatchlist"))]
    async fn list_watchlist(
        &self,
        request: Request<pb::ListWatchlistRequest>,
    ) -> Result<Response<pb::ListWatchlistResponse>, Status> {
        let query = validate::list_watchlist(request.get_ref())?;
        let (rows, total) = store::list_items(&self.pool, &query).await?;
        Ok(Response::new(pb::ListWatchlistResponse {
            items: rows.into_iter().map(Into::into).collect(),
            total: total as u64,
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "RecordView"))]
    async fn record_view(
        &self,
        request: Request<pb::RecordViewRequest>,
    ) -> Result<Response<pb::RecordViewResponse>, Status> {
        let view = validate::record_view(request.get_ref(), chrono::Utc::now())?;
        // A retry answers before the catalogue is asked: it works while the catalogue is down.
        let replay = match view.idempotency_key.as_deref() {
            Some(key) => store::replayed_view(&self.pool, view.user_id, key).await?,
            None => None,
        };
        let recorded = match replay {
            Some(first) => first,
            None => {
                self.catalog.ensure_content(&self.pool, view.content_id).await?;
                store::record_view(&self.pool, &view).await?
            }
        };
        Ok(Response::new(pb::RecordViewResponse {
            entry: Some(recorded.entry.into()),
            updated: recorded.updated,
            replayed: recorded.replayed,
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ListHistory"))]
    async fn list_history(
        &self,
        request: Request<pb::ListHistoryRequest>,
    ) -> Result<Response<pb::ListHistoryResponse>, Status> {
        let query = validate::list_history(request.get_ref())?;
        let (rows, total) = store::list_entries(&self.pool, &query).await?;
        Ok(Response::new(pb::ListHistoryResponse {
            entries: rows.into_iter().map(Into::into).collect(),
            total: total as u64,
        }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "DeleteHistoryEntry"))]
    async fn delete_history_entry(
        &self,
        request: Request<pb::DeleteHistoryEntryRequest>,
    ) -> Result<Response<pb::DeleteHistoryEntryResponse>, Status> {
        let r = request.get_ref();
        let (user_id, id) = validate::user_and(&r.user_id, "id", &r.id)?;
        if store::delete_entry(&self.pool, user_id, id).await? {
            Ok(Response::new(pb::DeleteHistoryEntryResponse {}))
        } else {
            Err(Error::not_found("HISTORY_ENTRY_NOT_FOUND", "No history entry with this id").into())
        }
    }

    #[tracing::instrument(skip_all, fields(rpc = "ExportUserData"))]
    async fn export_user_data(
        &self,
        request: Request<pb::ExportUserDataRequest>,
    ) -> Result<Response<pb::UserDataExport>, Status> {
        let user_id = validate::user(&request.get_ref().user_id)?;
        let (items, entries) = store::everything(&self.pool, user_id).await?;
        let items: Vec<pb::WatchlistItem> = items.into_iter().map(Into::into).collect();
        let entries: Vec<pb::HistoryEntry> = entries.into_iter().map(Into::into).collect();
        let json = serde_json::json!({
            "watchlist": items.iter().map(item_json).collect::<Vec<_>>(),
            "history": entries.iter().map(entry_json).collect::<Vec<_>>(),
        });
        Ok(Response::new(pb::UserDataExport { json: json.to_string() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "DeleteUserData"))]
    async fn delete_user_data(
        &self,
        request: Request<pb::DeleteUserDataRequest>,
    ) -> Result<Response<pb::DeleteUserDataResponse>, Status> {
        let user_id = validate::user(&request.get_ref().user_id)?;
        // Without a message id the erasure always runs: the answer is never the "already processed" None.
        let (watchlist_deleted, history_deleted) = store::erase(&self.pool, user_id, None).await?.unwrap_or_default();
        tracing::info!(user_id = %user_id, watchlist_deleted, history_deleted, "user data erased");
        Ok(Response::new(pb::DeleteUserDataResponse { watchlist_deleted, history_deleted }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "SeenContent"))]
    async fn seen_content(
        &self,
        request: Request<pb::SeenContentRequest>,
    ) -> Result<Response<pb::SeenContentResponse>, Status> {
        let user_id = validate::user(&request.get_ref().user_id)?;
        let rows = store::seen(&self.pool, user_id).await?;
        let items = rows
            .into_iter()
            .map(|r| pb::SeenItem {
                content_id: r.content_id.to_string(),
                last_viewed_at: store::time(r.last_viewed_at),
                view_count: r.view_count as u32,
                minutes_watched: r.minutes_watched,
                completed: r.completed,
                series_id: r.series_id.map(|id| id.to_string()).unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::SeenContentResponse { items }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "KnownFrom"))]
    async fn known_from(
        &self,
        request: Request<pb::KnownFromRequest>,
    ) -> Result<Response<pb::KnownFromResponse>, Status> {
        let reply = crate::insights::known_from_actor(&self.seen, &self.catalog, request.get_ref()).await?;
        Ok(Response::new(reply))
    }

    #[tracing::instrument(skip_all, fields(rpc = "FamiliarFaces"))]
    async fn familiar_faces(
        &self,
        request: Request<pb::FamiliarFacesRequest>,
    ) -> Result<Response<pb::FamiliarFacesResponse>, Status> {
        let reply = crate::insights::familiar_faces(&self.seen, &self.casts, request.get_ref()).await?;
        Ok(Response::new(reply))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ActorStats"))]
    async fn actor_stats(
        &self,
        request: Request<pb::ActorStatsRequest>,
    ) -> Result<Response<pb::ActorStatsResponse>, Status> {
        let reply = crate::insights::actor_stats(&self.seen, &self.catalog, request.get_ref()).await?;
        Ok(Response::new(reply))
    }
}
