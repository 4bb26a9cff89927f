//! Every parsing rule of the IMDb dataset lines.

use iknow::import::parse::{self, Reject};
use iknow_proto::catalog::v1::ContentType;

#[test]
fn title_types_map_to_content_types() {
    for t in ["movie", "tvMovie", "short", "video", "tvSpecial"] {
        assert_eq!(parse::content_type(t), Ok(ContentType::Movie), "{t}");
    }
    for t in ["tvSeries", "tvMiniSeries"] {
        assert_eq!(parse::content_type(t), Ok(ContentType::Series), "{t}");
    }
    assert_eq!(parse::content_type("tvEpisode"), Ok(ContentType::Episode));
    assert_eq!(parse::content_type("videoGame"), Err(Reject::UnsupportedType("videoGame".into())));
}

#[test]
fn title_line_with_nulls() {
    let c = parse::title("tt9806238\tmovie\tThe Pop Movie\tThe Pop Movie\t0\t2019\t\\N\t\\N\tDocumentary").unwrap();
    assert_eq!(c.imdb_id, "tt9806238");
    assert_eq!(c.content_type, ContentType::Movie as i32);
    assert_eq!(c.title, "The Pop Movie");
    assert_eq!(c.original_title, "The Pop Movie");
    assert!(!c.is_adult);
    assert_eq!(c.year, Some(2019));
    assert_eq!(c.end_year, None);
    assert_eq!(c.runtime_minutes, None);
    assert_eq!(c.genres, vec!["Documentary"]);
}

#[test]
fn title_line_full() {
    let c = parse::title("tt0000001\ttvSeries\tA\tB\t1\t2001\t2005\t42\tDrama,Mystery\r\n").unwrap();
    assert_eq!(c.content_type, ContentType::Series as i32);
    assert_eq!((c.title.as_str(), c.original_title.as_str()), ("A", "B"));
    assert!(c.is_adult);
    assert_eq!((c.year, c.end_year, c.runtime_minutes), (Some(2001), Some(2005), Some(42)));
    assert_eq!(c.genres, vec!["Drama", "Mystery"]);
    let none = parse::title("tt0000001\tmovie\tA\t\\N\t0\t\\N\t\\N\t\\N\t\\N").unwrap();
    assert!(none.genres.is_empty());
    assert_eq!(none.original_title, "A");
}

#[test]
fn title_rejections() {
    assert_eq!(parse::title("tt1\tmovie\tA"), Err(Reject::ColumnCount { expected: 9, found: 3 }));
    assert_eq!(
        parse::title("tt1\tmovie\tA\tA\t0\t19x9\t\\N\t\\N\t\\N"),
        Err(Reject::NotANumber { column: "startYear", value: "19x9".into() })
    );
    assert!(matches!(parse::title("tt1\tmovie\tA\tA\t0\t2000\t\\N\tlong\t\\N"), Err(Reject::NotANumber { .. })));
    assert!(matches!(parse::title("tt1\tmovie\tA\tA\tyes\t2000\t\\N\t\\N\t\\N"), Err(Reject::NotANumber { .. })));
    assert!(matches!(parse::title("nm1\tmovie\tA\tA\t0\t2000\t\\N\t\\N\t\\N"), Err(Reject::BadId { .. })));
    assert!(matches!(parse::title("tt\tmovie\tA\tA\t0\t2000\t\\N\t\\N\t\\N"), Err(Reject::BadId { .. })));
    assert_eq!(
        parse::title("tt1\tvideoGame\tA\tA\t0\t2000\t\\N\t\\N\t\\N"),
        Err(Reject::UnsupportedType("videoGame".into()))
    );
    assert_eq!(parse::title("tt1\tmovie\t\\N\tA\t0\t2000\t\\N\t\\N\t\\N"), Err(Reject::Empty("primaryTitle")));
}

#[test]
fn ids_parse_to_numbers() {
    assert_eq!(parse::nconst("nm0000123"), Ok(123));
    assert_eq!(parse::nconst("nm13131519"), Ok(13_131_519));
    for bad in ["nm", "tt0000123", "nm12a", "nm-1", "nm99999999999", "", "nm 1"] {
        assert!(matches!(parse::nconst(bad), Err(Reject::BadId { .. })), "{bad}");
    }
    assert_eq!(parse::imdb_number("tt0111161", "tt", "tconst"), Ok(111_161));
}

#[test]
fn name_line() {
    let (n, a) = parse::name("nm0000006\tIngrid Bergman\t1915\t1982\tactress,soundtrack\ttt0077711,tt0034583").unwrap();
    assert_eq!(n, 6);
    assert_eq!(a.imdb_id, "nm0000006");
    assert_eq!(a.name, "Ingrid Bergman");
    assert_eq!((a.birth_year, a.death_year), (Some(1915), Some(1982)));
    assert_eq!(a.professions, vec!["actress", "soundtrack"]);
    assert_eq!(a.known_for_imdb_ids, vec!["tt0077711", "tt0034583"]);
    let (_, b) = parse::name("nm1\tX\t\\N\t\\N\t\\N\t\\N").unwrap();
    assert_eq!((b.birth_year, b.death_year), (None, None));
    assert!(b.professions.is_empty() && b.known_for_imdb_ids.is_empty());
}

#[test]
fn name_rejections() {
    assert_eq!(parse::name("nm1\tX\t1915"), Err(Reject::ColumnCount { expected: 6, found: 3 }));
    assert!(matches!(parse::name("nm1\tX\tabout 1915\t\\N\t\\N\t\\N"), Err(Reject::NotANumber { .. })));
    assert!(matches!(parse::name("xx1\tX\t\\N\t\\N\t\\N\t\\N"), Err(Reject::BadId { .. })));
    assert!(matches!(parse::name("nm1\tX\t\\N\t\\N\t\\N\ttt1,bad"), Err(Reject::BadId { .. })));
}

#[test]
fn characters_are_a_json_array() {
    assert_eq!(parse::characters(r#"["Mary","Jane"]"#).unwrap(), vec!["Mary", "Jane"]);
    assert_eq!(parse::characters(r#"["Say \"hi\""]"#).unwrap(), vec!["Say \"hi\""]);
    assert!(parse::characters("\\N").unwrap().is_empty());
    assert!(matches!(parse::characters(r#"["Mary""#), Err(Reject::BadJson(_))));
    assert!(matches!(parse::characters(r#""Mary""#), Err(Reject::BadJson(_))));
    assert!(matches!(parse::characters("[1,2]"), Err(Reject::BadJson(_))));
}

#[test]
fn principal_lines() {
    let p = parse::principal("tt9806258\t3\tnm0000246\tactor\t\\N\t[\"Lt. Bill\"]").unwrap();
    assert!(p.is_acting());
    assert_eq!(p.person, 246);
    assert_eq!(p.credit.actor_imdb_id, "nm0000246");
    assert_eq!(p.credit.content_imdb_id, "tt9806258");
    assert_eq!(p.credit.category, "actor");
    assert_eq!(p.credit.characters, vec!["Lt. Bill"]);
    assert_eq!(p.credit.credit_order, 3);
    for c in ["actress", "self"] {
        assert!(parse::principal(&format!("tt1\t1\tnm1\t{c}\t\\N\t\\N")).unwrap().is_acting());
    }
    for c in ["director", "archive_footage", "composer"] {
        assert!(!parse::principal(&format!("tt1\t1\tnm1\t{c}\t\\N\t\\N")).unwrap().is_acting());
    }
    // Crew characters are not validated: crew lines are skipped, never rejected.
    assert!(parse::principal("tt1\t1\tnm1\tdirector\t\\N\t[broken").is_ok());
}

#[test]
fn principal_rejections() {
    assert_eq!(parse::principal("tt1\t1\tnm1\tactor"), Err(Reject::ColumnCount { expected: 6, found: 4 }));
    assert!(matches!(parse::principal("tt1\tfirst\tnm1\tactor\t\\N\t\\N"), Err(Reject::NotANumber { .. })));
    assert!(matches!(parse::principal("tt1\t1\tnmX\tactor\t\\N\t\\N"), Err(Reject::BadId { .. })));
    assert!(matches!(parse::principal("tt1\t1\tnm1\tactor\t\\N\t[\"a\""), Err(Reject::BadJson(_))));
}

#[test]
fn episode_lines() {
    let e = parse::episode("tt0000002\ttt0000001\t1\t7").unwrap();
    assert_eq!((e.episode_imdb_id.as_str(), e.series_imdb_id.as_str()), ("tt0000002", "tt0000001"));
    assert_eq!((e.season_number, e.episode_number), (Some(1), Some(7)));
    let n = parse::episode("tt0000002\ttt0000001\t\\N\t\\N").unwrap();
    assert_eq!((n.season_number, n.episode_number), (None, None));
    assert!(matches!(parse::episode("tt2\ttt1\tone\t1"), Err(Reject::NotANumber { .. })));
    assert_eq!(parse::episode("tt2\ttt1"), Err(Reject::ColumnCount { expected: 4, found: 2 }));
}

#[test]
fn headers_are_recognised() {
    assert!(parse::is_header("tconst\ttitleType\tprimaryTitle"));
    assert!(parse::is_header("nconst\tprimaryName"));
    assert!(!parse::is_header("tt1\tmovie"));
}

#[test]
fn rejections_display_a_reason() {
    assert_eq!(Reject::ColumnCount { expected: 9, found: 3 }.to_string(), "expected 9 columns, found 3");
    assert!(Reject::BadJson("eof".into()).to_string().contains("JSON"));
}
