//! What a user has seen: history rows and completed watchlist items, by title (for `SeenContent`, and for the
//! insights through [`crate::seen::SeenCache`]).

use chrono::{DateTime, Utc};
use iknow_common::Error;
use sqlx::PgPool;
use uuid::Uuid;

/// One seen title.
#[derive(Debug, sqlx::FromRow)]
pub struct SeenRow {
    pub content_id: Uuid,
    pub last_viewed_at: DateTime<Utc>,
    pub view_count: i64,
    pub minutes_watched: i64,
    pub completed: bool,
    pub series_id: Option<Uuid>,
}

/// Every title the user has seen (history rows, plus completed watchlist items), most recent first.
pub async fn seen(pool: &PgPool, user_id: Uuid) -> Result<Vec<SeenRow>, Error> {
    Ok(sqlx::query_as(
        "WITH h AS ( \
             SELECT content_id, max(viewed_at) AS last, count(*) AS n, COALESCE(sum(duration), 0)::int8 AS minutes \
             FROM viewing_history WHERE user_id = $1 GROUP BY content_id \
         ), w AS ( \
             SELECT content_id, completed_at FROM watchlist WHERE user_id = $1 AND status = 'completed' \
         ) \
         SELECT COALESCE(h.content_id, w.content_id) AS content_id, \
                GREATEST(h.last, w.completed_at) AS last_viewed_at, \
                COALESCE(h.n, 0) AS view_count, COALESCE(h.minutes, 0) AS minutes_watched, \
                w.content_id IS NOT NULL AS completed, s.series_id \
         FROM h FULL JOIN w ON w.content_id = h.content_id \
         JOIN content_snapshot s ON s.content_id = COALESCE(h.content_id, w.content_id) \
         ORDER BY last_viewed_at DESC, content_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// One title the user has seen, with what the library stores about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeenTitle {
    pub content_id: Uuid,
    pub last_viewed_at: DateTime<Utc>,
    /// History rows (one per UTC day viewed).
    pub view_count: i64,
    /// Minutes watched (see [`seen_titles`]).
    pub minutes: i64,
    pub series_id: Option<Uuid>,
    pub poster_url: Option<String>,
    pub runtime_minutes: Option<i32>,
    /// For an episode: its season and number in its series, when known.
    pub season_number: Option<i32>,
    pub episode_number: Option<i32>,
}

/// Every title the user has seen, most recent first (one query).
///
/// Minutes: each history row counts its `duration`; a row without one counts its completion share of its
/// length (`total_duration`, else the title's runtime; no completion percentage means all of it); a completed
/// watchlist item without history counts the title's runtime once.
pub async fn seen_titles(pool: &PgPool, user_id: Uuid) -> Result<Vec<SeenTitle>, Error> {
    // One pass over the user's history rows; the title summaries are joined once, after grouping. Minutes
    // known from the row (its duration, else its share of total_duration) are summed apart from the shares
    // of the title's runtime, which only the summary knows.
    Ok(sqlx::query_as(
        "WITH h AS ( \
             SELECT content_id, max(viewed_at) AS last, count(*) AS n, \
                    COALESCE(sum(duration), 0) + COALESCE(sum(total_duration * COALESCE(completion_percentage, 100) \
                        / 100) FILTER (WHERE duration IS NULL), 0) AS known_minutes, \
                    COALESCE(sum(COALESCE(completion_percentage, 100) / 100) \
                        FILTER (WHERE duration IS NULL AND total_duration IS NULL), 0) AS runtime_share \
             FROM viewing_history WHERE user_id = $1 GROUP BY content_id \
         ), w AS ( \
             SELECT content_id, completed_at FROM watchlist WHERE user_id = $1 AND status = 'completed' \
         ) \
         SELECT s.content_id, GREATEST(h.last, w.completed_at) AS last_viewed_at, COALESCE(h.n, 0) AS view_count, \
                CASE WHEN h.content_id IS NULL THEN COALESCE(s.runtime_minutes, 0)::int8 \
                     ELSE round(h.known_minutes + h.runtime_share * COALESCE(s.runtime_minutes, 0))::int8 END \
                    AS minutes, \
                s.series_id, s.poster_url, s.runtime_minutes, s.season_number, s.episode_number \
         FROM h FULL JOIN w ON w.content_id = h.content_id \
         JOIN content_snapshot s ON s.content_id = COALESCE(h.content_id, w.content_id) \
         ORDER BY last_viewed_at DESC, s.content_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// The counters a user's seen titles are cached under: (the user's, the title summaries'). Triggers bump
/// `library_versions` on every write to the user's watchlist or history (on any replica), and the nil user's
/// row when a stored title summary changes.
pub type Versions = (i64, i64);

/// The current [`Versions`] of the user (one primary-key lookup each).
pub async fn versions(pool: &PgPool, user_id: Uuid) -> Result<Versions, Error> {
    Ok(sqlx::query_as(
        "SELECT COALESCE((SELECT version FROM library_versions WHERE user_id = $1), 0), \
                COALESCE((SELECT version FROM library_versions WHERE user_id = $2), 0)",
    )
    .bind(user_id)
    .bind(Uuid::nil())
    .fetch_one(pool)
    .await?)
}
