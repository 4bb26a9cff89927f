//! Seeded text mutations the queries are made with: typos by position and word length, two typos, a moved
//! space, merged words, a cut last word, accents taken away or added, lower case and word order. Each returns
//! `None` when the text has no place for it. Letters are compared folded, as the search index folds them
//! (case, accents), so "an edit" is an edit a user would see.

use iknow_search::matcher;
use rand::Rng;
use rand::rngs::StdRng;

/// Where in a word a typo lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The word's first letter changes.
    First,
    /// First and last letters stay; one between them changes.
    Middle,
    /// The word's last letter changes.
    Last,
    /// Anywhere.
    Any,
}

/// Which words a typo may land in, by their number of letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// 2 to 4 letters.
    Short,
    /// 5 letters or more.
    Long,
    /// 2 letters or more (3 for a middle typo).
    Any,
}

impl Length {
    fn admits(self, letters: usize, position: Position) -> bool {
        let min = if position == Position::Middle { 3 } else { 2 };
        letters >= min
            && match self {
                Self::Short => letters <= 4,
                Self::Long => letters >= 5,
                Self::Any => true,
            }
    }
}

/// `c` as the index folds it ("É" → "e"); empty for what it drops.
pub fn fold(c: char) -> String {
    matcher::normalize(c.encode_utf8(&mut [0; 4]))
}

fn random_letter_but(rng: &mut StdRng, not: &[String]) -> char {
    loop {
        let c = char::from(b'a' + rng.random_range(0..26u8));
        if !not.iter().any(|n| n.as_str() == c.encode_utf8(&mut [0; 4])) {
            return c;
        }
    }
}

/// Edit distance between the folded forms of two texts, up to 3.
pub fn distance(a: &str, b: &str) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) =
        (matcher::normalize(a).chars().collect(), matcher::normalize(b).chars().collect());
    matcher::edit_distance(&a, &b, 3)
}

/// One edit of `word` (as chars) at `position`: substitution, deletion, insertion or transposition of adjacent
/// letters, chosen at random; `None` when the chosen edit cannot change what `position` says.
fn edit_word(word: &[char], position: Position, rng: &mut StdRng) -> Option<Vec<char>> {
    let letters: Vec<usize> = (0..word.len()).filter(|&i| word[i].is_alphabetic()).collect();
    let n = letters.len();
    let f = |i: usize| fold(word[i]);
    let mut out = word.to_vec();
    // The letter (index into `letters`) the edit is about, by position.
    let pick = |rng: &mut StdRng| match position {
        Position::First => 0,
        Position::Last => n - 1,
        Position::Middle => rng.random_range(1..n - 1),
        Position::Any => rng.random_range(0..n),
    };
    match rng.random_range(0..4) {
        // Substitution by another letter.
        0 => {
            let k = pick(rng);
            out[letters[k]] = random_letter_but(rng, &[f(letters[k])]);
        }
        // Deletion; for the first or last letter, only when its neighbour differs (else it stays the same).
        1 => {
            let k = pick(rng);
            let neighbour = match position {
                Position::First => Some(letters[1]),
                Position::Last => Some(letters[n - 2]),
                _ => None,
            };
            if neighbour.is_some_and(|j| f(j) == f(letters[k])) {
                return None;
            }
            out.remove(letters[k]);
        }
        // Insertion: before the first letter, after the last, or between two letters for the middle.
        2 => {
            let (at, not) = match position {
                Position::First => (letters[0], vec![f(letters[0])]),
                Position::Last => (letters[n - 1] + 1, vec![f(letters[n - 1])]),
                Position::Middle => {
                    let k = rng.random_range(1..n);
                    (letters[k], vec![])
                }
                Position::Any => {
                    let k = rng.random_range(0..=n);
                    (if k == n { letters[n - 1] + 1 } else { letters[k] }, vec![])
                }
            };
            let c = random_letter_but(rng, &not);
            out.insert(at, c);
        }
        // Transposition of two adjacent, different letters.
        _ => {
            let k = match position {
                Position::First => 0,
                Position::Last => n - 2,
                Position::Middle if n >= 4 => rng.random_range(1..n - 2),
                Position::Middle => return None,
                Position::Any => rng.random_range(0..n - 1),
            };
            let (a, b) = (letters[k], letters[k + 1]);
            if b != a + 1 || f(a) == f(b) {
                return None;
            }
            out.swap(a, b);
        }
    }
    Some(out)
}

/// One typo in one word of `text` admitted by `length`, at `position` in that word.
pub fn typo(text: &str, position: Position, length: Length, rng: &mut StdRng) -> Option<String> {
    let words: Vec<&str> = text.split(' ').collect();
    let eligible: Vec<usize> = (0..words.len())
        .filter(|&i| length.admits(words[i].chars().filter(|c| c.is_alphabetic()).count(), position))
        .collect();
    if eligible.is_empty() {
        return None;
    }
    for _ in 0..32 {
        let w = eligible[rng.random_range(0..eligible.len())];
        let chars: Vec<char> = words[w].chars().collect();
        let Some(edited) = edit_word(&chars, position, rng) else { continue };
        let edited: String = edited.into_iter().collect();
        let mut out: Vec<&str> = words.clone();
        out[w] = &edited;
        let out = out.join(" ");
        if distance(text, &out) == Some(1) {
            return Some(out);
        }
    }
    None
}

/// Two typos anywhere (in one word or two), at edit distance 2 from `text`.
pub fn two_typos(text: &str, rng: &mut StdRng) -> Option<String> {
    for _ in 0..16 {
        let once = typo(text, Position::Any, Length::Any, rng)?;
        let Some(twice) = typo(&once, Position::Any, Length::Any, rng) else { continue };
        if distance(text, &twice) == Some(2) {
            return Some(twice);
        }
    }
    None
}

/// The space between two words moved by one letter: "ray liotta" → "ra yliotta" or "rayl iotta".
pub fn moved_space(text: &str, rng: &mut StdRng) -> Option<String> {
    let words: Vec<Vec<char>> = text.split(' ').map(|w| w.chars().collect()).collect();
    let pairs: Vec<usize> = (0..words.len().saturating_sub(1))
        .filter(|&i| words[i].len() >= 2 || words[i + 1].len() >= 2)
        .filter(|&i| !words[i].is_empty() && !words[i + 1].is_empty())
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let i = pairs[rng.random_range(0..pairs.len())];
    let (mut a, mut b) = (words[i].clone(), words[i + 1].clone());
    let left = if a.len() < 2 {
        false
    } else if b.len() < 2 {
        true
    } else {
        rng.random_bool(0.5)
    };
    if left {
        let c = a.pop()?;
        b.insert(0, c);
    } else {
        let c = b.remove(0);
        a.push(c);
    }
    let mut out: Vec<String> = words.iter().map(|w| w.iter().collect()).collect();
    out[i] = a.into_iter().collect();
    out[i + 1] = b.into_iter().collect();
    let out = out.join(" ");
    (matcher::normalize(&out) != matcher::normalize(text)).then_some(out)
}

/// Two adjacent words written as one: "tom hanks" → "tomhanks".
pub fn merged(text: &str, rng: &mut StdRng) -> Option<String> {
    let words: Vec<&str> = text.split(' ').collect();
    if words.len() < 2 {
        return None;
    }
    let i = rng.random_range(0..words.len() - 1);
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    let next = out.remove(i + 1);
    out[i].push_str(&next);
    Some(out.join(" "))
}

/// The last word cut after 3 letters or more, at least one letter short: "tom hanks" → "tom han".
pub fn prefix(text: &str, rng: &mut StdRng) -> Option<String> {
    let (head, last) = text.rsplit_once(' ')?;
    let chars: Vec<char> = last.chars().collect();
    if chars.len() < 4 || head.trim().is_empty() {
        return None;
    }
    let keep = rng.random_range(3..chars.len());
    let cut: String = chars[..keep].iter().collect();
    (matcher::tokens(&cut).concat().chars().count() >= 3).then(|| format!("{head} {cut}"))
}

/// Accented letters written without their accents ("Zoë Saldaña" → "Zoe Saldana"); `None` when there are
/// none.
pub fn without_accents(text: &str) -> Option<String> {
    let mut changed = false;
    let out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() || !c.is_alphabetic() {
                return c.to_string();
            }
            let f = fold(c);
            if f.is_empty() || !f.is_ascii() {
                return c.to_string();
            }
            changed = true;
            if c.is_uppercase() { f.to_uppercase() } else { f }
        })
        .collect();
    changed.then_some(out)
}

const ACCENTED: &[(char, char)] = &[
    ('a', 'á'),
    ('e', 'é'),
    ('i', 'í'),
    ('o', 'ö'),
    ('u', 'ü'),
    ('n', 'ñ'),
    ('c', 'ç'),
    ('A', 'Á'),
    ('E', 'É'),
    ('I', 'Í'),
    ('O', 'Ö'),
    ('U', 'Ü'),
];

/// One letter of an unaccented text given an accent ("Zoe" → "Zoë" style); `None` when the text already has
/// non-ASCII letters or no letter takes an accent.
pub fn with_accent(text: &str, rng: &mut StdRng) -> Option<String> {
    if !text.is_ascii() {
        return None;
    }
    let mut chars: Vec<char> = text.chars().collect();
    let spots: Vec<usize> = (0..chars.len()).filter(|&i| ACCENTED.iter().any(|(a, _)| *a == chars[i])).collect();
    if spots.is_empty() {
        return None;
    }
    let i = spots[rng.random_range(0..spots.len())];
    chars[i] = ACCENTED.iter().find(|(a, _)| *a == chars[i]).map(|(_, b)| *b)?;
    Some(chars.into_iter().collect())
}

/// The text in lower case; `None` when it already is.
pub fn lower(text: &str) -> Option<String> {
    let out = text.to_lowercase();
    (out != text).then_some(out)
}

/// The last word put first: "Ray Liotta" → "Liotta Ray".
pub fn last_word_first(text: &str) -> Option<String> {
    let (head, last) = text.rsplit_once(' ')?;
    (!head.trim().is_empty() && !last.is_empty()).then(|| format!("{last} {head}"))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    const NAMES: &[&str] =
        &["Ray Liotta", "Zoe Saldana", "Sam Neill", "Mark Allen Shepherd", "Nana Visitor", "Ed Wynn"];

    fn changed_word(a: &str, b: &str) -> (String, String) {
        let (x, y): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
        assert_eq!(x.len(), y.len(), "{a} → {b}");
        let diff: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
        assert_eq!(diff.len(), 1, "one word changes: {a} → {b}");
        (x[diff[0]].to_lowercase(), y[diff[0]].to_lowercase())
    }

    #[test]
    fn typos_land_where_they_are_named() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..300 {
            for name in NAMES {
                if let Some(t) = typo(name, Position::First, Length::Any, &mut rng) {
                    let (a, b) = changed_word(name, &t);
                    assert_ne!(a.chars().next(), b.chars().next(), "first letter: {name} → {t}");
                    assert_eq!(distance(name, &t), Some(1), "{name} → {t}");
                }
                if let Some(t) = typo(name, Position::Last, Length::Any, &mut rng) {
                    let (a, b) = changed_word(name, &t);
                    assert_ne!(a.chars().last(), b.chars().last(), "last letter: {name} → {t}");
                    assert_eq!(distance(name, &t), Some(1), "{name} → {t}");
                }
                if let Some(t) = typo(name, Position::Middle, Length::Any, &mut rng) {
                    let (a, b) = changed_word(name, &t);
                    assert_eq!(a.chars().next(), b.chars().next(), "middle keeps the first letter: {name} → {t}");
                    assert_eq!(a.chars().last(), b.chars().last(), "middle keeps the last letter: {name} → {t}");
                    assert_eq!(distance(name, &t), Some(1), "{name} → {t}");
                }
                if let Some(t) = typo(name, Position::Any, Length::Short, &mut rng) {
                    let (a, _) = changed_word(name, &t);
                    assert!((2..=4).contains(&a.chars().count()), "short word: {name} → {t}");
                    assert_eq!(distance(name, &t), Some(1), "{name} → {t}");
                }
                if let Some(t) = typo(name, Position::Any, Length::Long, &mut rng) {
                    let (a, _) = changed_word(name, &t);
                    assert!(a.chars().count() >= 5, "long word: {name} → {t}");
                    assert_eq!(distance(name, &t), Some(1), "{name} → {t}");
                }
                let t = two_typos(name, &mut rng).expect("room for two typos");
                assert_eq!(distance(name, &t), Some(2), "{name} → {t}");
            }
        }
        // Every class finds a place in a name that has one, and none in a name that has not.
        let mut rng = StdRng::seed_from_u64(1);
        assert!(typo("Ed Wynn", Position::Any, Length::Long, &mut rng).is_none());
        assert!(typo("Mark Allen Shepherd", Position::Middle, Length::Short, &mut rng).is_some());
        assert!(typo("Jo", Position::Middle, Length::Any, &mut rng).is_none());
    }

    #[test]
    fn the_same_seed_makes_the_same_mutations() {
        let run = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            NAMES
                .iter()
                .map(|n| {
                    (
                        typo(n, Position::First, Length::Any, &mut rng),
                        two_typos(n, &mut rng),
                        moved_space(n, &mut rng),
                        prefix(n, &mut rng),
                        with_accent(n, &mut rng),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }

    #[test]
    fn spaces_words_and_accents_change_as_named() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..50 {
            let m = moved_space("Ray Liotta", &mut rng).unwrap();
            assert!(m == "Ra yLiotta" || m == "RayL iotta", "{m}");
            assert_eq!(m.replace(' ', ""), "RayLiotta");
            let p = prefix("Tom Hanks", &mut rng).unwrap();
            assert!(p == "Tom Han" || p == "Tom Hank", "{p}");
            let a = with_accent("Zoe Saldana", &mut rng).unwrap();
            assert_ne!(a, "Zoe Saldana");
            assert_eq!(matcher::normalize(&a), "zoe saldana", "an accent changes nothing the index sees: {a}");
            let m = merged("Mark Allen Shepherd", &mut rng).unwrap();
            assert!(m == "MarkAllen Shepherd" || m == "Mark AllenShepherd", "{m}");
        }
        assert_eq!(merged("Tom Hanks", &mut rng).as_deref(), Some("TomHanks"));
        assert_eq!(without_accents("Zoë Saldaña").as_deref(), Some("Zoe Saldana"));
        assert_eq!(without_accents("Élodie Bouchez").as_deref(), Some("Elodie Bouchez"));
        assert_eq!(without_accents("Tom Hanks"), None);
        assert_eq!(with_accent("Zoë", &mut rng), None, "already accented");
        assert_eq!(lower("Tom Hanks").as_deref(), Some("tom hanks"));
        assert_eq!(last_word_first("Mark Allen Shepherd").as_deref(), Some("Shepherd Mark Allen"));
        for one_word in ["Cher", "Prince"] {
            assert_eq!(moved_space(one_word, &mut rng), None);
            assert_eq!(merged(one_word, &mut rng), None);
            assert_eq!(prefix(one_word, &mut rng), None);
            assert_eq!(last_word_first(one_word), None);
        }
        assert_eq!(prefix("Tom Hux", &mut rng), None, "too short to cut");
    }
}
