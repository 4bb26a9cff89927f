//! `import_imdb` against a real catalogue: the bundled sample, malformed lines, gzip, episodes, missing input.

use iknow_proto::catalog::v1::{GetActorRequest, SearchRequest};
use iknow_testkit::dataset::SampleCounts;

use crate::helpers::*;

#[tokio::test]
async fn the_sample_imports_with_counts_matching_the_files_and_a_second_import_writes_nothing() {
    let sample = SampleCounts::read();
    let missing = &sample.missing;
    assert_eq!(missing.len(), 6, "the sample misses 6 people upstream");

    let catalog = TestCatalog::spawn().await;
    let report = catalog.import(&sample_dir()).await;
    println!("{report}");
    assert!(report.errors().is_empty(), "{:?}", report.errors());

    let title_rows = sample.titles;
    let titles = report.file("title.basics").unwrap();
    assert_eq!((titles.rows_read, titles.written, titles.rejected), (title_rows, title_rows, 0));
    // The sample's series: every episode is linked to its series.
    let episode_rows = sample.episodes;
    let episodes = report.file("title.episode").expect("the sample has episodes");
    assert_eq!((episodes.rows_read, episodes.written, episodes.rejected), (episode_rows, episode_rows, 0));

    let people = report.file("name.basics").unwrap();
    assert_eq!(people.rows_read, sample.people);
    assert_eq!(people.written, sample.written_people());
    assert_eq!(people.skipped, people.rows_read - people.written);
    assert_eq!(people.rejected, 0);

    let credits = report.file("title.principals").unwrap();
    assert_eq!(credits.rows_read, sample.principals);
    assert_eq!(credits.skipped, sample.principals - sample.acting_credits, "crew credits are skipped");
    assert_eq!(credits.written + credits.unchanged, sample.known_credits);
    assert!(credits.written >= sample.known_credits - 1, "at most one duplicate credit may collapse");
    assert_eq!(credits.rejected, missing.len() as u64, "{credits}");
    for nconst in missing {
        assert!(
            credits.rejections.iter().any(|r| r.line > 1 && r.reason.contains(nconst.as_str())),
            "{nconst} is reported as a rejected credit with its line: {credits}"
        );
    }

    // Credits became filmography: Bruce Willis is in Breach.
    let mut client = catalog.client().await;
    let search = SearchRequest { query: "Bruce Willis".into(), limit: 5, ..Default::default() };
    let actor = iknow_testkit::eventually(30, || {
        let (mut client, search) = (client.clone(), search.clone());
        async move {
            let found = client.search_actors(search).await.ok()?.into_inner();
            found.actors.into_iter().find(|a| a.name == "Bruce Willis")
        }
    })
    .await;
    let actor = client.get_actor(GetActorRequest { id: actor.id }).await.unwrap().into_inner();
    assert!(
        actor.filmography.iter().any(|f| f.content.as_ref().is_some_and(|c| c.title == "Breach")),
        "{:?}",
        actor.filmography
    );

    let again = catalog.import(&sample_dir()).await;
    let total = again.total();
    assert_eq!(total.written, 0, "a second import changes nothing: {again}");
    assert_eq!(again.file("title.basics").unwrap().unchanged, title_rows);
    assert_eq!(again.file("title.principals").unwrap().rejected, missing.len() as u64);
}

#[tokio::test]
async fn malformed_lines_are_reported_with_their_line_numbers_and_good_lines_import() {
    let dir = TempDir::new("cli");
    dir.write(
        "title.basics.tsv",
        &[
            TITLE_HEADER,
            "tt0000001\tmovie\tGood One\tGood One\t0\t2001\t\\N\t90\tDrama",
            "tt0000002\tmovie\tToo Few Columns",
            "tt0000003\tmovie\tBad Year\tBad Year\t0\tnineteen\t\\N\t90\tDrama",
            "tt0000004\tvideoGame\tA Game\tA Game\t0\t2001\t\\N\t\\N\t\\N",
            "tt0000005\tmovie\tGood Two\tGood Two\t0\t2002\t\\N\t\\N\tComedy",
        ],
    );
    dir.write(
        "name.basics.tsv",
        &[
            NAME_HEADER,
            "nm0000001\tAnn Actor\t1970\t\\N\tactress\ttt0000001",
            "nm0000002\tBob Director\t1960\t\\N\tdirector\t\\N",
            "nm0000003\tCid Badyear\tabout 1950\t\\N\tactor\t\\N",
            "nm0000004\tDee Actor\t\\N\t\\N\tactor\t\\N",
        ],
    );
    dir.write(
        "title.principals.tsv",
        &[
            PRINCIPAL_HEADER,
            "tt0000001\t1\tnm0000001\tactress\t\\N\t[\"Mary\",\"Jane\"]",
            "tt0000001\t2\tnm0000004\tactor\t\\N\t[\"Broken\"",
            "tt0000001\t3\tnm0000002\tdirector\t\\N\t\\N",
            "tt0000005\t1\tnm0000004\tactor\t\\N",
            "tt0000005\t2\tnm0000004\tself\t\\N\t\\N",
        ],
    );
    let catalog = TestCatalog::spawn().await;
    let report = catalog.import(dir.path()).await;
    println!("{report}");

    let titles = report.file("title.basics").unwrap();
    assert_eq!((titles.rows_read, titles.written, titles.rejected), (5, 2, 3));
    let lines: Vec<u64> = titles.rejections.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 5]);
    assert!(titles.rejections[0].reason.contains("columns"), "{titles}");
    assert!(titles.rejections[1].reason.contains("startYear"), "{titles}");
    assert!(titles.rejections[2].reason.contains("videoGame"), "{titles}");

    let people = report.file("name.basics").unwrap();
    // Bob never acts (skipped); Cid acts nowhere that parsed, and his line is malformed anyway.
    assert_eq!((people.rows_read, people.written, people.skipped), (4, 2, 1), "{people}");
    assert_eq!(people.rejections.iter().map(|r| r.line).collect::<Vec<_>>(), vec![4]);

    let credits = report.file("title.principals").unwrap();
    assert_eq!((credits.rows_read, credits.written, credits.skipped), (5, 2, 1), "{credits}");
    assert_eq!(credits.rejections.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 5]);
    assert!(credits.rejections[0].reason.contains("JSON"), "{credits}");
    assert!(credits.rejections[1].reason.contains("columns"), "{credits}");
}

#[tokio::test]
async fn gzip_files_import_like_plain_ones() {
    let dir = TempDir::new("cli");
    let titles = format!("{TITLE_HEADER}\ntt0000010\tmovie\tZipped\tZipped\t0\t2010\t\\N\t\\N\t\\N\n");
    let names = format!("{NAME_HEADER}\nnm0000010\tZed Zipper\t1980\t\\N\tactor\t\\N\n");
    let credits = format!("{PRINCIPAL_HEADER}\ntt0000010\t1\tnm0000010\tactor\t\\N\t[\"Zip\"]\n");
    dir.write_gz("title.basics.tsv.gz", titles.as_bytes());
    dir.write_gz("name.basics.tsv.gz", names.as_bytes());
    dir.write_gz("title.principals.tsv.gz", credits.as_bytes());

    let catalog = TestCatalog::spawn().await;
    let report = catalog.import(dir.path()).await;
    assert_eq!(report.file("title.basics").unwrap().file, "title.basics.tsv.gz");
    let total = report.total();
    assert_eq!((total.rows_read, total.written, total.rejected), (3, 3, 0), "{report}");
}

#[tokio::test]
async fn a_truncated_gzip_imports_the_rows_before_the_break_and_reports_the_error() {
    let dir = TempDir::new("cli");
    let mut titles = format!("{TITLE_HEADER}\n");
    for i in 1..=3000 {
        titles.push_str(&format!("tt{i:07}\tmovie\tTitle number {i}\tTitle number {i}\t0\t2000\t\\N\t\\N\tDrama\n"));
    }
    let path = dir.write_gz("title.basics.tsv.gz", titles.as_bytes());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 3 / 4]).unwrap();
    dir.write("name.basics.tsv", &[NAME_HEADER]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER]);

    let catalog = TestCatalog::spawn().await;
    let report = catalog.import(dir.path()).await;
    let file = report.file("title.basics").unwrap();
    assert!(file.error.is_some(), "{report}");
    assert!(file.written > 1000 && file.written < 3000, "{report}");
    assert_eq!(file.written, file.rows_read - file.rejected, "{report}");
    assert_eq!(report.errors().len(), 1);
}

#[tokio::test]
async fn episodes_are_linked_to_their_series() {
    let dir = TempDir::new("cli");
    dir.write(
        "title.basics.tsv",
        &[
            TITLE_HEADER,
            "tt0000100\ttvSeries\tThe Show\tThe Show\t0\t2010\t2012\t\\N\tDrama",
            "tt0000101\ttvEpisode\tPilot\tPilot\t0\t2010\t\\N\t45\tDrama",
            "tt0000102\ttvEpisode\tSecond\tSecond\t0\t2010\t\\N\t44\tDrama",
        ],
    );
    dir.write("title.episode.tsv", &[EPISODE_HEADER, "tt0000101\ttt0000100\t1\t1", "tt0000102\ttt0000100\t1\t2"]);
    dir.write("name.basics.tsv", &[NAME_HEADER]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER]);

    let catalog = TestCatalog::spawn().await;
    let report = catalog.import(dir.path()).await;
    let episodes = report.file("title.episode").unwrap();
    assert_eq!((episodes.rows_read, episodes.written, episodes.rejected), (2, 2, 0), "{report}");
    let again = catalog.import(dir.path()).await;
    assert_eq!(again.file("title.episode").unwrap().written, 0, "{again}");
}

#[tokio::test]
async fn a_missing_directory_or_required_file_is_an_error() {
    let missing = std::env::temp_dir().join(format!("iknow-missing-{}", uuid::Uuid::now_v7().simple()));
    let err = iknow::import::import_imdb(&missing, "http://127.0.0.1:1", &options()).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");

    let dir = TempDir::new("cli");
    dir.write("title.basics.tsv", &[TITLE_HEADER]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER]);
    let err = iknow::import::import_imdb(dir.path(), "http://127.0.0.1:1", &options()).await.unwrap_err();
    assert!(err.to_string().contains("name.basics.tsv"), "{err}");
}

#[tokio::test]
async fn only_the_first_rejected_lines_are_listed_and_the_rest_still_imports() {
    let dir = TempDir::new("cli");
    let mut lines = vec![TITLE_HEADER.to_string()];
    for i in 1..=30 {
        lines.push(format!("tt{i:07}\tmovie\tBroken {i}"));
    }
    lines.push("tt0000099\tmovie\tFine\tFine\t0\t2000\t\\N\t\\N\t\\N".into());
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    dir.write("title.basics.tsv", &lines);
    dir.write("name.basics.tsv", &[NAME_HEADER]);
    dir.write("title.principals.tsv", &[PRINCIPAL_HEADER]);

    let catalog = TestCatalog::spawn().await;
    let report = catalog.import(dir.path()).await;
    let titles = report.file("title.basics").unwrap();
    assert_eq!((titles.rows_read, titles.written, titles.rejected), (31, 1, 30));
    assert_eq!(titles.rejections.len(), iknow::import::MAX_LISTED);
    assert_eq!(titles.rejections.iter().map(|r| r.line).collect::<Vec<_>>(), (2..=21).collect::<Vec<u64>>());
    assert!(titles.to_string().contains("... and 10 more rejected lines"), "{titles}");
}
