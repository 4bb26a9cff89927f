//! `iknow eval identify` and `iknow eval search`: labelled, seeded query sets made from an IMDb-format dataset
//! (by default the held-out set in `data/heldout`, which no test and no tuning reads), sent through the
//! gateway's REST API (`GET /api/v1/identify`, `GET /api/v1/actors/search`) from a few concurrent clients, and
//! reported per category: top-1 and top-5 accuracy, empty pages, latency percentiles, and whether the targets
//! are met.
//!
//! The platform must hold the dataset: the eval probes a few of its titles and people first and says how to
//! import it when they are missing (`--import` enqueues that import itself; importing twice writes nothing).

mod data;
mod identify;
mod mutate;
mod search;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use hdrhistogram::Histogram;
use iknow_search::matcher;

use self::data::{Dataset, Kind};
use crate::bench::stats;

/// Options of `iknow eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    command: EvalCommand,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Accuracy and latency of `GET /api/v1/identify`: film characters by title (exact, one typo, partial
    /// title, free text), a misspelt actor name, series characters by series title (alone, with season and
    /// episode, free text). Exits 2 when a target is missed.
    Identify(CommonArgs),
    /// Accuracy, empty pages and latency of `GET /api/v1/actors/search` on actor names: exact, lower case, word
    /// order, one typo by position and word length, two typos, a moved space, merged words, a cut last word,
    /// accents taken away or added. Exits 2 when a target is missed.
    Search(CommonArgs),
}

/// The held-out evaluation set as laid out in the repository.
pub const HELDOUT_RELATIVE: &str = "data/heldout";

#[derive(Debug, Args)]
struct CommonArgs {
    /// Base URL of the gateway (run it with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    gateway: String,
    /// IMDb-format dataset the queries are made from (default: data/heldout of the repository).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Other datasets the catalogue holds, only to leave out queries that land on their titles or names
    /// (default: data/sample/imdb of the repository).
    #[arg(long = "also-catalogued")]
    also: Vec<PathBuf>,
    /// Import the dataset through the ingest service first when the catalogue lacks it.
    #[arg(long)]
    import: bool,
    /// gRPC URL of the ingest service (--import; default: from the configuration's [ingest] grpc_addr).
    #[arg(long, env = "IKNOW_INGEST_URL")]
    ingest: Option<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Queries per category, at most.
    #[arg(long, default_value_t = 2000)]
    max_per_category: usize,
    /// Seed of the query set (the same seed and data give the same queries).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print this many missed queries per category (with what came first instead).
    #[arg(long, default_value_t = 0)]
    show_misses: usize,
    /// Also print the table as Markdown.
    #[arg(long)]
    markdown: bool,
}

/// Runs `iknow eval`; `Ok(false)` when a target was missed.
pub async fn run(args: EvalArgs) -> anyhow::Result<bool> {
    match args.command {
        EvalCommand::Identify(a) => evaluate(a, Eval::Identify).await,
        EvalCommand::Search(a) => evaluate(a, Eval::Search).await,
    }
}

/// Kinds of query, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    // identify
    FilmExact,
    FilmTypo,
    FilmPartial,
    FilmFreeText,
    ActorNameTypo,
    SeriesCharacter,
    SeriesEpisode,
    SeriesFreeText,
    // search
    Exact,
    LowerCase,
    WordOrder,
    TypoFirst,
    TypoMiddle,
    TypoLast,
    TypoShortWord,
    TypoLongWord,
    TwoTypos,
    MovedSpace,
    Merged,
    Prefix,
    AccentRemoved,
    AccentAdded,
}

/// Top-1 targets, p99 target and empty pages allowed when a word matches exactly.
const EXACT_TARGET: f64 = 99.9;
const TYPO_TARGET: f64 = 97.0;
const TWO_TYPOS_TARGET: f64 = 90.0;
const P99_TARGET_MS: f64 = 25.0;

impl Category {
    const IDENTIFY: [Self; 8] = [
        Self::FilmExact,
        Self::FilmTypo,
        Self::FilmPartial,
        Self::FilmFreeText,
        Self::ActorNameTypo,
        Self::SeriesCharacter,
        Self::SeriesEpisode,
        Self::SeriesFreeText,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::FilmExact => "film: exact (title + character)",
            Self::FilmTypo => "film: one typo (title or character)",
            Self::FilmPartial => "film: partial title",
            Self::FilmFreeText => "film: free text (\"who played X in Y\")",
            Self::ActorNameTypo => "actor name, one typo (q)",
            Self::SeriesCharacter => "series: character by series title",
            Self::SeriesEpisode => "series: character with season/episode",
            Self::SeriesFreeText => "series: free text (\"who played X in S\")",
            Self::Exact => "exact",
            Self::LowerCase => "lower case",
            Self::WordOrder => "word order (last word first)",
            Self::TypoFirst => "one typo: first letter",
            Self::TypoMiddle => "one typo: middle",
            Self::TypoLast => "one typo: last letter",
            Self::TypoShortWord => "one typo: word <= 4 letters",
            Self::TypoLongWord => "one typo: word >= 5 letters",
            Self::TwoTypos => "two typos",
            Self::MovedSpace => "moved space (\"ra yliotta\")",
            Self::Merged => "merged words (\"tomhanks\")",
            Self::Prefix => "prefix (last word cut)",
            Self::AccentRemoved => "accent: removed",
            Self::AccentAdded => "accent: added",
        }
    }

    /// Whether the category is one or two typos.
    fn is_typo(self) -> bool {
        matches!(
            self,
            Self::TypoFirst
                | Self::TypoMiddle
                | Self::TypoLast
                | Self::TypoShortWord
                | Self::TypoLongWord
                | Self::TwoTypos
        )
    }

    /// The top-1 target in percent, when the issue sets one.
    fn top1_target(self) -> Option<f64> {
        match self {
            Self::FilmExact
            | Self::SeriesCharacter
            | Self::SeriesEpisode
            | Self::Exact
            | Self::Prefix
            | Self::AccentRemoved
            | Self::AccentAdded => Some(EXACT_TARGET),
            Self::FilmTypo
            | Self::TypoFirst
            | Self::TypoMiddle
            | Self::TypoLast
            | Self::TypoShortWord
            | Self::TypoLongWord => Some(TYPO_TARGET),
            Self::TwoTypos => Some(TWO_TYPOS_TARGET),
            _ => None,
        }
    }
}

/// One labelled query: its parameters, what counts as right (actor IMDb ids for identify, normalised names for
/// search), and whether one of its words equals a word of the intended name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalQuery {
    pub category: Category,
    pub params: Vec<(&'static str, String)>,
    pub expected: Vec<String>,
    pub word_exact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eval {
    Identify,
    Search,
}

impl Eval {
    /// Its categories, in table order.
    fn categories(self) -> &'static [Category] {
        match self {
            Self::Identify => &Category::IDENTIFY,
            Self::Search => &search::CATEGORIES,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Identify => "/api/v1/identify",
            Self::Search => "/api/v1/actors/search",
        }
    }

    /// What a result is compared by, and a line describing it for misses.
    fn key_of(self, item: &serde_json::Value) -> (String, String) {
        match self {
            Self::Identify => (
                item["actor"]["imdbId"].as_str().unwrap_or_default().to_owned(),
                format!(
                    "{} ({}) in {} as {}, {}",
                    item["actor"]["name"],
                    item["actor"]["imdbId"],
                    item["content"]["title"],
                    item["role"]["roleName"],
                    item["confidence"]
                ),
            ),
            Self::Search => {
                let name = item["name"].as_str().unwrap_or_default();
                (matcher::normalize(name), format!("{name} ({})", item["imdbId"]))
            }
        }
    }
}

/// Candidates asked per query (top-5 is measured).
const TOP: usize = 5;

/// The outcome of one query.
#[derive(Debug, Clone)]
struct Outcome {
    rank: Option<usize>,
    empty: bool,
    /// The first result, for misses.
    first: Option<String>,
    latency: Duration,
    error: Option<String>,
}

async fn ask(client: &reqwest::Client, url: &str, eval: Eval, q: &EvalQuery) -> Outcome {
    let started = Instant::now();
    let mut params = q.params.clone();
    params.push(("limit", TOP.to_string()));
    let result = async {
        let r = client.get(url).query(&params).send().await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        anyhow::Ok((status, body))
    }
    .await;
    let latency = started.elapsed();
    match result {
        Ok((status, body)) => judge(eval, q, status, &body, latency),
        Err(e) => Outcome { rank: None, empty: false, first: None, latency, error: Some(format!("{e:#}")) },
    }
}

/// What the gateway's answer (`status`, `body`) to `q` says: where the first right result ranks, whether the
/// page was empty, or the error.
fn judge(
    eval: Eval,
    q: &EvalQuery,
    status: reqwest::StatusCode,
    body: &serde_json::Value,
    latency: Duration,
) -> Outcome {
    if !status.is_success() {
        return Outcome {
            rank: None,
            empty: false,
            first: None,
            latency,
            error: Some(format!("{status}: {}", body["error"])),
        };
    }
    let items: Vec<(String, String)> =
        body["data"].as_array().map(|d| d.iter().map(|i| eval.key_of(i)).collect()).unwrap_or_default();
    Outcome {
        rank: items.iter().position(|(k, _)| q.expected.contains(k)),
        empty: items.is_empty(),
        first: items.first().map(|(_, line)| line.clone()),
        latency,
        error: None,
    }
}

/// Sends every query from `concurrency` tasks; outcomes in query order.
async fn run_all(
    client: reqwest::Client,
    url: String,
    eval: Eval,
    queries: Arc<Vec<EvalQuery>>,
    concurrency: usize,
) -> Vec<Outcome> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, queries, next) = (client.clone(), url.clone(), queries.clone(), next.clone());
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(q) = queries.get(i) else { break };
                done.push((i, ask(&client, &url, eval, q).await));
            }
            done
        });
    }
    let mut all = Vec::with_capacity(queries.len());
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap_or_default());
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, o)| o).collect()
}

/// Accuracy, empty pages and latency of one category (or all).
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub category: Option<Category>,
    pub queries: usize,
    pub top1: usize,
    pub top5: usize,
    pub empty: usize,
    /// Queries with a word equal to a word of the intended name, and how many of them got an empty page.
    pub word_exact: usize,
    pub word_exact_empty: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl Row {
    fn new(name: &str, category: Option<Category>, of: &[(&EvalQuery, &Outcome)]) -> Self {
        let mut h: Histogram<u64> = stats::histogram();
        for (_, o) in of.iter().filter(|(_, o)| o.error.is_none()) {
            stats::record(&mut h, o.latency);
        }
        let s = stats::Summary::new(name, 1, &h, 0, Duration::ZERO);
        let count = |f: &dyn Fn(&EvalQuery, &Outcome) -> bool| of.iter().filter(|(q, o)| f(q, o)).count();
        Self {
            name: name.into(),
            category,
            queries: of.len(),
            top1: count(&|_, o| o.rank == Some(0)),
            top5: count(&|_, o| o.rank.is_some_and(|r| r < TOP)),
            empty: count(&|_, o| o.empty),
            word_exact: count(&|q, _| q.word_exact),
            word_exact_empty: count(&|q, o| q.word_exact && o.empty),
            errors: count(&|_, o| o.error.is_some()),
            p50_ms: s.p50_ms,
            p95_ms: s.p95_ms,
            p99_ms: s.p99_ms,
        }
    }

    pub fn top1_pct(&self) -> f64 {
        pct(self.top1, self.queries)
    }

    /// The targets this row misses, described.
    fn missed(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(t) = self.category.and_then(Category::top1_target)
            && self.top1_pct() < t
        {
            out.push(format!("{}: top-1 {:.2} % < {t} %", self.name, self.top1_pct()));
        }
        if self.word_exact_empty > 0 {
            out.push(format!(
                "{}: {} empty pages though a word matched exactly (target 0)",
                self.name, self.word_exact_empty
            ));
        }
        if self.category.is_some() && self.p99_ms > P99_TARGET_MS {
            out.push(format!("{}: p99 {:.2} ms > {P99_TARGET_MS} ms", self.name, self.p99_ms));
        }
        out
    }

    fn cells(&self) -> [String; 10] {
        let target = self.category.and_then(Category::top1_target).map_or(String::new(), |t| format!(">= {t}"));
        let word_exact = if self.word_exact == 0 {
            "-".to_owned()
        } else {
            format!("{}/{}", self.word_exact_empty, self.word_exact)
        };
        [
            self.name.clone(),
            self.queries.to_string(),
            format!("{:.2}", self.top1_pct()),
            format!("{:.2}", pct(self.top5, self.queries)),
            format!("{:.2}", pct(self.empty, self.queries)),
            word_exact,
            format!("{:.2}", self.p50_ms),
            format!("{:.2}", self.p95_ms),
            format!("{:.2}", self.p99_ms),
            target,
        ]
    }
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 }
}

const HEADERS: [&str; 10] = [
    "category",
    "queries",
    "top-1 %",
    "top-5 %",
    "empty %",
    "empty, a word exact",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "top-1 target",
];

/// The aligned table of every row.
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 10]> = rows.iter().map(Row::cells).collect();
    let width = |c: usize| cells.iter().map(|r| r[c].chars().count()).chain([HEADERS[c].len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..HEADERS.len()).map(width).collect();
    let mut out = String::new();
    let mut line =
        |row: &[String]| {
            let parts: Vec<String> =
                row.iter()
                    .enumerate()
                    .map(|(c, cell)| {
                        if c == 0 { format!("{cell:<w$}", w = widths[c]) } else { format!("{cell:>w$}", w = widths[c]) }
                    })
                    .collect();
            let _ = writeln!(out, "{}", parts.join("  ").trim_end());
        };
    line(&HEADERS.map(String::from));
    line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for r in &cells {
        line(r);
    }
    out
}

/// The same table in Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n|---|{}\n", HEADERS.join(" | "), "---:|".repeat(HEADERS.len() - 1));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.cells().join(" | "));
    }
    out
}

/// Whether the outcomes measure anything: not when every request failed, nor when the gateway rate-limited any.
fn usable(outcomes: &[Outcome]) -> anyhow::Result<()> {
    // The rate limit first: when it refused every request, its remedy is the message to show.
    if outcomes.iter().any(|o| o.error.as_deref().is_some_and(|e| e.starts_with("429"))) {
        bail!("the gateway rate-limited the eval: run the platform with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false");
    }
    if !outcomes.is_empty() && outcomes.iter().all(|o| o.error.is_some()) {
        bail!("every request failed, e.g. {}", outcomes[0].error.as_deref().unwrap_or_default());
    }
    Ok(())
}

/// One row per category that has queries, in table order, then the overall row.
fn rows(categories: &[Category], pairs: &[(&EvalQuery, &Outcome)]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &c in categories {
        let of: Vec<_> = pairs.iter().filter(|(q, _)| q.category == c).copied().collect();
        if !of.is_empty() {
            rows.push(Row::new(c.name(), Some(c), &of));
        }
    }
    rows.push(Row::new("overall", None, pairs));
    rows
}

/// `rel` under the working directory, else under the repository this binary was built from.
fn in_repository(rel: &str) -> Option<PathBuf> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    [PathBuf::from(rel), built_from].into_iter().find(|p| p.is_dir())
}

/// Searches `path` for `q` and says whether a result has IMDb id `id`.
async fn holds(client: &reqwest::Client, base: &str, path: &str, q: &str, id: &str) -> anyhow::Result<bool> {
    let r = client.get(format!("{base}{path}")).query(&[("q", q), ("limit", "50")]).send().await?;
    let status = r.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        bail!("{base} rate-limits searches: run the platform with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false");
    }
    anyhow::ensure!(status.is_success(), "{path}?q={q}: {status}");
    let body: serde_json::Value = r.json().await?;
    Ok(body["data"].as_array().is_some_and(|d| d.iter().any(|i| i["imdbId"].as_str() == Some(id))))
}

/// A few titles and people of the dataset (its first, its last and some between) the catalogue must hold.
async fn missing_probes(client: &reqwest::Client, base: &str, ds: &Dataset) -> anyhow::Result<Vec<String>> {
    let titles: Vec<_> = ds.titles.iter().filter(|t| t.asked && t.kind != Kind::Episode).collect();
    let actors = ds.asked_actors();
    let spread = |n: usize| -> Vec<usize> { if n == 0 { vec![] } else { (0..5).map(|k| k * (n - 1) / 4).collect() } };
    let mut missing = Vec::new();
    for i in spread(titles.len()) {
        let t = titles[i];
        if !holds(client, base, "/api/v1/content/search", &t.title, &t.id).await? {
            missing.push(format!("{} ({})", t.title, t.id));
        }
    }
    for i in spread(actors.len()) {
        let name = &ds.names[actors[i]];
        if !holds(client, base, "/api/v1/actors/search", name, actors[i]).await? {
            missing.push(format!("{name} ({})", actors[i]));
        }
    }
    Ok(missing)
}

/// Makes sure the catalogue holds the dataset: probes it, and imports it through the ingest service when asked
/// to (then waits for the search indexes to show it).
async fn ensure_loaded(
    client: &reqwest::Client,
    base: &str,
    ds: &Dataset,
    dir: &Path,
    args: &CommonArgs,
) -> anyhow::Result<()> {
    let missing = missing_probes(client, base, ds).await?;
    if missing.is_empty() {
        return Ok(());
    }
    if !args.import {
        bail!(
            "the catalogue behind {base} lacks the dataset (e.g. {}): import it first with `iknow import imdb {}`, \
             or run the eval with --import",
            missing[0],
            dir.display()
        );
    }
    let url = args.ingest.clone().unwrap_or_else(crate::import::queue::default_ingest_url);
    println!("importing {} through the ingest service at {url}", dir.display());
    let code = crate::import::queue::import(&url, dir, crate::import::stdout_is_terminal()).await?;
    anyhow::ensure!(code == std::process::ExitCode::SUCCESS, "the import of {} did not succeed", dir.display());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let missing = missing_probes(client, base, ds).await?;
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("imported, but the catalogue still does not find {} after 120 s", missing[0]);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn evaluate(args: CommonArgs, eval: Eval) -> anyhow::Result<bool> {
    let dir = match &args.data {
        Some(d) => d.clone(),
        None => in_repository(HELDOUT_RELATIVE).context("no held-out dataset found (use --data DIR)")?,
    };
    let also: Vec<PathBuf> = if args.also.is_empty() {
        iknow::up::resolve_sample_dir(None).into_iter().collect()
    } else {
        args.also.clone()
    };
    let ds = Dataset::load(&dir, &also.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    let queries = match eval {
        Eval::Identify => identify::queries(&ds, args.max_per_category, args.seed),
        Eval::Search => search::queries(&ds, args.max_per_category, args.seed),
    };
    let base = args.gateway.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    if let Err(e) = client.get(format!("{base}/health")).send().await {
        bail!("the gateway at {base} is unreachable: {e}");
    }
    ensure_loaded(&client, &base, &ds, &dir, &args).await?;
    println!(
        "{} queries from {} ({} movies, {} series, {} episodes, {} actors), seed {}, concurrency {}",
        queries.len(),
        dir.display(),
        ds.count(Kind::Movie),
        ds.count(Kind::Series),
        ds.count(Kind::Episode),
        ds.asked_actors().len(),
        args.seed,
        args.concurrency
    );
    let queries = Arc::new(queries);
    let started = Instant::now();
    let outcomes = run_all(client, format!("{base}{}", eval.path()), eval, queries.clone(), args.concurrency).await;
    let elapsed = started.elapsed();
    usable(&outcomes)?;

    let categories = eval.categories();
    let pairs: Vec<(&EvalQuery, &Outcome)> = queries.iter().zip(&outcomes).collect();
    let rows = rows(categories, &pairs);
    print!("{}", table(&rows));
    if args.markdown {
        print!("\n{}", markdown(&rows));
    }
    let errors: usize = rows.last().map_or(0, |r| r.errors);
    println!(
        "{:.1} s, {:.0} queries/s, {errors} errors",
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64()
    );
    for &c in categories {
        let misses = pairs.iter().filter(|(q, o)| q.category == c && o.error.is_none() && o.rank != Some(0));
        for (q, o) in misses.take(args.show_misses) {
            println!(
                "miss ({}): {:?} wants {:?}, got {}",
                c.name(),
                q.params,
                q.expected,
                o.first.as_deref().unwrap_or("nothing")
            );
        }
    }
    for (q, o) in pairs.iter().filter(|(_, o)| o.error.is_some()).take(3) {
        println!("error: {:?}: {}", q.params, o.error.as_deref().unwrap_or_default());
    }
    let missed: Vec<String> = rows.iter().flat_map(Row::missed).collect();
    if missed.is_empty() {
        println!("targets: all met");
    } else {
        println!("targets missed:");
        for m in &missed {
            println!("  {m}");
        }
    }
    Ok(missed.is_empty() && errors == 0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use iknow_testkit::dataset::{NAME_HEADER, PRINCIPAL_HEADER, TITLE_HEADER, TempDir};
    use reqwest::StatusCode;
    use serde_json::json;

    use super::*;
    use crate::fake_http;

    fn query(category: Category, expected: &str, word_exact: bool) -> EvalQuery {
        EvalQuery { category, params: vec![("q", expected.to_owned())], expected: vec![expected.into()], word_exact }
    }

    fn outcome(rank: Option<usize>, empty: bool, ms: u64, error: Option<&str>) -> Outcome {
        Outcome { rank, empty, first: None, latency: Duration::from_millis(ms), error: error.map(str::to_owned) }
    }

    /// A row with only the counts that decide the targets set.
    fn row(category: Option<Category>, queries: usize, top1: usize) -> Row {
        Row {
            name: category.map_or("overall", Category::name).into(),
            category,
            queries,
            top1,
            top5: top1,
            empty: 0,
            word_exact: 0,
            word_exact_empty: 0,
            errors: 0,
            p50_ms: 1.0,
            p95_ms: 2.0,
            p99_ms: 3.0,
        }
    }

    #[test]
    fn every_category_has_a_distinct_name_and_belongs_to_one_eval() {
        let all: Vec<Category> = Eval::Identify.categories().iter().chain(Eval::Search.categories()).copied().collect();
        assert_eq!(all.len(), 22);
        assert_eq!(all.iter().map(|c| c.name()).collect::<HashSet<_>>().len(), 22);
        assert_eq!(all.iter().copied().collect::<HashSet<_>>().len(), 22, "no category in both evals");
        let typos: Vec<Category> = all.iter().copied().filter(|c| c.is_typo()).collect();
        assert_eq!(
            typos,
            [
                Category::TypoFirst,
                Category::TypoMiddle,
                Category::TypoLast,
                Category::TypoShortWord,
                Category::TypoLongWord,
                Category::TwoTypos
            ],
            "an identify typo query is not a search typo category"
        );
    }

    #[test]
    fn top1_targets_by_category() {
        use Category::*;
        for c in [FilmExact, SeriesCharacter, SeriesEpisode, Exact, Prefix, AccentRemoved, AccentAdded] {
            assert_eq!(c.top1_target(), Some(99.9), "{c:?}");
        }
        for c in [FilmTypo, TypoFirst, TypoMiddle, TypoLast, TypoShortWord, TypoLongWord] {
            assert_eq!(c.top1_target(), Some(97.0), "{c:?}");
        }
        assert_eq!(TwoTypos.top1_target(), Some(90.0));
        for c in [FilmPartial, FilmFreeText, ActorNameTypo, SeriesFreeText, LowerCase, WordOrder, MovedSpace, Merged] {
            assert_eq!(c.top1_target(), None, "{c:?}");
        }
    }

    #[test]
    fn an_answer_is_judged_by_the_rank_of_the_first_right_result() {
        let q = EvalQuery {
            category: Category::FilmExact,
            params: vec![("title", "Heat".into()), ("character", "Neil".into())],
            expected: vec!["nm2".into(), "nm3".into()],
            word_exact: false,
        };
        let item = |id: &str| {
            json!({"actor": {"imdbId": id, "name": "A"}, "content": {"title": "Heat"}, "role": {"roleName": "Neil"},
                   "confidence": 0.5})
        };
        let ms = Duration::from_millis(3);
        let body = json!({"data": [item("nm1"), item("nm3"), item("nm2")]});
        let o = judge(Eval::Identify, &q, StatusCode::OK, &body, ms);
        assert_eq!((o.rank, o.empty, o.error, o.latency), (Some(1), false, None, ms), "either expected id counts");
        assert_eq!(o.first.as_deref(), Some(r#""A" ("nm1") in "Heat" as "Neil", 0.5"#));
        let o = judge(Eval::Identify, &q, StatusCode::OK, &json!({"data": [item("nm9")]}), ms);
        assert_eq!((o.rank, o.empty), (None, false));
        let o = judge(Eval::Identify, &q, StatusCode::OK, &json!({"data": []}), ms);
        assert_eq!((o.rank, o.empty, o.first), (None, true, None));
        let o = judge(Eval::Identify, &q, StatusCode::OK, &json!({"unexpected": true}), ms);
        assert_eq!((o.rank, o.empty), (None, true), "a body without data is an empty page");
        let o = judge(Eval::Identify, &q, StatusCode::BAD_REQUEST, &json!({"error": "bad title"}), ms);
        assert_eq!((o.rank, o.empty), (None, false));
        assert_eq!(o.error.as_deref(), Some(r#"400 Bad Request: "bad title""#));
    }

    #[test]
    fn a_search_result_counts_when_its_normalised_name_is_the_intended_one() {
        let q = query(Category::AccentRemoved, "zoe saldana", true);
        let body = json!({"data": [{"name": "Zoe Saldana-Perego", "imdbId": "nm2"}, {"name": "Zoë SALDAÑA", "imdbId": "nm1"}]});
        let o = judge(Eval::Search, &q, StatusCode::OK, &body, Duration::ZERO);
        assert_eq!(o.rank, Some(1), "a namesake or an accented spelling is as good");
        assert_eq!(o.first.as_deref(), Some(r#"Zoe Saldana-Perego ("nm2")"#));
    }

    #[test]
    fn a_row_counts_top1_top5_empty_pages_and_errors_and_times_only_answers() {
        let qs = [
            query(Category::Exact, "a", true),
            query(Category::Exact, "b", true),
            query(Category::Exact, "c", false),
            query(Category::Exact, "d", true),
            query(Category::Exact, "e", true),
            query(Category::Exact, "f", false),
        ];
        let os = [
            outcome(Some(0), false, 1, None),
            outcome(Some(4), false, 2, None),
            outcome(Some(5), false, 3, None),
            outcome(None, true, 3, None),
            outcome(None, false, 900, Some("500 Internal Server Error: null")),
            outcome(None, true, 1, None),
        ];
        let pairs: Vec<(&EvalQuery, &Outcome)> = qs.iter().zip(&os).collect();
        let r = Row::new("exact", Some(Category::Exact), &pairs);
        assert_eq!((r.queries, r.top1, r.top5, r.empty, r.errors), (6, 1, 2, 2, 1), "rank 5 is sixth: not top-5");
        assert_eq!((r.word_exact, r.word_exact_empty), (4, 1));
        // Latencies of the five answers (1, 1, 2, 3, 3 ms); the failed request's 900 ms is not one.
        let ms = |v: f64| format!("{v:.2}");
        assert_eq!((ms(r.p50_ms), ms(r.p95_ms), ms(r.p99_ms)), ("2.00".into(), "3.00".into(), "3.00".into()));
        assert!((r.top1_pct() - 100.0 / 6.0).abs() < 1e-9);
        let none = Row::new("none", None, &[]);
        assert_eq!((none.queries, none.top1_pct(), none.p99_ms), (0, 0.0, 0.0));
    }

    #[test]
    fn rows_come_per_category_in_table_order_then_overall() {
        let qs = [
            query(Category::Merged, "a", false),
            query(Category::Exact, "b", true),
            query(Category::Merged, "c", false),
        ];
        let os = [outcome(Some(0), false, 1, None), outcome(None, true, 1, None), outcome(Some(1), false, 1, None)];
        let pairs: Vec<(&EvalQuery, &Outcome)> = qs.iter().zip(&os).collect();
        let rows = rows(Eval::Search.categories(), &pairs);
        let got: Vec<(&str, usize, usize, usize)> =
            rows.iter().map(|r| (r.name.as_str(), r.queries, r.top1, r.top5)).collect();
        assert_eq!(got, [("exact", 1, 0, 0), ("merged words (\"tomhanks\")", 2, 1, 2), ("overall", 3, 1, 2)]);
        assert_eq!(rows[2].category, None);
    }

    #[test]
    fn targets_are_missed_below_the_top1_target_on_an_empty_page_with_an_exact_word_or_a_slow_p99() {
        // 99.9 % is met; a query fewer is not.
        assert!(row(Some(Category::FilmExact), 1000, 999).missed().is_empty());
        assert_eq!(
            row(Some(Category::FilmExact), 1000, 998).missed(),
            ["film: exact (title + character): top-1 99.80 % < 99.9 %"]
        );
        assert!(row(Some(Category::TypoLast), 100, 97).missed().is_empty());
        assert_eq!(row(Some(Category::TypoLast), 100, 96).missed().len(), 1);
        assert!(row(Some(Category::TwoTypos), 10, 9).missed().is_empty());
        assert_eq!(row(Some(Category::TwoTypos), 10, 8).missed(), ["two typos: top-1 80.00 % < 90 %"]);
        assert!(row(Some(Category::WordOrder), 10, 0).missed().is_empty(), "no target set");
        assert!(row(None, 10, 0).missed().is_empty(), "the overall row has no top-1 target");

        let mut r = row(Some(Category::WordOrder), 10, 10);
        r.word_exact_empty = 2;
        assert_eq!(
            r.missed(),
            ["word order (last word first): 2 empty pages though a word matched exactly (target 0)"]
        );
        let mut r = row(Some(Category::Exact), 10, 10);
        r.p99_ms = 25.0;
        assert!(r.missed().is_empty(), "25 ms is within the p99 target");
        r.p99_ms = 25.01;
        assert_eq!(r.missed(), ["exact: p99 25.01 ms > 25 ms"]);
        let mut overall = row(None, 10, 10);
        overall.p99_ms = 90.0;
        overall.word_exact_empty = 1;
        assert_eq!(overall.missed().len(), 1, "the overall p99 is not a target; an exact word's empty page is");
    }

    #[test]
    fn tables_show_percentages_exact_word_pages_and_targets() {
        let mut exact = row(Some(Category::Exact), 8, 7);
        (exact.top5, exact.empty, exact.word_exact, exact.word_exact_empty) = (8, 1, 4, 1);
        let rows = [exact, row(Some(Category::LowerCase), 3, 3), row(None, 11, 10)];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("category  ") && lines[0].ends_with("top-1 target"), "{text}");
        assert!(lines[1].chars().all(|c| c == '-' || c == ' '), "{text}");
        let cells =
            |l: &str| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            cells(lines[2]),
            ["exact", "8", "87.50", "100.00", "12.50", "1/4", "1.00", "2.00", "3.00", ">= 99.9"]
        );
        assert_eq!(cells(lines[3]), ["lower case", "3", "100.00", "100.00", "0.00", "-", "1.00", "2.00", "3.00"]);
        assert_eq!(cells(lines[4]), ["overall", "11", "90.91", "90.91", "0.00", "-", "1.00", "2.00", "3.00"]);
        // Every column is right-aligned to the header's width: the numbers end where their headers end.
        let end = |l: &str, s: &str| l.find(s).map(|i| i + s.len());
        assert_eq!(end(lines[0], "top-1 %"), end(lines[2], "87.50"));
        assert_eq!(end(lines[0], "p99 ms"), end(lines[4], "3.00").map(|_| lines[4].len()));

        let md = markdown(&rows);
        let md: Vec<&str> = md.lines().collect();
        assert_eq!(
            md[0],
            "| category | queries | top-1 % | top-5 % | empty % | empty, a word exact | p50 ms | p95 ms | p99 ms | top-1 target |"
        );
        assert_eq!(md[1], "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        assert_eq!(md[2], "| exact | 8 | 87.50 | 100.00 | 12.50 | 1/4 | 1.00 | 2.00 | 3.00 | >= 99.9 |");
        assert_eq!(md[4], "| overall | 11 | 90.91 | 90.91 | 0.00 | - | 1.00 | 2.00 | 3.00 |  |");
        assert_eq!(md.len(), 5);
    }

    #[test]
    fn a_run_is_unusable_when_every_request_failed_or_one_was_rate_limited() {
        assert!(usable(&[]).is_ok());
        let ok = outcome(Some(0), false, 1, None);
        let failed = outcome(None, false, 1, Some("500 Internal Server Error: null"));
        let limited = outcome(None, false, 1, Some("429 Too Many Requests: \"slow down\""));
        assert!(usable(&[ok.clone(), failed.clone()]).is_ok(), "some errors are counted, not fatal");
        let e = usable(&[failed.clone(), failed.clone()]).unwrap_err().to_string();
        assert_eq!(e, "every request failed, e.g. 500 Internal Server Error: null");
        let e = usable(&[ok, limited.clone()]).unwrap_err().to_string();
        assert!(e.contains("IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false"), "{e}");
        let e = usable(&[limited.clone(), limited]).unwrap_err().to_string();
        assert!(e.contains("rate-limited the eval"), "a limit refusing everything is named as such: {e}");
    }

    #[test]
    fn repository_paths_resolve_from_the_working_directory_or_the_checkout() {
        let sample = in_repository("data/sample/imdb").expect("the bundled sample");
        assert!(sample.join("title.basics.tsv").is_file());
        assert_eq!(in_repository("data/no-such-dataset"), None);
    }

    #[tokio::test]
    async fn queries_are_sent_concurrently_and_outcomes_come_back_in_query_order() {
        // The fake search answers "a" with [a], "b" with [x, b], "c" with nothing, "d" with an error.
        let base = fake_http::serve(|r| {
            assert_eq!(r.param("limit"), "5");
            let names: &[&str] = match r.param("q") {
                "a" => &["A"],
                "b" => &["X", "B"],
                "d" => return (503, json!({"error": "busy"})),
                _ => &[],
            };
            (200, json!({"data": names.iter().map(|n| json!({"name": n, "imdbId": "nm1"})).collect::<Vec<_>>()}))
        })
        .await;
        let qs: Vec<EvalQuery> = ["a", "b", "c", "d"].iter().map(|q| query(Category::Exact, q, true)).collect();
        let client = reqwest::Client::new();
        let url = format!("{base}{}", Eval::Search.path());
        let got = run_all(client.clone(), url, Eval::Search, Arc::new(qs.clone()), 3).await;
        let summary: Vec<(Option<usize>, bool, Option<&str>)> =
            got.iter().map(|o| (o.rank, o.empty, o.error.as_deref())).collect();
        assert_eq!(
            summary,
            [
                (Some(0), false, None),
                (Some(1), false, None),
                (None, true, None),
                (None, false, Some(r#"503 Service Unavailable: "busy""#))
            ]
        );
        let down = fake_http::nothing_listens().await;
        let o = ask(&client, &format!("{down}/api/v1/actors/search"), Eval::Search, &qs[0]).await;
        assert!(o.error.is_some() && o.rank.is_none() && !o.empty, "{o:?}");
        assert!(run_all(client, down, Eval::Search, Arc::new(vec![]), 0).await.is_empty());
    }

    /// A tiny asked dataset: one film, one actor.
    fn dataset() -> TempDir {
        let dir = TempDir::new("eval");
        dir.write(
            "title.basics.tsv",
            &[TITLE_HEADER, "tt0000001\tmovie\tThe Heat Wave\tThe Heat Wave\t0\t1995\t\\N\t99\tCrime"],
        );
        dir.write(
            "title.principals.tsv",
            &[PRINCIPAL_HEADER, "tt0000001\t1\tnm0000001\tactor\t\\N\t[\"Neil McCauley\"]"],
        );
        dir.write("name.basics.tsv", &[NAME_HEADER, "nm0000001\tRobert De Niro\t1943\t\\N\tactor\ttt0000001"]);
        dir
    }

    fn args(gateway: &str, dir: &TempDir) -> CommonArgs {
        CommonArgs {
            gateway: format!("{gateway}/"),
            data: Some(dir.path().to_owned()),
            also: vec![dir.path().to_owned()],
            import: false,
            ingest: None,
            concurrency: 2,
            max_per_category: 10,
            seed: 42,
            show_misses: 2,
            markdown: true,
        }
    }

    /// A gateway whose catalogue holds the dataset (when `loaded`) and answers identification with `identify`.
    async fn gateway(loaded: bool, identify: fn() -> (u16, serde_json::Value)) -> String {
        fake_http::serve(move |r| match r.path.as_str() {
            "/health" => (200, json!({"status": "ok"})),
            "/api/v1/content/search" if loaded && r.param("q") == "The Heat Wave" => {
                (200, json!({"data": [{"imdbId": "tt0000001"}]}))
            }
            "/api/v1/actors/search" if loaded && r.param("q") == "Robert De Niro" => {
                (200, json!({"data": [{"imdbId": "nm0000001", "name": "Robert De Niro"}]}))
            }
            "/api/v1/content/search" | "/api/v1/actors/search" => (200, json!({"data": []})),
            "/api/v1/identify" => identify(),
            _ => (404, json!({"error": "not found"})),
        })
        .await
    }

    #[tokio::test]
    async fn the_eval_runs_end_to_end_and_says_when_targets_are_missed() {
        let dir = dataset();
        let base = gateway(true, || (200, json!({"data": []}))).await;
        let met = evaluate(args(&base, &dir), Eval::Identify).await.expect("the eval runs");
        assert!(!met, "empty pages miss the film targets");
    }

    #[tokio::test]
    async fn the_eval_refuses_what_it_cannot_measure() {
        let dir = dataset();
        let e = |r: anyhow::Result<bool>| format!("{:#}", r.expect_err("the eval fails"));

        let down = fake_http::nothing_listens().await;
        assert!(e(evaluate(args(&down, &dir), Eval::Identify).await).contains("is unreachable"));

        let empty = gateway(false, || (200, json!({"data": []}))).await;
        let msg = e(evaluate(args(&empty, &dir), Eval::Search).await);
        assert!(msg.contains("lacks the dataset (e.g. The Heat Wave (tt0000001))"), "{msg}");
        assert!(msg.contains("iknow import imdb") && msg.contains("--import"), "{msg}");

        let failing = gateway(true, || (500, json!({"error": "boom"}))).await;
        let msg = e(evaluate(args(&failing, &dir), Eval::Identify).await);
        assert_eq!(msg, r#"every request failed, e.g. 500 Internal Server Error: "boom""#);

        let limited = gateway(true, || (429, json!({"error": "slow down"}))).await;
        assert!(e(evaluate(args(&limited, &dir), Eval::Identify).await).contains("rate-limited the eval"));

        let probes_limited = fake_http::serve(|r| match r.path.as_str() {
            "/health" => (200, json!({})),
            _ => (429, json!({"error": "slow down"})),
        })
        .await;
        let msg = e(evaluate(args(&probes_limited, &dir), Eval::Identify).await);
        assert!(msg.contains("rate-limits searches"), "{msg}");

        let no_data = CommonArgs { data: Some(dir.path().join("missing")), ..args(&empty, &dir) };
        assert!(e(evaluate(no_data, Eval::Identify).await).contains("title.basics.tsv"));
    }
}
