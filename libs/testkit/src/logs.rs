//! Log lines a test reads back: a [`Capture`] is the writer of a `tracing` subscriber that is the thread's
//! default while the guard lives.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::Level;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// Everything a test's subscriber wrote, as plain (not ANSI-coloured) text lines.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// A subscriber writing every line at `level` or above here, the default of this thread while the guard
    /// lives. Tests that use it run on a current-thread runtime, so the tasks of the code under test (servers,
    /// relays, consumers) log here too.
    pub fn install(level: Level) -> (Self, DefaultGuard) {
        let capture = Self::default();
        let subscriber =
            tracing_subscriber::fmt().with_max_level(level).with_writer(capture.clone()).with_ansi(false).finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// How many lines contain both `level` (`"WARN"`, say; `""` for any) and `text`.
    pub fn lines(&self, level: &str, text: &str) -> usize {
        self.text().lines().filter(|l| l.contains(level) && l.contains(text)).count()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
