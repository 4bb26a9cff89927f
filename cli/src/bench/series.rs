//! `iknow bench series`: a long-running series at scale. On an imported catalogue it writes one generated
//! series (by default 10 seasons of 100 episodes, 3,000 people sampled from the catalogue's actors: a dozen
//! regulars on the series title and every episode, recurring and one-off guests with invented character names),
//! then measures through the gateway, in the same run: the plain read of one of its episodes (the baseline:
//! one catalogue call with a small cast), the series' page (its aggregated cast), and identification of a guest
//! character by the series title alone and with season and episode.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use iknow_proto::catalog::v1 as pb;
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use uuid::Uuid;

use super::generate::mix;
use super::load::{self, Stop};
use super::stats::{self, Summary};

/// Options of `iknow bench series`.
#[derive(Debug, Args)]
pub struct SeriesArgs {
    #[command(flatten)]
    platform: super::Platform,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    #[arg(long, default_value_t = 10)]
    seasons: u32,
    #[arg(long, default_value_t = 100)]
    episodes_per_season: u32,
    /// People credited on the series or its episodes.
    #[arg(long, default_value_t = 3000)]
    people: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Regulars: on the series title and every episode.
const REGULARS: usize = 12;
/// Guest credits per episode.
const GUESTS_PER_EPISODE: usize = 8;
/// p99 targets of the issue, in milliseconds.
const TARGET_SERIES_P99_MS: f64 = 10.0;
const TARGET_IDENTIFY_P99_MS: f64 = 25.0;

const SYLLABLES: &[&str] = &[
    "ka", "vor", "dra", "len", "tis", "mor", "bel", "qua", "rin", "sho", "tal", "zed", "mir", "gan", "ost", "ul",
    "fen", "ith", "dar", "nok", "sel", "ver", "ash", "kor", "lia", "tem", "rus", "jan", "pel", "hex",
];
const TITLES: &[&str] = &["", "", "", "Captain ", "Doctor ", "Ambassador ", "Commander ", "Sister ", "Old "];

/// An invented character name, one per guest ("Ambassador Korvath Delmir").
fn character(seed: u64, guest: usize) -> String {
    let word = |stream: u64| {
        let r = mix(seed, stream, guest as u64);
        let n = 2 + (r % 2) as usize;
        let mut w: String = (0..n).map(|k| SYLLABLES[((r >> (8 + 5 * k)) as usize) % SYLLABLES.len()]).collect();
        w[..1].make_ascii_uppercase();
        w
    };
    let title = TITLES[(mix(seed, 53, guest as u64) % TITLES.len() as u64) as usize];
    format!("{title}{} {} {guest}", word(51), word(52))
}

/// A guest credit: which guest (recurring ones often, one-offs once), as the `k`-th guest of episode `e`.
fn guest_of(seed: u64, guests: usize, e: usize, k: usize) -> usize {
    let r = mix(seed, 54, (e * GUESTS_PER_EPISODE + k) as u64);
    // A quarter of the credits go to the first tenth of the guests (recurring characters).
    if r.is_multiple_of(4) { ((r >> 8) as usize) % (guests / 10).max(1) } else { (e * GUESTS_PER_EPISODE + k) % guests }
}

pub async fn run(a: SeriesArgs) -> anyhow::Result<()> {
    let (base, pool) = a.platform.open().await?;
    let run = super::run_tag();
    if a.people <= REGULARS {
        bail!("--people must exceed the {REGULARS} regulars");
    }
    let people: Vec<String> = sqlx::query_scalar(
        "SELECT imdb_id FROM actors WHERE imdb_id IS NOT NULL ORDER BY md5(id::text || $1) LIMIT $2",
    )
    .bind(&run)
    .bind(a.people as i64)
    .fetch_all(&pool)
    .await?;
    if people.len() < a.people {
        bail!("the catalogue has only {} actors: import the benchmark dataset first", people.len());
    }
    let (regulars, guests) = people.split_at(REGULARS);
    let series_imdb = format!("tt8{run}");
    // An invented title of its own: a second run's series must not be a near match of the first's.
    let title = {
        let words = character(u64::from_str_radix(&run, 16).unwrap_or(a.seed), 0);
        let words: Vec<&str> = words.split(' ').filter(|w| w.chars().all(char::is_alphabetic)).collect();
        format!("{} Station", words[words.len().saturating_sub(2)..].join(" "))
    };
    let episodes: Vec<(String, u32, u32)> = (1..=a.seasons)
        .flat_map(|s| (1..=a.episodes_per_season).map(move |e| (s, e)))
        .enumerate()
        .map(|(i, (s, e))| (format!("tt8{run}{i:05}"), s, e))
        .collect();

    let mut contents = vec![pb::ContentInput {
        imdb_id: series_imdb.clone(),
        content_type: pb::ContentType::Series as i32,
        title: title.clone(),
        original_title: title.clone(),
        year: Some(2010),
        end_year: Some(2020),
        genres: vec!["Drama".into()],
        ..Default::default()
    }];
    contents.extend(episodes.iter().map(|(id, s, e)| pb::ContentInput {
        imdb_id: id.clone(),
        content_type: pb::ContentType::Episode as i32,
        title: format!("Episode {s}x{e:02}"),
        original_title: format!("Episode {s}x{e:02}"),
        year: Some(2009 + *s as i32),
        ..Default::default()
    }));
    let links = episodes
        .iter()
        .map(|(id, s, e)| pb::EpisodeLinkInput {
            episode_imdb_id: id.clone(),
            series_imdb_id: series_imdb.clone(),
            season_number: Some(*s as i32),
            episode_number: Some(*e as i32),
        })
        .collect();
    let credit = |actor: &str, title: &str, character: String, order: usize| pb::CreditInput {
        actor_imdb_id: actor.into(),
        content_imdb_id: title.into(),
        category: "actor".into(),
        characters: vec![character],
        credit_order: order as i32,
    };
    let regular_role = |i: usize| format!("Regular {}", character(a.seed, 1_000_000 + i));
    let mut credits: Vec<pb::CreditInput> =
        regulars.iter().enumerate().map(|(i, r)| credit(r, &series_imdb, regular_role(i), i + 1)).collect();
    // (guest index, episode index) of every guest credit, for the identify queries.
    let mut appearances: Vec<(usize, usize)> = Vec::new();
    for (e, (id, _, _)) in episodes.iter().enumerate() {
        credits.extend(regulars.iter().enumerate().map(|(i, r)| credit(r, id, regular_role(i), i + 1)));
        let mut seen = std::collections::HashSet::new();
        for k in 0..GUESTS_PER_EPISODE {
            let g = guest_of(a.seed, guests.len(), e, k);
            if seen.insert(g) {
                credits.push(credit(&guests[g], id, character(a.seed, g), REGULARS + k + 1));
                appearances.push((g, e));
            }
        }
    }
    let mut catalog =
        ActorCatalogClient::connect(a.platform.catalog.clone()).await.context("connecting to the catalogue")?;
    let started = Instant::now();
    let first = pb::UpsertBatchRequest { contents, episodes: links, ..Default::default() };
    let reply = catalog.upsert_batch(first).await?.into_inner();
    anyhow::ensure!(reply.rejected.is_empty(), "the series was rejected: {:?}", &reply.rejected[..1]);
    let total = credits.len();
    for chunk in credits.chunks(5_000) {
        let batch = pb::UpsertBatchRequest { credits: chunk.to_vec(), ..Default::default() };
        let reply = catalog.upsert_batch(batch).await?.into_inner();
        anyhow::ensure!(reply.rejected.is_empty(), "credits were rejected: {:?}", &reply.rejected[..1]);
    }
    println!(
        "wrote a series of {} episodes and {total} credits ({} people) in {:.1}s, its cast kept by each batch",
        episodes.len(),
        people.len(),
        started.elapsed().as_secs_f64()
    );
    let id_of = async |imdb: &str| -> anyhow::Result<Uuid> {
        Ok(sqlx::query_scalar("SELECT id FROM content WHERE imdb_id = $1").bind(imdb).fetch_one(&pool).await?)
    };
    let series_id = id_of(&series_imdb).await?;
    let episode_id = id_of(&episodes[episodes.len() / 2].0).await?;

    // Queries: a guest character by the series title, then with its season and episode.
    let mut by_series = Vec::new();
    let mut by_episode = Vec::new();
    for i in 0..500u64 {
        let (g, e) = appearances[(mix(a.seed, 55, i) as usize) % appearances.len()];
        let role = character(a.seed, g);
        let mut url = base.join("api/v1/identify")?;
        url.query_pairs_mut().append_pair("title", &title).append_pair("character", &role);
        by_series.push(url.clone());
        let (_, s, n) = &episodes[e];
        url.query_pairs_mut().append_pair("season", &s.to_string()).append_pair("episode", &n.to_string());
        by_episode.push(url);
    }
    let check = load::http_client(1)?;
    let mut right = 0;
    for (i, url) in by_series.iter().enumerate().take(50) {
        let (g, _) = appearances[(mix(a.seed, 55, i as u64) as usize) % appearances.len()];
        let body: serde_json::Value = check.get(url.clone()).send().await?.error_for_status()?.json().await?;
        let top = body["data"][0]["actor"]["imdbId"].as_str().unwrap_or_default().to_owned();
        right += usize::from(top == guests[g]);
    }
    println!("identify by series character: {right}/50 sampled queries answer the right actor first");

    let client = load::http_client(a.concurrency)?;
    let duration = Duration::from_secs(a.duration_secs);
    let warm = load::get_urls(client.clone(), Arc::new(by_series.clone()));
    load::closed_loop("warmup", a.concurrency, Stop::Requests(200), warm).await;
    let mut rows: Vec<Summary> = Vec::new();
    for (name, urls) in [
        ("get-content episode (baseline)", vec![base.join(&format!("api/v1/content/{episode_id}"))?]),
        ("get-content series", vec![base.join(&format!("api/v1/content/{series_id}"))?]),
        ("identify series character", by_series),
        ("identify with season/episode", by_episode),
    ] {
        println!("{name}: {} tasks for {}s...", a.concurrency, a.duration_secs);
        let request = load::get_urls(client.clone(), Arc::new(urls));
        rows.push(load::closed_loop(name, a.concurrency, Stop::After(duration), request).await);
    }
    let lines: Vec<String> = rows[1..]
        .iter()
        .map(|r| {
            let target = if r.scenario.starts_with("identify") { TARGET_IDENTIFY_P99_MS } else { TARGET_SERIES_P99_MS };
            stats::verdict(r, &rows[0], target)
        })
        .collect();
    stats::print_report(&rows, &lines);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_distinct_and_guests_recur() {
        let names: std::collections::HashSet<String> = (0..3000).map(|g| character(42, g)).collect();
        assert_eq!(names.len(), 3000);
        assert_eq!(character(42, 7), character(42, 7));
        let mut counts = vec![0usize; 2988];
        for e in 0..1000 {
            for k in 0..GUESTS_PER_EPISODE {
                counts[guest_of(42, 2988, e, k)] += 1;
            }
        }
        // Recurring guests appear in many episodes; most guests appear once or twice.
        assert!(counts[..298].iter().sum::<usize>() > 2000, "{:?}", &counts[..10]);
        assert!(counts.iter().filter(|&&c| c > 0).count() > 2500);
    }
}
