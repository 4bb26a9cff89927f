//! Streaming one dataset file (plain or gzip) line by line on a blocking thread: classify each line, group
//! rows into batches for the sender, count skipped and rejected lines, and show progress.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal as _};
use std::path::Path;
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;
use iknow_proto::catalog::v1::{ActorInput, ContentInput, CreditInput, EpisodeLinkInput, UpsertBatchRequest};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::mpsc;

use super::parse::{self, Reject};
use super::report::Rejections;

/// How often a progress line is logged when no bar is drawn.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// One row bound for the catalogue.
#[derive(Debug, Clone)]
pub enum Row {
    Content(ContentInput),
    Episode(EpisodeLinkInput),
    Actor(ActorInput),
    Credit(CreditInput),
}

impl Row {
    /// The IMDb ids naming the row, joined by `/`, to match the service's rejected rows back to lines.
    fn key(&self) -> String {
        match self {
            Self::Content(c) => c.imdb_id.clone(),
            Self::Episode(e) => format!("{}/{}", e.episode_imdb_id, e.series_imdb_id),
            Self::Actor(a) => a.imdb_id.clone(),
            Self::Credit(c) => format!("{}/{}", c.content_imdb_id, c.actor_imdb_id),
        }
    }

    fn push(self, req: &mut UpsertBatchRequest) {
        match self {
            Self::Content(c) => req.contents.push(c),
            Self::Episode(e) => req.episodes.push(e),
            Self::Actor(a) => req.actors.push(a),
            Self::Credit(c) => req.credits.push(c),
        }
    }
}

/// What to do with one line.
pub enum Outcome {
    Row(Row),
    Skip,
    Reject(Reject),
}

/// Rows of one `UpsertBatch` call with the file line and key of each, in the order they were added.
#[derive(Debug, Default)]
pub struct Batch {
    pub lines: Vec<u64>,
    pub keys: Vec<String>,
    pub request: UpsertBatchRequest,
}

/// What reading a file found, beside the rows it sent.
#[derive(Debug, Default)]
pub struct ReadSummary {
    pub rows_read: u64,
    pub sent: u64,
    pub skipped: u64,
    pub rejections: Rejections,
    /// A read error (a truncated gzip stream, say) that ended the file early.
    pub error: Option<String>,
}

/// Whether to draw bars: only when stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

fn progress_bar(label: &str, len: u64, draw: bool) -> ProgressBar {
    if !draw {
        let bar = ProgressBar::hidden();
        bar.set_length(len);
        return bar;
    }
    let style = ProgressStyle::with_template(
        "{prefix:<24} [{bar:30.cyan/blue}] {binary_bytes}/{binary_total_bytes} {msg} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    ProgressBar::new(len).with_style(style).with_prefix(label.to_string())
}

/// Reads `path` (gzip when its name ends in `.gz`), classifying each data line and sending full batches on
/// `tx`. Runs on a blocking thread; stops early when the receiver is gone.
pub fn read_file(
    path: &Path,
    label: &str,
    draw: bool,
    batch_size: usize,
    tx: Option<mpsc::Sender<Batch>>,
    mut classify: impl FnMut(&str) -> Outcome,
) -> ReadSummary {
    let mut summary = ReadSummary::default();
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(label, len, draw);
    let mut reader = match open_lines(path, &bar) {
        Ok(r) => r,
        Err(e) => {
            summary.error = Some(format!("cannot open {}: {e}", path.display()));
            return summary;
        }
    };

    let started = Instant::now();
    let mut last_log = started;
    let mut batch = Batch::default();
    let mut buf = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                summary.error = Some(format!("{label}: read error after line {line_no}: {e}"));
                break;
            }
        }
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buf) else {
            summary.rows_read += 1;
            summary.rejections.push(line_no, Reject::NotUtf8.to_string());
            continue;
        };
        let line = line.trim_end_matches(['\n', '\r']);
        if (line_no == 1 && parse::is_header(line)) || line.is_empty() {
            continue;
        }
        summary.rows_read += 1;
        match classify(line) {
            Outcome::Row(row) => {
                summary.sent += 1;
                batch.lines.push(line_no);
                batch.keys.push(row.key());
                row.push(&mut batch.request);
                if batch.lines.len() >= batch_size && !send(&tx, &mut batch) {
                    summary.error = Some(format!("{label}: the import stopped at line {line_no}"));
                    break;
                }
            }
            Outcome::Skip => summary.skipped += 1,
            Outcome::Reject(reason) => summary.rejections.push(line_no, reason.to_string()),
        }
        if summary.rows_read.is_multiple_of(1000) {
            let rate = summary.rows_read as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{} rows, {rate:.0} rows/s", summary.rows_read));
            if bar.is_hidden() && last_log.elapsed() >= LOG_EVERY {
                last_log = Instant::now();
                tracing::info!(
                    file = label,
                    bytes = bar.position(),
                    total_bytes = len,
                    rows = summary.rows_read,
                    rows_per_second = rate.round(),
                    "import progress"
                );
            }
        }
    }
    if !batch.lines.is_empty() {
        send(&tx, &mut batch);
    }
    bar.set_message(format!("{} rows", summary.rows_read));
    bar.finish();
    summary
}

/// Opens `path` for reading lines, through gzip when its name ends in `.gz`; `bar` counts the file's bytes.
fn open_lines(path: &Path, bar: &ProgressBar) -> std::io::Result<Box<dyn BufRead>> {
    let counted = bar.wrap_read(File::open(path)?);
    let gz = path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(BufReader::new(counted))))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, counted))
    })
}

/// The first data line of `path` that `parse` accepts, looking at a handful of lines at most.
pub fn first_row<T>(path: &Path, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let mut reader = open_lines(path, &ProgressBar::hidden()).ok()?;
    let mut line = String::new();
    for _ in 0..10 {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(row) = parse(line.trim_end_matches(['\n', '\r'])) {
            return Some(row);
        }
    }
    None
}

/// Hands the batch to the sender; false when the sender has given up.
fn send(tx: &Option<mpsc::Sender<Batch>>, batch: &mut Batch) -> bool {
    let full = std::mem::take(batch);
    match tx {
        Some(tx) => tx.blocking_send(full).is_ok(),
        None => true,
    }
}
