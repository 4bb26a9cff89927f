//! Spawning the service on a fresh database and a connected client; listening to its exchanges.

use iknow_common::Error;
use iknow_proto::identity::v1::user_identity_client::UserIdentityClient;
use iknow_proto::identity::v1::{LoginRequest, RegisterRequest, Session, User};
use iknow_testkit::TestDb;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub use iknow_testkit::amqp::{Listener, broker_addr, through_proxy};

pub const PASSWORD: &str = "Correct-Horse-1";
pub const SECRET: &str = "test-secret-for-identity-tests";

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
    assert_eq!(config.jwt_secret.expose(), SECRET);
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
