//! Micro benchmark: builds an index of N synthetic actor names (first/last names from the bundled IMDb sample)
//! and times bulk upserts and typical queries. `cargo run -p iknow-search --example search_bench -- 1000000`
//! (use a release build for meaningful figures).
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use iknow_search::{Doc, Kind, NameIndex, Query, Uuid};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/imdb/name.basics.tsv");
    let text = std::fs::read_to_string(sample).expect("sample name.basics.tsv");
    let (mut firsts, mut lasts) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let name = line.split('\t').nth(1).unwrap_or_default();
        let mut parts = name.split_whitespace();
        if let (Some(f), Some(l)) = (parts.next(), parts.next_back()) {
            firsts.push(f.to_string());
            lasts.push(l.to_string());
        }
    }
    firsts.sort();
    firsts.dedup();
    lasts.sort();
    lasts.dedup();
    println!("{} first names, {} last names", firsts.len(), lasts.len());
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut names = Vec::with_capacity(n);
    let index = NameIndex::new().unwrap();
    let start = Instant::now();
    let mut chunk = Vec::with_capacity(50_000);
    for i in 0..n {
        // Zipf-ish: low indexes (common names) far more often.
        let pick = |r: u64, len: usize| ((r % 1000) as f64 / 1000.0).powi(2).mul_add(len as f64, 0.0) as usize % len;
        let name = format!("{} {}", firsts[pick(rnd(), firsts.len())], lasts[pick(rnd(), lasts.len())]);
        names.push(name.clone());
        chunk.push(Doc {
            id: Uuid::from_u128(i as u128 + 1),
            name,
            alt_names: vec![],
            popularity: (rnd() % 10_000) as f64 / 100.0,
            year: Some(1920 + (rnd() % 107) as i32),
            kinds: vec![Kind::Movie],
            years: vec![1920 + (rnd() % 107) as i32],
        });
        if chunk.len() == 50_000 {
            index.upsert(std::mem::take(&mut chunk)).unwrap();
        }
    }
    index.upsert(chunk).unwrap();
    println!("indexed {} docs in {:?}, {} segments", index.len(), start.elapsed(), index.segment_count());
    // Background merges: wait until the segment count is stable for 3 s.
    let (mut last, mut since) = (index.segment_count(), Instant::now());
    while since.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
        let now = index.segment_count();
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    println!("merged to {last} segments after {:?}", start.elapsed() - Duration::from_secs(3));

    let typo = |s: &str, r: u64| {
        let mut c: Vec<char> = s.chars().collect();
        let i = 1 + (r as usize % (c.len() - 2));
        c.swap(i, i + 1);
        c.into_iter().collect::<String>()
    };
    // A first-letter typo in the first or last word: no anchored match, unless another name has it (then the
    // unanchored retry is skipped).
    let first_typo = |s: &str, r: u64| {
        let mut c: Vec<char> = s.chars().collect();
        let at = if r.is_multiple_of(2) { 0 } else { s.rfind(' ').map_or(0, |i| s[..=i].chars().count()) };
        let letter = |k: u64| char::from(b'a' + (k / 2 % 26) as u8);
        c[at] = if letter(r).eq_ignore_ascii_case(&c[at]) { letter(r + 2) } else { letter(r) };
        c.into_iter().collect::<String>()
    };
    const KINDS: [&str; 6] = ["exact", "typo", "prefix", "surname", "first", "nomatch"];
    // (kind, query, intended name)
    let mut queries: Vec<(String, String, String)> = Vec::new();
    for k in 0..300 {
        let name = &names[(rnd() % n as u64) as usize];
        let q = match k % KINDS.len() {
            0 => name.clone(),
            1 => typo(name, rnd()),
            2 => {
                let first = name.split_whitespace().next().unwrap_or("a");
                let last = name.split_whitespace().last().unwrap_or("a");
                format!("{first} {}", last.chars().take(1 + (rnd() % 3) as usize).collect::<String>())
            }
            3 => name.split_whitespace().last().unwrap_or("a").to_string(),
            4 => first_typo(name, rnd()),
            // Matches nothing even unanchored: both passes walk the dictionary and find nothing.
            _ => format!("qxzvj{} wkpqz", k % 7),
        };
        queries.push((KINDS[k % KINDS.len()].to_string(), q, name.clone()));
    }
    // Each query's latency is its best of `rounds` runs, which filters out noise from other processes.
    let rounds: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    println!("as the merge policy left it ({} segments):", index.segment_count());
    measure(&index, &queries, &names, rounds);
    let compacting = Instant::now();
    index.compact().unwrap();
    println!("compacted to {} segment(s) in {:?}:", index.segment_count(), compacting.elapsed());
    measure(&index, &queries, &names, rounds);
}

/// Latency percentiles and top-1 hits of every kind of query.
fn measure(index: &NameIndex, queries: &[(String, String, String)], names: &[String], rounds: usize) {
    const KINDS: [&str; 6] = ["exact", "typo", "prefix", "surname", "first", "nomatch"];
    for kind in KINDS {
        let mut lat: Vec<Duration> = Vec::new();
        let mut slow: Vec<(Duration, String, u64)> = Vec::new();
        let (mut total, mut top1) = (0, 0);
        for (_, q, name) in queries.iter().filter(|(k, _, _)| k == kind) {
            let query = Query { text: q.clone(), limit: 20, ..Default::default() };
            let mut best = Duration::MAX;
            let mut hits = None;
            for _ in 0..rounds {
                let t = Instant::now();
                hits = Some(index.search(&query).unwrap());
                best = best.min(t.elapsed());
            }
            let hits = hits.unwrap_or_else(|| unreachable!());
            let top = hits.ids.first().map(|id| names[id.as_u128() as usize - 1].as_str());
            if std::env::var_os("MISSES").is_some() && top != Some(name) && matches!(kind, "exact" | "typo" | "first") {
                println!("  miss: {q:?} for {name:?}: {top:?} of {}", hits.total);
            }
            // Top-1 is the intended name (any doc of that name: names repeat).
            top1 += usize::from(top == Some(name));
            lat.push(best);
            slow.push((best, q.clone(), hits.total));
            total += hits.total;
        }
        lat.sort();
        slow.sort_by_key(|s| std::cmp::Reverse(s.0));
        if std::env::var_os("SLOW").is_some() {
            println!("  slowest: {:?}", &slow[..3]);
        }
        let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
        println!(
            "{kind:8} n={} mean={:?} p50={:?} p95={:?} p99={:?} max={:?} avg_total={} top1={top1}",
            lat.len(),
            lat.iter().sum::<Duration>() / lat.len() as u32,
            p(0.5),
            p(0.95),
            p(0.99),
            lat[lat.len() - 1],
            total / lat.len() as u64
        );
    }
}
