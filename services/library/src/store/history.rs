//! The viewing history: one row per (user, title, UTC day).

use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_proto::library::v1 as pb;
use sqlx::{PgConnection, PgPool};
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

/// What recording a view did.
#[derive(Debug)]
pub struct Recorded {
    pub entry: EntryRow,
    /// The view updated the row of the same user, title and UTC day (for a replay: what the first answer said).
    pub updated: bool,
    /// The idempotency key had already recorded a view: nothing changed, `entry` is the row it recorded.
    pub replayed: bool,
}

#[derive(sqlx::FromRow)]
struct EntryAndFlag {
    #[sqlx(flatten)]
    entry: EntryRow,
    updated: bool,
}

/// The view the user's `key` recorded, as its row stands now, with what its first answer said; `None` when
/// the key is unknown (never used, or its entry was deleted).
pub async fn replayed_view(pool: &PgPool, user_id: Uuid, key: &str) -> Result<Option<Recorded>, Error> {
    let sql = format!(
        "{} JOIN viewing_history_keys k ON k.entry_id = h.id \
         WHERE k.user_id = $1 AND k.idempotency_key = $2 AND h.user_id = $1",
        entry_select("viewing_history", ", k.updated")
    );
    let row: Option<EntryAndFlag> = sqlx::query_as(&sql).bind(user_id).bind(key).fetch_optional(pool).await?;
    Ok(row.map(|r| Recorded { entry: r.entry, updated: r.updated, replayed: true }))
}

/// Records a view.
///
/// A second view of the same title on the same UTC day updates that day's row:
/// - `viewed_at` becomes the later of the two, so the row says when the title was last watched that day
///   (a late-arriving report of an earlier view does not move it back);
/// - `duration`, `total_duration`, `completion_percentage`, `actor_id` and `context` take the new view's
///   values when it gives them, and keep the stored ones when it leaves them out. New values replace rather
///   than add up: players report the progress of the day so far (a resumed film reports 80% after 40%),
///   and replacing keeps a retried request from counting its minutes twice.
///
/// With an idempotency key, the view is recorded once per (user, key): a key already used answers the entry
/// it recorded ([`replayed_view`]; the caller may ask that first, as this does again only on a race). The
/// view and its key are written in one transaction, the key last with `ON CONFLICT DO NOTHING`: of two
/// concurrent recordings with one key, the second waits on the first's key and, once it commits, finds the
/// key taken, rolls its own view back and answers the first one's entry.
pub async fn record_view(pool: &PgPool, v: &View) -> Result<Recorded, Error> {
    // A key taken by a concurrent recording whose entry is deleted before we read it: record again (rare;
    // bounded so a pathological interleaving is an error rather than a loop).
    for _ in 0..3 {
        let mut tx = pool.begin().await?;
        let row = upsert_view(&mut tx, v).await?;
        let Some(key) = v.idempotency_key.as_deref() else {
            tx.commit().await?;
            return Ok(Recorded { entry: row.entry, updated: row.updated, replayed: false });
        };
        let kept = sqlx::query(
            "INSERT INTO viewing_history_keys (user_id, idempotency_key, entry_id, updated) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, idempotency_key) DO NOTHING",
        )
        .bind(v.user_id)
        .bind(key)
        .bind(row.entry.id)
        .bind(row.updated)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if kept {
            tx.commit().await?;
            return Ok(Recorded { entry: row.entry, updated: row.updated, replayed: false });
        }
        tx.rollback().await?;
        if let Some(first) = replayed_view(pool, v.user_id, key).await? {
            return Ok(first);
        }
    }
    Err(Error::internal(anyhow::anyhow!("an idempotency key kept changing hands while recording a view")))
}

/// The insert-or-update of the day's row, in the caller's transaction.
async fn upsert_view(conn: &mut PgConnection, v: &View) -> Result<EntryAndFlag, Error> {
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
    let row = sqlx::query_as(&sql)
        .bind(iknow_common::id::new())
        .bind(v.user_id)
        .bind(v.content_id)
        .bind(v.actor_id)
        .bind(v.viewed_at)
        .bind(v.duration)
        .bind(v.total_duration)
        .bind(v.completion_percentage)
        .bind(&v.context)
        .fetch_one(conn)
        .await?;
    Ok(row)
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

/// Deletes one history row of the user (and the idempotency keys that recorded it); false when the user has
/// no such row.
pub async fn delete_entry(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM viewing_history WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
