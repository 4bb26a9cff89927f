//! The watchlist and viewing history at the edge: JSON shapes (camelCase; absent values are `null`), request
//! bodies and query parameters, with the library's input rules checked here first so one `VALIDATION_ERROR`
//! lists every failing field without a round trip (the library checks them again and stays the authority).

use axum::extract::{FromRequestParts, Path, Query};
use chrono::{DateTime, Duration, Utc};
use http::request::Parts;
use iknow_common::{Error, FieldViolation};
use iknow_proto::library::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::body::BodyFields;
use crate::dto::ContentKind;
use crate::envelope::{ApiError, Meta, Pagination};
use crate::extract::{SortOrder, encode};

/// Longest watchlist notes, in characters.
pub const MAX_NOTES: usize = 2000;
/// Highest watchlist priority (0 is the lowest).
pub const MAX_PRIORITY: i64 = 10;
/// Longest `context.platform`, in characters.
pub const MAX_PLATFORM: usize = 50;
/// How far in the future a `viewedAt` may be (clock skew between a player and the server).
pub const FUTURE_TOLERANCE_MINUTES: i64 = 5;
/// Page size bounds and default.
pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: u32 = 20;
/// Deepest offset (the library takes a 32-bit offset).
pub const MAX_OFFSET: i64 = i32::MAX as i64;

/// Status of a watchlist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WatchlistStatus {
    ToWatch,
    Watching,
    Completed,
    Paused,
}

impl WatchlistStatus {
    const ALL: [Self; 4] = [Self::ToWatch, Self::Watching, Self::Completed, Self::Paused];

    /// The wire name (`to_watch`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToWatch => "to_watch",
            Self::Watching => "watching",
            Self::Completed => "completed",
            Self::Paused => "paused",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
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

    /// The library's name of this order (descending).
    pub fn to_proto(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::AddedAt => "added",
        }
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn content_kind(s: &str) -> ContentKind {
    match s {
        "series" => ContentKind::Series,
        "episode" => ContentKind::Episode,
        _ => ContentKind::Movie,
    }
}

/// A title of the caller's library, as the catalogue described it when it was last added or viewed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryTitle {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    pub title: String,
    pub content_type: ContentKind,
    /// Release year, when known.
    #[schema(required = true)]
    pub year: Option<i32>,
    #[schema(required = true)]
    pub poster_url: Option<String>,
    /// Runtime in minutes, when known.
    #[schema(required = true)]
    pub runtime_minutes: Option<i32>,
    /// For an episode: its series' id.
    #[schema(value_type = Option<uuid::Uuid>, required = true)]
    pub series_id: Option<String>,
}

impl LibraryTitle {
    pub(crate) fn from_proto(c: Option<pb::ContentSummary>, content_id: &str) -> Self {
        let c = c.unwrap_or_else(|| pb::ContentSummary { id: content_id.to_owned(), ..Default::default() });
        Self {
            id: c.id,
            title: c.title,
            content_type: content_kind(&c.content_type),
            year: c.year,
            poster_url: non_empty(c.poster_url),
            runtime_minutes: c.runtime_minutes,
            series_id: non_empty(c.series_id),
        }
    }
}

/// One title on the caller's watchlist.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WatchlistItem {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub content_id: String,
    pub content: LibraryTitle,
    pub status: WatchlistStatus,
    /// 0 (lowest) to 10.
    #[schema(minimum = 0, maximum = 10)]
    pub priority: i32,
    #[schema(required = true)]
    pub notes: Option<String>,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub added_at: String,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// When the status became `completed` (RFC 3339 UTC); null while it is not completed.
    #[schema(format = DateTime, required = true)]
    pub completed_at: Option<String>,
}

impl From<pb::WatchlistItem> for WatchlistItem {
    fn from(i: pb::WatchlistItem) -> Self {
        Self {
            content: LibraryTitle::from_proto(i.content, &i.content_id),
            id: i.id,
            content_id: i.content_id,
            status: WatchlistStatus::parse(&i.status).unwrap_or(WatchlistStatus::ToWatch),
            priority: i.priority,
            notes: i.notes.filter(|n| !n.is_empty()),
            added_at: i.added_at,
            updated_at: i.updated_at,
            completed_at: non_empty(i.completed_at),
        }
    }
}

/// Where and what was watched; every key is optional.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewContext {
    /// Where it was watched (`netflix`, `tv`, ...), at most 50 characters.
    #[schema(max_length = 50, nullable = false)]
    pub platform: Option<String>,
    #[schema(minimum = 0, maximum = 2147483647, nullable = false)]
    pub season: Option<i32>,
    #[schema(minimum = 0, maximum = 2147483647, nullable = false)]
    pub episode: Option<i32>,
}

/// One view in the caller's history (one row per title and UTC day).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub content_id: String,
    pub content: LibraryTitle,
    /// The actor the view was about, when one was given.
    #[schema(value_type = Option<uuid::Uuid>, required = true)]
    pub actor_id: Option<String>,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub viewed_at: String,
    /// Minutes watched.
    #[schema(required = true)]
    pub duration: Option<i32>,
    /// Runtime in minutes.
    #[schema(required = true)]
    pub total_duration: Option<i32>,
    /// 0 to 100, two decimals.
    #[schema(required = true, minimum = 0, maximum = 100)]
    pub completion_percentage: Option<f64>,
    #[schema(value_type = Option<ViewContext>, required = true)]
    pub context: Option<Value>,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<pb::HistoryEntry> for HistoryEntry {
    fn from(e: pb::HistoryEntry) -> Self {
        let context = serde_json::from_str::<Value>(&e.context_json).ok().filter(Value::is_object);
        Self {
            content: LibraryTitle::from_proto(e.content, &e.content_id),
            id: e.id,
            content_id: e.content_id,
            actor_id: non_empty(e.actor_id),
            viewed_at: e.viewed_at,
            duration: e.duration,
            total_duration: e.total_duration,
            completion_percentage: e.completion_percentage,
            context,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A recorded view, and whether it updated the same title's row of the same UTC day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedView {
    #[serde(flatten)]
    pub entry: HistoryEntry,
    /// True when that day's row of the title was updated (200), false when a row was added (201).
    pub updated: bool,
}

/// `{data: [item], meta, pagination}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WatchlistPage {
    pub data: Vec<WatchlistItem>,
    pub meta: Meta,
    pub pagination: Pagination,
}

/// `{data: item, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WatchlistItemResponse {
    pub data: WatchlistItem,
    pub meta: Meta,
}

/// `meta` of a history page: the common fields, plus the window a free caller is limited to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMeta {
    #[serde(flatten)]
    pub meta: Meta,
    /// Days of history a free caller can read (present only when the page was limited to them).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub history_window_days: Option<u32>,
    /// Start of that window, RFC 3339 UTC (present only when the page was limited to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub history_from: Option<String>,
}

/// `{data: [entry], meta, pagination}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPage {
    pub data: Vec<HistoryEntry>,
    pub meta: HistoryMeta,
    pub pagination: Pagination,
}

/// `{data: view, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedViewResponse {
    pub data: RecordedView,
    pub meta: Meta,
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

/// Collected violations of one request.
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
            self.fail(field, "must be a UUID");
        }
        id
    }

    fn status(&mut self, value: Option<&Value>) -> Option<WatchlistStatus> {
        let v = value?;
        let status = v.as_str().and_then(WatchlistStatus::parse);
        if status.is_none() {
            self.fail("status", "must be one of to_watch, watching, completed, paused");
        }
        status
    }

    fn int(&mut self, field: &str, value: Option<&Value>, min: i64, max: i64, message: &str) -> Option<i32> {
        let v = value?;
        match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n as i32),
            _ => {
                self.fail(field, message);
                None
            }
        }
    }

    fn notes(&mut self, value: Option<&Value>) -> Option<String> {
        let v = value?;
        match v.as_str() {
            Some(s) if s.chars().count() <= MAX_NOTES => Some(s.to_owned()),
            Some(_) => {
                self.fail("notes", format!("must be at most {MAX_NOTES} characters"));
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

const PRIORITY_RANGE: &str = "must be an integer from 0 to 10";

impl AddToWatchlistRequest {
    /// Checks every field; the library request for `user`.
    pub fn into_proto(self, user: Uuid) -> Result<pb::AddToWatchlistRequest, Error> {
        let mut c = Check::default();
        let content_id = c.uuid("contentId", Some(&self.content_id));
        let status = c.status(self.status.as_ref());
        let priority = c.int("priority", self.priority.as_ref(), 0, MAX_PRIORITY, PRIORITY_RANGE);
        let notes = c.notes(self.notes.as_ref());
        c.finish(pb::AddToWatchlistRequest {
            user_id: user.to_string(),
            content_id: content_id.map(|id| id.to_string()).unwrap_or_default(),
            status: status.map(|s| s.as_str().to_owned()),
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
        let priority = c.int("priority", self.priority.as_ref(), 0, MAX_PRIORITY, PRIORITY_RANGE);
        let notes = c.notes(self.notes.as_ref());
        c.finish(pb::UpdateWatchlistItemRequest {
            user_id: user.to_string(),
            content_id: content.to_string(),
            status: status.map(|s| s.as_str().to_owned()),
            priority,
            notes,
        })
    }
}

/// A view context without its `null` keys, or the message of what is wrong with it.
fn view_context(value: &Value) -> Result<Option<Value>, &'static str> {
    const SHAPE: &str = "must be an object with only platform (text, at most 50 characters), season and episode \
                         (integers of at least 0)";
    let Value::Object(object) = value else { return Err(SHAPE) };
    let mut kept = Map::new();
    for (key, v) in object {
        if v.is_null() && matches!(key.as_str(), "platform" | "season" | "episode") {
            continue;
        }
        let ok = match key.as_str() {
            "platform" => v.as_str().is_some_and(|s| s.chars().count() <= MAX_PLATFORM),
            "season" | "episode" => v.as_u64().is_some_and(|n| n <= i32::MAX as u64),
            _ => false,
        };
        if !ok {
            return Err(SHAPE);
        }
        kept.insert(key.clone(), v.clone());
    }
    Ok(Some(Value::Object(kept)))
}

impl RecordViewRequest {
    /// Checks every field against the clock `now`; the library request for `user`.
    pub fn into_proto(self, user: Uuid, now: DateTime<Utc>) -> Result<pb::RecordViewRequest, Error> {
        let mut c = Check::default();
        let content_id = c.uuid("contentId", Some(&self.content_id));
        let actor_id = c.uuid("actorId", self.actor_id.as_ref());
        let viewed_at = self.viewed_at.as_ref().and_then(|v| {
            let parsed = v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok());
            match parsed.map(|t| t.with_timezone(&Utc)) {
                None => {
                    c.fail("viewedAt", "must be an RFC 3339 date-time, e.g. 2026-01-31T20:00:00Z");
                    None
                }
                Some(t) if t > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) => {
                    c.fail("viewedAt", "must not be in the future");
                    None
                }
                Some(t) => Some(rfc3339(t)),
            }
        });
        let max = i64::from(i32::MAX);
        let duration = c.int("duration", self.duration.as_ref(), 0, max, "must be an integer of at least 0 minutes");
        let total_duration =
            c.int("totalDuration", self.total_duration.as_ref(), 1, max, "must be an integer of more than 0 minutes");
        let completion_percentage = self.completion_percentage.as_ref().and_then(|v| match v.as_f64() {
            Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => Some(p),
            _ => {
                c.fail("completionPercentage", "must be a number from 0 to 100");
                None
            }
        });
        let context = self.context.as_ref().and_then(|v| match view_context(v) {
            Ok(kept) => kept.map(|k| k.to_string()),
            Err(message) => {
                c.fail("context", message);
                None
            }
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
        })
    }
}

// ---------------------------------------------------------------------------------------------------------
// Query parameters.

pub(crate) fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .map_err(|_| ApiError(Error::field("query", "is not a valid URL query string")))
}

pub(crate) fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Limit and offset of a page.
fn page(pairs: &[(String, String)], bad: &mut Vec<FieldViolation>) -> (u32, u32) {
    let limit = match get(pairs, "limit").map(|v| v.trim().parse::<i64>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n as u32,
        Some(_) => {
            bad.push(FieldViolation::new("limit", format!("must be an integer from 1 to {MAX_LIMIT}")));
            DEFAULT_LIMIT
        }
    };
    let offset = match get(pairs, "offset").map(|v| v.trim().parse::<i64>()) {
        None => 0,
        Some(Ok(n)) if (0..=MAX_OFFSET).contains(&n) => n as u32,
        Some(_) => {
            bad.push(FieldViolation::new("offset", format!("must be an integer from 0 to {MAX_OFFSET}")));
            0
        }
    };
    (limit, offset)
}

/// Paging of one page of a list: links to the neighbouring pages when they exist (`url(offset)` makes one).
pub fn pagination(total: u64, limit: u32, offset: u32, url: impl Fn(u32) -> String) -> Pagination {
    let end = u64::from(offset) + u64::from(limit);
    let has_more = end < total;
    let next_page = has_more.then(|| url(offset + limit));
    let prev_page = (offset > 0).then(|| {
        // From beyond the end, "previous" is the last page that has results.
        let last_start = total.saturating_sub(1) / u64::from(limit) * u64::from(limit);
        url(offset.saturating_sub(limit).min(last_start as u32))
    });
    Pagination { total, limit, offset, has_more, next_page, prev_page }
}

/// Validated query of `GET /api/v1/users/me/watchlist`.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchlistParams {
    pub status: Option<WatchlistStatus>,
    pub sort_by: WatchlistSortBy,
    pub sort_order: SortOrder,
    pub limit: u32,
    pub offset: u32,
}

impl WatchlistParams {
    /// Validates every parameter and reports every failing one; unknown parameters are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let status = get(pairs, "status").and_then(|v| {
            let s = WatchlistStatus::parse(v);
            if s.is_none() {
                bad.push(FieldViolation::new("status", "must be one of to_watch, watching, completed, paused"));
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

    /// Path and query of the same list at another offset.
    pub fn page_url(&self, path: &str, offset: u32) -> String {
        let mut url = format!("{path}?limit={}&offset={offset}", self.limit);
        if let Some(s) = self.status {
            url.push_str(&format!("&status={}", s.as_str()));
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

impl<S: Send + Sync> FromRequestParts<S> for WatchlistParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(&query_pairs(parts)?)?)
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

/// RFC 3339 UTC, as sent to the library and put in page links.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    iknow_common::time::rfc3339(t)
}

impl HistoryParams {
    /// Validates every parameter and reports every failing one; unknown parameters are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let mut time = |field: &str| {
            let v = get(pairs, field)?;
            match DateTime::parse_from_rfc3339(v.trim()) {
                Ok(t) => Some(t.with_timezone(&Utc)),
                Err(_) => {
                    bad.push(FieldViolation::new(field, "must be an RFC 3339 date-time, e.g. 2026-01-31T20:00:00Z"));
                    None
                }
            }
        };
        let (from, to) = (time("from"), time("to"));
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            bad.push(FieldViolation::new("to", "must not be before from"));
        }
        let (limit, offset) = page(pairs, &mut bad);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { from, to, limit, offset })
    }

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

impl<S: Send + Sync> FromRequestParts<S> for HistoryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(&query_pairs(parts)?)?)
    }
}

/// A content id from the `{contentId}` path segment; anything else is 400 with field `contentId`.
#[derive(Debug, Clone, Copy)]
pub struct PathContentId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathContentId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || ApiError(Error::field("contentId", "must be a UUID"));
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| invalid())?;
        iknow_common::id::parse(&raw).map(PathContentId).ok_or_else(invalid)
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

#[cfg(test)]
mod tests {
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
        .into_proto(user, now)
        .unwrap_err();
        assert_eq!(
            fields(bad),
            ["contentId", "actorId", "viewedAt", "duration", "totalDuration", "completionPercentage", "context"]
        );
        let bad = body::<RecordViewRequest>(json!({
            "contentId": CONTENT, "viewedAt": "yesterday", "duration": 1.5, "completionPercentage": "full",
            "context": [1],
        }))
        .into_proto(user, now)
        .unwrap_err();
        assert_eq!(fields(bad), ["viewedAt", "duration", "completionPercentage", "context"]);
        let ok = body::<RecordViewRequest>(json!({
            "contentId": CONTENT, "viewedAt": "2026-01-31T21:00:00+01:00", "duration": 0, "totalDuration": 1,
            "completionPercentage": 100, "context": {"platform": "tv", "season": 1, "episode": null},
        }))
        .into_proto(user, now)
        .unwrap();
        assert_eq!(ok.viewed_at.as_deref(), Some("2026-01-31T20:00:00Z"));
        assert_eq!(ok.context_json.as_deref(), Some(r#"{"platform":"tv","season":1}"#));
        assert!(view_context(&json!({"platform": "p".repeat(51)})).is_err());
        assert!(view_context(&json!({"season": -1})).is_err());
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

        let links = pagination(5, 2, 2, |o| format!("o={o}"));
        assert_eq!(
            (links.has_more, links.next_page.as_deref(), links.prev_page.as_deref()),
            (true, Some("o=4"), Some("o=0"))
        );
        let beyond = pagination(5, 2, 10, |o| format!("o={o}"));
        assert_eq!((beyond.has_more, beyond.next_page, beyond.prev_page.as_deref()), (false, None, Some("o=4")));
    }
}
