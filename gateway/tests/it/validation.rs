//! Every search parameter rule: each failing field is reported, all at once, as a 400 envelope.

use chrono::Datelike;

use crate::helpers::{error_code, failing_fields, spawn};

#[tokio::test]
async fn each_invalid_parameter_is_a_400_naming_the_field() {
    let app = spawn().await;
    let long = "a".repeat(101);
    let year = chrono::Utc::now().year();
    let cases = [
        ("limit=5".to_owned(), vec!["q"]),
        ("q=".to_owned(), vec!["q"]),
        ("q=%20%20%20".to_owned(), vec!["q"]),
        (format!("q={long}"), vec!["q"]),
        ("q=tom&limit=0".to_owned(), vec!["limit"]),
        ("q=tom&limit=101".to_owned(), vec!["limit"]),
        ("q=tom&limit=abc".to_owned(), vec!["limit"]),
        ("q=tom&offset=-1".to_owned(), vec!["offset"]),
        ("q=tom&offset=x".to_owned(), vec!["offset"]),
        ("q=tom&offset=9901".to_owned(), vec!["offset"]),
        ("q=tom&type=film".to_owned(), vec!["type"]),
        ("q=tom&type=episode".to_owned(), vec!["type"]),
        ("q=tom&year=1887".to_owned(), vec!["year"]),
        (format!("q=tom&year={}", year + 6), vec!["year"]),
        ("q=tom&sortBy=rating".to_owned(), vec!["sortBy"]),
        ("q=tom&sortOrder=up".to_owned(), vec!["sortOrder"]),
        (
            "q=&limit=abc&offset=-1&type=x&year=1&sortBy=x&sortOrder=x".to_owned(),
            vec!["q", "limit", "offset", "type", "year", "sortBy", "sortOrder"],
        ),
    ];
    for (query, fields) in cases {
        let r = app.get(&format!("/api/v1/actors/search?{query}")).await;
        assert_eq!(r.status(), 400, "{query}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{query}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "VALIDATION_ERROR", "{query}");
        assert_eq!(failing_fields(&body), fields, "{query}: {body}");
    }
}

#[tokio::test]
async fn valid_edges_and_unknown_parameters_are_accepted() {
    let app = spawn().await;
    let year = chrono::Utc::now().year();
    let hundred = "a".repeat(100);
    for query in [
        format!("q={hundred}"),
        format!("q=%20{hundred}%20"),
        "q=tom&limit=1&offset=0&type=series&year=1888&sortBy=name&sortOrder=asc".to_owned(),
        format!("q=tom&limit=100&type=movie&year={}&sortBy=popularity", year + 5),
        "q=tom&whatever=1&sortBy=year&type=all".to_owned(),
        // The deepest page the search window allows.
        "q=tom&offset=9900&limit=100".to_owned(),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/actors/search?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
    }
    // Title search also takes `episode`, and shares every other rule.
    let (status, _) = app.get_json("/api/v1/content/search?q=friends&type=episode").await;
    assert_eq!(status, 200);
    let (status, body) = app.get_json("/api/v1/content/search?q=friends&limit=0&type=x").await;
    assert_eq!(status, 400);
    assert_eq!(failing_fields(&body), ["limit", "type"]);
}
