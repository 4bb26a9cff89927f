//! The bulk first load at the catalogue's own gRPC surface: credits resolved from the staging replica's id map
//! go straight into the new table, the others through the stage and the finish's join; a name written after
//! the map was read, an actor deleted in the middle of a load, and a chunk sent twice.

use std::time::{Duration, Instant};

use iknow_proto::catalog::v1::{
    BeginCreditsLoadRequest, CreditInput, CreditsLoadState, FinishCreditsLoadRequest, StageCreditsRequest,
    UpsertBatchRequest,
};

use crate::helpers::*;

const LOAD: &str = "load-1";

/// Actors and titles of the sample, no credits.
fn names_and_titles() -> UpsertBatchRequest {
    UpsertBatchRequest { credits: vec![], episodes: vec![], ..sample() }
}

async fn stage(app: &mut TestApp, first_line: u64, credits: Vec<CreditInput>) -> u32 {
    let lines: Vec<u64> = (first_line..first_line + credits.len() as u64).collect();
    let request =
        StageCreditsRequest { load_id: LOAD.into(), first_line, last_line: *lines.last().unwrap(), credits, lines };
    app.client.stage_credits(request).await.expect("stage").into_inner().staged
}

async fn finish(app: &mut TestApp) -> CreditsLoadState {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let request = FinishCreditsLoadRequest { load_id: LOAD.into() };
        let state = app.client.finish_credits_load(request).await.expect("finish").into_inner();
        if state.state == "finished" {
            return state;
        }
        assert!(Instant::now() < deadline, "the load did not finish: {state:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn begin(app: &mut TestApp) -> CreditsLoadState {
    let request = BeginCreditsLoadRequest { load_id: LOAD.into() };
    app.client.begin_credits_load(request).await.expect("begin").into_inner()
}

/// (actor imdb id, title imdb id, characters, credit order) of every credit.
async fn credits(app: &TestApp) -> Vec<(String, String, Vec<String>, Option<i32>)> {
    sqlx::query_as(
        "SELECT a.imdb_id, c.imdb_id, f.characters, f.credit_order FROM filmography f \
         JOIN actors a ON a.id = f.actor_id JOIN content c ON c.id = f.content_id ORDER BY 1, 2",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// Whether each of `filmography`'s foreign keys is validated, by name.
async fn foreign_keys(app: &TestApp) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT conname::text, convalidated FROM pg_constraint \
         WHERE conrelid = 'filmography'::regclass AND contype = 'f' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn stage_rows(app: &TestApp, table: &str) -> i64 {
    let stage: String = sqlx::query_scalar("SELECT stage_table FROM bulk_loads").fetch_one(&app.pool).await.unwrap();
    let table = if table == "stage" { stage } else { stage.replacen("bulk_stage_", "bulk_next_", 1) };
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test]
async fn names_written_after_the_map_was_read_go_through_the_stage_and_are_written() {
    let mut app = spawn_app().await;
    app.upsert(names_and_titles()).await;
    assert!(begin(&mut app).await.accepted);
    // The map was read when the load began: both credits are known, and go straight into the new table.
    let first =
        vec![credit(HANKS, BIG, &["Josh Baskin"], 1), credit(REEVES, MATRIX, &["Neo", "Thomas A. Anderson"], 1)];
    assert_eq!(stage(&mut app, 2, first).await, 2);
    assert_eq!((stage_rows(&app, "next").await, stage_rows(&app, "stage").await), (2, 0));
    // A name that arrives after it (a TMDB job, say) is not in the map: its credit waits in the stage.
    let late = UpsertBatchRequest { actors: vec![actor("nm7000001", "Late Arrival", None)], ..Default::default() };
    app.upsert(late).await;
    let second = vec![credit("nm7000001", GUMP, &["Bystander"], 9), credit("nm7000002", GUMP, &["Nobody"], 10)];
    assert_eq!(stage(&mut app, 4, second).await, 2);
    assert_eq!((stage_rows(&app, "next").await, stage_rows(&app, "stage").await), (2, 2));

    let done = finish(&mut app).await;
    assert_eq!((done.credits_written, done.rejected_count), (3, 1), "{done:?}");
    assert_eq!(done.rejected.len(), 1);
    assert_eq!((done.rejected[0].line, done.rejected[0].reason.as_str()), (5, "unknown actor"));
    let written = credits(&app).await;
    let expected = [
        (HANKS, BIG, vec!["Josh Baskin"], Some(1)),
        (REEVES, MATRIX, vec!["Neo", "Thomas A. Anderson"], Some(1)),
        ("nm7000001", GUMP, vec!["Bystander"], Some(9)),
    ];
    let mut expected: Vec<_> = expected
        .into_iter()
        .map(|(a, c, ch, o)| (a.to_owned(), c.to_owned(), ch.into_iter().map(String::from).collect(), o))
        .collect();
    expected.sort();
    assert_eq!(written, expected);

    // Nothing was deleted during the load: published with both foreign keys enforced, the loaded rows
    // validated right after.
    let orphan = sqlx::query(
        "INSERT INTO filmography (id, actor_id, content_id, category) \
         SELECT gen_random_uuid(), gen_random_uuid(), id, 'actor' FROM content LIMIT 1",
    )
    .execute(&app.pool)
    .await;
    assert!(orphan.is_err(), "the actor foreign key holds for new rows at once");
    let validated = iknow_testkit::eventually(30, || async {
        let keys = foreign_keys(&app).await;
        keys.iter().all(|(_, valid)| *valid).then_some(keys)
    })
    .await;
    let names: Vec<&str> = validated.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["filmography_actor_id_fkey", "filmography_content_id_fkey"]);
}

#[tokio::test]
async fn an_actor_deleted_during_the_load_takes_its_staged_credits_with_it() {
    let mut app = spawn_app().await;
    app.upsert(names_and_titles()).await;
    assert!(begin(&mut app).await.accepted);
    let chunk = vec![credit(HANKS, BIG, &["Josh Baskin"], 1), credit(HARDY, INCEPTION, &["Eames"], 4)];
    assert_eq!(stage(&mut app, 2, chunk).await, 2);
    // Hardy was resolved from the map; then his row goes (nothing in the service deletes actors; an operator
    // could).
    sqlx::query("DELETE FROM actors WHERE imdb_id = $1").bind(HARDY).execute(&app.pool).await.unwrap();

    let done = finish(&mut app).await;
    assert_eq!((done.credits_written, done.rejected_count), (1, 1), "{done:?}");
    let written = credits(&app).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].0, HANKS);
    let deletions: i64 = sqlx::query_scalar("SELECT deletions FROM bulk_loads").fetch_one(&app.pool).await.unwrap();
    assert_eq!(deletions, 1, "the delete was counted");
    let valid: Vec<bool> = foreign_keys(&app).await.into_iter().map(|(_, valid)| valid).collect();
    assert_eq!(valid, [true, true], "both foreign keys validated before the swap");
}

#[tokio::test]
async fn a_chunk_sent_twice_is_staged_once_and_a_finished_load_answers_its_result() {
    let mut app = spawn_app().await;
    app.upsert(names_and_titles()).await;
    assert!(begin(&mut app).await.accepted);
    let chunk = || vec![credit(HANKS, BIG, &["Josh Baskin"], 1), credit(CRUZ, VOLVER, &["Raimunda"], 1)];
    assert_eq!(stage(&mut app, 2, chunk()).await, 2);
    assert_eq!(stage(&mut app, 2, chunk()).await, 2, "a retry answers like the first call");
    assert_eq!(stage_rows(&app, "next").await, 2, "and writes nothing");
    let done = finish(&mut app).await;
    assert_eq!((done.staged, done.credits_written, done.duplicates), (2, 2, 0), "{done:?}");
    assert_eq!(finish(&mut app).await, done, "finishing again changes nothing");
    assert_eq!(begin(&mut app).await.state, "finished");
    let err = app
        .client
        .stage_credits(StageCreditsRequest {
            load_id: LOAD.into(),
            first_line: 9,
            last_line: 9,
            credits: chunk()[..1].to_vec(),
            lines: vec![9],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "no chunk after the finish: {err:?}");
}
