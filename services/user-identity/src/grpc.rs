//! The `UserIdentity` gRPC service: registration, login, refresh-token rotation with reuse detection,
//! logout and user lookup. Passwords, hashes and tokens are never logged nor returned (except the caller's
//! own freshly issued tokens).

use base64::Engine;
use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_common::token::{self, Claims};
use iknow_proto::identity::v1::{
    GetUserRequest, LoginRequest, LogoutRequest, LogoutResponse, RefreshRequest, RegisterRequest, Session, User,
    user_identity_server::UserIdentity,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::config::Config;
use crate::password::Hasher;
use crate::validate;

/// One message for every failed login, whatever the reason.
const INVALID_CREDENTIALS: &str = "Invalid login or password";

#[derive(Clone)]
pub struct IdentityService {
    pool: PgPool,
    hasher: Hasher,
    jwt_secret: String,
    access_ttl: i64,
    refresh_ttl: i64,
}

/// A `users` row without secrets.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    username: String,
    email_verified: bool,
    preferences: serde_json::Value,
    subscription_tier: String,
    subscription_expires: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    last_login: Option<DateTime<Utc>>,
}

const USER_COLUMNS: &str = "id, email, username, email_verified, preferences, subscription_tier, \
                            subscription_expires, created_at, last_login";

impl From<UserRow> for User {
    fn from(u: UserRow) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email,
            username: u.username,
            email_verified: u.email_verified,
            preferences_json: u.preferences.to_string(),
            subscription_tier: u.subscription_tier,
            subscription_expires: u.subscription_expires.map(|t| t.to_rfc3339()).unwrap_or_default(),
            created_at: u.created_at.to_rfc3339(),
            last_login: u.last_login.map(|t| t.to_rfc3339()).unwrap_or_default(),
        }
    }
}

fn internal(e: impl Into<anyhow::Error>) -> Status {
    let e = e.into();
    tracing::error!(error = %e, "identity internal error");
    Error::internal(e).into()
}

fn unauthenticated(code: &str, message: &str) -> Status {
    Error::Unauthenticated { code: code.into(), message: message.into() }.into()
}

fn invalid_token() -> Status {
    unauthenticated("INVALID_TOKEN", "The refresh token is invalid or expired")
}

/// SHA-256 of an opaque refresh token: what the database stores.
fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new opaque refresh token: 32 random bytes, base64url without padding.
fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl IdentityService {
    pub fn new(pool: PgPool, hasher: Hasher, config: &Config) -> Self {
        Self {
            pool,
            hasher,
            jwt_secret: config.jwt_secret.clone(),
            access_ttl: config.access_ttl_seconds,
            refresh_ttl: config.refresh_ttl_seconds,
        }
    }

    /// Issues an access token and a refresh token in `family` (inside `tx`), and builds the session.
    async fn issue_session(&self, tx: &mut sqlx::PgConnection, user: UserRow, family: Uuid) -> Result<Session, Status> {
        let now = Utc::now();
        let tier = match user.subscription_expires {
            Some(exp) if exp < now => "free".to_owned(),
            _ => user.subscription_tier.clone(),
        };
        let claims = Claims {
            sub: user.id.to_string(),
            exp: now.timestamp() + self.access_ttl,
            iat: now.timestamp(),
            jti: Uuid::now_v7().to_string(),
            tier,
            typ: token::ACCESS_TYPE.into(),
        };
        let access_token = token::issue_access_token(&claims, &self.jwt_secret).map_err(internal)?;
        let refresh_token = new_refresh_token();
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) \
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        )
        .bind(Uuid::now_v7())
        .bind(user.id)
        .bind(family)
        .bind(token_hash(&refresh_token))
        .bind(self.refresh_ttl as f64)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        Ok(Session { access_token, refresh_token, expires_in: self.access_ttl, user: Some(user.into()) })
    }
}

#[tonic::async_trait]
impl UserIdentity for IdentityService {
    #[tracing::instrument(skip_all, fields(rpc = "Register"))]
    async fn register(&self, request: Request<RegisterRequest>) -> Result<Response<User>, Status> {
        let r = request.into_inner();
        let email = r.email.trim().to_owned();
        let violations = validate::registration(&email, &r.username, &r.password, r.accept_terms);
        if !violations.is_empty() {
            return Err(Error::validation(violations).into());
        }
        let hash = self.hasher.hash(r.password).await.map_err(internal)?;
        let sql = format!(
            "INSERT INTO users (id, email, username, password_hash) VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query_as::<_, UserRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(&email)
            .bind(&r.username)
            .bind(&hash)
            .fetch_one(&self.pool)
            .await;
        match row {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "user registered");
                Ok(Response::new(user.into()))
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
                let (code, message) = match e.constraint() {
                    Some("users_username_key") => ("DUPLICATE_USERNAME", "This username is already taken"),
                    _ => ("DUPLICATE_EMAIL", "An account with this email already exists"),
                };
                Err(Error::Conflict { code: code.into(), message: message.into() }.into())
            }
            Err(e) => Err(internal(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(rpc = "Login"))]
    async fn login(&self, request: Request<LoginRequest>) -> Result<Response<Session>, Status> {
        let r = request.into_inner();
        let login = r.login.trim();
        let found: Option<(Uuid, String)> = if login.is_empty() || login.len() > 255 {
            None
        } else {
            sqlx::query_as(
                "SELECT id, password_hash FROM users WHERE lower(email) = lower($1) OR username = $1 LIMIT 1",
            )
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
        };
        let (id, hash) = found.map(|(id, h)| (Some(id), Some(h))).unwrap_or((None, None));
        let ok = self.hasher.verify(r.password, hash).await.map_err(internal)?;
        let Some(id) = id.filter(|_| ok) else {
            tracing::info!("login refused");
            return Err(unauthenticated("INVALID_CREDENTIALS", INVALID_CREDENTIALS));
        };
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let sql = format!(
            "UPDATE users SET last_login = now(), login_count = login_count + 1, updated_at = now() \
             WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let user = sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_one(&mut *tx).await.map_err(internal)?;
        let session = self.issue_session(&mut tx, user, Uuid::now_v7()).await?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(user_id = %id, "login succeeded");
        Ok(Response::new(session))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Refresh"))]
    async fn refresh(&self, request: Request<RefreshRequest>) -> Result<Response<Session>, Status> {
        let hash = token_hash(&request.into_inner().refresh_token);
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let row: Option<(Uuid, Uuid, Uuid, bool, bool, bool)> = sqlx::query_as(
            "SELECT id, user_id, family_id, used_at IS NOT NULL, revoked_at IS NOT NULL, expires_at <= now() \
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?;
        let Some((id, user_id, family, used, revoked, expired)) = row else {
            return Err(invalid_token());
        };
        if used && !revoked {
            // A rotated token came back: someone holds a copy. Revoke the whole family.
            sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL")
                .bind(family)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            tracing::warn!(user_id = %user_id, family_id = %family, "refresh token reuse: family revoked");
            return Err(invalid_token());
        }
        if used || revoked || expired {
            return Err(invalid_token());
        }
        sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let user = sqlx::query_as::<_, UserRow>(&sql)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(internal)?
            .ok_or_else(invalid_token)?;
        let session = self.issue_session(&mut tx, user, family).await?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(session))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Logout"))]
    async fn logout(&self, request: Request<LogoutRequest>) -> Result<Response<LogoutResponse>, Status> {
        let hash = token_hash(&request.into_inner().refresh_token);
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id = \
             (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
        )
        .bind(&hash)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        Ok(Response::new(LogoutResponse {}))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetUser"))]
    async fn get_user(&self, request: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        let id = iknow_common::id::parse(&request.into_inner().id)
            .ok_or_else(|| Status::from(Error::field("id", "must be a UUID")))?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let user = sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(&self.pool).await.map_err(internal)?;
        user.map(|u| Response::new(u.into()))
            .ok_or_else(|| Error::not_found("USER_NOT_FOUND", "No user with this id").into())
    }
}
