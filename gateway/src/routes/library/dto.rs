//! The watchlist and history as the REST API shows them (camelCase; absent values are `null`), made from the
//! library's proto.

use iknow_proto::catalog::v1::ContentType;
use iknow_proto::library::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::dto::{ContentKind, ImageSet, non_empty};
use crate::envelope::{Meta, Pagination};

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
    /// In the order of [`iknow_common::rules::library::STATUSES`].
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
    /// The poster of `posterUrl` in three sizes (TMDB `w154` / `w342` / `w780`); null when none.
    #[schema(required = true)]
    pub poster: Option<ImageSet>,
    /// Runtime in minutes, when known.
    #[schema(required = true)]
    pub runtime_minutes: Option<i32>,
    /// For an episode: its series' id.
    #[schema(value_type = Option<uuid::Uuid>, required = true)]
    pub series_id: Option<String>,
}

impl LibraryTitle {
    /// The library's summary of a title; a bare title of `content_id` when it sent none.
    pub fn from_proto(c: Option<pb::ContentSummary>, content_id: &str) -> Self {
        let c = c.unwrap_or_else(|| pb::ContentSummary { id: content_id.to_owned(), ..Default::default() });
        Self {
            id: c.id,
            title: c.title,
            content_type: ContentKind::from(ContentType::from_name(&c.content_type)),
            year: c.year,
            poster: ImageSet::poster(Some(&c.poster_url)),
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
    /// True when that day's row of the title was updated (200), false when a row was added (201). A replay of
    /// an `Idempotency-Key` (200, `Idempotent-Replayed: true`) says what the first answer said.
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

/// Details of `DUPLICATE_WATCHLIST_ITEM`: the item already on the watchlist.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExistingItemDetails {
    pub existing_item: WatchlistItem,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statuses_are_the_rules_statuses() {
        let names: Vec<&str> = WatchlistStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, iknow_common::rules::library::STATUSES);
        for s in WatchlistStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn a_summary_names_its_kind_and_a_missing_one_is_a_bare_title() {
        let episode = pb::ContentSummary { id: "e".into(), content_type: "episode".into(), ..Default::default() };
        assert_eq!(LibraryTitle::from_proto(Some(episode), "e").content_type, ContentKind::Episode);
        let bare = LibraryTitle::from_proto(None, "c");
        assert_eq!((bare.id.as_str(), bare.content_type, bare.poster_url), ("c", ContentKind::Movie, None));
    }
}
