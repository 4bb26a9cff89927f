//! `iknow bench`: generate a large synthetic IMDb dataset, then measure search and get-actor through the
//! gateway beside the specification's plain PostgreSQL full-text query on the same data.
//!
//! Sequence: `iknow bench generate --dir DIR`, `iknow import imdb DIR`, start the platform (`iknow up
//! --no-import`), `iknow bench run`. `iknow bench auth` measures authentication on any running platform;
//! `iknow bench insights` "where do I know them from" for a user with a long history on the imported catalogue;
//! `iknow bench import` import throughput (bulk first load against batches) into scratch databases;
//! `iknow bench series` a generated 1,000-episode series: its page and identification by its characters.

mod auth;
mod generate;
mod import;
mod insights;
mod load;
mod queries;
mod series;
pub(crate) mod stats;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use reqwest::Url;
use sqlx::postgres::PgPoolOptions;

use self::load::Stop;
use self::queries::QueryKind;
use self::stats::{Ratios, Summary};

/// Options of `iknow bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Write a synthetic IMDb dataset (name.basics, title.basics, title.principals TSV files).
    Generate(GenerateArgs),
    /// Measure a running platform (gateway) and PostgreSQL full-text search on the imported data.
    Run(RunArgs),
    /// Measure argon2id, login throughput and the per-request cost of JWT verification on a running platform.
    Auth(auth::AuthArgs),
    /// Measure familiar faces and known-from for a user with a long history, against a plain title read.
    Insights(insights::InsightsArgs),
    /// Measure import throughput of a generated dataset (bulk first load vs batches) into fresh databases.
    Import(import::ImportArgs),
    /// Measure a long series (its aggregated cast, identification by series character) against an episode read.
    Series(series::SeriesArgs),
}

/// The running platform a scenario bench writes its data into and measures.
#[derive(Debug, Args)]
pub(crate) struct Platform {
    /// Base URL of the gateway (started with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    gateway: String,
    /// gRPC URL of the actor catalogue (the bench's titles are written through UpsertBatch).
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    catalog: String,
    /// The catalogue's database (to sample actors and titles).
    #[arg(
        long,
        env = "IKNOW__CATALOG__DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/iknow_catalog"
    )]
    database_url: String,
}

impl Platform {
    /// The gateway's base URL and a small pool on the catalogue's database.
    async fn open(&self) -> anyhow::Result<(Url, sqlx::PgPool)> {
        let base = Url::parse(&self.gateway).context("--gateway is not a URL")?;
        let pool =
            PgPoolOptions::new().max_connections(2).connect(&self.database_url).await.context("catalogue database")?;
        Ok((base, pool))
    }
}

/// A tag of this run (the last 8 hex digits of a UUID v7) in the names of what it writes, so runs do not meet.
fn run_tag() -> String {
    let run = uuid::Uuid::now_v7().simple().to_string();
    run[run.len() - 8..].to_owned()
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    dir: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    actors: u64,
    #[arg(long, default_value_t = 300_000)]
    titles: u64,
    /// Acting credits in total; every actor gets at least one.
    #[arg(long, default_value_t = 3_000_000)]
    credits: u64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// IMDb sample whose names (name.basics.tsv) and title words (title.basics.tsv) are recombined.
    #[arg(long, default_value = "data/sample/imdb")]
    names: PathBuf,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Base URL of the gateway.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    gateway: String,
    /// The catalogue's database (for the pg-fts scenario and to sample actors).
    #[arg(
        long,
        env = "IKNOW__CATALOG__DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/iknow_catalog"
    )]
    database_url: String,
    /// Requests in flight at once (pg-fts uses at most 8 connections).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 20)]
    duration_secs: u64,
    /// Unmeasured seconds of search before measuring.
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    /// Actors sampled to build queries and get-actor ids.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Runs the benchmark.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Generate(a) => generate_cmd(a),
        BenchCommand::Run(a) => run_cmd(a).await,
        BenchCommand::Auth(a) => auth::run(a).await,
        BenchCommand::Insights(a) => insights::run(a).await,
        BenchCommand::Series(a) => series::run(a).await,
        BenchCommand::Import(a) => import::run(a).await,
    }
}

fn generate_cmd(a: GenerateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let pool = generate::NamePool::load(&a.names)?;
    let spec = generate::Spec { actors: a.actors, titles: a.titles, credits: a.credits, seed: a.seed };
    println!(
        "generating {} actors, {} titles, {} credits into {} ({} first names, {} last names)",
        a.actors,
        a.titles,
        a.credits,
        a.dir.display(),
        pool.firsts.len(),
        pool.lasts.len()
    );
    let w = generate::generate(&a.dir, &spec, &pool)?;
    println!(
        "wrote {} actors, {} titles, {} credits in {:.1}s; next: iknow import imdb {}",
        w.actors,
        w.titles,
        w.credits,
        started.elapsed().as_secs_f64(),
        a.dir.display()
    );
    Ok(())
}

async fn run_cmd(a: RunArgs) -> anyhow::Result<()> {
    let base = Url::parse(&a.gateway).context("--gateway is not a URL")?;
    let search_url = base.join("api/v1/actors/search")?;
    let pg_concurrency = a.concurrency.clamp(1, 8);
    let pool = PgPoolOptions::new()
        .max_connections(pg_concurrency as u32)
        .connect(&a.database_url)
        .await
        .context("connecting to the catalogue database")?;
    let samples = queries::sample_actors(&pool, a.queries, a.seed).await?;
    let workload = Arc::new(queries::build(&samples, a.seed));
    println!("{} actors sampled, {} queries", samples.len(), workload.len());
    let client = load::http_client(a.concurrency)?;
    let duration = Duration::from_secs(a.duration_secs);

    let search_urls: Vec<Url> = workload
        .iter()
        .map(|q| {
            let mut u = search_url.clone();
            u.query_pairs_mut().append_pair("q", &q.text).append_pair("limit", "20");
            u
        })
        .collect();
    let search_urls = Arc::new(search_urls);
    println!("warming up search for {}s...", a.warmup_secs);
    let warm = load::get_urls(client.clone(), search_urls.clone());
    load::closed_loop("warmup", a.concurrency, Stop::After(Duration::from_secs(a.warmup_secs)), warm).await;
    println!("search: {} tasks for {}s...", a.concurrency, a.duration_secs);
    let search =
        load::closed_loop("search", a.concurrency, Stop::After(duration), load::get_urls(client.clone(), search_urls))
            .await;

    let actor_urls: Vec<Url> =
        samples.iter().map(|s| base.join(&format!("api/v1/actors/{}", s.id))).collect::<Result<_, _>>()?;
    let actor_urls = Arc::new(actor_urls);
    let passes = Stop::Requests(actor_urls.len() as u64);
    load::closed_loop("warmup", a.concurrency, passes, load::get_urls(client.clone(), actor_urls.clone())).await;
    println!("get-actor (warm): {} tasks for {}s...", a.concurrency, a.duration_secs);
    let get_actor = load::closed_loop(
        "get-actor",
        a.concurrency,
        Stop::After(duration),
        load::get_urls(client.clone(), actor_urls),
    )
    .await;

    println!("pg-fts: {pg_concurrency} connections for {}s...", a.duration_secs);
    let pg = {
        let (pool, workload) = (pool.clone(), workload.clone());
        load::closed_loop("pg-fts", pg_concurrency, Stop::After(duration), move |i| {
            let (pool, workload) = (pool.clone(), workload.clone());
            async move { load::pg_search(&pool, &workload[(i as usize) % workload.len()].text).await.is_ok() }
        })
        .await
    };

    let (gw_quality, pg_quality) = typo_quality(&client, &search_url, &pool, &workload).await;
    report(&[search, get_actor, pg], gw_quality, pg_quality);
    Ok(())
}

/// Fraction of one-typo queries whose intended actor is the first hit: (gateway, PostgreSQL). A failed
/// request counts as a miss, so one error does not lose the measurements already made.
async fn typo_quality(
    client: &reqwest::Client,
    search_url: &Url,
    pool: &sqlx::PgPool,
    workload: &[queries::BenchQuery],
) -> (Quality, Quality) {
    let (mut gw, mut pg) = (Quality::default(), Quality::default());
    for q in workload.iter().filter(|q| q.kind == QueryKind::Typo) {
        let Some(intended) = &q.intended else { continue };
        let top = load::gateway_top_name(client, search_url, &q.text).await.ok().flatten();
        gw.add(top.as_deref() == Some(intended.as_str()));
        let names = load::pg_search(pool, &q.text).await.map(|(names, _)| names).unwrap_or_default();
        pg.add(names.first() == Some(intended));
    }
    (gw, pg)
}

#[derive(Debug, Default, Clone, Copy)]
struct Quality {
    hits: u64,
    total: u64,
}

impl Quality {
    fn add(&mut self, hit: bool) {
        self.total += 1;
        self.hits += u64::from(hit);
    }
    fn percent(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.hits as f64 * 100.0 / self.total as f64 }
    }
}

/// The line on one-typo quality: the intended actor first, gateway against PostgreSQL.
fn quality_line(gw: Quality, pg: Quality) -> String {
    format!(
        "one-typo queries with the intended actor first: gateway {:.1}% vs pg-fts {:.1}% ({} queries)",
        gw.percent(),
        pg.percent(),
        gw.total
    )
}

/// The targets of `bench run`, each PASS or FAIL: search p99 <= 25 ms at >= 1,500 req/s, warm get-actor
/// p99 <= 5 ms.
fn targets(search: &Summary, get_actor: &Summary) -> [String; 2] {
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    [
        format!(
            "search p99 <= 25 ms at >= 1,500 req/s: {} ({:.2} ms, {:.0} req/s)",
            verdict(search.p99_ms <= 25.0 && search.throughput() >= 1500.0),
            search.p99_ms,
            search.throughput()
        ),
        format!("get-actor warm p99 <= 5 ms: {} ({:.2} ms)", verdict(get_actor.p99_ms <= 5.0), get_actor.p99_ms),
    ]
}

fn report(rows: &[Summary], gw: Quality, pg: Quality) {
    println!("\n{}", stats::table(rows));
    let ratios = Ratios::of(&rows[0], &rows[2]);
    if let Some(r) = &ratios {
        println!("{}", stats::ratios_line(r));
    }
    let quality = quality_line(gw, pg);
    println!("{quality}");
    let targets = targets(&rows[0], &rows[1]);
    for t in &targets {
        println!("{t}");
    }
    println!("\nMarkdown:\n\n{}", stats::markdown(rows));
    if let Some(r) = &ratios {
        println!("{}\n", stats::ratios_line(r));
    }
    println!("{quality}\n");
    for t in &targets {
        println!("- {t}");
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;

    /// A scenario with `requests` answered in one second at `p99_ms`.
    fn summary(requests: u64, p99_ms: f64) -> Summary {
        Summary {
            scenario: "s".into(),
            concurrency: 8,
            requests,
            errors: 0,
            elapsed: Duration::from_secs(1),
            p50_ms: p99_ms / 2.0,
            p95_ms: p99_ms,
            p99_ms,
            max_ms: p99_ms,
        }
    }

    #[test]
    fn quality_is_the_share_of_hits_and_nothing_measured_is_zero() {
        let mut q = Quality::default();
        assert_eq!(q.percent(), 0.0);
        for hit in [true, false, true, true] {
            q.add(hit);
        }
        assert_eq!((q.hits, q.total, q.percent()), (3, 4, 75.0));
        let mut pg = Quality::default();
        pg.add(false);
        assert_eq!(
            quality_line(q, pg),
            "one-typo queries with the intended actor first: gateway 75.0% vs pg-fts 0.0% (4 queries)"
        );
    }

    #[test]
    fn search_passes_at_25_ms_and_1500_requests_per_second_and_get_actor_at_5_ms() {
        let pass = |t: &str| t.contains(": PASS (");
        let [search, actor] = targets(&summary(1500, 25.0), &summary(10, 5.0));
        assert_eq!(search, "search p99 <= 25 ms at >= 1,500 req/s: PASS (25.00 ms, 1500 req/s)");
        assert_eq!(actor, "get-actor warm p99 <= 5 ms: PASS (5.00 ms)");
        let [search, actor] = targets(&summary(1499, 1.0), &summary(10, 5.01));
        assert!(!pass(&search) && search.contains("FAIL (1.00 ms, 1499 req/s)"), "{search}");
        assert!(!pass(&actor), "{actor}");
        let [search, _] = targets(&summary(100_000, 25.01), &summary(0, 0.0));
        assert!(!pass(&search), "{search}");
        let [search, actor] = targets(&summary(0, 0.0), &summary(0, 0.0));
        assert!(!pass(&search), "no requests is no throughput: {search}");
        assert!(pass(&actor), "the get-actor target is on latency alone: {actor}");
    }
}
