//! Closed-loop load: a fixed number of tasks each sending its next request as soon as the previous one
//! answers, for a duration (or a number of requests), recording latencies; plus the three scenarios.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::{Client, Url};
use sqlx::{PgPool, Row};

use super::stats::{self, Summary};

/// When a closed loop stops.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    /// After this many requests in total (e.g. one pass over the ids to warm the caches).
    Requests(u64),
}

/// Runs `request(i)` (i = 0, 1, 2... shared by all tasks) from `concurrency` tasks until `stop`; a request
/// returning `false` counts as an error and its latency is not recorded.
pub async fn closed_loop<F, Fut>(name: &str, concurrency: usize, stop: Stop, request: F) -> Summary
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (request, next) = (request.clone(), next.clone());
        tasks.spawn(async move {
            let mut h = stats::histogram();
            let mut errors = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match stop {
                    Stop::Requests(n) if i >= n => break,
                    Stop::After(d) if started.elapsed() >= d => break,
                    _ => {}
                }
                let t = Instant::now();
                if request(i).await {
                    stats::record(&mut h, t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (h, errors)
        });
    }
    let mut all: Histogram<u64> = stats::histogram();
    let mut errors = 0;
    while let Some(done) = tasks.join_next().await {
        if let Ok((h, e)) = done {
            all.add(&h).ok();
            errors += e;
        } else {
            errors += 1;
        }
    }
    Summary::new(name, concurrency.max(1), &all, errors, started.elapsed())
}

/// A keep-alive HTTP client sized for `concurrency` connections.
pub fn http_client(concurrency: usize) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// GETs one of `urls` per request; success = a 2xx whose body was read completely.
pub fn get_urls(
    client: Client,
    urls: Arc<Vec<Url>>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> {
    get_urls_as(client, urls, None)
}

/// [`get_urls`], with `Authorization: Bearer <token>` when a token is given.
pub fn get_urls_as(
    client: Client,
    urls: Arc<Vec<Url>>,
    token: Option<String>,
) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> {
    move |i| {
        let mut request = client.get(urls[(i as usize) % urls.len()].clone());
        if let Some(t) = &token {
            request = request.bearer_auth(t);
        }
        Box::pin(async move {
            match request.send().await {
                Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
                Ok(resp) => {
                    let _ = resp.bytes().await;
                    false
                }
                Err(_) => false,
            }
        })
    }
}

/// The specification's PostgreSQL full-text page query.
pub const PG_PAGE: &str = "SELECT id, name, popularity_score, ts_rank(search_vector, plainto_tsquery('english', $1)) AS rank \
     FROM actors WHERE search_vector @@ plainto_tsquery('english', $1) ORDER BY rank DESC, popularity_score DESC LIMIT 20 OFFSET 0";
/// The specification's PostgreSQL full-text count query.
pub const PG_COUNT: &str = "SELECT count(*) FROM actors WHERE search_vector @@ plainto_tsquery('english', $1)";

/// Runs the page and the count queries for `text`; returns the page's names, best first.
pub async fn pg_search(pool: &PgPool, text: &str) -> Result<(Vec<String>, i64), sqlx::Error> {
    let rows = sqlx::query(PG_PAGE).bind(text).fetch_all(pool).await?;
    let total: i64 = sqlx::query_scalar(PG_COUNT).bind(text).fetch_one(pool).await?;
    let names = rows.iter().map(|r| r.try_get::<String, _>("name")).collect::<Result<_, _>>()?;
    Ok((names, total))
}

/// The name of the gateway's first search hit for `text` (`None` when there is none).
pub async fn gateway_top_name(client: &Client, search: &Url, text: &str) -> anyhow::Result<Option<String>> {
    let mut url = search.clone();
    url.query_pairs_mut().append_pair("q", text).append_pair("limit", "1");
    let body: serde_json::Value = client.get(url).send().await?.error_for_status()?.json().await?;
    Ok(body["data"][0]["name"].as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::fake_http;

    #[tokio::test]
    async fn a_closed_loop_sends_each_index_once_and_counts_failures_as_errors() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let s = closed_loop("count", 3, Stop::Requests(10), move |i| {
            record.lock().unwrap().push(i);
            async move { i % 3 != 0 }
        })
        .await;
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>(), "each request index once, shared by the tasks");
        assert_eq!((s.scenario.as_str(), s.concurrency, s.requests, s.errors), ("count", 3, 6, 4));

        let none = closed_loop("none", 0, Stop::After(Duration::ZERO), |_| async { true }).await;
        assert_eq!((none.concurrency, none.requests, none.errors), (1, 0, 0), "at least one task, stopped at once");
    }

    #[tokio::test]
    async fn a_get_succeeds_on_a_2xx_and_sends_the_token_it_is_given() {
        let base = fake_http::serve(|r| match (r.path.as_str(), r.authorization.as_deref()) {
            ("/ok", _) => (200, json!({"ok": true})),
            ("/private", Some("Bearer t0k")) => (200, json!({})),
            ("/private", _) => (401, json!({"error": "unauthorized"})),
            _ => (500, json!({"error": "boom"})),
        })
        .await;
        let url = |path: &str| Url::parse(&format!("{base}{path}")).unwrap();
        let client = http_client(2).unwrap();
        let urls = Arc::new(vec![url("/ok"), url("/fail"), url("/private")]);
        let get = get_urls(client.clone(), urls.clone());
        assert_eq!((get(0).await, get(1).await, get(2).await, get(3).await), (true, false, false, true), "cycles");
        let get = get_urls_as(client.clone(), urls, Some("t0k".into()));
        assert!(get(2).await, "with the bearer token");
        let down = Url::parse(&format!("http://{}/ok", iknow_testkit::dead_addr().await)).unwrap();
        assert!(!get_urls(client, Arc::new(vec![down]))(0).await, "no answer is a failure");
    }

    #[tokio::test]
    async fn the_gateway_top_name_is_the_first_hit() {
        let base = fake_http::serve(|r| {
            assert_eq!(r.param("limit"), "1");
            match r.param("q") {
                "tom" => (200, json!({"data": [{"name": "Tom Hanks"}, {"name": "Tom Cruise"}]})),
                "boom" => (500, json!({"error": "boom"})),
                _ => (200, json!({"data": []})),
            }
        })
        .await;
        let client = http_client(1).unwrap();
        let search = Url::parse(&format!("{base}/api/v1/actors/search")).unwrap();
        assert_eq!(gateway_top_name(&client, &search, "tom").await.unwrap().as_deref(), Some("Tom Hanks"));
        assert_eq!(gateway_top_name(&client, &search, "nobody").await.unwrap(), None);
        assert!(gateway_top_name(&client, &search, "boom").await.is_err());
    }

    #[tokio::test]
    async fn the_postgres_full_text_search_ranks_and_counts_matches() {
        let db = iknow_testkit::TestDb::new().await;
        let pool = PgPool::connect(&db.url).await.unwrap();
        sqlx::query(
            "CREATE TABLE actors (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, \
             popularity_score double precision NOT NULL, \
             search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english', name)) STORED)",
        )
        .execute(&pool)
        .await
        .unwrap();
        for (name, popularity) in [("Tom Hanks", 10.0), ("Tom Holland", 50.0), ("Meryl Streep", 90.0)] {
            sqlx::query("INSERT INTO actors (name, popularity_score) VALUES ($1, $2)")
                .bind(name)
                .bind(popularity)
                .execute(&pool)
                .await
                .unwrap();
        }
        let (names, total) = pg_search(&pool, "tom").await.unwrap();
        assert_eq!((names, total), (vec!["Tom Holland".to_owned(), "Tom Hanks".to_owned()], 2), "ties by popularity");
        let (names, total) = pg_search(&pool, "tom hanks").await.unwrap();
        assert_eq!((names, total), (vec!["Tom Hanks".to_owned()], 1));
        assert_eq!(pg_search(&pool, "nobody").await.unwrap(), (vec![], 0));
        pool.close().await;
    }
}
