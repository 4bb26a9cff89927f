//! Input rules that more than one crate checks: one definition each, with the message a caller sees.
//!
//! The gateway checks early (so one `VALIDATION_ERROR` lists every failing field without a round trip) and
//! the owning service checks again and stays the authority; both read the bounds and messages from here, so
//! the two can never disagree.

/// A value that must be an id.
pub const UUID_MESSAGE: &str = "must be a UUID";
/// A mailed token (email verification, password reset) that is unknown, already used or expired.
pub const MAIL_TOKEN_MESSAGE: &str = "is invalid, used or expired";
/// A value that must be a date-time.
pub const RFC3339_MESSAGE: &str = "must be an RFC 3339 date-time, e.g. 2026-01-31T20:00:00Z";

/// Release years: from the first film (1888) to five years ahead (announced titles).
pub mod years {
    use chrono::Datelike;

    /// The first year a title can have.
    pub const MIN_YEAR: i32 = 1888;
    /// How many years ahead of now an announced title may be dated.
    pub const YEARS_AHEAD: i32 = 5;

    /// The last year a title can have, `YEARS_AHEAD` after the current UTC year.
    pub fn max_year() -> i32 {
        chrono::Utc::now().year() + YEARS_AHEAD
    }

    /// Whether `year` is a possible release year today.
    pub fn is_valid(year: i32) -> bool {
        (MIN_YEAR..=max_year()).contains(&year)
    }

    /// The violation message of a year outside [`is_valid`].
    pub fn message() -> String {
        format!("must be a year from {MIN_YEAR} to {}", max_year())
    }
}

/// The watchlist and viewing history (owned by the library service).
pub mod library {
    use chrono::{DateTime, Duration, Utc};
    use serde_json::{Map, Value};

    /// The watchlist statuses, as the wire spells them.
    pub const STATUSES: [&str; 4] = ["to_watch", "watching", "completed", "paused"];
    pub const STATUS_MESSAGE: &str = "must be one of to_watch, watching, completed, paused";

    /// Longest watchlist notes, in characters.
    pub const MAX_NOTES: usize = 2000;
    pub const NOTES_MESSAGE: &str = "must be at most 2000 characters";

    /// Watchlist priorities: 0 (lowest) to 10.
    pub const MIN_PRIORITY: i64 = 0;
    pub const MAX_PRIORITY: i64 = 10;
    pub const PRIORITY_MESSAGE: &str = "must be an integer from 0 to 10";

    /// Page size bounds and default of every list.
    pub const DEFAULT_LIMIT: i64 = 20;
    pub const MAX_LIMIT: i64 = 100;
    pub const LIMIT_MESSAGE: &str = "must be an integer from 1 to 100";
    /// Deepest offset (the library's requests carry a 32-bit offset).
    pub const MAX_OFFSET: i64 = i32::MAX as i64;
    pub const OFFSET_MESSAGE: &str = "must be an integer from 0 to 2147483647";

    /// How far in the future a `viewedAt` may be (clock skew between a player and the server).
    pub const FUTURE_TOLERANCE_MINUTES: i64 = 5;
    pub const FUTURE_MESSAGE: &str = "must not be in the future";
    pub const DURATION_MESSAGE: &str = "must be an integer of at least 0 minutes";
    pub const TOTAL_DURATION_MESSAGE: &str = "must be an integer of more than 0 minutes";
    pub const COMPLETION_MESSAGE: &str = "must be a number from 0 to 100";
    /// `to` before `from` in a history range.
    pub const RANGE_MESSAGE: &str = "must not be before from";

    /// Longest `context.platform`, in characters.
    pub const MAX_PLATFORM: usize = 50;
    pub const CONTEXT_MESSAGE: &str = "must be an object with only platform (text, at most 50 characters), season \
                                       and episode (integers of at least 0)";

    /// Longest `Idempotency-Key` of a recorded view, in characters.
    pub const MAX_IDEMPOTENCY_KEY: usize = 100;
    pub const IDEMPOTENCY_KEY_MESSAGE: &str = "must be 1 to 100 visible ASCII characters, e.g. a UUID";

    /// Whether `key` is 1 to [`MAX_IDEMPOTENCY_KEY`] visible ASCII characters (`!` to `~`: no spaces).
    pub fn is_valid_idempotency_key(key: &str) -> bool {
        (1..=MAX_IDEMPOTENCY_KEY).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
    }

    /// Whether `status` is a watchlist status; the `'static` spelling when it is.
    pub fn status(status: &str) -> Option<&'static str> {
        STATUSES.iter().find(|s| **s == status).copied()
    }

    pub fn is_valid_priority(priority: i64) -> bool {
        (MIN_PRIORITY..=MAX_PRIORITY).contains(&priority)
    }

    pub fn is_valid_notes(notes: &str) -> bool {
        notes.chars().count() <= MAX_NOTES
    }

    pub fn is_valid_limit(limit: i64) -> bool {
        (1..=MAX_LIMIT).contains(&limit)
    }

    pub fn is_valid_offset(offset: i64) -> bool {
        (0..=MAX_OFFSET).contains(&offset)
    }

    /// Whether a view at `viewed_at` is not in the future of `now` (within the tolerance).
    pub fn is_not_future(viewed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        viewed_at <= now + Duration::minutes(FUTURE_TOLERANCE_MINUTES)
    }

    pub fn is_valid_duration(minutes: i64) -> bool {
        minutes >= 0
    }

    pub fn is_valid_total_duration(minutes: i64) -> bool {
        minutes > 0
    }

    pub fn is_valid_completion(percentage: f64) -> bool {
        percentage.is_finite() && (0.0..=100.0).contains(&percentage)
    }

    /// A view's context: `null` (none), or an object whose keys are only `platform` (a string of at most
    /// [`MAX_PLATFORM`] characters), `season` and `episode` (integers ≥ 0); those keys may be `null`, and are
    /// then left out. `Err` carries [`CONTEXT_MESSAGE`].
    pub fn view_context(value: &Value) -> Result<Option<Value>, &'static str> {
        let object = match value {
            Value::Null => return Ok(None),
            Value::Object(object) => object,
            _ => return Err(CONTEXT_MESSAGE),
        };
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
                return Err(CONTEXT_MESSAGE);
            }
            kept.insert(key.clone(), v.clone());
        }
        Ok(Some(Value::Object(kept)))
    }
}

#[cfg(test)]
mod tests {
    use super::library::*;
    use super::years;
    use chrono::{Datelike, Duration, Utc};
    use serde_json::json;

    #[test]
    fn messages_state_the_bounds_they_check() {
        assert!(NOTES_MESSAGE.contains(&MAX_NOTES.to_string()));
        assert!(PRIORITY_MESSAGE.contains(&format!("{MIN_PRIORITY} to {MAX_PRIORITY}")));
        assert!(LIMIT_MESSAGE.contains(&format!("1 to {MAX_LIMIT}")));
        assert!(OFFSET_MESSAGE.contains(&MAX_OFFSET.to_string()));
        assert!(CONTEXT_MESSAGE.contains(&format!("at most {MAX_PLATFORM} characters")));
        assert_eq!(STATUS_MESSAGE, format!("must be one of {}", STATUSES.join(", ")));
        assert!(IDEMPOTENCY_KEY_MESSAGE.contains(&format!("1 to {MAX_IDEMPOTENCY_KEY}")));
    }

    #[test]
    fn an_idempotency_key_is_short_visible_ascii() {
        assert!(is_valid_idempotency_key("0191d2b0-0000-7000-8000-000000000001"));
        assert!(is_valid_idempotency_key("!"));
        assert!(is_valid_idempotency_key(&"~".repeat(MAX_IDEMPOTENCY_KEY)));
        for bad in ["", " ", "a b", "tab\t", "é", "line\n"] {
            assert!(!is_valid_idempotency_key(bad), "{bad:?}");
        }
        assert!(!is_valid_idempotency_key(&"k".repeat(MAX_IDEMPOTENCY_KEY + 1)));
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(is_valid_priority(0) && is_valid_priority(10) && !is_valid_priority(11) && !is_valid_priority(-1));
        assert!(is_valid_limit(1) && is_valid_limit(100) && !is_valid_limit(0) && !is_valid_limit(101));
        assert!(is_valid_offset(0) && is_valid_offset(MAX_OFFSET) && !is_valid_offset(-1));
        assert!(is_valid_notes(&"é".repeat(MAX_NOTES)) && !is_valid_notes(&"a".repeat(MAX_NOTES + 1)));
        assert!(is_valid_completion(100.0) && !is_valid_completion(100.01) && !is_valid_completion(f64::NAN));
        assert!(is_valid_duration(0) && !is_valid_duration(-1));
        assert!(is_valid_total_duration(1) && !is_valid_total_duration(0));
        assert_eq!(status("paused"), Some("paused"));
        assert_eq!(status("Paused"), None);
    }

    #[test]
    fn a_view_may_be_a_little_ahead_of_the_clock() {
        let now = Utc::now();
        assert!(is_not_future(now + Duration::minutes(FUTURE_TOLERANCE_MINUTES), now));
        assert!(!is_not_future(now + Duration::minutes(FUTURE_TOLERANCE_MINUTES + 1), now));
    }

    #[test]
    fn view_context_keeps_known_keys_and_drops_their_nulls() {
        assert_eq!(view_context(&json!(null)), Ok(None));
        let kept = view_context(&json!({"platform": "tv", "season": 2, "episode": null})).unwrap();
        assert_eq!(kept, Some(json!({"platform": "tv", "season": 2})));
        for bad in [json!([]), json!({"other": 1}), json!({"season": -1}), json!({"platform": "x".repeat(51)})] {
            assert_eq!(view_context(&bad), Err(CONTEXT_MESSAGE), "{bad}");
        }
    }

    #[test]
    fn years_run_from_the_first_film_to_five_ahead() {
        let this_year = Utc::now().year();
        assert!(years::is_valid(years::MIN_YEAR) && !years::is_valid(years::MIN_YEAR - 1));
        assert!(years::is_valid(this_year + 5) && !years::is_valid(this_year + 6));
        assert_eq!(years::message(), format!("must be a year from 1888 to {}", this_year + 5));
    }
}
