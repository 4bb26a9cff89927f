//! `/api/v1/users/*`: registration, email verification, and the caller's own account (`/users/me`: read,
//! change, export, delete). No route takes a user id: the account is always the token's.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use iknow_common::{Error, FieldViolation};
use iknow_proto::identity::v1 as pb;
use iknow_proto::library::v1 as library_pb;
use serde_json::Value;
use uuid::Uuid;

use crate::account::{
    DeleteMeRequest, Deleted, DeletedResponse, Export, ExportResponse, LibraryExport, RegisterRequest, UpdateMeRequest,
    User, UserResponse, VerifyEmailRequest,
};
use crate::auth::AuthUser;
use crate::body::JsonBody;
use crate::envelope::{ApiError, ApiResult, ErrorResponse, Meta, RequestContext, now_rfc3339};
use crate::routes::token_field;
use crate::state::AppState;

/// An identity failure about the caller's own account: the account being gone means the token's session is
/// over (401 `UNAUTHORIZED`), anything else passes through.
fn as_caller(status: tonic::Status) -> ApiError {
    match Error::from_status(&status) {
        Error::NotFound { code, .. } if code == "USER_NOT_FOUND" => ApiError(Error::Unauthenticated {
            code: "UNAUTHORIZED".into(),
            message: "The account of this token no longer exists".into(),
        }),
        other => ApiError(other),
    }
}

fn user_response(ctx: &RequestContext, user: pb::User) -> Json<UserResponse> {
    Json(UserResponse { data: User::from(user), meta: Meta::new(ctx) })
}

/// Creates an account.
#[utoipa::path(
    post,
    path = "/api/v1/users/register",
    tag = "users",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account", body = UserResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid or missing field is listed", body = ErrorResponse),
        (status = 409, description = "`DUPLICATE_EMAIL` or `DUPLICATE_USERNAME`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let request = pb::RegisterRequest {
        email: body.email,
        username: body.username,
        password: body.password,
        accept_terms: body.accept_terms,
    };
    let user = state.identity.clone().register(request).await?.into_inner();
    Ok((StatusCode::CREATED, user_response(&ctx, user)))
}

/// Marks the email of the mailed token's account verified.
#[utoipa::path(
    post,
    path = "/api/v1/users/verify-email",
    tag = "users",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "The verified account", body = UserResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the `token` is invalid, used or expired", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody<VerifyEmailRequest>,
) -> ApiResult<UserResponse> {
    let user =
        state.identity.clone().verify_email(pb::VerifyEmailRequest { token: body.token }).await.map_err(token_field)?;
    Ok(user_response(&ctx, user.into_inner()))
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    tag = "users",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The caller's account", body = UserResponse),
        (status = 401, description = "`UNAUTHORIZED` (no token or the account is gone), `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn me(State(state): State<AppState>, ctx: RequestContext, user: AuthUser) -> ApiResult<UserResponse> {
    let found =
        state.identity.clone().get_user(pb::GetUserRequest { id: user.id.to_string() }).await.map_err(as_caller)?;
    Ok(user_response(&ctx, found.into_inner()))
}

/// Changes the caller's username and/or preferences (a partial document merged into the stored one).
#[utoipa::path(
    patch,
    path = "/api/v1/users/me",
    tag = "users",
    security(("bearerAuth" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The changed account", body = UserResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid field is listed (unknown keys included)", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 409, description = "`DUPLICATE_USERNAME`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update_me(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    JsonBody(body): JsonBody<UpdateMeRequest>,
) -> ApiResult<UserResponse> {
    let preferences_json = match body.preferences {
        None => None,
        Some(v @ Value::Object(_)) => Some(v.to_string()),
        Some(_) => return Err(Error::validation(vec![FieldViolation::new("preferences", "must be an object")]).into()),
    };
    let request = pb::UpdateUserRequest { id: user.id.to_string(), username: body.username, preferences_json };
    let updated = state.identity.clone().update_user(request).await.map_err(as_caller)?;
    Ok(user_response(&ctx, updated.into_inner()))
}

/// What each service holds about one user; the export's parts.
pub struct ExportParts {
    /// user-identity's document.
    pub identity: Value,
    /// The library's document.
    pub library: LibraryExport,
}

/// The library's export document as its two lists.
fn library_export(json: &str) -> Result<LibraryExport, ApiError> {
    let invalid = || ApiError(Error::internal(anyhow::anyhow!("the library exported an unexpected document")));
    let mut document = serde_json::from_str::<Value>(json).map_err(|_| invalid())?;
    let mut list = |key: &str| match document.get_mut(key).map(Value::take) {
        Some(Value::Array(rows)) => Ok(rows),
        _ => Err(invalid()),
    };
    Ok(LibraryExport { watchlist: list("watchlist")?, history: list("history")? })
}

/// Gathers every service's part of a user's export, asking them at the same time. Any service failing fails
/// the export (a service that is down → 503): a partial export is never presented as complete.
pub async fn gather_export(state: &AppState, user: Uuid) -> Result<ExportParts, ApiError> {
    let mut identity = state.identity.clone();
    let mut library = state.library.clone();
    let identity_part = async {
        let exported = identity.export_user(pb::ExportUserRequest { id: user.to_string() }).await.map_err(as_caller)?;
        serde_json::from_str::<Value>(&exported.into_inner().json)
            .map_err(|_| ApiError(Error::internal(anyhow::anyhow!("user-identity exported invalid JSON"))))
    };
    let library_part = async {
        let exported =
            library.export_user_data(library_pb::ExportUserDataRequest { user_id: user.to_string() }).await?;
        library_export(&exported.into_inner().json)
    };
    let (identity, library) = tokio::try_join!(identity_part, library_part)?;
    Ok(ExportParts { identity, library })
}

/// Everything the platform holds about the caller (GDPR access).
#[utoipa::path(
    get,
    path = "/api/v1/users/me/export",
    tag = "users",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The caller's data, one part per service", body = ExportResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: a service holding data (user-identity, library) is down; \
            no partial export is ever returned", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn export_me(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
) -> ApiResult<ExportResponse> {
    let parts = gather_export(&state, user.id).await?;
    let data = Export { exported_at: now_rfc3339(), identity: parts.identity, library: parts.library };
    Ok(Json(ExportResponse { data, meta: Meta::new(&ctx) }))
}

/// Erases the caller's account after confirming the password (GDPR erasure): the account, every session, and
/// the watchlist and viewing history. Every session ends.
#[utoipa::path(
    delete,
    path = "/api/v1/users/me",
    tag = "users",
    security(("bearerAuth" = [])),
    request_body = DeleteMeRequest,
    responses(
        (status = 200, description = "The account is erased", body = DeletedResponse),
        (status = 400, description = "`VALIDATION_ERROR`: the body is invalid", body = ErrorResponse),
        (status = 401, description = "`UNAUTHORIZED`, `INVALID_TOKEN` or `TOKEN_EXPIRED`", body = ErrorResponse),
        (status = 403, description = "`INVALID_CREDENTIALS`: wrong password", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: user-identity is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn delete_me(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    JsonBody(body): JsonBody<DeleteMeRequest>,
) -> ApiResult<DeletedResponse> {
    let request = pb::DeleteUserRequest { id: user.id.to_string(), password: body.password };
    state.identity.clone().delete_user(request).await.map_err(as_caller)?;
    state.auth.revocations().revoke(user.id).await;
    // Best effort: the library also erases the rows when it consumes identity's `user.deleted` event.
    let erase = library_pb::DeleteUserDataRequest { user_id: user.id.to_string() };
    if let Err(status) = state.library.clone().delete_user_data(erase).await {
        tracing::warn!(
            code = ?status.code(),
            "the library did not erase the account's data now; the user.deleted event erases it later"
        );
    }
    Ok(Json(DeletedResponse { data: Deleted { deleted: true }, meta: Meta::new(&ctx) }))
}
