//! The `UserIdentity` gRPC service: registration, login, refresh-token rotation with reuse detection,
//! logout, user lookup, email verification, password reset, profile update and the GDPR export and erasure.
//! Passwords, hashes and tokens are never logged nor returned (except the caller's own freshly issued
//! tokens). Mails and events go through the transactional outbox: written in the transaction of the change,
//! published by the relay, so RabbitMQ being down never fails a call.

use base64::Engine;
use chrono::Utc;
use iknow_common::secret::Secret;
use iknow_common::token::{self, Claims};
use iknow_common::{Error, FieldViolation, preferences};
use iknow_messaging::events::{EmailVerification, Event, PasswordReset, TokenMail, UserDeleted};
use iknow_messaging::{OutboxMessage, RelayHandle};
use iknow_proto::identity::v1::{
    ConfirmPasswordResetRequest, ConfirmPasswordResetResponse, DeleteUserRequest, DeleteUserResponse,
    ExportUserRequest, GetUserRequest, LoginRequest, LogoutRequest, LogoutResponse, RefreshRequest, RegisterRequest,
    RequestPasswordResetRequest, RequestPasswordResetResponse, Session, UpdateUserRequest, User, UserExport,
    VerifyEmailRequest, user_identity_server::UserIdentity,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::config::Config;
use crate::password::Hasher;
use crate::store::{self, UserRow};
use crate::validate;

/// One message for every failed login, whatever the reason.
const INVALID_CREDENTIALS: &str = "Invalid login or password";

/// The gRPC service; cheap to clone (a pool, a hasher and settings).
#[derive(Clone)]
pub struct IdentityService {
    pool: PgPool,
    hasher: Hasher,
    relay: RelayHandle,
    jwt_secret: Secret,
    access_ttl: i64,
    refresh_ttl: i64,
    verification_ttl: i64,
    reset_ttl: i64,
    notifications_exchange: String,
    events_exchange: String,
}

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

fn unauthenticated(code: &str, message: &str) -> Status {
    Error::Unauthenticated { code: code.into(), message: message.into() }.into()
}

fn invalid_token() -> Status {
    unauthenticated("INVALID_TOKEN", "The refresh token is invalid or expired")
}

/// The one answer to a mailed token that is unknown, already used or expired.
fn invalid_mail_token() -> Status {
    Error::field("token", iknow_common::rules::MAIL_TOKEN_MESSAGE).into()
}

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

/// A user id sent by the caller, or the violation on field `id`.
fn parse_id(id: &str) -> Result<Uuid, FieldViolation> {
    iknow_common::id::parse(id).ok_or_else(|| FieldViolation::new("id", iknow_common::rules::UUID_MESSAGE))
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

    /// Writes `event` to the outbox inside `tx` (the transaction of the change it announces), tagged with
    /// the request id when there is one. Publication happens after the commit (see [`RelayHandle::wake`]).
    async fn enqueue<E: Event>(
        &self,
        tx: &mut PgConnection,
        exchange: &str,
        event: &E,
        request_id: Option<&str>,
    ) -> Result<(), Error> {
        let mut message = OutboxMessage::event(exchange, event).map_err(Error::internal)?;
        if let Some(id) = request_id {
            message = message.header(iknow_common::request_id::HEADER, id);
        }
        iknow_messaging::enqueue(tx, &message).await?;
        Ok(())
    }

    /// Issues an access token and a refresh token in `family` (inside `tx`), and builds the session.
    async fn issue_session(&self, tx: &mut PgConnection, user: UserRow, family: Uuid) -> Result<Session, Error> {
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
        let access_token = token::issue_access_token(&claims, self.jwt_secret.expose()).map_err(Error::internal)?;
        let refresh_token = new_token();
        store::insert_refresh_token(tx, user.id, family, &token_hash(&refresh_token), self.refresh_ttl).await?;
        Ok(Session { access_token, refresh_token, expires_in: self.access_ttl, user: Some(user.into()) })
    }
}

#[tonic::async_trait]
impl UserIdentity for IdentityService {
    #[tracing::instrument(skip_all, fields(rpc = "Register"))]
    async fn register(&self, request: Request<RegisterRequest>) -> Result<Response<User>, Status> {
        let request_id = iknow_common::request_id::of(&request);
        let r = request.into_inner();
        let email = r.email.trim().to_owned();
        let violations = validate::registration(&email, &r.username, &r.password, r.accept_terms);
        if !violations.is_empty() {
            return Err(validation(violations));
        }
        let hash = self.hasher.hash(r.password).await.map_err(Error::internal)?;
        let token = new_token();
        let expires_at = Utc::now() + chrono::Duration::seconds(self.verification_ttl);
        let new_user = store::NewUser {
            id: Uuid::now_v7(),
            email: &email,
            username: &r.username,
            password_hash: &hash,
            verification_hash: &mail_token_hash(&token),
            verification_expires: expires_at,
        };
        let mut tx = store::begin(&self.pool).await?;
        let user = store::insert_user(&mut tx, &new_user).await?;
        let mail = EmailVerification(TokenMail {
            user_id: user.id,
            email: user.email.clone(),
            username: user.username.clone(),
            token,
            expires_at,
        });
        self.enqueue(&mut tx, &self.notifications_exchange, &mail, request_id.as_deref()).await?;
        store::commit(tx).await?;
        self.relay.wake();
        tracing::info!(user_id = %user.id, "user registered");
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Login"))]
    async fn login(&self, request: Request<LoginRequest>) -> Result<Response<Session>, Status> {
        let r = request.into_inner();
        let login = r.login.trim();
        let found =
            if login.is_empty() || login.len() > 255 { None } else { store::credentials(&self.pool, login).await? };
        let (id, hash) = found.map(|(id, h)| (Some(id), Some(h))).unwrap_or((None, None));
        let ok = self.hasher.verify(r.password, hash).await.map_err(Error::internal)?;
        let Some(id) = id.filter(|_| ok) else {
            tracing::info!("login refused");
            return Err(unauthenticated("INVALID_CREDENTIALS", INVALID_CREDENTIALS));
        };
        let mut tx = store::begin(&self.pool).await?;
        let user = store::record_login(&mut tx, id).await?;
        let session = self.issue_session(&mut tx, user, Uuid::now_v7()).await?;
        store::commit(tx).await?;
        tracing::info!(user_id = %id, "login succeeded");
        Ok(Response::new(session))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Refresh"))]
    async fn refresh(&self, request: Request<RefreshRequest>) -> Result<Response<Session>, Status> {
        let hash = token_hash(&request.into_inner().refresh_token);
        let mut tx = store::begin(&self.pool).await?;
        let Some(stored) = store::lock_refresh_token(&mut tx, &hash).await? else {
            return Err(invalid_token());
        };
        if stored.used && !stored.revoked {
            // A rotated token came back: someone holds a copy. Revoke the whole family.
            store::revoke_family(&mut tx, stored.family_id).await?;
            store::commit(tx).await?;
            let (user_id, family_id) = (stored.user_id, stored.family_id);
            tracing::warn!(%user_id, %family_id, "refresh token reuse: family revoked");
            return Err(invalid_token());
        }
        if stored.used || stored.revoked || stored.expired {
            return Err(invalid_token());
        }
        store::mark_used(&mut tx, stored.id).await?;
        let user = store::user(&mut *tx, stored.user_id).await?.ok_or_else(invalid_token)?;
        let session = self.issue_session(&mut tx, user, stored.family_id).await?;
        store::commit(tx).await?;
        Ok(Response::new(session))
    }

    #[tracing::instrument(skip_all, fields(rpc = "Logout"))]
    async fn logout(&self, request: Request<LogoutRequest>) -> Result<Response<LogoutResponse>, Status> {
        let hash = token_hash(&request.into_inner().refresh_token);
        store::revoke_family_of(&self.pool, &hash).await?;
        Ok(Response::new(LogoutResponse {}))
    }

    #[tracing::instrument(skip_all, fields(rpc = "GetUser"))]
    async fn get_user(&self, request: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        let id = parse_id(&request.into_inner().id).map_err(|v| validation(vec![v]))?;
        let user = store::user(&self.pool, id).await?.ok_or_else(user_not_found)?;
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all, fields(rpc = "VerifyEmail"))]
    async fn verify_email(&self, request: Request<VerifyEmailRequest>) -> Result<Response<User>, Status> {
        let token = request.into_inner().token;
        if token.is_empty() {
            return Err(invalid_mail_token());
        }
        let user = store::verify_email(&self.pool, &mail_token_hash(&token)).await?.ok_or_else(invalid_mail_token)?;
        tracing::info!(user_id = %user.id, "email verified");
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all, fields(rpc = "RequestPasswordReset"))]
    async fn request_password_reset(
        &self,
        request: Request<RequestPasswordResetRequest>,
    ) -> Result<Response<RequestPasswordResetResponse>, Status> {
        let request_id = iknow_common::request_id::of(&request);
        let email = request.into_inner().email.trim().to_owned();
        // Same answer whether or not the email is known: nothing tells a caller which accounts exist.
        if email.is_empty() || email.len() > 255 {
            return Ok(Response::new(RequestPasswordResetResponse {}));
        }
        let token = new_token();
        let expires_at = Utc::now() + chrono::Duration::seconds(self.reset_ttl);
        let mut tx = store::begin(&self.pool).await?;
        // A new token replaces any earlier one: only the latest mail works.
        let found = store::set_reset_token(&mut tx, &email, &mail_token_hash(&token), expires_at).await?;
        if let Some(to) = found {
            let user_id = to.id;
            let mail = PasswordReset(TokenMail { user_id, email: to.email, username: to.username, token, expires_at });
            self.enqueue(&mut tx, &self.notifications_exchange, &mail, request_id.as_deref()).await?;
            store::commit(tx).await?;
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
        let holder = if r.token.is_empty() { None } else { store::reset_token_holder(&self.pool, &hash).await? };
        let mut violations = vec![];
        if holder.is_none() {
            violations.push(FieldViolation::new("token", iknow_common::rules::MAIL_TOKEN_MESSAGE));
        }
        if !validate::strong_password(&r.new_password) {
            violations.push(FieldViolation::new("newPassword", validate::PASSWORD_RULE));
        }
        let Some(user_id) = holder.filter(|_| violations.is_empty()) else {
            return Err(validation(violations));
        };
        let password_hash = self.hasher.hash(r.new_password).await.map_err(Error::internal)?;
        let mut tx = store::begin(&self.pool).await?;
        if !store::reset_password(&mut tx, user_id, &password_hash, &hash).await? {
            return Err(invalid_mail_token());
        }
        let revoked = store::revoke_sessions(&mut tx, user_id).await?;
        store::commit(tx).await?;
        tracing::info!(user_id = %user_id, sessions_revoked = revoked, "password reset");
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
        let mut tx = store::begin(&self.pool).await?;
        let Some(current) = store::lock_profile(&mut tx, id).await? else {
            return Err(user_not_found());
        };
        let merged = match patch.map(|p| preferences::merge_patch(&current.preferences, &p)) {
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
        let new_username = r.username.filter(|u| *u != current.username);
        let new_preferences = merged.filter(|p| *p != current.preferences);
        if new_username.is_none() && new_preferences.is_none() {
            let user = store::user(&mut *tx, id).await?.ok_or_else(user_not_found)?;
            return Ok(Response::new(user.into()));
        }
        let user = store::update_profile(&mut tx, id, new_username.as_deref(), new_preferences.as_ref()).await?;
        store::commit(tx).await?;
        tracing::info!(user_id = %id, "user updated");
        Ok(Response::new(user.into()))
    }

    #[tracing::instrument(skip_all, fields(rpc = "ExportUser"))]
    async fn export_user(&self, request: Request<ExportUserRequest>) -> Result<Response<UserExport>, Status> {
        let id = parse_id(&request.into_inner().id).map_err(|v| validation(vec![v]))?;
        let (user, sessions) = store::export(&self.pool, id).await?.ok_or_else(user_not_found)?;
        let pending =
            serde_json::json!({"emailVerification": user.pending_verification, "passwordReset": user.pending_reset});
        let document = serde_json::json!({"user": user, "sessions": sessions, "pending": pending});
        tracing::info!(user_id = %id, "user exported");
        Ok(Response::new(UserExport { json: document.to_string() }))
    }

    #[tracing::instrument(skip_all, fields(rpc = "DeleteUser"))]
    async fn delete_user(&self, request: Request<DeleteUserRequest>) -> Result<Response<DeleteUserResponse>, Status> {
        let request_id = iknow_common::request_id::of(&request);
        let r = request.into_inner();
        let mut violations = vec![];
        let id = parse_id(&r.id).map_err(|v| violations.push(v)).ok();
        if r.password.is_empty() {
            violations.push(FieldViolation::new("password", "is required"));
        }
        let (Some(id), true) = (id, violations.is_empty()) else {
            return Err(validation(violations));
        };
        let Some(hash) = store::password_hash(&self.pool, id).await? else {
            return Err(user_not_found());
        };
        if !self.hasher.verify(r.password, Some(hash)).await.map_err(Error::internal)? {
            return Err(Error::Forbidden {
                code: "INVALID_CREDENTIALS".into(),
                message: "The password is not correct".into(),
            }
            .into());
        }
        let mut tx = store::begin(&self.pool).await?;
        let Some(deletion) = store::delete_user(&mut tx, id).await? else {
            return Err(user_not_found());
        };
        let event = UserDeleted { user_id: id, deleted_at: deletion.deleted_at };
        self.enqueue(&mut tx, &self.events_exchange, &event, request_id.as_deref()).await?;
        store::commit(tx).await?;
        self.relay.wake();
        // The audit trail keeps that an account was erased, and nothing that identifies whose.
        tracing::info!(
            target: "audit",
            action = "account_deleted",
            audit_id = %Uuid::now_v7(),
            sessions_revoked = deletion.sessions_revoked,
            "account deleted"
        );
        Ok(Response::new(DeleteUserResponse {}))
    }
}
