//! The platform's one error model. Services return it as a `tonic::Status` (with the public error code and
//! field details in metadata); the gateway turns any `tonic::Status` back into it with [`Error::from_status`]
//! and renders the REST envelope from [`Error::http_status`], [`Error::code`] and [`Error::details`].

use serde::Serialize;

/// Metadata key carrying the public error code (`ACTOR_NOT_FOUND`, ...) on a `tonic::Status`.
pub const CODE_METADATA: &str = "x-error-code";

/// One invalid input field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FieldViolation {
    pub field: String,
    pub message: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input failed validation: 400 `VALIDATION_ERROR`, gRPC `InvalidArgument`, every failing field listed.
    #[error("{message}")]
    Validation { message: String, violations: Vec<FieldViolation> },
    /// A thing does not exist: 404 with a specific code (`ACTOR_NOT_FOUND`), gRPC `NotFound`.
    #[error("{message}")]
    NotFound { code: String, message: String },
    /// A unique thing already exists: 409, gRPC `AlreadyExists`.
    #[error("{message}")]
    Conflict { code: String, message: String },
    /// Not authenticated: 401, gRPC `Unauthenticated`.
    #[error("{message}")]
    Unauthenticated { code: String, message: String },
    /// Authenticated but not allowed: 403, gRPC `PermissionDenied`.
    #[error("{message}")]
    Forbidden { code: String, message: String },
    /// Too many requests: 429 `RATE_LIMIT_EXCEEDED`, gRPC `ResourceExhausted`.
    #[error("{message}")]
    RateLimited { message: String },
    /// A dependency is down or too slow: 503 `SERVICE_UNAVAILABLE`, gRPC `Unavailable`.
    #[error("{message}")]
    Unavailable { message: String },
    /// Anything else: 500 `INTERNAL_ERROR`. The detail is logged where it happens and never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn validation(violations: Vec<FieldViolation>) -> Self {
        let message = if violations.len() == 1 {
            format!("Invalid {}: {}", violations[0].field, violations[0].message)
        } else {
            format!("{} fields are invalid", violations.len())
        };
        Self::Validation { message, violations }
    }

    pub fn field(field: &str, message: &str) -> Self {
        Self::validation(vec![FieldViolation::new(field, message)])
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::NotFound { code: code.into(), message: message.into() }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable { message: message.into() }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The HTTP status of the REST envelope.
    pub fn http_status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::Validation { .. } => S::BAD_REQUEST,
            Self::NotFound { .. } => S::NOT_FOUND,
            Self::Conflict { .. } => S::CONFLICT,
            Self::Unauthenticated { .. } => S::UNAUTHORIZED,
            Self::Forbidden { .. } => S::FORBIDDEN,
            Self::RateLimited { .. } => S::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => S::SERVICE_UNAVAILABLE,
            Self::Internal(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// The public error code of the REST envelope.
    pub fn code(&self) -> &str {
        match self {
            Self::Validation { .. } => "VALIDATION_ERROR",
            Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unauthenticated { code, .. }
            | Self::Forbidden { code, .. } => code,
            Self::RateLimited { .. } => "RATE_LIMIT_EXCEEDED",
            Self::Unavailable { .. } => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// The message a client may see (never the detail of an internal error).
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "An internal error occurred".into(),
            other => other.to_string(),
        }
    }

    /// Field details for the envelope's `details`, when there are any.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            Self::Validation { violations, .. } => Some(serde_json::json!({ "fields": violations })),
            _ => None,
        }
    }

    /// The inverse of `From<Error> for tonic::Status`: the one place a gRPC failure becomes a public error.
    pub fn from_status(status: &tonic::Status) -> Self {
        use tonic::Code;
        let code = status.metadata().get(CODE_METADATA).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let message = status.message().to_owned();
        let with = |default: &str| code.clone().unwrap_or_else(|| default.to_owned());
        match status.code() {
            Code::InvalidArgument => {
                let violations = serde_json::from_slice::<Vec<FieldViolation>>(status.details()).unwrap_or_default();
                Self::Validation { message, violations }
            }
            Code::NotFound => Self::NotFound { code: with("NOT_FOUND"), message },
            Code::AlreadyExists => Self::Conflict { code: with("CONFLICT"), message },
            Code::Unauthenticated => Self::Unauthenticated { code: with("UNAUTHORIZED"), message },
            Code::PermissionDenied => Self::Forbidden { code: with("FORBIDDEN"), message },
            Code::ResourceExhausted => Self::RateLimited { message },
            // An `Unknown` status carrying a source was made by the local client from a transport failure it
            // could not classify (a connection closed during the handshake, say), never sent by a server.
            Code::Unknown if std::error::Error::source(status).is_some() => {
                Self::Unavailable { message: "A required service is unavailable, try again shortly".into() }
            }
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                Self::Unavailable { message: "A required service is unavailable, try again shortly".into() }
            }
            _ => Self::Internal(anyhow::anyhow!("downstream {:?}: {}", status.code(), message)),
        }
    }
}

/// A database failure: `Unavailable` when PostgreSQL cannot be reached or is going away (the pool timed out,
/// the connection broke, the server is shutting down or refusing connections), so callers get a 503 they may
/// retry; `Internal` for everything else. Constraint violations that mean something to the caller are
/// matched before this with [`crate::db::sqlstate`] and its helpers.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return Self::unavailable("The database is unavailable, try again shortly");
        }
        Self::Internal(e.into())
    }
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        use tonic::Code;
        let (code, bytes) = match &e {
            Error::Validation { violations, .. } => {
                (Code::InvalidArgument, serde_json::to_vec(violations).unwrap_or_default())
            }
            Error::NotFound { .. } => (Code::NotFound, vec![]),
            Error::Conflict { .. } => (Code::AlreadyExists, vec![]),
            Error::Unauthenticated { .. } => (Code::Unauthenticated, vec![]),
            Error::Forbidden { .. } => (Code::PermissionDenied, vec![]),
            Error::RateLimited { .. } => (Code::ResourceExhausted, vec![]),
            Error::Unavailable { .. } => (Code::Unavailable, vec![]),
            Error::Internal(inner) => {
                tracing::error!(error = ?inner, "internal error");
                (Code::Internal, vec![])
            }
        };
        let mut status = tonic::Status::with_details(code, e.public_message(), bytes.into());
        if let Ok(v) = e.code().parse() {
            status.metadata_mut().insert(CODE_METADATA, v);
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_status() {
        let cases = vec![
            Error::field("limit", "must be between 1 and 100"),
            Error::not_found("ACTOR_NOT_FOUND", "Actor not found"),
            Error::Conflict { code: "DUPLICATE_EMAIL".into(), message: "taken".into() },
            Error::unavailable("down"),
        ];
        for e in cases {
            let (code, http, details) = (e.code().to_owned(), e.http_status(), e.details());
            let back = Error::from_status(&tonic::Status::from(e));
            assert_eq!(back.code(), code);
            assert_eq!(back.http_status(), http);
            assert_eq!(back.details(), details);
        }
    }

    #[test]
    fn internal_detail_is_never_public() {
        let e = Error::internal(anyhow::anyhow!("password=hunter2 in SQL"));
        let s = tonic::Status::from(e);
        assert!(!s.message().contains("hunter2"));
        let back = Error::from_status(&s);
        assert_eq!(back.code(), "INTERNAL_ERROR");
        assert!(!back.public_message().contains("hunter2"));
    }

    #[test]
    fn database_failures_split_into_unavailable_and_internal() {
        assert_eq!(Error::from(sqlx::Error::PoolTimedOut).code(), "SERVICE_UNAVAILABLE");
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(Error::from(sqlx::Error::Io(reset)).code(), "SERVICE_UNAVAILABLE");
        assert_eq!(Error::from(sqlx::Error::RowNotFound).code(), "INTERNAL_ERROR");
        assert_eq!(Error::from(sqlx::Error::Protocol("odd".into())).code(), "INTERNAL_ERROR");
    }

    #[test]
    fn transport_failures_become_service_unavailable() {
        let e = Error::from_status(&tonic::Status::unavailable("tcp connect error"));
        assert_eq!(e.http_status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code(), "SERVICE_UNAVAILABLE");
        let e = Error::from_status(&tonic::Status::deadline_exceeded("timeout"));
        assert_eq!(e.code(), "SERVICE_UNAVAILABLE");
        let local = tonic::Status::from_error(Box::new(std::io::Error::other("connection closed")));
        assert_eq!(Error::from_status(&local).code(), "SERVICE_UNAVAILABLE");
        assert_eq!(Error::from_status(&tonic::Status::unknown("server said so")).code(), "INTERNAL_ERROR");
    }

    #[test]
    fn several_invalid_fields_are_counted_in_the_message() {
        let e = Error::validation(vec![FieldViolation::new("a", "bad"), FieldViolation::new("b", "worse")]);
        assert_eq!(e.to_string(), "2 fields are invalid");
        assert_eq!(
            e.details(),
            Some(serde_json::json!({ "fields": [
            { "field": "a", "message": "bad" }, { "field": "b", "message": "worse" }
        ] }))
        );
        let back = Error::from_status(&tonic::Status::from(e));
        assert_eq!(back.to_string(), "2 fields are invalid");
        assert_eq!(back.details().unwrap()["fields"][1]["field"], "b");
    }

    #[test]
    fn every_kind_keeps_its_http_status_and_code_through_grpc() {
        let cases = [
            (Error::Unauthenticated { code: "TOKEN_EXPIRED".into(), message: "m".into() }, 401, "TOKEN_EXPIRED"),
            (Error::Forbidden { code: "PREMIUM_REQUIRED".into(), message: "m".into() }, 403, "PREMIUM_REQUIRED"),
            (Error::RateLimited { message: "m".into() }, 429, "RATE_LIMIT_EXCEEDED"),
            (Error::Unavailable { message: "m".into() }, 503, "SERVICE_UNAVAILABLE"),
        ];
        for (e, http, code) in cases {
            assert_eq!((e.http_status().as_u16(), e.code()), (http, code));
            assert_eq!(e.public_message(), "m");
            let back = Error::from_status(&tonic::Status::from(e));
            assert_eq!((back.http_status().as_u16(), back.code()), (http, code));
        }
        let internal = Error::internal(anyhow::anyhow!("detail"));
        assert_eq!((internal.http_status().as_u16(), internal.code()), (500, "INTERNAL_ERROR"));
        assert_eq!(tonic::Status::from(internal).code(), tonic::Code::Internal);
    }

    #[test]
    fn statuses_without_an_error_code_get_the_generic_one() {
        let cases = [
            (tonic::Status::unauthenticated("m"), "UNAUTHORIZED"),
            (tonic::Status::permission_denied("m"), "FORBIDDEN"),
            (tonic::Status::resource_exhausted("m"), "RATE_LIMIT_EXCEEDED"),
            (tonic::Status::not_found("m"), "NOT_FOUND"),
            (tonic::Status::already_exists("m"), "CONFLICT"),
            (tonic::Status::cancelled("m"), "SERVICE_UNAVAILABLE"),
        ];
        for (status, code) in cases {
            assert_eq!(Error::from_status(&status).code(), code, "{status:?}");
        }
    }
}
