//! Pure parsing of IMDb dataset lines (tab-separated, no quoting, `\N` = null) into catalogue inputs; each
//! function returns the row or why the line is rejected.

use std::fmt;

use iknow_proto::catalog::v1::{ActorInput, ContentInput, ContentType, CreditInput, EpisodeLinkInput};

/// IMDb's null marker.
pub const NULL: &str = "\\N";

/// Why one line cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// The line does not have the file's number of tab-separated columns.
    ColumnCount { expected: usize, found: usize },
    /// A numeric column holds something else.
    NotANumber { column: &'static str, value: String },
    /// An IMDb id (`tt…`, `nm…`) is malformed.
    BadId { column: &'static str, value: String },
    /// The `characters` column is not a JSON array of strings.
    BadJson(String),
    /// A required text column is empty.
    Empty(&'static str),
    /// A title type the catalogue does not hold (video games, say).
    UnsupportedType(String),
    /// The line is not valid UTF-8.
    NotUtf8,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ColumnCount { expected, found } => write!(f, "expected {expected} columns, found {found}"),
            Self::NotANumber { column, value } => write!(f, "{column} is not a number: {value:?}"),
            Self::BadId { column, value } => write!(f, "{column} is not a valid IMDb id: {value:?}"),
            Self::BadJson(e) => write!(f, "characters is not a JSON array of strings: {e}"),
            Self::Empty(column) => write!(f, "{column} is empty"),
            Self::UnsupportedType(t) => write!(f, "unsupported title type {t:?}"),
            Self::NotUtf8 => f.write_str("line is not valid UTF-8"),
        }
    }
}

/// One line of `title.principals.tsv`, before deciding whether it is an acting credit.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The numeric part of `nconst`.
    pub person: u32,
    /// The credit as the catalogue takes it (meaningful for acting categories only).
    pub credit: CreditInput,
}

impl Principal {
    /// Actors are people whose category is actor, actress or self; other credits stay out of filmographies.
    pub fn is_acting(&self) -> bool {
        is_acting_category(&self.credit.category)
    }
}

/// `actor`, `actress` and `self` are acting categories.
pub fn is_acting_category(category: &str) -> bool {
    matches!(category, "actor" | "actress" | "self")
}

/// Whether `line` is the header of a dataset file (its first column is `tconst` or `nconst`).
pub fn is_header(line: &str) -> bool {
    line.starts_with("tconst\t") || line.starts_with("nconst\t")
}

/// Maps IMDb's `titleType` to the catalogue's content type.
pub fn content_type(title_type: &str) -> Result<ContentType, Reject> {
    match title_type {
        "movie" | "tvMovie" | "short" | "video" | "tvSpecial" => Ok(ContentType::Movie),
        "tvSeries" | "tvMiniSeries" => Ok(ContentType::Series),
        "tvEpisode" => Ok(ContentType::Episode),
        other => Err(Reject::UnsupportedType(other.to_string())),
    }
}

/// Parses the number of an IMDb id with the given prefix: `nm0000123` → 123.
pub fn imdb_number(value: &str, prefix: &str, column: &'static str) -> Result<u32, Reject> {
    let bad = || Reject::BadId { column, value: value.to_string() };
    let digits = value.strip_prefix(prefix).ok_or_else(bad)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    digits.parse().map_err(|_| bad())
}

/// Parses `nconst` (`nm…`) into its number.
pub fn nconst(value: &str) -> Result<u32, Reject> {
    imdb_number(value, "nm", "nconst")
}

fn tconst(value: &str, column: &'static str) -> Result<String, Reject> {
    imdb_number(value, "tt", column)?;
    Ok(value.to_string())
}

fn columns<const N: usize>(line: &str) -> Result<[&str; N], Reject> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let found = line.split('\t').count();
    let mut cols = [""; N];
    if found != N {
        return Err(Reject::ColumnCount { expected: N, found });
    }
    for (slot, col) in cols.iter_mut().zip(line.split('\t')) {
        *slot = col;
    }
    Ok(cols)
}

fn optional_int(value: &str, column: &'static str) -> Result<Option<i32>, Reject> {
    if value == NULL || value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| Reject::NotANumber { column, value: value.to_string() })
}

fn list(value: &str) -> Vec<String> {
    if value == NULL || value.is_empty() {
        return Vec::new();
    }
    value.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn text(value: &str, column: &'static str) -> Result<String, Reject> {
    if value == NULL || value.is_empty() {
        return Err(Reject::Empty(column));
    }
    Ok(value.to_string())
}

/// Parses the JSON array of `characters` (`["Mary","Jane"]`); `\N` is no characters.
pub fn characters(value: &str) -> Result<Vec<String>, Reject> {
    if value == NULL || value.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(value).map_err(|e| Reject::BadJson(e.to_string()))
}

/// `title.basics.tsv`: tconst, titleType, primaryTitle, originalTitle, isAdult, startYear, endYear,
/// runtimeMinutes, genres.
pub fn title(line: &str) -> Result<ContentInput, Reject> {
    let [id, kind, primary, original, adult, start, end, runtime, genres] = columns::<9>(line)?;
    let imdb_id = tconst(id, "tconst")?;
    let content_type = content_type(kind)?;
    let title = text(primary, "primaryTitle")?;
    let original_title = if original == NULL { title.clone() } else { original.to_string() };
    let is_adult = match adult {
        "1" => true,
        "0" | NULL => false,
        other => return Err(Reject::NotANumber { column: "isAdult", value: other.to_string() }),
    };
    Ok(ContentInput {
        imdb_id,
        content_type: content_type as i32,
        title,
        original_title,
        is_adult,
        year: optional_int(start, "startYear")?,
        end_year: optional_int(end, "endYear")?,
        runtime_minutes: optional_int(runtime, "runtimeMinutes")?,
        genres: list(genres),
    })
}

/// `title.episode.tsv`: tconst, parentTconst, seasonNumber, episodeNumber.
pub fn episode(line: &str) -> Result<EpisodeLinkInput, Reject> {
    let [id, parent, season, number] = columns::<4>(line)?;
    Ok(EpisodeLinkInput {
        episode_imdb_id: tconst(id, "tconst")?,
        series_imdb_id: tconst(parent, "parentTconst")?,
        season_number: optional_int(season, "seasonNumber")?,
        episode_number: optional_int(number, "episodeNumber")?,
    })
}

/// `name.basics.tsv`: nconst, primaryName, birthYear, deathYear, primaryProfession, knownForTitles.
/// Returns the number of `nconst` beside the actor so the caller can check it against the acting set.
pub fn name(line: &str) -> Result<(u32, ActorInput), Reject> {
    let [id, primary, birth, death, professions, known_for] = columns::<6>(line)?;
    let number = nconst(id)?;
    let actor = ActorInput {
        imdb_id: id.to_string(),
        name: text(primary, "primaryName")?,
        birth_year: optional_int(birth, "birthYear")?,
        death_year: optional_int(death, "deathYear")?,
        professions: list(professions),
        known_for_imdb_ids: list(known_for),
    };
    for t in &actor.known_for_imdb_ids {
        tconst(t, "knownForTitles")?;
    }
    Ok((number, actor))
}

/// `title.principals.tsv`: tconst, ordering, nconst, category, job, characters.
pub fn principal(line: &str) -> Result<Principal, Reject> {
    let [title, ordering, person, category, _job, chars] = columns::<6>(line)?;
    let content_imdb_id = tconst(title, "tconst")?;
    let credit_order = optional_int(ordering, "ordering")?.ok_or(Reject::Empty("ordering"))?;
    let number = nconst(person)?;
    let category = text(category, "category")?;
    // Crew lines are skipped, never rejected, so their characters column is not worth validating.
    let characters = if is_acting_category(&category) { characters(chars)? } else { Vec::new() };
    Ok(Principal {
        person: number,
        credit: CreditInput { actor_imdb_id: person.to_string(), content_imdb_id, category, characters, credit_order },
    })
}
