//! The `/api/v1` routes and what they share (paging of search results).

pub mod actors;
pub mod content;

use axum::Router;
use axum::routing::get;

use crate::envelope::Pagination;
use crate::extract::SearchParams;
use crate::state::AppState;

/// Routes under `/api/v1` (nested by [`crate::router`]).
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/actors/search", get(actors::search_actors))
        .route("/actors/{id}", get(actors::get_actor))
        .route("/content/search", get(content::search_content))
        .route("/content/{id}", get(content::get_content))
        .route("/openapi.json", get(crate::openapi::openapi_json))
}

/// Paging of one page of a search: links to the neighbouring pages when they exist.
pub fn pagination(params: &SearchParams, total: u64, path: &str) -> Pagination {
    let end = u64::from(params.offset) + u64::from(params.limit);
    let has_more = end < total;
    let next_page = has_more.then(|| params.page_url(path, params.offset + params.limit));
    let prev_page = (params.offset > 0).then(|| {
        // From beyond the end, "previous" is the last page that has results.
        let last_start = total.saturating_sub(1) / u64::from(params.limit) * u64::from(params.limit);
        let prev = params.offset.saturating_sub(params.limit).min(last_start as u32);
        params.page_url(path, prev)
    });
    Pagination { total, limit: params.limit, offset: params.offset, has_more, next_page, prev_page }
}
