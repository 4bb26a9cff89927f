//! Identify through gRPC: typo-tolerant title + character, year and episode disambiguation, free text,
//! validation, and an unknown title answering an empty list.

use iknow_proto::catalog::v1::{
    ContentType, EpisodeLinkInput, IdentifyCandidate, IdentifyRequest, IdentifyResponse, UpsertBatchRequest,
};
use tonic::Code;

use crate::helpers::*;

const FISHBURNE: &str = "nm0000401";
const MOSS: &str = "nm0005251";
const WEAVING: &str = "nm0915989";
const BELLUCCI: &str = "nm0000899";
const PAUL: &str = "nm0666739";
const ARCINIEGA: &str = "nm1238917";
const GUEST_2: &str = "nm9100001";
const RELOADED: &str = "tt0234215";
const CATS: &str = "tt1054724";

/// Two Matrix films and a series with two episodes, each with its own guest.
fn fixture() -> UpsertBatchRequest {
    use ContentType::*;
    UpsertBatchRequest {
        actors: vec![
            actor(REEVES, "Keanu Reeves", Some(1964)),
            actor(FISHBURNE, "Laurence Fishburne", Some(1961)),
            actor(MOSS, "Carrie-Anne Moss", Some(1967)),
            actor(WEAVING, "Hugo Weaving", Some(1960)),
            actor(BELLUCCI, "Monica Bellucci", Some(1964)),
            actor(CRANSTON, "Bryan Cranston", Some(1956)),
            actor(PAUL, "Aaron Paul", Some(1979)),
            actor(ARCINIEGA, "Maximino Arciniega", None),
            actor(GUEST_2, "Emilio Guest", None),
        ],
        contents: vec![
            content(MATRIX, Movie, "The Matrix", 1999),
            content(RELOADED, Movie, "The Matrix Reloaded", 2003),
            content(BREAKING_BAD, Series, "Breaking Bad", 2008),
            content(PILOT, Episode, "Pilot", 2008),
            content(CATS, Episode, "Cat's in the Bag...", 2008),
        ],
        credits: vec![
            credit(REEVES, MATRIX, &["Neo", "Thomas A. Anderson"], 1),
            credit(FISHBURNE, MATRIX, &["Morpheus"], 2),
            credit(MOSS, MATRIX, &["Trinity"], 3),
            credit(WEAVING, MATRIX, &["Agent Smith"], 4),
            credit(REEVES, RELOADED, &["Neo"], 1),
            credit(FISHBURNE, RELOADED, &["Morpheus"], 2),
            credit(MOSS, RELOADED, &["Trinity"], 3),
            credit(BELLUCCI, RELOADED, &["Persephone"], 4),
            credit(CRANSTON, BREAKING_BAD, &["Walter White"], 1),
            credit(PAUL, BREAKING_BAD, &["Jesse Pinkman"], 2),
            credit(ARCINIEGA, PILOT, &["Krazy-8"], 5),
            credit(GUEST_2, CATS, &["Emilio Koyama"], 5),
        ],
        episodes: vec![
            EpisodeLinkInput {
                episode_imdb_id: PILOT.into(),
                series_imdb_id: BREAKING_BAD.into(),
                season_number: Some(1),
                episode_number: Some(1),
            },
            EpisodeLinkInput {
                episode_imdb_id: CATS.into(),
                series_imdb_id: BREAKING_BAD.into(),
                season_number: Some(1),
                episode_number: Some(2),
            },
        ],
        ..Default::default()
    }
}

async fn seeded() -> TestApp {
    let mut app = spawn_app().await;
    let reply = app.upsert(fixture()).await;
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
    app
}

fn ask(title: &str, character: &str) -> IdentifyRequest {
    IdentifyRequest { title: title.into(), character: character.into(), ..Default::default() }
}

fn free(q: &str) -> IdentifyRequest {
    IdentifyRequest { q: q.into(), ..Default::default() }
}

async fn identify(app: &TestApp, req: IdentifyRequest) -> IdentifyResponse {
    app.client.clone().identify(req).await.expect("identify").into_inner()
}

fn actor_of(c: &IdentifyCandidate) -> &str {
    &c.member.as_ref().unwrap().actor_imdb_id
}

fn content_of(c: &IdentifyCandidate) -> &str {
    &c.content.as_ref().unwrap().imdb_id
}

#[tokio::test]
async fn a_character_in_a_misspelt_title_is_found_and_an_exact_pair_is_certain() {
    let app = seeded().await;
    let typo = identify(&app, ask("the matrx", "neo")).await;
    let first = &typo.candidates[0];
    assert_eq!((actor_of(first), content_of(first)), (REEVES, MATRIX), "{typo:?}");
    assert_eq!(first.matched_by, "title_character");
    assert!(first.confidence > 0.5 && first.confidence < 1.0, "{}", first.confidence);
    let m = first.member.as_ref().unwrap();
    assert_eq!((m.actor_name.as_str(), m.role_name.as_str(), m.credit_order), ("Keanu Reeves", "Neo", 1));

    let exact = identify(&app, ask("The Matrix", "Neo")).await;
    assert_eq!(actor_of(&exact.candidates[0]), REEVES);
    assert_eq!(exact.candidates[0].confidence, 1.0);
    assert!(exact.candidates[0].confidence > first.confidence);
    // Title mode says nothing about an interpretation.
    assert_eq!((exact.title.as_str(), exact.character.as_str(), exact.actor_name.as_str()), ("", "", ""));
    // Every confidence is in 0..=1, best first, each (actor, title) once.
    let confidences: Vec<f64> = exact.candidates.iter().map(|c| c.confidence).collect();
    assert!(confidences.windows(2).all(|w| w[0] >= w[1]) && confidences.iter().all(|c| (0.0..=1.0).contains(c)));
    let mut pairs: Vec<(&str, &str)> = exact.candidates.iter().map(|c| (actor_of(c), content_of(c))).collect();
    let n = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), n);

    // A typo in the character, a partial title, another character.
    let r = identify(&app, ask("matrix", "morpheos")).await;
    assert_eq!(actor_of(&r.candidates[0]), FISHBURNE);
    let r = identify(&app, ask("the matrix", "smith")).await;
    assert_eq!(actor_of(&r.candidates[0]), WEAVING);
    let r = identify(&app, ask("the matrix relo", "persephone")).await;
    assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (BELLUCCI, RELOADED));
}

#[tokio::test]
async fn the_year_picks_the_film_and_a_title_alone_lists_its_cast() {
    let app = seeded().await;
    for (year, expected) in [(None, MATRIX), (Some(1999), MATRIX), (Some(2003), RELOADED), (Some(2002), RELOADED)] {
        let r = identify(&app, IdentifyRequest { year, ..ask("the matrix", "neo") }).await;
        assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (REEVES, expected), "{year:?}");
    }
    let r = identify(&app, IdentifyRequest { limit: 4, ..ask("The Matrix", "") }).await;
    let cast: Vec<&str> = r.candidates.iter().map(actor_of).collect();
    assert_eq!(cast, [REEVES, FISHBURNE, MOSS, WEAVING]);
    assert!(r.candidates.iter().all(|c| c.matched_by == "title" && content_of(c) == MATRIX));
    assert_eq!(r.candidates[0].confidence, 1.0);
    assert!(r.candidates[3].confidence < r.candidates[0].confidence);
}

#[tokio::test]
async fn an_episode_finds_its_guest_and_the_series_regulars() {
    let app = seeded().await;
    let episode =
        |character: &str| IdentifyRequest { season: Some(1), episode: Some(1), ..ask("breaking bad", character) };
    let r = identify(&app, episode("krazy 8")).await;
    assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (ARCINIEGA, PILOT), "{r:?}");
    let r = identify(&app, episode("walter whte")).await;
    assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (CRANSTON, PILOT), "{r:?}");
    // Without a character: the episode's cast and the regulars, all in that episode, not the other guest.
    let r = identify(&app, episode("")).await;
    let actors: Vec<&str> = r.candidates.iter().map(actor_of).collect();
    for a in [ARCINIEGA, CRANSTON, PAUL] {
        assert!(actors.contains(&a), "{a} in {actors:?}");
    }
    assert!(!actors.contains(&GUEST_2), "{actors:?}");
    assert!(r.candidates.iter().all(|c| content_of(c) == PILOT), "{r:?}");
    // The series without an episode: its regulars.
    let r = identify(&app, ask("breaking bad", "jesse")).await;
    assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (PAUL, BREAKING_BAD));
}

#[tokio::test]
async fn free_text_reads_questions_and_names() {
    let app = seeded().await;
    let r = identify(&app, free("who played neo in the matrix")).await;
    assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (REEVES, MATRIX), "{r:?}");
    assert_eq!((r.title.as_str(), r.character.as_str(), r.actor_name.as_str()), ("the matrix", "neo", ""));
    assert_eq!(r.candidates[0].confidence, 1.0);

    let r = identify(&app, free("Who plays Trinity in The Matrx?")).await;
    assert_eq!(actor_of(&r.candidates[0]), MOSS);

    let r = identify(&app, free("keanu reves")).await;
    let first = &r.candidates[0];
    assert_eq!((actor_of(first), first.matched_by.as_str()), (REEVES, "actor_name"), "{r:?}");
    assert!(first.confidence > 0.8 && first.confidence < 1.0);
    assert!(first.content.is_some(), "an actor comes with a credit");
    assert_eq!(r.actor_name, "keanu reves");

    // An actor named in a title.
    let r = identify(&app, free("laurence fishburne in the matrix reloaded")).await;
    assert_eq!((actor_of(&r.candidates[0]), content_of(&r.candidates[0])), (FISHBURNE, RELOADED), "{r:?}");
}

#[tokio::test]
async fn invalid_requests_list_every_field_and_unknown_titles_are_empty() {
    let app = seeded().await;
    let fields = async |req: IdentifyRequest| -> Vec<String> {
        let e = app.client.clone().identify(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert_eq!(error_code(&e), "VALIDATION_ERROR");
        let iknow_common::Error::Validation { violations, .. } = iknow_common::Error::from_status(&e) else {
            panic!("validation error expected")
        };
        violations.into_iter().map(|v| v.field).collect()
    };
    assert_eq!(fields(IdentifyRequest { q: "neo".into(), ..ask("the matrix", "") }).await, ["q", "title"]);
    assert_eq!(fields(IdentifyRequest::default()).await, ["q", "title"]);
    assert_eq!(fields(IdentifyRequest { year: Some(1800), ..ask("the matrix", "neo") }).await, ["year"]);
    assert_eq!(fields(IdentifyRequest { limit: 51, ..ask("the matrix", "neo") }).await, ["limit"]);
    assert_eq!(
        fields(IdentifyRequest { season: Some(1), year: Some(3000), limit: 99, ..free("neo") }).await,
        ["year", "season", "limit"]
    );

    for req in [ask("zzqx vvrk", "neo"), ask("the matrix", "gandalf"), free("qqqq zzzz"), free("who played x in zzqx")]
    {
        let r = identify(&app, req.clone()).await;
        assert!(r.candidates.is_empty(), "{req:?}: {r:?}");
    }
}
