//! All of one user's rows at once: the export and the erasure.

use iknow_common::Error;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::history::{EntryRow, entry_select};
use super::watchlist::{ItemRow, item_select};

/// Every watchlist item and history row of the user (for the export).
pub async fn everything(pool: &PgPool, user_id: Uuid) -> Result<(Vec<ItemRow>, Vec<EntryRow>), Error> {
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

/// Erases every watchlist item and history row of the user (and, by cascade, the idempotency keys that recorded
/// those rows) in one transaction; answers (watchlist rows, history rows) deleted. With a `message_id` (of the
/// `user.deleted` event asking for it), the id is recorded in `processed_events` in the same transaction, and
/// `None` answers a message already processed (nothing is deleted). Without one the deletion always runs (it is
/// idempotent by nature).
pub async fn erase(pool: &PgPool, user_id: Uuid, message_id: Option<&str>) -> Result<Option<(u64, u64)>, Error> {
    let mut tx = pool.begin().await?;
    if let Some(id) = message_id {
        let fresh = sqlx::query("INSERT INTO processed_events (message_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await?;
            return Ok(None);
        }
    }
    let counts = delete_rows(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Some(counts))
}

/// Deletes the user's watchlist items and history rows through `conn` (the caller's transaction).
async fn delete_rows(conn: &mut PgConnection, user_id: Uuid) -> Result<(u64, u64), Error> {
    let watchlist = sqlx::query("DELETE FROM watchlist WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let history =
        sqlx::query("DELETE FROM viewing_history WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok((watchlist.rows_affected(), history.rows_affected()))
}
