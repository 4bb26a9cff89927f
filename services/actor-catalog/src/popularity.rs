//! Popularity scores (0–100, two decimals) of titles and actors, from credits, votes and recency.
//!
//! - title = 100 × (0.6·min(1, log10(1 + votes) / 6) + 0.2·min(1, ln(1 + cast) / ln 51) + 0.2·recency(year))
//! - actor = 100 × (0.4·min(1, ln(1 + titles) / ln 51) + 0.4·min(1, log10(1 + Σ votes of their titles) / 7)
//!   + 0.2·recency(year of their latest credited title))
//! - recency(y) = clamp(1 − (current year − y) / 50, 0, 1), and 0 when the year is unknown.
//!
//! `votes` is `content.vote_count` (IMDb ratings; none counts as 0), `cast` the distinct actors credited in
//! the title, `titles` the distinct titles an actor is credited in. A million votes, 50 credited actors (or
//! titles) and a title of this year each reach their maximum (an actor's votes at ten million). Scores are
//! rounded half to even at two decimals and written, with `updated_at`, only when they differ.
//!
//! The SQL below and [`content_score`] / [`actor_score`] compute the same double-precision expression in
//! the same order, so the Rust functions are the formula's unit-testable mirror.

use std::time::Instant;

use chrono::Datelike as _;
use sqlx::PgConnection;
use uuid::Uuid;

const SERVICE: &str = "actor-catalog";

fn recency(year: Option<i32>, current_year: i32) -> f64 {
    match year {
        None => 0.0,
        Some(y) => (1.0 - f64::from(current_year - y) / 50.0).clamp(0.0, 1.0),
    }
}

fn round2(x: f64) -> f64 {
    (100.0 * x).round_ties_even() / 100.0
}

/// A title's score: `votes` (none is 0), `cast` distinct credited actors, `year` its release year.
pub fn content_score(votes: i64, cast: i64, year: Option<i32>, current_year: i32) -> f64 {
    let v = ((1.0 + votes.max(0) as f64).log10() / 6.0).min(1.0);
    let c = ((1.0 + cast.max(0) as f64).ln() / 51f64.ln()).min(1.0);
    round2(100.0 * (0.6 * v + 0.2 * c + 0.2 * recency(year, current_year)))
}

/// An actor's score: `titles` distinct credited titles, `votes` the sum of their votes, `latest_year` the
/// release year of the newest of them.
pub fn actor_score(titles: i64, votes: i64, latest_year: Option<i32>, current_year: i32) -> f64 {
    let c = ((1.0 + titles.max(0) as f64).ln() / 51f64.ln()).min(1.0);
    let v = ((1.0 + votes.max(0) as f64).log10() / 7.0).min(1.0);
    round2(100.0 * (0.4 * c + 0.4 * v + 0.2 * recency(latest_year, current_year)))
}

fn recency_sql(year: &str, current_year: &str) -> String {
    format!(
        "CASE WHEN {year} IS NULL THEN 0::float8 \
         ELSE GREATEST(0::float8, LEAST(1::float8, 1::float8 - ({current_year} - {year})::float8 / 50::float8)) END"
    )
}

fn round2_sql(x: &str) -> String {
    // round(float8) breaks ties to even, as f64::round_ties_even.
    format!("(round(100::float8 * ({x})) / 100::float8)::numeric(5,2)")
}

/// SQL of [`content_score`] over the expressions `votes`, `cast`, `year` and `current_year`.
pub(crate) fn content_sql(votes: &str, cast: &str, year: &str, current_year: &str) -> String {
    let v = format!("LEAST(1::float8, log(1::float8 + GREATEST({votes}, 0)::float8) / 6::float8)");
    let c = format!("LEAST(1::float8, ln(1::float8 + GREATEST({cast}, 0)::float8) / ln(51::float8))");
    let r = recency_sql(year, current_year);
    round2_sql(&format!("100::float8 * (0.6::float8 * {v} + 0.2::float8 * {c} + 0.2::float8 * {r})"))
}

/// SQL of [`actor_score`].
fn actor_sql(titles: &str, votes: &str, latest_year: &str, current_year: &str) -> String {
    let c = format!("LEAST(1::float8, ln(1::float8 + GREATEST({titles}, 0)::float8) / ln(51::float8))");
    let v = format!("LEAST(1::float8, log(1::float8 + GREATEST({votes}, 0)::float8) / 7::float8)");
    let r = recency_sql(latest_year, current_year);
    round2_sql(&format!("100::float8 * (0.4::float8 * {c} + 0.4::float8 * {v} + 0.2::float8 * {r})"))
}

/// The year recency counts from (UTC).
pub fn current_year() -> i32 {
    chrono::Utc::now().year()
}

/// `UPDATE content` of the titles `filter` keeps (an SQL condition on `x`; `cast_filter` the same on the
/// credits counted), with the current year in the parameter `year`.
fn contents_statement(filter: &str, cast_filter: &str, year: &str) -> String {
    let score = content_sql("COALESCE(x.vote_count, 0)", "COALESCE(k.cast_size, 0)", "x.release_year", year);
    format!(
        "UPDATE content AS c SET popularity_score = s.p, updated_at = now() \
         FROM (SELECT x.id, {score} AS p FROM content x \
               LEFT JOIN (SELECT content_id, count(DISTINCT actor_id) AS cast_size FROM filmography \
                          {cast_filter} GROUP BY content_id) k ON k.content_id = x.id \
               {filter}) AS s \
         WHERE c.id = s.id AND c.popularity_score IS DISTINCT FROM s.p"
    )
}

/// `UPDATE actors` of the actors `filter` keeps (`credit_filter`: of the credits read).
fn actors_statement(filter: &str, credit_filter: &str, year: &str) -> String {
    let score = actor_sql("COALESCE(t.titles, 0)", "COALESCE(t.votes, 0)", "t.latest", year);
    format!(
        "UPDATE actors AS a SET popularity_score = s.p, updated_at = now() \
         FROM (SELECT x.id, {score} AS p FROM actors x \
               LEFT JOIN (SELECT ac.actor_id, count(*) AS titles, \
                                 sum(GREATEST(COALESCE(c.vote_count, 0), 0)) AS votes, \
                                 max(c.release_year)::int4 AS latest \
                          FROM (SELECT DISTINCT actor_id, content_id FROM filmography {credit_filter}) ac \
                          JOIN content c ON c.id = ac.content_id \
                          GROUP BY ac.actor_id) t ON t.actor_id = x.id \
               {filter}) AS s \
         WHERE a.id = s.id AND a.popularity_score IS DISTINCT FROM s.p"
    )
}

/// Recomputes the scores of exactly these titles (their votes, year or cast changed).
pub(crate) async fn refresh_contents(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    sqlx::query(&contents_statement("WHERE x.id = ANY($1)", "WHERE content_id = ANY($1)", "$2::int4"))
        .bind(ids)
        .bind(current_year())
        .execute(&mut *conn)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "content_popularity", started);
    Ok(())
}

/// Recomputes the scores of exactly these actors (their credits changed).
pub(crate) async fn refresh_actors(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    sqlx::query(&actors_statement("WHERE x.id = ANY($1)", "WHERE actor_id = ANY($1)", "$2::int4"))
        .bind(ids)
        .bind(current_year())
        .execute(&mut *conn)
        .await?;
    iknow_common::metrics::record_db_query(SERVICE, "actor_popularity", started);
    Ok(())
}

/// The actors credited in `content_ids`.
async fn actors_of(conn: &mut PgConnection, content_ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    if content_ids.is_empty() {
        return Ok(vec![]);
    }
    sqlx::query_scalar("SELECT DISTINCT actor_id FROM filmography WHERE content_id = ANY($1) ORDER BY 1")
        .bind(content_ids)
        .fetch_all(&mut *conn)
        .await
}

/// Recomputes the scores of `content_ids` (titles whose votes, release year or cast changed), of `actor_ids`
/// (actors whose credits changed) and of every actor credited in `content_ids` (an actor's score reads their
/// titles' votes and years). Inside the caller's transaction; rows keep their `updated_at` unless their score
/// changes.
pub async fn refresh(conn: &mut PgConnection, actor_ids: &[Uuid], content_ids: &[Uuid]) -> sqlx::Result<()> {
    refresh_contents(conn, content_ids).await?;
    let mut actors = actors_of(conn, content_ids).await?;
    actors.extend_from_slice(actor_ids);
    actors.sort_unstable();
    actors.dedup();
    refresh_actors(conn, &actors).await
}

/// Recomputes every score of the catalogue, set-based (one statement per table), e.g. after a bulk load.
pub async fn refresh_all(conn: &mut PgConnection) -> sqlx::Result<()> {
    let started = Instant::now();
    sqlx::query(&contents_statement("", "", "$1::int4")).bind(current_year()).execute(&mut *conn).await?;
    iknow_common::metrics::record_db_query(SERVICE, "content_popularity_all", started);
    let started = Instant::now();
    sqlx::query(&actors_statement("", "", "$1::int4")).bind(current_year()).execute(&mut *conn).await?;
    iknow_common::metrics::record_db_query(SERVICE, "actor_popularity_all", started);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i32 = 2025;

    #[test]
    fn scores_stay_within_0_and_100() {
        assert_eq!(content_score(0, 0, None, NOW), 0.0);
        assert_eq!(actor_score(0, 0, None, NOW), 0.0);
        assert_eq!(content_score(1_000_000, 50, Some(NOW), NOW), 100.0);
        assert_eq!(content_score(i64::MAX, i64::MAX, Some(NOW + 3), NOW), 100.0);
        assert_eq!(actor_score(50, 10_000_000, Some(NOW), NOW), 100.0);
        assert_eq!(content_score(-5, -1, Some(1800), NOW), 0.0, "nonsense counts as nothing");
    }

    #[test]
    fn more_votes_credits_or_a_newer_title_never_lower_a_score() {
        let votes = [0, 1, 9, 10, 99, 1_000, 25_000, 999_999, 1_000_000, 5_000_000, 20_000_000];
        let credits = [0, 1, 2, 5, 10, 49, 50, 51, 200];
        let years = [None, Some(1900), Some(1975), Some(1976), Some(2000), Some(NOW), Some(NOW + 1)];
        for w in votes.windows(2) {
            for &c in &credits {
                for &y in &years {
                    assert!(content_score(w[0], c, y, NOW) <= content_score(w[1], c, y, NOW));
                    assert!(actor_score(c, w[0], y, NOW) <= actor_score(c, w[1], y, NOW));
                }
            }
        }
        for w in credits.windows(2) {
            for &v in &votes {
                assert!(content_score(v, w[0], Some(2000), NOW) <= content_score(v, w[1], Some(2000), NOW));
                assert!(actor_score(w[0], v, Some(2000), NOW) <= actor_score(w[1], v, Some(2000), NOW));
            }
        }
        for w in years.windows(2) {
            assert!(content_score(100, 3, w[0], NOW) <= content_score(100, 3, w[1], NOW));
            assert!(actor_score(3, 100, w[0], NOW) <= actor_score(3, 100, w[1], NOW));
        }
        assert!(content_score(1_000, 3, Some(2000), NOW) < content_score(100_000, 3, Some(2000), NOW), "strictly");
        assert!(actor_score(2, 0, None, NOW) < actor_score(20, 0, None, NOW), "strictly");
    }

    #[test]
    fn the_documented_weights() {
        // Votes alone: 0.6 × log10(1 + 999) / 6 = 0.2999… → 30.
        assert_eq!(content_score(999, 0, None, NOW), 30.0);
        // Recency alone: 25 years ago is half of 20.
        assert_eq!(content_score(0, 0, Some(NOW - 25), NOW), 10.0);
        // Fifty years ago or more counts nothing, unknown counts nothing.
        assert_eq!(content_score(0, 0, Some(NOW - 50), NOW), 0.0);
        // Fifty titles is the whole credits part of an actor.
        assert_eq!(actor_score(50, 0, None, NOW), 40.0);
        assert_eq!(actor_score(500, 0, None, NOW), 40.0);
        // Two decimals.
        let s = actor_score(7, 123_456, Some(1999), NOW);
        assert_eq!(s, (s * 100.0).round() / 100.0);
    }
}
