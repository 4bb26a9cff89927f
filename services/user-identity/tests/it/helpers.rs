//! Spawning the service on a fresh database and a connected client; listening to its exchanges.

use std::time::Duration;

use futures::StreamExt;
use iknow_common::Error;
use iknow_messaging::consume;
use iknow_proto::identity::v1::user_identity_client::UserIdentityClient;
use iknow_proto::identity::v1::{LoginRequest, RegisterRequest, Session, User};
use iknow_testkit::TestDb;
use lapin::message::Delivery;
use lapin::options::BasicConsumeOptions;
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{Connection, Consumer};
use sqlx::PgPool;
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub const PASSWORD: &str = "Correct-Horse-1";
pub const SECRET: &str = "test-secret-for-identity-tests";

/// Longest wait for one delivery from RabbitMQ.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub client: UserIdentityClient<Channel>,
    pub pool: PgPool,
    /// The configuration the service runs with (its own exchanges).
    pub config: user_identity::Config,
    _stop: oneshot::Sender<()>,
    _db: TestDb,
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

/// Spawns the service with the test configuration changed by `configure`.
pub async fn spawn_with(configure: impl FnOnce(&mut user_identity::Config)) -> TestApp {
    iknow_common::telemetry::init_for_tests();
    let db = TestDb::new().await;
    let mut config = user_identity::Config::for_tests(&db.url);
    assert_eq!(config.jwt_secret, SECRET);
    configure(&mut config);
    let app = user_identity::Application::build(config.clone()).await.expect("identity builds");
    let addr = app.addr();
    let pool = app.pool().clone();
    let (stop, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let client = UserIdentityClient::connect(format!("http://{addr}")).await.expect("identity answers");
    TestApp { client, pool, config, _stop: stop, _db: db }
}

pub fn registration(email: &str, username: &str) -> RegisterRequest {
    RegisterRequest { email: email.into(), username: username.into(), password: PASSWORD.into(), accept_terms: true }
}

impl TestApp {
    pub async fn register(&self, email: &str, username: &str) -> User {
        self.client.clone().register(registration(email, username)).await.expect("registers").into_inner()
    }

    pub async fn login(&self, login: &str, password: &str) -> Result<Session, Error> {
        self.client
            .clone()
            .login(LoginRequest { login: login.into(), password: password.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| Error::from_status(&s))
    }
}

impl TestApp {
    /// A queue bound to the notifications exchange with `routing_key`, before the action under test.
    pub async fn listen_notifications(&self, routing_key: &str) -> Listener {
        Listener::bind(&self.config.notifications_exchange, routing_key).await
    }

    /// A queue bound to the events exchange with `routing_key`.
    pub async fn listen_events(&self, routing_key: &str) -> Listener {
        Listener::bind(&self.config.events_exchange, routing_key).await
    }

    pub async fn outbox_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&self.pool).await.unwrap()
    }
}

/// An exclusive, auto-deleted queue bound to one exchange and routing key, consumed without acks.
pub struct Listener {
    consumer: Consumer,
    _connection: Connection,
}

impl Listener {
    pub async fn bind(exchange: &str, routing_key: &str) -> Self {
        let connection = consume::connect(&iknow_testkit::amqp_url()).await.expect("RabbitMQ must be running");
        let channel = connection.create_channel().await.unwrap();
        let queue = format!("{exchange}.{routing_key}.{}", uuid::Uuid::now_v7().simple());
        consume::bind_queue(&channel, &queue, exchange, routing_key, false).await.expect("bind queue");
        let options = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
        let consumer =
            channel.basic_consume(queue.as_str().into(), "test".into(), options, FieldTable::default()).await.unwrap();
        Self { consumer, _connection: connection }
    }

    /// The next delivery; panics when none comes within [`DELIVERY_WAIT`].
    pub async fn next_delivery(&mut self) -> Delivery {
        tokio::time::timeout(DELIVERY_WAIT, self.consumer.next())
            .await
            .expect("a delivery within the wait")
            .expect("consumer open")
            .expect("delivery")
    }

    /// The JSON body of the next delivery.
    pub async fn next_json(&mut self) -> serde_json::Value {
        let delivery = self.next_delivery().await;
        assert_eq!(delivery.properties.content_type().as_ref().map(|c| c.as_str()), Some("application/json"));
        serde_json::from_slice(&delivery.data).expect("JSON body")
    }
}

/// The shared broker's URL rewritten to go through `proxy`.
pub fn through_proxy(proxy: &iknow_testkit::TcpProxy) -> String {
    let mut uri: AMQPUri = iknow_testkit::amqp_url().parse().expect("amqp url");
    uri.authority.host = proxy.addr.ip().to_string();
    uri.authority.port = proxy.addr.port();
    uri.to_string()
}

/// The shared broker's socket address.
pub async fn broker_addr() -> std::net::SocketAddr {
    let uri: AMQPUri = iknow_testkit::amqp_url().parse().expect("amqp url");
    tokio::net::lookup_host((uri.authority.host.as_str(), uri.authority.port))
        .await
        .expect("broker host")
        .next()
        .expect("broker address")
}

/// The field names of a validation failure.
pub fn failing_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    match Error::from_status(status) {
        Error::Validation { violations, .. } => violations.into_iter().map(|v| v.field).collect(),
        other => panic!("expected validation, got {other:?}"),
    }
}

/// Asserts no response text contains an argon2 hash or the password.
pub fn assert_no_secret(text: &str) {
    assert!(!text.contains("$argon2"), "hash leaked: {text}");
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
}
