//! `GET /api/v1/identify`: who plays a character in a title (`title`, `character`, optional `year`, `season`,
//! `episode`) or free text (`q`), as ranked candidates with a confidence. Public; counted in the search bucket.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use iknow_common::rules::years;
use iknow_common::{Error, FieldViolation};
use iknow_proto::catalog::v1 as pb;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::dto::{ContentRef, EpisodeAppearance, ImageSet, non_blank};
use crate::envelope::{ApiResult, ErrorResponse, Meta, RequestContext, elapsed_ms};
use crate::extract::{FromQuery, ValidQuery, get, int_param, year_range};
use crate::state::AppState;

/// Longest `title`, `character` or `q`, in characters after trimming.
pub const MAX_TEXT_CHARS: usize = 200;
/// Candidates by default and at most.
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: i64 = 50;
/// Highest season or episode number.
pub const MAX_EPISODE_NUMBER: i64 = 100_000;

/// A validated identification query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdentifyParams {
    pub title: Option<String>,
    pub character: Option<String>,
    pub year: Option<i32>,
    pub season: Option<i32>,
    pub episode: Option<i32>,
    pub q: Option<String>,
    pub limit: u32,
}

impl FromQuery for IdentifyParams {
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let get = |name: &str| get(pairs, name);
        let mut bad = Vec::new();
        let mut text = |name: &str| -> Option<String> {
            let v = get(name)?.trim();
            if v.is_empty() {
                bad.push(FieldViolation::new(name, "must not be empty"));
                None
            } else if v.chars().count() > MAX_TEXT_CHARS {
                bad.push(FieldViolation::new(name, format!("must be at most {MAX_TEXT_CHARS} characters")));
                None
            } else {
                Some(v.to_owned())
            }
        };
        let title = text("title");
        let character = text("character");
        let q = text("q");
        let given = |name: &str| get(name).is_some();
        if given("q") && given("title") {
            bad.push(FieldViolation::new("q", "give either q or title, not both"));
            bad.push(FieldViolation::new("title", "give either q or title, not both"));
        } else if !given("q") && !given("title") {
            bad.push(FieldViolation::new("q", "q or title is required"));
            bad.push(FieldViolation::new("title", "q or title is required"));
        }
        if given("q") && given("character") {
            bad.push(FieldViolation::new("character", "only with title, not with q"));
        }
        let year = int_param(pairs, "year", year_range(), years::message(), &mut bad).map(|y| y as i32);
        let mut number = |name: &str| {
            let message = format!("must be an integer from 0 to {MAX_EPISODE_NUMBER}");
            int_param(pairs, name, 0..=MAX_EPISODE_NUMBER, message, &mut bad).map(|n| n as i32)
        };
        let season = number("season");
        let episode = number("episode");
        let message = format!("must be an integer from 1 to {MAX_LIMIT}");
        let limit = int_param(pairs, "limit", 1..=MAX_LIMIT, message, &mut bad).map_or(DEFAULT_LIMIT, |n| n as u32);
        for name in ["season", "episode"] {
            if given(name) && !given("title") {
                bad.push(FieldViolation::new(name, "only with title"));
            }
        }
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { title, character, year, season, episode, q, limit })
    }
}

impl IdentifyParams {
    /// The catalogue request.
    pub fn to_proto(&self) -> pb::IdentifyRequest {
        pb::IdentifyRequest {
            title: self.title.clone().unwrap_or_default(),
            character: self.character.clone().unwrap_or_default(),
            year: self.year,
            season: self.season,
            episode: self.episode,
            q: self.q.clone().unwrap_or_default(),
            limit: self.limit,
        }
    }
}

/// Query parameters of identification (documentation of what [`IdentifyParams`] accepts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct IdentifyQuery {
    /// The title the role is in, misspelt or partial (1 to 200 characters after trimming). Either `title` or
    /// `q` is required, not both.
    #[param(min_length = 1, max_length = 200, pattern = r"\S", example = "the matrx")]
    title: Option<String>,
    /// The character played, misspelt or partial; only with `title`. Without it: the title's cast.
    #[param(min_length = 1, max_length = 200, pattern = r"\S", example = "neo")]
    character: Option<String>,
    /// Release year of the title: that year ranks first (1888 to the current year + 5).
    // `years::MIN_YEAR`; the maximum is only known at run time: `crate::openapi::document` fills it in.
    #[param(minimum = 1888)]
    year: Option<i32>,
    /// For a series: the season asked about (only with `title`).
    #[param(minimum = 0, maximum = 100000)]
    season: Option<i32>,
    /// For a series: the episode asked about (only with `title`).
    #[param(minimum = 0, maximum = 100000)]
    episode: Option<i32>,
    /// Free text instead of `title`: "who played neo in the matrix", "neo from the matrix", or an actor's name
    /// ("keanu reves").
    #[param(min_length = 1, max_length = 200, pattern = r"\S", example = "who played neo in the matrix")]
    q: Option<String>,
    /// Candidates to return (1 to 50, default 10).
    #[param(minimum = 1, maximum = 50, default = 10)]
    limit: Option<i32>,
}

/// The actor of a candidate.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifiedActor {
    pub id: String,
    pub imdb_id: String,
    pub name: String,
    /// Absolute URL of the actor's portrait; null when none.
    #[schema(required = true)]
    pub profile_image_url: Option<String>,
    /// The portrait of `profileImageUrl` in three sizes (TMDB `w185` / `h632` / `original`); null when none.
    #[schema(required = true)]
    pub photo: Option<ImageSet>,
}

/// The credit of a candidate.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifiedRole {
    /// The character played, when the source names one.
    #[schema(required = true)]
    pub role_name: Option<String>,
    /// Every character of the credit.
    pub characters: Vec<String>,
    /// Billing position (1 = top billed; 0 = unknown).
    pub credit_order: i32,
    /// A character found in a series' aggregated cast (asked by the series title): the episodes the actor is
    /// credited on (0 for a regular credited on the series alone); null otherwise.
    #[schema(required = true)]
    pub episode_count: Option<u32>,
    /// With `episodeCount`: the actor's first episode in the series.
    #[schema(required = true)]
    pub first_appearance: Option<EpisodeAppearance>,
}

/// What matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The title and the character.
    TitleCharacter,
    /// The actor's name.
    ActorName,
    /// The title alone (its cast in credit order).
    Title,
}

impl MatchedBy {
    fn from_proto(s: &str) -> Self {
        match s {
            "actor_name" => Self::ActorName,
            "title" => Self::Title,
            _ => Self::TitleCharacter,
        }
    }
}

/// One answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifyCandidate {
    pub actor: IdentifiedActor,
    /// The title the role is in (for a series regular: the episode asked about); for an actor-name match, the
    /// actor's most prominent recent credit; null when the actor has no credit.
    #[schema(required = true)]
    pub content: Option<ContentRef>,
    pub role: IdentifiedRole,
    /// 0 to 1; 1 only for an exact title and character (or name).
    #[schema(minimum = 0, maximum = 1)]
    pub confidence: f64,
    pub matched_by: MatchedBy,
}

impl IdentifyCandidate {
    fn from_proto(c: pb::IdentifyCandidate) -> Option<Self> {
        let m = c.member?;
        let in_series = c.content.as_ref().is_some_and(|r| r.content_type == pb::ContentType::Series as i32)
            && c.matched_by != "actor_name";
        Some(Self {
            actor: IdentifiedActor {
                id: m.actor_id,
                imdb_id: m.actor_imdb_id,
                name: m.actor_name,
                photo: ImageSet::profile(Some(&m.profile_image_url)),
                profile_image_url: non_blank(m.profile_image_url),
            },
            content: c.content.filter(|r| !r.id.is_empty()).map(Into::into),
            role: IdentifiedRole {
                role_name: non_blank(m.role_name),
                characters: m.characters,
                credit_order: m.credit_order,
                episode_count: in_series.then_some(m.episode_count),
                first_appearance: EpisodeAppearance::from_proto(m.first_appearance),
            },
            confidence: c.confidence.clamp(0.0, 1.0),
            matched_by: MatchedBy::from_proto(&c.matched_by),
        })
    }
}

/// How free text was read (the reading of the best candidate).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Interpretation {
    #[schema(required = true)]
    pub title: Option<String>,
    #[schema(required = true)]
    pub character: Option<String>,
    #[schema(required = true)]
    pub actor_name: Option<String>,
}

/// `meta` of identification: the usual fields, the search time, and how free text was read.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifyMeta {
    #[serde(flatten)]
    pub meta: Meta,
    /// Only for `q` with at least one candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interpretation: Option<Interpretation>,
}

/// `GET /api/v1/identify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifyResponse {
    /// Best first, each (actor, title) once.
    pub data: Vec<IdentifyCandidate>,
    pub meta: IdentifyMeta,
}

/// Who plays a character in a title, or who a free-text question names; tolerant of typos and partial names.
#[utoipa::path(
    get,
    path = "/api/v1/identify",
    tag = "identify",
    params(IdentifyQuery),
    responses(
        (status = 200, description = "Ranked candidates (empty when nothing matches)", body = IdentifyResponse),
        (status = 400, description = "`VALIDATION_ERROR`: every invalid parameter is listed", body = ErrorResponse),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorResponse),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the catalogue is down", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(free_text = params.q.is_some(), limit = params.limit))]
pub async fn identify(
    State(state): State<AppState>,
    ctx: RequestContext,
    ValidQuery(params): ValidQuery<IdentifyParams>,
) -> ApiResult<IdentifyResponse> {
    let started = Instant::now();
    let found = state.catalog.clone().identify(params.to_proto()).await?.into_inner();
    let search_time = elapsed_ms(started);
    let interpretation = (params.q.is_some() && !found.candidates.is_empty()).then(|| Interpretation {
        title: non_blank(found.title),
        character: non_blank(found.character),
        actor_name: non_blank(found.actor_name),
    });
    let data = found.candidates.into_iter().filter_map(IdentifyCandidate::from_proto).collect();
    let mut meta = Meta::new(&ctx);
    meta.search_time = Some(search_time);
    Ok(Json(IdentifyResponse { data, meta: IdentifyMeta { meta, interpretation } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<IdentifyParams, Error> {
        let pairs: Vec<(String, String)> = q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        IdentifyParams::parse(&pairs)
    }

    fn fields(q: &[(&str, &str)]) -> Vec<String> {
        let Err(Error::Validation { violations, .. }) = parse(q) else { panic!("validation error expected") };
        violations.into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn title_and_free_text_are_exclusive_and_every_bad_field_is_listed() {
        let p = parse(&[("title", " the matrx "), ("character", "neo"), ("year", "1999"), ("other", "x")]).unwrap();
        assert_eq!(
            (p.title.as_deref(), p.character.as_deref(), p.year, p.limit),
            (Some("the matrx"), Some("neo"), Some(1999), 10)
        );
        assert_eq!(parse(&[("q", "keanu reves"), ("limit", "50")]).unwrap().limit, 50);
        assert_eq!(fields(&[("q", "x"), ("title", "y")]), ["q", "title"]);
        assert_eq!(fields(&[]), ["q", "title"]);
        assert_eq!(fields(&[("title", " ")]), ["title"]);
        assert_eq!(fields(&[("q", "x"), ("character", "neo")]), ["character"]);
        assert_eq!(
            fields(&[("title", "x"), ("year", "1869"), ("season", "-1"), ("episode", "a"), ("limit", "51")]),
            ["year", "season", "episode", "limit"]
        );
        assert_eq!(fields(&[("q", "x"), ("season", "1")]), ["season"]);
        let this_year = years::max_year() - years::YEARS_AHEAD;
        for year in [years::MIN_YEAR - 1, years::max_year() + 1] {
            let Err(Error::Validation { violations, .. }) = parse(&[("title", "x"), ("year", &year.to_string())])
            else {
                panic!("{year} is refused")
            };
            assert_eq!((violations[0].field.as_str(), violations[0].message.clone()), ("year", years::message()));
        }
        assert_eq!(parse(&[("title", "x"), ("year", &(this_year + 5).to_string())]).unwrap().year, Some(this_year + 5));
        assert_eq!(fields(&[("q", &"x".repeat(201))]), ["q"]);
    }
}
