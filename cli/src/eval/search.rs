//! The queries of `iknow eval search`: the names of the asked actors, exact and mutated (see
//! [`super::mutate`]), each asked through `GET /api/v1/actors/search`. A query counts as right when the first
//! result's normalised name is the intended actor's (a namesake is as good). A mutated query that is exactly
//! another catalogued name, or a cut name that another catalogued name also begins with, is left out.

use std::collections::{HashMap, HashSet};

use iknow_search::matcher;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::data::Dataset;
use super::mutate::{self, Length, Position};
use super::{Category, EvalQuery};

/// The search categories, in table order.
pub const CATEGORIES: [Category; 14] = [
    Category::Exact,
    Category::LowerCase,
    Category::WordOrder,
    Category::TypoFirst,
    Category::TypoMiddle,
    Category::TypoLast,
    Category::TypoShortWord,
    Category::TypoLongWord,
    Category::TwoTypos,
    Category::MovedSpace,
    Category::Merged,
    Category::Prefix,
    Category::AccentRemoved,
    Category::AccentAdded,
];

fn mutation(category: Category, name: &str, rng: &mut StdRng) -> Option<String> {
    match category {
        Category::Exact => Some(name.to_owned()),
        Category::LowerCase => mutate::lower(name),
        Category::WordOrder => mutate::last_word_first(name),
        Category::TypoFirst => mutate::typo(name, Position::First, Length::Any, rng),
        Category::TypoMiddle => mutate::typo(name, Position::Middle, Length::Any, rng),
        Category::TypoLast => mutate::typo(name, Position::Last, Length::Any, rng),
        Category::TypoShortWord => mutate::typo(name, Position::Any, Length::Short, rng),
        Category::TypoLongWord => mutate::typo(name, Position::Any, Length::Long, rng),
        Category::TwoTypos => mutate::two_typos(name, rng),
        Category::MovedSpace => mutate::moved_space(name, rng),
        Category::Merged => mutate::merged(name, rng),
        Category::Prefix => mutate::prefix(name, rng),
        Category::AccentRemoved => mutate::without_accents(name),
        Category::AccentAdded => mutate::with_accent(name, rng),
        _ => None,
    }
}

/// Whether a name (`tokens`) holds every word of `cut` but the last, and another word beginning with the last.
fn answers(tokens: &[String], cut: &[String]) -> bool {
    let Some((last, head)) = cut.split_last() else { return false };
    let mut rest: Vec<&str> = tokens.iter().map(String::as_str).collect();
    for h in head {
        let Some(i) = rest.iter().position(|t| t == h) else { return false };
        rest.swap_remove(i);
    }
    rest.iter().any(|t| t.starts_with(last.as_str()))
}

/// The query set: at most `max` queries per category, the same for the same seed.
pub fn queries(ds: &Dataset, max: usize, seed: u64) -> Vec<EvalQuery> {
    let catalogued: HashSet<String> = ds.names.values().map(|n| matcher::normalize(n)).collect();
    // Catalogued names (as tokens) by each of their tokens, for the cut-name check.
    let tokenised: Vec<Vec<String>> = catalogued.iter().map(|n| matcher::tokens(n)).collect();
    let mut by_token: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, tokens) in tokenised.iter().enumerate() {
        for t in tokens {
            by_token.entry(t.as_str()).or_default().push(i);
        }
    }
    // Each asked name once (namesakes are one query), in file order.
    let mut seen = HashSet::new();
    let names: Vec<&str> = ds
        .asked_actors()
        .into_iter()
        .filter_map(|a| ds.names.get(a).map(String::as_str))
        .filter(|n| seen.insert(matcher::normalize(n)))
        .collect();
    let mut out = Vec::new();
    for (k, category) in CATEGORIES.into_iter().enumerate() {
        // One stream per category: adding a category does not change the others' queries.
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(k as u64));
        let mut order = names.clone();
        order.shuffle(&mut rng);
        let mut n = 0;
        for name in order {
            if n == max {
                break;
            }
            let Some(q) = mutation(category, name, &mut rng) else { continue };
            let (intended, asked) = (matcher::normalize(name), matcher::normalize(&q));
            if asked.is_empty() || (asked != intended && catalogued.contains(&asked)) {
                continue;
            }
            // A cut name another name also answers, in any word order, is a guess: "kate mar" is Kate Mara
            // as much as Mary Kate Campbell.
            if category == Category::Prefix {
                let p = matcher::tokens(&q);
                let clash = by_token.get(p[0].as_str()).is_some_and(|names| {
                    names.iter().any(|&i| tokenised[i].join(" ") != intended && answers(&tokenised[i], &p))
                });
                if clash {
                    continue;
                }
            }
            // A typo in a one-word name ("frpd") asks for every Fred.
            if category.is_typo() && matcher::tokens(name).len() < 2 {
                continue;
            }
            let words: HashSet<String> = matcher::tokens(name).into_iter().collect();
            let word_exact = matcher::tokens(&q).iter().any(|t| words.contains(t));
            out.push(EvalQuery { category, params: vec![("q", q)], expected: vec![intended], word_exact });
            n += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::data::{Kind, Title};
    use super::*;

    fn dataset(names: &[&str], others: &[&str]) -> Dataset {
        let cast: Vec<(String, [&str; 1])> = (0..names.len()).map(|i| (format!("nm{i}"), ["Someone"])).collect();
        let cast: Vec<(&str, &[&str])> = cast.iter().map(|(a, c)| (a.as_str(), &c[..])).collect();
        let mut names_by: HashMap<String, String> =
            names.iter().enumerate().map(|(i, n)| (format!("nm{i}"), (*n).to_owned())).collect();
        names_by.extend(others.iter().enumerate().map(|(i, n)| (format!("nm9{i}"), (*n).to_owned())));
        Dataset { titles: vec![Title::new("tt1", "Film", Some(2000), Kind::Movie, &cast)], names: names_by }
    }

    #[test]
    fn every_category_mutates_as_named_and_the_set_is_deterministic() {
        let ds = dataset(&["Ray Liotta", "Zoë Saldaña", "Sam Neill", "Mark Allen Shepherd", "Tom Hanks"], &[]);
        let qs = queries(&ds, 100, 42);
        assert_eq!(qs, queries(&ds, 100, 42), "the same seed, the same queries");
        let of = |c: Category| qs.iter().filter(move |q| q.category == c);
        assert_eq!(of(Category::Exact).count(), 5);
        assert!(of(Category::Exact).all(|q| q.word_exact));
        for q in of(Category::TypoFirst) {
            let (name, asked) = (&q.expected[0], &q.params[0].1);
            let (a, b): (Vec<String>, Vec<String>) = (matcher::tokens(name), matcher::tokens(asked));
            let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            assert_eq!(changed.len(), 1, "{q:?}");
            assert_ne!(a[changed[0]].chars().next(), b[changed[0]].chars().next(), "{q:?}");
            assert!(q.word_exact || a.len() == 1, "the other words are exact: {q:?}");
        }
        for q in of(Category::Merged) {
            assert_eq!(q.params[0].1.split(' ').count() + 1, q.expected[0].split(' ').count(), "{q:?}");
        }
        // Only the accented name has its accents taken away; only the others get one.
        let removed: Vec<&str> = of(Category::AccentRemoved).map(|q| q.params[0].1.as_str()).collect();
        assert_eq!(removed, ["Zoe Saldana"]);
        assert_eq!(of(Category::AccentAdded).count(), 4);
        assert!(of(Category::AccentAdded).all(|q| !q.params[0].1.is_ascii()));
        for q in of(Category::TwoTypos) {
            assert_eq!(mutate::distance(&q.expected[0], &q.params[0].1), Some(2), "{q:?}");
        }
    }

    #[test]
    fn another_seed_draws_other_queries_and_each_category_is_capped() {
        let names = ["Ray Liotta", "Zoe Saldana", "Sam Neill", "Mark Allen Shepherd", "Tom Hanks", "Nana Visitor"];
        let ds = dataset(&names, &[]);
        let (one, two) = (queries(&ds, 3, 1), queries(&ds, 3, 2));
        assert_ne!(one, two, "another seed, another sample");
        for c in CATEGORIES {
            assert!(one.iter().filter(|q| q.category == c).count() <= 3, "{c:?}");
        }
        assert_eq!(one.iter().filter(|q| q.category == Category::Exact).count(), 3);
        assert!(queries(&ds, 0, 1).is_empty());
        // Namesakes are asked once.
        let twice = dataset(&["Tom Hanks", "Tom Hanks"], &[]);
        assert_eq!(queries(&twice, 10, 1).iter().filter(|q| q.category == Category::Exact).count(), 1);
    }

    #[test]
    fn a_cut_name_is_ambiguous_when_another_name_has_its_words_in_any_order() {
        let t = |s: &str| matcher::tokens(s);
        assert!(answers(&t("Mary Kate Campbell"), &t("Kate Mar")));
        assert!(answers(&t("Kate Mara"), &t("Kate Mar")));
        assert!(!answers(&t("Jean Michel"), &t("Michel Mic")), "one word cannot answer two");
        assert!(!answers(&t("Kate Winslet"), &t("Kate Mar")));
    }

    #[test]
    fn queries_that_are_another_name_are_left_out() {
        // "Tom Hank" is another catalogued person: neither a typo nor a cut of "Tom Hanks" may be it, and a
        // cut that "Hankinson Tom" also answers is ambiguous.
        let ds = dataset(&["Tom Hanks"], &["Tom Hank", "Hankinson Tom"]);
        for seed in 0..50 {
            for q in queries(&ds, 10, seed) {
                assert_ne!(matcher::normalize(&q.params[0].1), "tom hank", "{q:?}");
                assert_ne!(q.category, Category::Prefix, "{q:?}");
            }
        }
    }
}
