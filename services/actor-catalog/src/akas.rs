//! The IMDb ratings and alternate titles of an `UpsertBatch`: ratings into `content.rating` / `vote_count`,
//! akas into `content_akas`. Both name titles by IMDb id and only titles already catalogued (an unknown one is
//! a rejected row, like an unknown episode), and both write (and count) only the rows that change.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use iknow_proto::catalog::v1::{AkaInput, RatingInput, RejectedRow};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::prepare::{self, AkaRow, RatingRow, reject};

const SERVICE: &str = "actor-catalog";

/// The ratings and akas of a batch, validated and de-duplicated before the transaction.
#[derive(Debug, Default)]
pub struct Prepared {
    ratings: Vec<RatingRow>,
    akas: Vec<AkaRow>,
}

impl Prepared {
    pub fn new(ratings: Vec<RatingInput>, akas: Vec<AkaInput>, rejected: &mut Vec<RejectedRow>) -> Self {
        Self { ratings: prepare::ratings(ratings, rejected), akas: prepare::akas(akas, rejected) }
    }
}

/// What [`write`] changed.
#[derive(Debug, Default)]
pub struct Written {
    /// Titles whose rating or vote count changed.
    pub ratings: usize,
    /// Akas inserted or changed.
    pub akas: usize,
    /// Every title whose rating or akas changed: their cached reads and search docs must refresh.
    pub contents: Vec<Uuid>,
}

/// Writes the ratings, then the akas, of titles the catalogue holds; the others become rejected rows.
pub async fn write(tx: &mut PgConnection, p: &Prepared, rejected: &mut Vec<RejectedRow>) -> sqlx::Result<Written> {
    if p.ratings.is_empty() && p.akas.is_empty() {
        return Ok(Written::default());
    }
    let wanted: Vec<&str> = p
        .ratings
        .iter()
        .map(|r| r.content_imdb_id.as_str())
        .chain(p.akas.iter().map(|a| a.content_imdb_id.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let known = resolve(tx, &wanted).await?;
    let rated = update_ratings(tx, &p.ratings, &known, rejected).await?;
    let aka_contents = upsert_akas(tx, &p.akas, &known, rejected).await?;
    let contents: BTreeSet<Uuid> = rated.iter().chain(&aka_contents).copied().collect();
    Ok(Written { ratings: rated.len(), akas: aka_contents.len(), contents: contents.into_iter().collect() })
}

/// IMDb id → id of the catalogued titles among `imdb_ids`.
async fn resolve(tx: &mut PgConnection, imdb_ids: &[&str]) -> sqlx::Result<HashMap<String, Uuid>> {
    let started = Instant::now();
    let rows: Vec<(String, Uuid)> = sqlx::query_as("SELECT imdb_id, id FROM content WHERE imdb_id = ANY($1)")
        .bind(imdb_ids)
        .fetch_all(&mut *tx)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "resolve_rated_contents", started);
    Ok(rows.into_iter().collect())
}

/// Returns the titles whose rating or vote count changed.
async fn update_ratings(
    tx: &mut PgConnection,
    rows: &[RatingRow],
    known: &HashMap<String, Uuid>,
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<Vec<Uuid>> {
    let mut valid: Vec<(Uuid, &RatingRow)> = Vec::with_capacity(rows.len());
    for r in rows {
        match known.get(&r.content_imdb_id) {
            Some(id) => valid.push((*id, r)),
            None => rejected.push(reject("rating", &r.content_imdb_id, "unknown title")),
        }
    }
    if valid.is_empty() {
        return Ok(vec![]);
    }
    valid.sort_by_key(|v| v.0);
    let started = Instant::now();
    let changed: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE content AS c SET rating = u.rating, vote_count = u.votes, updated_at = now() \
         FROM (SELECT id, (tenths::numeric / 10)::numeric(3,1) AS rating, votes \
               FROM UNNEST($1::uuid[], $2::int2[], $3::int4[]) AS x(id, tenths, votes)) AS u \
         WHERE c.id = u.id AND (c.rating, c.vote_count) IS DISTINCT FROM (u.rating, u.votes) \
         RETURNING c.id",
    )
    .bind(valid.iter().map(|v| v.0).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.tenths).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.votes).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    iknow_common::metrics::record_db_query(SERVICE, "update_ratings", started);
    Ok(changed)
}

/// Returns the title of each aka inserted or changed (once per aka).
async fn upsert_akas(
    tx: &mut PgConnection,
    rows: &[AkaRow],
    known: &HashMap<String, Uuid>,
    rejected: &mut Vec<RejectedRow>,
) -> sqlx::Result<Vec<Uuid>> {
    let mut valid: Vec<(Uuid, &AkaRow)> = Vec::with_capacity(rows.len());
    for a in rows {
        match known.get(&a.content_imdb_id) {
            Some(id) => valid.push((*id, a)),
            None => rejected.push(reject("aka", &format!("{}/{}", a.content_imdb_id, a.ordering), "unknown title")),
        }
    }
    if valid.is_empty() {
        return Ok(vec![]);
    }
    // Lock rows in one order whatever the batch order, so concurrent batches do not deadlock.
    valid.sort_by_key(|v| (v.0, v.1.ordering));
    let started = Instant::now();
    let written: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO content_akas AS a (content_id, ordering, title, region, language, types, is_original) \
         SELECT u.content_id, u.ordering, u.title, u.region, u.language, string_to_array(u.types, chr(31)), \
                u.is_original \
         FROM UNNEST($1::uuid[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              AS u(content_id, ordering, title, region, language, types, is_original) \
         ON CONFLICT (content_id, ordering) DO UPDATE SET \
             title = EXCLUDED.title, region = EXCLUDED.region, language = EXCLUDED.language, \
             types = EXCLUDED.types, is_original = EXCLUDED.is_original, updated_at = now() \
         WHERE (a.title, a.region, a.language, a.types, a.is_original) \
               IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.region, EXCLUDED.language, EXCLUDED.types, \
                                 EXCLUDED.is_original) \
         RETURNING a.content_id",
    )
    .bind(valid.iter().map(|v| v.0).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.ordering).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.title.as_str()).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.region.as_deref()).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.language.as_deref()).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.types.as_str()).collect::<Vec<_>>())
    .bind(valid.iter().map(|v| v.1.is_original).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    iknow_common::metrics::record_db_query(SERVICE, "upsert_akas", started);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use iknow_proto::catalog::v1::{AkaInput, RatingInput};

    use crate::prepare::{self, SEP};

    fn rating(imdb: &str, average: f64, votes: u32) -> RatingInput {
        RatingInput { content_imdb_id: imdb.into(), average_rating: average, num_votes: votes }
    }

    fn aka(imdb: &str, ordering: i32, title: &str) -> AkaInput {
        AkaInput { content_imdb_id: imdb.into(), ordering, title: title.into(), ..Default::default() }
    }

    #[test]
    fn ratings_are_tenths_of_zero_to_ten_sorted_and_last_one_wins() {
        let mut rejected = vec![];
        let rows = prepare::ratings(
            vec![
                rating("tt2", 7.3, 1200),
                rating("tt1", 10.0, 5),
                rating("tt2", 7.4, 1300),
                rating("tt3", 0.0, 0),
                rating("tt4", 10.1, 5),
                rating("tt5", -0.5, 5),
                rating("tt6", 7.25, 5),
                rating("tt7", f64::NAN, 5),
                rating("tt8", 5.0, u32::MAX),
                rating(" ", 5.0, 1),
            ],
            &mut rejected,
        );
        let got: Vec<(&str, i16, i32)> = rows.iter().map(|r| (r.content_imdb_id.as_str(), r.tenths, r.votes)).collect();
        assert_eq!(got, [("tt1", 100, 5), ("tt2", 74, 1300), ("tt3", 0, 0)]);
        let keys: Vec<&str> = rejected.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["tt4", "tt5", "tt6", "tt7", "tt8", ""]);
        assert!(rejected.iter().all(|r| r.kind == "rating"));
        assert!(rejected[0].reason.contains("0..=10"), "{rejected:?}");
        assert!(rejected[4].reason.contains("num_votes"), "{rejected:?}");
    }

    #[test]
    fn akas_are_keyed_by_title_and_ordering_and_invalid_ones_rejected() {
        let mut rejected = vec![];
        let mut de = aka("tt1", 2, " Das Boot ");
        de.region = "DE".into();
        de.language = "\\N".repeat(11);
        let mut original = aka("tt1", 1, "Le Boot");
        original.types = vec!["original".into(), " ".into(), "imdbDisplay".into()];
        original.is_original = true;
        let rows = prepare::akas(
            vec![
                aka("tt1", 2, "first, replaced"),
                aka("tt1", 2, "Das Boot"),
                original,
                aka("tt2", 0, "Zero"),
                aka("tt2", 1, "  "),
                aka("tt2", 2, &"x".repeat(501)),
                de,
            ],
            &mut rejected,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].ordering, rows[0].title.as_str(), rows[0].is_original), (1, "Le Boot", true));
        assert_eq!(rows[0].types, format!("original{SEP}imdbDisplay"));
        assert_eq!((rows[0].region.as_deref(), rows[0].language.as_deref()), (None, None));
        let keys: Vec<&str> = rejected.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["tt2/0", "tt2/1", "tt2/2", "tt1/2"], "{rejected:?}");
        assert!(rejected.iter().all(|r| r.kind == "aka"));
        // The invalid last "tt1/2" was refused: the valid one before it stays.
        assert_eq!(rows[1].title, "Das Boot");
    }
}
