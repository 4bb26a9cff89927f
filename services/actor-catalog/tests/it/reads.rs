//! GetActor / GetContent / GetActors / GetContents and their errors.

use iknow_proto::catalog::v1::{ContentType, GetActorRequest, GetContentRequest, GetManyRequest};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn an_actor_comes_with_filmography_newest_first_and_known_for() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let id = app.actor_id(HANKS).await;
    let actor = app.client.get_actor(GetActorRequest { id: id.to_string() }).await.unwrap().into_inner();
    assert_eq!(actor.id, id.to_string());
    assert_eq!(actor.imdb_id, HANKS);
    assert_eq!(actor.birth_year, Some(1956));
    assert_eq!(actor.professions, ["actor"]);
    let titles: Vec<(&str, Option<i32>, &str)> = actor
        .filmography
        .iter()
        .map(|f| {
            let c = f.content.as_ref().unwrap();
            (c.title.as_str(), c.year, f.role_name.as_str())
        })
        .collect();
    assert_eq!(
        titles,
        [
            ("Saving Private Ryan", Some(1998), "Captain Miller"),
            ("Forrest Gump", Some(1994), "Forrest Gump"),
            ("Big", Some(1988), "Josh Baskin"),
        ]
    );
    assert_eq!(actor.filmography[0].category, "actor");
    assert_eq!(actor.filmography[0].credit_order, 1);
    // known_for keeps the catalogued titles of the source's list, in its order.
    let known: Vec<&str> = actor.known_for.iter().map(|k| k.title.as_str()).collect();
    assert_eq!(known, ["Forrest Gump", "Big"]);
    assert!(!actor.created_at.is_empty() && actor.updated_at.ends_with('Z'));

    let neo = app.actor_id(REEVES).await;
    let keanu = app.client.get_actor(GetActorRequest { id: neo.to_string() }).await.unwrap().into_inner();
    assert_eq!(keanu.filmography[0].characters, ["Neo", "Thomas A. Anderson"]);
    assert_eq!(keanu.filmography[0].role_name, "Neo");
    // Without a known-for list, the top credits stand in.
    assert_eq!(keanu.known_for.iter().map(|k| k.title.as_str()).collect::<Vec<_>>(), ["The Matrix"]);
}

#[tokio::test]
async fn a_title_comes_with_its_cast_in_credit_order() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let id = app.content_id(GUMP).await;
    let gump = app
        .client
        .get_content(GetContentRequest { id: id.to_string(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gump.title, "Forrest Gump");
    assert_eq!(gump.content_type, ContentType::Movie as i32);
    assert_eq!(gump.year, Some(1994));
    assert_eq!(gump.genres, ["Drama"]);
    assert!(gump.parent.is_none());
    let cast: Vec<(&str, &str, i32)> =
        gump.cast.iter().map(|c| (c.actor_name.as_str(), c.role_name.as_str(), c.credit_order)).collect();
    assert_eq!(
        cast,
        [("Tom Hanks", "Forrest Gump", 1), ("Robin Wright", "Jenny Curran", 2), ("Gary Sinise", "Lt. Dan Taylor", 3)]
    );
    assert_eq!(gump.cast[0].actor_imdb_id, HANKS);
}

#[tokio::test]
async fn an_episode_is_linked_to_its_series() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let id = app.content_id(PILOT).await;
    let pilot = app
        .client
        .get_content(GetContentRequest { id: id.to_string(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pilot.content_type, ContentType::Episode as i32);
    let parent = pilot.parent.expect("series");
    assert_eq!(parent.imdb_id, BREAKING_BAD);
    assert_eq!(parent.title, "Breaking Bad");
    assert_eq!(parent.content_type, ContentType::Series as i32);
    assert_eq!((pilot.season_number, pilot.episode_number), (Some(1), Some(1)));
}

#[tokio::test]
async fn unknown_ids_are_not_found_and_bad_ids_invalid() {
    let mut app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let e = app.client.get_actor(GetActorRequest { id: unknown.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(error_code(&e), "ACTOR_NOT_FOUND");
    let e = app.client.get_content(GetContentRequest { id: unknown, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(error_code(&e), "CONTENT_NOT_FOUND");
    let e = app.client.get_actor(GetActorRequest { id: "nm0000158".into() }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(error_code(&e), "VALIDATION_ERROR");
    let e = app.client.get_content(GetContentRequest { id: "".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = app.client.get_actors(GetManyRequest { ids: vec!["x".into()] }).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn batch_reads_keep_the_asked_order_and_leave_unknown_ids_out() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let (hanks, reeves) = (app.actor_id(HANKS).await, app.actor_id(REEVES).await);
    // One of them cached (with filmography) first: batch reads still carry none.
    app.client.get_actor(GetActorRequest { id: hanks.to_string() }).await.unwrap();
    let ids = vec![reeves.to_string(), uuid::Uuid::now_v7().to_string(), hanks.to_string()];
    let actors = app.client.get_actors(GetManyRequest { ids }).await.unwrap().into_inner().actors;
    let names: Vec<&str> = actors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Keanu Reeves", "Tom Hanks"]);
    assert!(actors.iter().all(|a| a.filmography.is_empty()));
    assert!(!actors[1].known_for.is_empty());

    let (pilot, gump) = (app.content_id(PILOT).await, app.content_id(GUMP).await);
    let ids = vec![pilot.to_string(), gump.to_string()];
    let contents = app.client.get_contents(GetManyRequest { ids }).await.unwrap().into_inner().contents;
    let titles: Vec<&str> = contents.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Pilot", "Forrest Gump"]);
    assert!(contents.iter().all(|c| c.cast.is_empty()));
    assert_eq!(contents[0].parent.as_ref().unwrap().imdb_id, BREAKING_BAD);
}
