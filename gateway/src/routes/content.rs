//! `GET /api/v1/content/{id}` and `GET /api/v1/content/search`: validate, ask the catalogue, shape the JSON.

use axum::Json;
use axum::extract::State;
use iknow_common::Error;
use iknow_proto::catalog::v1::GetContentRequest;
use utoipa::IntoParams;

use crate::dto::{Content, ContentResponse, ContentSearchResponse};
use crate::envelope::{ApiResult, ErrorResponse, Meta, RequestContext};
use crate::extract::{ContentSearch, ContentSearchQuery, FromQuery, PathId, ValidQuery, int_param};
use crate::routes::search_page;
use crate::state::AppState;

/// One title (movie, series or episode) with a page of its cast: a movie's or an episode's credits in billing
/// order; for a series, its aggregated cast (its own credits and every episode's, one entry per actor with every
/// character, the episode count and the first and last appearance; regulars first, then by episodes).
#[utoipa::path(
    get,
    path = "/api/v1/content/{id}",
    tag = "content",
    params(("id" = uuid::Uuid, Path, description = "Title id (UUID)"), CastPageQuery),
    responses(
        (status = 200, description = "The title", body = ContentResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID, or a cast page parameter is out of \
            range", body = ErrorResponse),
        (status = 404, description = "`CONTENT_NOT_FOUND`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(content_id = %id.0))]
pub async fn get_content(
    State(state): State<AppState>,
    ctx: RequestContext,
    id: PathId,
    ValidQuery(page): ValidQuery<CastPage>,
) -> ApiResult<ContentResponse> {
    let request = GetContentRequest { id: id.0.to_string(), cast_limit: page.limit, cast_offset: page.offset };
    let content = state.catalog.clone().get_content(request).await?.into_inner();
    Ok(Json(ContentResponse { data: Content::from(content), meta: Meta::new(&ctx) }))
}

/// Cast members a title page carries by default, and at most.
pub const DEFAULT_CAST_LIMIT: u32 = 200;
pub const MAX_CAST_LIMIT: u32 = 1_000;
/// Deepest cast offset accepted.
pub const MAX_CAST_OFFSET: u32 = 100_000;

/// The validated cast page of `GET /api/v1/content/{id}`.
#[derive(Debug, Clone, Copy)]
pub struct CastPage {
    pub limit: u32,
    pub offset: u32,
}

impl FromQuery for CastPage {
    /// Validates `castLimit` and `castOffset`, reporting each failing one; other parameters are ignored.
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let mut int = |name: &str, min: u32, max: u32, default: u32| {
            let message = format!("must be an integer from {min} to {max}");
            int_param(pairs, name, min.into()..=max.into(), message, &mut bad).map_or(default, |n| n as u32)
        };
        let limit = int("castLimit", 1, MAX_CAST_LIMIT, DEFAULT_CAST_LIMIT);
        let offset = int("castOffset", 0, MAX_CAST_OFFSET, 0);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { limit, offset })
    }
}

/// Query parameters of a title (documentation of what [`CastPage`] accepts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)]
pub struct CastPageQuery {
    /// Cast members returned (default 200).
    #[param(minimum = 1, maximum = 1000, default = 200)]
    castLimit: Option<u32>,
    /// Cast members skipped (`castTotal` in the answer counts them all).
    #[param(minimum = 0, maximum = 100000, default = 0)]
    castOffset: Option<u32>,
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
#[tracing::instrument(skip_all, fields(limit = params.limit, offset = params.offset))]
pub async fn search_content(
    State(state): State<AppState>,
    ctx: RequestContext,
    ValidQuery(ContentSearch(params)): ValidQuery<ContentSearch>,
) -> ApiResult<ContentSearchResponse> {
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
