//! SearchActors / SearchContent through gRPC: tolerance, filters, paging, validation, freshness after writes.

use iknow_proto::catalog::v1::{ContentType, SearchRequest, SortBy, UpsertBatchRequest};
use tonic::Code;

use crate::helpers::*;

fn q(text: &str) -> SearchRequest {
    SearchRequest { query: text.into(), limit: 10, ..Default::default() }
}

async fn actor_names(app: &mut TestApp, req: SearchRequest) -> (Vec<String>, u64) {
    let r = app.client.search_actors(req).await.unwrap().into_inner();
    (r.actors.into_iter().map(|a| a.name).collect(), r.total)
}

#[tokio::test]
async fn actor_search_tolerates_typos_accents_word_order_and_prefixes() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    for (query, expected) in [
        ("tom hnks", "Tom Hanks"),
        ("tom hanx", "Tom Hanks"),
        ("Tom Hanks", "Tom Hanks"),
        ("hanks tom", "Tom Hanks"),
        ("tom h", "Tom Hanks"),
        ("keanu reves", "Keanu Reeves"),
        ("penelope cruz", "Penélope Cruz"),
        ("scarlett joh", "Scarlett Johansson"),
        ("scarlet johanson", "Scarlett Johansson"),
    ] {
        let (names, total) = actor_names(&mut app, q(query)).await;
        assert_eq!(names.first().map(String::as_str), Some(expected), "query {query:?} gave {names:?}");
        assert!(total >= 1);
    }
    // Every word must match: "tom hanks" is not every Tom.
    let (names, _) = actor_names(&mut app, q("tom hanks")).await;
    assert!(!names.iter().any(|n| n == "Tom Hardy"), "{names:?}");
    // Search results carry no filmography.
    let r = app.client.search_actors(q("keanu")).await.unwrap().into_inner();
    assert!(r.actors[0].filmography.is_empty());
}

#[tokio::test]
async fn filters_apply_before_counting_and_pages_are_exact() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    // Credited in 1988: only Tom Hanks (Big) among the Toms.
    let (names, total) = actor_names(&mut app, SearchRequest { year: 1988, ..q("tom") }).await;
    assert_eq!((names, total), (vec!["Tom Hanks".to_string()], 1));
    // Credited in an episode: Bryan Cranston.
    let (names, _) =
        actor_names(&mut app, SearchRequest { content_type: ContentType::Episode.into(), ..q("bryan") }).await;
    assert_eq!(names, ["Bryan Cranston"]);
    let (names, _) =
        actor_names(&mut app, SearchRequest { content_type: ContentType::Series.into(), ..q("keanu") }).await;
    assert!(names.is_empty());

    // Paging: "tom" matches Hanks, Hardy and Hankins.
    let (all, total) = actor_names(&mut app, SearchRequest { sort_by: SortBy::Name.into(), ..q("tom") }).await;
    assert_eq!(total, 3, "{all:?}");
    let mut paged = vec![];
    for offset in 0..3 {
        let req = SearchRequest { limit: 1, offset, sort_by: SortBy::Name.into(), ..q("tom") };
        let (names, total) = actor_names(&mut app, req).await;
        assert_eq!(total, 3);
        paged.extend(names);
    }
    assert_eq!(paged, all);

    // Titles: kind and year filters, original title searchable.
    let r = app.client.search_content(SearchRequest { content_type: ContentType::Episode.into(), ..q("pilot") }).await;
    let r = r.unwrap().into_inner();
    assert_eq!((r.total, r.contents[0].title.as_str()), (1, "Pilot"));
    assert_eq!(r.contents[0].parent.as_ref().unwrap().title, "Breaking Bad");
    let r = app.client.search_content(SearchRequest { year: 1993, ..q("forrest gump") }).await.unwrap().into_inner();
    assert_eq!(r.total, 0);
    let r = app.client.search_content(q("volver")).await.unwrap().into_inner();
    assert_eq!(r.contents[0].title, "Volver (To Return)");
    let r = app.client.search_content(q("matrx")).await.unwrap().into_inner();
    assert_eq!(r.contents[0].title, "The Matrix");
}

#[tokio::test]
async fn invalid_search_requests_are_refused() {
    let mut app = spawn_app().await;
    for req in
        [q("  "), SearchRequest { limit: 0, ..q("tom") }, SearchRequest { limit: 101, ..q("tom") }, q(&"a".repeat(101))]
    {
        let e = app.client.search_actors(req.clone()).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{req:?}");
        let e = app.client.search_content(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
    }
}

#[tokio::test]
async fn writes_show_in_search_at_once() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let mut batch =
        UpsertBatchRequest { actors: vec![actor(HARDY, "Edward Thomas Hardy", Some(1977))], ..Default::default() };
    app.upsert(batch.clone()).await;
    let (names, _) = actor_names(&mut app, q("edward hardy")).await;
    assert_eq!(names, ["Edward Thomas Hardy"]);
    // New credits move an actor into a year filter.
    batch.credits = vec![credit(HARDY, BIG, &["Extra"], 9)];
    app.upsert(batch).await;
    let (names, _) = actor_names(&mut app, SearchRequest { year: 1988, ..q("hardy") }).await;
    assert_eq!(names, ["Edward Thomas Hardy"]);
}

#[tokio::test]
async fn search_results_are_not_stale_after_a_rename() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    // The first search caches Hardy's summary in process; the rename must drop it.
    let (names, _) = actor_names(&mut app, q("hardy")).await;
    assert_eq!(names, ["Tom Hardy"]);
    let rename = UpsertBatchRequest { actors: vec![actor(HARDY, "Thomas Hardy", Some(1977))], ..Default::default() };
    app.upsert(rename).await;
    let (names, _) = actor_names(&mut app, q("hardy")).await;
    assert_eq!(names, ["Thomas Hardy"]);
    // A second search serves the cached summary, which must be the new one too.
    let (names, _) = actor_names(&mut app, q("hardy")).await;
    assert_eq!(names, ["Thomas Hardy"]);
}

#[tokio::test]
async fn each_typo_class_finds_the_name_first_and_an_exact_word_never_leaves_the_page_empty() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let extra = UpsertBatchRequest {
        actors: vec![
            actor("nm7100001", "Ed Harris", None),
            actor("nm7100002", "Jet Li", None),
            actor("nm7100003", "Uma Thurman", None),
            actor("nm7100004", "Ian Holm", None),
        ],
        ..Default::default()
    };
    app.upsert(extra).await;
    for (class, query, expected) in [
        ("first letter", "gary dinise", "Gary Sinise"),
        ("first letter, short word", "oma thurman", "Uma Thurman"),
        ("middle", "bryan cranstn", "Bryan Cranston"),
        ("last letter", "robin wrighx", "Robin Wright"),
        ("word of 4 letters or fewer", "ian holn", "Ian Holm"),
        ("word of 2 letters", "ef harris", "Ed Harris"),
        ("word of 2 letters, last", "jet lu", "Jet Li"),
        ("two typos", "scarlet johanssn", "Scarlett Johansson"),
        ("moved space", "um athurman", "Uma Thurman"),
        ("merged words", "garysinise", "Gary Sinise"),
        ("prefix", "bryan cran", "Bryan Cranston"),
        ("accent", "penelope cruz", "Penélope Cruz"),
    ] {
        let (names, total) = actor_names(&mut app, q(query)).await;
        assert_eq!(names.first().map(String::as_str), Some(expected), "{class}: {query:?} gave {names:?}");
        assert!(total >= 1);
    }
    // A word matches exactly, another nothing: the page holds the names with that word.
    let (names, total) = actor_names(&mut app, q("robin nobodyatall")).await;
    assert_eq!(names.first().map(String::as_str), Some("Robin Wright"), "{names:?}");
    assert_eq!(total, names.len() as u64);
    // Nothing near any word stays empty.
    assert_eq!(actor_names(&mut app, q("qqqq zzzz")).await, (vec![], 0));
    app.stop().await;
}
