//! The REST envelopes: `{data, meta, pagination?}` on success, `{error}` on failure, and the one conversion
//! of the platform error into an HTTP response.

use std::time::Instant;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use iknow_common::Error;
use serde::Serialize;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// API version reported in every `meta`.
pub const API_VERSION: &str = "v1";

/// Now, as RFC 3339 UTC with milliseconds (`2025-01-31T12:00:00.123Z`).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Milliseconds since `started`, as a fraction.
pub fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// The request being served: its id and when it arrived (put in the extensions by the request-id middleware).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub id: String,
    pub started: Instant,
}

impl RequestContext {
    pub fn new(id: String) -> Self {
        Self { id, started: Instant::now() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext::new(current_request_id())))
    }
}

/// The id of the request this task serves, or a fresh one outside a request.
pub fn current_request_id() -> String {
    iknow_common::request_id::current().unwrap_or_else(|| iknow_common::id::new().to_string())
}

/// Metadata of every successful response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The request id, also sent as the `X-Request-ID` header.
    pub request_id: String,
    /// When the response was made, RFC 3339 UTC.
    pub timestamp: String,
    /// API version.
    #[schema(example = "v1")]
    pub version: String,
    /// Milliseconds the gateway spent on the request.
    pub processing_time: f64,
    /// Milliseconds the search itself took (search endpoints only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub search_time: Option<f64>,
}

impl Meta {
    pub fn new(ctx: &RequestContext) -> Self {
        Self {
            request_id: ctx.id.clone(),
            timestamp: now_rfc3339(),
            version: API_VERSION.into(),
            processing_time: elapsed_ms(ctx.started),
            search_time: None,
        }
    }
}

/// Paging of a list response.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Matches in all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    /// Whether a page follows this one.
    pub has_more: bool,
    /// Path and query of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next_page: Option<String>,
    /// Path and query of the previous page; absent on the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub prev_page: Option<String>,
}

/// One invalid input field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Name of the parameter (`limit`, `id`, ...).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Details of a validation error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldDetails {
    /// Every failing field.
    pub fields: Vec<FieldError>,
}

/// Details of `SUBSCRIPTION_REQUIRED`: the tier the feature needs and the caller's tier in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierDetails {
    #[schema(example = "premium")]
    pub required_tier: String,
    #[schema(example = "free")]
    pub current_tier: String,
}

/// Details of an error: the failing fields of a validation error, the tiers of a subscription refusal, or the
/// details a route family gives one of its errors (the existing item of a duplicate watchlist add).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ErrorDetails {
    Fields(FieldDetails),
    Tier(TierDetails),
    /// A route family's details, as JSON. Their schemas join this one's `oneOf` in the OpenAPI document
    /// ([`crate::openapi`]), so the envelope knows no route's types.
    Route(Box<serde_json::Value>),
}

impl ErrorDetails {
    /// A route family's details of an error; `None` if they do not serialise (they always do: plain structs).
    pub fn route(details: &impl Serialize) -> Option<Self> {
        serde_json::to_value(details).ok().map(|v| Self::Route(Box::new(v)))
    }
}

/// The schema of the envelope's own details; [`crate::openapi`] adds the route families' to its `oneOf`.
impl PartialSchema for ErrorDetails {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "Details of an error: the failing fields of a validation error, the tiers of a subscription refusal, \
                 or the existing item of a duplicate watchlist add.",
            ))
            .item(Ref::from_schema_name(FieldDetails::name()))
            .item(Ref::from_schema_name(TierDetails::name()))
            .into()
    }
}

impl ToSchema for ErrorDetails {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((FieldDetails::name().into(), FieldDetails::schema()));
        FieldDetails::schemas(schemas);
        schemas.push((TierDetails::name().into(), TierDetails::schema()));
    }
}

/// The body of an error.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Machine-readable code: `VALIDATION_ERROR`, `ACTOR_NOT_FOUND`, `SERVICE_UNAVAILABLE`, ...
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Present on validation errors (`fields`), on `SUBSCRIPTION_REQUIRED` (`requiredTier`, `currentTier`) and
    /// on `DUPLICATE_WATCHLIST_ITEM` (`existingItem`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub details: Option<ErrorDetails>,
    /// When the error was made, RFC 3339 UTC.
    pub timestamp: String,
    /// The request id, also sent as the `X-Request-ID` header.
    pub request_id: String,
}

/// The error envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

/// An error on its way to the client: the platform error rendered as the error envelope.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        Self(Error::from_status(&status))
    }
}

impl ApiError {
    /// 404 `NOT_FOUND` for a path no route serves.
    pub fn route_not_found(path: &str) -> Self {
        Self(Error::not_found("NOT_FOUND", format!("No route for {path}")))
    }

    /// The envelope body, for callers that need to set the status themselves.
    pub fn body(&self) -> ErrorResponse {
        let details = match &self.0 {
            Error::Validation { violations, .. } => Some(ErrorDetails::Fields(FieldDetails {
                fields: violations
                    .iter()
                    .map(|v| FieldError { field: v.field.clone(), message: v.message.clone() })
                    .collect(),
            })),
            _ => None,
        };
        ErrorResponse {
            error: ErrorBody {
                code: self.0.code().to_owned(),
                message: self.0.public_message(),
                details,
                timestamp: now_rfc3339(),
                request_id: current_request_id(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Error::Internal(inner) = &self.0 {
            tracing::error!(error = ?inner, "internal error");
        }
        (self.0.http_status(), Json(self.body())).into_response()
    }
}

/// An error response with a status the platform error has no variant for (405).
pub fn error_response(status: http::StatusCode, code: &str, message: impl Into<String>) -> Response {
    error_response_with(status, code, message, None)
}

/// An error response with details the platform error cannot carry (the tiers of `SUBSCRIPTION_REQUIRED`).
pub fn error_response_with(
    status: http::StatusCode,
    code: &str,
    message: impl Into<String>,
    details: Option<ErrorDetails>,
) -> Response {
    let body = ErrorResponse {
        error: ErrorBody {
            code: code.into(),
            message: message.into(),
            details,
            timestamp: now_rfc3339(),
            request_id: current_request_id(),
        },
    };
    (status, Json(body)).into_response()
}

/// Handler result: a JSON body or the error envelope.
pub type ApiResult<T> = Result<Json<T>, ApiError>;
