//! In-memory name search over actors and titles: case-, accent-, word-order-, prefix- and typo-tolerant,
//! ranked by closeness then popularity, with kind/year filters, sorting and exact totals (tantivy, RAM index).
#![forbid(unsafe_code)]

mod analyzer;
mod candidates;
pub mod matcher;
mod rank;
#[cfg(test)]
mod tests;
mod word_query;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::collector::{Count, TopDocs};
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query as TantivyQuery, TermQuery};
use tantivy::schema::{
    BytesOptions, FAST, Field, INDEXED, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
pub use uuid::Uuid;

use crate::analyzer::NAME_ANALYZER;
use crate::rank::{ID_HI, ID_LO, NAME_HI, NAME_LO, POPULARITY, Ranker, YEAR};
use crate::word_query::{FirstLetter, WordQuery};

/// Kind of a title (for an actor: the kinds of titles they are credited in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Movie,
    Series,
    Episode,
}

impl Kind {
    fn code(self) -> u64 {
        match self {
            Kind::Movie => 0,
            Kind::Series => 1,
            Kind::Episode => 2,
        }
    }
}

/// Order of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Relevance,
    Name,
    Popularity,
    Year,
}

/// Direction of a non-relevance sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Desc,
    Asc,
}

/// One searchable record (an actor or a title).
#[derive(Debug, Clone)]
pub struct Doc {
    pub id: Uuid,
    /// Actor name or title.
    pub name: String,
    /// E.g. original title; searchable, lower weight.
    pub alt_names: Vec<String>,
    /// 0..=100, used as a ranking boost and for SortBy::Popularity.
    pub popularity: f64,
    /// Sort key for SortBy::Year (actor: latest credit year; title: release year).
    pub year: Option<i32>,
    /// Filter: actor = kinds of titles credited in; title = its own kind.
    pub kinds: Vec<Kind>,
    /// Filter: actor = years of credited titles; title = its release year.
    pub years: Vec<i32>,
}

/// A search request.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Raw user text, 1..=100 chars.
    pub text: String,
    /// None = all.
    pub kind: Option<Kind>,
    /// None = any.
    pub year: Option<i32>,
    pub sort_by: SortBy,
    /// Ignored for Relevance (always best first).
    pub sort_order: SortOrder,
    pub limit: usize,
    pub offset: usize,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Hits {
    /// The requested page, in order.
    pub ids: Vec<Uuid>,
    /// All matches.
    pub total: u64,
}

/// Longest accepted query text, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// What each matched word scores in the relaxed pass before its closeness (0..=1) is added: more matched words
/// always rank first.
const MATCHED_WORD: f32 = 10.0;

/// Largest `offset + limit` served: deeper pages cost memory and nobody reads them.
pub const MAX_WINDOW: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query is unusable (empty or too long text, too deep a page); becomes InvalidArgument.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The index failed; becomes Internal.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A writer thread panicked while holding the index lock; becomes Internal.
    #[error("search index writer lock poisoned")]
    Poisoned,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    name: Field,
    alt: Field,
    key: Field,
    /// The normalised name without spaces ("tomhanks"): what a merged or moved space is matched against.
    joined: Field,
    kinds: Field,
    years: Field,
    popularity: Field,
    year: Field,
    name_hi: Field,
    name_lo: Field,
    id_hi: Field,
    id_lo: Field,
}

struct Writer {
    writer: IndexWriter,
    /// Ids present, so an upsert deletes only what exists (a delete per new id would cost a term lookup per segment).
    ids: HashSet<Uuid>,
    /// When the last upsert or remove committed.
    last_write: Instant,
}

struct Inner {
    reader: IndexReader,
    writer: Mutex<Writer>,
    fields: Fields,
    analyzer: TextAnalyzer,
}

/// In-memory (RAM) index; cheap to share (`Clone` = same index, Send + Sync).
#[derive(Clone)]
pub struct NameIndex {
    inner: Arc<Inner>,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(NAME_ANALYZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let fast = NumericOptions::default().set_fast();
    let fields = Fields {
        id: b.add_bytes_field("id", BytesOptions::default().set_indexed()),
        name: b.add_text_field("name", text.clone()),
        alt: b.add_text_field("alt", text),
        key: b.add_text_field("key", tantivy::schema::STRING),
        joined: b.add_text_field("joined", tantivy::schema::STRING),
        kinds: b.add_u64_field("kinds", INDEXED),
        years: b.add_i64_field("years", INDEXED),
        popularity: b.add_f64_field(POPULARITY, FAST),
        year: b.add_i64_field(YEAR, fast.clone()),
        name_hi: b.add_u64_field(NAME_HI, fast.clone()),
        name_lo: b.add_u64_field(NAME_LO, fast.clone()),
        id_hi: b.add_u64_field(ID_HI, fast.clone()),
        id_lo: b.add_u64_field(ID_LO, fast),
    };
    (b.build(), fields)
}

impl NameIndex {
    /// An empty index.
    pub fn new() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(NAME_ANALYZER, analyzer::analyzer());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2);
        let writer: IndexWriter = index.writer_with_num_threads(threads, threads * 64_000_000)?;
        // Every commit is a segment, and a query walks every segment's term dictionary. Merging as soon as two
        // segments are alike took half of two cores while an import wrote 3M names 2,000 at a time (perf), so
        // merges wait for eight alike (tantivy's default) and a quiet index is merged whole (`compact`).
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        // Commits reload explicitly (read-your-writes); the watch also picks up background merges, which
        // otherwise would stay invisible (and the many small segments searched) until the next write.
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        Ok(Self {
            inner: Arc::new(Inner {
                reader,
                writer: Mutex::new(Writer { writer, ids: HashSet::new(), last_write: Instant::now() }),
                fields,
                analyzer: analyzer::analyzer(),
            }),
        })
    }

    /// Adds or replaces (by id) docs; visible to searches when it returns.
    #[tracing::instrument(skip_all, fields(docs = docs.len()))]
    pub fn upsert(&self, docs: Vec<Doc>) -> Result<(), SearchError> {
        if docs.is_empty() {
            return Ok(());
        }
        let f = self.inner.fields;
        let mut analyzer = self.inner.analyzer.clone();
        let mut w = self.inner.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for doc in docs {
            if !w.ids.insert(doc.id) {
                w.writer.delete_term(Term::from_field_bytes(f.id, doc.id.as_bytes()));
            }
            w.writer.add_document(self.to_tantivy(&mut analyzer, doc))?;
        }
        w.writer.commit()?;
        w.last_write = Instant::now();
        self.inner.reader.reload()?;
        Ok(())
    }

    /// Merges every segment into one (blocking until done; writes go on meanwhile) and answers whether there
    /// was anything to merge. A background merge that replaced some of the segments meanwhile fails the first
    /// attempt; the second one takes the segments as they are then.
    pub fn compact(&self) -> Result<bool, SearchError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let merge = {
                let mut w = self.inner.writer.lock().map_err(|_| SearchError::Poisoned)?;
                let ids = self.inner.reader.searcher().index().searchable_segment_ids()?;
                if ids.len() < 2 {
                    return Ok(false);
                }
                w.writer.merge(&ids)
            };
            match merge.wait() {
                Ok(_) => break,
                Err(e) if attempt >= 2 => return Err(e.into()),
                Err(_) => continue,
            }
        }
        self.inner.reader.reload()?;
        Ok(true)
    }

    /// Whether [`Self::compact`] is worth running: more than `max_segments` segments and no write for `quiet`.
    pub fn compaction_due(&self, max_segments: usize, quiet: Duration) -> bool {
        let idle = match self.inner.writer.lock() {
            Ok(w) => w.last_write.elapsed(),
            Err(_) => return false,
        };
        idle >= quiet && self.segment_count() > max_segments
    }

    /// Removes docs by id; unknown ids are ignored.
    #[tracing::instrument(skip_all, fields(ids = ids.len()))]
    pub fn remove(&self, ids: &[Uuid]) -> Result<(), SearchError> {
        let mut w = self.inner.writer.lock().map_err(|_| SearchError::Poisoned)?;
        let mut changed = false;
        for id in ids {
            if w.ids.remove(id) {
                w.writer.delete_term(Term::from_field_bytes(self.inner.fields.id, id.as_bytes()));
                changed = true;
            }
        }
        if changed {
            w.writer.commit()?;
            w.last_write = Instant::now();
            self.inner.reader.reload()?;
        }
        Ok(())
    }

    fn to_tantivy(&self, analyzer: &mut TextAnalyzer, doc: Doc) -> TantivyDocument {
        let f = self.inner.fields;
        let mut d = TantivyDocument::new();
        let id = doc.id.as_u128();
        d.add_bytes(f.id, doc.id.as_bytes());
        d.add_u64(f.id_hi, (id >> 64) as u64);
        d.add_u64(f.id_lo, id as u64);
        let key = analyzer::key(analyzer, &doc.name);
        let (hi, lo) = analyzer::sort_key(&key);
        d.add_u64(f.name_hi, hi);
        d.add_u64(f.name_lo, lo);
        d.add_text(f.name, analyzer::strip_apostrophes(&doc.name));
        d.add_text(f.joined, key.replace(' ', ""));
        d.add_text(f.key, key);
        for alt in &doc.alt_names {
            d.add_text(f.alt, analyzer::strip_apostrophes(alt));
            let key = analyzer::key(analyzer, alt);
            d.add_text(f.joined, key.replace(' ', ""));
            d.add_text(f.key, key);
        }
        d.add_f64(f.popularity, doc.popularity.clamp(0.0, 100.0));
        if let Some(y) = doc.year {
            d.add_i64(f.year, i64::from(y));
        }
        let mut kinds: Vec<u64> = doc.kinds.iter().map(|k| k.code()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds.into_iter().for_each(|k| d.add_u64(f.kinds, k));
        let mut years = doc.years;
        years.sort_unstable();
        years.dedup();
        years.into_iter().for_each(|y| d.add_i64(f.years, i64::from(y)));
        d
    }

    /// One page of matches for `q` in the requested order, with the exact number of matches.
    pub fn search(&self, q: &Query) -> Result<Hits, SearchError> {
        let chars = q.text.chars().count();
        if q.text.trim().is_empty() || chars > MAX_QUERY_CHARS {
            return Err(SearchError::InvalidQuery(format!("text must have 1..={MAX_QUERY_CHARS} characters")));
        }
        if q.offset.saturating_add(q.limit) > MAX_WINDOW {
            return Err(SearchError::InvalidQuery(format!("offset + limit must not exceed {MAX_WINDOW}")));
        }
        let mut analyzer = self.inner.analyzer.clone();
        let words = analyzer::tokens(&mut analyzer, &q.text);
        let hits = self.search_words(q, &words, FirstLetter::Exact)?;
        // Nothing matches every word: a typo in a first letter ("beanu reeves") or in a short word ("ea green"),
        // a moved or missing space ("ra yliotta", "tomhanks"), or a word the name lacks. The relaxed pass.
        if hits.total == 0 {
            return self.search_relaxed(q, &words);
        }
        Ok(hits)
    }

    /// The relaxed pass: a name matches when ANY query word matches one of its words, typos allowed in first
    /// letters and (one) in words of two or three letters, or when the query without spaces matches the name
    /// without spaces. Ranked by how many query words matched, then by how closely (then popularity): a word
    /// that fails becomes optional instead of emptying the page.
    pub(crate) fn search_relaxed(&self, q: &Query, words: &[String]) -> Result<Hits, SearchError> {
        if words.is_empty() {
            return Ok(Hits { ids: Vec::new(), total: 0 });
        }
        let f = self.inner.fields;
        let n = words.len();
        let mut any = self.word_clauses(words, Occur::Should, FirstLetter::Relaxed, MATCHED_WORD);
        // The whole query without spaces against whole names without spaces counts as every word matched.
        let joined = words.concat();
        if joined.chars().count() >= 4 {
            let q = WordQuery::new(joined, true, vec![(f.joined, 1.0)], FirstLetter::Exact)
                .with_base(MATCHED_WORD * n as f32);
            any.push((Occur::Should, Box::new(q)));
        }
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(any)))];
        self.push_filters(q, &mut clauses);
        self.collect(q, BooleanQuery::new(clauses))
    }

    /// One clause per query word against the name fields (the last word may be a prefix), each scoring `base`
    /// more when it matches.
    pub(crate) fn word_clauses(
        &self,
        words: &[String],
        occur: Occur,
        first: FirstLetter,
        base: f32,
    ) -> Vec<(Occur, Box<dyn TantivyQuery>)> {
        let f = self.inner.fields;
        let n = words.len();
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let fields = vec![(f.name, 1.0), (f.alt, 0.8)];
                let q = WordQuery::new(w.clone(), i + 1 == n, fields, first).with_base(base);
                (occur, Box::new(q) as Box<dyn TantivyQuery>)
            })
            .collect()
    }

    /// The kind and year filters of `q`, as clauses that must match and do not score.
    fn push_filters(&self, q: &Query, clauses: &mut Vec<(Occur, Box<dyn TantivyQuery>)>) {
        let f = self.inner.fields;
        if let Some(kind) = q.kind {
            let t = TermQuery::new(Term::from_field_u64(f.kinds, kind.code()), IndexRecordOption::Basic);
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(t), 0.0))));
        }
        if let Some(year) = q.year {
            let t = TermQuery::new(Term::from_field_i64(f.years, i64::from(year)), IndexRecordOption::Basic);
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(t), 0.0))));
        }
    }

    /// One page of `query`'s matches in `q`'s order, with the exact number of matches.
    fn collect(&self, q: &Query, query: BooleanQuery) -> Result<Hits, SearchError> {
        let searcher = self.inner.reader.searcher();
        if q.limit == 0 {
            let total = searcher.search(&query, &Count)?;
            return Ok(Hits { ids: Vec::new(), total: total as u64 });
        }
        let sort_order = if q.sort_by == SortBy::Relevance { SortOrder::Desc } else { q.sort_order };
        let top = TopDocs::with_limit(q.limit)
            .and_offset(q.offset)
            .tweak_score(Ranker { sort_by: q.sort_by, order: sort_order });
        let (total, page) = searcher.search(&query, &(Count, top))?;
        let docs: Vec<_> = page.into_iter().map(|(_, doc)| doc).collect();
        Ok(Hits { ids: rank::ids(&searcher, &docs)?, total: total as u64 })
    }

    /// [`Self::search`] of already normalised `words`, with fuzzy matches anchored on first letters or not.
    pub(crate) fn search_words(&self, q: &Query, words: &[String], first: FirstLetter) -> Result<Hits, SearchError> {
        if words.is_empty() {
            return Ok(Hits { ids: Vec::new(), total: 0 });
        }
        let f = self.inner.fields;
        let key = words.join(" ");
        let mut clauses = self.word_clauses(words, Occur::Must, first, 0.0);
        // The exact full name (or alternative name) outranks any partial or fuzzy match.
        let exact = TermQuery::new(Term::from_field_text(f.key, &key), IndexRecordOption::Basic);
        clauses.push((Occur::Should, Box::new(ConstScoreQuery::new(Box::new(exact), 1.0))));
        self.push_filters(q, &mut clauses);
        self.collect(q, BooleanQuery::new(clauses))
    }

    /// Number of docs.
    pub fn len(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    /// Number of index segments (each query walks every segment's term dictionary).
    pub fn segment_count(&self) -> usize {
        self.inner.reader.searcher().segment_readers().len()
    }

    /// True when the index holds no doc.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
