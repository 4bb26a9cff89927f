//! The labelled queries of `iknow eval identify`: film characters by title (exact, one typo, partial title,
//! free text), a misspelt actor name, and series characters by series title (alone, with the season and
//! episode of one of their episodes, and as free text).
//!
//! Labels are only kept when the data settle them: a film character's normalised text belongs to one actor of
//! the title, a title text shared by several titles is asked with its year (skipped when that does not settle
//! it), a series character is played by one person over the whole series (generic parts such as "Guard" or
//! "Bajoran Officer" played by several are left out), and a typo that lands on another name is not a typo.

use std::collections::{HashMap, HashSet};

use iknow_search::matcher;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::data::{Dataset, Kind};
use super::mutate::{self, Length, Position};
use super::{Category, EvalQuery};

/// Characters that are not roles ("Self" in a documentary).
const NOT_ROLES: &[&str] = &["self", "himself", "herself", "themselves", "narrator", "host"];

/// One answer the data settle: who plays `character` in title `title` (index into `Dataset::titles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub title: usize,
    pub character: String,
    pub actor: String,
    /// The year to ask with: several titles share this title text.
    pub year: Option<i32>,
}

/// What the labels are checked against.
pub struct Lookup {
    /// Per title: normalised character → actors playing it.
    characters: Vec<HashMap<String, HashSet<String>>>,
    /// Normalised title or original title → titles.
    titles: HashMap<String, Vec<usize>>,
}

impl Lookup {
    pub fn new(ds: &Dataset) -> Self {
        let characters = ds
            .titles
            .iter()
            .map(|t| {
                let mut by: HashMap<String, HashSet<String>> = HashMap::new();
                for c in &t.cast {
                    for ch in &c.characters {
                        let key = matcher::normalize(ch);
                        if !key.is_empty() {
                            by.entry(key).or_default().insert(c.actor.clone());
                        }
                    }
                }
                by
            })
            .collect();
        let mut titles: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in ds.titles.iter().enumerate() {
            let mut keys = vec![matcher::normalize(&t.title), matcher::normalize(&t.original)];
            keys.dedup();
            for k in keys {
                titles.entry(k).or_default().push(i);
            }
        }
        Self { characters, titles }
    }

    /// The year to ask `title` with: `None` when its text is its own, its year when that tells it apart from
    /// the titles sharing its text, `Err(())` when even the year does not.
    fn year_for(&self, ds: &Dataset, title: usize) -> Result<Option<i32>, ()> {
        let t = &ds.titles[title];
        let others = self.titles.get(&matcher::normalize(&t.title)).map_or(&[][..], Vec::as_slice);
        if others.len() <= 1 {
            return Ok(None);
        }
        let clash = others.iter().any(|&o| o != title && (ds.titles[o].year == t.year || t.year.is_none()));
        if clash { Err(()) } else { Ok(t.year) }
    }
}

fn is_role(key: &str) -> bool {
    !key.is_empty() && !NOT_ROLES.contains(&key)
}

/// Every unambiguous film label of the asked titles (movies), in file order.
pub fn film_labels(ds: &Dataset, lookup: &Lookup) -> Vec<Label> {
    let mut out = Vec::new();
    for (i, t) in ds.titles.iter().enumerate().filter(|(_, t)| t.asked && t.kind == Kind::Movie) {
        let Ok(year) = lookup.year_for(ds, i) else { continue };
        let mut done = HashSet::new();
        for c in &t.cast {
            for ch in &c.characters {
                let key = matcher::normalize(ch);
                if !is_role(&key) || !done.insert(key.clone()) {
                    continue;
                }
                if lookup.characters[i].get(&key).is_some_and(|actors| actors.len() == 1) {
                    out.push(Label { title: i, character: ch.clone(), actor: c.actor.clone(), year });
                }
            }
        }
    }
    out
}

/// A series character the data settle: played by one actor over the whole series (its own credits and its
/// episodes'), with the episodes (season, number) crediting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesLabel {
    pub series: usize,
    pub character: String,
    pub actor: String,
    pub episodes: Vec<(i32, i32)>,
    pub year: Option<i32>,
}

/// Every series label of the asked series, in file order of their first credit.
pub fn series_labels(ds: &Dataset, lookup: &Lookup) -> Vec<SeriesLabel> {
    // Per series: normalised character → (first spelling, actors, episodes of each actor).
    type Played = (String, Vec<String>, HashMap<String, Vec<(i32, i32)>>);
    let mut by_series: HashMap<usize, (Vec<String>, HashMap<String, Played>)> = HashMap::new();
    for (i, t) in ds.titles.iter().enumerate() {
        let (series, episode) = match (t.kind, t.slot) {
            (Kind::Series, _) => (i, None),
            (Kind::Episode, Some(s)) => (s.series, s.season.zip(s.number)),
            _ => continue,
        };
        if !ds.titles[series].asked {
            continue;
        }
        let (order, chars) = by_series.entry(series).or_default();
        for c in &t.cast {
            for ch in &c.characters {
                let key = matcher::normalize(ch);
                if !is_role(&key) {
                    continue;
                }
                let entry = chars.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    (ch.clone(), vec![], HashMap::new())
                });
                if !entry.1.contains(&c.actor) {
                    entry.1.push(c.actor.clone());
                }
                let eps = entry.2.entry(c.actor.clone()).or_default();
                if let Some(e) = episode.filter(|e| !eps.contains(e)) {
                    eps.push(e);
                }
            }
        }
    }
    let mut series: Vec<usize> = by_series.keys().copied().collect();
    series.sort_unstable();
    let mut out = Vec::new();
    for s in series {
        let Ok(year) = lookup.year_for(ds, s) else { continue };
        let (order, chars) = &by_series[&s];
        for key in order {
            let (spelling, actors, episodes) = &chars[key];
            if let [actor] = actors.as_slice() {
                let mut eps = episodes[actor].clone();
                eps.sort_unstable();
                out.push(SeriesLabel {
                    series: s,
                    character: spelling.clone(),
                    actor: actor.clone(),
                    episodes: eps,
                    year,
                });
            }
        }
    }
    out
}

/// A prefix of a title: its first word(s), or the title cut inside a word after at least 4 characters; `None`
/// when the title is too short to leave something identifying.
pub fn partial_title(title: &str, rng: &mut StdRng) -> Option<String> {
    let words: Vec<&str> = title.split_whitespace().collect();
    let mut options: Vec<String> = (1..words.len()).map(|k| words[..k].join(" ")).collect();
    let chars: Vec<char> = title.chars().collect();
    options.extend((4..chars.len()).filter(|&n| chars[n].is_alphanumeric()).map(|n| chars[..n].iter().collect()));
    options.retain(|p| {
        let tokens = matcher::tokens(p);
        tokens.concat().chars().count() >= 4 && tokens.iter().any(|t| t.chars().count() >= 3 && !is_minor(t))
    });
    if options.is_empty() {
        return None;
    }
    Some(options.swap_remove(rng.random_range(0..options.len())))
}

/// Whether `title` begins with the words of `prefix`, its last word maybe cut short.
fn starts_with(title: &[String], prefix: &[String]) -> bool {
    let Some((last, head)) = prefix.split_last() else { return false };
    title.len() > head.len() && title[..head.len()] == *head && title[head.len()].starts_with(last.as_str())
}

fn is_minor(token: &str) -> bool {
    matches!(token, "the" | "a" | "an" | "of" | "and" | "in" | "on" | "to" | "at" | "for" | "la" | "le" | "el" | "de")
}

fn title_params(title: String, character: String, year: Option<i32>) -> Vec<(&'static str, String)> {
    let mut p = vec![("title", title), ("character", character)];
    if let Some(y) = year {
        p.push(("year", y.to_string()));
    }
    p
}

fn query(category: Category, params: Vec<(&'static str, String)>, actor: &str) -> EvalQuery {
    EvalQuery { category, params, expected: vec![actor.to_owned()], word_exact: false }
}

/// The query set: at most `max` queries per category, the same for the same seed.
pub fn queries(ds: &Dataset, max: usize, seed: u64) -> Vec<EvalQuery> {
    let mut rng = StdRng::seed_from_u64(seed);
    let lookup = Lookup::new(ds);
    let mut labels = film_labels(ds, &lookup);
    labels.shuffle(&mut rng);
    let mut out = Vec::new();

    // Exact and free text: the labels as they are.
    for l in labels.iter().take(max) {
        let t = &ds.titles[l.title];
        out.push(query(Category::FilmExact, title_params(t.title.clone(), l.character.clone(), l.year), &l.actor));
    }
    let mut free = labels.clone();
    free.shuffle(&mut rng);
    for l in free.iter().take(max) {
        let t = &ds.titles[l.title];
        let year = l.year.map(|y| format!(" ({y})")).unwrap_or_default();
        let q = format!("who played {} in {}{year}?", l.character, t.title);
        out.push(query(Category::FilmFreeText, vec![("q", q)], &l.actor));
    }

    // One typo in the character or the title (whichever was drawn, else the other).
    let mut typos = labels.clone();
    typos.shuffle(&mut rng);
    let mut n = 0;
    for l in &typos {
        if n == max {
            break;
        }
        let t = &ds.titles[l.title];
        let on_character = rng.random_bool(0.5);
        let try_character = |rng: &mut StdRng| {
            let edited = mutate::typo(&l.character, Position::Any, Length::Any, rng)?;
            // Landing on another character of the title is not a typo.
            (!lookup.characters[l.title].contains_key(&matcher::normalize(&edited))).then(|| (t.title.clone(), edited))
        };
        let try_title = |rng: &mut StdRng| {
            let edited = mutate::typo(&t.title, Position::Any, Length::Any, rng)?;
            (!lookup.titles.contains_key(&matcher::normalize(&edited))).then(|| (edited, l.character.clone()))
        };
        let made = if on_character {
            try_character(&mut rng).or_else(|| try_title(&mut rng))
        } else {
            try_title(&mut rng).or_else(|| try_character(&mut rng))
        };
        let Some((title, character)) = made else { continue };
        out.push(query(Category::FilmTypo, title_params(title, character, l.year), &l.actor));
        n += 1;
    }

    // Partial titles with the exact character, unless a title at least as near the prefix has that character
    // too ("Ali & A" is as near "Ali" as "Ali & Ava").
    let tokens: Vec<Vec<String>> = ds.titles.iter().map(|t| matcher::tokens(&t.title)).collect();
    let mut partial = labels.clone();
    partial.shuffle(&mut rng);
    let mut n = 0;
    for l in &partial {
        if n == max {
            break;
        }
        let t = &ds.titles[l.title];
        let Some(prefix) = partial_title(&t.title, &mut rng) else { continue };
        let p = matcher::tokens(&prefix);
        let key = matcher::normalize(&l.character);
        let own = matcher::similarity(&p, &tokens[l.title]);
        let clash = (0..tokens.len()).any(|i| {
            i != l.title
                && lookup.characters[i].contains_key(&key)
                && (matcher::similarity(&p, &tokens[i]) >= own || starts_with(&tokens[i], &p))
        });
        if clash {
            continue;
        }
        out.push(query(Category::FilmPartial, vec![("title", prefix), ("character", l.character.clone())], &l.actor));
        n += 1;
    }

    // Misspelt names of asked actors whose name is theirs alone.
    let mut name_count: HashMap<String, usize> = HashMap::new();
    for name in ds.names.values() {
        *name_count.entry(matcher::normalize(name)).or_default() += 1;
    }
    let mut actors = ds.asked_actors();
    actors.shuffle(&mut rng);
    let mut n = 0;
    for a in actors {
        if n == max {
            break;
        }
        let name = &ds.names[a];
        if name_count.get(&matcher::normalize(name)) != Some(&1) {
            continue;
        }
        let Some(edited) = mutate::typo(name, Position::Any, Length::Any, &mut rng) else { continue };
        if name_count.contains_key(&matcher::normalize(&edited)) {
            continue;
        }
        out.push(query(Category::ActorNameTypo, vec![("q", edited)], a));
        n += 1;
    }

    // Series characters, by series title alone, with one of their episodes, and as free text.
    let mut series = series_labels(ds, &lookup);
    series.shuffle(&mut rng);
    for l in series.iter().take(max) {
        let title = ds.titles[l.series].title.clone();
        out.push(query(Category::SeriesCharacter, title_params(title, l.character.clone(), l.year), &l.actor));
    }
    let mut with_episode = series.clone();
    with_episode.shuffle(&mut rng);
    for l in with_episode.iter().filter(|l| !l.episodes.is_empty()).take(max) {
        let (season, episode) = l.episodes[rng.random_range(0..l.episodes.len())];
        let mut params = title_params(ds.titles[l.series].title.clone(), l.character.clone(), l.year);
        params.extend([("season", season.to_string()), ("episode", episode.to_string())]);
        out.push(query(Category::SeriesEpisode, params, &l.actor));
    }
    series.shuffle(&mut rng);
    for l in series.iter().take(max) {
        let q = format!("who played {} in {}?", l.character, ds.titles[l.series].title);
        out.push(query(Category::SeriesFreeText, vec![("q", q)], &l.actor));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::data::{Slot, Title};
    use super::*;

    fn movie(id: &str, name: &str, year: i32, cast: &[(&str, &[&str])]) -> Title {
        Title::new(id, name, Some(year), Kind::Movie, cast)
    }

    fn episode(id: &str, series: usize, season: i32, number: i32, cast: &[(&str, &[&str])]) -> Title {
        let mut t = Title::new(id, &format!("Episode {season}x{number}"), Some(1995), Kind::Episode, cast);
        t.slot = Some(Slot { series, season: Some(season), number: Some(number) });
        t
    }

    fn dataset(titles: Vec<Title>) -> Dataset {
        Dataset { titles, names: (1..=20).map(|i| (format!("nm{i}"), format!("Person Number{i}"))).collect() }
    }

    #[test]
    fn only_unambiguous_film_labels_are_kept() {
        let ds = dataset(vec![
            // Two actors play "Isi": no label for Isi.
            movie("tt1", "Heat", 1995, &[("nm1", &["Maya"]), ("nm2", &["Isi"]), ("nm3", &["Isi"]), ("nm4", &["Self"])]),
            // Shares its title with the first in another year: asked with the year.
            movie("tt2", "Heat", 1986, &[("nm5", &["Nick"])]),
            // Share title and year: no label at all.
            movie("tt3", "Twins", 2000, &[("nm6", &["Julius"])]),
            movie("tt4", "Twins", 2000, &[("nm7", &["Vincent"])]),
        ]);
        let got: Vec<(usize, String, Option<i32>)> =
            film_labels(&ds, &Lookup::new(&ds)).into_iter().map(|l| (l.title, l.character, l.year)).collect();
        assert_eq!(got, [(0, "Maya".into(), Some(1995)), (1, "Nick".into(), Some(1986))]);
        let qs = queries(&ds, 10, 1);
        assert!(
            qs.iter().all(|q| q.expected == ["nm1"] || q.expected == ["nm5"] || q.category == Category::ActorNameTypo)
        );
        assert_eq!(qs, queries(&ds, 10, 1), "deterministic");
    }

    #[test]
    fn series_characters_come_from_every_episode_and_generic_parts_are_left_out() {
        let series = Title::new("tt10", "Deep Space Test", Some(1993), Kind::Series, &[("nm1", &["Odo"])]);
        let ds = dataset(vec![
            series,
            episode("tt11", 0, 4, 1, &[("nm2", &["Garak"]), ("nm3", &["Guard"]), ("nm1", &["Odo"])]),
            episode("tt12", 0, 5, 3, &[("nm2", &["Elim Garak", "Garak"]), ("nm4", &["Guard"])]),
            // An episode of a series the data do not ask about.
            {
                let mut t = episode("tt21", 4, 1, 1, &[("nm5", &["Kirk"])]);
                t.asked = false;
                t
            },
            {
                let mut t = Title::new("tt20", "Other Show", Some(1966), Kind::Series, &[]);
                t.asked = false;
                t
            },
        ]);
        let labels = series_labels(&ds, &Lookup::new(&ds));
        let got: Vec<String> = labels.iter().map(|l| format!("{} {} {:?}", l.character, l.actor, l.episodes)).collect();
        assert_eq!(got, ["Odo nm1 [(4, 1)]", "Garak nm2 [(4, 1), (5, 3)]", "Elim Garak nm2 [(5, 3)]"]);

        let qs = queries(&ds, 10, 7);
        let of = |c: Category| qs.iter().filter(|q| q.category == c).collect::<Vec<_>>();
        assert_eq!(of(Category::SeriesCharacter).len(), 3);
        for q in of(Category::SeriesCharacter) {
            assert_eq!(q.params[0], ("title", "Deep Space Test".to_string()));
        }
        let with_episode = of(Category::SeriesEpisode);
        assert_eq!(with_episode.len(), 3);
        for q in with_episode {
            let get = |k: &str| q.params.iter().find(|(n, _)| *n == k).map(|(_, v)| v.parse::<i32>().unwrap());
            let l =
                labels.iter().find(|l| [l.actor.clone()] == q.expected[..] && q.params[1].1 == l.character).unwrap();
            assert!(l.episodes.contains(&(get("season").unwrap(), get("episode").unwrap())), "{q:?}");
        }
        assert!(of(Category::SeriesFreeText).iter().all(|q| q.params[0].1.ends_with(" in Deep Space Test?")));
        assert_eq!(qs, queries(&ds, 10, 7), "deterministic");
    }

    #[test]
    fn another_seed_draws_other_queries_and_each_category_is_capped() {
        let films = ["Heat Wave", "Cold Front", "Blue Moon", "Red River", "Green Mile", "Gray Area"];
        let titles = films
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (a, b) = (format!("nm{}", 2 * i + 1), format!("nm{}", 2 * i + 2));
                movie(
                    &format!("tt{i}"),
                    f,
                    2000,
                    &[(a.as_str(), &["Alpha Character"][..]), (b.as_str(), &["Beta Character"][..])],
                )
            })
            .collect();
        let ds = dataset(titles);
        let (one, two) = (queries(&ds, 2, 1), queries(&ds, 2, 2));
        assert_ne!(one, two, "another seed, another sample");
        for c in Category::IDENTIFY {
            assert!(one.iter().filter(|q| q.category == c).count() <= 2, "{c:?}");
        }
        assert_eq!(one.iter().filter(|q| q.category == Category::FilmExact).count(), 2);
        assert!(one.iter().all(|q| ds.names.contains_key(&q.expected[0])), "every answer is a known person");
        assert!(queries(&ds, 0, 1).is_empty());
    }

    #[test]
    fn partial_titles_keep_something_identifying() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            let p = partial_title("The Matrix Reloaded", &mut rng).unwrap();
            assert!("The Matrix Reloaded".starts_with(&p) && p.len() < "The Matrix Reloaded".len(), "{p}");
            assert_ne!(p.trim(), "The");
        }
        assert_eq!(partial_title("Up", &mut rng), None);
    }
}
