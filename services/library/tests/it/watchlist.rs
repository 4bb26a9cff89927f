//! Watchlist: add (content checked with the catalogue), duplicates, updates, completed_at, removal, listing.

use std::collections::HashMap;

use iknow_proto::library::v1 as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn an_added_item_carries_its_defaults_and_the_titles_summary() {
    let app = spawn().await;
    let u = user();
    let matrix = app.titles.id(MATRIX).await;
    let item = app.add(&u, &matrix).await.expect("added");
    assert_eq!(item.content_id, matrix);
    assert_eq!((item.status.as_str(), item.priority, item.notes.as_deref()), ("to_watch", 0, None));
    assert!(item.completed_at.is_empty());
    assert_eq!(uuid::Uuid::parse_str(&item.id).unwrap().get_version_num(), 7);
    let content = item.content.expect("summary");
    assert_eq!(
        (content.title.as_str(), content.content_type.as_str(), content.year, content.runtime_minutes),
        ("The Matrix", "movie", Some(1999), Some(136))
    );

    let pilot = app.titles.id(PILOT).await;
    let done = app
        .add_with(pb::AddToWatchlistRequest {
            user_id: u.clone(),
            content_id: pilot,
            status: Some("completed".into()),
            priority: Some(10),
            notes: Some("Watch with subtitles".into()),
        })
        .await
        .expect("added");
    assert_eq!((done.status.as_str(), done.priority), ("completed", 10));
    assert_eq!(done.notes.as_deref(), Some("Watch with subtitles"));
    assert!(!done.completed_at.is_empty(), "a completed add sets completed_at");
    let summary = done.content.unwrap();
    assert_eq!(summary.content_type, "episode");
    assert_eq!(summary.series_id, app.titles.id(BREAKING_BAD).await, "an episode knows its series");
}

#[tokio::test]
async fn a_duplicate_add_is_already_exists_with_the_existing_item() {
    let app = spawn().await;
    let u = user();
    let big = app.titles.id(BIG).await;
    let first = app
        .add_with(pb::AddToWatchlistRequest {
            user_id: u.clone(),
            content_id: big.clone(),
            priority: Some(7),
            notes: Some("for Sunday".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = app.add(&u, &big).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert_eq!(code(&err), "DUPLICATE_WATCHLIST_ITEM");
    let existing = library::existing_item(&err).expect("the existing item travels with the error");
    assert_eq!(existing, first);
    let public = iknow_common::Error::from_status(&err);
    assert_eq!((public.http_status().as_u16(), public.code()), (409, "DUPLICATE_WATCHLIST_ITEM"));
    assert_eq!(app.watchlist(&u).await.len(), 1, "the duplicate added nothing");
}

#[tokio::test]
async fn an_unknown_title_is_content_not_found() {
    let app = spawn().await;
    let u = user();
    let err = app.add(&u, &uuid::Uuid::now_v7().to_string()).await.unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "CONTENT_NOT_FOUND"));
    assert!(app.watchlist(&u).await.is_empty());
}

#[tokio::test]
async fn completed_at_follows_the_status_and_notes_clear_with_an_empty_string() {
    let app = spawn().await;
    let u = user();
    let gump = app.titles.id(GUMP).await;
    let added =
        app.add_with(pb::AddToWatchlistRequest { notes: Some("n".into()), ..req_add(&u, &gump) }).await.unwrap();
    let change = |status: Option<&str>, priority: Option<i32>, notes: Option<&str>| pb::UpdateWatchlistItemRequest {
        user_id: u.clone(),
        content_id: gump.clone(),
        status: status.map(Into::into),
        priority,
        notes: notes.map(Into::into),
    };

    let completed = app.update(change(Some("completed"), None, None)).await.unwrap();
    assert_eq!(completed.status, "completed");
    assert!(!completed.completed_at.is_empty(), "becoming completed sets completed_at");
    assert_eq!(completed.notes.as_deref(), Some("n"), "absent notes are left alone");
    assert_eq!((completed.id.as_str(), completed.added_at.as_str()), (added.id.as_str(), added.added_at.as_str()));

    let reprioritised = app.update(change(None, Some(3), None)).await.unwrap();
    assert_eq!(reprioritised.priority, 3);
    assert_eq!(reprioritised.completed_at, completed.completed_at, "staying completed keeps the date");
    let again = app.update(change(Some("completed"), None, None)).await.unwrap();
    assert_eq!(again.completed_at, completed.completed_at);

    let watching = app.update(change(Some("watching"), None, Some(""))).await.unwrap();
    assert_eq!(watching.status, "watching");
    assert!(watching.completed_at.is_empty(), "leaving completed clears completed_at");
    assert_eq!(watching.notes, None, "an empty string clears the notes");
    assert_eq!(watching.priority, 3);
}

fn req_add(u: &str, content_id: &str) -> pb::AddToWatchlistRequest {
    pb::AddToWatchlistRequest { user_id: u.into(), content_id: content_id.into(), ..Default::default() }
}

#[tokio::test]
async fn update_and_remove_of_an_absent_item_are_not_found() {
    let app = spawn().await;
    let u = user();
    let matrix = app.titles.id(MATRIX).await;
    let err = app
        .update(pb::UpdateWatchlistItemRequest {
            user_id: u.clone(),
            content_id: matrix.clone(),
            priority: Some(1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "WATCHLIST_ITEM_NOT_FOUND"));
    let err = app.remove(&u, &matrix).await.unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "WATCHLIST_ITEM_NOT_FOUND"));

    app.add(&u, &matrix).await.unwrap();
    app.remove(&u, &matrix).await.expect("removed");
    assert!(app.watchlist(&u).await.is_empty());
    let err = app.remove(&u, &matrix).await.unwrap_err();
    assert_eq!(code(&err), "WATCHLIST_ITEM_NOT_FOUND", "removing twice");
}

/// Adds four titles in this order (so newest last): The Matrix (to_watch, priority 5), Big (completed, 9),
/// Forrest Gump (to_watch, 9), Inception (paused, 1); answers the IMDb id of each content id.
async fn add_four(app: &TestApp, u: &str) -> HashMap<String, &'static str> {
    let plan = [(MATRIX, "to_watch", 5), (BIG, "completed", 9), (GUMP, "to_watch", 9), (INCEPTION, "paused", 1)];
    let mut ids = HashMap::new();
    for (imdb, status, priority) in plan {
        let content_id = app.titles.id(imdb).await;
        app.add_with(pb::AddToWatchlistRequest {
            status: Some(status.into()),
            priority: Some(priority),
            ..req_add(u, &content_id)
        })
        .await
        .unwrap();
        ids.insert(content_id, imdb);
    }
    ids
}

/// A ListWatchlist of `u`, descending.
fn list_query(
    u: &str,
    sort: &str,
    status: Option<&str>,
    limit: Option<i32>,
    offset: Option<i32>,
) -> pb::ListWatchlistRequest {
    pb::ListWatchlistRequest {
        user_id: u.into(),
        status: status.map(Into::into),
        sort: sort.into(),
        limit,
        offset,
        ascending: false,
    }
}

#[tokio::test]
async fn lists_filter_sort_page_and_count() {
    let app = spawn().await;
    let u = user();
    let ids = add_four(&app, &u).await;
    let titles = |r: &pb::ListWatchlistResponse| -> Vec<&str> {
        r.items.iter().map(|i| *ids.get(&i.content_id).unwrap()).collect()
    };
    let query = |sort: &str, status: Option<&str>, limit: Option<i32>, offset: Option<i32>| {
        list_query(&u, sort, status, limit, offset)
    };

    let by_added = app.list(query("", None, None, None)).await.unwrap();
    assert_eq!(titles(&by_added), [INCEPTION, GUMP, BIG, MATRIX], "newest added first by default");
    assert_eq!(by_added.total, 4);
    assert_eq!(by_added.items[0].content.as_ref().unwrap().title, "Inception");
    let by_priority = app.list(query("priority", None, None, None)).await.unwrap();
    assert_eq!(titles(&by_priority), [GUMP, BIG, MATRIX, INCEPTION], "priority, then newest added");
    let to_watch = app.list(query("priority", Some("to_watch"), None, None)).await.unwrap();
    assert_eq!((titles(&to_watch), to_watch.total), (vec![GUMP, MATRIX], 2));
    let page = app.list(query("added", None, Some(2), Some(1))).await.unwrap();
    assert_eq!((titles(&page), page.total), (vec![GUMP, BIG], 4));
    let past_the_end = app.list(query("added", None, Some(2), Some(10))).await.unwrap();
    assert_eq!((past_the_end.items.len(), past_the_end.total), (0, 4));
}

#[tokio::test]
async fn ascending_lists_are_the_mirror_of_descending_ones() {
    let app = spawn().await;
    let u = user();
    let ids = add_four(&app, &u).await;
    let titles = |r: &pb::ListWatchlistResponse| -> Vec<&str> {
        r.items.iter().map(|i| *ids.get(&i.content_id).unwrap()).collect()
    };
    let ascending = |sort: &str, status: Option<&str>, limit: Option<i32>, offset: Option<i32>| {
        pb::ListWatchlistRequest { ascending: true, ..list_query(&u, sort, status, limit, offset) }
    };

    let by_added = app.list(ascending("added", None, None, None)).await.unwrap();
    assert_eq!((titles(&by_added), by_added.total), (vec![MATRIX, BIG, GUMP, INCEPTION], 4), "oldest added first");
    let by_priority = app.list(ascending("priority", None, None, None)).await.unwrap();
    assert_eq!(titles(&by_priority), [INCEPTION, MATRIX, BIG, GUMP], "lowest priority, then oldest added");
    let to_watch = app.list(ascending("priority", Some("to_watch"), None, None)).await.unwrap();
    assert_eq!((titles(&to_watch), to_watch.total), (vec![MATRIX, GUMP], 2));
    let page = app.list(ascending("priority", None, Some(2), Some(1))).await.unwrap();
    assert_eq!((titles(&page), page.total), (vec![MATRIX, BIG], 4));
    let last = app.list(ascending("added", None, Some(2), Some(3))).await.unwrap();
    assert_eq!((titles(&last), last.total), (vec![INCEPTION], 4));
    let past_the_end = app.list(ascending("added", None, Some(2), Some(10))).await.unwrap();
    assert_eq!((past_the_end.items.len(), past_the_end.total), (0, 4));

    // Every ascending page is the reversed descending page at the mirrored offset (what the REST API promised
    // when it built ascending pages from descending ones).
    for sort in ["added", "priority"] {
        for (limit, offset) in [(1, 0), (2, 0), (2, 1), (3, 1), (3, 2), (4, 0), (2, 3)] {
            let up = app.list(ascending(sort, None, Some(limit), Some(offset))).await.unwrap();
            let end = 4 - offset;
            let start = (end - limit).max(0);
            let down = app.list(list_query(&u, sort, None, Some(end - start), Some(start))).await.unwrap();
            let mirrored: Vec<pb::WatchlistItem> = down.items.into_iter().rev().collect();
            assert_eq!(up.items, mirrored, "{sort}, limit {limit}, offset {offset}");
        }
    }
}

#[tokio::test]
async fn validation_lists_every_failing_field() {
    let app = spawn().await;
    let u = user();
    let err = app
        .add_with(pb::AddToWatchlistRequest {
            user_id: u.clone(),
            content_id: "not-a-uuid".into(),
            status: Some("finished".into()),
            priority: Some(11),
            notes: Some("x".repeat(2001)),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["contentId", "status", "priority", "notes"]);
    assert_eq!(code(&err), "VALIDATION_ERROR");

    let matrix = app.titles.id(MATRIX).await;
    app.add(&u, &matrix).await.unwrap();
    let err = app
        .update(pb::UpdateWatchlistItemRequest {
            user_id: u.clone(),
            content_id: matrix,
            status: Some("".into()),
            priority: Some(-1),
            notes: Some("x".repeat(2001)),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["status", "priority", "notes"]);

    let err = app
        .list(pb::ListWatchlistRequest {
            user_id: u.clone(),
            status: Some("done".into()),
            sort: "title".into(),
            limit: Some(101),
            offset: Some(-1),
            ascending: true,
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["status", "sort", "limit", "offset"]);
    let err =
        app.list(pb::ListWatchlistRequest { user_id: u, limit: Some(0), ..Default::default() }).await.unwrap_err();
    assert_eq!(fields(&err), ["limit"]);
}
