//! SQL of user-identity: the `users` and `refresh_tokens` rows and every statement on them. Secrets arrive
//! here already hashed (argon2id passwords, SHA-256 of refresh and mailed tokens) and never leave: no
//! function returns a token hash, and only [`password_hash`] returns the password's.

use chrono::{DateTime, Utc};
use iknow_common::Error;
use iknow_common::db::{constraint, is_unique_violation};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Opens a transaction.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, Error> {
    Ok(pool.begin().await?)
}

/// Commits a transaction.
pub async fn commit(tx: Transaction<'_, Postgres>) -> Result<(), Error> {
    Ok(tx.commit().await?)
}

/// A `users` row without secrets.
#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub email_verified: bool,
    pub preferences: serde_json::Value,
    pub subscription_tier: String,
    pub subscription_expires: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, email, username, email_verified, preferences, subscription_tier, \
                            subscription_expires, created_at, last_login, updated_at";

/// The unique index on `users.username` (the other one, `users_email_lower_key`, is on `lower(email)`).
const USERNAME_KEY: &str = "users_username_key";

fn username_taken() -> Error {
    Error::Conflict { code: "DUPLICATE_USERNAME".into(), message: "This username is already taken".into() }
}

fn email_taken() -> Error {
    Error::Conflict { code: "DUPLICATE_EMAIL".into(), message: "An account with this email already exists".into() }
}

/// An account to create, with the hash of the email verification token mailed to it.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub verification_hash: &'a str,
    pub verification_expires: DateTime<Utc>,
}

/// Creates an account; an email (in any case) or a username already taken is a conflict
/// (`DUPLICATE_EMAIL`, `DUPLICATE_USERNAME`).
pub async fn insert_user(conn: &mut PgConnection, user: &NewUser<'_>) -> Result<UserRow, Error> {
    let sql = format!(
        "INSERT INTO users (id, email, username, password_hash, email_verification_token_hash, \
         email_verification_expires) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(user.id)
        .bind(user.email)
        .bind(user.username)
        .bind(user.password_hash)
        .bind(user.verification_hash)
        .bind(user.verification_expires)
        .fetch_one(conn)
        .await
        .map_err(|e| {
            if !is_unique_violation(&e) {
                return e.into();
            }
            match constraint(&e) {
                Some(USERNAME_KEY) => username_taken(),
                _ => email_taken(),
            }
        })
}

/// One account, by id.
pub async fn user(conn: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRow>, Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// The id and password hash of the account whose email (in any case) or username is `login`.
pub async fn credentials(pool: &PgPool, login: &str) -> Result<Option<(Uuid, String)>, Error> {
    Ok(sqlx::query_as("SELECT id, password_hash FROM users WHERE lower(email) = lower($1) OR username = $1 LIMIT 1")
        .bind(login)
        .fetch_optional(pool)
        .await?)
}

/// Counts a successful log-in of account `id` and returns the account.
pub async fn record_login(conn: &mut PgConnection, id: Uuid) -> Result<UserRow, Error> {
    let sql = format!(
        "UPDATE users SET last_login = now(), login_count = login_count + 1, updated_at = now() \
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    );
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(conn).await?)
}

/// Stores a new refresh token (its hash) of `user_id` in `family`, valid for `ttl_seconds`.
pub async fn insert_refresh_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    family: Uuid,
    hash: &[u8],
    ttl_seconds: i64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(family)
    .bind(hash)
    .bind(ttl_seconds as f64)
    .execute(conn)
    .await?;
    Ok(())
}

/// The state of a stored refresh token.
#[derive(Debug, sqlx::FromRow)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    /// Rotated already: exchanged once for a new token.
    pub used: bool,
    pub revoked: bool,
    pub expired: bool,
}

/// The refresh token of hash `hash`, its row locked until the transaction ends.
pub async fn lock_refresh_token(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<RefreshToken>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, family_id, used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked, \
         expires_at <= now() AS expired FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(hash)
    .fetch_optional(conn)
    .await?)
}

/// Marks refresh token `id` rotated.
pub async fn mark_used(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Revokes every live token of `family`.
pub async fn revoke_family(conn: &mut PgConnection, family: Uuid) -> Result<(), Error> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL")
        .bind(family)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every live token of the family of the token of hash `hash` (nothing when it is unknown).
pub async fn revoke_family_of(pool: &PgPool, hash: &[u8]) -> Result<(), Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id = \
         (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
    )
    .bind(hash)
    .execute(pool)
    .await?;
    Ok(())
}

/// Revokes every live token of `user_id`; returns how many.
pub async fn revoke_sessions(conn: &mut PgConnection, user_id: Uuid) -> Result<u64, Error> {
    let revoked = sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(revoked.rows_affected())
}

/// Marks verified the email of the account holding the unexpired verification token of hash `hash`, and
/// forgets the token; `None` when no account holds it.
pub async fn verify_email(pool: &PgPool, hash: &str) -> Result<Option<UserRow>, Error> {
    let sql = format!(
        "UPDATE users SET email_verified = TRUE, email_verification_token_hash = NULL, \
         email_verification_expires = NULL, updated_at = now() \
         WHERE email_verification_token_hash = $1 AND email_verification_expires > now() \
         RETURNING {USER_COLUMNS}"
    );
    Ok(sqlx::query_as(&sql).bind(hash).fetch_optional(pool).await?)
}

/// Whom a mail goes to.
#[derive(Debug, sqlx::FromRow)]
pub struct Recipient {
    pub id: Uuid,
    pub email: String,
    pub username: String,
}

/// Gives the account of `email` (in any case) the password-reset token of hash `hash`, replacing any earlier
/// one; `None` when no account has this email.
pub async fn set_reset_token(
    conn: &mut PgConnection,
    email: &str,
    hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<Option<Recipient>, Error> {
    Ok(sqlx::query_as(
        "UPDATE users SET password_reset_token_hash = $1, password_reset_expires = $2 \
         WHERE lower(email) = lower($3) RETURNING id, email, username",
    )
    .bind(hash)
    .bind(expires_at)
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// The account holding the unexpired password-reset token of hash `hash`.
pub async fn reset_token_holder(pool: &PgPool, hash: &str) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM users WHERE password_reset_token_hash = $1 AND password_reset_expires > now()",
    )
    .bind(hash)
    .fetch_optional(pool)
    .await?)
}

/// Sets the password of `user_id` and forgets its reset token, if it still holds the unexpired token of hash
/// `reset_hash` (checked under the row lock: of two concurrent resets, one wins). Whether it did.
pub async fn reset_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    password_hash: &str,
    reset_hash: &str,
) -> Result<bool, Error> {
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $1, password_reset_token_hash = NULL, password_reset_expires = NULL, \
         updated_at = now() WHERE id = $2 AND password_reset_token_hash = $3 AND password_reset_expires > now()",
    )
    .bind(password_hash)
    .bind(user_id)
    .bind(reset_hash)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// What a profile update changes.
#[derive(Debug)]
pub struct Profile {
    pub username: String,
    pub preferences: serde_json::Value,
}

/// The profile of `id`, its row locked until the transaction ends.
pub async fn lock_profile(conn: &mut PgConnection, id: Uuid) -> Result<Option<Profile>, Error> {
    let row: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT username, preferences FROM users WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(username, preferences)| Profile { username, preferences }))
}

/// Sets the username and/or the preferences given of `id`; a username already taken is a conflict
/// (`DUPLICATE_USERNAME`).
pub async fn update_profile(
    conn: &mut PgConnection,
    id: Uuid,
    username: Option<&str>,
    preferences: Option<&serde_json::Value>,
) -> Result<UserRow, Error> {
    let sql = format!(
        "UPDATE users SET username = COALESCE($2, username), preferences = COALESCE($3, preferences), \
         updated_at = now() WHERE id = $1 RETURNING {USER_COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(username)
        .bind(preferences)
        .fetch_one(conn)
        .await
        .map_err(|e| if is_unique_violation(&e) { username_taken() } else { e.into() })
}

/// The password hash of `id`.
pub async fn password_hash(pool: &PgPool, id: Uuid) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?)
}

/// An erased account.
#[derive(Debug)]
pub struct Deletion {
    /// Its sessions that were still usable.
    pub sessions_revoked: i64,
    pub deleted_at: DateTime<Utc>,
}

/// Erases account `id` and, with it, its refresh tokens (`ON DELETE CASCADE`); `None` when there is none.
pub async fn delete_user(conn: &mut PgConnection, id: Uuid) -> Result<Option<Deletion>, Error> {
    let sessions_revoked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL \
         AND expires_at > now()",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let deleted_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("DELETE FROM users WHERE id = $1 RETURNING now()").bind(id).fetch_optional(conn).await?;
    Ok(deleted_at.map(|deleted_at| Deletion { sessions_revoked, deleted_at }))
}

/// The user part of the export: every column but the password hash and the mailed-token hashes.
#[derive(Debug, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExportedUser {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login: Option<DateTime<Utc>>,
    pub login_count: i32,
    pub subscription_tier: String,
    pub subscription_expires: Option<DateTime<Utc>>,
    pub preferences: serde_json::Value,
    /// An unexpired email verification token is out.
    #[serde(skip)]
    pub pending_verification: bool,
    /// An unexpired password-reset token is out.
    #[serde(skip)]
    pub pending_reset: bool,
}

/// One refresh-token record of the export (no hash).
#[derive(Debug, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub family_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Account `id` and all its refresh tokens, oldest first, read in one snapshot; `None` when there is none.
pub async fn export(pool: &PgPool, id: Uuid) -> Result<Option<(ExportedUser, Vec<SessionRecord>)>, Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let user: Option<ExportedUser> = sqlx::query_as(
        "SELECT id, email, username, email_verified, created_at, updated_at, last_login, login_count, \
         subscription_tier, subscription_expires, preferences, \
         (email_verification_token_hash IS NOT NULL AND email_verification_expires > now()) \
             AS pending_verification, \
         (password_reset_token_hash IS NOT NULL AND password_reset_expires > now()) AS pending_reset \
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user) = user else {
        return Ok(None);
    };
    let sessions = sqlx::query_as(
        "SELECT family_id, created_at, expires_at, used_at, revoked_at FROM refresh_tokens \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some((user, sessions)))
}
