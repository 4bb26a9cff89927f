//! `iknow bench insights`: "where do I know them from" at scale. On an imported catalogue it adds one title
//! with a cast of `--cast` sampled actors, registers a user whose history holds `--history` titles (first
//! every other title of those actors, then random ones), then measures through the gateway, in the same run:
//! the plain read of that title (the baseline: one catalogue call), its familiar faces, and known-from of its
//! cast, printing percentiles, throughput and the ratios to the baseline.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Args;
use futures::StreamExt;
use iknow_proto::catalog::v1 as pb;
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};
use uuid::Uuid;

use super::load::{self, Stop};
use super::stats::{self, Summary};

/// Options of `iknow bench insights`.
#[derive(Debug, Args)]
pub struct InsightsArgs {
    #[command(flatten)]
    platform: super::Platform,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 15)]
    duration_secs: u64,
    /// Distinct titles in the user's history.
    #[arg(long, default_value_t = 2000)]
    history: usize,
    /// Cast size of the bench title.
    #[arg(long, default_value_t = 100)]
    cast: usize,
}

/// A p99 target of the issue, in milliseconds.
const TARGET_P99_MS: f64 = 20.0;

pub async fn run(a: InsightsArgs) -> anyhow::Result<()> {
    let (base, pool) = a.platform.open().await?;
    let run = &super::run_tag();

    // The cast: actors with at least one credit.
    let cast: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT a.id, a.imdb_id FROM actors a WHERE a.imdb_id IS NOT NULL \
         AND EXISTS (SELECT 1 FROM filmography f WHERE f.actor_id = a.id) \
         ORDER BY md5(a.id::text || $1) LIMIT $2",
    )
    .bind(run)
    .bind(a.cast as i64)
    .fetch_all(&pool)
    .await?;
    if cast.len() < a.cast {
        bail!("the catalogue has only {} actors with credits: import the benchmark dataset first", cast.len());
    }
    let title_imdb = format!("tt9{run}");
    let credits = cast
        .iter()
        .enumerate()
        .map(|(i, (_, imdb))| pb::CreditInput {
            actor_imdb_id: imdb.clone(),
            content_imdb_id: title_imdb.clone(),
            category: "actor".into(),
            characters: vec![format!("Role {}", i + 1)],
            credit_order: i as i32 + 1,
        })
        .collect();
    let batch = pb::UpsertBatchRequest {
        contents: vec![pb::ContentInput {
            imdb_id: title_imdb.clone(),
            content_type: pb::ContentType::Movie as i32,
            title: format!("Bench Ensemble {run}"),
            original_title: format!("Bench Ensemble {run}"),
            year: Some(2024),
            runtime_minutes: Some(120),
            genres: vec!["Drama".into()],
            ..Default::default()
        }],
        credits,
        ..Default::default()
    };
    let mut catalog =
        ActorCatalogClient::connect(a.platform.catalog.clone()).await.context("connecting to the catalogue")?;
    let reply = catalog.upsert_batch(batch).await?.into_inner();
    anyhow::ensure!(reply.rejected.is_empty(), "the bench title was rejected: {:?}", reply.rejected);
    let title_id: Uuid =
        sqlx::query_scalar("SELECT id FROM content WHERE imdb_id = $1").bind(&title_imdb).fetch_one(&pool).await?;

    // The history: the cast's other titles first, then random ones.
    let actor_ids: Vec<Uuid> = cast.iter().map(|(id, _)| *id).collect();
    let mut titles: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT content_id FROM filmography WHERE actor_id = ANY($1) AND content_id <> $2 LIMIT $3",
    )
    .bind(&actor_ids)
    .bind(title_id)
    .bind(a.history as i64)
    .fetch_all(&pool)
    .await?;
    let from_cast = titles.len();
    if titles.len() < a.history {
        let more: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM content WHERE id <> ALL($1) AND id <> $2 AND content_type <> 'series' \
             ORDER BY md5(id::text || $3) LIMIT $4",
        )
        .bind(&titles)
        .bind(title_id)
        .bind(run)
        .bind((a.history - titles.len()) as i64)
        .fetch_all(&pool)
        .await?;
        titles.extend(more);
    }
    let client = load::http_client(a.concurrency)?;
    let username = format!("bench_insights_{run}");
    let password = "Bench-Passw0rd!";
    super::auth::register(&client, &base, &username, password).await?;
    let token = super::auth::login(&client, &base, &username, password).await?;
    println!(
        "recording {} views ({from_cast} of the cast's other titles) for one user, cast of {}...",
        titles.len(),
        cast.len()
    );
    record_history(&client, &base, &token, &titles).await?;

    let duration = Duration::from_secs(a.duration_secs);
    let title_url = Arc::new(vec![base.join(&format!("api/v1/content/{title_id}"))?]);
    let faces_url = Arc::new(vec![base.join(&format!("api/v1/content/{title_id}/familiar-faces"))?]);
    let known_urls: Arc<Vec<Url>> = Arc::new(
        actor_ids.iter().map(|id| base.join(&format!("api/v1/actors/{id}/known-from"))).collect::<Result<_, _>>()?,
    );
    let faces = familiar_count(&client, &faces_url[0], &token).await?;
    println!("the bench title has {faces} familiar faces for this user");
    let warm = load::get_urls_as(client.clone(), faces_url.clone(), Some(token.clone()));
    load::closed_loop("warmup", a.concurrency, Stop::Requests(200), warm).await;

    let mut rows: Vec<Summary> = Vec::new();
    for (name, urls, token) in [
        ("get-content (baseline)", title_url, None),
        ("familiar-faces", faces_url, Some(token.clone())),
        ("known-from", known_urls, Some(token.clone())),
    ] {
        println!("{name}: {} tasks for {}s...", a.concurrency, a.duration_secs);
        let request = load::get_urls_as(client.clone(), urls, token);
        rows.push(load::closed_loop(name, a.concurrency, Stop::After(duration), request).await);
    }
    let lines: Vec<String> = rows[1..].iter().map(|r| stats::verdict(r, &rows[0], TARGET_P99_MS)).collect();
    stats::print_report(&rows, &lines);
    Ok(())
}

/// Posts one view per title (8 at a time), spread over the last 80 days.
async fn record_history(client: &Client, base: &Url, token: &str, titles: &[Uuid]) -> anyhow::Result<()> {
    let url = base.join("api/v1/users/me/history")?;
    let now = Utc::now();
    let mut posts = futures::stream::iter(titles.iter().enumerate().map(|(i, id)| {
        let viewed = now - chrono::Duration::minutes((i as i64 * 57) % (80 * 24 * 60) + 1);
        let body = json!({"contentId": id, "viewedAt": viewed.to_rfc3339(), "duration": 45});
        let request = client.post(url.clone()).bearer_auth(token).json(&body);
        async move { request.send().await }
    }))
    .buffer_unordered(8);
    while let Some(answer) = posts.next().await {
        let resp = answer?;
        match resp.status() {
            StatusCode::CREATED | StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                bail!("the gateway rate-limits: start it with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false")
            }
            s => bail!("recording a view answered {s}: {}", resp.text().await.unwrap_or_default()),
        }
    }
    Ok(())
}

async fn familiar_count(client: &Client, url: &Url, token: &str) -> anyhow::Result<usize> {
    let body: Value = client.get(url.clone()).bearer_auth(token).send().await?.error_for_status()?.json().await?;
    Ok(body["data"]["faces"].as_array().map(Vec::len).unwrap_or_default())
}
