//! A series' aggregated cast (`series_cast`): kept up to date by UpsertBatch (credits, links, renames) and by
//! a bulk load; served by GetContent in pages, and by GetCasts as episode counts.

use std::time::{Duration, Instant};

use iknow_proto::catalog::v1::{
    BeginCreditsLoadRequest, CastMember, Content, ContentType, EpisodeLinkInput, FinishCreditsLoadRequest,
    GetCastsRequest, GetContentRequest, IdentifyCandidate, IdentifyRequest, StageCreditsRequest, UpsertBatchRequest,
};

use crate::helpers::*;

pub const SERIES: &str = "tt7700000";
const OTHER_SERIES: &str = "tt7800000";
pub const EPISODES: [(&str, i32, i32, &str); 4] = [
    ("tt7701001", 1, 1, "Emissary"),
    ("tt7701002", 1, 2, "Past Prologue"),
    ("tt7702001", 2, 1, "The Homecoming"),
    ("tt7702002", 2, 2, "The Circle"),
];
pub const CAPTAIN: &str = "nm7700001";
pub const INNKEEPER: &str = "nm7700002";
pub const VORTA: &str = "nm7700003";

fn link(episode: &str, series: &str, season: i32, number: i32) -> EpisodeLinkInput {
    EpisodeLinkInput {
        episode_imdb_id: episode.into(),
        series_imdb_id: series.into(),
        season_number: Some(season),
        episode_number: Some(number),
    }
}

/// A series of four episodes over two seasons: a regular credited on the series title only (as TVmaze does), a
/// guest in three episodes under two character names, another in one.
pub fn series_fixture() -> UpsertBatchRequest {
    use ContentType::*;
    let mut contents =
        vec![content(SERIES, Series, "Space Station Drama", 1993), content(OTHER_SERIES, Series, "Other Show", 2001)];
    contents.extend(EPISODES.iter().map(|(id, s, _, title)| content(id, Episode, title, 1992 + s)));
    UpsertBatchRequest {
        actors: vec![
            actor(CAPTAIN, "Avery Brooksfield", None),
            actor(INNKEEPER, "Marta Quillon", None),
            actor(VORTA, "Jeffrey Coombes", None),
        ],
        contents,
        credits: vec![
            credit(CAPTAIN, SERIES, &["Captain Benjamin Sisko"], 1),
            credit(INNKEEPER, EPISODES[0].0, &["Innkeeper"], 7),
            credit(INNKEEPER, EPISODES[2].0, &["Innkeeper"], 4),
            credit(INNKEEPER, EPISODES[3].0, &["Mirror Innkeeper"], 3),
            credit(VORTA, EPISODES[1].0, &["Weyoun"], 5),
        ],
        episodes: EPISODES.iter().map(|(id, s, n, _)| link(id, SERIES, *s, *n)).collect(),
        ..Default::default()
    }
}

async fn series(app: &mut TestApp, imdb: &str, limit: u32, offset: u32) -> Content {
    let id = app.content_id(imdb).await.to_string();
    let request = GetContentRequest { id, cast_limit: limit, cast_offset: offset };
    app.client.get_content(request).await.expect("get content").into_inner()
}

fn names(cast: &[CastMember]) -> Vec<&str> {
    cast.iter().map(|m| m.actor_name.as_str()).collect()
}

/// (episode count, characters, their episode counts, first and last appearance as (season, number, title)).
#[allow(clippy::type_complexity)]
fn summary(m: &CastMember) -> (u32, Vec<&str>, Vec<u32>, Option<(i32, i32, &str)>, Option<(i32, i32, &str)>) {
    fn ep(e: &Option<iknow_proto::catalog::v1::EpisodeRef>) -> Option<(i32, i32, &str)> {
        e.as_ref().map(|e| (e.season_number.unwrap_or(-1), e.episode_number.unwrap_or(-1), e.title.as_str()))
    }
    (
        m.episode_count,
        m.characters.iter().map(String::as_str).collect(),
        m.character_episodes.clone(),
        ep(&m.first_appearance),
        ep(&m.last_appearance),
    )
}

#[tokio::test]
async fn the_aggregated_cast_follows_every_credit_link_and_rename() {
    let mut app = spawn_app().await;
    let reply = app.upsert(series_fixture()).await;
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);

    let s = series(&mut app, SERIES, 0, 0).await;
    assert_eq!((s.cast_total, s.episode_total), (3, 4));
    // The regular first, then by episodes.
    assert_eq!(names(&s.cast), ["Avery Brooksfield", "Marta Quillon", "Jeffrey Coombes"]);
    assert!(s.cast[0].on_series && !s.cast[1].on_series);
    assert_eq!(summary(&s.cast[0]), (0, vec!["Captain Benjamin Sisko"], vec![0], None, None));
    assert_eq!(
        summary(&s.cast[1]),
        (3, vec!["Innkeeper", "Mirror Innkeeper"], vec![2, 1], Some((1, 1, "Emissary")), Some((2, 2, "The Circle")))
    );
    assert_eq!(s.cast[1].role_name, "Innkeeper");
    assert_eq!(s.cast[1].credit_order, 3, "best billing over the episodes");

    // Pages of the cast.
    let page = series(&mut app, SERIES, 1, 1).await;
    assert_eq!((names(&page.cast), page.cast_total), (vec!["Marta Quillon"], 3));
    assert!(series(&mut app, SERIES, 5, 3).await.cast.is_empty());
    let id = app.content_id(SERIES).await.to_string();
    let too_many = app.client.get_content(GetContentRequest { id, cast_limit: 1001, cast_offset: 0 }).await;
    assert_eq!(too_many.unwrap_err().code(), tonic::Code::InvalidArgument);

    // A new credit (after the cached read above): the guest's count and last appearance move.
    let more = UpsertBatchRequest { credits: vec![credit(VORTA, EPISODES[3].0, &["Weyoun"], 6)], ..Default::default() };
    assert_eq!(app.upsert(more).await.credits_written, 1);
    let s = series(&mut app, SERIES, 0, 0).await;
    assert_eq!(
        summary(&s.cast[2]),
        (2, vec!["Weyoun"], vec![2], Some((1, 2, "Past Prologue")), Some((2, 2, "The Circle")))
    );

    // An episode moved to another series takes its credits along.
    let moved = UpsertBatchRequest { episodes: vec![link(EPISODES[3].0, OTHER_SERIES, 1, 1)], ..Default::default() };
    assert_eq!(app.upsert(moved).await.episodes_linked, 1);
    let s = series(&mut app, SERIES, 0, 0).await;
    assert_eq!((s.episode_total, s.cast_total), (3, 3));
    assert_eq!(
        summary(&s.cast[1]),
        (2, vec!["Innkeeper"], vec![2], Some((1, 1, "Emissary")), Some((2, 1, "The Homecoming")))
    );
    let other = series(&mut app, OTHER_SERIES, 0, 0).await;
    assert_eq!(names(&other.cast), ["Marta Quillon", "Jeffrey Coombes"]);
    assert_eq!(other.cast[0].characters, ["Mirror Innkeeper"]);

    // A renamed episode and a renamed actor show in the series' cast.
    let renamed = UpsertBatchRequest {
        actors: vec![actor(INNKEEPER, "Marta Quillon-Ray", None)],
        contents: vec![content(EPISODES[0].0, ContentType::Episode, "Emissary, Part I", 1993)],
        ..Default::default()
    };
    app.upsert(renamed).await;
    let s = series(&mut app, SERIES, 0, 0).await;
    assert_eq!(s.cast[1].actor_name, "Marta Quillon-Ray");
    assert_eq!(s.cast[1].first_appearance.as_ref().unwrap().title, "Emissary, Part I");

    // The same batch again changes nothing.
    let again = app.upsert(series_fixture()).await;
    assert_eq!((again.credits_written, again.episodes_linked), (0, 1), "only the moved episode's link comes back");
    app.stop().await;
}

#[tokio::test]
async fn an_episode_cast_carries_its_members_episode_counts_in_the_series() {
    let mut app = spawn_app().await;
    app.upsert(series_fixture()).await;
    let episode = app.content_id(EPISODES[2].0).await.to_string();
    let movie = {
        app.upsert(UpsertBatchRequest {
            contents: vec![content(BIG, ContentType::Movie, "Big", 1988)],
            credits: vec![credit(INNKEEPER, BIG, &["Susan"], 2)],
            ..Default::default()
        })
        .await;
        app.content_id(BIG).await.to_string()
    };
    let request = GetCastsRequest { content_ids: vec![episode, movie], include_series_regulars: true };
    let casts = app.client.get_casts(request).await.unwrap().into_inner().casts;
    assert_eq!(casts[0].series_episode_total, 4);
    let counts: Vec<(&str, u32, bool)> = casts[0]
        .cast
        .iter()
        .map(|c| (c.member.as_ref().unwrap().actor_name.as_str(), c.series_episodes, c.series_regular))
        .collect();
    assert_eq!(counts, [("Marta Quillon", 3, false), ("Avery Brooksfield", 0, true)]);
    assert_eq!(casts[1].series_episode_total, 0);
    assert_eq!(casts[1].cast[0].series_episodes, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_bulk_load_fills_the_aggregated_casts_once_it_is_published() {
    let mut app = spawn_app().await;
    let UpsertBatchRequest { credits, .. } = series_fixture();
    app.upsert(UpsertBatchRequest { credits: vec![], ..series_fixture() }).await;
    let load = || BeginCreditsLoadRequest { load_id: "series-load".into() };
    assert!(app.client.begin_credits_load(load()).await.unwrap().into_inner().accepted);
    let lines: Vec<u64> = (1..=credits.len() as u64).collect();
    let stage = StageCreditsRequest {
        load_id: "series-load".into(),
        first_line: 1,
        last_line: *lines.last().unwrap(),
        credits,
        lines,
    };
    assert_eq!(app.client.stage_credits(stage).await.unwrap().into_inner().staged, 5);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let request = FinishCreditsLoadRequest { load_id: "series-load".into() };
        if app.client.finish_credits_load(request).await.unwrap().into_inner().state == "finished" {
            break;
        }
        assert!(Instant::now() < deadline, "the load did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The aggregation runs with the popularity catch-up, right after the swap.
    let rows = loop {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM series_cast").fetch_one(&app.pool).await.unwrap();
        if rows == 3 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rows, 3);
    let s = series(&mut app, SERIES, 0, 0).await;
    assert_eq!(names(&s.cast), ["Avery Brooksfield", "Marta Quillon", "Jeffrey Coombes"]);
    assert_eq!(summary(&s.cast[1]).0, 3);
    app.stop().await;
}

async fn identify(app: &mut TestApp, request: IdentifyRequest) -> Vec<IdentifyCandidate> {
    app.client.identify(request).await.expect("identify").into_inner().candidates
}

fn title(title: &str, character: &str) -> IdentifyRequest {
    IdentifyRequest { title: title.into(), character: character.into(), ..Default::default() }
}

/// (actor, role, title answered, episodes, first appearance's title) of the best candidate.
fn best(candidates: &[IdentifyCandidate]) -> (String, String, String, u32, String) {
    let c = candidates.first().expect("a candidate");
    let m = c.member.as_ref().unwrap();
    (
        m.actor_name.clone(),
        m.role_name.clone(),
        c.content.as_ref().unwrap().title.clone(),
        m.episode_count,
        m.first_appearance.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
    )
}

#[tokio::test]
async fn identify_finds_a_character_credited_on_any_episode_by_the_series_title() {
    let mut app = spawn_app().await;
    app.upsert(series_fixture()).await;
    let guest = |role: &str, episodes: u32| {
        (
            "Marta Quillon".to_string(),
            role.to_string(),
            "Space Station Drama".to_string(),
            episodes,
            "Emissary".to_string(),
        )
    };
    // Series title only: any episode's character, answered with the series, the episode count and the first
    // appearance; typos in either part.
    assert_eq!(best(&identify(&mut app, title("space station drama", "innkeeper")).await), guest("Innkeeper", 3));
    assert_eq!(best(&identify(&mut app, title("space staton drama", "inkeeper")).await), guest("Innkeeper", 3));
    // The other character of the same actor is the role answered.
    assert_eq!(
        best(&identify(&mut app, title("space station drama", "mirror innkeeper")).await),
        guest("Mirror Innkeeper", 3)
    );
    // Free text reads the same way.
    let free = IdentifyRequest { q: "who played weyoun in space station drama".into(), ..Default::default() };
    let found = identify(&mut app, free).await;
    assert_eq!(best(&found).0, "Jeffrey Coombes");
    assert_eq!(best(&found).2, "Space Station Drama");
    // The regular, credited on the series title only.
    assert_eq!(best(&identify(&mut app, title("space station drama", "sisko")).await).0, "Avery Brooksfield");
    // Season and episode narrow the question to that episode.
    let narrowed = IdentifyRequest { season: Some(2), episode: Some(2), ..title("space station drama", "innkeeper") };
    let found = identify(&mut app, narrowed).await;
    assert_eq!(best(&found).0, "Marta Quillon");
    assert_eq!(best(&found).1, "Mirror Innkeeper");
    assert_eq!(best(&found).2, "The Circle");
    // The title alone lists the aggregated cast: the regular first.
    let cast = identify(&mut app, title("space station drama", "")).await;
    assert_eq!(best(&cast).0, "Avery Brooksfield");
    assert_eq!(cast.len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn a_regulars_series_character_comes_before_the_ones_of_single_episodes() {
    let mut app = spawn_app().await;
    app.upsert(series_fixture()).await;
    let mirror = UpsertBatchRequest {
        credits: vec![credit(CAPTAIN, EPISODES[1].0, &["Mirror Sisko"], 1)],
        ..Default::default()
    };
    assert_eq!(app.upsert(mirror).await.credits_written, 1);
    let s = series(&mut app, SERIES, 0, 0).await;
    let captain = &s.cast[0];
    assert_eq!(captain.characters, ["Captain Benjamin Sisko", "Mirror Sisko"]);
    assert_eq!(captain.character_episodes, [0, 1]);
    assert_eq!(captain.role_name, "Captain Benjamin Sisko");
    app.stop().await;
}
