//! `GET /api/v1/content/{id}/episodes`: a series' episodes in the catalogue, by season then episode number
//! (unknown numbers last), one season or all, in pages. A movie or an episode is 400 `NOT_A_SERIES`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use iknow_common::Error;
use iknow_proto::catalog::v1 as pb;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::dto::non_blank;
use crate::envelope::{ApiError, ErrorResponse, Meta, Pagination, RequestContext, error_response};
use crate::extract::{FromQuery, PathId, ValidQuery, int_param, pagination};
use crate::images::ImageSet;
use crate::state::AppState;

/// Episodes a page carries by default, and at most.
pub const DEFAULT_EPISODE_LIMIT: u32 = 100;
pub const MAX_EPISODE_LIMIT: u32 = 500;
/// Deepest offset accepted.
pub const MAX_EPISODE_OFFSET: u32 = 100_000;
/// Highest season that may be asked for (0 is the specials of many series).
pub const MAX_SEASON: i32 = 100_000;
/// Error code of a title that has no episodes (a movie or an episode).
pub const NOT_A_SERIES: &str = "NOT_A_SERIES";

/// One episode of a series.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Episode {
    /// The episode's title id (`GET /api/v1/content/{id}` gives its cast).
    pub id: String,
    #[schema(example = "tt65101001")]
    pub imdb_id: String,
    #[schema(example = "The Man Trap")]
    pub title: String,
    /// Null when the source gives none.
    #[schema(required = true)]
    pub season_number: Option<i32>,
    /// Null when the source gives none.
    #[schema(required = true)]
    pub episode_number: Option<i32>,
    /// Year first aired.
    #[schema(required = true)]
    pub year: Option<i32>,
    /// Absolute URL of the episode's image; null when none.
    #[schema(required = true)]
    pub poster_url: Option<String>,
    /// `posterUrl` in three sizes (see `ImageSet`); null when none.
    #[schema(required = true)]
    pub poster: Option<ImageSet>,
}

impl From<pb::SeriesEpisode> for Episode {
    fn from(e: pb::SeriesEpisode) -> Self {
        Self {
            id: e.id,
            imdb_id: e.imdb_id,
            title: e.title,
            season_number: e.season_number,
            episode_number: e.episode_number,
            year: e.year,
            poster: ImageSet::poster(Some(&e.poster_url)),
            poster_url: non_blank(e.poster_url),
        }
    }
}

/// `GET /api/v1/content/{id}/episodes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EpisodesPage {
    /// By season, then episode number (unknown numbers last).
    pub data: Vec<Episode>,
    pub meta: Meta,
    pub pagination: Pagination,
}

/// The validated query of `GET /api/v1/content/{id}/episodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodesParams {
    pub season: Option<i32>,
    pub limit: u32,
    pub offset: u32,
}

impl FromQuery for EpisodesParams {
    /// Validates `season`, `limit` and `offset`, reporting each failing one; other parameters are ignored.
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let mut int = |name: &str, min: i64, max: i64| {
            int_param(pairs, name, min..=max, format!("must be an integer from {min} to {max}"), &mut bad)
        };
        let season = int("season", 0, MAX_SEASON.into()).map(|n| n as i32);
        let limit = int("limit", 1, MAX_EPISODE_LIMIT.into()).map_or(DEFAULT_EPISODE_LIMIT, |n| n as u32);
        let offset = int("offset", 0, MAX_EPISODE_OFFSET.into()).map_or(0, |n| n as u32);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { season, limit, offset })
    }
}

impl EpisodesParams {
    /// Path and query of the same list at another offset.
    fn page_url(&self, id: uuid::Uuid, offset: u32) -> String {
        let season = self.season.map(|s| format!("season={s}&")).unwrap_or_default();
        format!("/api/v1/content/{id}/episodes?{season}limit={}&offset={offset}", self.limit)
    }
}

/// Query parameters of a series' episodes (documentation of what [`EpisodesParams`] accepts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EpisodesQuery {
    /// Only this season's episodes; every season when absent.
    #[param(minimum = 0, maximum = 100000)]
    season: Option<i32>,
    /// Episodes returned.
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<u32>,
    /// Episodes skipped.
    #[param(minimum = 0, maximum = 100000, default = 0)]
    offset: Option<u32>,
}

/// A series' episodes in the catalogue, by season then episode number (episodes without a number after those
/// with one), all seasons or one, in pages.
#[utoipa::path(
    get,
    path = "/api/v1/content/{id}/episodes",
    tag = "content",
    params(("id" = uuid::Uuid, Path, description = "The series' id (UUID)"), EpisodesQuery),
    responses(
        (status = 200, description = "One page of the series' episodes", body = EpisodesPage),
        (status = 400, description = "`VALIDATION_ERROR`: the id is not a UUID, or a parameter is out of range \
            (every one listed); `NOT_A_SERIES`: the id names a movie or an episode", body = ErrorResponse),
        (status = 404, description = "`CONTENT_NOT_FOUND`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(content_id = %id.0, season = ?params.season))]
pub async fn list_episodes(
    State(state): State<AppState>,
    ctx: RequestContext,
    id: PathId,
    ValidQuery(params): ValidQuery<EpisodesParams>,
) -> Result<Json<EpisodesPage>, Response> {
    let request = pb::ListEpisodesRequest {
        id: id.0.to_string(),
        season: params.season,
        limit: params.limit,
        offset: params.offset,
    };
    let found = state.catalog.clone().list_episodes(request).await.map_err(failure)?.into_inner();
    let pagination = pagination(found.total, params.limit, params.offset, |o| params.page_url(id.0, o));
    Ok(Json(EpisodesPage {
        data: found.episodes.into_iter().map(Episode::from).collect(),
        meta: Meta::new(&ctx),
        pagination,
    }))
}

/// The catalogue's refusal as the envelope: its `NOT_A_SERIES` (a failed precondition, which the platform error
/// has no variant for) is 400 with that code; everything else as usual.
fn failure(status: tonic::Status) -> Response {
    let code = status.metadata().get(iknow_common::error::CODE_METADATA).and_then(|v| v.to_str().ok());
    if status.code() == tonic::Code::FailedPrecondition && code == Some(NOT_A_SERIES) {
        return error_response(StatusCode::BAD_REQUEST, NOT_A_SERIES, status.message());
    }
    ApiError::from(status).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<EpisodesParams, Error> {
        let pairs: Vec<(String, String)> = q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        EpisodesParams::parse(&pairs)
    }

    #[test]
    fn defaults_bounds_and_every_bad_field() {
        assert_eq!(parse(&[]).unwrap(), EpisodesParams { season: None, limit: 100, offset: 0 });
        let p = parse(&[("season", "0"), ("limit", "500"), ("offset", "100000")]).unwrap();
        assert_eq!(p, EpisodesParams { season: Some(0), limit: 500, offset: 100_000 });
        let Err(Error::Validation { violations, .. }) = parse(&[("season", "x"), ("limit", "501"), ("offset", "-1")])
        else {
            panic!("validation expected")
        };
        let fields: Vec<(&str, &str)> = violations.iter().map(|v| (v.field.as_str(), v.message.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("season", "must be an integer from 0 to 100000"),
                ("limit", "must be an integer from 1 to 500"),
                ("offset", "must be an integer from 0 to 100000")
            ]
        );
        assert!(parse(&[("limit", "0")]).is_err());
    }

    #[test]
    fn page_urls_keep_the_season() {
        let id = uuid::Uuid::nil();
        let p = EpisodesParams { season: Some(2), limit: 10, offset: 0 };
        assert_eq!(p.page_url(id, 10), format!("/api/v1/content/{id}/episodes?season=2&limit=10&offset=10"));
        let p = EpisodesParams { season: None, ..p };
        assert_eq!(p.page_url(id, 0), format!("/api/v1/content/{id}/episodes?limit=10&offset=0"));
    }

    #[test]
    fn only_the_catalogue_s_not_a_series_is_a_400_of_that_code() {
        let mut status = tonic::Status::failed_precondition("\"Breach\" is a movie, not a series");
        status.metadata_mut().insert(iknow_common::error::CODE_METADATA, NOT_A_SERIES.parse().unwrap());
        assert_eq!(failure(status).status(), StatusCode::BAD_REQUEST);
        let other = tonic::Status::failed_precondition("something else");
        assert_eq!(failure(other).status(), StatusCode::INTERNAL_SERVER_ERROR);
        let missing: tonic::Status = Error::not_found("CONTENT_NOT_FOUND", "Content not found").into();
        assert_eq!(failure(missing).status(), StatusCode::NOT_FOUND);
    }
}
