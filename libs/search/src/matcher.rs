//! Fuzzy comparison of short names (characters, titles, people) outside the index: the same normalisation as
//! the index (case, accents, apostrophes, non-alphanumerics), then a token-based score in 0..=1 that tolerates
//! typos (Damerau-Levenshtein, 1 edit from 3 characters, 2 from 8), prefixes ("matr" → "matrix"), partial
//! names ("neo" → "Thomas A. Anderson, Neo"; "anderson" → "Thomas A. Anderson") and spacing ("spiderman" →
//! "Spider-Man"). Used by identification to rank the cast of candidate titles; cheap enough to run on
//! hundreds of rows per query.

use std::cell::RefCell;

use tantivy::tokenizer::TextAnalyzer;

use crate::analyzer;

thread_local! {
    static ANALYZER: RefCell<TextAnalyzer> = RefCell::new(analyzer::analyzer());
}

/// Normalised tokens of `text`, exactly as the name index makes them ("Penélope O'Brien" → penelope, obrien).
pub fn tokens(text: &str) -> Vec<String> {
    ANALYZER.with(|a| analyzer::tokens(&mut a.borrow_mut(), text))
}

/// Normalised text: its tokens joined by one space.
pub fn normalize(text: &str) -> String {
    tokens(text).join(" ")
}

/// Small words that carry little of a title's or name's identity ("the" in "The Matrix").
const MINOR: &[&str] =
    &["the", "a", "an", "of", "and", "in", "on", "to", "at", "for", "la", "le", "el", "de", "der", "die", "das"];

fn weight(token: &str) -> f32 {
    if MINOR.contains(&token) || token.chars().count() == 1 { 0.3 } else { 1.0 }
}

/// Edits tolerated in a word of `chars` characters.
pub fn max_edits(chars: usize) -> usize {
    match chars {
        0..=2 => 0,
        3..=7 => 1,
        _ => 2,
    }
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), or `None` above `max`.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    // Three rows; on the stack for the words of names and titles (a heap allocation per pair cost more than
    // the comparing when a series' cast is scored).
    const STACK: usize = 48;
    let mut stack = [[0usize; STACK]; 3];
    let mut heap: Vec<Vec<usize>>;
    let rows: [&mut [usize]; 3] = if m < STACK {
        let [r0, r1, r2] = &mut stack;
        [&mut r0[..=m], &mut r1[..=m], &mut r2[..=m]]
    } else {
        heap = vec![vec![0usize; m + 1]; 3];
        let [r0, r1, r2] = &mut heap[..] else { unreachable!("three rows") };
        [r0.as_mut_slice(), r1.as_mut_slice(), r2.as_mut_slice()]
    };
    let [mut prev2, mut prev, mut cur] = rows;
    for (j, v) in prev.iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[m];
    (d <= max).then_some(d)
}

/// How well query word `q` matches candidate word `c` (both normalised), 0..=1.
pub fn word_score(q: &str, c: &str) -> f32 {
    if q == c {
        return 1.0;
    }
    // Normalised tokens are ASCII but for the odd letter ASCII folding keeps: compare bytes when both are.
    if q.is_ascii() && c.is_ascii() {
        return word_score_of(q.as_bytes(), c.as_bytes());
    }
    let qc: Vec<char> = q.chars().collect();
    let cc: Vec<char> = c.chars().collect();
    word_score_of(&qc, &cc)
}

fn word_score_of<T: PartialEq>(qc: &[T], cc: &[T]) -> f32 {
    let mut best: f32 = 0.0;
    let max = max_edits(qc.len());
    if let Some(d) = edit_distance(qc, cc, max) {
        // A one-letter change to a three-letter word is weaker evidence than one in a long word.
        let per_edit = if qc.len() <= 3 { 0.3 } else { 0.15 };
        best = best.max(1.0 - per_edit * d as f32);
    }
    // A prefix the user stopped typing ("matr"), the longer the better.
    if qc.len() >= 3 && cc.len() > qc.len() {
        let ratio = qc.len() as f32 / cc.len() as f32;
        if cc.starts_with(qc) {
            best = best.max(0.6 + 0.3 * ratio);
        } else if qc.len() >= 5 && edit_distance(qc, &cc[..qc.len()], 1).is_some() {
            best = best.max(0.5 + 0.2 * ratio);
        }
    }
    best
}

/// Similarity of a query and a candidate, both as normalised tokens ([`tokens`]), 0..=1: mostly how well every
/// query word is matched (weighted, small words count less), a little how much of the candidate is covered,
/// so a full match beats a partial one ("walter" is nearer "Walter" than "Walter White").
pub fn similarity(query: &[String], candidate: &[String]) -> f32 {
    similarity_by(query, candidate, |i, j| word_score(&query[i], &candidate[j]))
}

/// [`similarity`] with the word scores given by `word(query index, candidate index)`: for callers that score
/// many candidates sharing words and look each [`word_score`] up once (identification over a series' cast).
pub fn similarity_by(query: &[String], candidate: &[String], mut word: impl FnMut(usize, usize) -> f32) -> f32 {
    if query.is_empty() || candidate.is_empty() {
        return 0.0;
    }
    if query == candidate {
        return 1.0;
    }
    let mut cand_best = [0.0f32; 16];
    let mut cand_best_heap = Vec::new();
    let cand_best: &mut [f32] = if candidate.len() <= cand_best.len() {
        &mut cand_best[..candidate.len()]
    } else {
        cand_best_heap.resize(candidate.len(), 0.0);
        &mut cand_best_heap
    };
    let mut q_sum = 0.0;
    let mut q_weight = 0.0;
    for (qi, q) in query.iter().enumerate() {
        let w = weight(q);
        let mut best: f32 = 0.0;
        for (ci, b) in cand_best.iter_mut().enumerate() {
            let s = word(qi, ci);
            best = best.max(s);
            *b = b.max(s);
        }
        q_sum += w * best;
        q_weight += w;
    }
    let (c_sum, c_weight) =
        candidate.iter().zip(cand_best.iter()).fold((0.0, 0.0), |(s, t), (c, b)| (s + weight(c) * b, t + weight(c)));
    let mut score = 0.8 * q_sum / q_weight + 0.2 * c_sum / c_weight;
    // Spacing and hyphens: "spiderman" is "Spider-Man", "mc clane" is "McClane".
    if query.len() != candidate.len() {
        let q_len: usize = query.iter().map(|w| w.chars().count()).sum();
        let c_len: usize = candidate.iter().map(|w| w.chars().count()).sum();
        let max = max_edits(q_len);
        if q_len.abs_diff(c_len) <= max {
            let qj: Vec<char> = query.iter().flat_map(|w| w.chars()).collect();
            let cj: Vec<char> = candidate.iter().flat_map(|w| w.chars()).collect();
            if let Some(d) = edit_distance(&qj, &cj, max) {
                score = score.max(0.98 - 0.15 * d as f32);
            }
        }
    }
    score.min(1.0)
}

/// [`similarity`] of raw texts.
pub fn text_similarity(query: &str, candidate: &str) -> f32 {
    similarity(&tokens(query), &tokens(candidate))
}

/// The bit of one character in a [`letters`] set: a letter or digit each its own, anything else one shared bit.
fn letter_bit(c: char) -> u64 {
    1 << match c {
        'a'..='z' => c as u32 - 'a' as u32,
        '0'..='9' => 26 + c as u32 - '0' as u32,
        _ => 36,
    }
}

/// The set of letters and digits in `words` (normalised tokens), one bit each; other characters share a bit.
pub fn letters<S: AsRef<str>>(words: &[S]) -> u64 {
    words.iter().flat_map(|w| w.as_ref().chars()).fold(0, |mask, c| mask | letter_bit(c))
}

/// One query word prepared for [`WordFilter::may_match`]: the letter of each of its characters, and the edits
/// [`word_score`] allows it.
#[derive(Debug, Clone)]
pub struct WordFilter {
    bits: Vec<u64>,
    edits: usize,
}

impl WordFilter {
    pub fn new(word: &str) -> Self {
        let bits: Vec<u64> = word.chars().map(letter_bit).collect();
        Self { edits: max_edits(bits.len()), bits }
    }

    /// False only when [`word_score`] of the word and any token whose letters are `candidate` is 0: more of the
    /// word's characters are missing from it than the word's edits could change (a prefix misses none, a prefix
    /// with one typo one).
    pub fn may_match(&self, candidate: u64) -> bool {
        self.bits.iter().filter(|&&b| b & !candidate != 0).count() <= self.edits
    }
}

/// A query prepared for [`Prefilter::may_match`]: each word and the words joined.
#[derive(Debug, Clone)]
pub struct Prefilter {
    words: Vec<WordFilter>,
}

impl Prefilter {
    pub fn new(query: &[String]) -> Self {
        let mut words: Vec<WordFilter> = query.iter().map(|w| WordFilter::new(w)).collect();
        if query.len() > 1 {
            words.push(WordFilter::new(&query.concat()));
        }
        Self { words }
    }

    /// False only when [`similarity`] of the query and any candidate whose words have `candidate` letters is 0:
    /// no word (nor the words joined) may match it. Cheap enough to skip thousands of candidates before
    /// comparing them.
    pub fn may_match(&self, candidate: u64) -> bool {
        self.words.iter().any(|w| w.may_match(candidate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefilter_never_drops_a_candidate_the_similarity_keeps() {
        let names = [
            "Thomas A. Anderson",
            "Neo",
            "Agent Smith",
            "Spider-Man",
            "Walter White",
            "Mirror Innkeeper",
            "Dr. Leonard McCoy",
            "Q",
            "R2-D2",
        ];
        let queries =
            ["neo", "nwo", "anderson", "spiderman", "spidr man", "innkeper", "mccoy", "leo", "q", "r2d2", "zzz", "xy"];
        for q in queries {
            let query = tokens(q);
            let filter = Prefilter::new(&query);
            for n in names {
                let candidate = tokens(n);
                if similarity(&query, &candidate) > 0.0 {
                    assert!(filter.may_match(letters(&candidate)), "{q:?} vs {n:?}");
                }
            }
        }
        // And it does drop what cannot match.
        assert!(!Prefilter::new(&tokens("zzz")).may_match(letters(&tokens("Walter White"))));
        assert!(!Prefilter::new(&tokens("bashir")).may_match(letters(&tokens("Agent Smith"))));
    }

    fn s(q: &str, c: &str) -> f32 {
        text_similarity(q, c)
    }

    #[test]
    fn distances_count_transpositions_and_stop_early() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&c("matrix"), &c("matrx"), 2), Some(1));
        assert_eq!(edit_distance(&c("matrix"), &c("mtarix"), 2), Some(1));
        assert_eq!(edit_distance(&c("keanu"), &c("keanu"), 0), Some(0));
        assert_eq!(edit_distance(&c("abcdef"), &c("uvwxyz"), 2), None);
        assert_eq!(edit_distance(&c("a"), &c("abcd"), 2), None);
    }

    #[test]
    fn exact_case_and_accent_insensitive() {
        assert_eq!(s("neo", "Neo"), 1.0);
        assert_eq!(s("penelope cruz", "Penélope Cruz"), 1.0);
        assert_eq!(s("O'Brien", "obrien"), 1.0);
    }

    #[test]
    fn typos_score_below_exact_and_above_unrelated() {
        let typo = s("the matrx", "The Matrix");
        assert!(typo > 0.8 && typo < 1.0, "{typo}");
        assert!(s("keanu reves", "Keanu Reeves") > 0.85);
        assert!(s("nwo", "Neo") > 0.5);
        assert!(s("mtarix", "Matrix") > 0.8);
        assert_eq!(s("trinity", "Morpheus"), 0.0);
        assert!(s("walter", "Walter White") < s("walter", "Walter"));
    }

    #[test]
    fn partial_names_prefixes_and_spacing_match() {
        let partial = s("anderson", "Thomas A. Anderson");
        assert!(partial > 0.8, "{partial}");
        assert!(s("matr", "Matrix") > 0.7);
        assert!(s("spiderman", "Spider-Man") > 0.9);
        assert!(s("matrix", "The Matrix") > 0.9);
        assert!(s("the matrix", "The Matrix Reloaded") < s("the matrix", "The Matrix"));
        // Every query word counts: half a match is a weak one.
        assert!(s("agent smith", "Smith") < 0.7);
    }
}
