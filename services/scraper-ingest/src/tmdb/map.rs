//! TMDB answers → the catalogue's `UpsertBatch` inputs (sent with source `api`, so the catalogue takes the
//! TMDB-owned columns from them and keeps IMDb's names and years). The catalogue keys actors and titles by
//! IMDb id, so only what TMDB gives an IMDb id for can be written; the callers count the rest as skipped.
//!
//! A person brings their TMDB id, birthday and deathday (as `YYYY-MM-DD` dates, and as years), biography and
//! photo; a title its TMDB id, overview and poster. Photos and posters are TMDB paths (`/abc.jpg`) made full
//! URLs under `tmdb_image_base_url`. A malformed date or an empty text is left out rather than sent, so the
//! catalogue never rejects a whole row for it. Release dates become years (`release_date`/`first_air_date` →
//! year; a series that ended or was cancelled gets the year of `last_air_date` as its end year). TMDB's
//! popularity is not read: the catalogue computes its own.

use iknow_common::rules::years;
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

/// The year of a `YYYY-MM-DD` birth or death date (`""` and `null` are no date), when it is from 1800 to 2200.
pub fn year(date: Option<&str>) -> Option<i32> {
    date.and_then(|d| d.get(..4)).and_then(|y| y.parse().ok()).filter(|y| (1800..=2200).contains(y))
}

/// The year of a title's `YYYY-MM-DD` release date, when a title can have it ([`years`]).
pub fn release_year(date: Option<&str>) -> Option<i32> {
    year(date).filter(|y| years::is_valid(*y))
}

/// The date of a TMDB `YYYY-MM-DD` field, when it is one (TMDB sends `""` or `null` when it has none).
pub fn date(date: Option<&str>) -> Option<String> {
    let d = date?.trim();
    let shaped = d.len() == 10
        && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    (shaped && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()).then(|| d.to_owned())
}

/// The full URL of a TMDB image path (`/abc.jpg`) under `base` (`tmdb_image_base_url`); an absolute http(s)
/// URL (a mirror may send one) is kept. Nothing for no path, or when `base` is not an http(s) URL (the
/// catalogue would refuse the row).
pub fn image_url(base: &str, path: Option<&str>) -> Option<String> {
    let path = path?.trim();
    let absolute = |s: &str| {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        lower.starts_with("https://") || lower.starts_with("http://")
    };
    let base = base.trim().trim_end_matches('/');
    match path {
        "" => None,
        p if absolute(p) => Some(p.to_owned()),
        _ if !absolute(base) => None,
        p => Some(format!("{base}/{}", p.trim_start_matches('/'))),
    }
}

/// Non-blank text, trimmed.
fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// TMDB's id as the catalogue's (`int4`, positive).
fn tmdb_id(id: u64) -> Option<i32> {
    i32::try_from(id).ok().filter(|id| *id > 0)
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
/// whatever their main department); `known_for`: IMDb ids of their best-known titles; `images`: the image
/// base URL. `complete_filmography` is the caller's to set.
pub fn actor(person: &Person, imdb_id: String, acted: bool, known_for: Vec<String>, images: &str) -> ActorInput {
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
        tmdb_id: tmdb_id(person.id),
        birth_date: date(person.birthday.as_deref()),
        death_date: date(person.deathday.as_deref()),
        biography: text(person.biography.as_deref()),
        profile_image_url: image_url(images, person.profile_path.as_deref()),
        complete_filmography: false,
    }
}

fn genres(genres: &[super::model::Genre]) -> Vec<String> {
    genres.iter().filter_map(|g| g.name.clone()).filter(|g| !g.is_empty()).collect()
}

/// A movie as a title; `complete_cast` is the caller's to set.
pub fn movie(m: &Movie, imdb_id: String, images: &str) -> ContentInput {
    let title = m.title.clone().unwrap_or_default();
    ContentInput {
        imdb_id,
        content_type: ContentType::Movie as i32,
        original_title: m.original_title.clone().unwrap_or_else(|| title.clone()),
        title,
        is_adult: m.adult.unwrap_or(false),
        year: release_year(m.release_date.as_deref()),
        end_year: None,
        runtime_minutes: m.runtime.filter(|r| *r > 0),
        genres: genres(&m.genres),
        tmdb_id: tmdb_id(m.id),
        overview: text(m.overview.as_deref()),
        poster_url: image_url(images, m.poster_path.as_deref()),
        complete_cast: false,
    }
}

/// A series as a title; `complete_cast` is the caller's to set.
pub fn tv(t: &Tv, imdb_id: String, images: &str) -> ContentInput {
    let title = t.name.clone().unwrap_or_default();
    let ended = matches!(t.status.as_deref(), Some("Ended" | "Canceled" | "Cancelled"));
    ContentInput {
        imdb_id,
        content_type: ContentType::Series as i32,
        original_title: t.original_name.clone().unwrap_or_else(|| title.clone()),
        title,
        is_adult: t.adult.unwrap_or(false),
        year: release_year(t.first_air_date.as_deref()),
        end_year: if ended { release_year(t.last_air_date.as_deref()) } else { None },
        runtime_minutes: t.episode_run_time.first().copied().filter(|r| *r > 0),
        genres: genres(&t.genres),
        tmdb_id: tmdb_id(t.id),
        overview: text(t.overview.as_deref()),
        poster_url: image_url(images, t.poster_path.as_deref()),
        complete_cast: false,
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

    const IMAGES: &str = "https://image.example/t/p/w500";

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
        assert_eq!(year(Some("1850-01-01")), Some(1850));
        assert_eq!(release_year(Some("1850-01-01")), None);
        assert_eq!(release_year(Some("1994-06-23")), Some(1994));
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
        let c = tv(&t, "tt0386676".into(), IMAGES);
        assert_eq!((c.year, c.end_year, c.runtime_minutes), (Some(2005), Some(2013), Some(22)));
        assert_eq!(c.content_type, ContentType::Series as i32);
        let running = Tv { status: Some("Returning Series".into()), ..t };
        assert_eq!(super::tv(&running, "tt1".into(), IMAGES).end_year, None);
    }

    #[test]
    fn a_person_who_acts_is_an_actor_whatever_their_department() {
        let p = Person {
            name: Some("Jane".into()),
            gender: Some(1),
            known_for_department: Some("Directing".into()),
            ..Person::default()
        };
        assert_eq!(actor(&p, "nm1".into(), true, vec![], IMAGES).professions, vec!["actress", "director"]);
        assert_eq!(actor(&p, "nm1".into(), false, vec![], IMAGES).professions, vec!["director"]);
    }

    #[test]
    fn a_person_brings_dates_a_biography_and_a_photo() {
        let p = Person {
            id: 31,
            name: Some("Tom Hanks".into()),
            birthday: Some("1956-07-09".into()),
            deathday: Some("".into()),
            biography: Some("  Thomas Jeffrey Hanks is an American actor.\n".into()),
            profile_path: Some("/xndWFsBlClOJFRdhSt4NBwiPq2o.jpg".into()),
            ..Person::default()
        };
        let a = actor(&p, "nm0000158".into(), true, vec![], "https://image.tmdb.org/t/p/original/");
        assert_eq!((a.tmdb_id, a.birth_year, a.birth_date.as_deref()), (Some(31), Some(1956), Some("1956-07-09")));
        assert_eq!(a.death_date, None);
        assert_eq!(a.biography.as_deref(), Some("Thomas Jeffrey Hanks is an American actor."));
        assert_eq!(
            a.profile_image_url.as_deref(),
            Some("https://image.tmdb.org/t/p/original/xndWFsBlClOJFRdhSt4NBwiPq2o.jpg")
        );
        let silent = Person { biography: Some(" ".into()), profile_path: None, ..p };
        let a = actor(&silent, "nm0000158".into(), true, vec![], IMAGES);
        assert_eq!((a.biography, a.profile_image_url), (None, None));
    }

    #[test]
    fn dates_and_image_urls() {
        assert_eq!(date(Some("1994-06-23")).as_deref(), Some("1994-06-23"));
        for bad in ["", "1994", "1994-6-23", "1994-02-30", "23/06/1994"] {
            assert_eq!(date(Some(bad)), None, "{bad}");
        }
        assert_eq!(image_url(IMAGES, Some("/p.jpg")).as_deref(), Some("https://image.example/t/p/w500/p.jpg"));
        assert_eq!(image_url("http://mirror:8080/img", Some("p.jpg")).as_deref(), Some("http://mirror:8080/img/p.jpg"));
        assert_eq!(image_url(IMAGES, Some("https://cdn.example/p.jpg")).as_deref(), Some("https://cdn.example/p.jpg"));
        assert_eq!(image_url(IMAGES, Some("")), None);
        assert_eq!(image_url(IMAGES, None), None);
        assert_eq!(image_url("", Some("/p.jpg")), None, "no usable base: no URL");
        let m = Movie {
            id: 13,
            title: Some("Forrest Gump".into()),
            overview: Some("Life is like a box of chocolates.".into()),
            poster_path: Some("/p.jpg".into()),
            ..Movie::default()
        };
        let c = movie(&m, "tt0109830".into(), IMAGES);
        assert_eq!((c.tmdb_id, c.overview.as_deref()), (Some(13), Some("Life is like a box of chocolates.")));
        assert_eq!(c.poster_url.as_deref(), Some("https://image.example/t/p/w500/p.jpg"));
    }
}
