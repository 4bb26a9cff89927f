//! The viewing history: one row per (user, title, UTC day).

use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_proto::library::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use super::{SUMMARY_COLUMNS, Summary, direction, time};
use crate::validate::{HistoryQuery, View};

/// A history row with its title's summary.
#[derive(Debug, sqlx::FromRow)]
pub struct EntryRow {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub viewed_at: DateTime<Utc>,
    pub duration: Option<i32>,
    pub total_duration: Option<i32>,
    pub completion_percentage: Option<f64>,
    pub context: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(flatten)]
    pub content: Summary,
}

impl From<EntryRow> for pb::HistoryEntry {
    fn from(r: EntryRow) -> Self {
        pb::HistoryEntry {
            id: r.id.to_string(),
            content_id: r.content.content_id.to_string(),
            actor_id: r.actor_id.map(|id| id.to_string()).unwrap_or_default(),
            viewed_at: time(r.viewed_at),
            duration: r.duration,
            total_duration: r.total_duration,
            completion_percentage: r.completion_percentage,
            context_json: r.context.map(|c| c.to_string()).unwrap_or_default(),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
            content: Some(r.content.into()),
        }
    }
}

/// `h` (history rows, or a CTE returning them) joined to their summaries.
pub(super) fn entry_select(source: &str, extra: &str) -> String {
    format!(
        "SELECT h.id, h.actor_id, h.viewed_at, h.duration, h.total_duration, \
                h.completion_percentage::float8 AS completion_percentage, h.context, h.created_at, h.updated_at, \
                {SUMMARY_COLUMNS}{extra} \
         FROM {source} h JOIN content_snapshot s ON s.content_id = h.content_id"
    )
}

/// Records a view; the flag is true when it updated the row of the same user, title and UTC day.
///
/// A second view of the same title on the same UTC day updates that day's row:
/// - `viewed_at` becomes the later of the two, so the row says when the title was last watched that day
///   (a late-arriving report of an earlier view does not move it back);
/// - `duration`, `total_duration`, `completion_percentage`, `actor_id` and `context` take the new view's
///   values when it gives them, and keep the stored ones when it leaves them out. New values replace rather
///   than add up: players report the progress of the day so far (a resumed film reports 80% after 40%),
///   and replacing keeps a retried request from counting its minutes twice.
pub async fn record_view(pool: &PgPool, v: &View) -> Result<(EntryRow, bool), Error> {
    #[derive(sqlx::FromRow)]
    struct Recorded {
        #[sqlx(flatten)]
        entry: EntryRow,
        updated: bool,
    }
    let sql = format!(
        "WITH up AS ( \
             INSERT INTO viewing_history \
                 (id, user_id, content_id, actor_id, viewed_at, duration, total_duration, completion_percentage, \
                  context) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::float8::numeric(5, 2), $9) \
             ON CONFLICT (user_id, content_id, view_date) DO UPDATE SET \
                 viewed_at = GREATEST(viewing_history.viewed_at, EXCLUDED.viewed_at), \
                 duration = COALESCE(EXCLUDED.duration, viewing_history.duration), \
                 total_duration = COALESCE(EXCLUDED.total_duration, viewing_history.total_duration), \
                 completion_percentage = \
                     COALESCE(EXCLUDED.completion_percentage, viewing_history.completion_percentage), \
                 actor_id = COALESCE(EXCLUDED.actor_id, viewing_history.actor_id), \
                 context = COALESCE(EXCLUDED.context, viewing_history.context), \
                 updated_at = now() \
             RETURNING *, NOT (xmax = 0) AS updated \
         ) {}",
        entry_select("up", ", h.updated")
    );
    let row: Recorded = sqlx::query_as(&sql)
        .bind(iknow_common::id::new())
        .bind(v.user_id)
        .bind(v.content_id)
        .bind(v.actor_id)
        .bind(v.viewed_at)
        .bind(v.duration)
        .bind(v.total_duration)
        .bind(v.completion_percentage)
        .bind(&v.context)
        .fetch_one(pool)
        .await?;
    Ok((row.entry, row.updated))
}

/// One page of the history, newest first (oldest first when ascending), and the total in the range.
pub async fn list_entries(pool: &PgPool, q: &HistoryQuery) -> Result<(Vec<EntryRow>, i64), Error> {
    let filter = "h.user_id = $1 AND ($2::timestamptz IS NULL OR h.viewed_at >= $2) \
                  AND ($3::timestamptz IS NULL OR h.viewed_at <= $3)";
    let dir = direction(q.ascending);
    let sql = format!(
        "{} WHERE {filter} ORDER BY h.viewed_at {dir}, h.id {dir} LIMIT $4 OFFSET $5",
        entry_select("viewing_history", "")
    );
    let rows = sqlx::query_as(&sql)
        .bind(q.user_id)
        .bind(q.from)
        .bind(q.to)
        .bind(q.page.limit)
        .bind(q.page.offset)
        .fetch_all(pool)
        .await?;
    let total = sqlx::query_scalar(&format!("SELECT count(*) FROM viewing_history h WHERE {filter}"))
        .bind(q.user_id)
        .bind(q.from)
        .bind(q.to)
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}

/// Deletes one history row of the user; false when the user has no such row.
pub async fn delete_entry(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM viewing_history WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
