//! Input rules of every RPC. Each check collects every failing field (camelCase names, as the REST bodies
//! spell them) before answering, so one `VALIDATION_ERROR` lists them all.

use chrono::{DateTime, Utc};
use iknow_common::rules::{self, library as rule};
use iknow_common::{Error, FieldViolation};
use iknow_proto::library::v1 as pb;
use uuid::Uuid;

/// Collected violations of one request.
#[derive(Default)]
struct Check(Vec<FieldViolation>);

impl Check {
    fn fail(&mut self, field: &str, message: &str) {
        self.0.push(FieldViolation::new(field, message));
    }

    fn uuid(&mut self, field: &str, value: &str) -> Uuid {
        iknow_common::id::parse(value).unwrap_or_else(|| {
            self.fail(field, rules::UUID_MESSAGE);
            Uuid::nil()
        })
    }

    fn status(&mut self, value: Option<&str>) -> Option<&'static str> {
        let found = rule::status(value?);
        if found.is_none() {
            self.fail("status", rule::STATUS_MESSAGE);
        }
        found
    }

    fn priority(&mut self, value: Option<i32>) -> Option<i16> {
        let v = value?;
        if !rule::is_valid_priority(i64::from(v)) {
            self.fail("priority", rule::PRIORITY_MESSAGE);
            return None;
        }
        Some(v as i16)
    }

    /// Some(None) clears the notes (empty string), Some(Some(text)) sets them.
    fn notes(&mut self, value: Option<&str>) -> Option<Option<String>> {
        let v = value?;
        if !rule::is_valid_notes(v) {
            self.fail("notes", rule::NOTES_MESSAGE);
            return None;
        }
        Some(if v.is_empty() { None } else { Some(v.to_owned()) })
    }

    fn limit(&mut self, limit: Option<i32>) -> i64 {
        let limit = limit.map_or(rule::DEFAULT_LIMIT, i64::from);
        if !rule::is_valid_limit(limit) {
            self.fail("limit", rule::LIMIT_MESSAGE);
        }
        limit
    }

    fn page(&mut self, limit: Option<i32>, offset: Option<i32>) -> Page {
        let limit = self.limit(limit);
        let offset = offset.map_or(0, i64::from);
        if !rule::is_valid_offset(offset) {
            self.fail("offset", rule::OFFSET_MESSAGE);
        }
        Page { limit, offset }
    }

    fn time(&mut self, field: &str, value: Option<&str>) -> Option<DateTime<Utc>> {
        let v = value?;
        match DateTime::parse_from_rfc3339(v.trim()) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                self.fail(field, rules::RFC3339_MESSAGE);
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

/// Checks a user id and the id of something of theirs (`field` names it: `contentId`, `id`, `actorId`).
pub fn user_and(user_id: &str, field: &str, id: &str) -> Result<(Uuid, Uuid), Error> {
    let mut c = Check::default();
    let user = c.uuid("userId", user_id);
    let other = c.uuid(field, id);
    c.finish((user, other))
}

/// Checks a user id alone.
pub fn user(user_id: &str) -> Result<Uuid, Error> {
    let mut c = Check::default();
    let user = c.uuid("userId", user_id);
    c.finish(user)
}

/// Checks an ActorStats: the user, and how many actors (1 to 100, default 20).
pub fn actor_stats(r: &pb::ActorStatsRequest) -> Result<(Uuid, usize), Error> {
    let mut c = Check::default();
    let user = c.uuid("userId", &r.user_id);
    let limit = c.limit(r.limit);
    c.finish((user, limit as usize))
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
    /// The client's key for this recording (see [`crate::store::record_view`]).
    pub idempotency_key: Option<String>,
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
        Some(t) if !rule::is_not_future(t, now) => {
            c.fail("viewedAt", rule::FUTURE_MESSAGE);
            now
        }
        Some(t) => t,
        None => now,
    };
    if r.duration.is_some_and(|d| !rule::is_valid_duration(d.into())) {
        c.fail("duration", rule::DURATION_MESSAGE);
    }
    if r.total_duration.is_some_and(|d| !rule::is_valid_total_duration(d.into())) {
        c.fail("totalDuration", rule::TOTAL_DURATION_MESSAGE);
    }
    let completion = r.completion_percentage;
    if completion.is_some_and(|p| !rule::is_valid_completion(p)) {
        c.fail("completionPercentage", rule::COMPLETION_MESSAGE);
    }
    let context = match r.context_json.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(json) => context(json).unwrap_or_else(|message| {
            c.fail("context", message);
            None
        }),
    };
    let idempotency_key = r.idempotency_key.clone();
    if idempotency_key.as_deref().is_some_and(|k| !rule::is_valid_idempotency_key(k)) {
        c.fail("idempotencyKey", rule::IDEMPOTENCY_KEY_MESSAGE);
    }
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
        idempotency_key,
    })
}

/// Parses a view's context: JSON `null`, or an object of the shape [`rule::view_context`] accepts (whose
/// `null` keys are left out).
pub fn context(json: &str) -> Result<Option<serde_json::Value>, &'static str> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| rule::CONTEXT_MESSAGE)?;
    rule::view_context(&value)
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
        c.fail("to", rule::RANGE_MESSAGE);
    }
    let page = c.page(r.limit, r.offset);
    c.finish(HistoryQuery { user_id, from, to, ascending: r.ascending, page })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

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
                idempotency_key: Some("two words".into()),
            },
            now,
        )
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
                "idempotencyKey"
            ]
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
                idempotency_key: Some("0191d2b0-0000-7000-8000-00000000000a".into()),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        assert_eq!(ok.completion_percentage, Some(33.33));
        assert_eq!(ok.idempotency_key.as_deref(), Some("0191d2b0-0000-7000-8000-00000000000a"));
        for key in ["", &"k".repeat(101)] {
            let bad = record_view(
                &pb::RecordViewRequest {
                    user_id: USER.into(),
                    content_id: CONTENT.into(),
                    idempotency_key: Some(key.into()),
                    ..Default::default()
                },
                now,
            )
            .unwrap_err();
            assert_eq!(fields(bad), ["idempotencyKey"], "{key:?}");
        }
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
        assert_eq!(context("[]"), Err(rule::CONTEXT_MESSAGE));
        // As the REST API has always accepted them: known keys set to null are left out.
        assert_eq!(context(r#"{"platform": null, "season": 2}"#).unwrap(), Some(serde_json::json!({"season": 2})));
    }

    #[test]
    fn the_stats_limit_is_checked() {
        let stats = |limit| pb::ActorStatsRequest { user_id: USER.into(), limit };
        assert_eq!(actor_stats(&stats(None)).unwrap().1, 20);
        assert_eq!(actor_stats(&stats(Some(100))).unwrap().1, 100);
        assert_eq!(fields(actor_stats(&stats(Some(0))).unwrap_err()), ["limit"]);
        let bad = actor_stats(&pb::ActorStatsRequest { user_id: "me".into(), limit: Some(101) }).unwrap_err();
        assert_eq!(fields(bad), ["userId", "limit"]);
    }

    #[test]
    fn messages_are_the_shared_rules() {
        let bad = add(&pb::AddToWatchlistRequest {
            user_id: USER.into(),
            content_id: "x".into(),
            priority: Some(11),
            ..Default::default()
        })
        .unwrap_err();
        let Error::Validation { violations, .. } = bad else { panic!("validation expected") };
        let messages: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(messages, [rules::UUID_MESSAGE, rule::PRIORITY_MESSAGE]);
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
