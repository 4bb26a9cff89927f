//! Request extractors: a UUID path id and the validated search query. Every rejection is an envelope error
//! (400 `VALIDATION_ERROR` listing each failing field), never a framework plain-text response.

use axum::extract::{FromRequestParts, Path, Query};
use chrono::Datelike;
use http::request::Parts;
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1 as pb;
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::envelope::ApiError;

/// Longest search text, in characters after trimming.
pub const MAX_QUERY_CHARS: usize = 100;
/// Page size bounds and default.
pub const MIN_LIMIT: i64 = 1;
pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: u32 = 20;
/// Deepest offset served: the search engine ranks at most 10,000 results (`offset + limit`), so any valid
/// offset with any valid limit stays inside that window.
pub const MAX_OFFSET: i64 = 10_000 - MAX_LIMIT;
/// The first film.
pub const MIN_YEAR: i32 = 1888;

/// Latest accepted year filter: announced titles may be dated up to five years ahead.
pub fn max_year() -> i32 {
    chrono::Utc::now().year() + 5
}

/// A UUID from the `{id}` path segment; anything else is 400 with field `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId(pub Uuid);

fn invalid_id() -> ApiError {
    ApiError(Error::field("id", "must be a UUID"))
}

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| invalid_id())?;
        iknow_common::id::parse(&raw).map(PathId).ok_or_else(invalid_id)
    }
}

/// Title kinds a search may be filtered by (`episode` only for title search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TypeFilter {
    All,
    Movie,
    Series,
    Episode,
}

impl TypeFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Movie => "movie",
            Self::Series => "series",
            Self::Episode => "episode",
        }
    }

    fn to_proto(self) -> pb::ContentType {
        match self {
            Self::All => pb::ContentType::Unspecified,
            Self::Movie => pb::ContentType::Movie,
            Self::Series => pb::ContentType::Series,
            Self::Episode => pb::ContentType::Episode,
        }
    }
}

/// Order of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    Relevance,
    Name,
    Popularity,
    Year,
}

impl SortBy {
    const ALL: [Self; 4] = [Self::Relevance, Self::Name, Self::Popularity, Self::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relevance => "relevance",
            Self::Name => "name",
            Self::Popularity => "popularity",
            Self::Year => "year",
        }
    }

    fn to_proto(self) -> pb::SortBy {
        match self {
            Self::Relevance => pb::SortBy::Relevance,
            Self::Name => pb::SortBy::Name,
            Self::Popularity => pb::SortBy::Popularity,
            Self::Year => pb::SortBy::Year,
        }
    }
}

/// Direction of the sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// A validated search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub q: String,
    pub limit: u32,
    pub offset: u32,
    pub kind: TypeFilter,
    pub year: Option<i32>,
    pub sort_by: SortBy,
    pub sort_order: SortOrder,
}

impl SearchParams {
    /// Validates every parameter and reports every failing one; unknown parameters are ignored.
    pub fn parse(pairs: &[(String, String)], allow_episode: bool) -> Result<Self, Error> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let mut bad = Vec::new();

        let q = match get("q").map(str::trim) {
            None => {
                bad.push(FieldViolation::new("q", "is required"));
                String::new()
            }
            Some("") => {
                bad.push(FieldViolation::new("q", "must not be empty"));
                String::new()
            }
            Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
                bad.push(FieldViolation::new("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
                String::new()
            }
            Some(q) => q.to_owned(),
        };

        let limit = match get("limit").map(|v| v.trim().parse::<i64>()) {
            None => DEFAULT_LIMIT,
            Some(Ok(n)) if (MIN_LIMIT..=MAX_LIMIT).contains(&n) => n as u32,
            Some(_) => {
                bad.push(FieldViolation::new("limit", format!("must be an integer from {MIN_LIMIT} to {MAX_LIMIT}")));
                DEFAULT_LIMIT
            }
        };

        let offset = match get("offset").map(|v| v.trim().parse::<i64>()) {
            None => 0,
            Some(Ok(n)) if (0..=MAX_OFFSET).contains(&n) => n as u32,
            Some(_) => {
                bad.push(FieldViolation::new("offset", format!("must be an integer from 0 to {MAX_OFFSET}")));
                0
            }
        };

        let kinds: &[TypeFilter] = if allow_episode {
            &[TypeFilter::Movie, TypeFilter::Series, TypeFilter::Episode, TypeFilter::All]
        } else {
            &[TypeFilter::Movie, TypeFilter::Series, TypeFilter::All]
        };
        let kind = one_of(get("type"), kinds, TypeFilter::as_str, TypeFilter::All, "type", &mut bad);

        let max_year = max_year();
        let year = match get("year").map(|v| v.trim().parse::<i32>()) {
            None => None,
            Some(Ok(y)) if (MIN_YEAR..=max_year).contains(&y) => Some(y),
            Some(_) => {
                bad.push(FieldViolation::new("year", format!("must be a year from {MIN_YEAR} to {max_year}")));
                None
            }
        };

        let sort_by = one_of(get("sortBy"), &SortBy::ALL, SortBy::as_str, SortBy::Relevance, "sortBy", &mut bad);
        let sort_order = one_of(
            get("sortOrder"),
            &[SortOrder::Asc, SortOrder::Desc],
            SortOrder::as_str,
            SortOrder::Desc,
            "sortOrder",
            &mut bad,
        );

        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { q, limit, offset, kind, year, sort_by, sort_order })
    }

    /// The catalogue request.
    pub fn to_proto(&self) -> pb::SearchRequest {
        pb::SearchRequest {
            query: self.q.clone(),
            limit: self.limit,
            offset: self.offset,
            content_type: self.kind.to_proto() as i32,
            year: self.year.unwrap_or(0),
            sort_by: self.sort_by.to_proto() as i32,
            sort_order: match self.sort_order {
                SortOrder::Asc => pb::SortOrder::Asc,
                SortOrder::Desc => pb::SortOrder::Desc,
            } as i32,
        }
    }

    /// Path and query of the same search at another offset.
    pub fn page_url(&self, path: &str, offset: u32) -> String {
        let mut url = format!("{path}?q={}&limit={}&offset={offset}", encode(&self.q), self.limit);
        if self.kind != TypeFilter::All {
            url.push_str(&format!("&type={}", self.kind.as_str()));
        }
        if let Some(y) = self.year {
            url.push_str(&format!("&year={y}"));
        }
        if self.sort_by != SortBy::Relevance {
            url.push_str(&format!("&sortBy={}", self.sort_by.as_str()));
        }
        if self.sort_order != SortOrder::Desc {
            url.push_str(&format!("&sortOrder={}", self.sort_order.as_str()));
        }
        url
    }
}

fn one_of<T: Copy>(
    raw: Option<&str>,
    allowed: &[T],
    name: fn(T) -> &'static str,
    default: T,
    field: &str,
    bad: &mut Vec<FieldViolation>,
) -> T {
    let Some(raw) = raw else { return default };
    match allowed.iter().copied().find(|v| name(*v) == raw) {
        Some(v) => v,
        None => {
            let names: Vec<&str> = allowed.iter().map(|v| name(*v)).collect();
            bad.push(FieldViolation::new(field, format!("must be one of {}", names.join(", "))));
            default
        }
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .map_err(|_| ApiError(Error::field("query", "is not a valid URL query string")))
}

/// Validated query of `GET /api/v1/actors/search`.
#[derive(Debug, Clone)]
pub struct ActorSearch(pub SearchParams);

impl<S: Send + Sync> FromRequestParts<S> for ActorSearch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(SearchParams::parse(&query_pairs(parts)?, false)?))
    }
}

/// Validated query of `GET /api/v1/content/search`.
#[derive(Debug, Clone)]
pub struct ContentSearch(pub SearchParams);

impl<S: Send + Sync> FromRequestParts<S> for ContentSearch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(SearchParams::parse(&query_pairs(parts)?, true)?))
    }
}

/// Kinds an actor search may filter by.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActorTypeParam {
    Movie,
    Series,
    All,
}

/// Kinds a title search may filter by.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentTypeParam {
    Movie,
    Series,
    Episode,
    All,
}

/// Query parameters of actor search (documentation of what [`ActorSearch`] accepts).
pub struct ActorSearchQuery;

impl IntoParams for ActorSearchQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        search_query_params(SearchQueryDoc {
            looked_for: "Name",
            example: "tom hnks",
            kind: "Only actors credited in a title of this kind.",
            kinds: ActorTypeParam::schema(),
            year: "Only actors credited in a title of this year",
        })
    }
}

/// Query parameters of title search (documentation of what [`ContentSearch`] accepts).
pub struct ContentSearchQuery;

impl IntoParams for ContentSearchQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        search_query_params(SearchQueryDoc {
            looked_for: "Title",
            example: "breach",
            kind: "Only titles of this kind.",
            kinds: ContentTypeParam::schema(),
            year: "Only titles of this year",
        })
    }
}

/// What differs between the documented parameters of the two searches.
struct SearchQueryDoc {
    /// What `q` names: `Name` or `Title`.
    looked_for: &'static str,
    example: &'static str,
    /// Description of `type`, and its values.
    kind: &'static str,
    kinds: RefOr<Schema>,
    /// Description of `year`, without its bounds.
    year: &'static str,
}

/// The query parameters [`SearchParams::parse`] accepts, with the bounds it enforces. The latest `year` is only
/// known at run time: [`crate::openapi::document`] fills it in.
fn search_query_params(doc: SearchQueryDoc) -> Vec<Parameter> {
    let param = |name: &str, description: String, schema: RefOr<Schema>| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema))
    };
    let int = |minimum: i64, maximum: Option<i64>, default: Option<i64>| -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(minimum))
            .maximum(maximum)
            .default(default.map(Into::into))
            .into()
    };
    let one_of = |values: RefOr<Schema>, default: &str| -> RefOr<Schema> {
        OneOfBuilder::new().item(values).default(Some(default.into())).into()
    };
    let q = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_QUERY_CHARS))
        .pattern(Some(r"\S"))
        .into();
    vec![
        param(
            "q",
            format!(
                "{} to look for: misspelt, unaccented, partial or in any word order. 1 to {MAX_QUERY_CHARS} \
                 characters after\ntrimming.",
                doc.looked_for
            ),
            q,
        )
        .required(Required::True)
        .example(Some(doc.example.into()))
        .build(),
        param("limit", "Page size.".into(), int(MIN_LIMIT, Some(MAX_LIMIT), Some(DEFAULT_LIMIT.into()))).build(),
        param("offset", "Results to skip.".into(), int(0, Some(MAX_OFFSET), Some(0))).build(),
        param("type", doc.kind.into(), one_of(doc.kinds, TypeFilter::All.as_str())).build(),
        param("year", format!("{} ({MIN_YEAR} to the current year + 5).", doc.year), int(MIN_YEAR.into(), None, None))
            .build(),
        param("sortBy", "Sort key.".into(), one_of(SortBy::schema(), SortBy::Relevance.as_str())).build(),
        param("sortOrder", "Sort direction.".into(), one_of(SortOrder::schema(), SortOrder::Desc.as_str())).build(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply() {
        let p = SearchParams::parse(&pairs(&[("q", "  tom  "), ("unknown", "x")]), false).unwrap();
        assert_eq!(p.q, "tom");
        assert_eq!((p.limit, p.offset, p.kind, p.year), (20, 0, TypeFilter::All, None));
        assert_eq!((p.sort_by, p.sort_order), (SortBy::Relevance, SortOrder::Desc));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let e = SearchParams::parse(
            &pairs(&[("q", " "), ("limit", "abc"), ("offset", "-1"), ("type", "episode"), ("sortBy", "x")]),
            false,
        )
        .unwrap_err();
        let Error::Validation { violations, .. } = e else { panic!("not a validation error") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["q", "limit", "offset", "type", "sortBy"]);
    }

    #[test]
    fn page_urls_encode_the_query() {
        let p = SearchParams::parse(&pairs(&[("q", "pénélope cruz&x"), ("type", "movie")]), false).unwrap();
        assert_eq!(p.page_url("/s", 20), "/s?q=p%C3%A9n%C3%A9lope%20cruz%26x&limit=20&offset=20&type=movie");
    }
}
