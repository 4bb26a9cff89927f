//! `/api/v1/auth/*`: log-in, refresh, log-out and password reset, each one call to user-identity.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use iknow_common::Error;
use iknow_proto::identity::v1 as pb;
use uuid::Uuid;

use crate::account::{
    Accepted, AcceptedResponse, LoggedOut, LoggedOutResponse, LoginRequest, PasswordChanged, PasswordChangedResponse,
    PasswordResetConfirmRequest, PasswordResetRequest, RefreshTokenRequest, Session, SessionResponse,
};
use crate::body::JsonBody;
use crate::envelope::{ApiError, ApiResult, ErrorResponse, Meta, RequestContext};
use crate::routes::token_field;
use crate::state::AppState;

fn session(ctx: &RequestContext, s: pb::Session) -> ApiResult<SessionResponse> {
    Ok(Json(SessionResponse { data: Session::try_from(s)?, meta: Meta::new(ctx) }))
}

/// Logs in with an email or username and a password.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session", body = SessionResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the body is not a valid log-in", body = ErrorResponse),
        (status = 401, description = "`INVALID_CREDENTIALS`: unknown user or wrong password (indistinguishable)", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<SessionResponse> {
    let request = pb::LoginRequest { login: body.login, password: body.password };
    session(&ctx, state.identity.clone().login(request).await?.into_inner())
}

/// Exchanges a refresh token (single use) for a new session. Using one twice revokes its whole family.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 200, description = "A new session", body = SessionResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the body is invalid", body = ErrorResponse),
        (status = 401, description = "`INVALID_TOKEN`: unknown, expired, revoked or reused refresh token", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<RefreshTokenRequest>,
) -> ApiResult<SessionResponse> {
    let request = pb::RefreshRequest { refresh_token: body.refresh_token };
    session(&ctx, state.identity.clone().refresh(request).await?.into_inner())
}

/// Ends the session of a refresh token (its whole family). Idempotent.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 200, description = "Logged out (also when the token was unknown or already revoked)", body = LoggedOutResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the body is invalid", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<RefreshTokenRequest>,
) -> ApiResult<LoggedOutResponse> {
    state.identity.clone().logout(pb::LogoutRequest { refresh_token: body.refresh_token }).await?;
    Ok(Json(LoggedOutResponse { data: LoggedOut { logged_out: true }, meta: Meta::new(&ctx) }))
}

/// Starts a password reset: when the email belongs to an account, a single-use token is mailed. The answer is
/// the same whether or not it does.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset",
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the email is known)", body = AcceptedResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the body is invalid or the email malformed", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<PasswordResetRequest>,
) -> Result<(StatusCode, Json<AcceptedResponse>), ApiError> {
    state.identity.clone().request_password_reset(pb::RequestPasswordResetRequest { email: body.email }).await?;
    Ok((StatusCode::ACCEPTED, Json(AcceptedResponse { data: Accepted { accepted: true }, meta: Meta::new(&ctx) })))
}

/// Sets a new password with a mailed reset token (single use). Every session of the account ends: refresh
/// tokens are revoked and access tokens issued until now are refused.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password-reset/confirm",
    tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 200, description = "The password was changed", body = PasswordChangedResponse),
        (status = 400, description = "`VALIDATION_ERROR`: a weak `newPassword`, or a `token` that is invalid, used or expired", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<PasswordResetConfirmRequest>,
) -> ApiResult<PasswordChangedResponse> {
    let request = pb::ConfirmPasswordResetRequest { token: body.token, new_password: body.new_password };
    let done = state.identity.clone().confirm_password_reset(request).await.map_err(token_field)?.into_inner();
    let user = Uuid::parse_str(&done.user_id)
        .map_err(|_| Error::internal(anyhow::anyhow!("password reset answered without a user id")))?;
    state.auth.revocations().revoke(user).await;
    Ok(Json(PasswordChangedResponse { data: PasswordChanged { password_changed: true }, meta: Meta::new(&ctx) }))
}
