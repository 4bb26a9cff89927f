//! `/api/v1/users/me/watchlist` and `/api/v1/users/me/history`: the caller's watchlist and viewing history,
//! kept by the library service. Every call carries the token's user id, never one from the request, so a
//! caller only ever sees and changes their own rows. The library answers from its own tables, so these routes
//! work while the catalogue is down (only adding or recording a title it has never seen needs the catalogue).
//!
//! History older than `premium_history_window_days` (90 by default) is premium: a free caller (or one whose
//! subscription expired) reads the views since 00:00 UTC that many days ago.
//!
//! The handlers are here; [`dto`] holds the JSON the routes answer, [`params`] what a request carries (query,
//! path, bodies), validated.

pub mod dto;
pub mod params;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use http::StatusCode;
use iknow_common::Error;
use iknow_common::token::{Claims, Tier};
use iknow_proto::library::v1 as pb;
use prost::Message;

use crate::account::{Deleted, DeletedResponse};
use crate::auth::{AuthUser, check_tier};
use crate::body::JsonBody;
use crate::envelope::{
    ApiError, ApiResult, ErrorDetails, ErrorResponse, Meta, RequestContext, TierDetails, error_response_with,
};
use crate::extract::{PathId, ValidQuery, pagination};
use crate::state::AppState;
use dto::{
    ExistingItemDetails, HistoryEntry, HistoryMeta, HistoryPage, RecordedView, RecordedViewResponse, WatchlistItem,
    WatchlistItemResponse, WatchlistPage,
};
use params::{
    AddToWatchlistRequest, HistoryParams, HistoryQuery, IdempotencyKey, PathContentId, RecordViewRequest,
    UpdateWatchlistItemRequest, WatchlistParams, WatchlistQuery, rfc3339,
};

const WATCHLIST: &str = "/api/v1/users/me/watchlist";
const HISTORY: &str = "/api/v1/users/me/history";
/// Binary metadata of a `DUPLICATE_WATCHLIST_ITEM` status: the prost encoding of the existing item.
const EXISTING_ITEM_METADATA: &str = "x-existing-item-bin";
/// Response header of a recorded view answered from its `Idempotency-Key` (`true`; absent otherwise).
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// One page of the caller's watchlist.
#[utoipa::path(
    get,
    path = "/api/v1/users/me/watchlist",
    tag = "library",
    security(("bearerAuth" = [])),
    params(WatchlistQuery),
    responses(
        (status = 200, description = "One page of the caller's watchlist", body = WatchlistPage),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid parameter is listed", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list_watchlist(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    ValidQuery(params): ValidQuery<WatchlistParams>,
) -> ApiResult<WatchlistPage> {
    let page = state.library.clone().list_watchlist(params.to_proto(user.id)).await?.into_inner();
    let pagination = pagination(page.total, params.limit, params.offset, |o| params.page_url(WATCHLIST, o));
    let data = page.items.into_iter().map(WatchlistItem::from).collect();
    Ok(Json(WatchlistPage { data, meta: Meta::new(&ctx), pagination }))
}

/// The 409 of a duplicate add, carrying the existing item when the library sent it.
fn duplicate(status: &tonic::Status) -> Option<Response> {
    if status.code() != tonic::Code::AlreadyExists {
        return None;
    }
    let error = Error::from_status(status);
    if error.code() != "DUPLICATE_WATCHLIST_ITEM" {
        return None;
    }
    let existing = status
        .metadata()
        .get_bin(EXISTING_ITEM_METADATA)
        .and_then(|v| v.to_bytes().ok())
        .and_then(|bytes| pb::WatchlistItem::decode(bytes).ok())?;
    let details = ExistingItemDetails { existing_item: existing.into() };
    Some(error_response_with(
        StatusCode::CONFLICT,
        "DUPLICATE_WATCHLIST_ITEM",
        error.public_message(),
        ErrorDetails::route(&details),
    ))
}

/// Adds a title to the caller's watchlist.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/watchlist",
    tag = "library",
    security(("bearerAuth" = [])),
    request_body = AddToWatchlistRequest,
    responses(
        (status = 201, description = "The new item", body = WatchlistItemResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid or missing field is listed", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`CONTENT_NOT_FOUND`: the catalogue does not know the title", body = ErrorResponse),
        (status = 409, description = "`DUPLICATE_WATCHLIST_ITEM`: the title is already on the watchlist; \
            `details.existingItem` is that item", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down, or the catalogue is down and \
            the title was never added or viewed before", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn add_to_watchlist(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    JsonBody(body): JsonBody<AddToWatchlistRequest>,
) -> Result<(StatusCode, Json<WatchlistItemResponse>), Response> {
    let request = body.into_proto(user.id).map_err(|e| ApiError(e).into_response())?;
    let item = state
        .library
        .clone()
        .add_to_watchlist(request)
        .await
        .map_err(|status| duplicate(&status).unwrap_or_else(|| ApiError::from(status).into_response()))?
        .into_inner();
    Ok((StatusCode::CREATED, Json(WatchlistItemResponse { data: item.into(), meta: Meta::new(&ctx) })))
}

/// Changes the status, priority and/or notes of a watchlist item.
#[utoipa::path(
    patch,
    path = "/api/v1/users/me/watchlist/{contentId}",
    tag = "library",
    security(("bearerAuth" = [])),
    params(("contentId" = uuid::Uuid, Path, description = "The title's content id")),
    request_body = UpdateWatchlistItemRequest,
    responses(
        (status = 200, description = "The changed item", body = WatchlistItemResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid field is listed", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`WATCHLIST_ITEM_NOT_FOUND`: the title is not on the caller's watchlist", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update_watchlist_item(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    content: PathContentId,
    JsonBody(body): JsonBody<UpdateWatchlistItemRequest>,
) -> ApiResult<WatchlistItemResponse> {
    let request = body.into_proto(user.id, content.0)?;
    let item = state.library.clone().update_watchlist_item(request).await?.into_inner();
    Ok(Json(WatchlistItemResponse { data: item.into(), meta: Meta::new(&ctx) }))
}

/// Removes a title from the caller's watchlist.
#[utoipa::path(
    delete,
    path = "/api/v1/users/me/watchlist/{contentId}",
    tag = "library",
    security(("bearerAuth" = [])),
    params(("contentId" = uuid::Uuid, Path, description = "The title's content id")),
    responses(
        (status = 200, description = "The item is removed", body = DeletedResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the content id is not a UUID", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`WATCHLIST_ITEM_NOT_FOUND`: the title is not on the caller's watchlist", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn remove_from_watchlist(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    content: PathContentId,
) -> ApiResult<DeletedResponse> {
    let request = pb::RemoveFromWatchlistRequest { user_id: user.id.to_string(), content_id: content.0.to_string() };
    state.library.clone().remove_from_watchlist(request).await?;
    Ok(Json(DeletedResponse { data: Deleted { deleted: true }, meta: Meta::new(&ctx) }))
}

/// 00:00 UTC `days` days before `now`: the start of a free caller's history window.
pub fn window_start(days: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    (now - Duration::days(i64::from(days))).date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// Where a caller's history query must start: `None` for a premium or family caller (everything), the start
/// of the window for a free caller (or an expired subscription). A free caller asking for views before the
/// window (`from`, or only `to`, earlier than its start) is refused with 403 `SUBSCRIPTION_REQUIRED`.
pub fn history_window(
    claims: &Claims,
    params: &HistoryParams,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Box<Response>> {
    let Err(refusal) = check_tier(claims, Tier::Premium, now.timestamp()) else { return Ok(None) };
    let start = window_start(days, now);
    let earliest = params.from.or(params.to);
    if earliest.is_some_and(|t| t < start) {
        return Err(Box::new(error_response_with(
            StatusCode::FORBIDDEN,
            "SUBSCRIPTION_REQUIRED",
            format!("Viewing history older than {days} days needs a {} subscription", refusal.required.as_str()),
            Some(ErrorDetails::Tier(TierDetails {
                required_tier: refusal.required.as_str().into(),
                current_tier: refusal.current.as_str().into(),
            })),
        )));
    }
    Ok(Some(start))
}

/// One page of the caller's viewing history, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/users/me/history",
    tag = "library",
    security(("bearerAuth" = [])),
    params(HistoryQuery),
    description = "One page of the caller's viewing history, newest first. **History older than 90 days \
        (`premium_history_window_days`) is a premium feature**: a free caller (or one whose subscription has \
        expired) reads the views since 00:00 UTC 90 days ago: without `from` the page is limited to that \
        window (`meta.historyWindowDays` and `meta.historyFrom` say so), and a `from` (or, without `from`, a \
        `to`) before it is refused with 403 `SUBSCRIPTION_REQUIRED`. Premium and family callers read \
        everything. `duration` and `totalDuration` are minutes.",
    responses(
        (status = 200, description = "One page of the caller's history, newest first", body = HistoryPage),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid parameter is listed", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 403, description = "`SUBSCRIPTION_REQUIRED`: a free caller asked for history older than the \
            window; `details` has `requiredTier` (premium) and `currentTier`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list_history(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    ValidQuery(params): ValidQuery<HistoryParams>,
) -> Result<Json<HistoryPage>, Response> {
    let days = state.history_window_days;
    let window = history_window(&user.claims, &params, days, Utc::now()).map_err(|refusal| *refusal)?;
    let from = params.from.or(window);
    let request = pb::ListHistoryRequest {
        user_id: user.id.to_string(),
        from: from.map(rfc3339),
        to: params.to.map(rfc3339),
        limit: Some(params.limit as i32),
        offset: Some(params.offset as i32),
        // Newest first.
        ascending: false,
    };
    let page =
        state.library.clone().list_history(request).await.map_err(|s| ApiError::from(s).into_response())?.into_inner();
    let pagination = pagination(page.total, params.limit, params.offset, |o| params.page_url(HISTORY, o));
    let limited = window.is_some() && params.from.is_none();
    let meta = HistoryMeta {
        meta: Meta::new(&ctx),
        history_window_days: limited.then_some(days),
        history_from: window.filter(|_| limited).map(rfc3339),
    };
    let data = page.entries.into_iter().map(HistoryEntry::from).collect();
    Ok(Json(HistoryPage { data, meta, pagination }))
}

/// Records a view of a title.
#[utoipa::path(
    post,
    path = "/api/v1/users/me/history",
    tag = "library",
    security(("bearerAuth" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, max_length = 100,
            description = "1 to 100 visible ASCII characters (e.g. a UUID), chosen by the client for this view. \
            The same key records the view once for the caller: a retry with it changes nothing and answers the \
            entry the key recorded (200, header `Idempotent-Replayed: true`), even if its body differs (the body \
            is not compared). Keys are the caller's own (another user's same key is independent) and last as \
            long as the entry (deleting the entry forgets its keys)."),
    ),
    request_body = RecordViewRequest,
    description = "Records a view. A second view of the same title on the same UTC day updates that day's row \
        (200, `updated: true`); a view on another day adds a row (201). `duration` and `totalDuration` are \
        minutes. With an `Idempotency-Key` already used by the caller, nothing is recorded: the answer is the \
        entry that key recorded as it stands now, with `updated` as first answered, status 200 and header \
        `Idempotent-Replayed: true` (so a client may retry a view whose answer it never got).",
    responses(
        (status = 201, description = "A row was added (`updated: false`)", body = RecordedViewResponse),
        (status = 200, description = "The same title's row of that UTC day was updated (`updated: true`), or \
            the `Idempotency-Key` was already used (header `Idempotent-Replayed: true`): the entry it recorded",
            body = RecordedViewResponse,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when the `Idempotency-Key` had already recorded a view (absent otherwise)"))),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid or missing field is listed, and \
            `Idempotency-Key` when the header is not one value of 1 to 100 visible ASCII characters",
            body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`CONTENT_NOT_FOUND`: the catalogue does not know the title", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down, or the catalogue is down and \
            the title was never added or viewed before", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn record_view(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<RecordViewRequest>,
) -> Result<Response, ApiError> {
    let request = body.into_proto(user.id, key, Utc::now())?;
    let recorded = state.library.clone().record_view(request).await?.into_inner();
    let entry = recorded.entry.ok_or_else(|| Error::internal(anyhow::anyhow!("RecordView answered no entry")))?;
    let status = if recorded.updated || recorded.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let data = RecordedView { entry: entry.into(), updated: recorded.updated };
    let json = Json(RecordedViewResponse { data, meta: Meta::new(&ctx) });
    if recorded.replayed {
        let replayed = [(http::HeaderName::from_static(IDEMPOTENT_REPLAYED), http::HeaderValue::from_static("true"))];
        return Ok((status, replayed, json).into_response());
    }
    Ok((status, json).into_response())
}

/// Deletes one entry of the caller's history.
#[utoipa::path(
    delete,
    path = "/api/v1/users/me/history/{id}",
    tag = "library",
    security(("bearerAuth" = [])),
    params(("id" = uuid::Uuid, Path, description = "The history entry's id")),
    responses(
        (status = 200, description = "The entry is deleted", body = DeletedResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`HISTORY_ENTRY_NOT_FOUND`: no entry of the caller has this id", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete_history_entry(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: PathId,
) -> ApiResult<DeletedResponse> {
    let request = pb::DeleteHistoryEntryRequest { user_id: user.id.to_string(), id: id.0.to_string() };
    state.library.clone().delete_history_entry(request).await?;
    Ok(Json(DeletedResponse { data: Deleted { deleted: true }, meta: Meta::new(&ctx) }))
}

#[cfg(test)]
mod tests {
    use iknow_common::token::ACCESS_TYPE;

    use super::*;

    fn claims(tier: &str, tier_expires: Option<i64>) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            sub: uuid::Uuid::now_v7().to_string(),
            exp: now + 900,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            tier: tier.into(),
            tier_expires,
            typ: ACCESS_TYPE.into(),
        }
    }

    fn params(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> HistoryParams {
        HistoryParams { from, to, limit: 20, offset: 0 }
    }

    #[test]
    fn the_window_starts_at_midnight_utc_and_binds_only_free_callers() {
        let now = DateTime::parse_from_rfc3339("2026-05-31T15:30:00Z").unwrap().with_timezone(&Utc);
        let start = window_start(90, now);
        assert_eq!(rfc3339(start), "2026-03-02T00:00:00Z");
        let free = claims("free", None);
        assert_eq!(history_window(&free, &params(None, None), 90, now).ok(), Some(Some(start)));
        assert_eq!(history_window(&free, &params(Some(start), None), 90, now).ok(), Some(Some(start)));
        let early = start - Duration::seconds(1);
        for p in [params(Some(early), None), params(None, Some(early)), params(Some(early), Some(now))] {
            let refused = history_window(&free, &p, 90, now).unwrap_err();
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        }
        let expired = claims("premium", Some(now.timestamp() - 1));
        assert!(history_window(&expired, &params(Some(early), None), 90, now).is_err());
        for tier in ["premium", "family"] {
            let c = claims(tier, Some(now.timestamp() + 3600));
            assert_eq!(history_window(&c, &params(Some(early), None), 90, now).ok(), Some(None));
        }
    }
}
