//! `GET /api/v1/content/{id}` and `GET /api/v1/content/search`: validate, ask the catalogue, shape the JSON.

use axum::Json;
use axum::extract::State;
use iknow_proto::catalog::v1::GetContentRequest;

use crate::dto::{Content, ContentResponse, ContentSearchResponse};
use crate::envelope::{ApiResult, ErrorResponse, Meta, RequestContext};
use crate::extract::{ContentSearch, ContentSearchQuery, PathId};
use crate::routes::search_page;
use crate::state::AppState;

/// One title (movie, series or episode) with its cast in credit order.
#[utoipa::path(
    get,
    path = "/api/v1/content/{id}",
    tag = "content",
    params(("id" = uuid::Uuid, Path, description = "Title id (UUID)")),
    responses(
        (status = 200, description = "The title", body = ContentResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID", body = ErrorResponse),
        (status = 404, description = "`CONTENT_NOT_FOUND`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(content_id = %id.0))]
pub async fn get_content(State(state): State<AppState>, ctx: RequestContext, id: PathId) -> ApiResult<ContentResponse> {
    let content = state
        .catalog
        .clone()
        .get_content(GetContentRequest { id: id.0.to_string(), ..Default::default() })
        .await?
        .into_inner();
    Ok(Json(ContentResponse { data: Content::from(content), meta: Meta::new(&ctx) }))
}

/// Titles by name, tolerant of typos, accents, word order and prefixes.
#[utoipa::path(
    get,
    path = "/api/v1/content/search",
    tag = "content",
    params(ContentSearchQuery),
    responses(
        (status = 200, description = "One page of matching titles", body = ContentSearchResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid parameter is listed", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(limit = params.0.limit, offset = params.0.offset))]
pub async fn search_content(
    State(state): State<AppState>,
    ctx: RequestContext,
    params: ContentSearch,
) -> ApiResult<ContentSearchResponse> {
    let params = params.0;
    let (found, meta, pagination) = search_page(
        &ctx,
        &params,
        "/api/v1/content/search",
        state.catalog.clone().search_content(params.to_proto()),
        |f| f.total,
    )
    .await?;
    Ok(Json(ContentSearchResponse { data: found.contents.into_iter().map(Into::into).collect(), meta, pagination }))
}
