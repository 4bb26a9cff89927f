//! `content_snapshot`: the catalogue's summary of every title the library has seen added or viewed, refreshed
//! by each add or view the catalogue answered ([`crate::catalog::Catalog::ensure_content`]), joined to every
//! listed row.

use iknow_common::Error;
use iknow_proto::library::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

/// The stored summary of one title.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Summary {
    pub content_id: Uuid,
    pub title: String,
    /// `movie`, `series`, `episode` (`unknown` when the catalogue gave no type).
    pub content_type: String,
    pub year: Option<i32>,
    pub poster_url: Option<String>,
    pub runtime_minutes: Option<i32>,
    pub series_id: Option<Uuid>,
    /// For an episode: its season and number in its series, when the catalogue knows them.
    pub season_number: Option<i32>,
    pub episode_number: Option<i32>,
}

impl From<Summary> for pb::ContentSummary {
    fn from(s: Summary) -> Self {
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

/// The columns of [`Summary`] from `content_snapshot s`.
pub(super) const SUMMARY_COLUMNS: &str = "s.content_id, s.title, s.content_type, s.year, s.poster_url, \
                                          s.runtime_minutes, s.series_id, s.season_number, s.episode_number";

/// Inserts or refreshes a title's summary.
pub async fn store_summary(pool: &PgPool, s: &Summary) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO content_snapshot \
             (content_id, title, content_type, year, poster_url, runtime_minutes, series_id, season_number, \
              episode_number, fetched_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) \
         ON CONFLICT (content_id) DO UPDATE SET title = EXCLUDED.title, content_type = EXCLUDED.content_type, \
             year = EXCLUDED.year, poster_url = EXCLUDED.poster_url, runtime_minutes = EXCLUDED.runtime_minutes, \
             series_id = EXCLUDED.series_id, season_number = EXCLUDED.season_number, \
             episode_number = EXCLUDED.episode_number, fetched_at = now()",
    )
    .bind(s.content_id)
    .bind(&s.title)
    .bind(&s.content_type)
    .bind(s.year)
    .bind(&s.poster_url)
    .bind(s.runtime_minutes)
    .bind(s.series_id)
    .bind(s.season_number)
    .bind(s.episode_number)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether a summary of the title is stored.
pub async fn is_stored(pool: &PgPool, content_id: Uuid) -> Result<bool, Error> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM content_snapshot WHERE content_id = $1)")
        .bind(content_id)
        .fetch_one(pool)
        .await?)
}
