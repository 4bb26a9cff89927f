//! `GET /api/v1/actors/{id}` and `GET /api/v1/actors/search`: validate, ask the catalogue, shape the JSON.

use axum::Json;
use axum::extract::State;
use iknow_proto::catalog::v1::GetActorRequest;

use crate::dto::{Actor, ActorResponse, ActorSearchResponse};
use crate::envelope::{ApiResult, ErrorResponse, Meta, RequestContext};
use crate::extract::{ActorSearch, ActorSearchQuery, PathId, ValidQuery};
use crate::routes::search_page;
use crate::state::AppState;

/// One actor with their filmography, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/actors/{id}",
    tag = "actors",
    params(("id" = uuid::Uuid, Path, description = "Actor id (UUID)")),
    responses(
        (status = 200, description = "The actor", body = ActorResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID", body = ErrorResponse),
        (status = 404, description = "`ACTOR_NOT_FOUND`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(actor_id = %id.0))]
pub async fn get_actor(State(state): State<AppState>, ctx: RequestContext, id: PathId) -> ApiResult<ActorResponse> {
    let actor = state.catalog.clone().get_actor(GetActorRequest { id: id.0.to_string() }).await?.into_inner();
    Ok(Json(ActorResponse { data: Actor::from(actor), meta: Meta::new(&ctx) }))
}

/// Actors by name, tolerant of typos, accents, word order and prefixes.
#[utoipa::path(
    get,
    path = "/api/v1/actors/search",
    tag = "actors",
    params(ActorSearchQuery),
    responses(
        (status = 200, description = "One page of matching actors", body = ActorSearchResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid parameter is listed", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(limit = params.limit, offset = params.offset))]
pub async fn search_actors(
    State(state): State<AppState>,
    ctx: RequestContext,
    ValidQuery(ActorSearch(params)): ValidQuery<ActorSearch>,
) -> ApiResult<ActorSearchResponse> {
    let (found, meta, pagination) = search_page(
        &ctx,
        &params,
        "/api/v1/actors/search",
        state.catalog.clone().search_actors(params.to_proto()),
        |f| f.total,
    )
    .await?;
    Ok(Json(ActorSearchResponse { data: found.actors.into_iter().map(Into::into).collect(), meta, pagination }))
}
