//! catalog.events: a write through one replica reaches another replica's in-process cache and search index
//! (Redis alone would not: each replica keeps its own copy in process), and the event leaves through the
//! outbox of the write's transaction.

use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_proto::catalog::v1::{GetActorRequest, SearchRequest, UpsertBatchRequest};
use tonic::transport::Channel;

use crate::helpers::*;

/// A second replica of `app`'s catalogue: the same database, Redis prefix and events exchange.
async fn replica(app: &TestApp) -> ActorCatalogClient<Channel> {
    let config = actor_catalog::config_for_tests(&app.db.url, &iknow_testkit::redis_url(), &app.prefix);
    let replica = actor_catalog::Application::build(config).await.expect("the replica builds");
    let url = format!("http://{}", replica.addr());
    tokio::spawn(replica.run_until(std::future::pending()));
    ActorCatalogClient::connect(url).await.expect("the replica answers")
}

async fn name(client: &mut ActorCatalogClient<Channel>, id: &str) -> String {
    client.get_actor(GetActorRequest { id: id.to_owned() }).await.unwrap().into_inner().name
}

async fn top_hit(client: &mut ActorCatalogClient<Channel>, q: &str) -> Option<String> {
    let request = SearchRequest { query: q.into(), limit: 1, ..Default::default() };
    client.search_actors(request).await.unwrap().into_inner().actors.first().map(|a| a.name.clone())
}

#[tokio::test]
async fn a_write_on_one_replica_refreshes_the_others() {
    let mut app = spawn_app().await;
    app.upsert(sample()).await;
    let hanks = app.actor_id(HANKS).await.to_string();
    let mut other = replica(&app).await;
    assert_eq!(name(&mut other, &hanks).await, "Tom Hanks", "now held in the other replica's process");
    assert_eq!(top_hit(&mut other, "hanks").await.as_deref(), Some("Tom Hanks"));

    let renamed =
        UpsertBatchRequest { actors: vec![actor(HANKS, "Thomas J. Hanks", Some(1956))], ..Default::default() };
    app.upsert(renamed).await;
    assert_eq!(name(&mut app.client, &hanks).await, "Thomas J. Hanks", "the writer refreshed itself");
    iknow_testkit::eventually(20, || {
        let mut other = other.clone();
        let hanks = hanks.clone();
        async move { (name(&mut other, &hanks).await == "Thomas J. Hanks").then_some(()) }
    })
    .await;
    iknow_testkit::eventually(20, || {
        let mut other = other.clone();
        async move { (top_hit(&mut other, "thomas hanks").await.as_deref() == Some("Thomas J. Hanks")).then_some(()) }
    })
    .await;

    // Published and confirmed: the outbox empties.
    iknow_testkit::eventually(20, || async {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&app.pool).await.unwrap();
        (left == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn with_rabbitmq_down_the_events_wait_in_the_outbox_with_their_write() {
    iknow_common::telemetry::init_for_tests();
    let db = iknow_testkit::TestDb::new().await;
    let mut config =
        actor_catalog::config_for_tests(&db.url, &iknow_testkit::redis_url(), &iknow_testkit::unique_prefix("ev"));
    config.amqp_url = format!("amqp://guest:guest@{}/%2f", iknow_testkit::dead_addr().await);
    let app = actor_catalog::Application::build(config).await.unwrap();
    let pool = app.pool().clone();
    let url = format!("http://{}", app.addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let mut client = ActorCatalogClient::connect(url).await.unwrap();

    let reply = client.upsert_batch(sample()).await.expect("a write never waits for RabbitMQ").into_inner();
    assert!(reply.actors_written > 0);
    let events: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT routing_key, payload FROM outbox ORDER BY id").fetch_all(&pool).await.unwrap();
    let keys: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["actor.upserted", "content.upserted"]);
    let actors: i64 = sqlx::query_scalar("SELECT count(*) FROM actors").fetch_one(&pool).await.unwrap();
    assert_eq!(events[0].1["ids"].as_array().unwrap().len() as i64, actors, "every written actor is announced");

    // The same batch again changes nothing and announces nothing.
    client.upsert_batch(sample()).await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&pool).await.unwrap();
    assert_eq!(after, 2);
}
