//! The watchlist: one row per (user, title).

use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_proto::library::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use super::{SUMMARY_COLUMNS, Summary, direction, time};
use crate::validate::{ItemChange, NewItem, Sort, WatchlistQuery};

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
    pub content: Summary,
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
pub(super) fn item_select(source: &str) -> String {
    format!(
        "SELECT w.id, w.status, w.priority, w.notes, w.added_at, w.updated_at, w.completed_at, {SUMMARY_COLUMNS} \
         FROM {source} w JOIN content_snapshot s ON s.content_id = w.content_id"
    )
}

/// Adds an item; `None` when the user already has this title on the watchlist.
pub async fn insert_item(pool: &PgPool, item: &NewItem) -> Result<Option<ItemRow>, Error> {
    let sql = format!(
        "WITH ins AS ( \
             INSERT INTO watchlist (id, user_id, content_id, status, priority, notes, completed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'completed' THEN now() END) \
             ON CONFLICT (user_id, content_id) DO NOTHING \
             RETURNING * \
         ) {}",
        item_select("ins")
    );
    Ok(sqlx::query_as(&sql)
        .bind(iknow_common::id::new())
        .bind(item.user_id)
        .bind(item.content_id)
        .bind(item.status)
        .bind(item.priority)
        .bind(&item.notes)
        .fetch_optional(pool)
        .await?)
}

/// One item of the user's watchlist, by title.
pub async fn item(pool: &PgPool, user_id: Uuid, content_id: Uuid) -> Result<Option<ItemRow>, Error> {
    let sql = format!("{} WHERE w.user_id = $1 AND w.content_id = $2", item_select("watchlist"));
    Ok(sqlx::query_as(&sql).bind(user_id).bind(content_id).fetch_optional(pool).await?)
}

/// Applies a change; `None` when the user has no such item. completed_at is set when the status becomes
/// completed (kept when it already was) and cleared when it leaves completed.
pub async fn update_item(pool: &PgPool, c: &ItemChange) -> Result<Option<ItemRow>, Error> {
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
    Ok(sqlx::query_as(&sql)
        .bind(c.user_id)
        .bind(c.content_id)
        .bind(c.status)
        .bind(c.priority)
        .bind(set_notes)
        .bind(notes)
        .fetch_optional(pool)
        .await?)
}

/// Removes an item; false when the user had none for this title.
pub async fn delete_item(pool: &PgPool, user_id: Uuid, content_id: Uuid) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM watchlist WHERE user_id = $1 AND content_id = $2")
        .bind(user_id)
        .bind(content_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// One page of the watchlist and the total matching the filter.
pub async fn list_items(pool: &PgPool, q: &WatchlistQuery) -> Result<(Vec<ItemRow>, i64), Error> {
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
