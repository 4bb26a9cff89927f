//! The queued import seen from the command line: enqueue an `imdb_dataset` job (or a `tmdb_person` /
//! `tmdb_title` one) on the ingest service, follow it with progress bars to its report, and list or show jobs
//! (`iknow jobs`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use iknow_proto::ingest::v1::{self as pb, ingest_client::IngestClient};
use scraper_ingest::progress::{Observer as _, Progress};
use tonic::transport::{Channel, Endpoint};

use super::{Bars, FileReport, ImportReport};

/// How often a followed job is asked for.
const POLL: Duration = Duration::from_millis(250);
/// Consecutive failed polls before following gives up.
const MAX_POLL_FAILURES: u32 = 40;

/// The ingest service's URL from the configuration (`[ingest] grpc_addr`, `IKNOW__INGEST__GRPC_ADDR`).
pub fn default_ingest_url() -> String {
    let addr = iknow_common::config::Settings::load(None)
        .ok()
        .and_then(|s| s.section::<String>("ingest.grpc_addr").ok())
        .unwrap_or_else(|| "127.0.0.1:50054".into());
    let addr = addr.replace("0.0.0.0", "127.0.0.1");
    format!("http://{addr}")
}

/// A client of the ingest service at `url`.
pub async fn connect(url: &str) -> anyhow::Result<IngestClient<Channel>> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid ingest URL {url:?}"))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot reach the ingest service at {url}"))?;
    Ok(IngestClient::new(channel))
}

fn status_error(what: &str, status: tonic::Status) -> anyhow::Error {
    let e = iknow_common::Error::from_status(&status);
    match e.details() {
        Some(details) => anyhow::anyhow!("{what}: {} {details}", e.public_message()),
        None => anyhow::anyhow!("{what}: {}", status.message()),
    }
}

/// Enqueues the import of `dir` (made absolute: the service resolves it) and returns the job.
pub async fn enqueue(client: &mut IngestClient<Channel>, dir: &Path) -> anyhow::Result<pb::Job> {
    let dir = std::fs::canonicalize(dir).or_else(|_| std::path::absolute(dir)).context("invalid directory")?;
    let request = pb::EnqueueImdbDatasetRequest { dir: dir.to_string_lossy().into_owned() };
    Ok(client.enqueue_imdb_dataset(request).await.map_err(|s| status_error("enqueue failed", s))?.into_inner())
}

/// The job's report in the shape the direct import prints.
pub fn report(job: &pb::Job) -> ImportReport {
    let files = job.files.iter().map(FileReport::from).collect();
    ImportReport { files }
}

/// Follows `id` until it succeeds or dies, drawing its progress; ctrl-c stops following (not the job).
/// Returns the final job, or `None` when the user stopped following.
pub async fn follow(client: &mut IngestClient<Channel>, id: &str, draw: bool) -> anyhow::Result<Option<pb::Job>> {
    let bars = Bars::new(draw);
    let mut announced_failure = 0;
    let mut failures = 0;
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let job = match client.get_job(pb::GetJobRequest { id: id.to_owned() }).await {
            Ok(job) => {
                failures = 0;
                job.into_inner()
            }
            Err(status) if failures < MAX_POLL_FAILURES => {
                failures += 1;
                tracing::debug!(code = ?status.code(), "polling the job failed; trying again");
                tokio::time::sleep(POLL).await;
                continue;
            }
            Err(status) => {
                bars.finish();
                let e = status_error("following the job failed", status);
                anyhow::bail!("{e:#}; the job carries on once the service is back (`iknow jobs {id}`)");
            }
        };
        if job.state == "failed" && job.attempts > announced_failure {
            announced_failure = job.attempts;
            bars.println(&format!(
                "attempt {}/{} failed: {}; retrying with backoff",
                job.attempts, job.max_attempts, job.last_error
            ));
        }
        if let Some(p) = &job.progress {
            bars.progress(&Progress::from(p));
        }
        if matches!(job.state.as_str(), "succeeded" | "dead") {
            bars.finish();
            return Ok(Some(job));
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = &mut ctrl_c => {
                bars.finish();
                eprintln!("stopped following; job {id} carries on (see `iknow jobs {id}`)");
                return Ok(None);
            }
        }
    }
}

/// `iknow import imdb DIR` through the queue: enqueue, follow, print the report. The exit code says
/// whether the job succeeded with every file whole.
pub async fn import(ingest_url: &str, dir: &Path, draw: bool) -> anyhow::Result<std::process::ExitCode> {
    let mut client = connect(ingest_url).await?;
    let started = Instant::now();
    let job = enqueue(&mut client, dir).await?;
    follow_to_report(&mut client, job, draw, started).await
}

/// What `iknow import tmdb` fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TmdbTarget {
    /// `--person ID`: a TMDB person id or an IMDb `nm` id.
    Person(String),
    /// `--title ID` (`--tv` for a TMDB series id): a TMDB movie or series id, or an IMDb `tt` id.
    Title { id: String, tv: bool },
}

/// A TMDB numeric id, or an IMDb id with `prefix` (the service validates it further).
fn tmdb_or_imdb(id: &str, prefix: &str) -> anyhow::Result<(u64, String)> {
    let id = id.trim();
    if let Ok(n) = id.parse::<u64>() {
        anyhow::ensure!(n > 0, "a TMDB id is a positive number");
        return Ok((n, String::new()));
    }
    anyhow::ensure!(
        id.starts_with(prefix),
        "{id:?} is neither a TMDB id (a number) nor an IMDb id ({prefix} followed by digits)"
    );
    Ok((0, id.to_owned()))
}

/// `iknow import tmdb --person ID | --title ID`: enqueue the TMDB job, follow it, print its report.
pub async fn import_tmdb(ingest_url: &str, target: &TmdbTarget, draw: bool) -> anyhow::Result<std::process::ExitCode> {
    let started = Instant::now();
    let mut client = connect(ingest_url).await?;
    let job = match target {
        TmdbTarget::Person(id) => {
            let (tmdb_id, imdb_id) = tmdb_or_imdb(id, "nm")?;
            client.enqueue_tmdb_person(pb::EnqueueTmdbPersonRequest { tmdb_id, imdb_id }).await
        }
        TmdbTarget::Title { id, tv } => {
            let (tmdb_id, imdb_id) = tmdb_or_imdb(id, "tt")?;
            anyhow::ensure!(!*tv || tmdb_id != 0, "--tv goes with a TMDB id (an IMDb id says what it is)");
            let media_type = if *tv {
                "tv"
            } else if tmdb_id != 0 {
                "movie"
            } else {
                ""
            }
            .to_owned();
            client.enqueue_tmdb_title(pb::EnqueueTmdbTitleRequest { tmdb_id, imdb_id, media_type }).await
        }
    }
    .map_err(|s| status_error("enqueue failed", s))?
    .into_inner();
    follow_to_report(&mut client, job, draw, started).await
}

/// Follows an enqueued job and prints its report; the exit code says whether it succeeded with every file whole.
async fn follow_to_report(
    client: &mut IngestClient<Channel>,
    job: pb::Job,
    draw: bool,
    started: Instant,
) -> anyhow::Result<std::process::ExitCode> {
    use std::process::ExitCode;
    println!("job {} enqueued", job.id);
    let Some(job) = follow(client, &job.id, draw).await? else { return Ok(ExitCode::SUCCESS) };
    let report = report(&job);
    print!("{report}");
    println!(
        "job {} {} after {} attempt(s) in {:.1}s",
        job.id,
        job.state,
        job.attempts,
        started.elapsed().as_secs_f64()
    );
    if job.state != "succeeded" {
        eprintln!("error: {}", job.last_error);
        return Ok(ExitCode::FAILURE);
    }
    let errors = report.errors();
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn short(s: &str, n: usize) -> String {
    let one_line = s.replace('\n', " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n - 1).collect::<String>())
    }
}

/// `iknow jobs`: the newest jobs, one line each (state, attempts, counts, error).
pub async fn list(ingest_url: &str, limit: u32, state: Option<String>) -> anyhow::Result<()> {
    let mut client = connect(ingest_url).await?;
    let jobs = client
        .list_jobs(pb::ListJobsRequest { limit, state })
        .await
        .map_err(|s| status_error("listing jobs failed", s))?
        .into_inner()
        .jobs;
    print!("{}", listing(&jobs));
    Ok(())
}

/// The jobs as `iknow jobs` lists them: a header, then one line each (or "(no jobs)").
fn listing(jobs: &[pb::Job]) -> String {
    let mut out = format!(
        "{:<36}  {:<12}  {:<9}  {:>3}  {:<19}  {:>9}  {:>9}  {:>9}  {:>8}  {:>9}  ERROR\n",
        "ID", "KIND", "STATE", "ATT", "CREATED", "READ", "WRITTEN", "UNCHANGED", "REJECTED", "SKIPPED"
    );
    for job in jobs {
        let t = report(job).total();
        let created = job.created_at.get(..19).unwrap_or(&job.created_at).replace('T', " ");
        let error = report(job).errors().first().map(|e| e.to_string()).unwrap_or_else(|| job.last_error.clone());
        let _ = writeln!(
            out,
            "{:<36}  {:<12}  {:<9}  {:>3}  {:<19}  {:>9}  {:>9}  {:>9}  {:>8}  {:>9}  {}",
            job.id,
            job.kind,
            job.state,
            job.attempts,
            created,
            t.rows_read,
            t.written,
            t.unchanged,
            t.rejected,
            t.skipped,
            short(&error, 80)
        );
    }
    if jobs.is_empty() {
        out.push_str("(no jobs)\n");
    }
    out
}

/// `iknow jobs ID`: one job in full (its report as the import prints it).
pub async fn show(ingest_url: &str, id: &str) -> anyhow::Result<()> {
    let mut client = connect(ingest_url).await?;
    let job = client
        .get_job(pb::GetJobRequest { id: id.to_owned() })
        .await
        .map_err(|s| status_error("reading the job failed", s))?
        .into_inner();
    print!("{}", describe(&job));
    Ok(())
}

/// One job in full, as `iknow jobs ID` shows it: what it imports, its state, times, checkpoint, progress, last
/// error and report.
fn describe(job: &pb::Job) -> String {
    let dir = match &job.params {
        Some(pb::job::Params::ImdbDataset(p)) => p.dir.clone(),
        Some(pb::job::Params::TmdbPerson(p)) if p.tmdb_id != 0 => format!("person {}", p.tmdb_id),
        Some(pb::job::Params::TmdbPerson(p)) => p.imdb_id.clone(),
        Some(pb::job::Params::TmdbTitle(p)) if p.tmdb_id != 0 => format!("{} {}", p.media_type, p.tmdb_id),
        Some(pb::job::Params::TmdbTitle(p)) => p.imdb_id.clone(),
        None => String::new(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "job        {} ({} {dir})", job.id, job.kind);
    let _ = writeln!(out, "state      {} (attempt {} of {})", job.state, job.attempts, job.max_attempts);
    let _ = writeln!(out, "created    {}", job.created_at);
    let _ = writeln!(out, "started    {}", job.started_at);
    let _ = writeln!(out, "finished   {}", job.finished_at);
    if let Some(c) = &job.checkpoint {
        let _ = writeln!(out, "checkpoint {} line {}", c.file, c.line);
    }
    if let Some(p) = &job.progress {
        let _ = writeln!(
            out,
            "progress   {} {}/{} bytes, {} rows, {:.0} rows/s",
            p.file, p.bytes_read, p.bytes_total, p.rows_read, p.rows_per_second
        );
    }
    if !job.last_error.is_empty() {
        let _ = writeln!(out, "last error {}", job.last_error);
    }
    let _ = write!(out, "{}", report(job));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, read: u64, written: u64, rejected: u64, error: &str) -> pb::FileReport {
        pb::FileReport {
            file: name.into(),
            rows_read: read,
            written,
            unchanged: read - written - rejected,
            rejected,
            skipped: 0,
            rejections: (0..rejected).map(|i| pb::Rejection { line: i + 2, reason: "bad year".into() }).collect(),
            error: error.into(),
            complete: error.is_empty(),
            committed_line: read + 1,
        }
    }

    fn job(state: &str) -> pb::Job {
        pb::Job {
            id: "0190a0b1-0000-7000-8000-000000000001".into(),
            kind: "imdb_dataset".into(),
            params: Some(pb::job::Params::ImdbDataset(pb::ImdbDataset { dir: "/data/imdb".into() })),
            state: state.into(),
            attempts: 1,
            max_attempts: 5,
            files: vec![file("title.basics.tsv", 10, 7, 1, ""), file("name.basics.tsv", 5, 5, 0, "")],
            created_at: "2025-01-02T03:04:05.678Z".into(),
            started_at: "2025-01-02T03:04:06Z".into(),
            finished_at: String::new(),
            ..Default::default()
        }
    }

    #[test]
    fn a_job_report_sums_its_files_and_keeps_their_errors() {
        let mut j = job("succeeded");
        let r = report(&j);
        assert_eq!(r.files.len(), 2);
        let t = r.total();
        assert_eq!((t.rows_read, t.written, t.unchanged, t.rejected), (15, 12, 2, 1));
        assert!(r.errors().is_empty(), "rejected lines are counted, not errors");
        j.files.push(file("title.principals.tsv", 3, 3, 0, "unexpected end of gzip stream"));
        let broken = report(&j);
        let errors = broken.errors();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("unexpected end of gzip stream"), "{}", errors[0]);
        assert!(report(&pb::Job::default()).files.is_empty());
    }

    #[test]
    fn the_listing_has_one_aligned_line_per_job_and_says_when_there_is_none() {
        assert!(listing(&[]).ends_with("\n(no jobs)\n"));
        let mut failed = job("dead");
        failed.id = "0190a0b1-0000-7000-8000-000000000002".into();
        failed.files.clear();
        failed.last_error = format!("cannot open {}\nsecond line", "x".repeat(100));
        let mut broken = job("succeeded");
        broken.files.push(file("title.principals.tsv", 3, 3, 0, "truncated"));
        let text = listing(&[job("succeeded"), failed, broken]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("ID  ") && lines[0].ends_with("ERROR"), "{text}");
        let cols = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            cols(lines[1]),
            [
                "0190a0b1-0000-7000-8000-000000000001",
                "imdb_dataset",
                "succeeded",
                "1",
                "2025-01-02",
                "03:04:05",
                "15",
                "12",
                "2",
                "1",
                "0"
            ],
            "created to the second, a space for the T; no error"
        );
        // The columns line up under the header.
        let at = |l: &str, s: &str| l.find(s).unwrap();
        assert_eq!(at(lines[0], "STATE"), at(lines[1], "succeeded"));
        assert_eq!(at(lines[0], "ERROR"), at(lines[2], "cannot open"));
        // A long error is cut to 80 characters on one line; a file's error comes before the job's.
        let error = &lines[2][at(lines[2], "cannot open")..];
        assert_eq!(error.chars().count(), 80, "{error}");
        assert!(error.ends_with('…'), "{error}");
        assert!(lines[3].ends_with("truncated"), "{}", lines[3]);
    }

    #[test]
    fn long_texts_are_cut_to_one_line() {
        assert_eq!(short("fits", 4), "fits");
        assert_eq!(short("two\nlines", 20), "two lines");
        assert_eq!(short("éèêëē", 3), "éè…", "cut by characters, not bytes");
    }

    #[test]
    fn a_job_is_described_with_what_it_imports_its_times_progress_and_report() {
        let mut j = job("running");
        j.checkpoint = Some(pb::Checkpoint { file: "title.basics.tsv".into(), line: 11 });
        j.progress = Some(pb::Progress {
            file: "name.basics.tsv".into(),
            bytes_read: 512,
            bytes_total: 2048,
            rows_read: 4,
            rows_per_second: 1234.6,
            ..Default::default()
        });
        let text = describe(&j);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..7],
            [
                "job        0190a0b1-0000-7000-8000-000000000001 (imdb_dataset /data/imdb)",
                "state      running (attempt 1 of 5)",
                "created    2025-01-02T03:04:05.678Z",
                "started    2025-01-02T03:04:06Z",
                "finished   ",
                "checkpoint title.basics.tsv line 11",
                "progress   name.basics.tsv 512/2048 bytes, 4 rows, 1235 rows/s",
            ],
            "{text}"
        );
        assert!(text.ends_with(&report(&j).to_string()), "the report closes it: {text}");
        assert!(!text.contains("last error"));
        j.last_error = "catalogue unavailable".into();
        assert!(describe(&j).contains("\nlast error catalogue unavailable\n"));
    }

    #[test]
    fn a_tmdb_job_is_described_by_its_id() {
        let of = |params: pb::job::Params| {
            let j = pb::Job { id: "j".into(), kind: "k".into(), params: Some(params), ..Default::default() };
            describe(&j).lines().next().unwrap().to_owned()
        };
        let person = |tmdb_id, imdb_id: &str| pb::TmdbPerson { tmdb_id, imdb_id: imdb_id.into() };
        assert_eq!(of(pb::job::Params::TmdbPerson(person(31, ""))), "job        j (k person 31)");
        assert_eq!(of(pb::job::Params::TmdbPerson(person(0, "nm0000158"))), "job        j (k nm0000158)");
        let title = |tmdb_id, imdb_id: &str, media_type: &str| pb::TmdbTitle {
            tmdb_id,
            imdb_id: imdb_id.into(),
            media_type: media_type.into(),
        };
        assert_eq!(of(pb::job::Params::TmdbTitle(title(1396, "", "tv"))), "job        j (k tv 1396)");
        assert_eq!(of(pb::job::Params::TmdbTitle(title(0, "tt0109830", ""))), "job        j (k tt0109830)");
        let none = pb::Job { id: "j".into(), kind: "k".into(), ..Default::default() };
        assert_eq!(describe(&none).lines().next(), Some("job        j (k )"));
    }

    #[test]
    fn status_errors_keep_the_public_message_and_details() {
        let plain = status_error("enqueue failed", tonic::Status::invalid_argument("dir is required"));
        assert!(plain.to_string().starts_with("enqueue failed: "), "{plain}");
        assert!(plain.to_string().contains("dir is required"), "{plain}");
    }

    #[tokio::test]
    async fn an_unreachable_or_invalid_ingest_url_is_an_error_naming_it() {
        let e = connect("not a url").await.unwrap_err();
        assert!(format!("{e:#}").contains("invalid ingest URL"), "{e:#}");
        let down = format!("http://{}", iknow_testkit::dead_addr().await);
        let e = connect(&down).await.unwrap_err();
        assert!(format!("{e:#}").contains(&format!("cannot reach the ingest service at {down}")), "{e:#}");
        assert!(list(&down, 5, None).await.is_err());
        assert!(show(&down, "j").await.is_err());
        let target = TmdbTarget::Title { id: "13".into(), tv: false };
        assert!(import_tmdb(&down, &target, false).await.is_err());
    }

    #[test]
    fn the_default_ingest_url_is_a_local_http_url() {
        let url = default_ingest_url();
        assert!(url.starts_with("http://") && !url.contains("0.0.0.0"), "{url}");
    }

    #[test]
    fn tmdb_ids_are_numbers_and_imdb_ids_keep_their_prefix() {
        assert_eq!(tmdb_or_imdb("31", "nm").unwrap(), (31, String::new()));
        assert_eq!(tmdb_or_imdb("nm0000158", "nm").unwrap(), (0, "nm0000158".into()));
        assert!(tmdb_or_imdb("tt0109830", "nm").is_err());
        assert!(tmdb_or_imdb("0", "tt").is_err());
        assert!(tmdb_or_imdb("forrest", "tt").is_err());
    }
}
