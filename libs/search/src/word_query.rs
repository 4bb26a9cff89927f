//! One query word matched against the name fields: exact, typo-tolerant (Damerau-Levenshtein) and, for the
//! last word, as a prefix. Walks each segment's term dictionary once and scores every matching term by how
//! close it is, so a document's score for the word is its best-matching token. Fuzzy matches normally share the
//! word's first letter ([`FirstLetter::Exact`], fast); [`FirstLetter::Relaxed`] lifts that (and lets short words
//! have a typo) for the slower relaxed pass.

use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::index::{InvertedIndexReader, SegmentReader};
use tantivy::postings::TermInfo;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, TERMINATED, TantivyError};

/// Points of a match, out of [`FULL`]; stored per document as a byte.
const FULL: f32 = 200.0;

/// Edits allowed for a word of this many characters: short words must be exact, long words may have two typos.
pub(crate) fn max_distance(chars: usize) -> u8 {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Score (0..=1) of a token for a query word, from its full edit distance and (last word) prefix edit distance.
pub(crate) fn term_score(word_len: usize, term_len: usize, full: Option<u8>, prefix: Option<u8>) -> f32 {
    let full_score: f32 = match full {
        Some(0) => 1.0,
        Some(1) => 0.7,
        Some(2) => 0.5,
        _ => 0.0,
    };
    // A longer completion is a weaker match: "hanx" is nearer "hanks" than "hankins".
    let extra = term_len.saturating_sub(word_len).min(10) as f32;
    let prefix_score = match prefix {
        Some(0) => 0.8 - 0.01 * extra,
        Some(1) => 0.55 - 0.01 * extra,
        Some(2) => 0.4 - 0.01 * extra,
        _ => 0.0,
    };
    full_score.max(prefix_score)
}

fn builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    BUILDERS[usize::from(distance.min(2))].get_or_init(|| LevenshteinAutomatonBuilder::new(distance.min(2), true))
}

fn exact(d: Distance) -> Option<u8> {
    match d {
        Distance::Exact(n) => Some(n),
        Distance::AtLeast(_) => None,
    }
}

/// Whether fuzzy matches of a word must share its first letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FirstLetter {
    /// Typos are tolerated everywhere but in the first letter (as most search engines do), which prunes all
    /// other first letters from the dictionary walk — a large saving, the dictionary being walked once per
    /// segment and query word.
    Exact,
    /// A plain Levenshtein walk of the whole dictionary (typos in the first letter too), and words of two or
    /// three letters get one edit too ("ea" → "eva", "ry" → "ray"):
    /// for the relaxed pass, where the query's other words pin the name down.
    Relaxed,
}

impl FirstLetter {
    /// Edits allowed for a word of `chars` characters under this tolerance.
    pub(crate) fn max_distance(self, chars: usize) -> u8 {
        match self {
            FirstLetter::Relaxed if chars >= 2 => max_distance(chars).max(1),
            _ => max_distance(chars),
        }
    }
}

/// Walks the term dictionary with a Levenshtein DFA after an exact `first` character (none: from the start).
struct Anchored<'a> {
    first: &'a [u8],
    dfa: &'a DFA,
}

/// States below this are the DFA's; from it up, the number of first-character bytes matched so far.
const ANCHOR: u32 = u32::MAX - 8;

impl tantivy_fst::Automaton for Anchored<'_> {
    type State = u32;
    fn start(&self) -> u32 {
        if self.first.is_empty() { self.dfa.initial_state() } else { ANCHOR }
    }
    fn is_match(&self, state: &u32) -> bool {
        *state < ANCHOR && matches!(self.dfa.distance(*state), Distance::Exact(_))
    }
    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }
    fn accept(&self, state: &u32, byte: u8) -> u32 {
        if *state < ANCHOR {
            return self.dfa.transition(*state, byte);
        }
        let matched = (*state - ANCHOR) as usize;
        if self.first.get(matched) != Some(&byte) {
            SINK_STATE
        } else if matched + 1 == self.first.len() {
            self.dfa.initial_state()
        } else {
            *state + 1
        }
    }
}

/// Matches documents having a token close to `word` in any of `fields` (each with a weight).
#[derive(Clone, Debug)]
pub(crate) struct WordQuery {
    word: String,
    last: bool,
    fields: Vec<(Field, f32)>,
    first_letter: FirstLetter,
    /// Added to the score of every matching document (the relaxed pass counts matched words with it).
    base: f32,
}

impl WordQuery {
    pub(crate) fn new(word: String, last: bool, fields: Vec<(Field, f32)>, first_letter: FirstLetter) -> Self {
        Self { word, last, fields, first_letter, base: 0.0 }
    }

    /// The same query, scoring `base` more for every matching document.
    pub(crate) fn with_base(self, base: f32) -> Self {
        Self { base, ..self }
    }
}

impl Query for WordQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let chars = self.word.chars().count();
        let distance = self.first_letter.max_distance(chars);
        let first_len = match self.first_letter {
            FirstLetter::Exact => self.word.chars().next().map_or(0, char::len_utf8),
            FirstLetter::Relaxed => 0,
        };
        let rest = &self.word[first_len..];
        let (full, prefix) = if distance == 0 {
            (None, None)
        } else {
            let b = builder(distance);
            // A short word relaxed to one edit is no prefix: within an edit, "ea…" would begin half the names.
            let prefix = self.last && !(self.first_letter == FirstLetter::Relaxed && chars < 4);
            (Some(b.build_dfa(rest)), prefix.then(|| b.build_prefix_dfa(rest)))
        };
        Ok(Box::new(WordWeight {
            word: self.word.clone(),
            first_len,
            chars,
            last: self.last,
            fields: self.fields.clone(),
            full,
            prefix,
            base: self.base,
        }))
    }
}

struct WordWeight {
    word: String,
    /// Bytes of the word's first character, which fuzzy matches must share (0: none, [`FirstLetter::Fuzzy`]).
    first_len: usize,
    chars: usize,
    last: bool,
    fields: Vec<(Field, f32)>,
    full: Option<DFA>,
    prefix: Option<DFA>,
    base: f32,
}

impl WordWeight {
    /// Every matching term of one field with its points.
    fn matching_terms(&self, inverted: &InvertedIndexReader, weight: f32) -> tantivy::Result<Vec<(TermInfo, u8)>> {
        let dict = inverted.terms();
        let word = self.word.as_bytes();
        let points = |score: f32| (score * weight * FULL).round().clamp(1.0, 255.0) as u8;
        let mut out = Vec::new();
        let term_len = |key: &[u8]| std::str::from_utf8(key).map_or(key.len(), |s| s.chars().count());
        match (&self.full, &self.prefix) {
            (None, _) if !self.last => {
                if let Some(info) = dict.get(word)? {
                    out.push((info, points(1.0)));
                }
            }
            (None, _) => {
                let mut range = dict.range().ge(word);
                if let Some(end) = prefix_end(word) {
                    range = range.lt(end);
                }
                let mut stream = range.into_stream()?;
                while stream.advance() {
                    let key = stream.key();
                    let full = (key == word).then_some(0);
                    let score = term_score(self.chars, term_len(key), full, Some(0));
                    out.push((stream.value().clone(), points(score)));
                }
            }
            (Some(full), prefix) => {
                let first = &word[..self.first_len];
                let automaton = Anchored { first, dfa: prefix.as_ref().unwrap_or(full) };
                let mut stream = dict.search(automaton).into_stream()?;
                while stream.advance() {
                    let key = stream.key();
                    let rest = &key[self.first_len.min(key.len())..];
                    let full_d = exact(full.eval(rest));
                    let prefix_d = prefix.as_ref().and_then(|p| exact(p.eval(rest)));
                    let score = term_score(self.chars, term_len(key), full_d, prefix_d);
                    if score > 0.0 {
                        out.push((stream.value().clone(), points(score)));
                    }
                }
            }
        }
        Ok(out)
    }
}

fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl Weight for WordWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut per_field = Vec::with_capacity(self.fields.len());
        for &(field, weight) in &self.fields {
            let inverted = reader.inverted_index(field)?;
            let terms = self.matching_terms(&inverted, weight)?;
            per_field.push((inverted, terms));
        }
        let postings: u64 =
            per_field.iter().flat_map(|(_, terms)| terms).map(|(info, _)| u64::from(info.doc_freq)).sum();
        let max_doc = reader.max_doc();
        let mut scorer = WordScorer {
            boost,
            base: self.base,
            set: MatchSet::Sparse { docs: Vec::new(), points: Vec::new() },
            pos: 0,
        };
        // Few postings: sort them; many: a dense per-document table is cheaper than sorting.
        if postings <= u64::from(max_doc / 64) + 256 {
            let mut keys = Vec::with_capacity(postings as usize);
            for (inverted, terms) in &per_field {
                for (info, pts) in terms {
                    for_each_doc(inverted, info, |doc| keys.push((u64::from(doc) << 8) | u64::from(255 - pts)))?;
                }
            }
            keys.sort_unstable();
            let mut docs = Vec::with_capacity(keys.len());
            let mut points = Vec::with_capacity(keys.len());
            for k in keys {
                let doc = (k >> 8) as DocId;
                if docs.last() != Some(&doc) {
                    docs.push(doc);
                    points.push(255 - (k & 0xff) as u8);
                }
            }
            scorer.set = MatchSet::Sparse { docs, points };
        } else {
            let mut points = vec![0u8; max_doc as usize];
            let mut bits = vec![0u64; (max_doc as usize).div_ceil(64)];
            for (inverted, terms) in &per_field {
                for (info, pts) in terms {
                    for_each_doc(inverted, info, |doc| {
                        let slot = &mut points[doc as usize];
                        *slot = (*slot).max(*pts);
                        bits[(doc / 64) as usize] |= 1 << (doc % 64);
                    })?;
                }
            }
            scorer.set = MatchSet::Dense { bits, points, max_doc };
        }
        scorer.pos = scorer.set.first();
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        Ok(Explanation::new("WordQuery", scorer.score()))
    }
}

/// Calls `f` for every document (deleted ones included; collectors skip those) of a posting list.
fn for_each_doc(inverted: &InvertedIndexReader, info: &TermInfo, mut f: impl FnMut(DocId)) -> tantivy::Result<()> {
    let mut block = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    loop {
        let docs = block.docs();
        if docs.is_empty() {
            return Ok(());
        }
        docs.iter().for_each(|&d| f(d));
        block.advance();
    }
}

enum MatchSet {
    Sparse { docs: Vec<DocId>, points: Vec<u8> },
    Dense { bits: Vec<u64>, points: Vec<u8>, max_doc: DocId },
}

impl MatchSet {
    fn first(&self) -> usize {
        match self {
            MatchSet::Sparse { .. } => 0,
            MatchSet::Dense { .. } => self.next_dense(0),
        }
    }

    /// First set bit at or after `from`, or `max_doc`.
    fn next_dense(&self, from: usize) -> usize {
        let MatchSet::Dense { bits, max_doc, .. } = self else { return 0 };
        let max = *max_doc as usize;
        if from >= max {
            return max;
        }
        let mut word = from / 64;
        let mut w = bits[word] & (u64::MAX << (from % 64));
        loop {
            if w != 0 {
                return (word * 64 + w.trailing_zeros() as usize).min(max);
            }
            word += 1;
            if word >= bits.len() {
                return max;
            }
            w = bits[word];
        }
    }
}

struct WordScorer {
    boost: Score,
    base: f32,
    set: MatchSet,
    /// Sparse: index into `docs`; dense: the document id.
    pos: usize,
}

impl DocSet for WordScorer {
    fn advance(&mut self) -> DocId {
        self.pos = match &self.set {
            MatchSet::Sparse { docs, .. } => (self.pos + 1).min(docs.len()),
            MatchSet::Dense { .. } => self.set.next_dense(self.pos + 1),
        };
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        self.pos = match &self.set {
            MatchSet::Sparse { docs, .. } => self.pos + docs[self.pos..].partition_point(|&d| d < target),
            MatchSet::Dense { .. } => self.set.next_dense(target as usize),
        };
        self.doc()
    }

    fn doc(&self) -> DocId {
        match &self.set {
            MatchSet::Sparse { docs, .. } => docs.get(self.pos).copied().unwrap_or(TERMINATED),
            MatchSet::Dense { max_doc, .. } => {
                if self.pos >= *max_doc as usize {
                    TERMINATED
                } else {
                    self.pos as DocId
                }
            }
        }
    }

    fn size_hint(&self) -> u32 {
        match &self.set {
            MatchSet::Sparse { docs, .. } => docs.len() as u32,
            MatchSet::Dense { max_doc, .. } => *max_doc,
        }
    }
}

impl Scorer for WordScorer {
    fn score(&mut self) -> Score {
        let pts = match &self.set {
            MatchSet::Sparse { points, .. } => points.get(self.pos).copied().unwrap_or(0),
            MatchSet::Dense { points, .. } => points.get(self.pos).copied().unwrap_or(0),
        };
        (self.base + f32::from(pts) / FULL) * self.boost
    }
}
