//! Pure parsing of IMDb dataset lines (tab-separated, no quoting, `\N` = null) into catalogue inputs; each
//! function returns the row or why the line is rejected.

use std::fmt;

use iknow_proto::catalog::v1::{
    ActorInput, AkaInput, ContentInput, ContentType, CreditInput, EpisodeLinkInput, RatingInput,
};

/// IMDb's null marker.
pub const NULL: &str = "\\N";

/// Why one line cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// The line does not have the file's number of tab-separated columns.
    ColumnCount { expected: usize, found: usize },
    /// A numeric column holds something else.
    NotANumber { column: &'static str, value: String },
    /// A number outside what the column allows (a rating above 10, say).
    OutOfRange { column: &'static str, value: String },
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
            Self::OutOfRange { column, value } => write!(f, "{column} is out of range: {value:?}"),
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

/// Whether `line` is the header of a dataset file (its first column is `tconst`, `nconst` or, in
/// `title.akas`, `titleId`).
pub fn is_header(line: &str) -> bool {
    line.starts_with("tconst\t") || line.starts_with("nconst\t") || line.starts_with("titleId\t")
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
        ..ContentInput::default()
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
        ..ActorInput::default()
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

/// `title.ratings.tsv`: tconst, averageRating (0..=10), numVotes.
pub fn rating(line: &str) -> Result<RatingInput, Reject> {
    let [id, average, votes] = columns::<3>(line)?;
    let content_imdb_id = tconst(id, "tconst")?;
    let not_a_number = |column, value: &str| Reject::NotANumber { column, value: value.to_string() };
    let average_rating: f64 = average.parse().map_err(|_| not_a_number("averageRating", average))?;
    if !(0.0..=10.0).contains(&average_rating) {
        // NaN lands here too: it is in no range.
        return Err(Reject::OutOfRange { column: "averageRating", value: average.to_string() });
    }
    // Digits only: `u32::from_str` would take "+5".
    if votes.is_empty() || !votes.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_number("numVotes", votes));
    }
    let num_votes = votes.parse().map_err(|_| Reject::OutOfRange { column: "numVotes", value: votes.to_string() })?;
    Ok(RatingInput { content_imdb_id, average_rating, num_votes })
}

/// `title.akas.tsv`: titleId, ordering, title, region, language, types, attributes, isOriginalTitle. Types
/// are an array (IMDb separates its elements by `\x02`; a comma is taken too); attributes are not kept.
pub fn aka(line: &str) -> Result<AkaInput, Reject> {
    let [id, ordering, title, region, language, types, _attributes, original] = columns::<8>(line)?;
    let optional = |value: &str| if value == NULL { String::new() } else { value.to_string() };
    let is_original = match original {
        "1" => true,
        "0" | NULL => false,
        other => return Err(Reject::NotANumber { column: "isOriginalTitle", value: other.to_string() }),
    };
    Ok(AkaInput {
        content_imdb_id: tconst(id, "titleId")?,
        ordering: optional_int(ordering, "ordering")?.ok_or(Reject::Empty("ordering"))?,
        title: text(title, "title")?,
        region: optional(region),
        language: optional(language),
        types: if types == NULL {
            Vec::new()
        } else {
            types.split(['\u{2}', ',']).filter(|t| !t.is_empty()).map(str::to_string).collect()
        },
        is_original,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_lines() {
        let r = rating("tt0000001\t5.8\t1472\r\n").unwrap();
        assert_eq!((r.content_imdb_id.as_str(), r.average_rating, r.num_votes), ("tt0000001", 5.8, 1472));
        assert_eq!(rating("tt0000002\t10\t0").unwrap().average_rating, 10.0);
        assert!(is_header("tconst\taverageRating\tnumVotes"));
    }

    #[test]
    fn rating_rejections() {
        assert_eq!(rating("tt1\t5.8"), Err(Reject::ColumnCount { expected: 3, found: 2 }));
        assert_eq!(rating("tt1\t5.8\t1\t2"), Err(Reject::ColumnCount { expected: 3, found: 4 }));
        assert!(matches!(rating("nm1\t5.8\t1"), Err(Reject::BadId { column: "tconst", .. })));
        let nan = |column, value: &str| Err(Reject::NotANumber { column, value: value.into() });
        assert_eq!(rating("tt1\tgood\t1"), nan("averageRating", "good"));
        assert_eq!(rating("tt1\t\\N\t1"), nan("averageRating", "\\N"));
        assert_eq!(rating("tt1\t5.8\tmany"), nan("numVotes", "many"));
        assert_eq!(rating("tt1\t5.8\t-3"), nan("numVotes", "-3"));
        assert_eq!(rating("tt1\t5.8\t+3"), nan("numVotes", "+3"));
        assert_eq!(rating("tt1\t5.8\t"), nan("numVotes", ""));
        let range = |column, value: &str| Err(Reject::OutOfRange { column, value: value.into() });
        assert_eq!(rating("tt1\t10.1\t1"), range("averageRating", "10.1"));
        assert_eq!(rating("tt1\t-1\t1"), range("averageRating", "-1"));
        assert_eq!(rating("tt1\tNaN\t1"), range("averageRating", "NaN"));
        assert_eq!(rating("tt1\t5\t99999999999"), range("numVotes", "99999999999"));
        assert_eq!(
            Reject::OutOfRange { column: "averageRating", value: "11".into() }.to_string(),
            "averageRating is out of range: \"11\""
        );
    }

    #[test]
    fn aka_lines_with_nulls_and_arrays() {
        let a = aka("tt0000001\t1\tCarmencita - spanyol tánc\tHU\t\\N\timdbDisplay\t\\N\t0").unwrap();
        assert_eq!(
            (a.content_imdb_id.as_str(), a.ordering, a.title.as_str()),
            ("tt0000001", 1, "Carmencita - spanyol tánc")
        );
        assert_eq!((a.region.as_str(), a.language.as_str(), a.is_original), ("HU", "", false));
        assert_eq!(a.types, ["imdbDisplay"]);
        let o = aka("tt0000001\t7\tCarmencita\t\\N\t\\N\toriginal\t\\N\t1\n").unwrap();
        assert!(o.is_original);
        assert_eq!((o.region.as_str(), o.types.as_slice()), ("", ["original".to_string()].as_slice()));
        let many = aka("tt0000002\t3\tLe Clown\tFR\tfr\talternative\u{2}tv\tliteral title\t\\N").unwrap();
        assert_eq!(
            (many.language.as_str(), many.types.as_slice(), many.is_original),
            ("fr", ["alternative".to_string(), "tv".to_string()].as_slice(), false)
        );
        assert!(aka("tt0000002\t4\tX\t\\N\t\\N\t\\N\t\\N\t0").unwrap().types.is_empty());
        assert!(is_header("titleId\tordering\ttitle\tregion\tlanguage\ttypes\tattributes\tisOriginalTitle"));
    }

    #[test]
    fn aka_rejections() {
        assert_eq!(aka("tt1\t1\tX\tDE"), Err(Reject::ColumnCount { expected: 8, found: 4 }));
        assert!(matches!(aka("x1\t1\tX\tDE\tde\t\\N\t\\N\t0"), Err(Reject::BadId { column: "titleId", .. })));
        assert_eq!(
            aka("tt1\tfirst\tX\tDE\tde\t\\N\t\\N\t0"),
            Err(Reject::NotANumber { column: "ordering", value: "first".into() })
        );
        assert_eq!(aka("tt1\t\\N\tX\tDE\tde\t\\N\t\\N\t0"), Err(Reject::Empty("ordering")));
        assert_eq!(aka("tt1\t1\t\\N\tDE\tde\t\\N\t\\N\t0"), Err(Reject::Empty("title")));
        assert_eq!(
            aka("tt1\t1\tX\tDE\tde\t\\N\t\\N\tyes"),
            Err(Reject::NotANumber { column: "isOriginalTitle", value: "yes".into() })
        );
    }
}
