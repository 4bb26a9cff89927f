//! `ListEpisodes`: a series' episodes by season then number (unknown numbers last), one season or all, in
//! pages; a movie or an episode is `NOT_A_SERIES`; the cached list follows the writes that change it.

use iknow_proto::catalog::v1::{
    ContentType, EpisodeLinkInput, ListEpisodesRequest, ListEpisodesResponse, ScrapeSource, UpsertBatchRequest,
};

use crate::helpers::*;

const SERIES: &str = "tt8800000";
const OTHER_SERIES: &str = "tt8900000";
const MOVIE: &str = "tt8800999";
const POSTER: &str = "https://image.tmdb.org/t/p/w500/still.jpg";

/// (IMDb id, season, number, title, year) of the series' episodes, in the order ListEpisodes must give them:
/// season 0 (specials) first, a season's unnumbered episode after its numbered ones, an episode with neither
/// number last.
const EPISODES: [Fixture; 6] = [
    ("tt8800001", Some(0), Some(1), "Behind the Scenes", 2001),
    ("tt8800002", Some(1), Some(1), "Arrival", 2000),
    ("tt8800003", Some(1), Some(2), "Departure", 2000),
    ("tt8800004", Some(1), None, "Lost Tape", 2000),
    ("tt8800005", Some(2), Some(1), "Return", 2001),
    ("tt8800006", None, None, "Unaired Pilot", 1999),
];
/// (IMDb id, season, number, title, year) of an episode.
type Fixture = (&'static str, Option<i32>, Option<i32>, &'static str, i32);
const OTHER_EPISODE: &str = "tt8900001";

fn link(episode: &str, series: &str, season: Option<i32>, number: Option<i32>) -> EpisodeLinkInput {
    EpisodeLinkInput {
        episode_imdb_id: episode.into(),
        series_imdb_id: series.into(),
        season_number: season,
        episode_number: number,
    }
}

/// The series, written in reverse (so neither insertion order nor id order is the episode order), another
/// series with an episode of its own, and a movie. Manual, so the first episode may carry a poster.
fn fixture() -> UpsertBatchRequest {
    use ContentType::*;
    let mut contents = vec![
        content(SERIES, Series, "Harbour Lights", 2000),
        content(OTHER_SERIES, Series, "Other Harbour", 2005),
        content(OTHER_EPISODE, Episode, "Elsewhere", 2005),
        content(MOVIE, Movie, "Harbour Lights: The Movie", 2003),
    ];
    contents.extend(EPISODES.iter().rev().map(|(id, _, _, title, year)| content(id, Episode, title, *year)));
    contents[4..].iter_mut().filter(|c| c.imdb_id == EPISODES[0].0).for_each(|c| c.poster_url = Some(POSTER.into()));
    let mut episodes: Vec<EpisodeLinkInput> =
        EPISODES.iter().rev().map(|(id, s, n, ..)| link(id, SERIES, *s, *n)).collect();
    episodes.push(link(OTHER_EPISODE, OTHER_SERIES, Some(1), Some(1)));
    UpsertBatchRequest { contents, episodes, source: ScrapeSource::Manual.into(), ..Default::default() }
}

async fn list(app: &mut TestApp, imdb: &str, season: Option<i32>, limit: u32, offset: u32) -> ListEpisodesResponse {
    let id = app.content_id(imdb).await.to_string();
    app.client.list_episodes(ListEpisodesRequest { id, season, limit, offset }).await.expect("episodes").into_inner()
}

fn titles(r: &ListEpisodesResponse) -> Vec<&str> {
    r.episodes.iter().map(|e| e.title.as_str()).collect()
}

async fn seeded() -> TestApp {
    let mut app = spawn_app().await;
    let written = app.upsert(fixture()).await;
    assert!(written.rejected.is_empty(), "{:?}", written.rejected);
    app
}

#[tokio::test]
async fn a_series_lists_its_episodes_by_season_then_number() {
    let mut app = seeded().await;
    let all = list(&mut app, SERIES, None, 0, 0).await;
    let expected: Vec<&str> = EPISODES.iter().map(|e| e.3).collect();
    assert_eq!(titles(&all), expected);
    assert_eq!(all.total, 6);

    let first = &all.episodes[0];
    assert_eq!(first.id, app.content_id(EPISODES[0].0).await.to_string());
    assert_eq!(
        (first.imdb_id.as_str(), first.season_number, first.episode_number, first.year, first.poster_url.as_str()),
        (EPISODES[0].0, Some(0), Some(1), Some(2001), POSTER)
    );
    let last = &all.episodes[5];
    assert_eq!((last.season_number, last.episode_number, last.poster_url.as_str()), (None, None, ""));

    let season_one = list(&mut app, SERIES, Some(1), 0, 0).await;
    assert_eq!((titles(&season_one), season_one.total), (vec!["Arrival", "Departure", "Lost Tape"], 3));
    let page = list(&mut app, SERIES, Some(1), 2, 1).await;
    assert_eq!((titles(&page), page.total), (vec!["Departure", "Lost Tape"], 3), "the total counts every page");
    let page = list(&mut app, SERIES, None, 2, 4).await;
    assert_eq!((titles(&page), page.total), (vec!["Return", "Unaired Pilot"], 6));
    let beyond = list(&mut app, SERIES, None, 2, 10).await;
    assert_eq!((beyond.episodes.len(), beyond.total), (0, 6));
    let no_such_season = list(&mut app, SERIES, Some(7), 0, 0).await;
    assert_eq!((no_such_season.episodes.len(), no_such_season.total), (0, 0));

    let other = list(&mut app, OTHER_SERIES, None, 0, 0).await;
    assert_eq!((titles(&other), other.total), (vec!["Elsewhere"], 1), "each series its own episodes");
    app.stop().await;
}

#[tokio::test]
async fn only_a_series_has_episodes() {
    let mut app = seeded().await;
    let ask = async |app: &mut TestApp, id: String, limit: u32| {
        app.client.list_episodes(ListEpisodesRequest { id, limit, ..Default::default() }).await.unwrap_err()
    };
    let movie = app.content_id(MOVIE).await.to_string();
    let e = ask(&mut app, movie, 0).await;
    assert_eq!((e.code(), error_code(&e)), (tonic::Code::FailedPrecondition, "NOT_A_SERIES"));
    assert_eq!(e.message(), "\"Harbour Lights: The Movie\" is a movie, not a series: only a series has episodes");
    let episode = app.content_id(EPISODES[1].0).await.to_string();
    let e = ask(&mut app, episode, 0).await;
    assert_eq!((e.code(), error_code(&e)), (tonic::Code::FailedPrecondition, "NOT_A_SERIES"));
    assert!(e.message().contains("is an episode"), "{}", e.message());

    let e = ask(&mut app, uuid::Uuid::now_v7().to_string(), 0).await;
    assert_eq!((e.code(), error_code(&e)), (tonic::Code::NotFound, "CONTENT_NOT_FOUND"));
    let e = ask(&mut app, "not-a-uuid".into(), 0).await;
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let series = app.content_id(SERIES).await.to_string();
    let e = ask(&mut app, series, 501).await;
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    app.stop().await;
}

/// Reads the series until its list is served from the cache: a title changed straight in the database (behind
/// the service's back) does not show. A read right after start can race the events listener's first bind,
/// which keeps that read out of the cache.
async fn read_until_cached(app: &mut TestApp) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let retitle = async |app: &TestApp, title: &str| {
        sqlx::query("UPDATE content SET title = $1 WHERE imdb_id = $2")
            .bind(title)
            .bind(EPISODES[4].0)
            .execute(&app.pool)
            .await
            .unwrap();
    };
    loop {
        let before = list(app, SERIES, Some(2), 0, 0).await;
        retitle(app, "Changed behind its back").await;
        let after = list(app, SERIES, Some(2), 0, 0).await;
        retitle(app, EPISODES[4].3).await;
        if titles(&after) == titles(&before) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no read filled the cache within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_cached_list_follows_links_moves_and_renames() {
    let mut app = seeded().await;
    read_until_cached(&mut app).await;
    assert_eq!(list(&mut app, OTHER_SERIES, None, 0, 0).await.total, 1);

    let renamed = content(EPISODES[4].0, ContentType::Episode, "Return, Part One", 2001);
    let new_episode = content("tt8800007", ContentType::Episode, "Return, Part Two", 2001);
    app.upsert(UpsertBatchRequest {
        contents: vec![renamed, new_episode],
        episodes: vec![
            link("tt8800007", SERIES, Some(2), Some(2)),
            // Moved to the other series.
            link(EPISODES[2].0, OTHER_SERIES, Some(1), Some(2)),
        ],
        ..Default::default()
    })
    .await;

    let season_two = list(&mut app, SERIES, Some(2), 0, 0).await;
    assert_eq!(titles(&season_two), ["Return, Part One", "Return, Part Two"]);
    let season_one = list(&mut app, SERIES, Some(1), 0, 0).await;
    assert_eq!(titles(&season_one), ["Arrival", "Lost Tape"], "the moved episode left");
    let other = list(&mut app, OTHER_SERIES, None, 0, 0).await;
    assert_eq!(titles(&other), ["Elsewhere", "Departure"], "and joined the other series");
    app.stop().await;
}
