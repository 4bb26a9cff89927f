//! Progress of an import on the terminal: one bar per file (bytes, rows, rows/s, ETA from bytes), or, when
//! stdout is not a terminal, a progress line logged every few seconds.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use scraper_ingest::progress::{Observer, Progress};

/// How often a progress line is logged when no bar is drawn.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Whether to draw bars: only when stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

struct Current {
    file: String,
    bar: ProgressBar,
}

/// Draws the progress it is given (from the reading thread of a direct import, or from a followed job).
pub struct Bars {
    draw: bool,
    current: Mutex<Option<Current>>,
    last_log: Mutex<Instant>,
}

fn bar(label: &str, len: u64, draw: bool) -> ProgressBar {
    if !draw {
        let bar = ProgressBar::hidden();
        bar.set_length(len);
        return bar;
    }
    let style = ProgressStyle::with_template(
        "{prefix:<30} [{bar:30.cyan/blue}] {binary_bytes}/{binary_total_bytes} {msg} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    ProgressBar::new(len).with_style(style).with_prefix(label.to_string())
}

impl Bars {
    pub fn new(draw: bool) -> Self {
        Self { draw, current: Mutex::new(None), last_log: Mutex::new(Instant::now()) }
    }

    /// Prints a line above the bars.
    pub fn println(&self, line: &str) {
        match self.current.lock().ok().as_ref().and_then(|c| c.as_ref()) {
            Some(c) if self.draw => c.bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// Finishes the bar of the current file.
    pub fn finish(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some(c) = current.take()
        {
            c.bar.finish();
        }
    }
}

impl Observer for Bars {
    fn progress(&self, p: &Progress) {
        let Ok(mut current) = self.current.lock() else { return };
        if current.as_ref().is_none_or(|c| c.file != p.file) {
            if let Some(c) = current.take() {
                c.bar.finish();
            }
            *current = Some(Current { file: p.file.clone(), bar: bar(&p.file, p.bytes_total, self.draw) });
        }
        let Some(c) = current.as_ref() else { return };
        c.bar.set_length(p.bytes_total);
        c.bar.set_position(p.bytes_read.min(p.bytes_total));
        c.bar.set_message(format!("{} rows, {:.0} rows/s", p.rows_read, p.rows_per_second));
        if p.done {
            c.bar.set_message(format!("{} rows", p.rows_read));
            c.bar.finish();
            return;
        }
        if !self.draw
            && let Ok(mut last) = self.last_log.lock()
            && last.elapsed() >= LOG_EVERY
        {
            *last = Instant::now();
            tracing::info!(
                file = %p.file,
                bytes = p.bytes_read,
                total_bytes = p.bytes_total,
                rows = p.rows_read,
                rows_per_second = p.rows_per_second.round(),
                "import progress"
            );
        }
    }
}
