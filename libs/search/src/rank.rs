//! Turns a text-relevance score into the sort key of the requested order, reading the fast fields
//! (popularity, year, name key) of each matching document; and reads the ids of the page's documents.

use tantivy::collector::{ScoreSegmentTweaker, ScoreTweaker};
use tantivy::columnar::Column;
use tantivy::index::SegmentReader;
use tantivy::{DocAddress, Searcher};
use tantivy::{DocId, Score};
use uuid::Uuid;

use crate::{SortBy, SortOrder};

/// Fast-field names shared with the schema.
pub(crate) const POPULARITY: &str = "popularity";
pub(crate) const YEAR: &str = "year";
pub(crate) const NAME_HI: &str = "name_hi";
pub(crate) const NAME_LO: &str = "name_lo";
pub(crate) const ID_HI: &str = "id_hi";
pub(crate) const ID_LO: &str = "id_lo";

/// Weight of popularity (0..=100) added to the text score: enough to order equally relevant documents,
/// too little to lift a fuzzy match above an exact one (a typo costs at least 0.2 points).
const POPULARITY_WEIGHT: f64 = 0.1 / 100.0;

/// Higher ranks first; `keys` compare lexicographically (ties keep the collector's document order).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub(crate) struct Rank {
    keys: [u64; 3],
}

/// The ids of documents, read only for the page rather than for every match.
pub(crate) fn ids(searcher: &Searcher, docs: &[DocAddress]) -> tantivy::Result<Vec<Uuid>> {
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let ff = searcher.segment_reader(d.segment_ord).fast_fields();
        let hi = ff.u64(ID_HI)?.first(d.doc_id).unwrap_or(0);
        let lo = ff.u64(ID_LO)?.first(d.doc_id).unwrap_or(0);
        out.push(Uuid::from_u128((u128::from(hi) << 64) | u128::from(lo)));
    }
    Ok(out)
}

/// Builds [`Rank`]s for one query order.
pub(crate) struct Ranker {
    pub(crate) sort_by: SortBy,
    pub(crate) order: SortOrder,
}

pub(crate) struct SegmentRanker {
    sort_by: SortBy,
    asc: bool,
    popularity: Column<f64>,
    year: Column<i64>,
    name_hi: Column<u64>,
    name_lo: Column<u64>,
}

impl ScoreTweaker<Rank> for Ranker {
    type Child = SegmentRanker;

    fn segment_tweaker(&self, segment: &SegmentReader) -> tantivy::Result<SegmentRanker> {
        let ff = segment.fast_fields();
        Ok(SegmentRanker {
            sort_by: self.sort_by,
            asc: self.order == SortOrder::Asc,
            popularity: ff.f64(POPULARITY)?,
            year: ff.i64(YEAR)?,
            name_hi: ff.u64(NAME_HI)?,
            name_lo: ff.u64(NAME_LO)?,
        })
    }
}

/// Maps a non-negative float to a u64 with the same order.
fn ordered(value: f64) -> u64 {
    tantivy::f64_to_u64(value)
}

impl ScoreSegmentTweaker<Rank> for SegmentRanker {
    fn score(&mut self, doc: DocId, score: Score) -> Rank {
        let popularity = self.popularity.first(doc).unwrap_or(0.0);
        let relevance = ordered(f64::from(score) + popularity * POPULARITY_WEIGHT);
        let flip = |k: u64| if self.asc { !k } else { k };
        let keys = match self.sort_by {
            SortBy::Relevance => [relevance, 0, 0],
            SortBy::Popularity => [flip(ordered(popularity)), relevance, 0],
            SortBy::Name => {
                [flip(self.name_hi.first(doc).unwrap_or(0)), flip(self.name_lo.first(doc).unwrap_or(0)), relevance]
            }
            // Documents without a year come last in both orders.
            SortBy::Year => match self.year.first(doc) {
                Some(y) => [1, flip(tantivy::i64_to_u64(y)), relevance],
                None => [0, 0, relevance],
            },
        };
        Rank { keys }
    }
}
