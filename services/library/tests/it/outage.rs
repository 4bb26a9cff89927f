//! With the catalogue down, everything that does not need it still works: lists (with titles), updates,
//! removals, history, and adds/records of titles already known here. Only a title never seen here fails,
//! with Unavailable (503).

use iknow_proto::library::v1 as pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn with_the_catalogue_down_only_titles_never_seen_here_are_unavailable() {
    let app = spawn().await;
    let u = user();
    let (matrix, big, gump) = (app.titles.id(MATRIX).await, app.titles.id(BIG).await, app.titles.id(GUMP).await);
    app.add(&u, &matrix).await.unwrap();
    app.add(&u, &big).await.unwrap();
    app.view_at(&u, &big, at(2, 20, 0), Some(104)).await;

    app.catalog_proxy.cut();

    let listed = app.watchlist(&u).await;
    let titles: Vec<&str> = listed.iter().map(|i| i.content.as_ref().unwrap().title.as_str()).collect();
    assert_eq!(titles, ["Big", "The Matrix"], "lists answer with titles from the stored summaries");
    let updated = app
        .update(pb::UpdateWatchlistItemRequest {
            user_id: u.clone(),
            content_id: matrix.clone(),
            status: Some("watching".into()),
            ..Default::default()
        })
        .await
        .expect("updates never ask the catalogue");
    assert_eq!(updated.status, "watching");
    app.remove(&u, &matrix).await.expect("removals never ask the catalogue");
    let history = app.all_history(&u).await;
    assert_eq!(history[0].content.as_ref().unwrap().title, "Big");

    let again = app.add(&u, &matrix).await.expect("a title known here is added while the catalogue is down");
    assert_eq!(again.content.unwrap().title, "The Matrix");
    let view = app.view_at(&u, &matrix, at(1, 20, 0), None).await;
    assert_eq!(view.entry.unwrap().content.unwrap().title, "The Matrix");
    app.delete_entry(&u, &history[0].id).await.expect("history deletes never ask the catalogue");

    let err = app.add(&u, &gump).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert_eq!(iknow_common::Error::from_status(&err).http_status().as_u16(), 503);
    let err = app
        .view(pb::RecordViewRequest { user_id: u.clone(), content_id: gump.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(app.watchlist(&u).await.len(), 2, "Gump was not added (Big and The Matrix are there)");

    app.catalog_proxy.restore();
    let added = iknow_testkit::eventually(10, || async { app.add(&u, &gump).await.ok() }).await;
    assert_eq!(added.content.unwrap().title, "Forrest Gump");
}
