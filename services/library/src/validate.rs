//! Input rules of every RPC. Each check collects every failing field (camelCase names, as the REST bodies
//! spell them) before answering, so one `VALIDATION_ERROR` lists them all.

use chrono::{DateTime, Duration, Utc};
use iknow_common::{Error, FieldViolation};
use iknow_proto::library::v1 as pb;
use uuid::Uuid;

/// The watchlist statuses.
pub const STATUSES: [&str; 4] = ["to_watch", "watching", "completed", "paused"];
/// Longest notes, in characters.
pub const MAX_NOTES: usize = 2000;
/// Longest `context.platform`, in characters.
pub const MAX_PLATFORM: usize = 50;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: i64 = 20;
/// How far in the future a `viewedAt` may be (clock skew between a player and the server).
pub const FUTURE_TOLERANCE_MINUTES: i64 = 5;

/// Collected violations of one request.
#[derive(Default)]
struct Check(Vec<FieldViolation>);

impl Check {
    fn fail(&mut self, field: &str, message: &str) {
        self.0.push(FieldViolation::new(field, message));
    }

    fn uuid(&mut self, field: &str, value: &str) -> Uuid {
        iknow_common::id::parse(value).unwrap_or_else(|| {
            self.fail(field, "must be a UUID");
            Uuid::nil()
        })
    }

    fn status(&mut self, value: Option<&str>) -> Option<&'static str> {
        let v = value?;
        let found = STATUSES.iter().find(|s| **s == v).copied();
        if found.is_none() {
            self.fail("status", "must be one of to_watch, watching, completed, paused");
        }
        found
    }

    fn priority(&mut self, value: Option<i32>) -> Option<i16> {
        let v = value?;
        if !(0..=10).contains(&v) {
            self.fail("priority", "must be between 0 and 10");
            return None;
        }
        Some(v as i16)
    }

    /// Some(None) clears the notes (empty string), Some(Some(text)) sets them.
    fn notes(&mut self, value: Option<&str>) -> Option<Option<String>> {
        let v = value?;
        if v.chars().count() > MAX_NOTES {
            self.fail("notes", "must be at most 2000 characters");
            return None;
        }
        Some(if v.is_empty() { None } else { Some(v.to_owned()) })
    }

    fn page(&mut self, limit: Option<i32>, offset: Option<i32>) -> Page {
        let limit = i64::from(limit.unwrap_or(DEFAULT_LIMIT as i32));
        if !(1..=100).contains(&limit) {
            self.fail("limit", "must be between 1 and 100");
        }
        let offset = i64::from(offset.unwrap_or(0));
        if offset < 0 {
            self.fail("offset", "must be at least 0");
        }
        Page { limit, offset }
    }

    fn time(&mut self, field: &str, value: Option<&str>) -> Option<DateTime<Utc>> {
        let v = value?;
        match DateTime::parse_from_rfc3339(v.trim()) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                self.fail(field, "must be an RFC 3339 date-time, e.g. 2026-01-31T20:00:00Z");
                None
            }
        }
    }

    fn finish<T>(self, value: T) -> Result<T, Error> {
        if self.0.is_empty() { Ok(value) } else { Err(Error::validation(self.0)) }
    }
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// A valid AddToWatchlist.
#[derive(Debug)]
pub struct NewItem {
    pub user_id: Uuid,
    pub content_id: Uuid,
    pub status: &'static str,
    pub priority: i16,
    pub notes: Option<String>,
}

/// Checks an AddToWatchlist.
pub fn add(r: &pb::AddToWatchlistRequest) -> Result<NewItem, Error> {
    let mut c = Check::default();
    let user_id = c.uuid("userId", &r.user_id);
    let content_id = c.uuid("contentId", &r.content_id);
    let status = c.status(r.status.as_deref()).unwrap_or("to_watch");
    let priority = c.priority(r.priority).unwrap_or(0);
    let notes = c.notes(r.notes.as_deref()).flatten();
    c.finish(NewItem { user_id, content_id, status, priority, notes })
}

/// A valid UpdateWatchlistItem: `None` leaves a field as it is.
#[derive(Debug)]
pub struct ItemChange {
    pub user_id: Uuid,
    pub content_id: Uuid,
    pub status: Option<&'static str>,
    pub priority: Option<i16>,
    /// `Some(None)` clears the notes.
    pub notes: Option<Option<String>>,
}

/// Checks an UpdateWatchlistItem.
pub fn update(r: &pb::UpdateWatchlistItemRequest) -> Result<ItemChange, Error> {
    let mut c = Check::default();
    let user_id = c.uuid("userId", &r.user_id);
    let content_id = c.uuid("contentId", &r.content_id);
    let status = c.status(r.status.as_deref());
    let priority = c.priority(r.priority);
    let notes = c.notes(r.notes.as_deref());
    c.finish(ItemChange { user_id, content_id, status, priority, notes })
}

/// Checks a (user, content) pair.
pub fn user_content(user_id: &str, content_id: &str) -> Result<(Uuid, Uuid), Error> {
    let mut c = Check::default();
    let user = c.uuid("userId", user_id);
    let content = c.uuid("contentId", content_id);
    c.finish((user, content))
}

/// Checks a (user, history entry) pair.
pub fn user_entry(user_id: &str, id: &str) -> Result<(Uuid, Uuid), Error> {
    let mut c = Check::default();
    let user = c.uuid("userId", user_id);
    let entry = c.uuid("id", id);
    c.finish((user, entry))
}

/// Checks a user id alone.
pub fn user(user_id: &str) -> Result<Uuid, Error> {
    let mut c = Check::default();
    let user = c.uuid("userId", user_id);
    c.finish(user)
}

/// Watchlist order, descending ([`WatchlistQuery::ascending`] mirrors it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest added first.
    Added,
    /// Highest priority first, then newest added.
    Priority,
}

/// A valid ListWatchlist.
#[derive(Debug)]
pub struct WatchlistQuery {
    pub user_id: Uuid,
    pub status: Option<&'static str>,
    pub sort: Sort,
    /// The mirror of `sort`: oldest added / lowest priority (then oldest added) first.
    pub ascending: bool,
    pub page: Page,
}

/// Checks a ListWatchlist.
pub fn list_watchlist(r: &pb::ListWatchlistRequest) -> Result<WatchlistQuery, Error> {
    let mut c = Check::default();
    let user_id = c.uuid("userId", &r.user_id);
    let status = c.status(r.status.as_deref());
    let sort = match r.sort.as_str() {
        "" | "added" => Sort::Added,
        "priority" => Sort::Priority,
        _ => {
            c.fail("sort", "must be priority or added");
            Sort::Added
        }
    };
    let page = c.page(r.limit, r.offset);
    c.finish(WatchlistQuery { user_id, status, sort, ascending: r.ascending, page })
}

/// A valid RecordView.
#[derive(Debug)]
pub struct View {
    pub user_id: Uuid,
    pub content_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub viewed_at: DateTime<Utc>,
    pub duration: Option<i32>,
    pub total_duration: Option<i32>,
    pub completion_percentage: Option<f64>,
    pub context: Option<serde_json::Value>,
}

/// Checks a RecordView against the clock `now`.
///
/// `duration` may exceed `totalDuration`: minutes watched count rewinds and parts seen twice, so a view can
/// last longer than the runtime; only each value's own range is checked.
pub fn record_view(r: &pb::RecordViewRequest, now: DateTime<Utc>) -> Result<View, Error> {
    let mut c = Check::default();
    let user_id = c.uuid("userId", &r.user_id);
    let content_id = c.uuid("contentId", &r.content_id);
    let actor_id = r.actor_id.as_deref().filter(|s| !s.is_empty()).map(|s| c.uuid("actorId", s));
    let viewed_at = match c.time("viewedAt", r.viewed_at.as_deref().filter(|s| !s.is_empty())) {
        Some(t) if t > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) => {
            c.fail("viewedAt", "must not be in the future");
            now
        }
        Some(t) => t,
        None => now,
    };
    if r.duration.is_some_and(|d| d < 0) {
        c.fail("duration", "must be at least 0 minutes");
    }
    if r.total_duration.is_some_and(|d| d <= 0) {
        c.fail("totalDuration", "must be more than 0 minutes");
    }
    let completion = r.completion_percentage;
    if completion.is_some_and(|p| !p.is_finite() || !(0.0..=100.0).contains(&p)) {
        c.fail("completionPercentage", "must be between 0 and 100");
    }
    let context = match r.context_json.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(json) => match context(json) {
            Ok(v) => v,
            Err(message) => {
                c.fail("context", &message);
                None
            }
        },
    };
    c.finish(View {
        user_id,
        content_id,
        actor_id,
        viewed_at,
        duration: r.duration,
        total_duration: r.total_duration,
        // NUMERIC(5,2): two decimals.
        completion_percentage: completion.map(|p| (p * 100.0).round() / 100.0),
        context,
    })
}

/// Parses a view's context: `null`, or an object whose keys are only `platform` (a string of at most 50
/// characters), `season` and `episode` (integers ≥ 0).
pub fn context(json: &str) -> Result<Option<serde_json::Value>, String> {
    const SHAPE: &str = "must be an object with only platform (text, at most 50 characters), season and episode \
                         (integers of at least 0)";
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| SHAPE.to_owned())?;
    let object = match &value {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::Object(o) => o,
        _ => return Err(SHAPE.into()),
    };
    for (key, v) in object {
        let ok = match key.as_str() {
            "platform" => v.as_str().is_some_and(|s| s.chars().count() <= MAX_PLATFORM),
            "season" | "episode" => v.as_u64().is_some_and(|n| n <= i32::MAX as u64),
            _ => false,
        };
        if !ok {
            return Err(SHAPE.into());
        }
    }
    Ok(Some(value))
}

/// A valid ListHistory.
#[derive(Debug)]
pub struct HistoryQuery {
    pub user_id: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Oldest first (the default is newest first).
    pub ascending: bool,
    pub page: Page,
}

/// Checks a ListHistory.
pub fn list_history(r: &pb::ListHistoryRequest) -> Result<HistoryQuery, Error> {
    let mut c = Check::default();
    let user_id = c.uuid("userId", &r.user_id);
    let from = c.time("from", r.from.as_deref().filter(|s| !s.is_empty()));
    let to = c.time("to", r.to.as_deref().filter(|s| !s.is_empty()));
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        c.fail("to", "must not be before from");
    }
    let page = c.page(r.limit, r.offset);
    c.finish(HistoryQuery { user_id, from, to, ascending: r.ascending, page })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "0191d2b0-0000-7000-8000-000000000001";
    const CONTENT: &str = "0191d2b0-0000-7000-8000-000000000002";

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Validation { violations, .. } => violations.into_iter().map(|v| v.field).collect(),
            other => panic!("validation expected, got {other:?}"),
        }
    }

    #[test]
    fn add_defaults_and_every_field_listed() {
        let ok = add(&pb::AddToWatchlistRequest {
            user_id: USER.into(),
            content_id: CONTENT.into(),
            notes: Some(String::new()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((ok.status, ok.priority, ok.notes), ("to_watch", 0, None));
        let bad = add(&pb::AddToWatchlistRequest {
            user_id: USER.into(),
            content_id: "nope".into(),
            status: Some("done".into()),
            priority: Some(11),
            notes: Some("é".repeat(2001)),
        })
        .unwrap_err();
        assert_eq!(fields(bad), ["contentId", "status", "priority", "notes"]);
        let edge = add(&pb::AddToWatchlistRequest {
            user_id: USER.into(),
            content_id: CONTENT.into(),
            status: Some("paused".into()),
            priority: Some(10),
            notes: Some("é".repeat(2000)),
        })
        .unwrap();
        assert_eq!((edge.status, edge.priority), ("paused", 10));
    }

    #[test]
    fn update_distinguishes_absent_and_cleared_notes() {
        let base =
            pb::UpdateWatchlistItemRequest { user_id: USER.into(), content_id: CONTENT.into(), ..Default::default() };
        assert_eq!(update(&base).unwrap().notes, None);
        let cleared = update(&pb::UpdateWatchlistItemRequest { notes: Some(String::new()), ..base.clone() }).unwrap();
        assert_eq!(cleared.notes, Some(None));
        let bad = update(&pb::UpdateWatchlistItemRequest { priority: Some(-1), ..base }).unwrap_err();
        assert_eq!(fields(bad), ["priority"]);
    }

    #[test]
    fn views_check_every_range() {
        let now = Utc::now();
        let bad = record_view(
            &pb::RecordViewRequest {
                user_id: USER.into(),
                content_id: "x".into(),
                actor_id: Some("y".into()),
                viewed_at: Some((now + Duration::minutes(6)).to_rfc3339()),
                duration: Some(-1),
                total_duration: Some(0),
                completion_percentage: Some(100.5),
                context_json: Some(r#"{"platform": "tv", "extra": 1}"#.into()),
            },
            now,
        )
        .unwrap_err();
        assert_eq!(
            fields(bad),
            ["contentId", "actorId", "viewedAt", "duration", "totalDuration", "completionPercentage", "context"]
        );
        let ok = record_view(
            &pb::RecordViewRequest {
                user_id: USER.into(),
                content_id: CONTENT.into(),
                viewed_at: Some((now + Duration::minutes(4)).to_rfc3339()),
                duration: Some(0),
                total_duration: Some(1),
                completion_percentage: Some(33.333),
                context_json: Some(r#"{"platform": "tv", "season": 1, "episode": 0}"#.into()),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        assert_eq!(ok.completion_percentage, Some(33.33));
        let defaulted = record_view(
            &pb::RecordViewRequest { user_id: USER.into(), content_id: CONTENT.into(), ..Default::default() },
            now,
        )
        .unwrap();
        assert_eq!(defaulted.viewed_at, now);
        assert!(
            record_view(
                &pb::RecordViewRequest {
                    user_id: USER.into(),
                    content_id: CONTENT.into(),
                    completion_percentage: Some(f64::NAN),
                    ..Default::default()
                },
                now
            )
            .is_err()
        );
    }

    #[test]
    fn contexts() {
        assert_eq!(context("null").unwrap(), None);
        assert!(context(r#"{}"#).unwrap().is_some());
        for bad in [
            "[]",
            "3",
            "not json",
            r#"{"season": -1}"#,
            r#"{"episode": 1.5}"#,
            r#"{"season": "1"}"#,
            r#"{"platform": 5}"#,
            r#"{"device": "tv"}"#,
        ] {
            assert!(context(bad).is_err(), "{bad}");
        }
        assert!(context(&format!(r#"{{"platform": "{}"}}"#, "p".repeat(51))).is_err());
    }

    #[test]
    fn lists_check_paging_and_ranges() {
        let bad = list_watchlist(&pb::ListWatchlistRequest {
            user_id: USER.into(),
            status: Some("x".into()),
            sort: "title".into(),
            limit: Some(0),
            offset: Some(-1),
            ascending: false,
        })
        .unwrap_err();
        assert_eq!(fields(bad), ["status", "sort", "limit", "offset"]);
        let q = list_watchlist(&pb::ListWatchlistRequest { user_id: USER.into(), ..Default::default() }).unwrap();
        assert_eq!((q.sort, q.ascending, q.page), (Sort::Added, false, Page { limit: 20, offset: 0 }));
        let q = list_watchlist(&pb::ListWatchlistRequest {
            user_id: USER.into(),
            sort: "priority".into(),
            ascending: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!((q.sort, q.ascending), (Sort::Priority, true));
        let bad = list_history(&pb::ListHistoryRequest {
            user_id: USER.into(),
            from: Some("2026-02-01T00:00:00Z".into()),
            to: Some("2026-01-01T00:00:00Z".into()),
            limit: Some(101),
            offset: None,
            ascending: true,
        })
        .unwrap_err();
        assert_eq!(fields(bad), ["to", "limit"]);
        let bad = list_history(&pb::ListHistoryRequest {
            user_id: "me".into(),
            from: Some("yesterday".into()),
            to: Some("2026-01-01".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(bad), ["userId", "from", "to"]);
    }
}
