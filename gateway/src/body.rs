//! The one JSON body extractor: every body error — wrong content type, unreadable or invalid JSON, not an
//! object, unknown keys, missing or mistyped fields — is a 400 `VALIDATION_ERROR` naming the fields, never a
//! framework plain-text answer.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use iknow_common::{Error, FieldViolation};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::envelope::ApiError;

/// The keys a request body may have, and which of them are required (given and not `null`).
pub trait BodyFields {
    /// Every accepted key (camelCase, as sent).
    const FIELDS: &'static [&'static str];
    /// The keys that must be present.
    const REQUIRED: &'static [&'static str];
}

/// A JSON request body of type `T`, validated as described in the module documentation.
pub struct JsonBody<T>(pub T);

fn invalid(violations: Vec<FieldViolation>) -> Response {
    ApiError(Error::validation(violations)).into_response()
}

fn body_error(message: &str) -> Response {
    invalid(vec![FieldViolation::new("body", message)])
}

fn is_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// What a serde data error says, without echoing the value sent: `must be a string`, ...
fn describe(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or_default();
    if let Some(expected) = text.split(", expected ").nth(1) {
        format!("must be {expected}")
    } else if text.starts_with("missing field") {
        "is required".into()
    } else if text.starts_with("unknown field") {
        "is not a known field".into()
    } else {
        "is invalid".into()
    }
}

/// Checks the keys of `value` against `T`'s fields, then deserialises it.
pub fn parse<T: DeserializeOwned + BodyFields>(value: Value) -> Result<T, Vec<FieldViolation>> {
    let Value::Object(object) = &value else {
        return Err(vec![FieldViolation::new("body", "must be a JSON object")]);
    };
    let mut violations: Vec<FieldViolation> = object
        .keys()
        .filter(|k| !T::FIELDS.contains(&k.as_str()))
        .map(|k| FieldViolation::new(k.as_str(), "is not a known field"))
        .collect();
    for field in T::REQUIRED {
        if object.get(*field).is_none_or(Value::is_null) {
            violations.push(FieldViolation::new(*field, "is required"));
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path.is_empty() || path == "." { "body".to_owned() } else { path };
        vec![FieldViolation::new(field, describe(e.inner()))]
    })
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + BodyFields,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(body_error("must be JSON (Content-Type: application/json)"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                // Turned into the envelope by the deadline layer.
                rejection.into_response()
            } else {
                body_error("could not be read")
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| body_error("is not valid JSON"))?;
        parse::<T>(value).map(JsonBody).map_err(invalid)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Sample {
        name: String,
        accept_terms: bool,
        #[allow(dead_code)]
        nickname: Option<String>,
    }

    impl BodyFields for Sample {
        const FIELDS: &'static [&'static str] = &["name", "acceptTerms", "nickname"];
        const REQUIRED: &'static [&'static str] = &["name", "acceptTerms"];
    }

    fn fields(r: Result<Sample, Vec<FieldViolation>>) -> Vec<(String, String)> {
        r.err().expect("invalid").into_iter().map(|v| (v.field, v.message)).collect()
    }

    #[test]
    fn valid_bodies_parse() {
        let s = parse::<Sample>(json!({"name": "a", "acceptTerms": true, "nickname": null})).ok().unwrap();
        assert_eq!((s.name.as_str(), s.accept_terms), ("a", true));
    }

    #[test]
    fn unknown_and_missing_fields_are_all_listed() {
        let got = fields(parse::<Sample>(json!({"extra": 1, "name": null})));
        assert_eq!(
            got,
            [
                ("extra".to_owned(), "is not a known field".to_owned()),
                ("name".to_owned(), "is required".to_owned()),
                ("acceptTerms".to_owned(), "is required".to_owned()),
            ]
        );
    }

    #[test]
    fn wrong_types_name_the_field_without_echoing_the_value() {
        let got = fields(parse::<Sample>(json!({"name": "a", "acceptTerms": "secret-value"})));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "acceptTerms");
        assert!(got[0].1.starts_with("must be"), "{}", got[0].1);
        assert!(!got[0].1.contains("secret-value"));
        assert_eq!(fields(parse::<Sample>(json!([1, 2]))), [("body".to_owned(), "must be a JSON object".to_owned())]);
    }
}
