//! The `iknow` command: run the whole platform (`up`), import IMDb datasets (`import imdb`) or TMDB people and
//! titles (`import tmdb`), list import jobs
//! (`jobs`), benchmark (`bench`), evaluate identification and search (`eval identify`, `eval search`).

#![forbid(unsafe_code)]

// A faster allocator than the system's for many small strings (see the workspace Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod eval;
#[cfg(test)]
mod fake_http;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use iknow::import::{self, ImportOptions};
use iknow::up::UpOptions;

#[derive(Debug, Parser)]
#[command(name = "iknow", version, about = "I Know: who is that actor and where do I know them from?")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole platform in this process; import the bundled sample when the catalogue lacks it.
    Up(UpArgs),
    /// Import a dataset into the catalogue.
    #[command(subcommand)]
    Import(ImportCommand),
    /// List the ingest service's import jobs (state, counts, errors), or show one.
    Jobs(JobsArgs),
    /// Benchmark a running platform.
    Bench(bench::BenchArgs),
    /// Evaluate a running platform's answers on labelled queries.
    Eval(eval::EvalArgs),
}

#[derive(Debug, clap::Args)]
struct UpArgs {
    /// Configuration file layered over the defaults (else IKNOW_CONFIG names one).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Do not import the sample.
    #[arg(long)]
    no_import: bool,
    /// IMDb sample directory (default: data/sample/imdb of the repository).
    #[arg(long, env = "IKNOW__SAMPLE_DIR")]
    sample: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// IMDb dataset files (title.basics, name.basics, title.principals, optionally title.episode, title.ratings and
    /// title.akas; .tsv or .tsv.gz).
    Imdb(ImdbArgs),
    /// A person (details and acting credits) or a title (details and cast) from the TMDB API, as a queued job.
    Tmdb(TmdbArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["person", "title"])))]
struct TmdbArgs {
    /// TMDB person id (31) or IMDb person id (nm0000158).
    #[arg(long)]
    person: Option<String>,
    /// TMDB movie id (13; with --tv a series id) or IMDb title id (tt0109830).
    #[arg(long)]
    title: Option<String>,
    /// The --title TMDB id is a series.
    #[arg(long, conflicts_with = "person")]
    tv: bool,
    /// gRPC URL of the ingest service (default: from the configuration's [ingest] grpc_addr).
    #[arg(long, env = "IKNOW_INGEST_URL")]
    ingest: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ImdbArgs {
    /// Directory holding the dataset files (as the ingest service sees it; made absolute).
    dir: PathBuf,
    /// Import from this process straight into the catalogue, without the queue.
    #[arg(long)]
    direct: bool,
    /// gRPC URL of the ingest service (default: from the configuration's [ingest] grpc_addr).
    #[arg(long, env = "IKNOW_INGEST_URL")]
    ingest: Option<String>,
    /// gRPC URL of the actor catalogue (--direct).
    #[arg(long, env = "IKNOW_CATALOG_URL", default_value = "http://127.0.0.1:50051")]
    catalog: String,
    /// Rows per UpsertBatch call (--direct; queued jobs use the service's [ingest] batch_size).
    #[arg(long, default_value_t = 10_000)]
    batch_size: usize,
    /// UpsertBatch calls in flight at once (--direct).
    #[arg(long, default_value_t = 3)]
    concurrency: usize,
    /// Send credits through UpsertBatch even into a catalogue without credits (--direct; no bulk load).
    #[arg(long)]
    no_bulk: bool,
    /// Credits per StageCredits call of a bulk load (--direct).
    #[arg(long, default_value_t = 20_000)]
    bulk_chunk: usize,
}

#[derive(Debug, clap::Args)]
struct JobsArgs {
    /// Show this job in full instead of listing.
    id: Option<String>,
    /// gRPC URL of the ingest service (default: from the configuration's [ingest] grpc_addr).
    #[arg(long, env = "IKNOW_INGEST_URL")]
    ingest: Option<String>,
    /// Jobs listed, newest first (1-100).
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Only jobs in this state: queued, running, succeeded, failed or dead.
    #[arg(long)]
    state: Option<String>,
}

/// Terminal users see progress bars and the report; otherwise progress lines are logged.
fn init_cli_logs() {
    let level = if import::stdout_is_terminal() { "warn" } else { "warn,iknow=info" };
    let cfg = iknow_common::telemetry::TelemetryConfig {
        log_level: level.into(),
        log_format: "pretty".into(),
        ..Default::default()
    };
    iknow_common::telemetry::init("iknow", &cfg);
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => {
            let opts = UpOptions { config: args.config, no_import: args.no_import, sample_dir: args.sample };
            iknow::up::run(opts).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Imdb(args)) => import_imdb(args).await,
        Command::Import(ImportCommand::Tmdb(args)) => import_tmdb(args).await,
        Command::Jobs(args) => {
            init_cli_logs();
            let url = args.ingest.unwrap_or_else(import::queue::default_ingest_url);
            match args.id {
                Some(id) => import::queue::show(&url, &id).await,
                None => import::queue::list(&url, args.limit, args.state).await,
            }
            .map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            init_cli_logs();
            bench::run(args).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Eval(args) => {
            init_cli_logs();
            eval::run(args).await.map(|met| if met { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
    };
    iknow_common::telemetry::shutdown();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn import_tmdb(args: TmdbArgs) -> anyhow::Result<ExitCode> {
    init_cli_logs();
    let url = args.ingest.unwrap_or_else(import::queue::default_ingest_url);
    let target = match (args.person, args.title) {
        (Some(id), _) => import::queue::TmdbTarget::Person(id),
        (None, Some(id)) => import::queue::TmdbTarget::Title { id, tv: args.tv },
        (None, None) => anyhow::bail!("--person or --title is required"),
    };
    import::queue::import_tmdb(&url, &target, import::stdout_is_terminal()).await
}

async fn import_imdb(args: ImdbArgs) -> anyhow::Result<ExitCode> {
    init_cli_logs();
    if !args.direct {
        let url = args.ingest.unwrap_or_else(import::queue::default_ingest_url);
        return import::queue::import(&url, &args.dir, import::stdout_is_terminal()).await;
    }
    let opts = ImportOptions {
        batch_size: args.batch_size,
        concurrency: args.concurrency,
        bulk: !args.no_bulk,
        bulk_chunk: args.bulk_chunk,
        ..ImportOptions::default()
    };
    let started = std::time::Instant::now();
    let (report, passes) = import::import_imdb_timed(&args.dir, args.catalog, &opts).await?;
    print!("{report}");
    for (file, at) in passes {
        println!("pass {file} began at {at:.1}s");
    }
    println!("done in {:.1}s, peak memory {:.0} MiB", started.elapsed().as_secs_f64(), import::peak_mib());
    let errors = report.errors();
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        // The rows before each error were imported; the exit code still says the files were not whole.
        for e in errors {
            eprintln!("error: {e}");
        }
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{Cli, Command, ImportCommand};

    #[test]
    fn import_tmdb_takes_a_person_or_a_title() {
        let cli = Cli::try_parse_from(["iknow", "import", "tmdb", "--person", "nm0000158"]).unwrap();
        assert!(
            matches!(cli.command, Command::Import(ImportCommand::Tmdb(a)) if a.person.as_deref() == Some("nm0000158"))
        );
        let cli = Cli::try_parse_from(["iknow", "import", "tmdb", "--title", "1396", "--tv"]).unwrap();
        assert!(matches!(cli.command, Command::Import(ImportCommand::Tmdb(a)) if a.tv && a.title.is_some()));
        for bad in [
            &["iknow", "import", "tmdb"][..],
            &["iknow", "import", "tmdb", "--person", "31", "--title", "13"],
            &["iknow", "import", "tmdb", "--person", "31", "--tv"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
