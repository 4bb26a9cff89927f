//! The parts of TMDB v3 answers the jobs read. Every field is optional or defaulted: TMDB sends `null` for
//! much of what it does not know, and a field missing from a compatible server must not fail the job.

use serde::Deserialize;

/// `GET /person/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Person {
    pub id: u64,
    pub name: Option<String>,
    pub imdb_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    pub deathday: Option<String>,
    /// 0 not set, 1 female, 2 male, 3 non-binary.
    pub gender: Option<u8>,
    pub known_for_department: Option<String>,
    /// Relative to TMDB's image base (`https://image.tmdb.org/t/p/original{profile_path}`).
    pub profile_path: Option<String>,
    /// Plain text; `""` when TMDB has none.
    pub biography: Option<String>,
}

/// `GET /person/{id}/combined_credits` (crew is not read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CombinedCredits {
    pub cast: Vec<PersonCredit>,
}

/// One acting credit of a person: a movie (`title`, `release_date`) or a series (`name`, `first_air_date`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonCredit {
    pub id: u64,
    /// `movie` or `tv`.
    pub media_type: Option<String>,
    pub title: Option<String>,
    pub name: Option<String>,
    pub character: Option<String>,
    /// Billing position, 0 first (movies only).
    pub order: Option<i32>,
    pub popularity: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Genre {
    pub name: Option<String>,
}

/// `GET /movie/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Movie {
    pub id: u64,
    pub imdb_id: Option<String>,
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub release_date: Option<String>,
    pub runtime: Option<i32>,
    pub adult: Option<bool>,
    pub genres: Vec<Genre>,
    /// Relative to TMDB's image base, as `profile_path`.
    pub poster_path: Option<String>,
    pub overview: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExternalIds {
    pub imdb_id: Option<String>,
}

/// `GET /tv/{id}?append_to_response=external_ids`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Tv {
    pub id: u64,
    pub name: Option<String>,
    pub original_name: Option<String>,
    pub first_air_date: Option<String>,
    pub last_air_date: Option<String>,
    /// `Returning Series`, `Ended`, `Canceled`, …
    pub status: Option<String>,
    pub episode_run_time: Vec<i32>,
    pub adult: Option<bool>,
    pub genres: Vec<Genre>,
    pub external_ids: Option<ExternalIds>,
    pub poster_path: Option<String>,
    pub overview: Option<String>,
}

/// `GET /movie/{id}/credits`, `GET /tv/{id}/credits` (crew is not read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Credits {
    pub cast: Vec<CastMember>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CastMember {
    pub id: u64,
    pub name: Option<String>,
    pub character: Option<String>,
    pub order: Option<i32>,
    pub gender: Option<u8>,
}

/// `GET /find/{imdb_id}?external_source=imdb_id`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Find {
    pub person_results: Vec<Found>,
    pub movie_results: Vec<Found>,
    pub tv_results: Vec<Found>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Found {
    pub id: u64,
}
