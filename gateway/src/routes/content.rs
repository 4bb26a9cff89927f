//! `GET /api/v1/content/{id}` and `GET /api/v1/content/search`: validate, ask the catalogue, shape the JSON.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use http::request::Parts;
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1::GetContentRequest;
use utoipa::IntoParams;

use crate::dto::{Content, ContentResponse, ContentSearchResponse};
use crate::envelope::{ApiError, ApiResult, ErrorResponse, Meta, RequestContext};
use crate::extract::{ContentSearch, ContentSearchQuery, PathId};
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
    page: CastPage,
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

impl CastPage {
    /// Validates `castLimit` and `castOffset`, reporting each failing one; other parameters are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
        let mut bad = Vec::new();
        let mut int = |name: &str, min: u32, max: u32, default: u32| match get(name).map(str::parse::<u32>) {
            None => default,
            Some(Ok(n)) if (min..=max).contains(&n) => n,
            Some(_) => {
                bad.push(FieldViolation::new(name, format!("must be an integer from {min} to {max}")));
                default
            }
        };
        let limit = int("castLimit", 1, MAX_CAST_LIMIT, DEFAULT_CAST_LIMIT);
        let offset = int("castOffset", 0, MAX_CAST_OFFSET, 0);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { limit, offset })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CastPage {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|_| ApiError(Error::field("query", "is not a valid URL query string")))?;
        Ok(Self::parse(&pairs)?)
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
