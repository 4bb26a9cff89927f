//! Idempotent view recording: a client's key records a view once per user, a retry answers the entry that key
//! recorded (even with another body, even while the catalogue is down), concurrent calls with one key record
//! one row, keys are each user's own, and they go with their entry (deletion, erasure).

use iknow_proto::library::v1 as pb;

use crate::helpers::*;

fn keyed(user: &str, content_id: &str, key: &str) -> pb::RecordViewRequest {
    pb::RecordViewRequest {
        user_id: user.into(),
        content_id: content_id.into(),
        idempotency_key: Some(key.into()),
        ..Default::default()
    }
}

async fn count(app: &TestApp, sql: &str, user: &str) -> i64 {
    let user: uuid::Uuid = user.parse().unwrap();
    sqlx::query_scalar(sql).bind(user).fetch_one(&app.pool).await.unwrap()
}

async fn rows(app: &TestApp, user: &str) -> i64 {
    count(app, "SELECT count(*) FROM viewing_history WHERE user_id = $1", user).await
}

async fn keys(app: &TestApp, user: &str) -> i64 {
    count(app, "SELECT count(*) FROM viewing_history_keys WHERE user_id = $1", user).await
}

#[tokio::test]
async fn a_key_records_once_and_a_retry_answers_the_first_entry_unchanged() {
    let app = spawn().await;
    let u = user();
    let (matrix, gump) = (app.titles.id(MATRIX).await, app.titles.id(GUMP).await);

    let first = app
        .view(pb::RecordViewRequest {
            duration: Some(30),
            viewed_at: Some(at(2, 10, 0).to_rfc3339()),
            ..keyed(&u, &matrix, "k-1")
        })
        .await
        .unwrap();
    assert!(!first.replayed && !first.updated, "{first:?}");
    let entry = first.entry.unwrap();

    let retry = app
        .view(pb::RecordViewRequest {
            duration: Some(30),
            viewed_at: Some(at(2, 10, 0).to_rfc3339()),
            ..keyed(&u, &matrix, "k-1")
        })
        .await
        .unwrap();
    assert!(retry.replayed, "the same key again is a replay");
    assert!(!retry.updated, "as first answered: the view added a row");
    assert_eq!(retry.entry.as_ref(), Some(&entry), "the same entry, unchanged");

    // Another body under the same key, for a title the library has never seen, while the catalogue is down:
    // still the first entry (bodies are not compared), and the catalogue is not asked.
    app.catalog_proxy.cut();
    let other_body = app.view(pb::RecordViewRequest { duration: Some(99), ..keyed(&u, &gump, "k-1") }).await.unwrap();
    app.catalog_proxy.restore();
    assert!(other_body.replayed);
    assert_eq!(other_body.entry.as_ref(), Some(&entry));
    assert_eq!(app.all_history(&u).await, std::slice::from_ref(&entry), "one row, its values untouched");

    // A new key records as usual (same title, same day: the day's row is updated).
    let next = app
        .view(pb::RecordViewRequest {
            duration: Some(60),
            viewed_at: Some(at(2, 11, 0).to_rfc3339()),
            ..keyed(&u, &matrix, "k-2")
        })
        .await
        .unwrap();
    assert!(!next.replayed && next.updated);
    assert_eq!(next.entry.as_ref().unwrap().id, entry.id);
    assert_eq!(next.entry.as_ref().unwrap().duration, Some(60));
    assert_eq!((rows(&app, &u).await, keys(&app, &u).await), (1, 2));

    let bad = app.view(keyed(&u, &matrix, "has space")).await.unwrap_err();
    assert_eq!(fields(&bad), ["idempotencyKey"]);
}

#[tokio::test]
async fn every_key_merged_into_a_days_row_keeps_answering_it_and_a_replay_never_rewinds_it() {
    let app = spawn().await;
    let u = user();
    let matrix = app.titles.id(MATRIX).await;
    let view = |key: &str, hour: u32, completion: f64| pb::RecordViewRequest {
        viewed_at: Some(at(1, hour, 0).to_rfc3339()),
        completion_percentage: Some(completion),
        ..keyed(&u, &matrix, key)
    };
    let a = app.view(view("a", 9, 40.0)).await.unwrap();
    let b = app.view(view("b", 10, 80.0)).await.unwrap();
    assert!(!a.updated && b.updated);
    let id = a.entry.unwrap().id;
    assert_eq!(b.entry.as_ref().unwrap().id, id, "b merged into a's row");

    // A late retry of `a` (its answer was lost): nothing goes back to 40%.
    let replay_a = app.view(view("a", 9, 40.0)).await.unwrap();
    assert!(replay_a.replayed && !replay_a.updated);
    let now = replay_a.entry.unwrap();
    assert_eq!((now.id.as_str(), now.completion_percentage), (id.as_str(), Some(80.0)), "the row as it stands");
    let replay_b = app.view(view("b", 10, 80.0)).await.unwrap();
    assert!(replay_b.replayed && replay_b.updated, "b's first answer said updated");
    assert_eq!(replay_b.entry.unwrap().id, id);
    assert_eq!(rows(&app, &u).await, 1);
}

#[tokio::test]
async fn concurrent_calls_with_one_key_record_exactly_one_row() {
    let app = spawn().await;
    let titles = [MATRIX, BIG, GUMP, INCEPTION];
    let mut ids = Vec::new();
    for t in titles {
        ids.push(app.titles.id(t).await);
    }
    // Same body on every call, then a different title on every call (a client bug): one row either way.
    for same_body in [true, false] {
        let u = user();
        let calls = (0..8).map(|i| {
            let content = if same_body { &ids[0] } else { &ids[i % ids.len()] };
            let request = keyed(&u, content, "one-key");
            let mut client = app.client.clone();
            tokio::spawn(async move { client.record_view(request).await.map(|r| r.into_inner()) })
        });
        let answers: Vec<pb::RecordViewResponse> =
            futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
        assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1, "one call recorded: {answers:?}");
        let first = answers.iter().find(|a| !a.replayed).unwrap().entry.clone().unwrap();
        assert!(answers.iter().all(|a| a.entry.as_ref().unwrap().id == first.id), "every answer is that entry");
        assert_eq!((rows(&app, &u).await, keys(&app, &u).await), (1, 1), "same body: {same_body}");
    }
}

#[tokio::test]
async fn keys_are_each_users_own_and_go_with_their_entries() {
    let app = spawn().await;
    let (u, other) = (user(), user());
    let (matrix, big) = (app.titles.id(MATRIX).await, app.titles.id(BIG).await);

    let mine = app.view(keyed(&u, &matrix, "shared")).await.unwrap();
    let theirs = app.view(keyed(&other, &matrix, "shared")).await.unwrap();
    assert!(!mine.replayed && !theirs.replayed, "another user's same key is independent");
    assert_ne!(mine.entry.as_ref().unwrap().id, theirs.entry.as_ref().unwrap().id);
    assert_eq!((rows(&app, &u).await, rows(&app, &other).await), (1, 1));

    // Deleting an entry forgets its keys: the key records anew.
    app.delete_entry(&u, &mine.entry.as_ref().unwrap().id).await.unwrap();
    assert_eq!(keys(&app, &u).await, 0);
    let again = app.view(keyed(&u, &matrix, "shared")).await.unwrap();
    assert!(!again.replayed);
    assert_ne!(again.entry.unwrap().id, mine.entry.unwrap().id);

    // The export leaves keys out; the erasure takes them with the rows, and only the user's.
    app.view(keyed(&u, &big, "second")).await.unwrap();
    let export = app.export(&u).await.to_string();
    assert!(!export.contains("shared") && !export.contains("second"), "{export}");
    let counts = app
        .client
        .clone()
        .delete_user_data(pb::DeleteUserDataRequest { user_id: u.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(counts.history_deleted, 2);
    assert_eq!((rows(&app, &u).await, keys(&app, &u).await), (0, 0));
    assert_eq!(keys(&app, &other).await, 1, "another user's key stays");
    let replay = app.view(keyed(&other, &matrix, "shared")).await.unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.entry.unwrap().id, theirs.entry.unwrap().id);
}
