//! TMDB answers → the catalogue's `UpsertBatch` inputs. The catalogue keys actors and titles by IMDb id, so
//! only what TMDB gives an IMDb id for can be written; the callers count the rest as skipped.
//!
//! What the inputs have no field for is left out: photos (`profile_path`, `poster_path`), biographies,
//! popularity. Dates become years (`release_date`/`first_air_date` → year; a series that ended or was
//! cancelled gets the year of `last_air_date` as its end year).

use iknow_proto::catalog::v1::{ActorInput, ContentInput, ContentType, CreditInput};

use super::model::{Movie, Person, Tv};

/// Longest IMDb id the catalogue takes.
const MAX_IMDB_CHARS: usize = 20;

/// `prefix` (`nm` or `tt`) followed by digits, as IMDb numbers people and titles.
pub fn is_imdb_id(id: &str, prefix: &str) -> bool {
    id.len() <= MAX_IMDB_CHARS
        && id
            .strip_prefix(prefix)
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The IMDb id TMDB gives, when it is one (TMDB sends `null` or `""` when it has none).
pub fn imdb_id(id: Option<&str>, prefix: &str) -> Option<String> {
    id.map(str::trim).filter(|id| is_imdb_id(id, prefix)).map(str::to_owned)
}

/// The year of a `YYYY-MM-DD` date (`""` and `null` are no date).
pub fn year(date: Option<&str>) -> Option<i32> {
    date.and_then(|d| d.get(..4)).and_then(|y| y.parse().ok()).filter(|y| (1800..=2200).contains(y))
}

/// TMDB's character text as the catalogue's list: "Thomas A. Anderson / Neo" → both names.
pub fn characters(character: Option<&str>) -> Vec<String> {
    character.unwrap_or_default().split(" / ").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect()
}

/// `self` for people playing themselves, else `actress` or `actor` by TMDB's gender (1 female).
pub fn category(gender: Option<u8>, characters: &[String]) -> &'static str {
    let playing_self = characters.iter().any(|c| {
        let c = c.to_lowercase();
        ["self", "himself", "herself", "themselves", "themself"].iter().any(|word| {
            c.strip_prefix(word).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '(', '-', ',']))
        })
    });
    match (playing_self, gender) {
        (true, _) => "self",
        (false, Some(1)) => "actress",
        (false, _) => "actor",
    }
}

/// TMDB's department as an IMDb-style profession.
fn profession(department: &str, gender: Option<u8>) -> Option<&'static str> {
    match department {
        "Acting" if gender == Some(1) => Some("actress"),
        "Acting" => Some("actor"),
        "Directing" => Some("director"),
        "Writing" => Some("writer"),
        "Production" => Some("producer"),
        _ => None,
    }
}

/// The person as an actor. `acted`: TMDB lists acting credits for them (so they are an actor or actress
/// whatever their main department); `known_for`: IMDb ids of their best-known titles.
pub fn actor(person: &Person, imdb_id: String, acted: bool, known_for: Vec<String>) -> ActorInput {
    let mut professions: Vec<String> = Vec::new();
    if let Some(p) = person.known_for_department.as_deref().and_then(|d| profession(d, person.gender)) {
        professions.push(p.to_owned());
    }
    if acted && !professions.iter().any(|p| p == "actor" || p == "actress") {
        professions.insert(0, profession("Acting", person.gender).unwrap_or("actor").to_owned());
    }
    ActorInput {
        imdb_id,
        name: person.name.clone().unwrap_or_default(),
        birth_year: year(person.birthday.as_deref()),
        death_year: year(person.deathday.as_deref()),
        professions,
        known_for_imdb_ids: known_for,
    }
}

fn genres(genres: &[super::model::Genre]) -> Vec<String> {
    genres.iter().filter_map(|g| g.name.clone()).filter(|g| !g.is_empty()).collect()
}

pub fn movie(m: &Movie, imdb_id: String) -> ContentInput {
    let title = m.title.clone().unwrap_or_default();
    ContentInput {
        imdb_id,
        content_type: ContentType::Movie as i32,
        original_title: m.original_title.clone().unwrap_or_else(|| title.clone()),
        title,
        is_adult: m.adult.unwrap_or(false),
        year: year(m.release_date.as_deref()),
        end_year: None,
        runtime_minutes: m.runtime.filter(|r| *r > 0),
        genres: genres(&m.genres),
    }
}

pub fn tv(t: &Tv, imdb_id: String) -> ContentInput {
    let title = t.name.clone().unwrap_or_default();
    let ended = matches!(t.status.as_deref(), Some("Ended" | "Canceled" | "Cancelled"));
    ContentInput {
        imdb_id,
        content_type: ContentType::Series as i32,
        original_title: t.original_name.clone().unwrap_or_else(|| title.clone()),
        title,
        is_adult: t.adult.unwrap_or(false),
        year: year(t.first_air_date.as_deref()),
        end_year: if ended { year(t.last_air_date.as_deref()) } else { None },
        runtime_minutes: t.episode_run_time.first().copied().filter(|r| *r > 0),
        genres: genres(&t.genres),
    }
}

/// One acting credit; TMDB's `order` counts from 0, the catalogue's billing from 1 (0 = unknown).
pub fn credit(
    actor: &str,
    content: &str,
    gender: Option<u8>,
    character: Option<&str>,
    order: Option<i32>,
) -> CreditInput {
    let characters = characters(character);
    CreditInput {
        actor_imdb_id: actor.to_owned(),
        content_imdb_id: content.to_owned(),
        category: category(gender, &characters).to_owned(),
        characters,
        credit_order: order.filter(|o| *o >= 0).map_or(0, |o| o.saturating_add(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imdb_ids_dates_and_characters() {
        assert!(is_imdb_id("nm0000158", "nm"));
        assert!(!is_imdb_id("nm", "nm"));
        assert!(!is_imdb_id("tt0000158", "nm"));
        assert!(!is_imdb_id("nm12a", "nm"));
        assert!(!is_imdb_id(&format!("nm{}", "1".repeat(19)), "nm"));
        assert_eq!(imdb_id(Some(""), "tt"), None);
        assert_eq!(imdb_id(None, "tt"), None);
        assert_eq!(year(Some("1994-06-23")), Some(1994));
        assert_eq!(year(Some("")), None);
        assert_eq!(characters(Some("Thomas A. Anderson / Neo")), vec!["Thomas A. Anderson", "Neo"]);
        assert!(characters(Some("")).is_empty());
    }

    #[test]
    fn categories_and_billing() {
        assert_eq!(category(Some(1), &["Jenny".into()]), "actress");
        assert_eq!(category(Some(2), &["Forrest".into()]), "actor");
        assert_eq!(category(Some(0), &[]), "actor");
        assert_eq!(category(Some(2), &["Himself".into()]), "self");
        assert_eq!(category(Some(1), &["Self - Host".into()]), "self");
        assert_eq!(category(Some(2), &["Himself (voice)".into()]), "self");
        assert_eq!(category(Some(2), &["Selfridge".into()]), "actor");
        let c = credit("nm1", "tt1", Some(2), Some("Forrest Gump"), Some(0));
        assert_eq!((c.credit_order, c.category.as_str()), (1, "actor"));
        assert_eq!(credit("nm1", "tt1", None, None, None).credit_order, 0);
    }

    #[test]
    fn an_ended_series_has_an_end_year() {
        let t = Tv {
            name: Some("The Office".into()),
            first_air_date: Some("2005-03-24".into()),
            last_air_date: Some("2013-05-16".into()),
            status: Some("Ended".into()),
            episode_run_time: vec![22],
            ..Tv::default()
        };
        let c = tv(&t, "tt0386676".into());
        assert_eq!((c.year, c.end_year, c.runtime_minutes), (Some(2005), Some(2013), Some(22)));
        assert_eq!(c.content_type, ContentType::Series as i32);
        let running = Tv { status: Some("Returning Series".into()), ..t };
        assert_eq!(super::tv(&running, "tt1".into()).end_year, None);
    }

    #[test]
    fn a_person_who_acts_is_an_actor_whatever_their_department() {
        let p = Person {
            name: Some("Jane".into()),
            gender: Some(1),
            known_for_department: Some("Directing".into()),
            ..Person::default()
        };
        assert_eq!(actor(&p, "nm1".into(), true, vec![]).professions, vec!["actress", "director"]);
        assert_eq!(actor(&p, "nm1".into(), false, vec![]).professions, vec!["director"]);
    }
}
