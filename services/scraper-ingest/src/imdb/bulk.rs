//! The credits file of a first import, through the catalogue's bulk load (`BeginCreditsLoad`,
//! `StageCredits`, `FinishCreditsLoad`) instead of `UpsertBatch`: chunks are staged as they are read (each
//! one a checkpoint, like a committed batch), and at the end of the file the catalogue publishes them all.
//! The file's report then says what the catalogue wrote: credits naming unknown actors or titles are
//! rejected with their lines, keys the file repeats count as unchanged.

use std::time::Duration;

use iknow_proto::catalog::v1::{
    BeginCreditsLoadRequest, CreditsLoadState, FinishCreditsLoadRequest, StageCreditsRequest, UpsertBatchResponse,
};

use super::Failure;
use super::reader::Chunk;
use super::report::{FileReport, Rejections};
use crate::catalog::{self, CatalogClient};

/// Pause between two polls of a finishing load.
const POLL: Duration = Duration::from_millis(500);

/// A bulk load in use for the credits file.
#[derive(Debug, Clone)]
pub struct Load {
    pub id: String,
    /// The catalogue had finished it already (a job resumed after the catalogue published but before the
    /// job saved its last checkpoint): the remaining chunks are counted, not sent.
    pub finished: bool,
}

fn failure(what: &str, status: &tonic::Status) -> Failure {
    let text = format!("{what} failed: {}: {}", status.code(), status.message());
    if catalog::is_transient(status.code()) { Failure::Transient(text) } else { Failure::Permanent(text) }
}

/// Opens (or reopens) the load `id`; `None` when the catalogue already has credits (use `UpsertBatch`).
pub async fn begin(client: &CatalogClient, id: &str, tries: u32) -> Result<Option<Load>, Failure> {
    let request = BeginCreditsLoadRequest { load_id: id.to_owned() };
    let state = catalog::retry(tries, || {
        let (mut client, request) = (client.clone(), request.clone());
        async move { client.begin_credits_load(request).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|s| failure("BeginCreditsLoad", &s))?;
    if !state.accepted {
        tracing::info!(reason = %state.reason, "credits go through UpsertBatch");
        return Ok(None);
    }
    tracing::info!(load_id = id, state = %state.state, staged = state.staged, "credits go through a bulk load");
    Ok(Some(Load { id: id.to_owned(), finished: state.state == "finished" }))
}

/// Stages the chunk's credits; the answer in `UpsertBatch`'s shape (staged credits as written) so the
/// report adds it like a committed batch.
pub async fn stage(
    client: CatalogClient,
    load: Load,
    mut chunk: Chunk,
    tries: u32,
) -> Result<(Chunk, UpsertBatchResponse), Failure> {
    if chunk.lines.is_empty() {
        return Ok((chunk, UpsertBatchResponse::default()));
    }
    if load.finished {
        let n = u32::try_from(chunk.lines.len()).unwrap_or(u32::MAX);
        return Ok((chunk, UpsertBatchResponse { credits_written: n, ..Default::default() }));
    }
    let request = StageCreditsRequest {
        load_id: load.id.clone(),
        first_line: chunk.lines[0],
        last_line: chunk.last_line,
        // Moved, not copied: the report needs only the chunk's lines and keys.
        credits: std::mem::take(&mut chunk.request.credits),
        lines: chunk.lines.clone(),
    };
    let resp = catalog::retry(tries, || {
        let (mut client, request) = (client.clone(), request.clone());
        async move { client.stage_credits(request).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|s| failure(&format!("StageCredits of the rows from line {}", chunk.lines[0]), &s))?;
    Ok((chunk, UpsertBatchResponse { credits_written: resp.staged, rejected: resp.rejected, ..Default::default() }))
}

/// Asks the catalogue to publish the load and waits until it has.
pub async fn finish(client: &CatalogClient, load: &Load, tries: u32) -> Result<CreditsLoadState, Failure> {
    let request = FinishCreditsLoadRequest { load_id: load.id.clone() };
    let mut last_reason = String::new();
    loop {
        let state = catalog::retry(tries, || {
            let (mut client, request) = (client.clone(), request.clone());
            async move { client.finish_credits_load(request).await.map(tonic::Response::into_inner) }
        })
        .await
        .map_err(|s| failure("FinishCreditsLoad", &s))?;
        if state.state == "finished" {
            return Ok(state);
        }
        if !state.reason.is_empty() && state.reason != last_reason {
            tracing::warn!(reason = %state.reason, "the catalogue's finish failed; it is tried again");
            last_reason = state.reason.clone();
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Replaces the staged counts of the file's report by what the catalogue published.
pub fn absorb(report: &mut FileReport, state: &CreditsLoadState) {
    let staged = report.written;
    let mut refused = Rejections::default();
    for r in &state.rejected {
        refused.push(r.line, format!("credit {}: {}", r.key, r.reason));
    }
    refused.count_more(state.rejected_count.saturating_sub(state.rejected.len() as u64));
    report.written = state.credits_written;
    // What was staged but not written and not refused: keys repeated in the file, kept once.
    report.unchanged += staged.saturating_sub(state.credits_written).saturating_sub(refused.count());
    report.add_rejections(refused);
}
