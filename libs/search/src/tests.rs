//! Unit tests of the matching rules, ranking, filters, sorting and paging.

use std::collections::HashMap;

use crate::word_query::FirstLetter;
use crate::*;

/// Realistic names and distractors with popularity; id derived from the position.
const PEOPLE: &[(&str, f64)] = &[
    ("Tom Hanks", 95.0),
    ("Tom Hardy", 85.0),
    ("Tom Hankins", 20.0),
    ("Tim Hanks", 15.0),
    ("Tom Holland", 80.0),
    ("Tom Cruise", 90.0),
    ("Tom Hiddleston", 75.0),
    ("Colin Hanks", 40.0),
    ("Keanu Reeves", 90.0),
    ("Keanu Reyes", 5.0),
    ("George Reeves", 30.0),
    ("Scarlett Johansson", 92.0),
    ("Scarlett Johnson", 10.0),
    ("Dwayne Johnson", 88.0),
    ("Penélope Cruz", 80.0),
    ("Penelope Ann Miller", 30.0),
    ("Conan O'Brien", 60.0),
    ("Jean-Luc Godard", 50.0),
    ("Chris Evans", 90.0),
    ("Chris Evens", 1.0),
    ("Chris Pratt", 80.0),
    ("Chris Pine", 70.0),
    ("Christopher Walken", 85.0),
    ("Christina Ricci", 60.0),
];

fn id(i: usize) -> Uuid {
    Uuid::from_u128(i as u128 + 1)
}

fn person(i: usize, name: &str, popularity: f64) -> Doc {
    Doc { id: id(i), name: name.into(), alt_names: vec![], popularity, year: None, kinds: vec![], years: vec![] }
}

struct Fixture {
    index: NameIndex,
    names: HashMap<Uuid, String>,
}

impl Fixture {
    fn people() -> Self {
        Self::with(PEOPLE.iter().enumerate().map(|(i, (n, p))| person(i, n, *p)).collect())
    }

    fn with(docs: Vec<Doc>) -> Self {
        let index = NameIndex::new().unwrap();
        let names = docs.iter().map(|d| (d.id, d.name.clone())).collect();
        index.upsert(docs).unwrap();
        Self { index, names }
    }

    fn run(&self, q: &Query) -> (Vec<String>, u64) {
        let hits = self.index.search(q).unwrap();
        (hits.ids.iter().map(|id| self.names[id].clone()).collect(), hits.total)
    }

    fn names(&self, text: &str) -> Vec<String> {
        self.run(&Query { text: text.into(), limit: 20, ..Default::default() }).0
    }

    /// One search path only: fuzzy matches anchored on first letters or not, no retry.
    fn anchored(&self, text: &str, first: FirstLetter) -> Hits {
        let words = crate::analyzer::tokens(&mut crate::analyzer::analyzer(), text);
        let q = Query { text: text.into(), limit: 20, ..Default::default() };
        self.index.search_words(&q, &words, first).unwrap()
    }

    fn first(&self, text: &str) -> String {
        self.names(text).into_iter().next().unwrap_or_else(|| panic!("no hit for {text:?}"))
    }
}

#[test]
fn case_insensitive() {
    let f = Fixture::people();
    assert_eq!(f.first("TOM HANKS"), "Tom Hanks");
    assert_eq!(f.first("tOm hAnKs"), "Tom Hanks");
}

#[test]
fn accent_insensitive_both_ways() {
    let f = Fixture::people();
    assert_eq!(f.first("penelope cruz"), "Penélope Cruz");
    let hits = f.names("Penélope");
    assert!(hits.contains(&"Penelope Ann Miller".to_string()), "{hits:?}");
    assert!(hits.contains(&"Penélope Cruz".to_string()), "{hits:?}");
}

#[test]
fn word_order_does_not_matter() {
    let f = Fixture::people();
    assert_eq!(f.first("hanks tom"), "Tom Hanks");
    assert_eq!(f.first("johansson scarlett"), "Scarlett Johansson");
}

#[test]
fn last_word_is_a_prefix() {
    let f = Fixture::people();
    assert_eq!(f.first("scarlett joh"), "Scarlett Johansson");
    assert_eq!(f.first("tom h"), "Tom Hanks");
    let hits = f.names("tom h");
    for name in ["Tom Hardy", "Tom Holland", "Tom Hiddleston", "Tom Hankins"] {
        assert!(hits.contains(&name.to_string()), "{name} missing from {hits:?}");
    }
    assert!(!hits.contains(&"Tom Cruise".to_string()));
    // Only the last word is a prefix: a cut word elsewhere matches nothing, so it only ranks (relaxed pass).
    assert_eq!(f.first("sca johansson"), "Scarlett Johansson");
}

#[test]
fn one_or_two_typos_find_the_right_person_first() {
    let f = Fixture::people();
    for (query, expected) in [
        ("tom hnks", "Tom Hanks"),
        ("tom hanx", "Tom Hanks"),
        ("tom hansk", "Tom Hanks"),
        ("keanu reves", "Keanu Reeves"),
        ("keanu reevs", "Keanu Reeves"),
        ("scarlet johanson", "Scarlett Johansson"),
        ("scarlett johannson", "Scarlett Johansson"),
        ("christopher walkne", "Christopher Walken"),
        ("hiddelston", "Tom Hiddleston"),
    ] {
        assert_eq!(f.first(query), expected, "query {query:?}: {:?}", f.names(query));
    }
}

#[test]
fn typos_are_not_tolerated_in_the_first_letter_or_in_short_words() {
    let f = Fixture::people();
    // Anchoring fuzzy matches on the first letter keeps the dictionary walk small (the unanchored retry aside).
    assert_eq!(f.anchored("beanu reeves", FirstLetter::Exact), Hits { ids: vec![], total: 0 });
    // Words of up to three letters must be exact (else "tom" would match "tim", "tam", "ton"...).
    assert!(!f.names("tom hanks").contains(&"Tim Hanks".to_string()));
    assert_eq!(f.first("tim hanks"), "Tim Hanks");
    // The relaxed pass (nothing matched every word) allows one edit in "rom", and "hanks" pins the name down.
    assert_eq!(f.names("rom hanks")[0], "Tom Hanks");
}

/// The people plus names one first letter away from others ("banks" / "hanks").
fn people_and_first_letter_neighbours() -> Fixture {
    let extra = [("Tom Banks", 30.0), ("Sean Bean", 70.0), ("Tyra Banks", 60.0)];
    let all = PEOPLE.iter().chain(&extra);
    Fixture::with(all.enumerate().map(|(i, (n, p))| person(i, n, *p)).collect())
}

#[test]
fn a_typo_in_a_first_letter_is_found_by_the_unanchored_retry() {
    let f = people_and_first_letter_neighbours();
    for (query, expected) in [
        ("beanu reeves", "Keanu Reeves"),
        ("keanu beeves", "Keanu Reeves"),
        ("tom ganks", "Tom Hanks"),
        ("ceanu reevs", "Keanu Reeves"),
        ("dcarlett johansson", "Scarlett Johansson"),
        ("christopher qalken", "Christopher Walken"),
        ("jiddleston", "Tom Hiddleston"),
    ] {
        assert_eq!(f.first(query), expected, "query {query:?}: {:?}", f.names(query));
    }
    // Same distance rules as anchored matching: "reyes" is two typos from "reeves", one from "reves". Names
    // matching both words come first, then those matching one of them (the relaxed pass).
    let (names, total) = f.run(&Query { text: "beanu reeves".into(), limit: 20, ..Default::default() });
    assert_eq!(names[..2], ["Keanu Reeves", "George Reeves"]);
    assert_eq!(total, names.len() as u64, "{names:?}");
    let (names, _) = f.run(&Query { text: "beanu reves".into(), limit: 20, ..Default::default() });
    assert_eq!(names[..2], ["Keanu Reeves", "Keanu Reyes"]);
    let count = f.index.search(&Query { text: "beanu reves".into(), limit: 0, ..Default::default() }).unwrap();
    assert_eq!(count.total, names.len() as u64);
}

/// The people plus short names, for the relaxed pass.
fn people_with_short_names() -> Fixture {
    let extra = [
        ("Ed Harris", 60.0),
        ("Ed Helms", 50.0),
        ("Jet Li", 70.0),
        ("Lucy Liu", 65.0),
        ("Ian Holm", 60.0),
        ("Uma Thurman", 80.0),
        ("Amy Adams", 80.0),
        ("Amy Poehler", 70.0),
        ("Bryce Dallas Howard", 60.0),
    ];
    let all = PEOPLE.iter().chain(&extra);
    Fixture::with(all.enumerate().map(|(i, (n, p))| person(i, n, *p)).collect())
}

#[test]
fn a_typo_in_a_short_word_or_a_first_letter_leaves_the_other_words_to_find_the_name() {
    let f = people_with_short_names();
    for (query, expected) in [
        // A word of two or three letters with one typo, the rest exact.
        ("ef harris", "Ed Harris"),
        ("ia holm", "Ian Holm"),
        ("amu adams", "Amy Adams"),
        ("jet lu", "Jet Li"),
        ("harris ef", "Ed Harris"),
        // The first letter.
        ("oma thurman", "Uma Thurman"),
        ("ucy liu", "Lucy Liu"),
        ("tom ganks", "Tom Hanks"),
        // Two typos in a long word and one in a short one.
        ("brice dalas howard", "Bryce Dallas Howard"),
    ] {
        assert_eq!(f.first(query), expected, "query {query:?}: {:?}", f.names(query));
    }
}

#[test]
fn a_moved_or_missing_space_is_matched_against_the_name_without_spaces() {
    let f = people_with_short_names();
    for (query, expected) in [
        ("tomhanks", "Tom Hanks"),
        ("umathurman", "Uma Thurman"),
        ("um athurman", "Uma Thurman"),
        ("lucyl iu", "Lucy Liu"),
        ("keanureeves", "Keanu Reeves"),
        ("scarlettjohanson", "Scarlett Johansson"),
        ("tomhan", "Tom Hanks"),
    ] {
        assert_eq!(f.first(query), expected, "query {query:?}: {:?}", f.names(query));
    }
}

#[test]
fn a_word_that_matches_exactly_never_leaves_the_page_empty() {
    let f = people_with_short_names();
    // No name has every word; the names with the exact word come, those with more matched words first.
    let hits = f.names("tom nobody");
    let toms = hits.iter().take_while(|n| n.starts_with("Tom ")).count();
    assert_eq!(toms, 6, "the exact word first, then one typo away: {hits:?}");
    assert_eq!(hits[toms..], ["Tim Hanks"]);
    let hits = f.names("amy adams nobody");
    assert_eq!(hits[0], "Amy Adams", "{hits:?}");
    assert_eq!(hits[1], "Amy Poehler", "{hits:?}");
    // Filters still apply in the relaxed pass, and counting agrees with the page.
    let q = Query { text: "ed nobody".into(), limit: 20, ..Default::default() };
    let hits = f.index.search(&q).unwrap();
    assert_eq!(hits.total, hits.ids.len() as u64);
    assert!(hits.total >= 2);
    // Nothing close to any word stays empty.
    assert!(f.names("zzzz qqqq").is_empty());
}

#[test]
fn the_retry_does_not_change_queries_with_anchored_matches() {
    let f = people_and_first_letter_neighbours();
    // Unanchored, "hanks" would also match "banks" and the reverse; anchored matches exist, so no retry.
    assert_eq!(f.names("tom hanks"), ["Tom Hanks", "Tom Hankins"]);
    assert_eq!(f.names("tom banks"), ["Tom Banks"]);
    assert!(f.anchored("tom hanks", FirstLetter::Relaxed).ids.len() > 2);
    // Every query with an anchored match returns exactly the anchored path's page and total.
    for query in ["tom hanks", "tom h", "hanks", "keanu reves", "chris evens", "scarlet johanson", "sean", "banks"] {
        let q = Query { text: query.into(), limit: 20, ..Default::default() };
        let anchored = f.anchored(query, FirstLetter::Exact);
        assert!(anchored.total > 0, "{query}");
        assert_eq!(f.index.search(&q).unwrap(), anchored, "{query}");
    }
}

#[test]
fn exact_full_name_ranks_above_fuzzy_matches() {
    let f = Fixture::people();
    // Chris Evans is far more popular, but the query is exactly Chris Evens.
    assert_eq!(f.names("chris evens")[..2], ["Chris Evens", "Chris Evans"]);
    assert_eq!(f.first("chris evans"), "Chris Evans");
    assert_eq!(f.first("tom hardy"), "Tom Hardy");
    assert_eq!(f.first("keanu reyes"), "Keanu Reyes");
}

#[test]
fn equal_relevance_ranks_by_popularity() {
    let f = Fixture::people();
    let hits = f.names("chris");
    // Exact "chris" first by popularity, then the completions ("christopher", "christina").
    assert_eq!(hits[..4], ["Chris Evans", "Chris Pratt", "Chris Pine", "Chris Evens"]);
    assert_eq!(hits.len(), 6);
    let hanks = f.names("hanks");
    assert_eq!(hanks[..3], ["Tom Hanks", "Colin Hanks", "Tim Hanks"]);
}

#[test]
fn every_word_must_match() {
    let f = Fixture::people();
    let hits = f.names("tom hanks");
    assert_eq!(hits[0], "Tom Hanks");
    for name in ["Tom Hardy", "Tom Cruise", "Tom Holland", "Tim Hanks", "Colin Hanks"] {
        assert!(!hits.contains(&name.to_string()), "{name} should not match: {hits:?}");
    }
}

#[test]
fn apostrophes_hyphens_and_dots_are_tolerated() {
    let f = Fixture::people();
    for query in ["o'brien", "obrien", "O’Brien", "conan o'brien", "conan obrien"] {
        assert_eq!(f.first(query), "Conan O'Brien", "{query}");
    }
    for query in ["jean-luc", "jean luc godard", "jean-luc godard", "Jean.Luc"] {
        assert_eq!(f.first(query), "Jean-Luc Godard", "{query}");
    }
}

#[test]
fn invalid_and_empty_queries() {
    let f = Fixture::people();
    let q = |text: &str| Query { text: text.into(), limit: 10, ..Default::default() };
    assert!(matches!(f.index.search(&q("")), Err(SearchError::InvalidQuery(_))));
    assert!(matches!(f.index.search(&q("   ")), Err(SearchError::InvalidQuery(_))));
    assert!(matches!(f.index.search(&q(&"a".repeat(101))), Err(SearchError::InvalidQuery(_))));
    assert!(f.index.search(&q(&"a".repeat(100))).is_ok());
    assert_eq!(f.index.search(&q("?!")).unwrap(), Hits { ids: vec![], total: 0 });
    let deep = Query { offset: MAX_WINDOW, ..q("tom") };
    assert!(matches!(f.index.search(&deep), Err(SearchError::InvalidQuery(_))));
}

#[test]
fn total_is_exact_and_pages_are_consistent() {
    let docs: Vec<Doc> = (0..300).map(|i| person(i, &format!("Anna Smith{i}"), (i % 100) as f64)).collect();
    let f = Fixture::with(docs);
    let all = f.run(&Query { text: "anna".into(), limit: 300, ..Default::default() });
    assert_eq!(all.1, 300);
    assert_eq!(all.0.len(), 300);
    let mut paged = Vec::new();
    for page in 0..15 {
        let (names, total) = f.run(&Query { text: "anna".into(), limit: 20, offset: page * 20, ..Default::default() });
        assert_eq!(total, 300);
        paged.extend(names);
    }
    assert_eq!(paged, all.0);
    let count_only = f.index.search(&Query { text: "anna".into(), limit: 0, ..Default::default() }).unwrap();
    assert_eq!(count_only, Hits { ids: vec![], total: 300 });
    let past_end = f.run(&Query { text: "anna".into(), limit: 20, offset: 400, ..Default::default() });
    assert_eq!(past_end, (vec![], 300));
}

#[test]
fn many_matches_use_the_dense_path_and_agree_with_ranking() {
    // 3,000 Johns among 4,000 docs: "john" matches far more than max_doc / 64 postings.
    let mut docs: Vec<Doc> = (0..3000).map(|i| person(i, &format!("John Doe{i}"), (i % 50) as f64)).collect();
    docs.extend((3000..4000).map(|i| person(i, &format!("Mary Roe{i}"), 1.0)));
    docs.push(person(5000, "John Malkovich", 99.0));
    docs.push(person(5001, "Johnny Depp", 100.0));
    let f = Fixture::with(docs);
    let (names, total) = f.run(&Query { text: "john".into(), limit: 3, ..Default::default() });
    assert_eq!(total, 3002);
    assert_eq!(names[0], "John Malkovich");
    assert_eq!(f.first("john malkovich"), "John Malkovich");
    assert_eq!(f.first("johm malkovich"), "John Malkovich");
    assert_eq!(f.first("malkovich j"), "John Malkovich");
    assert_eq!(f.run(&Query { text: "m".into(), limit: 1, ..Default::default() }).1, 1001);
}

fn title(i: usize, name: &str, alt: &[&str], kind: Kind, year: Option<i32>, popularity: f64) -> Doc {
    Doc {
        id: id(i),
        name: name.into(),
        alt_names: alt.iter().map(|s| s.to_string()).collect(),
        popularity,
        year,
        kinds: vec![kind],
        years: year.into_iter().collect(),
    }
}

fn titles() -> Fixture {
    Fixture::with(vec![
        title(0, "Amélie", &["Le Fabuleux Destin d'Amélie Poulain"], Kind::Movie, Some(2001), 70.0),
        title(1, "The Office", &[], Kind::Series, Some(2005), 90.0),
        title(2, "The Office", &[], Kind::Series, Some(2001), 60.0),
        title(3, "Office Space", &[], Kind::Movie, Some(1999), 50.0),
        title(4, "The Office Christmas Party", &[], Kind::Episode, Some(2005), 10.0),
        title(5, "Back Office", &[], Kind::Movie, None, 5.0),
        title(6, "Destiny", &["Destin"], Kind::Movie, Some(1990), 20.0),
    ])
}

#[test]
fn alternative_names_match_with_lower_weight() {
    let f = titles();
    assert_eq!(f.first("fabuleux destin"), "Amélie");
    assert_eq!(f.first("amelie"), "Amélie");
    // "Destiny" has the exact alternative name "Destin"; Amélie only contains the word.
    assert_eq!(f.first("destin"), "Destiny");
    assert_eq!(f.names("destin").len(), 2);
}

#[test]
fn filters_apply_before_counting() {
    let f = titles();
    let q = |kind, year| Query { text: "office".into(), kind, year, limit: 10, ..Default::default() };
    assert_eq!(f.run(&q(None, None)).1, 5);
    let (names, total) = f.run(&q(Some(Kind::Series), None));
    assert_eq!((names, total), (vec!["The Office".to_string(), "The Office".to_string()], 2));
    assert_eq!(f.run(&q(Some(Kind::Movie), None)).1, 2);
    assert_eq!(f.run(&q(None, Some(2005))).1, 2);
    assert_eq!(f.run(&q(Some(Kind::Episode), Some(2005))), (vec!["The Office Christmas Party".to_string()], 1));
    assert_eq!(f.run(&q(Some(Kind::Episode), Some(1999))), (vec![], 0));
}

#[test]
fn sorting_by_name_popularity_and_year() {
    let f = titles();
    let q = |sort_by, sort_order| Query { text: "office".into(), sort_by, sort_order, limit: 10, ..Default::default() };
    let names = |q| f.run(&q).0;
    assert_eq!(
        names(q(SortBy::Name, SortOrder::Asc)),
        ["Back Office", "Office Space", "The Office", "The Office", "The Office Christmas Party"]
    );
    assert_eq!(
        names(q(SortBy::Name, SortOrder::Desc)),
        ["The Office Christmas Party", "The Office", "The Office", "Office Space", "Back Office"]
    );
    assert_eq!(
        names(q(SortBy::Popularity, SortOrder::Desc)),
        ["The Office", "The Office", "Office Space", "The Office Christmas Party", "Back Office"]
    );
    assert_eq!(names(q(SortBy::Popularity, SortOrder::Asc))[0], "Back Office");
    let by_year = |order| f.index.search(&q(SortBy::Year, order)).unwrap().ids;
    assert_eq!(by_year(SortOrder::Desc), [id(1), id(4), id(2), id(3), id(5)]);
    // Without a year comes last either way.
    assert_eq!(by_year(SortOrder::Asc), [id(3), id(2), id(1), id(4), id(5)]);
    // Relevance ignores the order: best first.
    assert_eq!(names(q(SortBy::Relevance, SortOrder::Asc))[0], "The Office");
}

#[test]
fn upsert_replaces_and_remove_deletes() {
    let f = Fixture::people();
    assert_eq!(f.index.len(), PEOPLE.len() as u64);
    let hanks = id(0);
    f.index.upsert(vec![person(0, "Thomas Hanks", 95.0)]).unwrap();
    assert_eq!(f.index.len(), PEOPLE.len() as u64);
    let hits = f.index.search(&Query { text: "thomas hanks".into(), limit: 5, ..Default::default() }).unwrap();
    assert_eq!((hits.ids[0], hits.total), (hanks, 1));
    let old = f.index.search(&Query { text: "tom hanks".into(), limit: 5, ..Default::default() }).unwrap();
    assert!(!old.ids.contains(&hanks));
    // The same id twice in one batch keeps the last.
    f.index.upsert(vec![person(0, "A B", 1.0), person(0, "Tom Hanks", 95.0)]).unwrap();
    assert_eq!(f.index.len(), PEOPLE.len() as u64);
    assert_eq!(f.first("tom hanks"), "Tom Hanks");
    f.index.remove(&[hanks, Uuid::from_u128(999_999)]).unwrap();
    assert_eq!(f.index.len(), PEOPLE.len() as u64 - 1);
    let gone = f.index.search(&Query { text: "tom hanks".into(), limit: 5, ..Default::default() }).unwrap();
    assert!(!gone.ids.contains(&hanks));
    let empty = NameIndex::new().unwrap();
    assert!(empty.is_empty());
    assert_eq!(empty.search(&Query { text: "tom".into(), limit: 5, ..Default::default() }).unwrap().total, 0);
}

#[test]
fn compaction_merges_every_segment_and_keeps_every_doc() {
    let index = NameIndex::new().unwrap();
    // One or two segments per commit (two indexing threads), fewer than the eight the merge policy waits for.
    for batch in 0..2 {
        let docs = (batch * 25..batch * 25 + 25).map(|i| person(i, &format!("Name{i} Person"), 1.0)).collect();
        index.upsert(docs).unwrap();
    }
    index.upsert(vec![person(3, "Renamed Person", 1.0)]).unwrap();
    let segments = index.segment_count();
    assert!(segments >= 2, "{segments} segments");
    assert!(index.compaction_due(1, Duration::ZERO));
    assert!(!index.compaction_due(1, Duration::from_secs(3600)), "not while writes are recent");
    assert!(!index.compaction_due(segments, Duration::ZERO), "not at or below the threshold");

    assert!(index.compact().unwrap());
    assert_eq!((index.segment_count(), index.len()), (1, 50));
    assert!(!index.compact().unwrap(), "nothing left to merge");
    let find = |q: &str| index.search(&Query { text: q.into(), limit: 5, ..Default::default() }).unwrap();
    assert_eq!(find("renamed person").ids[0], id(3));
    assert!(!find("name3 person").ids.contains(&id(3)), "the replaced doc stays deleted");
    assert_eq!(find("name49 person").ids[0], id(49));
}

#[test]
fn exact_finds_only_whole_names_and_alternative_names() {
    let f = titles();
    let names =
        |text: &str| -> Vec<String> { f.index.exact(text, 10).unwrap().iter().map(|id| f.names[id].clone()).collect() };
    // Both namesakes, the more popular first.
    assert_eq!(names("the office"), ["The Office", "The Office"]);
    assert_eq!(f.index.exact("THE OFFICE", 10).unwrap()[0], id(1));
    assert_eq!(names("destin"), ["Destiny"], "an alternative name");
    assert_eq!(names("le fabuleux destin d'amelie poulain"), ["Amélie"]);
    assert!(names("office").is_empty(), "a part of a name is not the name");
    assert!(names("the ofice").is_empty(), "no typo");
    assert!(names("  ").is_empty());
}
