//! The `/api/v1` routes and what they share (timing and paging of search results).

pub mod actors;
pub mod auth;
pub mod content;
pub mod episodes;
pub mod identify;
pub mod insights;
pub mod library;
pub mod users;

use std::time::Instant;

use axum::Router;
use axum::routing::{delete, get, patch, post};
use iknow_common::Error;

use crate::envelope::{ApiError, Meta, Pagination, RequestContext, elapsed_ms};
use crate::extract::{SearchParams, pagination};
use crate::state::AppState;

/// Routes under `/api/v1` (nested by [`crate::router`]).
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/actors/search", get(actors::search_actors))
        .route("/actors/{id}", get(actors::get_actor))
        .route("/actors/{id}/known-from", get(insights::known_from))
        .route("/content/search", get(content::search_content))
        .route("/content/{id}", get(content::get_content))
        .route("/content/{id}/episodes", get(episodes::list_episodes))
        .route("/identify", get(identify::identify))
        .route("/content/{id}/familiar-faces", get(insights::familiar_faces))
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/users/register", post(users::register))
        .route("/users/verify-email", post(users::verify_email))
        .route("/users/me", get(users::me).patch(users::update_me).delete(users::delete_me))
        .route("/users/me/export", get(users::export_me))
        .route("/users/me/watchlist", get(library::list_watchlist).post(library::add_to_watchlist))
        .route(
            "/users/me/watchlist/{contentId}",
            patch(library::update_watchlist_item).delete(library::remove_from_watchlist),
        )
        .route("/users/me/history", get(library::list_history).post(library::record_view))
        .route("/users/me/history/{id}", delete(library::delete_history_entry))
        .route("/users/me/stats/actors", get(insights::actor_stats))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/password-reset", post(auth::request_password_reset))
        .route("/auth/password-reset/confirm", post(auth::confirm_password_reset))
}

/// A failure of a mailed-token operation (verify email, reset password): an unknown, used or expired token is
/// 400 `VALIDATION_ERROR` on field `token`, however user-identity words it.
pub fn token_field(status: tonic::Status) -> ApiError {
    let invalid_token = || ApiError(Error::field("token", iknow_common::rules::MAIL_TOKEN_MESSAGE));
    match Error::from_status(&status) {
        Error::Validation { violations, .. } if violations.is_empty() => invalid_token(),
        Error::Unauthenticated { code, .. } | Error::NotFound { code, .. } if code == "INVALID_TOKEN" => {
            invalid_token()
        }
        other => ApiError(other),
    }
}

/// Awaits one catalogue search and times it: the catalogue's answer, the `meta` carrying `searchTime`, and the
/// paging of `path` given the answer's `total`.
pub async fn search_page<T>(
    ctx: &RequestContext,
    params: &SearchParams,
    path: &str,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    total: impl FnOnce(&T) -> u64,
) -> Result<(T, Meta, Pagination), ApiError> {
    let started = Instant::now();
    let found = call.await?.into_inner();
    let search_time = elapsed_ms(started);
    let pagination = pagination(total(&found), params.limit, params.offset, |o| params.page_url(path, o));
    let mut meta = Meta::new(ctx);
    meta.search_time = Some(search_time);
    Ok((found, meta, pagination))
}
