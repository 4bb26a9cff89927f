//! Request extractors and the query helpers they share: a UUID path segment, the query pairs of a request
//! ([`query_pairs`], [`get`], [`int_param`]), [`ValidQuery`] of any [`FromQuery`] type, the validated search
//! query, and the paging links of a list ([`pagination`]). Every rejection is an envelope error (400
//! `VALIDATION_ERROR` listing each failing field), never a framework plain-text response.

use std::ops::RangeInclusive;

use axum::extract::{FromRequestParts, Path, Query};
use http::request::Parts;
use iknow_common::rules::{UUID_MESSAGE, years};
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1 as pb;
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::envelope::{ApiError, Pagination};

/// Longest search text, in characters after trimming.
pub const MAX_QUERY_CHARS: usize = 100;
/// Page size bounds and default.
pub const MIN_LIMIT: i64 = 1;
pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: u32 = 20;
/// Deepest offset served: the search engine ranks at most 10,000 results (`offset + limit`), so any valid
/// offset with any valid limit stays inside that window.
pub const MAX_OFFSET: i64 = 10_000 - MAX_LIMIT;

/// The UUID of path segment `{field}`; anything else is 400 with that field.
pub async fn path_uuid<S: Send + Sync>(parts: &mut Parts, state: &S, field: &str) -> Result<Uuid, ApiError> {
    let invalid = || ApiError(Error::field(field, UUID_MESSAGE));
    let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| invalid())?;
    iknow_common::id::parse(&raw).ok_or_else(invalid)
}

/// A UUID from the `{id}` path segment; anything else is 400 with field `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_uuid(parts, state, "id").await.map(PathId)
    }
}

/// The query of a request as `(name, value)` pairs, in order.
pub fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, ApiError> {
    Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .map_err(|_| ApiError(Error::field("query", "is not a valid URL query string")))
}

/// The first value of query parameter `name`.
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Query parameter `name` as an integer in `range`: `None` when absent; when it is not such an integer,
/// `None` and a violation of `name` saying `message`.
pub fn int_param(
    pairs: &[(String, String)],
    name: &str,
    range: RangeInclusive<i64>,
    message: impl Into<String>,
    bad: &mut Vec<FieldViolation>,
) -> Option<i64> {
    match get(pairs, name)?.trim().parse::<i64>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            bad.push(FieldViolation::new(name, message));
            None
        }
    }
}

/// A query validated as a whole: every failing parameter is reported at once; unknown ones are ignored.
pub trait FromQuery: Sized {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error>;
}

/// The validated query of a request (see [`FromQuery`]); an invalid one is 400 `VALIDATION_ERROR`.
#[derive(Debug, Clone)]
pub struct ValidQuery<T>(pub T);

impl<T: FromQuery, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(T::parse(&query_pairs(parts)?)?))
    }
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

    /// The catalogue's type of this filter (`all` names no type: `Unspecified`).
    fn to_proto(self) -> pb::ContentType {
        pb::ContentType::from_name(self.as_str())
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
        let get = |name: &str| get(pairs, name);
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

        let limit_message = format!("must be an integer from {MIN_LIMIT} to {MAX_LIMIT}");
        let limit = int_param(pairs, "limit", MIN_LIMIT..=MAX_LIMIT, limit_message, &mut bad);
        let offset_message = format!("must be an integer from 0 to {MAX_OFFSET}");
        let offset = int_param(pairs, "offset", 0..=MAX_OFFSET, offset_message, &mut bad);

        let kinds: &[TypeFilter] = if allow_episode {
            &[TypeFilter::Movie, TypeFilter::Series, TypeFilter::Episode, TypeFilter::All]
        } else {
            &[TypeFilter::Movie, TypeFilter::Series, TypeFilter::All]
        };
        let kind = one_of(get("type"), kinds, TypeFilter::as_str, TypeFilter::All, "type", &mut bad);

        let year = int_param(pairs, "year", year_range(), years::message(), &mut bad).map(|y| y as i32);

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
        let limit = limit.map_or(DEFAULT_LIMIT, |n| n as u32);
        let offset = offset.map_or(0, |n| n as u32);
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
pub fn encode(s: &str) -> String {
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

/// Release years a query may name ([`years`]), as a parameter range.
pub fn year_range() -> RangeInclusive<i64> {
    i64::from(years::MIN_YEAR)..=i64::from(years::max_year())
}

/// Validated query of `GET /api/v1/actors/search`.
#[derive(Debug, Clone)]
pub struct ActorSearch(pub SearchParams);

impl FromQuery for ActorSearch {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        SearchParams::parse(pairs, false).map(Self)
    }
}

/// Validated query of `GET /api/v1/content/search`.
#[derive(Debug, Clone)]
pub struct ContentSearch(pub SearchParams);

impl FromQuery for ContentSearch {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        SearchParams::parse(pairs, true).map(Self)
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
        param(
            "year",
            format!("{} ({} to the current year + {}).", doc.year, years::MIN_YEAR, years::YEARS_AHEAD),
            int(years::MIN_YEAR.into(), None, None),
        )
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

    #[test]
    fn years_and_types_follow_the_shared_names_and_bounds() {
        let e = SearchParams::parse(&pairs(&[("q", "x"), ("year", "1887")]), true).unwrap_err();
        let Error::Validation { violations, .. } = e else { panic!("not a validation error") };
        assert_eq!(violations[0].message, years::message());
        let p = SearchParams::parse(&pairs(&[("q", "x"), ("year", "1888"), ("type", "episode")]), true).unwrap();
        assert_eq!((p.year, p.to_proto().content_type), (Some(1888), pb::ContentType::Episode as i32));
        assert_eq!(TypeFilter::All.to_proto(), pb::ContentType::Unspecified);
    }

    #[test]
    fn pages_link_their_neighbours() {
        let links = pagination(5, 2, 2, |o| format!("o={o}"));
        assert_eq!(
            (links.has_more, links.next_page.as_deref(), links.prev_page.as_deref()),
            (true, Some("o=4"), Some("o=0"))
        );
        let beyond = pagination(5, 2, 10, |o| format!("o={o}"));
        assert_eq!((beyond.has_more, beyond.next_page, beyond.prev_page.as_deref()), (false, None, Some("o=4")));
    }
}
