//! Generator tests: deterministic, counts as asked, and every line accepted by the importer's parser.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use iknow::import::parse;

use super::generate::{NamePool, Spec, Written, generate};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(iknow_testkit::unique_prefix(&format!("bench-{tag}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample_pool() -> NamePool {
    NamePool::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/sample/imdb")).unwrap()
}

fn spec(seed: u64) -> Spec {
    Spec { actors: 2_000, titles: 600, credits: 6_001, seed }
}

fn lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file)).unwrap().lines().map(str::to_string).collect()
}

#[test]
fn same_seed_same_files_other_seed_other_files() {
    let pool = sample_pool();
    let (a, b, c) = (temp_dir("a"), temp_dir("b"), temp_dir("c"));
    generate(&a, &spec(7), &pool).unwrap();
    generate(&b, &spec(7), &pool).unwrap();
    generate(&c, &spec(8), &pool).unwrap();
    for file in ["name.basics.tsv", "title.basics.tsv", "title.principals.tsv"] {
        assert_eq!(lines(&a, file), lines(&b, file), "{file}");
        assert_ne!(lines(&a, file), lines(&c, file), "{file}");
    }
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn files_have_the_counts_and_parse_with_the_importer() {
    let pool = sample_pool();
    let dir = temp_dir("parse");
    let written = generate(&dir, &spec(1), &pool).unwrap();
    assert_eq!(written, Written { actors: 2_000, titles: 600, credits: 6_001 });

    let titles = lines(&dir, "title.basics.tsv");
    assert_eq!(titles.len(), 601);
    assert!(parse::is_header(&titles[0]));
    let mut title_ids = HashSet::new();
    for line in &titles[1..] {
        let t = parse::title(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!((1920..=2026).contains(&t.year.unwrap()), "{line}");
        title_ids.insert(line.split('\t').next().unwrap().to_string());
    }
    assert_eq!(title_ids.len(), 600);

    let principals = lines(&dir, "title.principals.tsv");
    assert_eq!(principals.len(), 6_002);
    let mut credited = HashSet::new();
    for line in &principals[1..] {
        let p = parse::principal(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(p.is_acting(), "{line}");
        assert!(title_ids.contains(&p.credit.content_imdb_id), "{line}");
        credited.insert(p.credit.actor_imdb_id);
    }
    assert_eq!(credited.len(), 2_000, "every actor has a credit");

    let names = lines(&dir, "name.basics.tsv");
    assert_eq!(names.len(), 2_001);
    let mut distinct = HashSet::new();
    for line in &names[1..] {
        let (_, actor) = parse::name(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(credited.contains(&actor.imdb_id), "{line}");
        assert!(actor.name.split(' ').count() >= 2, "{line}");
        assert!(!actor.known_for_imdb_ids.is_empty() && actor.known_for_imdb_ids.iter().all(|t| title_ids.contains(t)));
        distinct.insert(actor.name);
    }
    // Names recombine the sample's parts: mostly distinct, some shared (as in real data).
    assert!(distinct.len() > 1_500 && distinct.len() < 2_000, "{}", distinct.len());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn credits_per_actor_are_skewed() {
    let pool = sample_pool();
    let dir = temp_dir("zipf");
    let s = Spec { actors: 1_000, titles: 500, credits: 10_000, seed: 3 };
    generate(&dir, &s, &pool).unwrap();
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for line in &lines(&dir, "title.principals.tsv")[1..] {
        *counts.entry(line.split('\t').nth(2).unwrap().to_string()).or_default() += 1;
    }
    let mut c: Vec<usize> = counts.into_values().collect();
    c.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(c.iter().sum::<usize>(), 10_000);
    // The top 1% of actors hold far more than 1% of the credits; the median actor has few.
    let top: usize = c[..10].iter().sum();
    assert!(top > 500, "top 1% hold {top}");
    assert!(c[500] <= 10, "median {}", c[500]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn generate_rejects_impossible_specs() {
    let pool = sample_pool();
    let dir = temp_dir("bad");
    assert!(generate(&dir, &Spec { actors: 10, titles: 1, credits: 5, seed: 0 }, &pool).is_err());
    assert!(generate(&dir, &Spec { actors: 0, titles: 1, credits: 5, seed: 0 }, &pool).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}
