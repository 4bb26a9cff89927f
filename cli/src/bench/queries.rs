//! The benchmark's workload: actors sampled from the catalogue's database, turned into search queries as users
//! type them (exact names, names with one typo, prefixes, common surnames).

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::generate::mix;

/// An actor present in the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub id: Uuid,
    pub name: String,
}

/// How a query was made from a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Exact,
    Typo,
    Prefix,
    Surname,
}

/// One search query and, for typo queries, the name it means.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchQuery {
    pub kind: QueryKind,
    pub text: String,
    pub intended: Option<String>,
}

/// Up to `n` actors, a repeatable pseudo-random sample for a given seed.
pub async fn sample_actors(pool: &PgPool, n: usize, seed: u64) -> anyhow::Result<Vec<Sample>> {
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM actors").fetch_one(pool).await.context("counting actors")?;
    if total == 0 {
        anyhow::bail!("the catalogue has no actors: generate and import a dataset first");
    }
    // Oversample 3x so the LIMIT is nearly always reached; REPEATABLE makes it deterministic.
    let percent = (n as f64 * 300.0 / total as f64).clamp(0.001, 100.0);
    let sql = format!(
        "SELECT id, name FROM actors TABLESAMPLE BERNOULLI ({percent}) REPEATABLE ({}) LIMIT {n}",
        seed % 1_000_000
    );
    let rows = sqlx::query(&sql).fetch_all(pool).await.context("sampling actors")?;
    rows.iter()
        .map(|r| Ok(Sample { id: r.try_get("id")?, name: r.try_get("name")? }))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .context("reading sampled actors")
}

/// One realistic typo (substitution, deletion, transposition or doubled letter) in the longest word of at least
/// four letters, never touching its first letter; `None` when no word is long enough.
pub fn with_typo(name: &str, r: u64) -> Option<String> {
    let words: Vec<&str> = name.split(' ').collect();
    let (w, word) = words.iter().enumerate().filter(|(_, w)| w.chars().count() >= 4).max_by_key(|(_, w)| w.len())?;
    let mut chars: Vec<char> = word.chars().collect();
    let i = 1 + (r as usize % (chars.len() - 1));
    match (r >> 16) % 4 {
        0 => {
            let c = chars[i].to_ascii_lowercase();
            chars[i] = if c == 'e' {
                'a'
            } else if c == 'a' {
                'e'
            } else {
                ((c as u8 - b'a' + 1) % 26 + b'a') as char
            };
            if !c.is_ascii_lowercase() {
                chars[i] = 'x';
            }
        }
        1 => {
            chars.remove(i);
        }
        2 if i + 1 < chars.len() && chars[i] != chars[i + 1] => chars.swap(i, i + 1),
        2 => chars[i] = if chars[i] == 'q' { 'z' } else { 'q' },
        _ => chars.insert(i, chars[i]),
    }
    let mut out: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    out[w] = chars.into_iter().collect();
    Some(out.join(" "))
}

/// The name cut after the first letters of its last word ("Tom Hanks" → "Tom Ha").
pub fn prefix(name: &str, r: u64) -> String {
    let words: Vec<&str> = name.split(' ').collect();
    let last = words[words.len() - 1];
    let keep = 1 + (r as usize % last.chars().count().clamp(1, 3));
    let mut out = words[..words.len() - 1].join(" ");
    if !out.is_empty() {
        out.push(' ');
    }
    out.extend(last.chars().take(keep));
    out
}

/// The query mix: 40% exact names, 30% one typo, 20% prefixes, 10% common surnames.
pub fn build(samples: &[Sample], seed: u64) -> Vec<BenchQuery> {
    let mut surnames: HashMap<&str, usize> = HashMap::new();
    for s in samples {
        if let Some(last) = s.name.split(' ').rfind(|w| w.chars().count() > 2) {
            *surnames.entry(last).or_default() += 1;
        }
    }
    let mut common: Vec<(&str, usize)> = surnames.into_iter().collect();
    common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    common.truncate(50.max(samples.len() / 20));
    let mut out = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        let r = mix(seed, 40, i as u64);
        let exact = || BenchQuery { kind: QueryKind::Exact, text: s.name.clone(), intended: None };
        let q = match i % 10 {
            0..4 => exact(),
            4..7 => match with_typo(&s.name, r) {
                Some(text) => BenchQuery { kind: QueryKind::Typo, text, intended: Some(s.name.clone()) },
                None => exact(),
            },
            7..9 => BenchQuery { kind: QueryKind::Prefix, text: prefix(&s.name, r), intended: None },
            _ if !common.is_empty() => {
                let text = common[(r as usize) % common.len()].0.to_string();
                BenchQuery { kind: QueryKind::Surname, text, intended: None }
            }
            _ => exact(),
        };
        out.push(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit_distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d: Vec<Vec<usize>> =
            (0..=a.len()).map(|i| (0..=b.len()).map(|j| i.max(j) * usize::from(i == 0 || j == 0)).collect()).collect();
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn a_typo_is_one_edit_in_a_long_word() {
        for r in 0..200u64 {
            let r = mix(1, 2, r);
            let typo = with_typo("Tom Hanks", r).unwrap();
            assert_eq!(edit_distance(&typo.to_lowercase(), "tom hanks"), 1, "{typo}");
            assert!(typo.starts_with("Tom H"), "{typo}");
        }
        assert_eq!(with_typo("Al Bo", 1), None);
        assert!(with_typo("Penélope Cruz", 7).is_some());
    }

    #[test]
    fn prefixes_keep_one_to_three_letters_of_the_last_word() {
        assert_eq!(prefix("Tom Hanks", 0), "Tom H");
        assert_eq!(prefix("Tom Hanks", 2), "Tom Han");
        assert_eq!(prefix("Cher", 4), "Ch");
        assert_eq!(prefix("Zoë Saldaña", 1), "Zoë Sa");
    }

    #[test]
    fn the_mix_has_every_kind() {
        let samples: Vec<Sample> =
            (0..100).map(|i| Sample { id: Uuid::from_u128(i), name: format!("Anna Smithson{}", i % 7) }).collect();
        let qs = build(&samples, 9);
        assert_eq!(qs.len(), 100);
        let count = |k| qs.iter().filter(|q| q.kind == k).count();
        assert_eq!((count(QueryKind::Exact), count(QueryKind::Typo)), (40, 30));
        assert_eq!((count(QueryKind::Prefix), count(QueryKind::Surname)), (20, 10));
        assert!(qs.iter().filter(|q| q.kind == QueryKind::Typo).all(|q| q.intended.is_some()));
        assert!(qs.iter().filter(|q| q.kind == QueryKind::Surname).all(|q| q.text.starts_with("Smithson")));
        assert_eq!(build(&samples, 9), qs, "deterministic");
    }
}
