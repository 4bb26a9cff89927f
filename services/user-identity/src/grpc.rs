//! The `UserIdentity` gRPC service: registration, login, refresh-token rotation with reuse detection,
//! logout, user lookup, email verification, password reset, profile update and the GDPR export and erasure.
//! Passwords, hashes and tokens are never logged nor returned (except the caller's own freshly issued
//! tokens). Mails and events go through the transactional outbox: written in the transaction of the change,
//! published by the relay, so RabbitMQ being down never fails a call.

use base64::Engine;
use chrono::{DateTime, Utc};
use iknow_common::token::{self, Claims};
use iknow_common::{Error, FieldViolation, preferences};
use iknow_messaging::{OutboxMessage, RelayHandle};
use iknow_proto::identity::v1::{
    ConfirmPasswordResetRequest, ConfirmPasswordResetResponse, DeleteUserRequest, DeleteUserResponse,
    ExportUserRequest, GetUserRequest, LoginRequest, LogoutRequest, LogoutResponse, RefreshRequest, RegisterRequest,
    RequestPasswordResetRequest, RequestPasswordResetResponse, Session, UpdateUserRequest, User, UserExport,
    VerifyEmailRequest, user_identity_server::UserIdentity,
};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::config::Config;
use crate::password::Hasher;
use crate::validate;

/// One message for every failed login, whatever the reason.
const INVALID_CREDENTIALS: &str = "Invalid login or password";

/// Routing key of verification mails on the notifications exchange.
pub const EMAIL_VERIFICATION_KEY: &str = "email.verification";
/// Routing key of password-reset mails on the notifications exchange.
pub const PASSWORD_RESET_KEY: &str = "email.password_reset";
/// Routing key of account deletions on the events exchange.
pub const USER_DELETED_KEY: &str = "user.deleted";

/// The gRPC service; cheap to clone (a pool, a hasher and settings).
#[derive(Clone)]
pub struct IdentityService {
    pool: PgPool,
    hasher: Hasher,
    relay: RelayHandle,
    jwt_secret: String,
    access_ttl: i64,
    refresh_ttl: i64,
    verification_ttl: i64,
    reset_ttl: i64,
    notifications_exchange: String,
    events_exchange: String,
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
    updated_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, email, username, email_verified, preferences, subscription_tier, \
                            subscription_expires, created_at, last_login, updated_at";

impl From<UserRow> for User {
    fn from(u: UserRow) -> Self {
        User {
            id: u.id.to_string(),
            email: u.email,
            username: u.username,
            email_verified: u.email_verified,
            preferences_json: u.preferences.to_string(),
            subscription_tier: u.subscription_tier,
            subscription_expires: u.subscription_expires.map(iknow_common::time::rfc3339).unwrap_or_default(),
            created_at: iknow_common::time::rfc3339(u.created_at),
            last_login: u.last_login.map(iknow_common::time::rfc3339).unwrap_or_default(),
            updated_at: iknow_common::time::rfc3339(u.updated_at),
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

/// The one answer to a mailed token that is unknown, already used or expired.
fn invalid_mail_token() -> Status {
    Error::field("token", TOKEN_REFUSED).into()
}

const TOKEN_REFUSED: &str = "is invalid, used or expired";

fn user_not_found() -> Status {
    Error::not_found("USER_NOT_FOUND", "No user with this id").into()
}

fn validation(violations: Vec<FieldViolation>) -> Status {
    Error::validation(violations).into()
}

/// SHA-256 of an opaque refresh token: what the database stores.
fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// SHA-256 (lowercase hex) of a mailed token: what the `users` row stores.
fn mail_token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// A new opaque token (refresh or mailed): 32 random bytes, base64url without padding.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The request id of a call: the caller's `x-request-id` metadata, else the task's (in-process callers).
fn request_id<T>(request: &Request<T>) -> Option<String> {
    request
        .metadata()
        .get(iknow_common::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| iknow_common::request_id::is_acceptable(id))
        .map(str::to_owned)
        .or_else(iknow_common::request_id::current)
}

/// A user id sent by the caller, or the violation on field `id`.
fn parse_id(id: &str) -> Result<Uuid, FieldViolation> {
    iknow_common::id::parse(id).ok_or_else(|| FieldViolation::new("id", "must be a UUID"))
}

/// Body of a mail request on the notifications exchange (verification or password reset).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MailRequest<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    user_id: Uuid,
    email: &'a str,
    username: &'a str,
    token: &'a str,
    expires_at: DateTime<Utc>,
}

/// Body of `user.deleted` on the events exchange.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserDeleted {
    #[serde(rename = "type")]
    kind: &'static str,
    user_id: Uuid,
    deleted_at: DateTime<Utc>,
}

/// One refresh-token record of the export (no hash).
#[derive(Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
struct SessionRecord {
    family_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// The user part of the export: every column but the password hash and the mailed-token hashes.
#[derive(Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
struct ExportedUser {
    id: Uuid,
    email: String,
    username: String,
    email_verified: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    last_login: Option<DateTime<Utc>>,
    login_count: i32,
    subscription_tier: String,
    subscription_expires: Option<DateTime<Utc>>,
    preferences: serde_json::Value,
    #[serde(skip)]
    pending_verification: bool,
    #[serde(skip)]
    pending_reset: bool,
}

impl IdentityService {
    /// The service over `pool`; `relay` is woken after every commit that wrote to the outbox.
    pub fn new(pool: PgPool, hasher: Hasher, relay: RelayHandle, config: &Config) -> Self {
        Self {
            pool,
            hasher,
            relay,
            jwt_secret: config.jwt_secret.clone(),
            access_ttl: config.access_ttl_seconds,
            refresh_ttl: config.refresh_ttl_seconds,
            verification_ttl: config.email_verification_ttl_seconds,
            reset_ttl: config.password_reset_ttl_seconds,
            notifications_exchange: config.notifications_exchange.clone(),
            events_exchange: config.events_exchange.clone(),
        }
    }

    /// Writes a message to the outbox inside `tx` (the transaction of the change it announces), tagged with
    /// the request id when there is one. Publication happens after the commit (see [`RelayHandle::wake`]).
    async fn enqueue(
        &self,
        tx: &mut sqlx::PgConnection,
        exchange: &str,
        routing_key: &str,
        payload: &impl Serialize,
        request_id: Option<&str>,
    ) -> Result<(), Status> {
        let mut message = OutboxMessage::json(exchange, routing_key, payload).map_err(internal)?;
        if let Some(id) = request_id {
            message = message.header(iknow_common::request_id::HEADER, id);
        }
        iknow_messaging::enqueue(tx, &message).await.map_err(internal)?;
        Ok(())
    }

    async fn fetch_user(&self, conn: &mut sqlx::PgConnection, id: Uuid) -> Result<Option<UserRow>, Status> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(conn).await.map_err(internal)
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
            tier_expires: user.subscription_expires.filter(|exp| *exp >= now).map(|exp| exp.timestamp()),
            typ: token::ACCESS_TYPE.into(),
        };
        let access_token = token::issue_access_token(&claims, &self.jwt_secret).map_err(internal)?;
        let refresh_token = new_token();
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
        let request_id = request_id(&request);
        let r = request.into_inner();
        let email = r.email.trim().to_owned();
        let violations = validate::registration(&email, &r.username, &r.password, r.accept_terms);
        if !violations.is_empty() {
            return Err(validation(violations));
        }
        let hash = self.hasher.hash(r.password).await.map_err(internal)?;
        let token = new_token();
        let expires_at = Utc::now() + chrono::Duration::seconds(self.verification_ttl);
        let sql = format!(
            "INSERT INTO users (id, email, username, password_hash, email_verification_token_hash, \
             email_verification_expires) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
        );
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let row = sqlx::query_as::<_, UserRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(&email)
            .bind(&r.username)
            .bind(&hash)
            .bind(mail_token_hash(&token))
            .bind(expires_at)
            .fetch_one(&mut *tx)
            .await;
        match row {
            Ok(user) => {
                let mail = MailRequest {
                    kind: "email_verification",
                    user_id: user.id,
                    email: &user.email,
                    username: &user.username,
                    token: &token,
                    expires_at,
                };
                let exchange = &self.notifications_exchange;
                self.enqueue(&mut tx, exchange, EMAIL_VERIFICATION_KEY, &mail, request_id.as_deref()).await?;
                tx.commit().await.map_err(internal)?;
                self.relay.wake();
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
        let id = parse_id(&request.into_inner().id).map_err(|v| validation(vec![v]))?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        let user = self.fetch_user(&mut conn, id).await?;
        user.map(|u| Response::new(u.into())).ok_or_else(user_not_found)
    }

    #[tracing::instrument(skip_all, fields(rpc = "VerifyEmail"))]
    async fn verify_email(&self, request: Request<VerifyEmailRequest>) -> Result<Response<User>, Status> {
        let token = request.into_inner().token;
        if token.is_empty() {
            return Err(invalid_mail_token());
        }
        let sql = format!(
            "UPDATE users SET email_verified = TRUE, email_verification_token_hash = NULL, \
             email_verification_expires = NULL, updated_at = now() \
             WHERE email_verification_token_hash = $1 AND email_verification_expires > now() \
             RETURNING {USER_COLUMNS}"
        );
        let user = sqlx::query_as::<_, UserRow>(&sql)
            .bind(mail_token_hash(&token))
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
            .ok_or_else(invalid_mail_token)?;
        tracing::info!(user_id = %user.id, "email verified");
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all, fields(rpc = "RequestPasswordReset"))]
    async fn request_password_reset(
        &self,
        request: Request<RequestPasswordResetRequest>,
    ) -> Result<Response<RequestPasswordResetResponse>, Status> {
        let request_id = request_id(&request);
        let email = request.into_inner().email.trim().to_owned();
        // Same answer whether or not the email is known: nothing tells a caller which accounts exist.
        if email.is_empty() || email.len() > 255 {
            return Ok(Response::new(RequestPasswordResetResponse {}));
        }
        let token = new_token();
        let expires_at = Utc::now() + chrono::Duration::seconds(self.reset_ttl);
        let mut tx = self.pool.begin().await.map_err(internal)?;
        // A new token replaces any earlier one: only the latest mail works.
        let found: Option<(Uuid, String, String)> = sqlx::query_as(
            "UPDATE users SET password_reset_token_hash = $1, password_reset_expires = $2 \
             WHERE lower(email) = lower($3) RETURNING id, email, username",
        )
        .bind(mail_token_hash(&token))
        .bind(expires_at)
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?;
        if let Some((user_id, email, username)) = found {
            let mail = MailRequest {
                kind: "password_reset",
                user_id,
                email: &email,
                username: &username,
                token: &token,
                expires_at,
            };
            let exchange = &self.notifications_exchange;
            self.enqueue(&mut tx, exchange, PASSWORD_RESET_KEY, &mail, request_id.as_deref()).await?;
            tx.commit().await.map_err(internal)?;
            self.relay.wake();
            tracing::info!(user_id = %user_id, "password reset requested");
        }
        Ok(Response::new(RequestPasswordResetResponse {}))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ConfirmPasswordReset"))]
    async fn confirm_password_reset(
        &self,
        request: Request<ConfirmPasswordResetRequest>,
    ) -> Result<Response<ConfirmPasswordResetResponse>, Status> {
        let r = request.into_inner();
        let hash = mail_token_hash(&r.token);
        let holder: Option<Uuid> = if r.token.is_empty() {
            None
        } else {
            sqlx::query_scalar(
                "SELECT id FROM users WHERE password_reset_token_hash = $1 AND password_reset_expires > now()",
            )
            .bind(&hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
        };
        let mut violations = vec![];
        if holder.is_none() {
            violations.push(FieldViolation::new("token", TOKEN_REFUSED));
        }
        if !validate::strong_password(&r.new_password) {
            violations.push(FieldViolation::new("newPassword", validate::PASSWORD_RULE));
        }
        let Some(user_id) = holder.filter(|_| violations.is_empty()) else {
            return Err(validation(violations));
        };
        let password_hash = self.hasher.hash(r.new_password).await.map_err(internal)?;
        let mut tx = self.pool.begin().await.map_err(internal)?;
        // The token is checked again under the row lock: of two concurrent confirms, only one wins.
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, password_reset_token_hash = NULL, password_reset_expires = NULL, \
             updated_at = now() WHERE id = $2 AND password_reset_token_hash = $3 AND password_reset_expires > now()",
        )
        .bind(&password_hash)
        .bind(user_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        if updated.rows_affected() == 0 {
            return Err(invalid_mail_token());
        }
        let revoked =
            sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(user_id = %user_id, sessions_revoked = revoked.rows_affected(), "password reset");
        Ok(Response::new(ConfirmPasswordResetResponse { user_id: user_id.to_string() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "UpdateUser"))]
    async fn update_user(&self, request: Request<UpdateUserRequest>) -> Result<Response<User>, Status> {
        let r = request.into_inner();
        let id = parse_id(&r.id).map_err(|v| validation(vec![v]))?;
        let mut violations = vec![];
        if let Some(username) = &r.username
            && !validate::valid_username(username)
        {
            violations.push(FieldViolation::new("username", validate::USERNAME_RULE));
        }
        let patch = match r.preferences_json.as_deref().map(serde_json::from_str::<serde_json::Value>) {
            None => None,
            Some(Ok(patch)) => Some(patch),
            Some(Err(_)) => {
                violations.push(FieldViolation::new("preferences", "must be a JSON object"));
                None
            }
        };
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let current: Option<(String, serde_json::Value)> =
            sqlx::query_as("SELECT username, preferences FROM users WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(internal)?;
        let Some((username, stored)) = current else {
            return Err(user_not_found());
        };
        let merged = match patch.map(|p| preferences::merge_patch(&stored, &p)) {
            None => None,
            Some(Ok(merged)) => Some(merged.to_value()),
            Some(Err(problems)) => {
                violations.extend(problems);
                None
            }
        };
        if !violations.is_empty() {
            return Err(validation(violations));
        }
        let new_username = r.username.filter(|u| *u != username);
        let new_preferences = merged.filter(|p| *p != stored);
        if new_username.is_none() && new_preferences.is_none() {
            let user = self.fetch_user(&mut tx, id).await?.ok_or_else(user_not_found)?;
            return Ok(Response::new(user.into()));
        }
        let sql = format!(
            "UPDATE users SET username = COALESCE($2, username), preferences = COALESCE($3, preferences), \
             updated_at = now() WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let updated = sqlx::query_as::<_, UserRow>(&sql)
            .bind(id)
            .bind(&new_username)
            .bind(&new_preferences)
            .fetch_one(&mut *tx)
            .await;
        let user = match updated {
            Ok(user) => user,
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
                return Err(Error::Conflict {
                    code: "DUPLICATE_USERNAME".into(),
                    message: "This username is already taken".into(),
                }
                .into());
            }
            Err(e) => return Err(internal(e)),
        };
        tx.commit().await.map_err(internal)?;
        tracing::info!(user_id = %id, "user updated");
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ExportUser"))]
    async fn export_user(&self, request: Request<ExportUserRequest>) -> Result<Response<UserExport>, Status> {
        let id = parse_id(&request.into_inner().id).map_err(|v| validation(vec![v]))?;
        // One snapshot for the user and their sessions.
        let mut tx = self.pool.begin().await.map_err(internal)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        let user = sqlx::query_as::<_, ExportedUser>(
            "SELECT id, email, username, email_verified, created_at, updated_at, last_login, login_count, \
             subscription_tier, subscription_expires, preferences, \
             (email_verification_token_hash IS NOT NULL AND email_verification_expires > now()) \
                 AS pending_verification, \
             (password_reset_token_hash IS NOT NULL AND password_reset_expires > now()) AS pending_reset \
             FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?
        .ok_or_else(user_not_found)?;
        let sessions = sqlx::query_as::<_, SessionRecord>(
            "SELECT family_id, created_at, expires_at, used_at, revoked_at FROM refresh_tokens \
             WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        let pending =
            serde_json::json!({"emailVerification": user.pending_verification, "passwordReset": user.pending_reset});
        let document = serde_json::json!({"user": user, "sessions": sessions, "pending": pending});
        tracing::info!(user_id = %id, "user exported");
        Ok(Response::new(UserExport { json: document.to_string() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "DeleteUser"))]
    async fn delete_user(&self, request: Request<DeleteUserRequest>) -> Result<Response<DeleteUserResponse>, Status> {
        let request_id = request_id(&request);
        let r = request.into_inner();
        let mut violations = vec![];
        let id = parse_id(&r.id).map_err(|v| violations.push(v)).ok();
        if r.password.is_empty() {
            violations.push(FieldViolation::new("password", "is required"));
        }
        let (Some(id), true) = (id, violations.is_empty()) else {
            return Err(validation(violations));
        };
        let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        let Some(hash) = hash else {
            return Err(user_not_found());
        };
        if !self.hasher.verify(r.password, Some(hash)).await.map_err(internal)? {
            return Err(Error::Forbidden {
                code: "INVALID_CREDENTIALS".into(),
                message: "The password is not correct".into(),
            }
            .into());
        }
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let sessions_revoked: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL \
             AND expires_at > now()",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(internal)?;
        // Refresh tokens go with the row (ON DELETE CASCADE).
        let deleted_at: Option<DateTime<Utc>> = sqlx::query_scalar("DELETE FROM users WHERE id = $1 RETURNING now()")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(internal)?;
        let Some(deleted_at) = deleted_at else {
            return Err(user_not_found());
        };
        let event = UserDeleted { kind: USER_DELETED_KEY, user_id: id, deleted_at };
        let exchange = &self.events_exchange;
        self.enqueue(&mut tx, exchange, USER_DELETED_KEY, &event, request_id.as_deref()).await?;
        tx.commit().await.map_err(internal)?;
        self.relay.wake();
        // The audit trail keeps that an account was erased, and nothing that identifies whose.
        tracing::info!(
            target: "audit",
            action = "account_deleted",
            audit_id = %Uuid::now_v7(),
            sessions_revoked,
            "account deleted"
        );
        Ok(Response::new(DeleteUserResponse {}))
    }
}
