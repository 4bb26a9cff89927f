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
