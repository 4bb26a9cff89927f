//! Viewing history: same-day updates, rewatches on other days, ranges, paging, deletion, validation, the
//! seen-content summary and the user's export and erasure.

use chrono::{DateTime, Duration, Utc};
use iknow_proto::library::v1 as pb;
use tonic::Code;

use crate::helpers::*;

fn parse(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn a_second_view_the_same_utc_day_updates_that_row_and_another_day_adds_one() {
    let app = spawn().await;
    let u = user();
    let matrix = app.titles.id(MATRIX).await;
    let view = |when: DateTime<Utc>, duration: Option<i32>, completion: Option<f64>| pb::RecordViewRequest {
        user_id: u.clone(),
        content_id: matrix.clone(),
        viewed_at: Some(when.to_rfc3339()),
        duration,
        total_duration: Some(136),
        completion_percentage: completion,
        ..Default::default()
    };

    let first = app.view(view(at(3, 10, 0), Some(30), Some(22.06))).await.unwrap();
    assert!(!first.updated);
    let first = first.entry.unwrap();
    assert_eq!((first.duration, first.completion_percentage), (Some(30), Some(22.06)));
    assert_eq!(first.content.as_ref().unwrap().title, "The Matrix");

    let second = app.view(view(at(3, 21, 0), Some(120), Some(88.24))).await.unwrap();
    assert!(second.updated, "same title, same UTC day: the row is updated");
    let second = second.entry.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(parse(&second.viewed_at), at(3, 21, 0));
    assert_eq!((second.duration, second.completion_percentage), (Some(120), Some(88.24)), "the new values");

    // A late report of an earlier view that day: viewed_at stays the later one; omitted values are kept.
    let late = app.view(view(at(3, 8, 0), Some(5), None)).await.unwrap();
    assert!(late.updated);
    let late = late.entry.unwrap();
    assert_eq!(parse(&late.viewed_at), at(3, 21, 0));
    assert_eq!((late.duration, late.completion_percentage), (Some(5), Some(88.24)));

    let rewatch = app.view(view(at(1, 20, 0), Some(136), Some(100.0))).await.unwrap();
    assert!(!rewatch.updated, "another day is a new row");
    assert_ne!(rewatch.entry.as_ref().unwrap().id, first.id);

    // 23:30 at UTC-5 is the next UTC day: a row of its own.
    let evening = at(3, 0, 0) + Duration::hours(4) + Duration::minutes(30);
    let local = evening.with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).unwrap()).to_rfc3339();
    assert!(local.contains("T23:30:00-05:00"), "{local}");
    let next_utc_day =
        app.view(pb::RecordViewRequest { viewed_at: Some(local), ..view(at(3, 0, 0), None, None) }).await.unwrap();
    assert!(next_utc_day.updated, "23:30-05:00 on the day before is 04:30 UTC on the same day as the first view");

    let history = app.all_history(&u).await;
    assert_eq!(history.len(), 2);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM viewing_history").fetch_one(&app.pool).await.unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn history_is_newest_first_within_an_inclusive_range_and_paged() {
    let app = spawn().await;
    let u = user();
    let titles = [MATRIX, BIG, GUMP, INCEPTION, PILOT];
    let mut when = vec![];
    for (i, imdb) in titles.iter().enumerate() {
        let t = at(10 - i as i64, 12, 0);
        app.view_at(&u, &app.titles.id(imdb).await, t, Some(10)).await;
        when.push(t);
    }
    let all = app.history(pb::ListHistoryRequest { user_id: u.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(all.total, 5);
    let names: Vec<String> = all.entries.iter().map(|e| e.content.as_ref().unwrap().title.clone()).collect();
    assert_eq!(names, ["Pilot", "Inception", "Forrest Gump", "Big", "The Matrix"], "newest first");

    let range = |from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>, limit: Option<i32>, offset: Option<i32>| {
        pb::ListHistoryRequest {
            user_id: u.clone(),
            from: from.map(|t| t.to_rfc3339()),
            to: to.map(|t| t.to_rfc3339()),
            limit,
            offset,
            ascending: false,
        }
    };
    let inclusive = app.history(range(Some(when[1]), Some(when[3]), None, None)).await.unwrap();
    let got: Vec<DateTime<Utc>> = inclusive.entries.iter().map(|e| parse(&e.viewed_at)).collect();
    assert_eq!(got, [when[3], when[2], when[1]], "both ends are inclusive");
    assert_eq!(inclusive.total, 3);
    let from_only = app.history(range(Some(when[3] + Duration::seconds(1)), None, None, None)).await.unwrap();
    assert_eq!(from_only.total, 1);
    let to_only = app.history(range(None, Some(when[0]), None, None)).await.unwrap();
    assert_eq!(to_only.total, 1);
    let page = app.history(range(None, None, Some(2), Some(2))).await.unwrap();
    let got: Vec<DateTime<Utc>> = page.entries.iter().map(|e| parse(&e.viewed_at)).collect();
    assert_eq!((got, page.total), (vec![when[2], when[1]], 5));
}

#[tokio::test]
async fn ascending_history_is_oldest_first_and_the_mirror_of_newest_first() {
    let app = spawn().await;
    let u = user();
    let mut when = vec![];
    for (i, imdb) in [MATRIX, BIG, GUMP, INCEPTION, PILOT].iter().enumerate() {
        let t = at(10 - i as i64, 12, 0);
        app.view_at(&u, &app.titles.id(imdb).await, t, Some(10)).await;
        when.push(t);
    }
    // Two views at the same instant: the id breaks the tie, reversed with the order.
    app.view_at(&u, &app.titles.id(DRIVE).await, when[4], Some(10)).await;
    let query = |from: Option<DateTime<Utc>>, limit: Option<i32>, offset: Option<i32>, ascending: bool| {
        pb::ListHistoryRequest {
            user_id: u.clone(),
            from: from.map(|t| t.to_rfc3339()),
            to: None,
            limit,
            offset,
            ascending,
        }
    };
    let times =
        |r: &pb::ListHistoryResponse| -> Vec<DateTime<Utc>> { r.entries.iter().map(|e| parse(&e.viewed_at)).collect() };

    let all = app.history(query(None, None, None, true)).await.unwrap();
    assert_eq!((times(&all), all.total), (vec![when[0], when[1], when[2], when[3], when[4], when[4]], 6));
    let page = app.history(query(None, Some(2), Some(1), true)).await.unwrap();
    assert_eq!((times(&page), page.total), (vec![when[1], when[2]], 6));
    let from = app.history(query(Some(when[2]), Some(2), Some(1), true)).await.unwrap();
    assert_eq!((times(&from), from.total), (vec![when[3], when[4]], 4), "the range holds, oldest first");
    let past_the_end = app.history(query(None, Some(2), Some(6), true)).await.unwrap();
    assert_eq!((past_the_end.entries.len(), past_the_end.total), (0, 6));

    for (limit, offset) in [(1, 0), (2, 0), (2, 3), (3, 4), (6, 0), (4, 5)] {
        let up = app.history(query(None, Some(limit), Some(offset), true)).await.unwrap();
        let end = 6 - offset;
        let start = (end - limit).max(0);
        let down = app.history(query(None, Some(end - start), Some(start), false)).await.unwrap();
        let mirrored: Vec<pb::HistoryEntry> = down.entries.into_iter().rev().collect();
        assert_eq!(up.entries, mirrored, "limit {limit}, offset {offset}");
    }
}

#[tokio::test]
async fn a_deleted_history_entry_is_gone_and_cannot_be_deleted_twice() {
    let app = spawn().await;
    let u = user();
    let big = app.titles.id(BIG).await;
    let kept = app.view_at(&u, &big, at(2, 9, 0), None).await.entry.unwrap();
    let gone = app.view_at(&u, &big, at(1, 9, 0), None).await.entry.unwrap();
    app.delete_entry(&u, &gone.id).await.expect("deleted");
    let ids: Vec<String> = app.all_history(&u).await.into_iter().map(|e| e.id).collect();
    assert_eq!(ids, [kept.id]);
    let err = app.delete_entry(&u, &gone.id).await.unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "HISTORY_ENTRY_NOT_FOUND"));
    let err = app.delete_entry(&u, "nope").await.unwrap_err();
    assert_eq!(fields(&err), ["id"]);
}

#[tokio::test]
async fn views_are_validated_field_by_field() {
    let app = spawn().await;
    let u = user();
    let err = app
        .view(pb::RecordViewRequest {
            user_id: u.clone(),
            content_id: "x".into(),
            actor_id: Some("y".into()),
            viewed_at: Some((Utc::now() + Duration::minutes(10)).to_rfc3339()),
            duration: Some(-5),
            total_duration: Some(0),
            completion_percentage: Some(100.01),
            context_json: Some(r#"{"platform": "tv", "device": "phone"}"#.into()),
            idempotency_key: Some("k".repeat(101)),
        })
        .await
        .unwrap_err();
    assert_eq!(
        fields(&err),
        [
            "contentId",
            "actorId",
            "viewedAt",
            "duration",
            "totalDuration",
            "completionPercentage",
            "context",
            "idempotencyKey"
        ]
    );
    let matrix = app.titles.id(MATRIX).await;
    for (context, ok) in [
        (r#"{"platform": "Netflix", "season": 2, "episode": 5}"#, true),
        (r#"{"season": -1}"#, false),
        (r#"["tv"]"#, false),
        (r#"{"platform": 7}"#, false),
    ] {
        let r = app
            .view(pb::RecordViewRequest {
                user_id: u.clone(),
                content_id: matrix.clone(),
                context_json: Some(context.into()),
                ..Default::default()
            })
            .await;
        match r {
            Ok(v) => {
                assert!(ok, "{context} accepted");
                let stored: serde_json::Value = serde_json::from_str(&v.entry.unwrap().context_json).unwrap();
                assert_eq!(stored, serde_json::from_str::<serde_json::Value>(context).unwrap());
            }
            Err(e) => {
                assert!(!ok, "{context} refused: {e:?}");
                assert_eq!(fields(&e), ["context"]);
            }
        }
    }
    let err = app
        .history(pb::ListHistoryRequest {
            user_id: u.clone(),
            from: Some("2026-03-01T00:00:00Z".into()),
            to: Some("2026-02-01T00:00:00Z".into()),
            limit: Some(0),
            offset: Some(-1),
            ascending: false,
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["to", "limit", "offset"]);
    let err = app
        .history(pb::ListHistoryRequest { user_id: u, from: Some("last week".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["from"]);
}

#[tokio::test]
async fn a_view_defaults_to_now_and_of_an_unknown_title_is_content_not_found() {
    let app = spawn().await;
    let u = user();
    let before = Utc::now();
    let entry = app
        .view(pb::RecordViewRequest {
            user_id: u.clone(),
            content_id: app.titles.id(GUMP).await,
            actor_id: Some(uuid::Uuid::now_v7().to_string()),
            ..Default::default()
        })
        .await
        .unwrap()
        .entry
        .unwrap();
    let viewed = parse(&entry.viewed_at);
    assert!(viewed >= before - Duration::seconds(1) && viewed <= Utc::now(), "{viewed}");
    assert!(!entry.actor_id.is_empty());

    let err = app
        .view(pb::RecordViewRequest {
            user_id: u.clone(),
            content_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "CONTENT_NOT_FOUND"));
    assert_eq!(app.all_history(&u).await.len(), 1);
}

#[tokio::test]
async fn seen_content_merges_history_and_completed_items() {
    let app = spawn().await;
    let u = user();
    let (matrix, big, pilot, gump) =
        (app.titles.id(MATRIX).await, app.titles.id(BIG).await, app.titles.id(PILOT).await, app.titles.id(GUMP).await);
    app.view_at(&u, &matrix, at(5, 20, 0), Some(100)).await;
    app.view_at(&u, &matrix, at(2, 20, 0), Some(36)).await;
    app.view_at(&u, &pilot, at(4, 20, 0), None).await;
    // Completed on the watchlist without any history row; to_watch is not seen.
    app.add_with(pb::AddToWatchlistRequest {
        user_id: u.clone(),
        content_id: big.clone(),
        status: Some("completed".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    app.add(&u, &gump).await.unwrap();
    // Another user's views never count.
    app.view_at(&user(), &gump, at(1, 20, 0), Some(50)).await;

    let seen = app.seen(&u).await;
    let summary: Vec<(&str, u32, i64, bool)> =
        seen.iter().map(|s| (s.content_id.as_str(), s.view_count, s.minutes_watched, s.completed)).collect();
    assert_eq!(
        summary,
        [(big.as_str(), 0, 0, true), (matrix.as_str(), 2, 136, false), (pilot.as_str(), 1, 0, false)],
        "most recently seen first (the completion just now)"
    );
    assert_eq!(parse(&seen[1].last_viewed_at), at(2, 20, 0));
    assert_eq!(seen[2].series_id, app.titles.id(BREAKING_BAD).await);
}

#[tokio::test]
async fn export_holds_everything_of_the_user_and_delete_erases_it() {
    let app = spawn().await;
    let (u, other) = (user(), user());
    let matrix = app.titles.id(MATRIX).await;
    app.add(&u, &matrix).await.unwrap();
    app.view(pb::RecordViewRequest {
        user_id: u.clone(),
        content_id: matrix.clone(),
        context_json: Some(r#"{"platform": "cinema"}"#.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    app.add(&other, &matrix).await.unwrap();

    let export = app.export(&u).await;
    assert_eq!(export["watchlist"].as_array().unwrap().len(), 1);
    assert_eq!(export["watchlist"][0]["contentId"], matrix.as_str());
    assert_eq!(export["watchlist"][0]["status"], "to_watch");
    assert_eq!(export["watchlist"][0]["content"]["title"], "The Matrix");
    assert_eq!(export["history"].as_array().unwrap().len(), 1);
    assert_eq!(export["history"][0]["context"]["platform"], "cinema");

    let counts = app
        .client
        .clone()
        .delete_user_data(pb::DeleteUserDataRequest { user_id: u.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((counts.watchlist_deleted, counts.history_deleted), (1, 1));
    assert_eq!(app.export(&u).await, serde_json::json!({"watchlist": [], "history": []}));
    assert_eq!(app.watchlist(&other).await.len(), 1, "another user's rows stay");
}
