//! Who wrote a batch (`UpsertBatchRequest.source`) and which columns it may change: the column ownership
//! tables and the SQL of a merged value that `upsert.rs` puts in its `ON CONFLICT DO UPDATE` statements. The
//! rule itself is described in the module doc of [`crate::upsert`].

use iknow_common::Error;
use iknow_proto::catalog::v1::ScrapeSource;

/// The writer of a batch, as stored in `scrape_source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The IMDb dataset import (also an unspecified source).
    Scraper,
    /// The TMDB API jobs.
    Api,
    /// A curator's correction: owns every column.
    Manual,
}

/// How a column takes a batch's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Always present in the input (a name, a type, a flag): the owner's value replaces; other sources never
    /// change it on an existing row.
    Required,
    /// An optional input: NULL is "absent" and never erases; the owner's value replaces, another source's
    /// fills the column only while it is NULL.
    Optional,
    /// A list: the owner's replaces (an empty one too); another source's fills it only while it is empty.
    List,
}

/// One merged column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub owner: Source,
    pub kind: Kind,
}

const fn col(name: &'static str, owner: Source, kind: Kind) -> Column {
    Column { name, owner, kind }
}

/// The merged columns of `actors`; the quality flags follow from them.
pub const ACTOR_COLUMNS: &[Column] = &[
    col("name", Source::Scraper, Kind::Required),
    col("birth_year", Source::Scraper, Kind::Optional),
    col("death_year", Source::Scraper, Kind::Optional),
    col("professions", Source::Scraper, Kind::List),
    col("known_for_imdb_ids", Source::Scraper, Kind::List),
    col("tmdb_id", Source::Api, Kind::Optional),
    col("birth_date", Source::Api, Kind::Optional),
    col("death_date", Source::Api, Kind::Optional),
    col("biography", Source::Api, Kind::Optional),
    col("profile_image_url", Source::Api, Kind::Optional),
];

/// The merged columns of `content`; the quality flags and popularity follow from them. `original_title` is
/// NULL when it equals the title, so it goes with the title (never filled by another source).
pub const CONTENT_COLUMNS: &[Column] = &[
    col("content_type", Source::Scraper, Kind::Required),
    col("title", Source::Scraper, Kind::Required),
    col("original_title", Source::Scraper, Kind::Required),
    col("is_adult", Source::Scraper, Kind::Required),
    col("release_year", Source::Scraper, Kind::Optional),
    col("end_year", Source::Scraper, Kind::Optional),
    col("runtime_minutes", Source::Scraper, Kind::Optional),
    col("genres", Source::Scraper, Kind::List),
    col("tmdb_id", Source::Api, Kind::Optional),
    col("overview", Source::Api, Kind::Optional),
    col("poster_url", Source::Api, Kind::Optional),
];

impl Source {
    /// The request's `source`; unspecified is the scraper (callers that predate the field), an unknown number
    /// is a validation error.
    pub fn from_proto(value: i32) -> Result<Self, Error> {
        match ScrapeSource::try_from(value) {
            Ok(ScrapeSource::Unspecified | ScrapeSource::Scraper) => Ok(Self::Scraper),
            Ok(ScrapeSource::Api) => Ok(Self::Api),
            Ok(ScrapeSource::Manual) => Ok(Self::Manual),
            Err(_) => Err(Error::field("source", "must be a ScrapeSource (0..=3)")),
        }
    }

    /// As stored in `scrape_source`.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Scraper => "scraper",
            Self::Api => "api",
            Self::Manual => "manual",
        }
    }

    /// Whether a batch of this source sets columns owned by `owner`.
    pub fn owns(self, owner: Source) -> bool {
        self == Self::Manual || self == owner
    }

    /// Whether `complete_filmography` / `complete_cast` of its inputs count (a scraper batch never carries a
    /// whole filmography, and never resets the flags).
    pub fn marks_complete(self) -> bool {
        self != Self::Scraper
    }

    /// The SQL value of `c` once a batch of this source meets an existing row (`t`: the row's alias;
    /// `EXCLUDED`: the batch's row).
    pub fn merged(self, t: &str, c: &Column) -> String {
        let n = c.name;
        match (self.owns(c.owner), c.kind) {
            (true, Kind::Required | Kind::List) => format!("EXCLUDED.{n}"),
            (true, Kind::Optional) => format!("COALESCE(EXCLUDED.{n}, {t}.{n})"),
            (false, Kind::Required) => format!("{t}.{n}"),
            (false, Kind::Optional) => format!("COALESCE({t}.{n}, EXCLUDED.{n})"),
            (false, Kind::List) => format!("CASE WHEN cardinality({t}.{n}) = 0 THEN EXCLUDED.{n} ELSE {t}.{n} END"),
        }
    }
}

/// The merged value of the column called `name` (which must be one of `columns`).
pub fn merged_of(source: Source, t: &str, columns: &[Column], name: &str) -> String {
    let c = columns.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no merged column {name}"));
    source.merged(t, c)
}

/// SQL: `url` (an expression) is an absolute http(s) URL with a host, as `prepare::is_http_url` checks.
pub fn url_ok(url: &str) -> String {
    format!("COALESCE(({url}) ~* '^https?://[^/?#:[:space:]]', false)")
}

/// SQL: `text` (an expression) is not NULL and not blank.
pub fn text_ok(text: &str) -> String {
    format!("COALESCE(length(btrim({text})) > 0, false)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_come_from_the_proto_and_unspecified_is_the_scraper() {
        assert_eq!(Source::from_proto(0).unwrap(), Source::Scraper);
        assert_eq!(Source::from_proto(ScrapeSource::Api as i32).unwrap(), Source::Api);
        assert_eq!(Source::from_proto(ScrapeSource::Manual as i32).unwrap().as_db(), "manual");
        assert!(matches!(Source::from_proto(9), Err(Error::Validation { .. })));
    }

    #[test]
    fn a_source_sets_its_own_columns_and_only_fills_the_others() {
        let name = merged_of(Source::Api, "a", ACTOR_COLUMNS, "name");
        assert_eq!(name, "a.name", "the API never renames an existing actor");
        assert_eq!(
            merged_of(Source::Api, "a", ACTOR_COLUMNS, "birth_year"),
            "COALESCE(a.birth_year, EXCLUDED.birth_year)"
        );
        assert_eq!(
            merged_of(Source::Api, "a", ACTOR_COLUMNS, "biography"),
            "COALESCE(EXCLUDED.biography, a.biography)",
            "absent never erases"
        );
        assert_eq!(
            merged_of(Source::Scraper, "a", ACTOR_COLUMNS, "biography"),
            "COALESCE(a.biography, EXCLUDED.biography)"
        );
        assert_eq!(merged_of(Source::Scraper, "c", CONTENT_COLUMNS, "genres"), "EXCLUDED.genres");
        assert!(
            merged_of(Source::Api, "c", CONTENT_COLUMNS, "genres").starts_with("CASE WHEN cardinality(c.genres) = 0")
        );
        for c in ACTOR_COLUMNS.iter().chain(CONTENT_COLUMNS) {
            assert!(Source::Manual.merged("t", c).contains("EXCLUDED"), "manual sets {}", c.name);
        }
    }
}
