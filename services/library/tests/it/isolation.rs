//! Every query is scoped by the caller: another user's rows never appear and cannot be changed or deleted.

use iknow_proto::library::v1 as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn another_users_rows_never_appear_and_cannot_be_changed_or_deleted() {
    let app = spawn().await;
    let (alice, bob) = (user(), user());
    let matrix = app.titles.id(MATRIX).await;
    let item = app.add(&alice, &matrix).await.unwrap();
    let entry = app.view_at(&alice, &matrix, at(1, 20, 0), Some(90)).await.entry.unwrap();

    assert!(app.watchlist(&bob).await.is_empty());
    let listed = app.list(pb::ListWatchlistRequest { user_id: bob.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(listed.total, 0);
    assert!(app.all_history(&bob).await.is_empty());
    assert!(app.seen(&bob).await.is_empty());
    assert_eq!(app.export(&bob).await, serde_json::json!({"watchlist": [], "history": []}));

    let err = app
        .update(pb::UpdateWatchlistItemRequest {
            user_id: bob.clone(),
            content_id: matrix.clone(),
            status: Some("completed".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "WATCHLIST_ITEM_NOT_FOUND"));
    let err = app.remove(&bob, &matrix).await.unwrap_err();
    assert_eq!(code(&err), "WATCHLIST_ITEM_NOT_FOUND");
    let err = app.delete_entry(&bob, &entry.id).await.unwrap_err();
    assert_eq!((err.code(), code(&err)), (Code::NotFound, "HISTORY_ENTRY_NOT_FOUND"));
    let erased = app
        .client
        .clone()
        .delete_user_data(pb::DeleteUserDataRequest { user_id: bob.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((erased.watchlist_deleted, erased.history_deleted), (0, 0));

    // Bob's own item of the same title is his, not a duplicate of Alice's; his view is his own row.
    let bobs = app.add(&bob, &matrix).await.expect("not a duplicate");
    assert_ne!(bobs.id, item.id);
    let bobs_view = app.view_at(&bob, &matrix, at(1, 21, 0), Some(5)).await;
    assert!(!bobs_view.updated, "Alice's row of that day is not Bob's");

    let alices = app.watchlist(&alice).await;
    assert_eq!(alices, vec![item], "Alice's item is untouched");
    let history = app.all_history(&alice).await;
    assert_eq!(history, vec![entry], "Alice's history is untouched");
}
