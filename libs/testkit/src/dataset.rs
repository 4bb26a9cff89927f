//! IMDb dataset files for tests: a temporary directory removed when dropped, plain and gzipped writers, the
//! files' header lines, and the bundled sample with what an import of it must count.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A temporary directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory named `iknow-{what}-{uuid}` under the system's temporary directory.
    pub fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("iknow-{what}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` with the given lines (each ends in a newline).
    pub fn write(&self, name: &str, lines: &[&str]) -> PathBuf {
        let path = self.0.join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Writes `name` (ending in .gz) as the gzip of the given bytes.
    pub fn write_gz(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const TITLE_HEADER: &str =
    "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres";
pub const NAME_HEADER: &str = "nconst\tprimaryName\tbirthYear\tdeathYear\tprimaryProfession\tknownForTitles";
pub const PRINCIPAL_HEADER: &str = "tconst\tordering\tnconst\tcategory\tjob\tcharacters";
pub const EPISODE_HEADER: &str = "tconst\tparentTconst\tseasonNumber\tepisodeNumber";
pub const RATING_HEADER: &str = "tconst\taverageRating\tnumVotes";
pub const AKA_HEADER: &str = "titleId\tordering\ttitle\tregion\tlanguage\ttypes\tattributes\tisOriginalTitle";

/// The bundled sample dataset (`data/sample/imdb` of the repository).
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/imdb")
}

/// The data lines of the sample file `name` (the header skipped), split into columns.
pub fn sample_rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(sample_dir().join(name)).unwrap();
    text.lines().skip(1).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// What an import of the bundled sample must count, worked out from its files (not by the importer's code).
#[derive(Debug)]
pub struct SampleCounts {
    /// Lines of `title.basics.tsv`.
    pub titles: u64,
    /// Lines of `title.episode.tsv`.
    pub episodes: u64,
    /// Lines of `name.basics.tsv`.
    pub people: u64,
    /// Lines of `title.principals.tsv`.
    pub principals: u64,
    /// Principals that are acting credits (actor, actress, self); the others are crew.
    pub acting_credits: u64,
    /// Distinct people with an acting credit, in `name.basics.tsv` or not.
    pub acting_people: u64,
    /// Acting credits of people that `name.basics.tsv` has.
    pub known_credits: u64,
    /// People with an acting credit that `name.basics.tsv` lacks (the upstream files miss a few).
    pub missing: BTreeSet<String>,
}

impl SampleCounts {
    pub fn read() -> Self {
        let names: HashSet<String> = sample_rows("name.basics.tsv").into_iter().map(|r| r[0].clone()).collect();
        let principals = sample_rows("title.principals.tsv");
        let acting: Vec<&Vec<String>> =
            principals.iter().filter(|r| matches!(r[3].as_str(), "actor" | "actress" | "self")).collect();
        let acting_people: HashSet<&str> = acting.iter().map(|r| r[2].as_str()).collect();
        let missing = acting_people.iter().filter(|n| !names.contains(**n)).map(|n| n.to_string()).collect();
        Self {
            titles: sample_rows("title.basics.tsv").len() as u64,
            episodes: sample_rows("title.episode.tsv").len() as u64,
            people: names.len() as u64,
            principals: principals.len() as u64,
            acting_credits: acting.len() as u64,
            acting_people: acting_people.len() as u64,
            known_credits: acting.iter().filter(|r| names.contains(&r[2])).count() as u64,
            missing,
        }
    }

    /// People the import writes: those with an acting credit that `name.basics.tsv` has.
    pub fn written_people(&self) -> u64 {
        self.acting_people - self.missing.len() as u64
    }
}
