//! Latency summaries of a benchmark scenario and their rendering as a plain-text and a Markdown table.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, up to one minute, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Records one latency (clamped into the histogram's range).
pub fn record(h: &mut Histogram<u64>, latency: Duration) {
    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).clamp(1, 60_000_000);
    h.saturating_record(us);
}

/// One scenario's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub concurrency: usize,
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// Summarises successful requests' latencies measured over `elapsed`.
    pub fn new(scenario: &str, concurrency: usize, h: &Histogram<u64>, errors: u64, elapsed: Duration) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            scenario: scenario.to_string(),
            concurrency,
            requests: h.len(),
            errors,
            elapsed,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }

    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.requests as f64 / secs } else { 0.0 }
    }
}

/// Gateway search against the plain PostgreSQL full-text query: how many times better the gateway is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratios {
    /// Gateway search throughput / pg-fts throughput.
    pub throughput: f64,
    /// pg-fts p99 / gateway search p99.
    pub p99: f64,
}

impl Ratios {
    pub fn of(search: &Summary, pg: &Summary) -> Option<Self> {
        (pg.throughput() > 0.0 && search.p99_ms > 0.0)
            .then(|| Self { throughput: search.throughput() / pg.throughput(), p99: pg.p99_ms / search.p99_ms })
    }
}

const HEADERS: [&str; 9] =
    ["scenario", "concurrency", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"];

fn cells(s: &Summary) -> [String; 9] {
    [
        s.scenario.clone(),
        s.concurrency.to_string(),
        s.requests.to_string(),
        s.errors.to_string(),
        format!("{:.0}", s.throughput()),
        format!("{:.2}", s.p50_ms),
        format!("{:.2}", s.p95_ms),
        format!("{:.2}", s.p99_ms),
        format!("{:.2}", s.max_ms),
    ]
}

/// An aligned plain-text table (numbers right-aligned).
pub fn table(rows: &[Summary]) -> String {
    let body: Vec<[String; 9]> = rows.iter().map(cells).collect();
    let widths: Vec<usize> =
        (0..9).map(|c| body.iter().map(|r| r[c].len()).chain([HEADERS[c].len()]).max().unwrap_or(0)).collect();
    let mut out = String::new();
    let line = |out: &mut String, row: &[&str]| {
        let mut parts = Vec::with_capacity(9);
        for (c, cell) in row.iter().enumerate() {
            parts.push(if c == 0 {
                format!("{cell:<w$}", w = widths[c])
            } else {
                format!("{cell:>w$}", w = widths[c])
            });
        }
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, &HEADERS);
    line(
        &mut out,
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for r in &body {
        line(&mut out, &r.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

/// The same table in Markdown, ready for the README.
pub fn markdown(rows: &[Summary]) -> String {
    let mut out = format!("| {} |\n", HEADERS.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        HEADERS.iter().enumerate().map(|(c, _)| if c == 0 { "---|" } else { "---:|" }).collect::<String>()
    );
    for r in rows {
        let _ = writeln!(out, "| {} |", cells(r).join(" | "));
    }
    out
}

/// One line on the ratios, e.g. "gateway search vs pg-fts: throughput ×3.20, p99 ×4.10 lower".
pub fn ratios_line(r: &Ratios) -> String {
    format!("gateway search vs pg-fts: throughput x{:.2}, p99 x{:.2} lower", r.throughput, r.p99)
}

/// Whether scenario `r` kept its p99 within `target_ms` without errors, and what it costs against `base`, the
/// baseline scenario of the same run. A scenario whose requests failed proves nothing, however fast the rest were.
pub fn verdict(r: &Summary, base: &Summary, target_ms: f64) -> String {
    let met = r.requests > 0 && r.errors == 0 && r.p99_ms <= target_ms;
    let throughput = if r.throughput() > 0.0 { base.throughput() / r.throughput() } else { 0.0 };
    format!(
        "{} p99 <= {target_ms} ms without errors: {} ({:.2} ms, {} errors); vs the baseline: p99 x{:.2}, \
         throughput x{:.2} lower",
        r.scenario,
        if met { "PASS" } else { "FAIL" },
        r.p99_ms,
        r.errors,
        if base.p99_ms > 0.0 { r.p99_ms / base.p99_ms } else { 0.0 },
        throughput
    )
}

/// Prints the table and the `lines` about it, then both again in Markdown for the README.
pub fn print_report(rows: &[Summary], lines: &[String]) {
    println!("\n{}", table(rows));
    for l in lines {
        println!("{l}");
    }
    println!("\nMarkdown:\n\n{}", markdown(rows));
    for l in lines {
        println!("- {l}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(scenario: &str, latencies_ms: &[u64], secs: u64) -> Summary {
        let mut h = histogram();
        for &ms in latencies_ms {
            record(&mut h, Duration::from_millis(ms));
        }
        Summary::new(scenario, 8, &h, 1, Duration::from_secs(secs))
    }

    #[test]
    fn summary_percentiles_and_throughput() {
        let lat: Vec<u64> = (1..=100).collect();
        let s = summary("search", &lat, 4);
        assert_eq!(s.requests, 100);
        assert_eq!(s.errors, 1);
        assert!((s.throughput() - 25.0).abs() < 1e-9);
        assert!((s.p50_ms - 50.0).abs() < 0.1, "{}", s.p50_ms);
        assert!((s.p95_ms - 95.0).abs() < 0.1, "{}", s.p95_ms);
        assert!((s.p99_ms - 99.0).abs() < 0.1, "{}", s.p99_ms);
        assert!((s.max_ms - 100.0).abs() < 0.1, "{}", s.max_ms);
        let empty = Summary::new("x", 1, &histogram(), 0, Duration::ZERO);
        assert_eq!((empty.requests, empty.throughput()), (0, 0.0));
    }

    #[test]
    fn ratios_compare_gateway_with_postgres() {
        let search = summary("search", &[2; 100], 1);
        let pg = summary("pg-fts", &[8; 25], 1);
        let r = Ratios::of(&search, &pg).unwrap();
        assert!((r.throughput - 4.0).abs() < 1e-9);
        assert!((r.p99 - 4.0).abs() < 0.01);
        assert_eq!(ratios_line(&r), "gateway search vs pg-fts: throughput x4.00, p99 x4.00 lower");
        assert!(Ratios::of(&search, &summary("pg-fts", &[], 1)).is_none());
    }

    #[test]
    fn latencies_are_clamped_into_the_histogram() {
        let mut h = histogram();
        record(&mut h, Duration::ZERO);
        record(&mut h, Duration::from_secs(3600));
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 1, "a zero latency counts as a microsecond");
        assert!(h.max() >= 60_000_000 && h.max() < 60_100_000, "an hour counts as the one-minute bound: {}", h.max());
    }

    #[test]
    fn one_sample_or_equal_samples_are_every_percentile() {
        let one = summary("one", &[7], 2);
        assert_eq!((one.requests, one.throughput()), (1, 0.5));
        for p in [one.p50_ms, one.p95_ms, one.p99_ms, one.max_ms] {
            assert!((p - 7.0).abs() < 0.01, "{one:?}");
        }
        let ties = summary("ties", &[3, 3, 3, 3, 9], 1);
        assert!((ties.p50_ms - 3.0).abs() < 0.01 && (ties.p95_ms - 9.0).abs() < 0.01, "{ties:?}");
    }

    #[test]
    fn ratios_need_a_measured_baseline_and_a_measured_search() {
        let search = summary("search", &[2; 10], 1);
        let pg = summary("pg-fts", &[4; 10], 1);
        assert!(Ratios::of(&search, &pg).is_some());
        assert!(Ratios::of(&summary("search", &[], 1), &pg).is_none(), "no search p99");
        assert!(Ratios::of(&search, &summary("pg-fts", &[4; 10], 0)).is_none(), "no pg-fts throughput");
    }

    #[test]
    fn a_verdict_passes_within_the_target_without_errors_and_compares_with_the_baseline() {
        let at = |p99_ms: f64, requests: u64, errors: u64, secs: u64| Summary {
            scenario: "bearer".into(),
            concurrency: 4,
            requests,
            errors,
            elapsed: Duration::from_secs(secs),
            p50_ms: p99_ms / 2.0,
            p95_ms: p99_ms,
            p99_ms,
            max_ms: p99_ms,
        };
        let base = at(2.0, 400, 0, 1);
        assert_eq!(
            verdict(&at(5.0, 200, 0, 1), &base, 5.0),
            "bearer p99 <= 5 ms without errors: PASS (5.00 ms, 0 errors); vs the baseline: p99 x2.50, throughput \
             x2.00 lower"
        );
        assert!(verdict(&at(5.01, 200, 0, 1), &base, 5.0).contains(": FAIL (5.01 ms, 0 errors)"));
        assert!(verdict(&at(1.0, 200, 1, 1), &base, 5.0).contains(": FAIL (1.00 ms, 1 errors)"), "an error fails it");
        let nothing = verdict(&at(0.0, 0, 0, 1), &at(0.0, 0, 0, 1), 5.0);
        assert_eq!(
            nothing,
            "bearer p99 <= 5 ms without errors: FAIL (0.00 ms, 0 errors); vs the baseline: p99 x0.00, throughput \
             x0.00 lower",
            "no requests prove nothing, and nothing is divided by zero"
        );
    }

    #[test]
    fn tables_render_every_row() {
        let rows = [summary("search", &[1, 2, 3], 1), summary("get-actor", &[1], 1)];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("scenario"));
        assert!(lines[2].starts_with("search   "));
        // Columns line up: every line is as wide as the header's last column ends.
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{text}");
        let md = markdown(&rows);
        let md_lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            md_lines[0],
            "| scenario | concurrency | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |"
        );
        assert_eq!(md_lines[1], "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        assert_eq!(md_lines[2], "| search | 8 | 3 | 1 | 3 | 2.00 | 3.00 | 3.00 | 3.00 |");
        assert_eq!(md_lines.len(), 4);
    }
}
