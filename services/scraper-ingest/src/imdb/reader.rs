//! Streaming one dataset file (plain or gzip) line by line on a blocking thread: classify each line, group
//! rows into chunks for the sender (each chunk also carries the counts of the lines it covers, so a committed
//! chunk is a checkpoint), skip the lines a resumed import already committed, and report progress.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use iknow_proto::catalog::v1::{
    ActorInput, AkaInput, ContentInput, CreditInput, EpisodeLinkInput, RatingInput, UpsertBatchRequest,
};
use tokio::sync::mpsc;

use super::parse::{self, Reject};
use super::report::Rejections;
use crate::progress::{Observer, Progress};

/// Progress is reported every this many lines.
const REPORT_EVERY: u64 = 2000;
/// A chunk is sent after this many lines without enough rows for a batch (long runs of skipped lines), so the
/// checkpoint keeps moving.
const MAX_LINES_PER_ROW: usize = 16;

/// One row bound for the catalogue.
#[derive(Debug, Clone)]
pub enum Row {
    Content(ContentInput),
    Episode(EpisodeLinkInput),
    Actor(ActorInput),
    Credit(CreditInput),
    Rating(RatingInput),
    Aka(AkaInput),
}

impl Row {
    /// The IMDb ids naming the row, joined by `/`, to match the service's rejected rows back to lines.
    fn key(&self) -> String {
        match self {
            Self::Content(c) => c.imdb_id.clone(),
            Self::Episode(e) => format!("{}/{}", e.episode_imdb_id, e.series_imdb_id),
            Self::Actor(a) => a.imdb_id.clone(),
            Self::Credit(c) => format!("{}/{}", c.content_imdb_id, c.actor_imdb_id),
            Self::Rating(r) => r.content_imdb_id.clone(),
            Self::Aka(a) => format!("{}/{}", a.content_imdb_id, a.ordering),
        }
    }

    fn push(self, req: &mut UpsertBatchRequest) {
        // The dataset's batches are the catalogue's `scraper` source (the columns IMDb owns).
        req.source = iknow_proto::catalog::v1::ScrapeSource::Scraper.into();
        match self {
            Self::Content(c) => req.contents.push(c),
            Self::Episode(e) => req.episodes.push(e),
            Self::Actor(a) => req.actors.push(a),
            Self::Credit(c) => req.credits.push(c),
            Self::Rating(r) => req.ratings.push(r),
            Self::Aka(a) => req.akas.push(a),
        }
    }
}

/// What to do with one line.
pub enum Outcome {
    Row(Row),
    Skip,
    Reject(Reject),
}

/// The lines after the previous chunk up to `last_line`: their rows (one `UpsertBatch` call) with the line and
/// key of each, and the counts of every line in the range.
#[derive(Debug, Default)]
pub struct Chunk {
    pub last_line: u64,
    pub rows_read: u64,
    pub skipped: u64,
    pub rejections: Rejections,
    pub lines: Vec<u64>,
    pub keys: Vec<String>,
    pub request: UpsertBatchRequest,
    /// The file ends with this chunk.
    pub eof: bool,
    /// A read error (a truncated gzip stream, say) that ended the file early.
    pub error: Option<String>,
}

/// One pass over one file.
#[derive(Debug, Clone)]
pub struct Pass {
    pub path: PathBuf,
    /// Name in progress reports.
    pub label: String,
    /// Lines up to this one were committed by an earlier attempt: they are passed over unread.
    pub skip_to: u64,
    /// Bytes of the import's earlier passes, and of all its passes (for the job-wide ETA).
    pub job_bytes_before: u64,
    pub job_bytes_total: u64,
}

/// Counts the bytes read from the file (compressed bytes for gzip: the file size is the total).
struct Counted<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path` for reading lines, through gzip when its name ends in `.gz`.
fn open(path: &Path, bytes: Arc<AtomicU64>) -> std::io::Result<Box<dyn BufRead>> {
    let counted = Counted { inner: File::open(path)?, bytes };
    let gz = path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(BufReader::new(counted))))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, counted))
    })
}

/// One step of [`Lines`]; the text of a `Data` line is [`Lines::text`].
enum Line {
    Data,
    NotUtf8,
    Eof,
    Error(String),
}

/// The data lines of one pass: the header, empty lines and lines up to `skip_to` are left out.
struct Lines<'o> {
    reader: Option<Box<dyn BufRead>>,
    open_error: Option<String>,
    buf: Vec<u8>,
    /// Length of the current line without its line break.
    len: usize,
    line_no: u64,
    rows: u64,
    bytes: Arc<AtomicU64>,
    started: Instant,
    pass: Pass,
    bytes_total: u64,
    observer: &'o dyn Observer,
}

impl<'o> Lines<'o> {
    fn new(pass: Pass, observer: &'o dyn Observer) -> Self {
        let bytes = Arc::new(AtomicU64::new(0));
        let bytes_total = std::fs::metadata(&pass.path).map(|m| m.len()).unwrap_or(0);
        let (reader, open_error) = match open(&pass.path, bytes.clone()) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(format!("cannot open {}: {e}", pass.path.display()))),
        };
        let lines = Self {
            reader,
            open_error,
            buf: Vec::with_capacity(1024),
            len: 0,
            line_no: 0,
            rows: 0,
            bytes,
            started: Instant::now(),
            pass,
            bytes_total,
            observer,
        };
        lines.report(false);
        lines
    }

    fn report(&self, done: bool) {
        let bytes_read = if done { self.bytes_total } else { self.bytes.load(Ordering::Relaxed) };
        self.observer.progress(&Progress {
            file: self.pass.label.clone(),
            bytes_read,
            bytes_total: self.bytes_total,
            rows_read: self.rows,
            rows_per_second: self.rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3),
            job_bytes_read: self.pass.job_bytes_before + bytes_read,
            job_bytes_total: self.pass.job_bytes_total,
            done,
        });
    }

    /// The text of the current `Data` line.
    fn text(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }

    fn next(&mut self) -> (u64, Line) {
        if self.reader.is_none() {
            return (0, Line::Error(self.open_error.take().unwrap_or_else(|| "cannot open the file".into())));
        }
        loop {
            self.buf.clear();
            let read = match self.reader.as_mut() {
                Some(reader) => reader.read_until(b'\n', &mut self.buf),
                None => Ok(0),
            };
            match read {
                Ok(0) => return (self.line_no, Line::Eof),
                Ok(_) => {}
                Err(e) => {
                    let error = format!("{}: read error after line {}: {e}", self.pass.label, self.line_no);
                    return (self.line_no, Line::Error(error));
                }
            }
            self.line_no += 1;
            if self.line_no.is_multiple_of(REPORT_EVERY) {
                self.report(false);
            }
            if self.line_no <= self.pass.skip_to {
                continue;
            }
            let Ok(line) = std::str::from_utf8(&self.buf) else {
                self.rows += 1;
                return (self.line_no, Line::NotUtf8);
            };
            let line = line.trim_end_matches(['\n', '\r']);
            if (self.line_no == 1 && parse::is_header(line)) || line.is_empty() {
                continue;
            }
            self.len = line.len();
            self.rows += 1;
            return (self.line_no, Line::Data);
        }
    }
}

/// Reads one pass, classifying each line and sending a chunk on `tx` every `batch_size` rows, then a last one
/// (`eof`) with the rest. Runs on a blocking thread; stops early (false) when the receiver is gone.
pub fn read_chunks(
    pass: Pass,
    batch_size: usize,
    tx: mpsc::Sender<Chunk>,
    observer: &dyn Observer,
    mut classify: impl FnMut(&str) -> Outcome,
) -> bool {
    let batch_size = batch_size.max(1);
    let mut lines = Lines::new(pass, observer);
    let mut chunk = Chunk::default();
    let mut lines_in_chunk = 0usize;
    loop {
        let (line_no, line) = lines.next();
        match line {
            Line::Data => match classify(lines.text()) {
                Outcome::Row(row) => {
                    chunk.lines.push(line_no);
                    chunk.keys.push(row.key());
                    row.push(&mut chunk.request);
                }
                Outcome::Skip => chunk.skipped += 1,
                Outcome::Reject(reason) => chunk.rejections.push(line_no, reason.to_string()),
            },
            Line::NotUtf8 => chunk.rejections.push(line_no, Reject::NotUtf8.to_string()),
            Line::Eof | Line::Error(_) => {
                chunk.eof = true;
                if let Line::Error(e) = line {
                    chunk.error = Some(e);
                }
                chunk.last_line = chunk.last_line.max(line_no);
                lines.report(true);
                return tx.blocking_send(chunk).is_ok();
            }
        }
        chunk.rows_read += 1;
        chunk.last_line = line_no;
        lines_in_chunk += 1;
        if chunk.lines.len() >= batch_size || lines_in_chunk >= batch_size * MAX_LINES_PER_ROW {
            lines_in_chunk = 0;
            if tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
                return false;
            }
        }
    }
}

/// Reads a whole pass, handing every data line to `each`, unless `cancel` is set (checked every few thousand
/// lines). Returns the read error that ended it early, if any.
pub fn scan(pass: Pass, observer: &dyn Observer, cancel: &AtomicBool, mut each: impl FnMut(&str)) -> Option<String> {
    let mut lines = Lines::new(pass, observer);
    loop {
        let (line_no, line) = lines.next();
        match line {
            Line::Data => each(lines.text()),
            Line::NotUtf8 => {}
            Line::Eof => break,
            Line::Error(e) => return Some(e),
        }
        if line_no.is_multiple_of(REPORT_EVERY) && cancel.load(Ordering::Relaxed) {
            return Some("cancelled".into());
        }
    }
    lines.report(true);
    None
}

/// The first data line of `path` that `parse` accepts, looking at a handful of lines at most.
pub fn first_row<T>(path: &Path, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let mut reader = open(path, Arc::default()).ok()?;
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
