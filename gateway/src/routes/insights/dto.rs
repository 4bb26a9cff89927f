//! "Where do I know them from" as the REST API shows it: known-from, familiar faces and actor stats (camelCase;
//! absent values are `null`), made from the library's proto.

use iknow_proto::library::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use crate::dto::{ImageSet, non_empty};
use crate::envelope::Meta;
use crate::routes::library::dto::LibraryTitle;

/// One title the caller has seen in which the actor appears.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KnownFromItem {
    pub content: LibraryTitle,
    /// The actor's most prominent role in the title (empty when the credit names no character).
    pub role_name: String,
    /// Every character the actor plays in the title.
    pub characters: Vec<String>,
    /// Billing position (1 = top billed); null when unknown.
    #[schema(required = true)]
    pub credit_order: Option<i32>,
    /// When the caller last saw the title (RFC 3339 UTC); a series seen through its episodes: the latest one.
    #[schema(format = DateTime)]
    pub last_viewed_at: String,
    /// History rows of the title (0 when it is only a completed watchlist item).
    pub view_count: u32,
    /// For an episode: its season in its series (`content.seriesId`), when known.
    #[schema(required = true)]
    pub season_number: Option<i32>,
    /// For an episode: its number in its season, when known.
    #[schema(required = true)]
    pub episode_number: Option<i32>,
    /// For an episode: its series' title.
    #[schema(required = true)]
    pub series_title: Option<String>,
    /// Familiar faces only: another episode of the watched episode's own series (always false in known-from).
    pub same_series: bool,
}

impl From<pb::KnownFromItem> for KnownFromItem {
    fn from(i: pb::KnownFromItem) -> Self {
        let id = i.content.as_ref().map(|c| c.id.clone()).unwrap_or_default();
        Self {
            content: LibraryTitle::from_proto(i.content, &id),
            role_name: i.role_name,
            characters: i.characters,
            credit_order: (i.credit_order > 0).then_some(i.credit_order),
            last_viewed_at: i.last_viewed_at,
            view_count: i.view_count,
            season_number: i.season_number,
            episode_number: i.episode_number,
            series_title: non_empty(i.series_title),
            same_series: i.same_series,
        }
    }
}

/// Where the caller knows an actor from.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KnownFrom {
    #[schema(value_type = uuid::Uuid)]
    pub actor_id: String,
    /// The seen titles the actor appears in, most recently seen first.
    pub items: Vec<KnownFromItem>,
    /// Distinct titles of the actor's filmography the caller has seen.
    pub seen_count: u32,
    /// Distinct titles in the actor's filmography.
    pub filmography_count: u32,
    /// `seenCount / filmographyCount`, 0 to 1.
    #[schema(minimum = 0, maximum = 1)]
    pub share: f64,
}

impl KnownFrom {
    pub fn from_proto(actor_id: String, r: pb::KnownFromResponse) -> Self {
        Self {
            actor_id,
            items: r.items.into_iter().map(KnownFromItem::from).collect(),
            seen_count: r.seen_count,
            filmography_count: r.filmography_count,
            share: r.share,
        }
    }
}

/// `{data: knownFrom, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnownFromResponse {
    pub data: KnownFrom,
    pub meta: Meta,
}

/// A member of the title's cast whom the caller has seen in other titles.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FamiliarFace {
    #[schema(value_type = uuid::Uuid)]
    pub actor_id: String,
    pub actor_name: String,
    /// Absolute URL of the actor's portrait; null when none.
    #[schema(required = true)]
    pub profile_image_url: Option<String>,
    /// The portrait of `profileImageUrl` in three sizes (TMDB `w185` / `h632` / `original`); null when none.
    #[schema(required = true)]
    pub photo: Option<ImageSet>,
    /// The actor's role in this title.
    pub role_name: String,
    pub characters: Vec<String>,
    /// Credited on the episode's series (a regular) rather than on the episode itself.
    pub series_regular: bool,
    /// The best example of where the caller saw them: a title outside this series before another episode of
    /// it, then the most prominent role, then the most recent view.
    pub example: KnownFromItem,
    /// How many other titles of the actor the caller has seen (other episodes of this series included).
    pub seen_count: u32,
    /// The latest of those views (RFC 3339 UTC).
    #[schema(format = DateTime)]
    pub last_viewed_at: String,
    /// Known only from other episodes of this episode's series. Such an episode counts only for an actor
    /// credited on this episode and on fewer than half of the series' episodes: regulars never do.
    pub same_series: bool,
    /// How many of `seenCount` are other episodes of this episode's series.
    pub same_series_count: u32,
}

impl FamiliarFace {
    fn from_proto(f: pb::FamiliarFace) -> Option<Self> {
        Some(Self {
            example: f.example?.into(),
            actor_id: f.actor_id,
            actor_name: f.actor_name,
            photo: ImageSet::profile(Some(&f.profile_image_url)),
            profile_image_url: non_empty(f.profile_image_url),
            role_name: f.role_name,
            characters: f.characters,
            series_regular: f.series_regular,
            seen_count: f.seen_count,
            last_viewed_at: f.last_viewed_at,
            same_series: f.same_series,
            same_series_count: f.same_series_count,
        })
    }
}

/// The familiar faces of one title.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FamiliarFaces {
    #[schema(value_type = uuid::Uuid)]
    pub content_id: String,
    /// Faces seen in other titles first, then those known only from this episode's series; within each, most
    /// other titles seen first, then most episodes of the series, then most recently seen.
    pub faces: Vec<FamiliarFace>,
}

impl FamiliarFaces {
    pub fn from_proto(content_id: String, r: pb::FamiliarFacesResponse) -> Self {
        Self { content_id, faces: r.faces.into_iter().filter_map(FamiliarFace::from_proto).collect() }
    }
}

/// `{data: familiarFaces, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FamiliarFacesResponse {
    pub data: FamiliarFaces,
    pub meta: Meta,
}

/// How much of one actor the caller has watched.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActorStat {
    #[schema(value_type = uuid::Uuid)]
    pub actor_id: String,
    pub actor_name: String,
    /// Absolute URL of the actor's portrait; null when none.
    #[schema(required = true)]
    pub profile_image_url: Option<String>,
    /// The portrait of `profileImageUrl` in three sizes (TMDB `w185` / `h632` / `original`); null when none.
    #[schema(required = true)]
    pub photo: Option<ImageSet>,
    /// Distinct seen titles the actor is credited in (a series regular counts the series once).
    pub titles_seen: u32,
    /// Minutes of those titles the caller watched.
    pub minutes_watched: i64,
    /// The latest view among them (RFC 3339 UTC).
    #[schema(format = DateTime)]
    pub last_viewed_at: String,
}

impl From<pb::ActorStat> for ActorStat {
    fn from(s: pb::ActorStat) -> Self {
        Self {
            actor_id: s.actor_id,
            actor_name: s.actor_name,
            photo: ImageSet::profile(Some(&s.profile_image_url)),
            profile_image_url: non_empty(s.profile_image_url),
            titles_seen: s.titles_seen,
            minutes_watched: s.minutes_watched,
            last_viewed_at: s.last_viewed_at,
        }
    }
}

/// The caller's most-watched actors.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActorStats {
    /// Most titles seen first, then most minutes.
    pub actors: Vec<ActorStat>,
    /// Distinct titles the caller has seen.
    pub titles_seen: u32,
}

/// `{data: stats, meta}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorStatsResponse {
    pub data: ActorStats,
    pub meta: Meta,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_without_an_example_is_left_out_and_unknown_billing_is_null() {
        let example = pb::KnownFromItem { credit_order: 0, ..Default::default() };
        let with = pb::FamiliarFace { example: Some(example), ..Default::default() };
        let response = pb::FamiliarFacesResponse { faces: vec![with, pb::FamiliarFace::default()] };
        let faces = FamiliarFaces::from_proto("c".into(), response);
        assert_eq!(faces.faces.len(), 1);
        assert_eq!(faces.faces[0].example.credit_order, None);
    }
}
