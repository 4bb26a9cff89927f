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

#[cfg(test)]
mod tests {
    use iknow_proto::catalog::v1::{CreditInput, RejectedLine};

    use super::*;

    #[test]
    fn a_failed_call_is_transient_only_when_trying_again_can_help() {
        let down = failure("BeginCreditsLoad", &tonic::Status::unavailable("catalogue restarting"));
        assert!(
            matches!(&down, Failure::Transient(e) if e.starts_with("BeginCreditsLoad failed: ") && e.ends_with(": catalogue restarting")),
            "{down:?}"
        );
        let refused = failure("StageCredits", &tonic::Status::invalid_argument("bad load id"));
        assert!(matches!(&refused, Failure::Permanent(e) if e.ends_with("bad load id")), "{refused:?}");
    }

    #[tokio::test]
    async fn chunks_of_a_finished_load_are_counted_not_sent() {
        // Nothing listens there: a call would fail.
        let dead = iknow_testkit::dead_addr().await;
        let client = catalog::lazy(&format!("http://{dead}"), Duration::from_millis(200), Duration::from_secs(1))
            .expect("a lazy client");
        let mut chunk = Chunk { lines: vec![2, 3, 5], last_line: 5, ..Chunk::default() };
        chunk.request.credits = vec![CreditInput::default(); 3];
        let finished = Load { id: "load-1".into(), finished: true };
        let (chunk, answer) = stage(client.clone(), finished, chunk, 1).await.expect("counted");
        assert_eq!(answer.credits_written, 3);
        assert_eq!(chunk.request.credits.len(), 3, "kept: nothing was sent");

        let (_, answer) = stage(client.clone(), Load { id: "load-1".into(), finished: false }, Chunk::default(), 1)
            .await
            .expect("an empty chunk needs no call");
        assert_eq!(answer, UpsertBatchResponse::default());

        let open = Load { id: "load-1".into(), finished: false };
        let Err(Failure::Transient(e)) = stage(client, open, chunk, 1).await else { panic!("the catalogue is down") };
        assert!(e.starts_with("StageCredits of the rows from line 2 failed"), "{e}");
    }

    #[test]
    fn absorbing_the_published_load_replaces_staged_counts() {
        let mut report = FileReport::new("title.principals.tsv");
        report.rows_read = 10;
        report.written = 9;
        report.unchanged = 1;
        let state = CreditsLoadState {
            state: "finished".into(),
            credits_written: 5,
            rejected_count: 3,
            rejected: vec![RejectedLine { line: 4, key: "nm1/tt1".into(), reason: "unknown actor".into() }],
            ..CreditsLoadState::default()
        };
        absorb(&mut report, &state);
        assert_eq!(report.written, 5);
        assert_eq!(report.rejected, 3, "every refused credit is counted, listed or not");
        assert_eq!(report.rejections.len(), 1);
        assert_eq!(
            (report.rejections[0].line, report.rejections[0].reason.as_str()),
            (4, "credit nm1/tt1: unknown actor")
        );
        // 9 staged, 5 written, 3 refused: the one left was a repeated key.
        assert_eq!(report.unchanged, 2);
    }
}
