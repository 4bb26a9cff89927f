//! GetActor's credits on episodes carry their series, season and episode, and every series credit the number of
//! episodes its series has; the full birth date travels beside the year.

use iknow_proto::catalog::v1::{
    ActorInput, ContentType, EpisodeLinkInput, GetActorRequest, ScrapeSource, UpsertBatchRequest,
};

use crate::helpers::*;

const SHOW: &str = "tt9100000";
const GUEST: &str = "nm9100001";

/// A credit as the test compares it: title, series id, season, episode, the series' episode count.
type Row<'a> = (&'a str, Option<&'a str>, Option<i32>, Option<i32>, u32);

fn episode_imdb(season: i32, n: i32) -> String {
    format!("tt91{season:02}{n:03}")
}

#[tokio::test]
async fn episode_credits_carry_their_series_numbers_and_the_series_episode_total() {
    let mut app = spawn_app().await;
    let mut contents = vec![
        content(SHOW, ContentType::Series, "The Long Show", 1990),
        content("tt9100999", ContentType::Movie, "A Film", 2000),
    ];
    let mut episodes = vec![];
    for season in 1..=2 {
        for n in 1..=3 {
            let imdb = episode_imdb(season, n);
            contents.push(content(&imdb, ContentType::Episode, &format!("Episode {season}.{n}"), 2009 + season));
            episodes.push(EpisodeLinkInput {
                episode_imdb_id: imdb,
                series_imdb_id: SHOW.into(),
                season_number: Some(season),
                episode_number: Some(n),
            });
        }
    }
    let credits = vec![
        credit(GUEST, SHOW, &["Innkeeper"], 9),
        credit(GUEST, &episode_imdb(2, 3), &["Innkeeper"], 4),
        credit(GUEST, &episode_imdb(1, 2), &["Innkeeper"], 5),
        credit(GUEST, "tt9100999", &["Clerk"], 2),
    ];
    let written = app
        .upsert(UpsertBatchRequest {
            actors: vec![actor(GUEST, "Gus Guest", Some(1960))],
            contents,
            credits,
            episodes,
            ..Default::default()
        })
        .await;
    assert!(written.rejected.is_empty(), "{:?}", written.rejected);
    let dated = app
        .upsert(UpsertBatchRequest {
            actors: vec![ActorInput {
                birth_date: Some("1960-04-02".into()),
                tmdb_id: Some(91),
                ..actor(GUEST, "Gus Guest", None)
            }],
            source: ScrapeSource::Api.into(),
            ..Default::default()
        })
        .await;
    assert!(dated.rejected.is_empty(), "{:?}", dated.rejected);

    let id = app.actor_id(GUEST).await;
    let show = app.content_id(SHOW).await.to_string();
    let gus = app.client.get_actor(GetActorRequest { id: id.to_string() }).await.unwrap().into_inner();
    assert_eq!((gus.birth_year, gus.birth_date.as_deref(), gus.death_date), (Some(1960), Some("1960-04-02"), None));
    let rows: Vec<Row> = gus
        .filmography
        .iter()
        .map(|f| {
            (
                f.content.as_ref().unwrap().title.as_str(),
                f.series.as_ref().map(|s| s.id.as_str()),
                f.season_number,
                f.episode_number,
                f.series_episode_total,
            )
        })
        .collect();
    // Newest first by the series' year (1990), not the episodes' (2010, 2011); the series title, then its
    // episodes by season and number.
    assert_eq!(
        rows,
        [
            ("A Film", None, None, None, 0),
            ("The Long Show", None, None, None, 6),
            ("Episode 1.2", Some(show.as_str()), Some(1), Some(2), 6),
            ("Episode 2.3", Some(show.as_str()), Some(2), Some(3), 6),
        ]
    );
    let series = gus.filmography[2].series.as_ref().unwrap();
    assert_eq!((series.title.as_str(), series.imdb_id.as_str(), series.year), ("The Long Show", SHOW, Some(1990)));
    assert_eq!(series.content_type, i32::from(ContentType::Series));
}
