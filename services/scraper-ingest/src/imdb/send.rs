//! Sending one file: a blocking thread reads chunks while up to `concurrency` `UpsertBatch` calls run; their
//! answers are taken in file order, so the counts of every committed chunk can be added and handed to the
//! sink as a checkpoint that never skips a line.

use std::path::Path;
use std::sync::Arc;

use futures::FutureExt as _;
use futures::StreamExt as _;
use futures::stream::FuturesOrdered;
use iknow_proto::catalog::v1::UpsertBatchResponse;
use tokio::sync::{mpsc, watch};

use super::reader::{self, Chunk, Outcome, Pass};
use super::report::{FileReport, Rejections};
use super::{Failure, Kind, Options, Sink, bulk, file_name, size, stopped};
use crate::catalog::{self, CatalogClient};
use crate::progress::Observer;

/// The state of one import.
pub(super) struct Importer<'a, S> {
    pub client: &'a CatalogClient,
    pub opts: Options,
    /// One per file in import order.
    pub reports: Vec<FileReport>,
    pub sink: &'a mut S,
    pub observer: Arc<dyn Observer>,
    pub job_bytes_before: u64,
    pub job_bytes_total: u64,
}

async fn recv(rx: &mut Option<mpsc::Receiver<Chunk>>) -> Option<Chunk> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// One `UpsertBatch` of the chunk's rows (none for a chunk without rows).
async fn upsert(client: CatalogClient, chunk: Chunk, tries: u32) -> Result<(Chunk, UpsertBatchResponse), Failure> {
    if chunk.lines.is_empty() {
        return Ok((chunk, UpsertBatchResponse::default()));
    }
    match catalog::upsert(&client, &chunk.request, tries).await {
        Ok(resp) => Ok((chunk, resp)),
        Err(status) => {
            let first = chunk.lines.first().copied().unwrap_or(0);
            Err(Failure::Transient(format!(
                "UpsertBatch of the rows from line {first} failed: {}: {}",
                status.code(),
                status.message()
            )))
        }
    }
}

/// Adds a committed chunk and the catalogue's answer to the file's report.
fn absorb(report: &mut FileReport, kind: Kind, chunk: Chunk, resp: UpsertBatchResponse) {
    let written = kind.written(&resp);
    let mut refused = Rejections::default();
    let mut matched = vec![false; chunk.keys.len()];
    for row in resp.rejected {
        // Match the refused row back to its line: the first unmatched row whose ids the key names, each as a
        // whole part ("tt1/2" names neither "tt12" nor the aka "tt1/1"), in any order.
        let named: Vec<&str> = row.key.split('/').collect();
        let at = chunk
            .keys
            .iter()
            .enumerate()
            .position(|(i, key)| !matched[i] && key.split('/').all(|id| named.contains(&id)));
        let line = at.map_or(0, |i| {
            matched[i] = true;
            chunk.lines[i]
        });
        let what = if row.kind.is_empty() { String::new() } else { format!("{} ", row.kind) };
        refused.push(line, format!("{what}{}: {}", row.key, row.reason));
    }
    report.rows_read += chunk.rows_read;
    report.skipped += chunk.skipped;
    report.written += written;
    report.unchanged += (chunk.lines.len() as u64).saturating_sub(written).saturating_sub(refused.count());
    report.add_rejections(chunk.rejections);
    report.add_rejections(refused);
    report.committed_line = report.committed_line.max(chunk.last_line);
    if chunk.eof {
        report.complete = true;
        report.error = chunk.error;
    }
}

impl<S: Sink> Importer<'_, S> {
    /// A pass over `path` starting after line `skip_to`.
    pub fn pass(&self, path: &Path, skip_to: u64, label: String) -> Pass {
        Pass {
            path: path.to_path_buf(),
            label,
            skip_to,
            job_bytes_before: self.job_bytes_before,
            job_bytes_total: self.job_bytes_total,
        }
    }

    /// Imports the file `reports[index]` from its committed line on. True when the file is complete, false
    /// when `stop` asked to stop (every batch sent was committed and reported first).
    pub async fn run_file(
        &mut self,
        index: usize,
        path: &Path,
        kind: Kind,
        classify: Box<dyn FnMut(&str) -> Outcome + Send>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<bool, Failure> {
        let skip_to = self.reports[index].committed_line;
        if skip_to > 0 {
            tracing::info!(file = %file_name(path), after_line = skip_to, "resuming the file");
        }
        let pass = self.pass(path, skip_to, file_name(path));
        let load = match (&self.opts.bulk_load_id, kind) {
            (Some(id), Kind::Credits) => bulk::begin(self.client, id, self.opts.catalog_tries).await?,
            _ => None,
        };
        let (tx, rx) = mpsc::channel(self.opts.concurrency);
        let reading = {
            let observer = self.observer.clone();
            let batch_size = if load.is_some() { self.opts.bulk_chunk.max(1) } else { self.opts.batch_size };
            tokio::task::spawn_blocking(move || reader::read_chunks(pass, batch_size, tx, &*observer, classify))
        };
        let mut rx = Some(rx);
        let mut in_flight = FuturesOrdered::new();
        let mut complete = false;
        let outcome = loop {
            if rx.is_some() && stopped(stop) {
                // Dropping the receiver ends the reading thread at its next chunk; what is in flight finishes.
                rx = None;
            }
            tokio::select! {
                biased;
                done = in_flight.next(), if !in_flight.is_empty() => {
                    let Some(done) = done else { continue };
                    let (chunk, resp): (Chunk, UpsertBatchResponse) = match done {
                        Ok(done) => done,
                        Err(e) => break Err(e),
                    };
                    let (eof, line) = (chunk.eof, chunk.last_line);
                    absorb(&mut self.reports[index], kind, chunk, resp);
                    if eof && let Some(load) = &load {
                        // The file is staged: publish it before the checkpoint that says the file is complete.
                        tracing::info!(load_id = %load.id, "credits staged; the catalogue publishes them");
                        match bulk::finish(self.client, load, self.opts.catalog_tries).await {
                            Ok(state) => bulk::absorb(&mut self.reports[index], &state),
                            Err(e) => break Err(e),
                        }
                    }
                    let file = self.reports[index].file.clone();
                    if let Err(e) = self.sink.committed(&self.reports, &file, line).await {
                        break Err(e);
                    }
                    if eof {
                        complete = true;
                        break Ok(());
                    }
                }
                chunk = recv(&mut rx), if rx.is_some() && in_flight.len() < self.opts.concurrency => match chunk {
                    Some(chunk) => {
                        let (client, tries) = (self.client.clone(), self.opts.catalog_tries);
                        in_flight.push_back(match &load {
                            Some(load) => bulk::stage(client, load.clone(), chunk, tries).boxed(),
                            None => upsert(client, chunk, tries).boxed(),
                        });
                    }
                    None => rx = None,
                },
                _ = stop.changed(), if rx.is_some() => {}
                else => break Ok(()),
            }
        };
        drop(rx);
        drop(in_flight);
        let read = reading.await;
        outcome?;
        if complete {
            self.job_bytes_before += size(path);
            return Ok(true);
        }
        if stopped(stop) {
            return Ok(false);
        }
        // The reader ended without its last chunk and nobody asked to stop: it failed.
        Err(Failure::Transient(match read {
            Err(e) => format!("reading {} failed: {e}", file_name(path)),
            Ok(_) => format!("reading {} ended early", file_name(path)),
        }))
    }
}
