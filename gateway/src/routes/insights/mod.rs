//! "Where do I know them from": `GET /api/v1/actors/{id}/known-from`, `GET /api/v1/content/{id}/familiar-faces`
//! and `GET /api/v1/users/me/stats/actors`. The library joins the caller's history (and completed watchlist
//! items) with batch reads of the catalogue; while the catalogue is down these answer 503 (familiar faces only
//! when the library does not hold the casts it needs) and every other library route keeps working. The user id
//! always comes from the token.
//!
//! The handlers are here; [`dto`] holds the JSON the routes answer, [`params`] the stats query.

pub mod dto;
pub mod params;

use axum::Json;
use axum::extract::State;
use iknow_proto::library::v1 as pb;

use crate::auth::AuthUser;
use crate::envelope::{ApiResult, ErrorResponse, Meta, RequestContext};
use crate::extract::{PathId, ValidQuery};
use crate::state::AppState;
use dto::{
    ActorStat, ActorStats, ActorStatsResponse, FamiliarFaces, FamiliarFacesResponse, KnownFrom, KnownFromResponse,
};
use params::{StatsParams, StatsQuery};

/// The titles the caller has seen in which this actor appears, most recently seen first, with the share of
/// the actor's filmography the caller has seen.
#[utoipa::path(
    get,
    path = "/api/v1/actors/{id}/known-from",
    tag = "library",
    security(("bearerAuth" = [])),
    params(("id" = uuid::Uuid, Path, description = "Actor id (UUID)")),
    description = "Where do I know them from: every title in the caller's viewing history, or completed on the \
        watchlist, in which the actor appears (an episode seen counts its series), with the actor's role and \
        when the caller last watched it, most recent first; plus how much of the actor's filmography that is. \
        An episode names its series (`content.seriesId`, `seriesTitle`) and its season and number.",
    responses(
        (status = 200, description = "Where the caller knows the actor from", body = KnownFromResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`ACTOR_NOT_FOUND`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library or the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, actor_id = %id.0))]
pub async fn known_from(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: PathId,
) -> ApiResult<KnownFromResponse> {
    let request = pb::KnownFromRequest { user_id: user.id.to_string(), actor_id: id.0.to_string() };
    let reply = state.library.clone().known_from(request).await?.into_inner();
    Ok(Json(KnownFromResponse { data: KnownFrom::from_proto(id.0.to_string(), reply), meta: Meta::new(&ctx) }))
}

/// The members of a title's cast the caller has seen before, and where.
#[utoipa::path(
    get,
    path = "/api/v1/content/{id}/familiar-faces",
    tag = "library",
    security(("bearerAuth" = [])),
    params(("id" = uuid::Uuid, Path, description = "Title id (UUID): a movie, series or episode")),
    description = "For the cast of this title (an episode: its own cast plus its series' regulars), each actor \
        the caller has seen in other titles, with the best example (most prominent role, then most recent \
        view) and how many of their titles the caller has seen. Actors seen nowhere else are left out; the \
        title itself and its series never count as elsewhere.\n\n\
        For an episode, the other episodes of its series the caller has seen count too, marked \
        `sameSeries: true` with their season, number and title (\"the innkeeper from season 2\"). Series \
        regulars seen in the previous episode are noise, so the rule is: **an episode of the same series counts \
        only for an actor credited on this episode and on fewer than half of the series' episodes**; actors \
        credited on the series title (regulars) and those in half its episodes or more never count through \
        it. A face known from another title comes first (and is its example); faces known only from the \
        series follow, with `sameSeries: true`.",
    responses(
        (status = 200, description = "The familiar faces, those seen in other titles first (from the casts the \
            library keeps, also while the catalogue is down)", body = FamiliarFacesResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 404, description = "`CONTENT_NOT_FOUND`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library is down, or the catalogue is and the \
            library does not hold what the answer needs", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, content_id = %id.0))]
pub async fn familiar_faces(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: PathId,
) -> ApiResult<FamiliarFacesResponse> {
    let request = pb::FamiliarFacesRequest { user_id: user.id.to_string(), content_id: id.0.to_string() };
    let reply = state.library.clone().familiar_faces(request).await?.into_inner();
    let data = FamiliarFaces::from_proto(id.0.to_string(), reply);
    Ok(Json(FamiliarFacesResponse { data, meta: Meta::new(&ctx) }))
}

/// The caller's most-watched actors.
#[utoipa::path(
    get,
    path = "/api/v1/users/me/stats/actors",
    tag = "library",
    security(("bearerAuth" = [])),
    params(StatsQuery),
    description = "The actors of every title the caller has seen, by titles seen, then minutes watched. A \
        history row counts its `duration`, else its completion share of the title's length; a completed \
        watchlist item with no history counts the title's runtime once.",
    responses(
        (status = 200, description = "The caller's most-watched actors", body = ActorStatsResponse),
        (status = 400, description = "`VALIDATION_ERROR`: `limit` is not 1 to 100", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the library or the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn actor_stats(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    ValidQuery(params): ValidQuery<StatsParams>,
) -> ApiResult<ActorStatsResponse> {
    let request = pb::ActorStatsRequest { user_id: user.id.to_string(), limit: Some(params.limit) };
    let reply = state.library.clone().actor_stats(request).await?.into_inner();
    let data =
        ActorStats { actors: reply.actors.into_iter().map(ActorStat::from).collect(), titles_seen: reply.titles_seen };
    Ok(Json(ActorStatsResponse { data, meta: Meta::new(&ctx) }))
}
