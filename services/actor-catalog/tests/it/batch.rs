//! The batch reads other services join against: GetFilmographies (credits newest first, an episode's series,
//! unknown ids left out, request order, caps) and GetCasts (credit order, an episode's series regulars), and
//! a cached filmography following a write.

use iknow_proto::catalog::v1::{GetCastsRequest, GetManyRequest, UpsertBatchRequest};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn filmographies_come_in_request_order_with_series_and_unknown_ids_left_out() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let (hanks, cranston) = (app.actor_id(HANKS).await, app.actor_id(CRANSTON).await);
    let unknown = uuid::Uuid::now_v7();
    let ids = vec![cranston.to_string(), unknown.to_string(), hanks.to_string(), cranston.to_string()];
    let films = app.client.get_filmographies(GetManyRequest { ids }).await.unwrap().into_inner().filmographies;
    let actors: Vec<&str> = films.iter().map(|f| f.actor_id.as_str()).collect();
    assert_eq!(actors, [cranston.to_string(), hanks.to_string()], "request order, repeats and unknown ids dropped");

    let titles = |i: usize| -> Vec<String> {
        films[i].credits.iter().map(|c| c.entry.as_ref().unwrap().content.as_ref().unwrap().title.clone()).collect()
    };
    assert_eq!(titles(1), ["Saving Private Ryan", "Forrest Gump", "Big"], "newest first");
    let pilot = films[0].credits.iter().find(|c| c.entry.as_ref().unwrap().content.as_ref().unwrap().title == "Pilot");
    assert_eq!(pilot.unwrap().series.as_ref().map(|s| s.title.as_str()), Some("Breaking Bad"));

    let too_many = vec![hanks.to_string(); 1001];
    let err = app.client.get_filmographies(GetManyRequest { ids: too_many }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = app.client.get_filmographies(GetManyRequest { ids: vec!["nope".into()] }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn an_episodes_cast_is_followed_by_its_series_regulars() {
    let mut app = spawn_app().await;
    let mut batch = sample();
    batch.actors.push(actor("nm0666739", "Aaron Paul", Some(1979)));
    batch.credits.push(credit("nm0666739", BREAKING_BAD, &["Jesse Pinkman"], 2));
    app.upsert(batch).await;
    let (pilot, gump) = (app.content_id(PILOT).await, app.content_id(GUMP).await);
    let request = |with_series| GetCastsRequest {
        content_ids: vec![pilot.to_string(), gump.to_string()],
        include_series_regulars: with_series,
    };
    let casts = app.client.get_casts(request(true)).await.unwrap().into_inner().casts;
    assert_eq!(casts.len(), 2);
    let names = |i: usize| -> Vec<(String, bool)> {
        casts[i].cast.iter().map(|c| (c.member.as_ref().unwrap().actor_name.clone(), c.series_regular)).collect()
    };
    // Cranston is credited on the episode itself, so he is not repeated as a regular.
    assert_eq!(names(0), [("Bryan Cranston".to_owned(), false), ("Aaron Paul".to_owned(), true)]);
    assert_eq!(casts[0].series_id, app.content_id(BREAKING_BAD).await.to_string());
    assert_eq!(
        names(1),
        [("Tom Hanks".to_owned(), false), ("Robin Wright".to_owned(), false), ("Gary Sinise".to_owned(), false)],
        "credit order"
    );
    let own = app.client.get_casts(request(false)).await.unwrap().into_inner().casts;
    assert_eq!(own[0].cast.len(), 1, "without regulars: the episode's own cast");
}

#[tokio::test]
async fn a_cached_filmography_follows_a_renamed_title() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let hanks = app.actor_id(HANKS).await.to_string();
    let read = async |app: &mut TestApp| {
        let films =
            app.client.get_filmographies(GetManyRequest { ids: vec![hanks.clone()] }).await.unwrap().into_inner();
        films.filmographies[0].credits[2].entry.as_ref().unwrap().content.as_ref().unwrap().title.clone()
    };
    assert_eq!(read(&mut app).await, "Big");
    assert_eq!(read(&mut app).await, "Big", "served again (now from the cache)");
    let renamed = UpsertBatchRequest {
        contents: vec![content(BIG, iknow_proto::catalog::v1::ContentType::Movie, "Big (Director's Cut)", 1988)],
        ..Default::default()
    };
    app.upsert(renamed).await;
    assert_eq!(read(&mut app).await, "Big (Director's Cut)");
}
