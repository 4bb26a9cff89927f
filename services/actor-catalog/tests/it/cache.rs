//! The two-tier cache: invalidation on writes, and reads that survive Redis being down or cut.

use std::net::SocketAddr;

use iknow_proto::catalog::v1::{GetActorRequest, GetContentRequest, UpsertBatchRequest};
use iknow_testkit::{TcpProxy, TestDb, eventually};
use redis::AsyncCommands;

use crate::helpers::*;

async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(iknow_testkit::redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

async fn key_exists(key: &str) -> bool {
    redis().await.exists(key).await.unwrap()
}

async fn name_of(app: &mut TestApp, id: uuid::Uuid) -> String {
    app.client.get_actor(GetActorRequest { id: id.to_string() }).await.expect("get actor").into_inner().name
}

/// Reads the actor until its entry is in Redis and returns the name read. A read right after start can race
/// the events listener's first bind, which drops what was read before it (and so keeps that read out of the
/// cache); the next read fills it.
async fn read_until_cached(app: &mut TestApp, id: uuid::Uuid, key: &str) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let name = name_of(app, id).await;
        if key_exists(key).await {
            return name;
        }
        assert!(tokio::time::Instant::now() < deadline, "no read filled {key} within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn rename(imdb: &str, name: &str) -> UpsertBatchRequest {
    UpsertBatchRequest { actors: vec![actor(imdb, name, None)], ..Default::default() }
}

#[tokio::test]
async fn a_write_invalidates_both_tiers() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let id = app.actor_id(REEVES).await;
    let key = format!("{}actor:{id}", app.prefix);
    assert_eq!(read_until_cached(&mut app, id, &key).await, "Keanu Reeves", "a read fills Redis");
    assert_eq!(name_of(&mut app, id).await, "Keanu Reeves");

    app.upsert(rename(REEVES, "Keanu C. Reeves")).await;
    assert!(!key_exists(&key).await, "the write cleared Redis");
    assert_eq!(name_of(&mut app, id).await, "Keanu C. Reeves", "and the in-process tier");

    // A renamed actor shows renamed in the cached cast of their titles too.
    let matrix = app.content_id(MATRIX).await;
    let cast = |c: iknow_proto::catalog::v1::Content| c.cast[0].actor_name.clone();
    let first = app
        .client
        .get_content(GetContentRequest { id: matrix.to_string(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cast(first), "Keanu C. Reeves");
    app.upsert(rename(REEVES, "Keanu Reeves")).await;
    let again = app
        .client
        .get_content(GetContentRequest { id: matrix.to_string(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cast(again), "Keanu Reeves");
}

#[tokio::test]
async fn reads_work_when_redis_is_down() {
    let dead = iknow_testkit::dead_addr().await;
    let mut app = spawn_with(TestDb::new().await, &format!("redis://{dead}")).await;
    app.upsert(sample()).await;
    let id = app.actor_id(HANKS).await;
    for _ in 0..3 {
        assert_eq!(name_of(&mut app, id).await, "Tom Hanks");
    }
    app.upsert(rename(HANKS, "Thomas Hanks")).await;
    assert_eq!(name_of(&mut app, id).await, "Thomas Hanks");
    let r = app.client.search_actors(iknow_proto::catalog::v1::SearchRequest {
        query: "thomas hanks".into(),
        limit: 5,
        ..Default::default()
    });
    assert_eq!(r.await.unwrap().into_inner().actors[0].name, "Thomas Hanks");
}

#[tokio::test]
async fn reads_survive_a_redis_outage_and_the_cache_is_used_again_after() {
    let target: SocketAddr = iknow_testkit::redis_url().trim_start_matches("redis://").parse().unwrap();
    let proxy = TcpProxy::start(target).await;
    let mut app = spawn_with(TestDb::new().await, &proxy.url("redis")).await;
    app.upsert(sample()).await;
    let (hanks, reeves, hardy) = (app.actor_id(HANKS).await, app.actor_id(REEVES).await, app.actor_id(HARDY).await);
    let key = format!("{}actor:{hanks}", app.prefix);
    assert_eq!(read_until_cached(&mut app, hanks, &key).await, "Tom Hanks");

    proxy.cut();
    assert_eq!(name_of(&mut app, hanks).await, "Tom Hanks");
    assert_eq!(name_of(&mut app, reeves).await, "Keanu Reeves");
    app.upsert(rename(HANKS, "Thomas Hanks")).await;
    assert_eq!(name_of(&mut app, hanks).await, "Thomas Hanks");
    assert!(!key_exists(&format!("{}actor:{reeves}", app.prefix)).await, "nothing reached Redis while cut");

    proxy.restore();
    let key = format!("{}actor:{hardy}", app.prefix);
    let mut round = 0;
    eventually(10, || {
        round += 1;
        let name = format!("Tom Hardy {round}");
        let (mut client, key) = (app.client.clone(), key.clone());
        async move {
            // Each round invalidates, so the next read goes through Redis again once it is reachable.
            client.upsert_batch(rename(HARDY, &name)).await.unwrap();
            let got = client.get_actor(GetActorRequest { id: hardy.to_string() }).await.unwrap().into_inner();
            assert_eq!(got.name, name);
            key_exists(&key).await.then_some(())
        }
    })
    .await;
}
