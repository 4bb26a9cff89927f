//! The conversions of a job's progress and file reports both ways (the stored JSON, the API's protobuf shape)
//! and how reports count, keep and print rejections.

use iknow_proto::ingest::v1 as pb;
use scraper_ingest::imdb::report::{FileReport, ImportReport, MAX_LISTED, Rejection, Rejections, stem};
use scraper_ingest::progress::{Ignore, Latest, Observer, Progress};

fn sample(done: bool) -> Progress {
    Progress {
        file: "title.principals.tsv (actors)".into(),
        bytes_read: 1_024,
        bytes_total: 4_096,
        rows_read: 37,
        rows_per_second: 12.5,
        job_bytes_read: 5_000,
        job_bytes_total: 20_000,
        done,
    }
}

#[test]
fn progress_round_trips_through_the_api_shape_except_done() {
    let running = sample(false);
    let api = pb::Progress::from(&running);
    assert_eq!(api.file, "title.principals.tsv (actors)");
    assert_eq!((api.bytes_read, api.bytes_total, api.rows_read), (1_024, 4_096, 37));
    assert_eq!((api.job_bytes_read, api.job_bytes_total), (5_000, 20_000));
    assert_eq!(api.rows_per_second, 12.5);
    assert_eq!(Progress::from(&api), running, "a running pass comes back as it was");
    // The API says nothing of `done`: a finished pass reads back as still running.
    let finished = sample(true);
    assert_eq!(Progress::from(&pb::Progress::from(&finished)), Progress { done: false, ..finished });
}

#[test]
fn progress_stored_as_json_reads_back_and_missing_fields_default() {
    let p = sample(true);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(serde_json::from_value::<Progress>(json).unwrap(), p);
    let partial: Progress = serde_json::from_str(r#"{"file": "name.basics.tsv", "rows_read": 3}"#).unwrap();
    assert_eq!(partial, Progress { file: "name.basics.tsv".into(), rows_read: 3, ..Progress::default() });
}

#[test]
fn latest_keeps_the_last_progress_and_ignore_keeps_nothing() {
    let latest = Latest::default();
    assert_eq!(latest.get(), None);
    latest.progress(&sample(false));
    latest.progress(&sample(true));
    assert_eq!(latest.get(), Some(sample(true)));
    let observer: &dyn Observer = &Ignore;
    observer.progress(&sample(false));
    assert_eq!(latest.get(), Some(sample(true)), "another observer changes nothing here");
}

fn report() -> FileReport {
    FileReport {
        file: "title.basics.tsv.gz".into(),
        rows_read: 10,
        written: 6,
        unchanged: 1,
        rejected: 2,
        skipped: 1,
        rejections: vec![
            Rejection { line: 0, reason: "content tt1: refused".into() },
            Rejection { line: 7, reason: "bad year".into() },
        ],
        error: Some("unexpected end of file".into()),
        complete: true,
        committed_line: 11,
    }
}

#[test]
fn a_file_report_round_trips_through_the_api_shape() {
    let f = report();
    let api = pb::FileReport::from(&f);
    assert_eq!(api.file, "title.basics.tsv.gz");
    assert_eq!((api.rows_read, api.written, api.unchanged, api.rejected, api.skipped), (10, 6, 1, 2, 1));
    assert_eq!(api.rejections.len(), 2);
    assert_eq!((api.rejections[1].line, api.rejections[1].reason.as_str()), (7, "bad year"));
    assert_eq!(api.error, "unexpected end of file");
    assert!(api.complete);
    assert_eq!(api.committed_line, 11);
    assert_eq!(FileReport::from(&api), f);

    // No error travels as an empty string, and comes back as none.
    let clean = FileReport { error: None, ..report() };
    let api = pb::FileReport::from(&clean);
    assert_eq!(api.error, "");
    assert_eq!(FileReport::from(&api).error, None);
}

#[test]
fn stems_drop_every_extension() {
    assert_eq!(stem("title.basics.tsv"), "title.basics");
    assert_eq!(stem("title.basics.tsv.gz"), "title.basics");
    assert_eq!(stem("tmdb actors"), "tmdb actors");
    assert_eq!(report().stem(), "title.basics");
}

#[test]
fn rejections_count_all_and_keep_the_lowest_lines() {
    let mut r = Rejections::default();
    for line in (1..=200u64).rev() {
        r.push(line, format!("line {line}"));
    }
    assert_eq!(r.count(), 200);
    let listed = r.listed();
    assert_eq!(listed.len(), MAX_LISTED);
    assert_eq!(listed.first().map(|r| r.line), Some(1));
    assert_eq!(listed.last().map(|r| r.line), Some(MAX_LISTED as u64));

    let mut more = Rejections::default();
    more.push(0, "unmatched".into());
    more.count_more(4);
    assert_eq!(more.count(), 5);
    r.extend(more);
    assert_eq!(r.count(), 205);
    assert_eq!(r.listed()[0].line, 0, "a line-less rejection sorts first");

    let mut f = FileReport::new("name.basics.tsv");
    f.add_rejections(r);
    assert_eq!(f.rejected, 205);
    assert_eq!(f.rejections.len(), MAX_LISTED);
}

#[test]
fn reports_print_their_counts_rejections_and_errors() {
    let text = report().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("title.basics.tsv.gz"), "{text}");
    assert!(lines[0].contains("read        10") && lines[0].contains("rejected       2"), "{text}");
    assert_eq!(lines[1], "    line ?: content tt1: refused");
    assert_eq!(lines[2], "    line 7: bad year");
    assert_eq!(lines[3], "    ERROR: unexpected end of file");
    assert_eq!(lines.len(), 4, "no line for more rejections than listed: {text}");

    let cut = FileReport { rejected: 5, error: None, ..report() };
    assert!(cut.to_string().contains("    ... and 3 more rejected lines"), "{cut}");

    let second = FileReport { file: "name.basics.tsv".into(), rows_read: 5, written: 5, ..FileReport::default() };
    let whole = ImportReport { files: vec![report(), second] };
    let total = whole.total();
    assert_eq!((total.file.as_str(), total.rows_read, total.written, total.rejected), ("total", 15, 11, 2));
    assert_eq!(whole.errors(), vec!["unexpected end of file"]);
    assert_eq!(whole.file("name.basics").map(|f| f.rows_read), Some(5));
    assert!(whole.file("title.principals").is_none());
    let printed = whole.to_string();
    assert!(printed.trim_end().lines().last().unwrap().starts_with("total"), "{printed}");
    assert!(printed.contains("name.basics.tsv"), "{printed}");
}
