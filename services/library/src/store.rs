//! SQL of the library. Every statement is scoped by `user_id`: a row of another user is never read, changed
//! nor deleted (it is simply not found).

use chrono::{DateTime, Utc};
use iknow_proto::library::v1 as pb;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::validate::{HistoryQuery, ItemChange, NewItem, Sort, View, WatchlistQuery};

/// RFC 3339 in UTC with `Z`, fractional seconds only when there are some.
pub fn time(t: DateTime<Utc>) -> String {
    iknow_common::time::rfc3339(t)
}

/// The stored summary of a title, joined to every listed row.
#[derive(Debug, sqlx::FromRow)]
pub struct SummaryColumns {
    pub content_id: Uuid,
    pub title: String,
    pub content_type: String,
    pub year: Option<i32>,
    pub poster_url: Option<String>,
    pub runtime_minutes: Option<i32>,
    pub series_id: Option<Uuid>,
}

impl From<SummaryColumns> for pb::ContentSummary {
    fn from(s: SummaryColumns) -> Self {
        pb::ContentSummary {
            id: s.content_id.to_string(),
            title: s.title,
            content_type: s.content_type,
            year: s.year,
            poster_url: s.poster_url.unwrap_or_default(),
            runtime_minutes: s.runtime_minutes,
            series_id: s.series_id.map(|id| id.to_string()).unwrap_or_default(),
        }
    }
}

const SUMMARY_COLUMNS: &str =
    "s.content_id, s.title, s.content_type, s.year, s.poster_url, s.runtime_minutes, s.series_id";

/// A watchlist row with its title's summary.
#[derive(Debug, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub status: String,
    pub priority: i16,
    pub notes: Option<String>,
    pub added_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub content: SummaryColumns,
}

impl From<ItemRow> for pb::WatchlistItem {
    fn from(r: ItemRow) -> Self {
        pb::WatchlistItem {
            id: r.id.to_string(),
            content_id: r.content.content_id.to_string(),
            status: r.status,
            priority: i32::from(r.priority),
            notes: r.notes,
            added_at: time(r.added_at),
            updated_at: time(r.updated_at),
            completed_at: r.completed_at.map(time).unwrap_or_default(),
            content: Some(r.content.into()),
        }
    }
}

/// `w` (the watchlist rows, or a CTE returning them) joined to their summaries.
fn item_select(source: &str) -> String {
    format!(
        "SELECT w.id, w.status, w.priority, w.notes, w.added_at, w.updated_at, w.completed_at, {SUMMARY_COLUMNS} \
         FROM {source} w JOIN content_snapshot s ON s.content_id = w.content_id"
    )
}

/// Adds an item; `None` when the user already has this title on the watchlist.
pub async fn insert_item(pool: &PgPool, item: &NewItem) -> sqlx::Result<Option<ItemRow>> {
    let sql = format!(
        "WITH ins AS ( \
             INSERT INTO watchlist (id, user_id, content_id, status, priority, notes, completed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'completed' THEN now() END) \
             ON CONFLICT (user_id, content_id) DO NOTHING \
             RETURNING * \
         ) {}",
        item_select("ins")
    );
    sqlx::query_as(&sql)
        .bind(iknow_common::id::new())
        .bind(item.user_id)
        .bind(item.content_id)
        .bind(item.status)
        .bind(item.priority)
        .bind(&item.notes)
        .fetch_optional(pool)
        .await
}

/// One item of the user's watchlist, by title.
pub async fn item(pool: &PgPool, user_id: Uuid, content_id: Uuid) -> sqlx::Result<Option<ItemRow>> {
    let sql = format!("{} WHERE w.user_id = $1 AND w.content_id = $2", item_select("watchlist"));
    sqlx::query_as(&sql).bind(user_id).bind(content_id).fetch_optional(pool).await
}

/// Applies a change; `None` when the user has no such item. completed_at is set when the status becomes
/// completed (kept when it already was) and cleared when it leaves completed.
pub async fn update_item(pool: &PgPool, c: &ItemChange) -> sqlx::Result<Option<ItemRow>> {
    let sql = format!(
        "WITH upd AS ( \
             UPDATE watchlist SET \
                 status = COALESCE($3, status), \
                 priority = COALESCE($4, priority), \
                 notes = CASE WHEN $5 THEN $6 ELSE notes END, \
                 completed_at = CASE WHEN COALESCE($3, status) = 'completed' \
                                     THEN COALESCE(completed_at, now()) END, \
                 updated_at = now() \
             WHERE user_id = $1 AND content_id = $2 \
             RETURNING * \
         ) {}",
        item_select("upd")
    );
    let (set_notes, notes) = match &c.notes {
        Some(n) => (true, n.clone()),
        None => (false, None),
    };
    sqlx::query_as(&sql)
        .bind(c.user_id)
        .bind(c.content_id)
        .bind(c.status)
        .bind(c.priority)
        .bind(set_notes)
        .bind(notes)
        .fetch_optional(pool)
        .await
}

/// Removes an item; false when the user had none for this title.
pub async fn delete_item(pool: &PgPool, user_id: Uuid, content_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM watchlist WHERE user_id = $1 AND content_id = $2")
        .bind(user_id)
        .bind(content_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The SQL direction of a list: descending by default, ascending the exact mirror (every key, tie-breakers
/// included, reversed), so page `offset` of one is page `total - offset - limit` of the other, reversed.
fn direction(ascending: bool) -> &'static str {
    if ascending { "ASC" } else { "DESC" }
}

/// One page of the watchlist and the total matching the filter.
pub async fn list_items(pool: &PgPool, q: &WatchlistQuery) -> sqlx::Result<(Vec<ItemRow>, i64)> {
    let dir = direction(q.ascending);
    let order = match q.sort {
        Sort::Added => format!("w.added_at {dir}, w.id {dir}"),
        Sort::Priority => format!("w.priority {dir}, w.added_at {dir}, w.id {dir}"),
    };
    let filter = "w.user_id = $1 AND ($2::text IS NULL OR w.status = $2)";
    let sql = format!("{} WHERE {filter} ORDER BY {order} LIMIT $3 OFFSET $4", item_select("watchlist"));
    let rows = sqlx::query_as(&sql)
        .bind(q.user_id)
        .bind(q.status)
        .bind(q.page.limit)
        .bind(q.page.offset)
        .fetch_all(pool)
        .await?;
    let total = sqlx::query_scalar(&format!("SELECT count(*) FROM watchlist w WHERE {filter}"))
        .bind(q.user_id)
        .bind(q.status)
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}

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
    pub content: SummaryColumns,
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
fn entry_select(source: &str, extra: &str) -> String {
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
pub async fn record_view(pool: &PgPool, v: &View) -> sqlx::Result<(EntryRow, bool)> {
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
pub async fn list_entries(pool: &PgPool, q: &HistoryQuery) -> sqlx::Result<(Vec<EntryRow>, i64)> {
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
pub async fn delete_entry(pool: &PgPool, user_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM viewing_history WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every watchlist item and history row of the user (for the export).
pub async fn everything(pool: &PgPool, user_id: Uuid) -> sqlx::Result<(Vec<ItemRow>, Vec<EntryRow>)> {
    let items = sqlx::query_as(&format!(
        "{} WHERE w.user_id = $1 ORDER BY w.added_at DESC, w.id DESC",
        item_select("watchlist")
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let entries = sqlx::query_as(&format!(
        "{} WHERE h.user_id = $1 ORDER BY h.viewed_at DESC, h.id DESC",
        entry_select("viewing_history", "")
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok((items, entries))
}

/// Deletes every watchlist item and history row of the user through `conn` (the caller's transaction);
/// answers (watchlist rows, history rows) deleted.
pub async fn erase_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<(u64, u64)> {
    let watchlist = sqlx::query("DELETE FROM watchlist WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let history =
        sqlx::query("DELETE FROM viewing_history WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok((watchlist.rows_affected(), history.rows_affected()))
}

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
pub async fn seen(pool: &PgPool, user_id: Uuid) -> sqlx::Result<Vec<SeenRow>> {
    sqlx::query_as(
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
    .await
}
