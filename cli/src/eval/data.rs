//! The IMDb-format datasets the queries are made from: titles (with their kind and, for episodes, their series,
//! season and number), acting credits and names. One directory is *asked* (the queries come from it); others
//! only tell what else the catalogue holds, so that a query landing on another title or name is left out.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context as _;
use iknow::import::parse;
use iknow_proto::catalog::v1::ContentType;

/// One credit of a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub actor: String,
    pub characters: Vec<String>,
}

/// What a title is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Movie,
    Series,
    Episode,
}

/// Where an episode sits: its series (index into [`Dataset::titles`]), season and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub series: usize,
    pub season: Option<i32>,
    pub number: Option<i32>,
}

/// One title with its acting credits.
#[derive(Debug, Clone)]
pub struct Title {
    pub id: String,
    pub title: String,
    pub original: String,
    pub year: Option<i32>,
    pub kind: Kind,
    pub cast: Vec<Credit>,
    /// Set for an episode whose series is known.
    pub slot: Option<Slot>,
    /// Whether queries are made from this title (it comes from the asked directory).
    pub asked: bool,
}

#[cfg(test)]
impl Title {
    pub fn new(id: &str, title: &str, year: Option<i32>, kind: Kind, cast: &[(&str, &[&str])]) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            original: title.into(),
            year,
            kind,
            cast: cast
                .iter()
                .map(|(a, cs)| Credit { actor: (*a).into(), characters: cs.iter().map(|c| (*c).into()).collect() })
                .collect(),
            slot: None,
            asked: true,
        }
    }
}

/// Titles in file order (the asked directory's first), names by nconst, and which people the asked titles
/// credit.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub titles: Vec<Title>,
    pub names: HashMap<String, String>,
}

fn lines(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().filter(|l| !parse::is_header(l) && !l.is_empty()).map(str::to_owned).collect())
}

impl Dataset {
    /// Reads `asked` and then each of `others` (skipping one that is `asked` itself): title.basics,
    /// title.principals, name.basics and, when present, title.episode (plain TSV). A title or name already
    /// read is kept as first read.
    pub fn load(asked: &Path, others: &[&Path]) -> anyhow::Result<Self> {
        let mut ds = Self::default();
        ds.read_dir(asked, true)?;
        let same = |p: &Path| std::fs::canonicalize(p).ok() == std::fs::canonicalize(asked).ok();
        for dir in others.iter().filter(|d| !same(d)) {
            ds.read_dir(dir, false)?;
        }
        // Credits of people no file names are not imported.
        let names = &ds.names;
        for t in &mut ds.titles {
            t.cast.retain(|c| names.contains_key(&c.actor));
        }
        Ok(ds)
    }

    fn read_dir(&mut self, dir: &Path, asked: bool) -> anyhow::Result<()> {
        let mut index: HashMap<String, usize> =
            self.titles.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
        let mut new = HashSet::new();
        for line in lines(&dir.join("title.basics.tsv"))? {
            let Ok(t) = parse::title(&line) else { continue };
            if index.contains_key(&t.imdb_id) {
                continue;
            }
            let kind = match ContentType::try_from(t.content_type) {
                Ok(ContentType::Series) => Kind::Series,
                Ok(ContentType::Episode) => Kind::Episode,
                _ => Kind::Movie,
            };
            index.insert(t.imdb_id.clone(), self.titles.len());
            new.insert(self.titles.len());
            self.titles.push(Title {
                id: t.imdb_id,
                title: t.title,
                original: t.original_title,
                year: t.year,
                kind,
                cast: vec![],
                slot: None,
                asked,
            });
        }
        let episodes = dir.join("title.episode.tsv");
        if episodes.is_file() {
            for line in lines(&episodes)? {
                let Ok(e) = parse::episode(&line) else { continue };
                let (Some(&ep), Some(&series)) = (index.get(&e.episode_imdb_id), index.get(&e.series_imdb_id)) else {
                    continue;
                };
                if new.contains(&ep) {
                    self.titles[ep].slot = Some(Slot { series, season: e.season_number, number: e.episode_number });
                }
            }
        }
        let mut acting = HashSet::new();
        for line in lines(&dir.join("title.principals.tsv"))? {
            let Ok(p) = parse::principal(&line) else { continue };
            if !p.is_acting() {
                continue;
            }
            let Some(&t) = index.get(&p.credit.content_imdb_id) else { continue };
            if !new.contains(&t) {
                continue;
            }
            acting.insert(p.credit.actor_imdb_id.clone());
            self.titles[t].cast.push(Credit { actor: p.credit.actor_imdb_id, characters: p.credit.characters });
        }
        for line in lines(&dir.join("name.basics.tsv"))? {
            let Ok((_, a)) = parse::name(&line) else { continue };
            if acting.contains(&a.imdb_id) {
                self.names.entry(a.imdb_id).or_insert(a.name);
            }
        }
        Ok(())
    }

    /// People credited in the asked titles, each once, in file order.
    pub fn asked_actors(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for t in self.titles.iter().filter(|t| t.asked) {
            for c in &t.cast {
                if seen.insert(c.actor.as_str()) {
                    out.push(c.actor.as_str());
                }
            }
        }
        out
    }

    /// Asked titles of each kind.
    pub fn count(&self, kind: Kind) -> usize {
        self.titles.iter().filter(|t| t.asked && t.kind == kind).count()
    }
}
