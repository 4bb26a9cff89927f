//! `iknow bench generate`: a deterministic synthetic IMDb dataset (name.basics, title.basics, title.principals)
//! with realistic names drawn from the bundled sample, Zipf-ish credits per actor, streamed to disk.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// First IMDb number used, far above the sample's, so both datasets can live in one catalogue.
const ID_BASE: u64 = 50_000_001;
const NULL: &str = "\\N";
const GENRES: &[&str] = &[
    "Drama",
    "Comedy",
    "Action",
    "Thriller",
    "Romance",
    "Crime",
    "Horror",
    "Documentary",
    "Adventure",
    "Sci-Fi",
    "Family",
    "Mystery",
    "Fantasy",
    "Animation",
    "Biography",
    "History",
    "Music",
    "War",
    "Western",
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub actors: u64,
    pub titles: u64,
    pub credits: u64,
    pub seed: u64,
}

/// Counts written, for the report and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    pub actors: u64,
    pub titles: u64,
    pub credits: u64,
}

/// Name parts harvested from a sample `name.basics.tsv`, with the gender a first name was seen with.
#[derive(Debug, Clone)]
pub struct NamePool {
    /// (first name, is female)
    pub firsts: Vec<(String, bool)>,
    pub lasts: Vec<String>,
    /// Words for titles, from the sample `title.basics.tsv` when present.
    pub title_words: Vec<String>,
}

impl NamePool {
    /// Reads `name.basics.tsv` (and `title.basics.tsv` if present) of `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let names = dir.join("name.basics.tsv");
        let file = File::open(&names).with_context(|| format!("cannot open {}", names.display()))?;
        let (mut firsts, mut lasts) = (Vec::new(), Vec::new());
        for line in BufReader::new(file).lines().skip(1) {
            let line = line?;
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(name), Some(professions)) = (cols.get(1), cols.get(4)) else { continue };
            let words: Vec<&str> = name.split_whitespace().collect();
            if words.len() < 2 || words.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) {
                continue;
            }
            firsts.push((words[0].to_string(), professions.contains("actress")));
            lasts.push(words[words.len() - 1].to_string());
        }
        let mut title_words = Vec::new();
        if let Ok(file) = File::open(dir.join("title.basics.tsv")) {
            for line in BufReader::new(file).lines().skip(1) {
                let line = line?;
                if let Some(title) = line.split('\t').nth(2) {
                    title_words.extend(title.split_whitespace().filter(|w| w.len() > 2).map(str::to_string));
                }
            }
        }
        Self::new(firsts, lasts, title_words)
    }

    /// Deduplicates the parts (sorted, so the pool does not depend on the sample's line order).
    pub fn new(
        mut firsts: Vec<(String, bool)>,
        mut lasts: Vec<String>,
        mut title_words: Vec<String>,
    ) -> anyhow::Result<Self> {
        firsts.sort();
        firsts.dedup_by(|a, b| a.0 == b.0);
        lasts.sort();
        lasts.dedup();
        title_words.sort();
        title_words.dedup();
        if firsts.is_empty() || lasts.is_empty() {
            bail!("the sample has no two-word names to build from");
        }
        if title_words.is_empty() {
            title_words = ["Night", "Return", "Shadow", "Story", "Love", "City", "Last"].map(String::from).to_vec();
        }
        Ok(Self { firsts, lasts, title_words })
    }
}

/// SplitMix64 of (seed, stream, index): every value is a pure function of its coordinates, so any pass can
/// recompute an actor's name without storing it.
pub(super) fn mix(seed: u64, stream: u64, index: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1).
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Picks among `n` items: a quarter of the time Zipf-like (rank = n^u), else uniformly, so a few names are
/// common (the top one ~2%, like "John") without most full names repeating.
/// The rank is then scattered so common items are not alphabetically clustered.
fn zipfish(x: u64, n: usize) -> usize {
    let u = unit(x);
    let rank = if x & 3 == 0 { (n as f64).powf(u) as usize - 1 } else { (u * n as f64) as usize };
    (rank.min(n - 1) * 7919 + 13) % n
}

impl Spec {
    fn title_year(&self, t: u64) -> i32 {
        // More recent years are more frequent, as in IMDb.
        2026 - (unit(mix(self.seed, 10, t)).powi(2) * 107.0) as i32
    }

    /// Name and gender of actor `i`.
    pub fn actor_name(&self, pool: &NamePool, i: u64) -> (String, bool) {
        let (first, female) = &pool.firsts[zipfish(mix(self.seed, 1, i), pool.firsts.len())];
        let last = &pool.lasts[zipfish(mix(self.seed, 2, i), pool.lasts.len())];
        let m = mix(self.seed, 3, i) % 100;
        let name = if m < 4 {
            let middle = &pool.firsts[(mix(self.seed, 4, i) as usize) % pool.firsts.len()].0;
            format!("{first} {} {last}", middle.chars().next().unwrap_or('J'))
        } else if m < 6 {
            format!("{first} {last} Jr.")
        } else {
            format!("{first} {last}")
        };
        (name, *female)
    }

    /// Cast size of title `t`: `credits / titles` on average, jittered in pairs so the total is exact.
    fn cast_size(&self, t: u64) -> u64 {
        let base = self.credits / self.titles;
        let mut size = base + u64::from(t < self.credits % self.titles);
        let pair = t / 2;
        if t ^ 1 < self.titles && base > 1 {
            let jitter = mix(self.seed, 5, pair) % base.div_ceil(2);
            size = if t.is_multiple_of(2) { size + jitter } else { size - jitter };
        }
        size
    }

    /// Actor of the `g`-th credit overall: the first `actors` credits give every actor one (in a scattered
    /// order); the rest favour a minority of prolific actors (P(rank < k) = sqrt(k / actors)).
    fn credited_actor(&self, g: u64) -> u64 {
        if g < self.actors {
            (g * coprime_step(self.actors) % self.actors + self.seed % self.actors) % self.actors
        } else {
            let rank = (unit(mix(self.seed, 6, g)).powi(2) * self.actors as f64) as u64;
            (rank.min(self.actors - 1) * coprime_step(self.actors) + 7) % self.actors
        }
    }
}

/// An odd step coprime with `n`, so `i * step % n` permutes 0..n.
fn coprime_step(n: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut step = 1_000_003u64;
    while gcd(step, n) != 1 {
        step += 2;
    }
    step
}

/// What the names pass needs to know about an actor from the credits pass.
#[derive(Clone, Copy, Default)]
struct ActorFacts {
    known_for: [u32; 4],
    known: u8,
}

/// Writes the three files into `dir` (created if missing).
pub fn generate(dir: &Path, spec: &Spec, pool: &NamePool) -> anyhow::Result<Written> {
    if spec.actors == 0 || spec.titles == 0 || spec.credits < spec.actors {
        bail!("need actors > 0, titles > 0 and credits >= actors (every actor gets a credit)");
    }
    if spec.actors > u64::from(u32::MAX) || spec.titles > u64::from(u32::MAX) {
        bail!("at most {} actors and titles", u32::MAX);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let titles = write_titles(&dir.join("title.basics.tsv"), spec, pool)?;
    let mut facts = vec![ActorFacts::default(); spec.actors as usize];
    let credits = write_principals(&dir.join("title.principals.tsv"), spec, pool, &mut facts)?;
    let actors = write_names(&dir.join("name.basics.tsv"), spec, pool, &facts)?;
    Ok(Written { actors, titles, credits })
}

fn create(path: &PathBuf) -> anyhow::Result<BufWriter<File>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, file))
}

fn write_titles(path: &PathBuf, spec: &Spec, pool: &NamePool) -> anyhow::Result<u64> {
    let mut w = create(path)?;
    writeln!(w, "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres")?;
    for t in 0..spec.titles {
        let r = mix(spec.seed, 11, t);
        let kind = match r % 100 {
            0..70 => "movie",
            70..85 => "tvSeries",
            85..90 => "tvMovie",
            90..95 => "short",
            _ => "video",
        };
        let words = 1 + (r >> 8) % 3;
        let title: Vec<&str> = (0..words)
            .map(|k| pool.title_words[zipfish(mix(spec.seed, 12, t * 4 + k), pool.title_words.len())].as_str())
            .collect();
        let title = title.join(" ");
        let year = spec.title_year(t);
        let end = if kind == "tvSeries" && (r >> 20).is_multiple_of(2) {
            (year + 1 + ((r >> 24) % 8) as i32).min(2026).to_string()
        } else {
            NULL.to_string()
        };
        let runtime = match kind {
            "short" => 5 + (r >> 32) % 30,
            "tvSeries" => 20 + (r >> 32) % 40,
            _ => 70 + (r >> 32) % 110,
        };
        let genre = |k: u64| GENRES[(mix(spec.seed, 13, t * 2 + k) % GENRES.len() as u64) as usize];
        let genres =
            if (r >> 40).is_multiple_of(2) { genre(0).to_string() } else { format!("{},{}", genre(0), genre(1)) };
        let id = ID_BASE + t;
        writeln!(w, "tt{id}\t{kind}\t{title}\t{title}\t0\t{year}\t{end}\t{runtime}\t{genres}")?;
    }
    w.flush()?;
    Ok(spec.titles)
}

fn write_principals(path: &PathBuf, spec: &Spec, pool: &NamePool, facts: &mut [ActorFacts]) -> anyhow::Result<u64> {
    let mut w = create(path)?;
    writeln!(w, "tconst\tordering\tnconst\tcategory\tjob\tcharacters")?;
    let mut g = 0u64;
    for t in 0..spec.titles {
        for ordering in 1..=spec.cast_size(t) {
            let a = spec.credited_actor(g);
            let r = mix(spec.seed, 20, g);
            g += 1;
            let (_, female) = spec.actor_name(pool, a);
            let category = if r % 100 < 5 {
                "self"
            } else if female {
                "actress"
            } else {
                "actor"
            };
            let characters = match (category, (r >> 8) % 10) {
                ("self", _) => "[\"Self\"]".to_string(),
                (_, 0) => NULL.to_string(),
                _ => {
                    let (name, _) = &pool.firsts[((r >> 16) as usize) % pool.firsts.len()];
                    serde_json::to_string(&[name])?
                }
            };
            let f = &mut facts[a as usize];
            if usize::from(f.known) < f.known_for.len() {
                f.known_for[usize::from(f.known)] = t as u32;
                f.known += 1;
            }
            writeln!(w, "tt{}\t{ordering}\tnm{}\t{category}\t{NULL}\t{characters}", ID_BASE + t, ID_BASE + a)?;
        }
    }
    w.flush()?;
    Ok(g)
}

fn write_names(path: &PathBuf, spec: &Spec, pool: &NamePool, facts: &[ActorFacts]) -> anyhow::Result<u64> {
    let mut w = create(path)?;
    writeln!(w, "nconst\tprimaryName\tbirthYear\tdeathYear\tprimaryProfession\tknownForTitles")?;
    for (i, f) in facts.iter().enumerate() {
        let i = i as u64;
        let (name, female) = spec.actor_name(pool, i);
        let r = mix(spec.seed, 30, i);
        let first_year = f.known_for[..usize::from(f.known)].iter().map(|&t| spec.title_year(u64::from(t))).min();
        let birth = first_year.filter(|_| r % 10 < 7).map(|y| y - 18 - ((r >> 8) % 40) as i32);
        let death = birth
            .filter(|b| *b < 1950 && (r >> 16).is_multiple_of(2))
            .map(|b| (b + 60 + ((r >> 24) % 35) as i32).min(2025));
        let year = |y: Option<i32>| y.map_or(NULL.to_string(), |y| y.to_string());
        let profession = match ((r >> 32) % 10, female) {
            (0, _) => "producer",
            (_, true) => "actress",
            (_, false) => "actor",
        };
        let profession = if profession == "producer" {
            if female { "actress,producer" } else { "actor,producer" }
        } else {
            profession
        };
        let known: Vec<String> =
            f.known_for[..usize::from(f.known)].iter().map(|&t| format!("tt{}", ID_BASE + u64::from(t))).collect();
        let known = if known.is_empty() { NULL.to_string() } else { known.join(",") };
        writeln!(w, "nm{}\t{name}\t{}\t{}\t{profession}\t{known}", ID_BASE + i, year(birth), year(death))?;
    }
    w.flush()?;
    Ok(facts.len() as u64)
}
