//! A recall-oriented search for identification: documents matching ANY query word (typo- and
//! prefix-tolerant like [`NameIndex::search`]), best-covered first. It finds "the matrix" when a typo fell on a
//! short word that must otherwise match exactly ("teh matrix"), or when the query holds a word the title lacks.

use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::rank::{self, Ranker};
use crate::word_query::FirstLetter;
use crate::{NameIndex, SearchError, SortBy, SortOrder, Uuid, analyzer};

impl NameIndex {
    /// Ids of up to `limit` docs whose whole name (or an alternative name) is `text` once normalised, most
    /// popular first: one term lookup.
    pub fn exact(&self, text: &str, limit: usize) -> Result<Vec<Uuid>, SearchError> {
        let mut analyzer = self.inner.analyzer.clone();
        let words = analyzer::tokens(&mut analyzer, text);
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let exact =
            TermQuery::new(Term::from_field_text(self.inner.fields.key, &words.join(" ")), IndexRecordOption::Basic);
        let searcher = self.inner.reader.searcher();
        let top = TopDocs::with_limit(limit).tweak_score(Ranker { sort_by: SortBy::Relevance, order: SortOrder::Desc });
        let page = searcher.search(&exact, &top)?;
        let docs: Vec<_> = page.into_iter().map(|(_, doc)| doc).collect();
        Ok(rank::ids(&searcher, &docs)?)
    }

    /// Ids of up to `limit` docs matching at least one word of `text` (ranked by the sum of the words' match
    /// scores, an exact full name first, then popularity). Empty text gives nothing.
    pub fn search_any(&self, text: &str, limit: usize) -> Result<Vec<Uuid>, SearchError> {
        let mut analyzer = self.inner.analyzer.clone();
        let words = analyzer::tokens(&mut analyzer, text);
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.inner.fields;
        let mut clauses = self.word_clauses(&words, Occur::Should, FirstLetter::Exact, 0.0);
        let exact = TermQuery::new(Term::from_field_text(f.key, &words.join(" ")), IndexRecordOption::Basic);
        clauses.push((Occur::Should, Box::new(ConstScoreQuery::new(Box::new(exact), 1.0))));
        let query = BooleanQuery::new(clauses);
        let searcher = self.inner.reader.searcher();
        let top = TopDocs::with_limit(limit).tweak_score(Ranker { sort_by: SortBy::Relevance, order: SortOrder::Desc });
        let page = searcher.search(&query, &top)?;
        let docs: Vec<_> = page.into_iter().map(|(_, doc)| doc).collect();
        Ok(rank::ids(&searcher, &docs)?)
    }
}
