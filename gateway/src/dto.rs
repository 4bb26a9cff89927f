//! The JSON shapes of the catalogue's routes (camelCase; absent values are `null`), made from the catalogue's
//! proto, and the two readings of a proto3 string every shape uses ([`non_empty`], [`non_blank`]).

use iknow_proto::catalog::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use crate::envelope::{Meta, Pagination};
use crate::filmography;
pub use crate::filmography::FilmographyEntry;
pub use crate::images::ImageSet;

/// Kind of a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    Movie,
    Series,
    Episode,
}

impl ContentKind {
    /// The kind of a catalogue `content_type` wire value.
    fn from_proto(v: i32) -> Self {
        pb::ContentType::try_from(v).unwrap_or(pb::ContentType::Unspecified).into()
    }
}

impl From<pb::ContentType> for ContentKind {
    fn from(t: pb::ContentType) -> Self {
        match t {
            pb::ContentType::Series => Self::Series,
            pb::ContentType::Episode => Self::Episode,
            // The catalogue only stores the three kinds; unspecified would be a catalogue bug.
            pb::ContentType::Movie | pb::ContentType::Unspecified => Self::Movie,
        }
    }
}

/// A proto3 string as an optional JSON value: `None` when empty (proto3 has no absent string).
pub fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Free text as an optional JSON value: `None` when empty or only whitespace.
pub fn non_blank(s: String) -> Option<String> {
    if s.trim().is_empty() { None } else { Some(s) }
}

/// A short reference to a title.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContentRef {
    pub id: String,
    pub imdb_id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: ContentKind,
    /// Release year, when known.
    #[schema(required = true)]
    pub year: Option<i32>,
}

impl From<pb::ContentRef> for ContentRef {
    fn from(r: pb::ContentRef) -> Self {
        Self {
            id: r.id,
            imdb_id: r.imdb_id,
            title: r.title,
            kind: ContentKind::from_proto(r.content_type),
            year: r.year,
        }
    }
}

/// Quality flags of an actor record.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActorQuality {
    pub has_valid_photo: bool,
    pub has_complete_filmography: bool,
    pub has_birth_date: bool,
    pub has_bio: bool,
}

impl From<pb::ActorQuality> for ActorQuality {
    fn from(q: pb::ActorQuality) -> Self {
        Self {
            has_valid_photo: q.has_valid_photo,
            has_complete_filmography: q.has_complete_filmography,
            has_birth_date: q.has_birth_date,
            has_bio: q.has_bio,
        }
    }
}

/// The fields an actor has in search results and on their own page: the seed's names (`bio`, `photoUrl`,
/// `birthDate`, `lastVerified`, `knownFor` as titles) and, for one more minor version, the deprecated names they
/// replace (`biography`, `profileImageUrl`).
macro_rules! actor_struct {
    ($(#[$m:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub id: String,
            pub imdb_id: String,
            pub name: String,
            /// Year of birth, when known (also when only the year is known, where `birthDate` is null).
            #[schema(required = true)]
            pub birth_year: Option<i32>,
            /// Date of birth (YYYY-MM-DD) when the full date is known; null otherwise (see `birthYear`).
            #[schema(required = true, format = Date)]
            pub birth_date: Option<String>,
            /// Year of death, when known.
            #[schema(required = true)]
            pub death_year: Option<i32>,
            /// Date of death (YYYY-MM-DD) when the full date is known; null otherwise (see `deathYear`).
            #[schema(required = true, format = Date)]
            pub death_date: Option<String>,
            /// Plain-text biography; null when none.
            #[schema(required = true)]
            pub bio: Option<String>,
            /// Absolute URL of a portrait; null when none.
            #[schema(required = true)]
            pub photo_url: Option<String>,
            /// The portrait of `photoUrl` in three sizes (TMDB `w185` / `h632` / `original`); null when none.
            #[schema(required = true)]
            pub photo: Option<ImageSet>,
            /// Deprecated alias of `bio` (same value), removed in the next minor version.
            #[schema(required = true, deprecated)]
            pub biography: Option<String>,
            /// Deprecated alias of `photoUrl` (same value), removed in the next minor version.
            #[schema(required = true, deprecated)]
            pub profile_image_url: Option<String>,
            pub professions: Vec<String>,
            /// Titles of the catalogued titles the actor is known for (as the seed has them), best known first.
            /// Until this version `knownFor` held the title objects, which are now `knownForContent`.
            pub known_for: Vec<String>,
            /// The titles of `knownFor`, in the same order, as references (id, imdbId, title, type, year).
            pub known_for_content: Vec<ContentRef>,
            /// 0 to 100.
            pub popularity_score: f64,
            pub quality: ActorQuality,
            $($extra)*
            /// RFC 3339 UTC.
            pub created_at: String,
            /// RFC 3339 UTC.
            pub updated_at: String,
            /// When the record was last checked against its source (RFC 3339 UTC): the same instant as
            /// `lastScrapedAt`, when an import last wrote the record or a TMDB job last looked at it; null when never.
            #[schema(required = true)]
            pub last_verified: Option<String>,
            /// When an import last wrote the record, or a TMDB job last looked at it (RFC 3339 UTC); null when never.
            #[schema(required = true)]
            pub last_scraped_at: Option<String>,
            /// `scraper`, `api` or `manual`: the source of the last change; null when unknown.
            #[schema(required = true)]
            pub scrape_source: Option<String>,
        }
    };
}

actor_struct!(
    /// An actor as listed in search results (no filmography).
    ActorSummary {}
);

actor_struct!(
    /// An actor with their filmography: one entry per movie or series, newest first.
    Actor {
        /// One entry per movie or series (an actor's episodes of a series are listed in its one entry), newest
        /// first by the year of the movie or series.
        pub filmography: Vec<FilmographyEntry>,
    }
);

/// The year of a `YYYY-MM-DD` date.
fn year_of(date: Option<&str>) -> Option<i32> {
    date?.get(..4)?.parse().ok()
}

impl From<pb::Actor> for Actor {
    fn from(a: pb::Actor) -> Self {
        let bio = non_blank(a.biography);
        let photo_url = non_blank(a.profile_image_url);
        let last_scraped_at = non_blank(a.last_scraped_at);
        let known_for_content: Vec<ContentRef> = a.known_for.into_iter().map(Into::into).collect();
        Self {
            id: a.id,
            imdb_id: a.imdb_id,
            name: a.name,
            birth_year: a.birth_year.or_else(|| year_of(a.birth_date.as_deref())),
            birth_date: a.birth_date,
            death_year: a.death_year.or_else(|| year_of(a.death_date.as_deref())),
            death_date: a.death_date,
            biography: bio.clone(),
            bio,
            profile_image_url: photo_url.clone(),
            photo: ImageSet::profile(photo_url.as_deref()),
            photo_url,
            professions: a.professions,
            known_for: known_for_content.iter().map(|k| k.title.clone()).collect(),
            known_for_content,
            popularity_score: a.popularity_score,
            quality: a.quality.map(Into::into).unwrap_or_default(),
            filmography: filmography::entries(a.filmography),
            created_at: a.created_at,
            updated_at: a.updated_at,
            last_verified: last_scraped_at.clone(),
            last_scraped_at,
            scrape_source: non_blank(a.scrape_source),
        }
    }
}

impl From<pb::Actor> for ActorSummary {
    fn from(a: pb::Actor) -> Self {
        let full = Actor::from(pb::Actor { filmography: vec![], ..a });
        Self {
            id: full.id,
            imdb_id: full.imdb_id,
            name: full.name,
            birth_year: full.birth_year,
            birth_date: full.birth_date,
            death_year: full.death_year,
            death_date: full.death_date,
            bio: full.bio,
            photo_url: full.photo_url,
            photo: full.photo,
            biography: full.biography,
            profile_image_url: full.profile_image_url,
            professions: full.professions,
            known_for: full.known_for,
            known_for_content: full.known_for_content,
            popularity_score: full.popularity_score,
            quality: full.quality,
            created_at: full.created_at,
            updated_at: full.updated_at,
            last_verified: full.last_verified,
            last_scraped_at: full.last_scraped_at,
            scrape_source: full.scrape_source,
        }
    }
}

/// Quality flags of a title record.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContentQuality {
    pub has_poster: bool,
    pub has_overview: bool,
    pub has_complete_cast: bool,
    pub has_release_date: bool,
}

impl From<pb::ContentQuality> for ContentQuality {
    fn from(q: pb::ContentQuality) -> Self {
        Self {
            has_poster: q.has_poster,
            has_overview: q.has_overview,
            has_complete_cast: q.has_complete_cast,
            has_release_date: q.has_release_date,
        }
    }
}

/// One credit of a title.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CastMember {
    pub actor_id: String,
    pub actor_imdb_id: String,
    pub name: String,
    #[schema(required = true)]
    pub role_name: Option<String>,
    pub characters: Vec<String>,
    /// `actor`, `actress` or `self`.
    pub category: String,
    /// Billing position (1 = top billed). In a series' cast: on the series title, else the best over its episodes.
    pub credit_order: i32,
    /// Absolute URL of the actor's portrait; null when none.
    #[schema(required = true)]
    pub profile_image_url: Option<String>,
    /// The portrait of `profileImageUrl` in three sizes (TMDB `w185` / `h632` / `original`); null when none.
    #[schema(required = true)]
    pub photo: Option<ImageSet>,
    /// A series' cast only (null elsewhere): the episodes this actor is credited on (0 for a regular credited on
    /// the series title alone).
    #[schema(required = true)]
    pub episode_count: Option<u32>,
    /// A series' cast only: credited on the series title itself (a regular).
    #[schema(required = true)]
    pub series_regular: Option<bool>,
    /// A series' cast only: the first and last episode this actor appears in; null for a regular credited on
    /// the series title alone.
    #[schema(required = true)]
    pub first_appearance: Option<EpisodeAppearance>,
    #[schema(required = true)]
    pub last_appearance: Option<EpisodeAppearance>,
}

/// One episode of a series, as an actor's appearance in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EpisodeAppearance {
    pub content_id: String,
    #[schema(required = true)]
    pub season_number: Option<i32>,
    #[schema(required = true)]
    pub episode_number: Option<i32>,
    pub title: String,
    #[schema(required = true)]
    pub year: Option<i32>,
}

impl EpisodeAppearance {
    /// The appearance of a catalogue episode reference, when there is one.
    pub fn from_proto(e: Option<pb::EpisodeRef>) -> Option<Self> {
        e.filter(|e| !e.id.is_empty()).map(|e| Self {
            content_id: e.id,
            season_number: e.season_number,
            episode_number: e.episode_number,
            title: e.title,
            year: e.year,
        })
    }
}

impl CastMember {
    /// A cast member; `series` when it is a series' aggregated cast (episode counts and appearances).
    fn from_proto(m: pb::CastMember, series: bool) -> Self {
        Self {
            actor_id: m.actor_id,
            actor_imdb_id: m.actor_imdb_id,
            name: m.actor_name,
            role_name: non_blank(m.role_name),
            characters: m.characters,
            category: m.category,
            credit_order: m.credit_order,
            photo: ImageSet::profile(Some(&m.profile_image_url)),
            profile_image_url: non_blank(m.profile_image_url),
            episode_count: series.then_some(m.episode_count),
            series_regular: series.then_some(m.on_series),
            first_appearance: EpisodeAppearance::from_proto(m.first_appearance),
            last_appearance: EpisodeAppearance::from_proto(m.last_appearance),
        }
    }
}

macro_rules! content_struct {
    ($(#[$m:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub id: String,
            pub imdb_id: String,
            pub title: String,
            /// The title in its original language, when the source has one.
            #[schema(required = true)]
            pub original_title: Option<String>,
            #[serde(rename = "type")]
            pub kind: ContentKind,
            #[schema(required = true)]
            pub year: Option<i32>,
            /// Last year of a series.
            #[schema(required = true)]
            pub end_year: Option<i32>,
            #[schema(required = true)]
            pub runtime_minutes: Option<i32>,
            pub genres: Vec<String>,
            #[schema(required = true)]
            pub overview: Option<String>,
            /// Absolute URL of the poster; null when none.
            #[schema(required = true)]
            pub poster_url: Option<String>,
            /// The poster of `posterUrl` in three sizes (TMDB `w154` / `w342` / `w780`); null when none.
            #[schema(required = true)]
            pub poster: Option<ImageSet>,
            pub is_adult: bool,
            /// 0 to 100.
            pub popularity_score: f64,
            /// IMDb's average rating, 0 to 10 with one decimal; null when the title has none.
            #[schema(required = true)]
            pub rating: Option<f64>,
            /// The votes behind `rating`; null when the title has no rating.
            #[schema(required = true)]
            pub vote_count: Option<u32>,
            pub quality: ContentQuality,
            /// The series of an episode.
            #[schema(required = true)]
            pub parent: Option<ContentRef>,
            #[schema(required = true)]
            pub season_number: Option<i32>,
            #[schema(required = true)]
            pub episode_number: Option<i32>,
            $($extra)*
            /// RFC 3339 UTC.
            pub created_at: String,
            /// RFC 3339 UTC.
            pub updated_at: String,
            /// When an import last wrote the record, or a TMDB job last looked at it (RFC 3339 UTC); null when
            /// never.
            #[schema(required = true)]
            pub last_scraped_at: Option<String>,
            /// `scraper`, `api` or `manual`: the source of the last change; null when unknown.
            #[schema(required = true)]
            pub scrape_source: Option<String>,
        }
    };
}

content_struct!(
    /// A title with a page of its cast (`castLimit`, `castOffset`).
    Content {
        /// A movie's or an episode's credits in billing order. A series' aggregated cast: everyone credited on
        /// the series or any of its episodes, once each with every character they played, regulars first, then
        /// by episodes, then billing.
        pub cast: Vec<CastMember>,
        /// Members in the whole cast (`cast` is one page of it).
        pub cast_total: u32,
        /// A series only (null elsewhere): the episodes it has in the catalogue.
        #[schema(required = true)]
        pub episode_count: Option<u32>,
    }
);

content_struct!(
    /// A title as listed in search results (no cast).
    ContentSummary {}
);

impl From<pb::Content> for Content {
    fn from(c: pb::Content) -> Self {
        let series = c.content_type == pb::ContentType::Series as i32;
        let original_title = non_blank(c.original_title);
        let parent = c.parent.filter(|p| !p.id.is_empty()).map(Into::into);
        Self {
            id: c.id,
            imdb_id: c.imdb_id,
            title: c.title,
            original_title,
            kind: ContentKind::from_proto(c.content_type),
            year: c.year,
            end_year: c.end_year,
            runtime_minutes: c.runtime_minutes,
            genres: c.genres,
            overview: non_blank(c.overview),
            poster: ImageSet::poster(Some(&c.poster_url)),
            poster_url: non_blank(c.poster_url),
            is_adult: c.is_adult,
            popularity_score: c.popularity_score,
            rating: c.rating,
            vote_count: c.vote_count,
            quality: c.quality.map(Into::into).unwrap_or_default(),
            parent,
            season_number: c.season_number,
            episode_number: c.episode_number,
            cast: c.cast.into_iter().map(|m| CastMember::from_proto(m, series)).collect(),
            cast_total: c.cast_total,
            episode_count: series.then_some(c.episode_total),
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_scraped_at: non_blank(c.last_scraped_at),
            scrape_source: non_blank(c.scrape_source),
        }
    }
}

impl From<pb::Content> for ContentSummary {
    fn from(c: pb::Content) -> Self {
        let f = Content::from(pb::Content { cast: vec![], ..c });
        Self {
            id: f.id,
            imdb_id: f.imdb_id,
            title: f.title,
            original_title: f.original_title,
            kind: f.kind,
            year: f.year,
            end_year: f.end_year,
            runtime_minutes: f.runtime_minutes,
            genres: f.genres,
            overview: f.overview,
            poster_url: f.poster_url,
            poster: f.poster,
            is_adult: f.is_adult,
            popularity_score: f.popularity_score,
            rating: f.rating,
            vote_count: f.vote_count,
            quality: f.quality,
            parent: f.parent,
            season_number: f.season_number,
            episode_number: f.episode_number,
            created_at: f.created_at,
            updated_at: f.updated_at,
            last_scraped_at: f.last_scraped_at,
            scrape_source: f.scrape_source,
        }
    }
}

/// `GET /api/v1/actors/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorResponse {
    pub data: Actor,
    pub meta: Meta,
}

/// `GET /api/v1/actors/search`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorSearchResponse {
    pub data: Vec<ActorSummary>,
    pub meta: Meta,
    pub pagination: Pagination,
}

/// `GET /api/v1/content/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentResponse {
    pub data: Content,
    pub meta: Meta,
}

/// `GET /api/v1/content/search`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentSearchResponse {
    pub data: Vec<ContentSummary>,
    pub meta: Meta,
    pub pagination: Pagination,
}
