//! `iknow bench import`: import throughput of a generated IMDb dataset into a fresh catalogue, the credits
//! through the bulk first load, against the same import batch by batch (`UpsertBatch`) on a smaller dataset of
//! the same shape in the same run (the batch path on 10M credits would take half an hour).
//!
//! Each run gets a fresh database and an in-process actor-catalog; the importer is a child process
//! (`iknow import imdb --direct`), so the importer's peak memory (its VmHWM) and the catalogue's (this
//! process's, reset between runs; it holds the search index of every name and title) are printed apart.
//! PostgreSQL's own memory is the server's and not counted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::generate;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A dataset from `iknow bench generate` (title.basics, name.basics, title.principals).
    #[arg(long)]
    dir: PathBuf,
    /// PostgreSQL server of the scratch databases (one per run, dropped afterwards).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    server: String,
    /// Redis of the catalogue's cache (keys under a fresh prefix).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// The baseline dataset is this many times smaller than --dir's (same shape: actors, titles, credits).
    #[arg(long, default_value_t = 20)]
    baseline_scale: u64,
    /// Skip the baseline runs.
    #[arg(long)]
    no_baseline: bool,
    /// Credits per StageCredits call.
    #[arg(long, default_value_t = 20_000)]
    bulk_chunk: usize,
    /// Rows per UpsertBatch call (names, titles, and the baseline's credits).
    #[arg(long, default_value_t = 10_000)]
    batch_size: usize,
    /// IMDb sample the baseline's names are drawn from.
    #[arg(long, default_value = "data/sample/imdb")]
    names: PathBuf,
}

use crate::import::peak_mib;

/// Starts a new peak (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct RunResult {
    credits: u64,
    rows: u64,
    total: Duration,
    credits_phase: Duration,
    peak_mib: f64,
}

fn count_lines(path: &Path) -> u64 {
    use std::io::BufRead;
    std::fs::File::open(path).map(|f| std::io::BufReader::new(f).lines().count() as u64).unwrap_or(0)
}

async fn one_run(a: &ImportArgs, dir: &Path, bulk: bool, label: &str) -> anyhow::Result<RunResult> {
    let name =
        format!("iknow_bench_import_{}_{}", std::process::id(), label.replace(|c: char| !c.is_alphanumeric(), "_"));
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", a.server)).await.context("connecting to PostgreSQL")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin).await?;
    let url = format!("{}/{name}", a.server);
    let mut config = actor_catalog::config_for_tests(&url, &a.redis, &format!("bench-import-{name}:"));
    config.database_max_connections = 8;
    let app = actor_catalog::Application::build(config).await.context("starting the catalogue")?;
    let catalog_url = format!("http://{}", app.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    // The importer is a child process (`iknow import imdb --direct`), so its memory is measured apart from the
    // catalogue's (this process, which also holds the search index of every name and title).
    reset_peak();
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.args(["import", "imdb", "--direct", "--catalog", &catalog_url, "--bulk-chunk", &a.bulk_chunk.to_string()])
        .args(["--batch-size", &a.batch_size.to_string()])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    if !bulk {
        cmd.arg("--no-bulk");
    }
    let out = cmd.output().await.context("running iknow import imdb --direct")?;
    let total = started.elapsed();
    let catalogue_peak = peak_mib();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(out.status.success(), "the import failed:\n{text}");
    let number_after = |prefix: &str, line: &str| -> Option<f64> {
        let rest = line.split(prefix).nth(1)?;
        rest.trim_start().split(|c: char| !(c.is_ascii_digit() || c == '.')).next()?.parse().ok()
    };
    let credits_began = text
        .lines()
        .find(|l| l.starts_with("pass title.principals.tsv began"))
        .and_then(|l| number_after("began at", l))
        .context("no principals pass in the import's output")?;
    let importer_peak = text.lines().find_map(|l| number_after("peak memory", l)).unwrap_or(0.0);
    let field = |line: &str, name: &str| number_after(name, line).unwrap_or(0.0) as u64;
    let report_lines: Vec<&str> =
        text.lines().filter(|l| l.trim_start().starts_with("title.") || l.trim_start().starts_with("name.")).collect();
    let principals = report_lines
        .iter()
        .find(|l| l.trim_start().starts_with("title.principals.tsv"))
        .context("no principals line in the import's report")?;
    let rows: u64 = report_lines.iter().map(|l| field(l, "read")).sum();
    let credits_phase = total.saturating_sub(Duration::from_secs_f64(credits_began));
    let result =
        RunResult { credits: field(principals, "written"), rows, total, credits_phase, peak_mib: importer_peak };
    println!(
        "{label:<28} {:>10} credits  {:>7.1}s total  {:>7.1}s credits phase  {:>9.0} credits/s  {:>9.0} rows/s  \
         importer peak {:>5.0} MiB  catalogue peak {:>6.0} MiB",
        result.credits,
        total.as_secs_f64(),
        credits_phase.as_secs_f64(),
        result.credits as f64 / credits_phase.as_secs_f64(),
        rows as f64 / total.as_secs_f64(),
        importer_peak,
        catalogue_peak
    );
    for line in &report_lines {
        println!("    {}", line.trim());
    }
    let _ = stop.send(());
    let _ = served.await;
    // The catalogue's background catch-up may still hold connections: force them out.
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await?;
    Ok(result)
}

pub async fn run(a: ImportArgs) -> anyhow::Result<()> {
    let principals = a.dir.join("title.principals.tsv");
    anyhow::ensure!(principals.is_file(), "{} has no title.principals.tsv (run iknow bench generate)", a.dir.display());
    let lines = count_lines(&principals).saturating_sub(1);
    let (actors, titles) = (
        count_lines(&a.dir.join("name.basics.tsv")).saturating_sub(1),
        count_lines(&a.dir.join("title.basics.tsv")).saturating_sub(1),
    );
    println!(
        "dataset {}: {lines} principals, {actors} names, {titles} titles; {} cores",
        a.dir.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut results = vec![];
    if !a.no_baseline {
        let scale = a.baseline_scale.max(1);
        let small = a.dir.join(format!("baseline-1-in-{scale}"));
        if !small.join("title.principals.tsv").is_file() {
            let pool = generate::NamePool::load(&a.names)?;
            let spec = generate::Spec {
                actors: (actors / scale).max(1),
                titles: (titles / scale).max(1),
                credits: (lines / scale).max(actors / scale).max(1),
                seed: 42,
            };
            generate::generate(&small, &spec, &pool)?;
        }
        let batch = one_run(&a, &small, false, &format!("1/{scale}: batches (baseline)")).await?;
        let bulk = one_run(&a, &small, true, &format!("1/{scale}: bulk load")).await?;
        let rate = |r: &RunResult| r.credits as f64 / r.credits_phase.as_secs_f64();
        println!(
            "same data, bulk vs batches: credits phase x{:.1} faster, whole import x{:.1} faster",
            rate(&bulk) / rate(&batch),
            batch.total.as_secs_f64() / bulk.total.as_secs_f64()
        );
        results.push(batch);
        results.push(bulk);
    }
    let full = one_run(&a, &a.dir, true, "full: bulk load").await?;
    let rate = full.credits as f64 / full.credits_phase.as_secs_f64();
    println!(
        "full dataset: {:.0} credits/s in the credits phase, {:.0} credits/s over the whole import ({} rows), peak {:.0} MiB (target >= 150,000 credits/s, < 500 MB)",
        rate,
        full.credits as f64 / full.total.as_secs_f64(),
        full.rows,
        full.peak_mib
    );
    if let Some(batch) = results.first() {
        println!(
            "credits/s vs the baseline's batches: x{:.1}",
            rate / (batch.credits as f64 / batch.credits_phase.as_secs_f64())
        );
    }
    Ok(())
}
