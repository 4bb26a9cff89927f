//! catalog.events: a write through one replica reaches another replica's in-process cache and search index
//! (Redis alone would not: each replica keeps its own copy in process), and the event leaves through the
//! outbox of the write's transaction; a replica that was cut off from RabbitMQ forgets its in-process cache; a
//! bulk load reaches the others by two `catalog.reloaded` events, not by the ids of the whole catalogue.

use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_proto::catalog::v1::{
    BeginCreditsLoadRequest, FinishCreditsLoadRequest, GetActorRequest, GetManyRequest, SearchRequest,
    StageCreditsRequest, UpsertBatchRequest,
};
use iknow_testkit::TcpProxy;
use lapin::uri::AMQPUri;
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
    // The other replica is listening once one rename reached it.
    let heard = rename_until_heard(&mut app.client, &mut other, HANKS).await;
    assert_eq!(name(&mut other, &hanks).await, heard, "held in the other replica's process again");

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

/// A TCP proxy in front of the shared RabbitMQ, and the broker URL through it.
async fn broker_proxy() -> (TcpProxy, String) {
    let mut uri: AMQPUri = iknow_testkit::amqp_url().parse().expect("amqp url");
    let target = tokio::net::lookup_host((uri.authority.host.as_str(), uri.authority.port))
        .await
        .expect("broker host")
        .next()
        .expect("broker address");
    let proxy = TcpProxy::start(target).await;
    uri.authority.host = proxy.addr.ip().to_string();
    uri.authority.port = proxy.addr.port();
    (proxy, uri.to_string())
}

/// A replica on `db` with its own events exchange, reaching RabbitMQ at `amqp_url`.
async fn serve(db: &iknow_testkit::TestDb, exchange: &str, amqp_url: &str) -> ActorCatalogClient<Channel> {
    let mut config = actor_catalog::config_for_tests(&db.url, &iknow_testkit::redis_url(), exchange);
    config.events_exchange = exchange.to_owned();
    config.amqp_url = amqp_url.to_owned().into();
    let replica = actor_catalog::Application::build(config).await.expect("the replica builds");
    let url = format!("http://{}", replica.addr());
    tokio::spawn(replica.run_until(std::future::pending()));
    ActorCatalogClient::connect(url).await.expect("the replica answers")
}

/// Reads through `client` until it answers `expected` for `id`.
async fn eventually_named(client: &ActorCatalogClient<Channel>, id: &str, expected: &str) {
    iknow_testkit::eventually(20, || {
        let (mut client, id) = (client.clone(), id.to_owned());
        async move { (name(&mut client, &id).await == expected).then_some(()) }
    })
    .await;
}

/// Renames `imdb_id` through `writer` until `other`'s search finds the new name, and returns it: an event
/// published before the other replica's listener is bound goes nowhere, so the first renames may be lost. The
/// search index answering says the event was applied (its handler forgets the cached actor first).
async fn rename_until_heard(
    writer: &mut ActorCatalogClient<Channel>,
    other: &mut ActorCatalogClient<Channel>,
    imdb_id: &str,
) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    for word in
        ["Alder", "Birch", "Cedar", "Dogwood", "Elder", "Fir", "Ginkgo", "Hazel", "Ironwood", "Juniper"].iter().cycle()
    {
        let to = format!("Tom {word} Hanks");
        let rename = UpsertBatchRequest { actors: vec![actor(imdb_id, &to, Some(1956))], ..Default::default() };
        writer.upsert_batch(rename).await.unwrap();
        let settle = tokio::time::Instant::now() + std::time::Duration::from_millis(500);
        while tokio::time::Instant::now() < settle {
            if top_hit(other, &to).await.as_deref() == Some(to.as_str()) {
                return to;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(tokio::time::Instant::now() < deadline, "no rename reached the other replica within 20 s");
    }
    unreachable!("the cycle never ends")
}

#[tokio::test]
async fn a_replica_that_lost_rabbitmq_forgets_its_in_process_cache_once_reconnected() {
    iknow_common::telemetry::init_for_tests();
    // An exchange of this test alone: no other test's events invalidate the replicas' caches.
    let exchange = iknow_testkit::unique_prefix("events").trim_end_matches(':').replace(':', ".");
    let db = iknow_testkit::TestDb::new().await;
    let mut writer = serve(&db, &exchange, &iknow_testkit::amqp_url()).await;
    let (broker, amqp_url) = broker_proxy().await;
    let mut other = serve(&db, &exchange, &amqp_url).await;
    // An actor without credits: a rename announces one actor.upserted and nothing else, so no late event of
    // their titles can empty the other replica's cache between the reads below.
    const LONER: &str = "nm7000001";
    let rename = |to: &str| UpsertBatchRequest { actors: vec![actor(LONER, to, Some(1956))], ..Default::default() };
    let written = writer.upsert_batch(rename("Tom Hanks")).await.unwrap().into_inner();
    assert_eq!(written.actors_written, 1);
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let hanks: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM actors WHERE imdb_id = $1").bind(LONER).fetch_one(&pool).await.unwrap();
    let hanks = hanks.to_string();

    assert_eq!(name(&mut other, &hanks).await, "Tom Hanks", "now held in the other replica's process");
    // While its connection is cut, the event of a write goes nowhere (its private queue went with it), so the
    // other replica serves what it holds in process. A read that raced an invalidation is not kept, so the
    // stale read is tried again (reconnected, renamed, cut) until it shows the cache held the name.
    let mut stale = None;
    for attempt in 1..=5 {
        let heard = rename_until_heard(&mut writer, &mut other, LONER).await;
        assert_eq!(name(&mut other, &hanks).await, heard, "read after the event");
        broker.cut();
        let latest = format!("Thomas J. Hanks {}", ["I", "II", "III", "IV", "V"][attempt - 1]);
        writer.upsert_batch(rename(&latest)).await.unwrap();
        if name(&mut other, &hanks).await == heard {
            stale = Some(latest);
            break;
        }
        broker.restore();
    }
    let latest = stale.expect("the other replica served its in-process copy while away");
    // ...so once reconnected it drops everything it held in process, and reads the new name; its search index
    // re-reads every row, and finds it too.
    broker.restore();
    eventually_named(&other, &hanks, &latest).await;
    iknow_testkit::eventually(20, || {
        let (mut other, latest) = (other.clone(), latest.clone());
        async move { (top_hit(&mut other, &latest).await.as_deref() == Some(latest.as_str())).then_some(()) }
    })
    .await;
    pool.close().await;
}

#[tokio::test]
async fn with_rabbitmq_down_the_events_wait_in_the_outbox_with_their_write() {
    iknow_common::telemetry::init_for_tests();
    let db = iknow_testkit::TestDb::new().await;
    let mut config =
        actor_catalog::config_for_tests(&db.url, &iknow_testkit::redis_url(), &iknow_testkit::unique_prefix("ev"));
    config.amqp_url = format!("amqp://guest:guest@{}/%2f", iknow_testkit::dead_addr().await).into();
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

/// The IMDb ids of the titles of `id`'s filmography, as `client` serves it.
async fn filmography(client: &mut ActorCatalogClient<Channel>, id: &str) -> Vec<String> {
    let request = GetManyRequest { ids: vec![id.to_owned()] };
    let reply = client.get_filmographies(request).await.unwrap().into_inner();
    let credits = reply.filmographies.into_iter().flat_map(|f| f.credits);
    credits.filter_map(|c| c.entry?.content.map(|t| t.imdb_id)).collect()
}

/// The names of the actors `client` finds for `q` among those credited in a title of `year`.
async fn credited_in(client: &mut ActorCatalogClient<Channel>, q: &str, year: i32) -> Vec<String> {
    let request = SearchRequest { query: q.into(), limit: 5, year, ..Default::default() };
    client.search_actors(request).await.unwrap().into_inner().actors.into_iter().map(|a| a.name).collect()
}

#[tokio::test]
async fn a_bulk_load_reaches_the_other_replicas_by_two_reload_events() {
    iknow_common::telemetry::init_for_tests();
    let exchange = iknow_testkit::unique_prefix("events").trim_end_matches(':').replace(':', ".");
    let db = iknow_testkit::TestDb::new().await;
    let (broker, writer_amqp) = broker_proxy().await;
    let mut writer = serve(&db, &exchange, &writer_amqp).await;
    let mut other = serve(&db, &exchange, &iknow_testkit::amqp_url()).await;
    let names_and_titles = UpsertBatchRequest { credits: vec![], episodes: vec![], ..sample() };
    writer.upsert_batch(names_and_titles).await.unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let hanks: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM actors WHERE imdb_id = $1").bind(HANKS).fetch_one(&pool).await.unwrap();
    let hanks = hanks.to_string();
    rename_until_heard(&mut writer, &mut other, "nm7000001").await;
    // Held in the other replica's process and index: no credit yet.
    assert!(filmography(&mut other, &hanks).await.is_empty());
    assert!(credited_in(&mut other, "hanks", 1988).await.is_empty());
    let outbox = |pool: sqlx::PgPool| async move {
        let rows: Vec<(String, serde_json::Value)> =
            sqlx::query_as("SELECT routing_key, payload FROM outbox ORDER BY id").fetch_all(&pool).await.unwrap();
        rows
    };
    iknow_testkit::eventually(20, || async { outbox(pool.clone()).await.is_empty().then_some(()) }).await;

    // With the writer's broker cut, what the load announces stays in its outbox for the test to read.
    broker.cut();
    let load = "load-events";
    let begun = writer.begin_credits_load(BeginCreditsLoadRequest { load_id: load.into() }).await.unwrap();
    assert!(begun.into_inner().accepted);
    let credits = vec![credit(HANKS, BIG, &["Josh Baskin"], 1), credit(REEVES, MATRIX, &["Neo"], 1)];
    let lines = vec![2, 3];
    let chunk = StageCreditsRequest { load_id: load.into(), first_line: 2, last_line: 3, credits, lines };
    assert_eq!(writer.stage_credits(chunk).await.unwrap().into_inner().staged, 2);
    let finish = FinishCreditsLoadRequest { load_id: load.into() };
    iknow_testkit::eventually(30, || {
        let (mut writer, finish) = (writer.clone(), finish.clone());
        async move { (writer.finish_credits_load(finish).await.unwrap().into_inner().state == "finished").then_some(()) }
    })
    .await;
    // One event at the swap, one with the popularity scores: no ids, whatever the size of the catalogue.
    let events = iknow_testkit::eventually(30, || async {
        let rows = outbox(pool.clone()).await;
        (rows.len() >= 2).then_some(rows)
    })
    .await;
    let keys: Vec<&str> = events.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["catalog.reloaded", "catalog.reloaded"]);
    for (_, payload) in &events {
        assert_eq!(payload["type"], "catalog.reloaded");
        assert_eq!(payload["ids"], serde_json::json!([]));
    }
    assert_eq!(filmography(&mut writer, &hanks).await, [BIG], "the writer caught up by itself");

    // Published once the broker is back: the other replica forgets what it held and re-reads its index.
    broker.restore();
    iknow_testkit::eventually(60, || {
        let (mut other, hanks) = (other.clone(), hanks.clone());
        async move { (filmography(&mut other, &hanks).await == [BIG]).then_some(()) }
    })
    .await;
    iknow_testkit::eventually(20, || {
        let mut other = other.clone();
        async move { (credited_in(&mut other, "hanks", 1988).await == ["Tom Hanks"]).then_some(()) }
    })
    .await;
    pool.close().await;
}
