//! Reading a free-text question: "who plays/played/is/was X in Y", "X in Y", "X from Y", "X on Y" (a trailing
//! "?" and a "(1999)" year are fine), "who was in Y", or else an actor's name. Ambiguous splits ("in" in the
//! character or the title) give one reading per split; the identification scores them all and keeps the best.

/// One interpretation of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The title asked about.
    pub title: Option<String>,
    /// The character played in it (none: the title's cast).
    pub character: Option<String>,
    /// An actor's name to look up directly.
    pub actor_name: Option<String>,
    /// A year the title is from.
    pub year: Option<i32>,
    /// Free text only: "tom hanks in big" names the actor rather than the character.
    pub character_may_be_actor: bool,
}

/// Question words before the character: "who", "who's", "which actor", "what actress".
fn question_len(words: &[&str]) -> usize {
    let lower = |i: usize| words.get(i).map(|w| w.to_lowercase()).unwrap_or_default();
    match lower(0).as_str() {
        "who" | "who's" | "whos" | "who’s" => 1,
        "what" | "which" if matches!(lower(1).as_str(), "actor" | "actress" | "person" | "performer") => 2,
        _ => 0,
    }
}

const VERBS: &[&str] = &[
    "plays",
    "played",
    "play",
    "playing",
    "is",
    "was",
    "portrays",
    "portrayed",
    "portray",
    "voices",
    "voiced",
    "voice",
    "starred",
    "stars",
    "star",
    "acted",
    "acts",
    "appeared",
    "appears",
    "did",
    "does",
];
/// Words between the verb and the character ("who played the role of Neo").
const FILLERS: &[&[&str]] = &[&["the", "role", "of"], &["the", "part", "of"], &["the", "character"], &["as"]];
/// Words that separate the character from the title.
const SPLITS: &[&str] = &["in", "from", "on"];
/// Splits tried ("man in black in lost in space" has three); each is one more reading to score.
const MAX_SPLITS: usize = 4;

fn is(word: &str, set: &[&str]) -> bool {
    let w = word.to_lowercase();
    set.contains(&w.as_str())
}

/// A trailing "(1999)".
fn trailing_year(words: &mut Vec<&str>) -> Option<i32> {
    let last = words.last()?;
    let year = last.strip_prefix('(')?.strip_suffix(')')?.parse::<i32>().ok()?;
    if !iknow_common::rules::years::is_valid(year) || words.len() < 2 {
        return None;
    }
    words.pop();
    Some(year)
}

/// Every reading of `q`, most likely first; empty when nothing is left to look for.
pub fn parse(q: &str) -> Vec<Reading> {
    let text = q.trim().trim_end_matches(|c: char| matches!(c, '?' | '!' | '.') || c.is_whitespace());
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let year = trailing_year(&mut words);
    let mut i = question_len(&words);
    let asked = i > 0;
    if asked && words.get(i).is_some_and(|w| is(w, VERBS)) {
        i += 1;
    }
    if asked
        && let Some(filler) = FILLERS
            .iter()
            .find(|f| words.len() > i + f.len() && f.iter().zip(&words[i..]).all(|(a, b)| b.eq_ignore_ascii_case(a)))
    {
        i += filler.len();
    }
    let rest = &words[i.min(words.len())..];
    if rest.is_empty() {
        return vec![];
    }
    let join = |ws: &[&str]| ws.join(" ");
    // "who was in the matrix": the cast of a title.
    if asked && rest.len() > 1 && is(rest[0], SPLITS) {
        return vec![Reading { title: Some(join(&rest[1..])), year, ..Reading::default() }];
    }
    let mut readings: Vec<Reading> = (1..rest.len().saturating_sub(1))
        .filter(|&p| is(rest[p], SPLITS))
        .take(MAX_SPLITS)
        .map(|p| Reading {
            title: Some(join(&rest[p + 1..])),
            character: Some(join(&rest[..p])),
            actor_name: None,
            year,
            character_may_be_actor: true,
        })
        .collect();
    // A bare text may be a name (even one holding "in"); a question with a title is not.
    if !asked || readings.is_empty() {
        readings.push(Reading { actor_name: Some(join(rest)), ..Reading::default() });
    }
    readings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(character: &str, title: &str) -> Reading {
        Reading {
            title: Some(title.into()),
            character: Some(character.into()),
            character_may_be_actor: true,
            ..Reading::default()
        }
    }

    fn name(n: &str) -> Reading {
        Reading { actor_name: Some(n.into()), ..Reading::default() }
    }

    #[test]
    fn questions_split_into_character_and_title() {
        assert_eq!(parse("who played neo in the matrix"), [pair("neo", "the matrix")]);
        assert_eq!(parse("Who plays Neo in The Matrix?"), [pair("Neo", "The Matrix")]);
        assert_eq!(parse("who is rachel on friends ?"), [pair("rachel", "friends")]);
        assert_eq!(parse("which actor played the role of Neo in the Matrix"), [pair("Neo", "the Matrix")]);
        assert_eq!(parse("who's walter white from breaking bad"), [pair("walter white", "breaking bad")]);
        let with_year = parse("who played neo in the matrix (1999)");
        assert_eq!(with_year, [Reading { year: Some(1999), ..pair("neo", "the matrix") }]);
    }

    #[test]
    fn bare_pairs_also_read_as_a_name_and_every_split_is_tried() {
        assert_eq!(parse("neo in the matrix"), [pair("neo", "the matrix"), name("neo in the matrix")]);
        assert_eq!(
            parse("who played bob in lost in translation"),
            [pair("bob", "lost in translation"), pair("bob in lost", "translation")]
        );
        assert_eq!(parse("who played man in black in men in black").len(), 3);
    }

    #[test]
    fn names_casts_and_nothing() {
        assert_eq!(parse("keanu reves"), [name("keanu reves")]);
        assert_eq!(parse("who is keanu reeves?"), [name("keanu reeves")]);
        assert_eq!(
            parse("who was in the matrix"),
            [Reading { title: Some("the matrix".into()), ..Reading::default() }]
        );
        assert_eq!(parse("who played"), Vec::<Reading>::new());
        assert_eq!(parse(" ?? "), Vec::<Reading>::new());
        // A trailing word is never a split: "in" ends the name here.
        assert_eq!(parse("lost in"), [name("lost in")]);
    }
}
