//! IMDb dataset files for tests: a temporary directory removed when dropped, plain and gzipped writers, and
//! the files' header lines.

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
