//! JSON shapes of the user and auth routes: request bodies (camelCase, unknown keys refused) and the user,
//! session and confirmation payloads. No password or hash is ever part of a response.

use iknow_proto::identity::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::body::BodyFields;
use crate::dto::non_empty;
use crate::envelope::Meta;

/// A subscription tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionTier {
    Free,
    Premium,
    Family,
}

impl From<iknow_common::token::Tier> for SubscriptionTier {
    fn from(t: iknow_common::token::Tier) -> Self {
        use iknow_common::token::Tier;
        match t {
            Tier::Free => Self::Free,
            Tier::Premium => Self::Premium,
            Tier::Family => Self::Family,
        }
    }
}

/// A user account as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(example = "jan@example.com")]
    pub email: String,
    #[schema(example = "jan")]
    pub username: String,
    pub email_verified: bool,
    /// The preferences document (every key filled with its default when never set).
    #[schema(value_type = iknow_common::preferences::Preferences)]
    pub preferences: Value,
    pub subscription_tier: SubscriptionTier,
    /// When a paid subscription ends (RFC 3339); null when it does not.
    #[schema(format = DateTime, required = true)]
    pub subscription_expires: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The last successful log-in (RFC 3339); null when never.
    #[schema(format = DateTime, required = true)]
    pub last_login: Option<String>,
}

impl From<pb::User> for User {
    fn from(u: pb::User) -> Self {
        let preferences = serde_json::from_str::<Value>(&u.preferences_json)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(Default::default()));
        Self {
            id: u.id,
            email: u.email,
            username: u.username,
            email_verified: u.email_verified,
            preferences,
            subscription_tier: iknow_common::token::Tier::parse(&u.subscription_tier).into(),
            subscription_expires: non_empty(u.subscription_expires),
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login: non_empty(u.last_login),
        }
    }
}

/// A log-in session: a short-lived access token and a single-use refresh token.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Exchange at `/api/v1/auth/refresh` for a new session; single use.
    pub refresh_token: String,
    /// Seconds the access token stays valid.
    pub expires_in: i64,
    #[schema(example = "Bearer", pattern = "^Bearer$")]
    pub token_type: String,
    pub user: User,
}

impl TryFrom<pb::Session> for Session {
    type Error = iknow_common::Error;

    fn try_from(s: pb::Session) -> Result<Self, Self::Error> {
        let user = s.user.ok_or_else(|| iknow_common::Error::internal(anyhow::anyhow!("session without a user")))?;
        Ok(Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            expires_in: s.expires_in,
            token_type: "Bearer".into(),
            user: user.into(),
        })
    }
}

/// `{data: user, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserResponse {
    pub data: User,
    pub meta: Meta,
}

/// `{data: session, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionResponse {
    pub data: Session,
    pub meta: Meta,
}

/// The log-out confirmation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    pub logged_out: bool,
}

/// `{data: {loggedOut: true}, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoggedOutResponse {
    pub data: LoggedOut,
    pub meta: Meta,
}

/// The password-reset request acknowledgement (the same whether or not the email is known).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Accepted {
    pub accepted: bool,
}

/// `{data: {accepted: true}, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedResponse {
    pub data: Accepted,
    pub meta: Meta,
}

/// The password-change confirmation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    pub password_changed: bool,
}

/// `{data: {passwordChanged: true}, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordChangedResponse {
    pub data: PasswordChanged,
    pub meta: Meta,
}

/// The account-deletion confirmation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deleted {
    pub deleted: bool,
}

/// `{data: {deleted: true}, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedResponse {
    pub data: Deleted,
    pub meta: Meta,
}

/// Everything the platform holds about the caller (GDPR access), one part per service.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    /// When the export was made, RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub exported_at: String,
    /// The identity service's part: profile, preferences, subscription and session records.
    #[schema(value_type = Object)]
    pub identity: Value,
    /// The library's part: `{watchlist: [item], history: [entry]}`, every row the library holds about the
    /// caller.
    pub library: LibraryExport,
}

/// The library's part of an export.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LibraryExport {
    /// Every watchlist item, with its title.
    #[schema(value_type = Vec<Object>)]
    pub watchlist: Vec<Value>,
    /// Every history entry, newest first, with its title (`duration` and `totalDuration` in minutes).
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Value>,
}

/// `{data: export, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportResponse {
    pub data: Export,
    pub meta: Meta,
}

/// Registration.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "jan@example.com")]
    pub email: String,
    /// 3 to 30 letters, digits, `_` or `-`; unique.
    #[schema(example = "jan")]
    pub username: String,
    /// At least 12 characters with an uppercase letter, a lowercase letter, a digit and a special character.
    #[schema(format = Password)]
    pub password: String,
    /// Must be true.
    pub accept_terms: bool,
}

impl BodyFields for RegisterRequest {
    const FIELDS: &'static [&'static str] = &["email", "username", "password", "acceptTerms"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}

/// Log-in with an email or a username.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// Email or username.
    #[schema(example = "jan")]
    pub login: String,
    #[schema(format = Password)]
    pub password: String,
}

impl BodyFields for LoginRequest {
    const FIELDS: &'static [&'static str] = &["login", "password"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}

/// A refresh token (refresh and log-out).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshTokenRequest {
    pub refresh_token: String,
}

impl BodyFields for RefreshTokenRequest {
    const FIELDS: &'static [&'static str] = &["refreshToken"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}

/// An email-verification token (as mailed).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyEmailRequest {
    pub token: String,
}

impl BodyFields for VerifyEmailRequest {
    const FIELDS: &'static [&'static str] = &["token"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}

/// The email of the account whose password is forgotten.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(example = "jan@example.com")]
    pub email: String,
}

impl BodyFields for PasswordResetRequest {
    const FIELDS: &'static [&'static str] = &["email"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}

/// A password-reset token (as mailed) and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordResetConfirmRequest {
    pub token: String,
    /// Same rules as at registration.
    #[schema(format = Password)]
    pub new_password: String,
}

impl BodyFields for PasswordResetConfirmRequest {
    const FIELDS: &'static [&'static str] = &["token", "newPassword"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}

/// Changes to the caller's account; absent keys are left as they are.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[schema(example = "jan")]
    pub username: Option<String>,
    /// A partial preferences document (any subset of [`iknow_common::preferences::Preferences`]'s keys),
    /// merged into the stored one.
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<Value>,
}

impl BodyFields for UpdateMeRequest {
    const FIELDS: &'static [&'static str] = &["username", "preferences"];
    const REQUIRED: &'static [&'static str] = &[];
}

/// The caller's password, confirming the deletion of their account.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteMeRequest {
    #[schema(format = Password)]
    pub password: String,
}

impl BodyFields for DeleteMeRequest {
    const FIELDS: &'static [&'static str] = &["password"];
    const REQUIRED: &'static [&'static str] = Self::FIELDS;
}
