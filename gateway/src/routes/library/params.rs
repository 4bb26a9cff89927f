//! What a watchlist or history request carries, validated: query parameters, the `{contentId}` path segment
//! and the JSON bodies. The library's input rules ([`iknow_common::rules::library`]) are checked here first so
//! one `VALIDATION_ERROR` lists every failing field without a round trip; the library checks them again and
//! stays the authority.

use axum::extract::FromRequestParts;
use chrono::{DateTime, Utc};
use http::request::Parts;
use iknow_common::rules::library::{self as rules, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET};
use iknow_common::rules::{RFC3339_MESSAGE, UUID_MESSAGE};
use iknow_common::{Error, FieldViolation};
use iknow_proto::library::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::{ViewContext, WatchlistStatus};
use crate::body::BodyFields;
use crate::envelope::ApiError;
use crate::extract::{FromQuery, SortOrder, encode, get, int_param, path_uuid};

/// RFC 3339 UTC, as sent to the library and put in page links.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    iknow_common::time::rfc3339(t)
}

// ---------------------------------------------------------------------------------------------------------
// Query parameters.

/// Limit and offset of a page of the watchlist or history.
fn page(pairs: &[(String, String)], bad: &mut Vec<FieldViolation>) -> (u32, u32) {
    let limit = int_param(pairs, "limit", 1..=MAX_LIMIT, rules::LIMIT_MESSAGE, bad).unwrap_or(DEFAULT_LIMIT);
    let offset = int_param(pairs, "offset", 0..=MAX_OFFSET, rules::OFFSET_MESSAGE, bad).unwrap_or(0);
    (limit as u32, offset as u32)
}

/// Order of the watchlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum WatchlistSortBy {
    /// Priority, then when added.
    Priority,
    /// When added.
    AddedAt,
}

impl WatchlistSortBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::AddedAt => "addedAt",
        }
    }

    /// The library's name of this order.
    pub fn to_proto(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::AddedAt => "added",
        }
    }
}

/// Validated query of `GET /api/v1/users/me/watchlist`.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchlistParams {
    /// A watchlist status ([`rules::status`]).
    pub status: Option<&'static str>,
    pub sort_by: WatchlistSortBy,
    pub sort_order: SortOrder,
    pub limit: u32,
    pub offset: u32,
}

impl FromQuery for WatchlistParams {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let status = get(pairs, "status").and_then(|v| {
            let s = rules::status(v);
            if s.is_none() {
                bad.push(FieldViolation::new("status", rules::STATUS_MESSAGE));
            }
            s
        });
        let sort_by = match get(pairs, "sortBy") {
            None | Some("addedAt") => WatchlistSortBy::AddedAt,
            Some("priority") => WatchlistSortBy::Priority,
            Some(_) => {
                bad.push(FieldViolation::new("sortBy", "must be one of priority, addedAt"));
                WatchlistSortBy::AddedAt
            }
        };
        let sort_order = match get(pairs, "sortOrder") {
            None | Some("desc") => SortOrder::Desc,
            Some("asc") => SortOrder::Asc,
            Some(_) => {
                bad.push(FieldViolation::new("sortOrder", "must be one of asc, desc"));
                SortOrder::Desc
            }
        };
        let (limit, offset) = page(pairs, &mut bad);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { status, sort_by, sort_order, limit, offset })
    }
}

impl WatchlistParams {
    /// The library request of this page for `user`.
    pub fn to_proto(&self, user: Uuid) -> pb::ListWatchlistRequest {
        pb::ListWatchlistRequest {
            user_id: user.to_string(),
            status: self.status.map(str::to_owned),
            sort: self.sort_by.to_proto().to_owned(),
            limit: Some(self.limit as i32),
            offset: Some(self.offset as i32),
            ascending: self.sort_order == SortOrder::Asc,
        }
    }

    /// Path and query of the same list at another offset.
    pub fn page_url(&self, path: &str, offset: u32) -> String {
        let mut url = format!("{path}?limit={}&offset={offset}", self.limit);
        if let Some(s) = self.status {
            url.push_str(&format!("&status={s}"));
        }
        if self.sort_by != WatchlistSortBy::AddedAt {
            url.push_str(&format!("&sortBy={}", self.sort_by.as_str()));
        }
        if self.sort_order != SortOrder::Desc {
            url.push_str(&format!("&sortOrder={}", self.sort_order.as_str()));
        }
        url
    }
}

/// Validated query of `GET /api/v1/users/me/history`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryParams {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
}

impl FromQuery for HistoryParams {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let mut time = |field: &str| {
            let v = get(pairs, field)?;
            match DateTime::parse_from_rfc3339(v.trim()) {
                Ok(t) => Some(t.with_timezone(&Utc)),
                Err(_) => {
                    bad.push(FieldViolation::new(field, RFC3339_MESSAGE));
                    None
                }
            }
        };
        let (from, to) = (time("from"), time("to"));
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            bad.push(FieldViolation::new("to", rules::RANGE_MESSAGE));
        }
        let (limit, offset) = page(pairs, &mut bad);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { from, to, limit, offset })
    }
}

impl HistoryParams {
    /// Path and query of the same list at another offset.
    pub fn page_url(&self, path: &str, offset: u32) -> String {
        let mut url = format!("{path}?limit={}&offset={offset}", self.limit);
        if let Some(f) = self.from {
            url.push_str(&format!("&from={}", encode(&rfc3339(f))));
        }
        if let Some(t) = self.to {
            url.push_str(&format!("&to={}", encode(&rfc3339(t))));
        }
        url
    }
}

/// A content id from the `{contentId}` path segment; anything else is 400 with field `contentId`.
#[derive(Debug, Clone, Copy)]
pub struct PathContentId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathContentId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_uuid(parts, state, "contentId").await.map(PathContentId)
    }
}

/// The `Idempotency-Key` request header of a recorded view.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// How the header is named in a `VALIDATION_ERROR`.
pub const IDEMPOTENCY_KEY_FIELD: &str = "Idempotency-Key";

/// The `Idempotency-Key` header of a request: `Ok(None)` when absent, `Err(())` when it is not one value of 1
/// to 100 visible ASCII characters. Never rejects by itself, so [`RecordViewRequest::into_proto`] lists a bad
/// key with the body's other failing fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Result<Option<String>, ()>);

impl IdempotencyKey {
    /// Reads the header from `headers`.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
        let key = match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => {
                v.to_str().ok().filter(|k| rules::is_valid_idempotency_key(k)).map(|k| Some(k.to_owned())).ok_or(())
            }
            // Two keys for one request: neither can be honoured.
            (Some(_), Some(_)) => Err(()),
        };
        Self(key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

/// Query parameters of the watchlist (documentation of what [`WatchlistParams`] accepts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct WatchlistQuery {
    /// Only items with this status.
    status: Option<WatchlistStatus>,
    /// `priority` (then when added) or `addedAt` (the default).
    #[param(inline)]
    sort_by: Option<WatchlistSortBy>,
    /// `desc` (the default): highest priority / newest first; `asc` reverses the order.
    #[param(inline)]
    sort_order: Option<SortOrder>,
    /// Page size (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i32>,
    /// Items to skip (default 0).
    #[param(minimum = 0, maximum = 2147483647, default = 0)]
    offset: Option<i32>,
}

/// Query parameters of the history (documentation of what [`HistoryParams`] accepts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct HistoryQuery {
    /// Only views at or after this instant (RFC 3339). A free caller may not ask for views older than the
    /// history window (403 `SUBSCRIPTION_REQUIRED`); without it a free caller gets the window.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Only views at or before this instant (RFC 3339); not before `from`.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Page size (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i32>,
    /// Entries to skip (default 0).
    #[param(minimum = 0, maximum = 2147483647, default = 0)]
    offset: Option<i32>,
}

// ---------------------------------------------------------------------------------------------------------
// Request bodies: every field is read as raw JSON and checked by [`Check`], so every failing field is listed
// (a typed field would stop at the first mistyped one). `null` is the same as absent.

/// Adds a title to the watchlist.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddToWatchlistRequest {
    /// The title (a content id of the catalogue).
    #[schema(value_type = uuid::Uuid)]
    pub content_id: Value,
    /// Default `to_watch`.
    #[schema(value_type = Option<WatchlistStatus>, nullable = false)]
    pub status: Option<Value>,
    /// 0 (lowest, the default) to 10.
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10, nullable = false)]
    pub priority: Option<Value>,
    /// At most 2,000 characters; empty stores none.
    #[schema(value_type = Option<String>, max_length = 2000, nullable = false)]
    pub notes: Option<Value>,
}

impl BodyFields for AddToWatchlistRequest {
    const FIELDS: &'static [&'static str] = &["contentId", "status", "priority", "notes"];
    const REQUIRED: &'static [&'static str] = &["contentId"];
}

/// Changes to a watchlist item; absent fields are left as they are.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWatchlistItemRequest {
    /// `completed` sets `completedAt`; leaving `completed` clears it.
    #[schema(value_type = Option<WatchlistStatus>, nullable = false)]
    pub status: Option<Value>,
    /// 0 (lowest) to 10.
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10, nullable = false)]
    pub priority: Option<Value>,
    /// At most 2,000 characters; an empty string clears the notes.
    #[schema(value_type = Option<String>, max_length = 2000, nullable = false)]
    pub notes: Option<Value>,
}

impl BodyFields for UpdateWatchlistItemRequest {
    const FIELDS: &'static [&'static str] = &["status", "priority", "notes"];
    const REQUIRED: &'static [&'static str] = &[];
}

/// A view of a title. A second view of the same title on the same UTC day updates that day's row; a view on
/// another day adds a row.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordViewRequest {
    /// The title (a content id of the catalogue).
    #[schema(value_type = uuid::Uuid)]
    pub content_id: Value,
    /// The actor the view was about (as the catalogue knows them), if any.
    #[schema(value_type = Option<uuid::Uuid>, nullable = false)]
    pub actor_id: Option<Value>,
    /// When it was watched, RFC 3339; default now; at most 5 minutes in the future.
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub viewed_at: Option<Value>,
    /// Minutes watched (at least 0; may exceed the runtime: rewinds count).
    #[schema(value_type = Option<i32>, minimum = 0, nullable = false)]
    pub duration: Option<Value>,
    /// Runtime in minutes (more than 0).
    #[schema(value_type = Option<i32>, minimum = 1, nullable = false)]
    pub total_duration: Option<Value>,
    /// 0 to 100 (stored with two decimals).
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100, nullable = false)]
    pub completion_percentage: Option<Value>,
    #[schema(value_type = Option<ViewContext>, nullable = false)]
    pub context: Option<Value>,
}

impl BodyFields for RecordViewRequest {
    const FIELDS: &'static [&'static str] =
        &["contentId", "actorId", "viewedAt", "duration", "totalDuration", "completionPercentage", "context"];
    const REQUIRED: &'static [&'static str] = &["contentId"];
}

/// Collected violations of one request body.
#[derive(Default)]
struct Check(Vec<FieldViolation>);

impl Check {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldViolation::new(field, message));
    }

    fn uuid(&mut self, field: &str, value: Option<&Value>) -> Option<Uuid> {
        let v = value?;
        let id = v.as_str().and_then(iknow_common::id::parse);
        if id.is_none() {
            self.fail(field, UUID_MESSAGE);
        }
        id
    }

    fn status(&mut self, value: Option<&Value>) -> Option<&'static str> {
        let v = value?;
        let status = v.as_str().and_then(rules::status);
        if status.is_none() {
            self.fail("status", rules::STATUS_MESSAGE);
        }
        status
    }

    /// A 32-bit integer that `valid` accepts.
    fn int(&mut self, field: &str, value: Option<&Value>, valid: fn(i64) -> bool, message: &str) -> Option<i32> {
        let v = value?;
        match v.as_i64().filter(|n| valid(*n)).and_then(|n| i32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                self.fail(field, message);
                None
            }
        }
    }

    fn priority(&mut self, value: Option<&Value>) -> Option<i32> {
        self.int("priority", value, rules::is_valid_priority, rules::PRIORITY_MESSAGE)
    }

    fn notes(&mut self, value: Option<&Value>) -> Option<String> {
        let v = value?;
        match v.as_str() {
            Some(s) if rules::is_valid_notes(s) => Some(s.to_owned()),
            Some(_) => {
                self.fail("notes", rules::NOTES_MESSAGE);
                None
            }
            None => {
                self.fail("notes", "must be a string");
                None
            }
        }
    }

    fn finish<T>(self, value: T) -> Result<T, Error> {
        if self.0.is_empty() { Ok(value) } else { Err(Error::validation(self.0)) }
    }
}

impl AddToWatchlistRequest {
    /// Checks every field; the library request for `user`.
    pub fn into_proto(self, user: Uuid) -> Result<pb::AddToWatchlistRequest, Error> {
        let mut c = Check::default();
        let content_id = c.uuid("contentId", Some(&self.content_id));
        let status = c.status(self.status.as_ref());
        let priority = c.priority(self.priority.as_ref());
        let notes = c.notes(self.notes.as_ref());
        c.finish(pb::AddToWatchlistRequest {
            user_id: user.to_string(),
            content_id: content_id.map(|id| id.to_string()).unwrap_or_default(),
            status: status.map(str::to_owned),
            priority,
            notes,
        })
    }
}

impl UpdateWatchlistItemRequest {
    /// Checks every field; the library request for `user`'s item of `content`.
    pub fn into_proto(self, user: Uuid, content: Uuid) -> Result<pb::UpdateWatchlistItemRequest, Error> {
        let mut c = Check::default();
        let status = c.status(self.status.as_ref());
        let priority = c.priority(self.priority.as_ref());
        let notes = c.notes(self.notes.as_ref());
        c.finish(pb::UpdateWatchlistItemRequest {
            user_id: user.to_string(),
            content_id: content.to_string(),
            status: status.map(str::to_owned),
            priority,
            notes,
        })
    }
}

impl RecordViewRequest {
    /// Checks every field and the `Idempotency-Key` header against the clock `now`; the library request for
    /// `user`.
    pub fn into_proto(
        self,
        user: Uuid,
        key: IdempotencyKey,
        now: DateTime<Utc>,
    ) -> Result<pb::RecordViewRequest, Error> {
        let mut c = Check::default();
        let content_id = c.uuid("contentId", Some(&self.content_id));
        let actor_id = c.uuid("actorId", self.actor_id.as_ref());
        let viewed_at = self.viewed_at.as_ref().and_then(|v| {
            let parsed = v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok());
            match parsed.map(|t| t.with_timezone(&Utc)) {
                None => {
                    c.fail("viewedAt", RFC3339_MESSAGE);
                    None
                }
                Some(t) if !rules::is_not_future(t, now) => {
                    c.fail("viewedAt", rules::FUTURE_MESSAGE);
                    None
                }
                Some(t) => Some(rfc3339(t)),
            }
        });
        let duration = c.int("duration", self.duration.as_ref(), rules::is_valid_duration, rules::DURATION_MESSAGE);
        let total_duration = c.int(
            "totalDuration",
            self.total_duration.as_ref(),
            rules::is_valid_total_duration,
            rules::TOTAL_DURATION_MESSAGE,
        );
        let completion_percentage = self.completion_percentage.as_ref().and_then(|v| match v.as_f64() {
            Some(p) if rules::is_valid_completion(p) => Some(p),
            _ => {
                c.fail("completionPercentage", rules::COMPLETION_MESSAGE);
                None
            }
        });
        let context = self.context.as_ref().and_then(|v| match rules::view_context(v) {
            Ok(kept) => kept.map(|k| k.to_string()),
            Err(message) => {
                c.fail("context", message);
                None
            }
        });
        let idempotency_key = key.0.unwrap_or_else(|()| {
            c.fail(IDEMPOTENCY_KEY_FIELD, rules::IDEMPOTENCY_KEY_MESSAGE);
            None
        });
        c.finish(pb::RecordViewRequest {
            user_id: user.to_string(),
            content_id: content_id.map(|id| id.to_string()).unwrap_or_default(),
            actor_id: actor_id.map(|id| id.to_string()),
            viewed_at,
            duration,
            total_duration,
            completion_percentage,
            context_json: context,
            idempotency_key,
        })
    }
}
#[cfg(test)]
mod tests {
    use chrono::Duration;
    use serde_json::json;

    use super::*;

    const CONTENT: &str = "0191d2b0-0000-7000-8000-000000000002";

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Validation { violations, .. } => violations.into_iter().map(|v| v.field).collect(),
            other => panic!("validation expected, got {other:?}"),
        }
    }

    fn body<T: serde::de::DeserializeOwned + BodyFields>(v: Value) -> T {
        crate::body::parse::<T>(v).unwrap_or_else(|_| panic!("a parsable body"))
    }

    #[test]
    fn watchlist_bodies_list_every_failing_field() {
        let user = Uuid::now_v7();
        let bad = body::<AddToWatchlistRequest>(
            json!({"contentId": "x", "status": "done", "priority": 11, "notes": "é".repeat(2001)}),
        )
        .into_proto(user)
        .unwrap_err();
        assert_eq!(fields(bad), ["contentId", "status", "priority", "notes"]);
        let bad = body::<AddToWatchlistRequest>(json!({"contentId": 5, "priority": "high", "notes": 3}))
            .into_proto(user)
            .unwrap_err();
        assert_eq!(fields(bad), ["contentId", "priority", "notes"]);
        let ok = body::<AddToWatchlistRequest>(
            json!({"contentId": CONTENT, "status": "paused", "priority": 10, "notes": "é".repeat(2000)}),
        )
        .into_proto(user)
        .unwrap();
        assert_eq!((ok.status.as_deref(), ok.priority), (Some("paused"), Some(10)));
        let defaults =
            body::<AddToWatchlistRequest>(json!({"contentId": CONTENT, "status": null})).into_proto(user).unwrap();
        assert_eq!((defaults.status, defaults.priority, defaults.notes), (None, None, None));
        let bad = body::<UpdateWatchlistItemRequest>(json!({"priority": -1, "status": 1}))
            .into_proto(user, Uuid::now_v7())
            .unwrap_err();
        assert_eq!(fields(bad), ["status", "priority"]);
        let clear = body::<UpdateWatchlistItemRequest>(json!({"notes": ""})).into_proto(user, Uuid::now_v7()).unwrap();
        assert_eq!(clear.notes.as_deref(), Some(""));
    }

    #[test]
    fn view_bodies_check_every_range() {
        let (user, now) = (Uuid::now_v7(), Utc::now());
        let bad = body::<RecordViewRequest>(json!({
            "contentId": "x", "actorId": "y", "viewedAt": rfc3339(now + Duration::minutes(6)), "duration": -1,
            "totalDuration": 0, "completionPercentage": 100.5, "context": {"platform": "tv", "extra": 1},
        }))
        .into_proto(user, IdempotencyKey(Err(())), now)
        .unwrap_err();
        assert_eq!(
            fields(bad),
            [
                "contentId",
                "actorId",
                "viewedAt",
                "duration",
                "totalDuration",
                "completionPercentage",
                "context",
                "Idempotency-Key"
            ]
        );
        let bad = body::<RecordViewRequest>(json!({
            "contentId": CONTENT, "viewedAt": "yesterday", "duration": 1.5, "completionPercentage": "full",
            "context": [1],
        }))
        .into_proto(user, IdempotencyKey(Ok(None)), now)
        .unwrap_err();
        assert_eq!(fields(bad), ["viewedAt", "duration", "completionPercentage", "context"]);
        let ok = body::<RecordViewRequest>(json!({
            "contentId": CONTENT, "viewedAt": "2026-01-31T21:00:00+01:00", "duration": 0, "totalDuration": 1,
            "completionPercentage": 100, "context": {"platform": "tv", "season": 1, "episode": null},
        }))
        .into_proto(user, IdempotencyKey(Ok(Some("k-1".into()))), now)
        .unwrap();
        assert_eq!(ok.viewed_at.as_deref(), Some("2026-01-31T20:00:00Z"));
        assert_eq!(ok.context_json.as_deref(), Some(r#"{"platform":"tv","season":1}"#));
        assert_eq!(ok.idempotency_key.as_deref(), Some("k-1"));
    }

    #[test]
    fn an_idempotency_key_is_one_header_of_visible_ascii() {
        let key = |values: &[&[u8]]| {
            let mut headers = http::HeaderMap::new();
            for v in values {
                headers.append(IDEMPOTENCY_KEY, http::HeaderValue::from_bytes(v).unwrap());
            }
            IdempotencyKey::from_headers(&headers).0
        };
        assert_eq!(key(&[]), Ok(None));
        let uuid = "0191d2b0-0000-7000-8000-000000000002";
        assert_eq!(key(&[uuid.as_bytes()]), Ok(Some(uuid.to_owned())));
        assert_eq!(key(&["~".repeat(100).as_bytes()]), Ok(Some("~".repeat(100))));
        for bad in [&b""[..], b"two words", "é".as_bytes(), &[b'k'; 101][..]] {
            assert_eq!(key(&[bad]), Err(()), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(key(&[b"a", b"b"]), Err(()), "two keys");
    }

    #[test]
    fn list_queries_report_every_bad_parameter_and_link_pages() {
        let e = WatchlistParams::parse(&pairs(&[
            ("status", "done"),
            ("sortBy", "title"),
            ("sortOrder", "up"),
            ("limit", "0"),
            ("offset", "-1"),
        ]))
        .unwrap_err();
        assert_eq!(fields(e), ["status", "sortBy", "sortOrder", "limit", "offset"]);
        let p =
            WatchlistParams::parse(&pairs(&[("status", "watching"), ("sortBy", "priority"), ("limit", "2")])).unwrap();
        assert_eq!(p.page_url("/w", 2), "/w?limit=2&offset=2&status=watching&sortBy=priority");
        let e = HistoryParams::parse(&pairs(&[
            ("from", "2026-02-01T00:00:00Z"),
            ("to", "2026-01-01T00:00:00Z"),
            ("limit", "101"),
            ("offset", "99999999999"),
        ]))
        .unwrap_err();
        assert_eq!(fields(e), ["to", "limit", "offset"]);
        let e = HistoryParams::parse(&pairs(&[("from", "yesterday"), ("to", "2026-01-01")])).unwrap_err();
        assert_eq!(fields(e), ["from", "to"]);
        let h = HistoryParams::parse(&pairs(&[("from", "2026-01-01T01:00:00+01:00")])).unwrap();
        assert_eq!(h.page_url("/h", 20), "/h?limit=20&offset=20&from=2026-01-01T00%3A00%3A00Z");
    }

    #[test]
    fn an_ascending_watchlist_is_one_ascending_request() {
        let user = Uuid::now_v7();
        let asc = WatchlistParams::parse(&pairs(&[("sortOrder", "asc"), ("offset", "3")])).unwrap().to_proto(user);
        assert_eq!((asc.ascending, asc.offset, asc.limit, asc.sort.as_str()), (true, Some(3), Some(20), "added"));
        let desc = WatchlistParams::parse(&pairs(&[("status", "paused")])).unwrap().to_proto(user);
        assert_eq!((desc.ascending, desc.status.as_deref()), (false, Some("paused")));
    }
}
