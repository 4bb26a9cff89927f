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

#[cfg(test)]
mod tests {
    use iknow_testkit::dataset::{EPISODE_HEADER, NAME_HEADER, PRINCIPAL_HEADER, TITLE_HEADER, TempDir};

    use super::*;

    /// The asked directory: a film, a series with two episodes (one in a series the data lack), a crew credit,
    /// a credit of a person no file names, a malformed line and a person who never acts.
    fn asked() -> TempDir {
        let dir = TempDir::new("eval-data");
        dir.write(
            "title.basics.tsv",
            &[
                TITLE_HEADER,
                "tt0000001\tmovie\tHeat\tHeat Original\t0\t1995\t\\N\t170\tCrime",
                "tt0000002\ttvSeries\tThe Show\tThe Show\t0\t2010\t2012\t\\N\tDrama",
                "tt0000003\ttvEpisode\tPilot\tPilot\t0\t2010\t\\N\t45\tDrama",
                "tt0000004\ttvEpisode\tLost One\tLost One\t0\t2011\t\\N\t45\tDrama",
                "tt0000005\tmovie\tToo Few Columns",
            ],
        );
        dir.write("title.episode.tsv", &[EPISODE_HEADER, "tt0000003\ttt0000002\t1\t2", "tt0000004\ttt0000999\t1\t1"]);
        dir.write(
            "title.principals.tsv",
            &[
                PRINCIPAL_HEADER,
                "tt0000001\t1\tnm0000001\tactor\t\\N\t[\"Neil McCauley\"]",
                "tt0000001\t2\tnm0000002\tactress\t\\N\t[\"Eady\"]",
                "tt0000001\t3\tnm0000003\tdirector\t\\N\t\\N",
                "tt0000001\t4\tnm0000404\tactor\t\\N\t[\"Nobody\"]",
                "tt0000003\t1\tnm0000002\tactress\t\\N\t[\"Jane\"]",
                "tt0000003\t2\tnm0000001\tself\t\\N\t[\"Himself\"]",
            ],
        );
        dir.write(
            "name.basics.tsv",
            &[
                NAME_HEADER,
                "nm0000001\tRobert De Niro\t1943\t\\N\tactor\ttt0000001",
                "nm0000002\tAmy Brenneman\t1964\t\\N\tactress\ttt0000001",
                "nm0000003\tMichael Mann\t1943\t\\N\tdirector\ttt0000001",
            ],
        );
        dir
    }

    /// Another catalogued directory: one title the asked one has too (kept as first read) and one of its own.
    fn other() -> TempDir {
        let dir = TempDir::new("eval-data-other");
        dir.write(
            "title.basics.tsv",
            &[
                TITLE_HEADER,
                "tt0000001\tmovie\tHeat Again\tHeat Again\t0\t2001\t\\N\t90\tCrime",
                "tt0000010\tmovie\tRonin\tRonin\t0\t1998\t\\N\t122\tAction",
            ],
        );
        dir.write(
            "title.principals.tsv",
            &[
                PRINCIPAL_HEADER,
                "tt0000001\t9\tnm0000011\tactor\t\\N\t[\"Late Extra\"]",
                "tt0000010\t1\tnm0000001\tactor\t\\N\t[\"Sam\"]",
                "tt0000010\t2\tnm0000012\tactress\t\\N\t[\"Deirdre\"]",
            ],
        );
        dir.write(
            "name.basics.tsv",
            &[
                NAME_HEADER,
                "nm0000001\tBobby Renamed\t1943\t\\N\tactor\ttt0000010",
                "nm0000011\tLate Extra\t1970\t\\N\tactor\ttt0000001",
                "nm0000012\tNatascha McElhone\t1969\t\\N\tactress\ttt0000010",
            ],
        );
        dir
    }

    #[test]
    fn the_asked_directory_is_read_with_kinds_episodes_and_acting_credits() {
        let dir = asked();
        let ds = Dataset::load(dir.path(), &[]).unwrap();
        let ids: Vec<(&str, Kind, bool)> = ds.titles.iter().map(|t| (t.id.as_str(), t.kind, t.asked)).collect();
        assert_eq!(
            ids,
            [
                ("tt0000001", Kind::Movie, true),
                ("tt0000002", Kind::Series, true),
                ("tt0000003", Kind::Episode, true),
                ("tt0000004", Kind::Episode, true),
            ],
            "the malformed line is left out"
        );
        let heat = &ds.titles[0];
        assert_eq!((heat.title.as_str(), heat.original.as_str(), heat.year), ("Heat", "Heat Original", Some(1995)));
        // Acting credits of named people only: the director and the unnamed nm0000404 are gone.
        assert_eq!(
            heat.cast,
            [
                Credit { actor: "nm0000001".into(), characters: vec!["Neil McCauley".into()] },
                Credit { actor: "nm0000002".into(), characters: vec!["Eady".into()] },
            ]
        );
        assert_eq!(ds.titles[2].slot, Some(Slot { series: 1, season: Some(1), number: Some(2) }));
        assert_eq!(ds.titles[3].slot, None, "its series is not in the data");
        assert_eq!(ds.titles[2].cast.len(), 2, "a self credit is an acting credit: {:?}", ds.titles[2].cast);
        // Only people with an acting credit are named.
        let mut named: Vec<&str> = ds.names.keys().map(String::as_str).collect();
        named.sort_unstable();
        assert_eq!(named, ["nm0000001", "nm0000002"]);
        assert_eq!(ds.asked_actors(), ["nm0000001", "nm0000002"], "each once, in file order");
        assert_eq!((ds.count(Kind::Movie), ds.count(Kind::Series), ds.count(Kind::Episode)), (1, 1, 2));
    }

    #[test]
    fn other_directories_only_add_what_the_asked_one_lacks() {
        let (dir, more) = (asked(), other());
        let ds = Dataset::load(dir.path(), &[more.path(), dir.path()]).unwrap();
        assert_eq!(ds.titles.len(), 5, "the asked directory named again is not read twice");
        let heat = &ds.titles[0];
        assert_eq!(heat.title, "Heat", "a title already read is kept as first read");
        assert_eq!(heat.cast.len(), 2, "and the other directory's credits of it are not added");
        let ronin = &ds.titles[4];
        assert_eq!((ronin.id.as_str(), ronin.asked, ronin.cast.len()), ("tt0000010", false, 2));
        assert_eq!(ds.names["nm0000001"], "Robert De Niro", "a name already read is kept as first read");
        assert_eq!(ds.names["nm0000012"], "Natascha McElhone");
        assert!(!ds.names.contains_key("nm0000011"), "credited only on a title the other directory did not add");
        // Counts and asked actors are of the asked titles only.
        assert_eq!(ds.asked_actors(), ["nm0000001", "nm0000002"]);
        assert_eq!(ds.count(Kind::Movie), 1);
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it_and_title_episode_is_optional() {
        let dir = asked();
        std::fs::remove_file(dir.path().join("title.episode.tsv")).unwrap();
        let ds = Dataset::load(dir.path(), &[]).unwrap();
        assert!(ds.titles.iter().all(|t| t.slot.is_none()));
        std::fs::remove_file(dir.path().join("name.basics.tsv")).unwrap();
        let e = Dataset::load(dir.path(), &[]).unwrap_err();
        assert!(format!("{e:#}").contains("name.basics.tsv"), "{e:#}");
    }
}
