//! The catalogue's rows read back from its database, for the catalogue's own tests and the tests of what
//! writes into it (the ingest jobs).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;

/// An actor's row: what the sources (the IMDb dataset, TMDB) write, the quality flags and the scrape record.
#[derive(Debug, sqlx::FromRow)]
pub struct ActorRow {
    pub name: String,
    pub birth_year: Option<i16>,
    pub professions: Vec<String>,
    pub known_for_imdb_ids: Vec<String>,
    pub tmdb_id: Option<i32>,
    pub birth_date: Option<NaiveDate>,
    pub biography: Option<String>,
    pub profile_image_url: Option<String>,
    pub has_valid_photo: bool,
    pub has_birth_date: bool,
    pub has_bio: bool,
    pub has_complete_filmography: bool,
    pub scrape_source: Option<String>,
    pub last_scraped_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl ActorRow {
    /// The row of the actor with `imdb_id`; panics when there is none.
    pub async fn fetch(pool: &PgPool, imdb_id: &str) -> Self {
        sqlx::query_as(
            "SELECT name, birth_year, professions, known_for_imdb_ids, tmdb_id, birth_date, biography, \
                    profile_image_url, has_valid_photo, has_birth_date, has_bio, has_complete_filmography, \
                    scrape_source, last_scraped_at, updated_at FROM actors WHERE imdb_id = $1",
        )
        .bind(imdb_id)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("actor {imdb_id}: {e}"))
    }
}
