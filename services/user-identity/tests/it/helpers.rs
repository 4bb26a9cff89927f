//! Spawning the service on a fresh database and a connected client.

use iknow_common::Error;
use iknow_proto::identity::v1::user_identity_client::UserIdentityClient;
use iknow_proto::identity::v1::{LoginRequest, RegisterRequest, Session, User};
use iknow_testkit::TestDb;
use sqlx::PgPool;
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub const PASSWORD: &str = "Correct-Horse-1";
pub const SECRET: &str = "test-secret-for-identity-tests";

pub struct TestApp {
    pub client: UserIdentityClient<Channel>,
    pub pool: PgPool,
    _stop: oneshot::Sender<()>,
    _db: TestDb,
}

pub async fn spawn() -> TestApp {
    iknow_common::telemetry::init_for_tests();
    let db = TestDb::new().await;
    let config = user_identity::Config::for_tests(&db.url);
    assert_eq!(config.jwt_secret, SECRET);
    let app = user_identity::Application::build(config).await.expect("identity builds");
    let addr = app.addr();
    let pool = app.pool().clone();
    let (stop, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let client = UserIdentityClient::connect(format!("http://{addr}")).await.expect("identity answers");
    TestApp { client, pool, _stop: stop, _db: db }
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

/// Asserts no response text contains an argon2 hash or the password.
pub fn assert_no_secret(text: &str) {
    assert!(!text.contains("$argon2"), "hash leaked: {text}");
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
}
