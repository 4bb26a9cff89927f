//! "Where do I know them from" against a real catalogue: known-from (with an episode counting its series),
//! familiar faces of an episode (its own cast plus the series' regulars, never counting the series itself as
//! elsewhere), actor stats (titles, then minutes), other users' data never showing, and 503 only for these
//! while the catalogue is down.

use iknow_proto::library::v1 as pb;
use iknow_proto::library::v1::library_client::LibraryClient;
use tonic::Code;

use crate::helpers::*;

impl TestApp {
    async fn known_from(&self, user: &str, actor_id: &str) -> Result<pb::KnownFromResponse, tonic::Status> {
        let r = pb::KnownFromRequest { user_id: user.into(), actor_id: actor_id.into() };
        self.client.clone().known_from(r).await.map(|r| r.into_inner())
    }

    async fn faces(&self, user: &str, content_id: &str) -> Result<Vec<pb::FamiliarFace>, tonic::Status> {
        let r = pb::FamiliarFacesRequest { user_id: user.into(), content_id: content_id.into() };
        self.client.clone().familiar_faces(r).await.map(|r| r.into_inner().faces)
    }

    async fn stats(&self, user: &str, limit: Option<i32>) -> Result<pb::ActorStatsResponse, tonic::Status> {
        let r = pb::ActorStatsRequest { user_id: user.into(), limit };
        self.client.clone().actor_stats(r).await.map(|r| r.into_inner())
    }

    /// The viewer of these tests: The Matrix 3 days ago, Big 5 days ago (104 min), Drive yesterday (100 min),
    /// Breaking Bad S1E2 2 days ago (47 min), and Forrest Gump completed on the watchlist (now).
    async fn viewer(&self) -> String {
        let u = user();
        self.view_at(&u, &self.titles.id(MATRIX).await, at(3, 20, 0), None).await;
        self.view_at(&u, &self.titles.id(BIG).await, at(5, 20, 0), Some(104)).await;
        self.view_at(&u, &self.titles.id(DRIVE).await, at(1, 20, 0), Some(100)).await;
        self.view_at(&u, &self.titles.id(CATS_IN_THE_BAG).await, at(2, 21, 0), Some(47)).await;
        let gump = self.titles.id(GUMP).await;
        self.add(&u, &gump).await.unwrap();
        let done = pb::UpdateWatchlistItemRequest {
            user_id: u.clone(),
            content_id: gump,
            status: Some("completed".into()),
            ..Default::default()
        };
        self.update(done).await.unwrap();
        u
    }
}

fn titles(items: &[pb::KnownFromItem]) -> Vec<&str> {
    items.iter().map(|i| i.content.as_ref().unwrap().title.as_str()).collect()
}

#[tokio::test]
async fn known_from_lists_seen_titles_most_recent_first_with_the_share_seen() {
    let app = spawn().await;
    let u = app.viewer().await;

    let hanks = app.known_from(&u, &app.titles.actor(HANKS).await).await.unwrap();
    assert_eq!(titles(&hanks.items), ["Forrest Gump", "Big"], "the completed item (now) before the view 5 days ago");
    assert_eq!((hanks.items[0].role_name.as_str(), hanks.items[0].view_count), ("Forrest Gump", 0));
    assert_eq!((hanks.items[1].role_name.as_str(), hanks.items[1].view_count), ("Josh Baskin", 1));
    assert_eq!(hanks.items[1].credit_order, 1);
    assert_eq!(hanks.items[1].content.as_ref().unwrap().runtime_minutes, Some(104));
    assert_eq!((hanks.seen_count, hanks.filmography_count, hanks.share), (2, 2, 1.0));

    // Aaron Paul is credited on the series only; the viewer saw one of its episodes.
    let paul = app.known_from(&u, &app.titles.actor(AARON_PAUL).await).await.unwrap();
    assert_eq!(titles(&paul.items), ["Breaking Bad"]);
    assert_eq!(paul.items[0].last_viewed_at, at(2, 21, 0).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));

    // Fishburne: seen in The Matrix, not in the pilot (never watched): half of his filmography.
    let fishburne = app.known_from(&u, &app.titles.actor(FISHBURNE).await).await.unwrap();
    assert_eq!(titles(&fishburne.items), ["The Matrix"]);
    assert_eq!(fishburne.items[0].characters, ["Morpheus"]);
    assert_eq!((fishburne.seen_count, fishburne.filmography_count, fishburne.share), (1, 2, 0.5));

    // Another user has seen nothing: the same actors are known from nowhere.
    let other = user();
    let none = app.known_from(&other, &app.titles.actor(HANKS).await).await.unwrap();
    assert!(none.items.is_empty());
    assert_eq!((none.seen_count, none.filmography_count, none.share), (0, 2, 0.0));

    let unknown = app.known_from(&u, &uuid::Uuid::now_v7().to_string()).await.unwrap_err();
    assert_eq!((unknown.code(), code(&unknown)), (Code::NotFound, "ACTOR_NOT_FOUND"));
    let bad = app.known_from("nope", "nope").await.unwrap_err();
    assert_eq!(fields(&bad), ["userId", "actorId"]);
}

#[tokio::test]
async fn an_episodes_familiar_faces_include_series_regulars_seen_elsewhere_only() {
    let app = spawn().await;
    let u = app.viewer().await;
    let faces = app.faces(&u, &app.titles.id(PILOT).await).await.unwrap();
    let names: Vec<&str> = faces.iter().map(|f| f.actor_name.as_str()).collect();
    // Aaron Paul was seen only in Breaking Bad itself (S1E2): the series is not "elsewhere".
    assert_eq!(names, ["Bryan Cranston", "Laurence Fishburne"], "Cranston seen yesterday, Fishburne 3 days ago");
    let cranston = &faces[0];
    assert!(cranston.series_regular, "credited on the series");
    assert_eq!(cranston.role_name, "Walter White");
    assert_eq!(cranston.seen_count, 1);
    let example = cranston.example.as_ref().unwrap();
    assert_eq!((example.content.as_ref().unwrap().title.as_str(), example.role_name.as_str()), ("Drive", "Shannon"));
    let fishburne = &faces[1];
    assert!(!fishburne.series_regular, "a guest of the episode");
    assert_eq!(fishburne.role_name, "Guest Chemist");
    assert_eq!(fishburne.example.as_ref().unwrap().role_name, "Morpheus");

    // The Matrix: Keanu was seen only in The Matrix itself, Fishburne nowhere else either.
    assert!(app.faces(&u, &app.titles.id(MATRIX).await).await.unwrap().is_empty());
    // Inception has no cast here; another user has seen nobody.
    assert!(app.faces(&u, &app.titles.id(INCEPTION).await).await.unwrap().is_empty());
    assert!(app.faces(&user(), &app.titles.id(PILOT).await).await.unwrap().is_empty());

    let unknown = app.faces(&u, &uuid::Uuid::now_v7().to_string()).await.unwrap_err();
    assert_eq!((unknown.code(), code(&unknown)), (Code::NotFound, "CONTENT_NOT_FOUND"));
}

#[tokio::test]
async fn actor_stats_rank_by_titles_then_minutes_and_count_a_series_once() {
    let app = spawn().await;
    let u = app.viewer().await;
    let stats = app.stats(&u, None).await.unwrap();
    let ranked: Vec<(&str, u32, i64)> =
        stats.actors.iter().map(|a| (a.actor_name.as_str(), a.titles_seen, a.minutes_watched)).collect();
    assert_eq!(
        ranked,
        [
            // Big (104 min watched) + Forrest Gump (completed: its runtime, 142).
            ("Tom Hanks", 2, 246),
            // Drive (100) + Breaking Bad through S1E2 (47).
            ("Bryan Cranston", 2, 147),
            // The Matrix without a duration: its runtime.
            ("Keanu Reeves", 1, 136),
            ("Laurence Fishburne", 1, 136),
            ("Aaron Paul", 1, 47),
        ]
    );
    // Five titles seen directly, plus Breaking Bad through its episode.
    assert_eq!(stats.titles_seen, 6);
    assert_eq!(app.stats(&u, Some(2)).await.unwrap().actors.len(), 2);
    assert!(app.stats(&user(), None).await.unwrap().actors.is_empty(), "another user's stats are their own");
    for bad in [0, 101] {
        assert_eq!(fields(&app.stats(&u, Some(bad)).await.unwrap_err()), ["limit"]);
    }
}

#[tokio::test]
async fn with_the_catalogue_down_only_these_answer_unavailable() {
    let app = spawn().await;
    let u = app.viewer().await;
    let (hanks, pilot) = (app.titles.actor(HANKS).await, app.titles.id(PILOT).await);
    app.catalog_proxy.cut();
    for err in [
        app.known_from(&u, &hanks).await.unwrap_err(),
        app.faces(&u, &pilot).await.unwrap_err(),
        app.stats(&u, None).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert_eq!(iknow_common::Error::from_status(&err).http_status().as_u16(), 503);
    }
    assert_eq!(app.watchlist(&u).await.len(), 1, "the watchlist still answers");
    assert_eq!(app.all_history(&u).await.len(), 4, "the history still answers");
    app.catalog_proxy.restore();
    let back = iknow_testkit::eventually(10, || async { app.known_from(&u, &hanks).await.ok() }).await;
    assert_eq!(back.seen_count, 2);
}

#[tokio::test]
async fn a_change_on_one_replica_shows_at_once_on_another() {
    let app = spawn().await;
    let u = app.viewer().await;
    let fishburne = app.titles.actor(FISHBURNE).await;
    let mut other = app.replica().await;
    let ask = |client: &mut LibraryClient<tonic::transport::Channel>| {
        let r = pb::KnownFromRequest { user_id: u.clone(), actor_id: fishburne.clone() };
        let mut client = client.clone();
        async move { client.known_from(r).await.unwrap().into_inner().seen_count }
    };
    assert_eq!(ask(&mut other).await, 1, "The Matrix");
    assert_eq!(ask(&mut other).await, 1, "asked again: the replica's cached copy");

    // A view recorded through the first replica: the second one sees it on its next read.
    let pilot = app.titles.id(PILOT).await;
    let view = app.view_at(&u, &pilot, at(0, 0, 1), None).await;
    assert_eq!(ask(&mut other).await, 2, "The Matrix and the pilot");
    app.delete_entry(&u, &view.entry.unwrap().id).await.unwrap();
    assert_eq!(ask(&mut other).await, 1, "the deleted view is gone");
    // Completing a watchlist item counts too.
    app.add(&u, &pilot).await.unwrap();
    assert_eq!(ask(&mut other).await, 1, "on the watchlist, not completed: not seen");
    let done = pb::UpdateWatchlistItemRequest {
        user_id: u.clone(),
        content_id: pilot,
        status: Some("completed".into()),
        ..Default::default()
    };
    app.update(done).await.unwrap();
    assert_eq!(ask(&mut other).await, 2);
}

/// "The Inn": six episodes (S1E1, S1E2, S2E1, S2E2, S3E4, S3E5). In S3E5: a guest back from S1E2 (2 of 6
/// episodes), a cook in 5 of the 6, a host credited on the series title, and a bard seen in S1E2 and in a
/// movie.
mod the_inn {
    use iknow_proto::catalog::v1::{ContentType, UpsertBatchRequest};

    use crate::helpers::{actor, credit, episode, title};

    pub const SERIES: &str = "tt9100000";
    pub const EPISODES: [(&str, i32, i32, &str); 6] = [
        ("tt9100011", 1, 1, "Arrival"),
        ("tt9100012", 1, 2, "The Cellar"),
        ("tt9100021", 2, 1, "Snow"),
        ("tt9100022", 2, 2, "Thaw"),
        ("tt9100034", 3, 4, "Debts"),
        ("tt9100035", 3, 5, "The Return"),
    ];
    pub const S1E2: &str = "tt9100012";
    pub const S3E5: &str = "tt9100035";
    pub const MOVIE: &str = "tt9100099";
    pub const GUEST: &str = "nm9100001";
    pub const COOK: &str = "nm9100002";
    pub const HOST: &str = "nm9100003";
    pub const BARD: &str = "nm9100004";

    pub fn batch() -> UpsertBatchRequest {
        let mut contents = vec![
            title(SERIES, ContentType::Series, "The Inn", 2019, 50),
            title(MOVIE, ContentType::Movie, "Far Road", 2021, 110),
        ];
        let mut episodes = vec![];
        let mut credits = vec![
            credit(HOST, SERIES, "Host", 1),
            credit(GUEST, S1E2, "Innkeeper", 7),
            credit(GUEST, S3E5, "Innkeeper", 7),
            credit(BARD, S1E2, "Bard", 8),
            credit(BARD, S3E5, "Bard", 8),
            credit(BARD, MOVIE, "Knight", 2),
        ];
        for (imdb, season, number, name) in EPISODES {
            contents.push(title(imdb, ContentType::Episode, name, 2019 + season, 50));
            episodes.push(episode(SERIES, imdb, season, number));
            if imdb != "tt9100034" {
                credits.push(credit(COOK, imdb, "Cook", 3));
            }
        }
        UpsertBatchRequest {
            contents,
            episodes,
            actors: vec![
                actor(GUEST, "Gwen Guest"),
                actor(COOK, "Colin Cook"),
                actor(HOST, "Hana Host"),
                actor(BARD, "Bert Bard"),
            ],
            credits,
            ..Default::default()
        }
    }
}

#[tokio::test]
async fn an_episode_counts_other_episodes_of_its_series_for_guests_only_after_other_titles() {
    let app = spawn().await;
    let reply = app.catalog.clone().upsert_batch(the_inn::batch()).await.unwrap().into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
    let u = user();
    app.view_at(&u, &app.titles.id(the_inn::S1E2).await, at(30, 20, 0), None).await;
    app.view_at(&u, &app.titles.id(the_inn::MOVIE).await, at(40, 20, 0), None).await;

    let faces = app.faces(&u, &app.titles.id(the_inn::S3E5).await).await.unwrap();
    let names: Vec<(&str, bool)> = faces.iter().map(|f| (f.actor_name.as_str(), f.same_series)).collect();
    // The cook is in 5 of the 6 episodes and the host a regular of the series: both were in S1E2 too, and
    // neither counts. The bard, also seen in a movie, comes before the guest known only from the series.
    assert_eq!(names, [("Bert Bard", false), ("Gwen Guest", true)]);

    let bard = &faces[0];
    assert_eq!((bard.seen_count, bard.same_series_count), (2, 1));
    let example = bard.example.as_ref().unwrap();
    assert_eq!((example.content.as_ref().unwrap().title.as_str(), example.same_series), ("Far Road", false));

    let guest = &faces[1];
    assert_eq!((guest.role_name.as_str(), guest.seen_count, guest.same_series_count), ("Innkeeper", 1, 1));
    let example = guest.example.as_ref().unwrap();
    let content = example.content.as_ref().unwrap();
    assert_eq!((content.title.as_str(), content.content_type.as_str()), ("The Cellar", "episode"));
    assert_eq!((example.season_number, example.episode_number), (Some(1), Some(2)));
    assert_eq!((example.series_title.as_str(), example.same_series), ("The Inn", true));
    assert_eq!(content.series_id, app.titles.id(the_inn::SERIES).await);
    assert_eq!(example.role_name, "Innkeeper");

    // Watching S1E2 itself: the guest is seen nowhere else; the bard only in the movie.
    let faces = app.faces(&u, &app.titles.id(the_inn::S1E2).await).await.unwrap();
    let names: Vec<&str> = faces.iter().map(|f| f.actor_name.as_str()).collect();
    assert_eq!(names, ["Bert Bard"], "the watched title is never a sighting of itself");
    assert_eq!(faces[0].same_series_count, 0);

    // Known-from names the episode: its series, season and number (no watched title, so not same_series).
    let known = app.known_from(&u, &app.titles.actor(the_inn::GUEST).await).await.unwrap();
    assert_eq!(titles(&known.items), ["The Cellar"]);
    let item = &known.items[0];
    assert_eq!((item.season_number, item.episode_number, item.series_title.as_str()), (Some(1), Some(2), "The Inn"));
    assert!(!item.same_series);
}

#[tokio::test]
async fn familiar_faces_follow_history_deletes_and_catalogue_writes() {
    let app = spawn().await;
    let reply = app.catalog.clone().upsert_batch(the_inn::batch()).await.unwrap().into_inner();
    assert!(reply.rejected.is_empty(), "{:?}", reply.rejected);
    let u = user();
    let s3e5 = app.titles.id(the_inn::S3E5).await;
    let names = |faces: Vec<pb::FamiliarFace>| faces.into_iter().map(|f| f.actor_name).collect::<Vec<_>>();
    let movie = app.view_at(&u, &app.titles.id(the_inn::MOVIE).await, at(40, 20, 0), None).await;
    assert_eq!(names(app.faces(&u, &s3e5).await.unwrap()), ["Bert Bard"]);
    assert_eq!(names(app.faces(&u, &s3e5).await.unwrap()), ["Bert Bard"], "asked again: the kept casts");

    // Keanu joins the cast of S3E5 and of the movie: the kept cast of the movie is dropped by the event.
    let more = iknow_proto::catalog::v1::UpsertBatchRequest {
        credits: vec![credit(KEANU, the_inn::S3E5, "Stranger", 9), credit(KEANU, the_inn::MOVIE, "Rider", 5)],
        ..Default::default()
    };
    app.catalog.clone().upsert_batch(more).await.unwrap();
    let faces = iknow_testkit::eventually(20, || async {
        let faces = names(app.faces(&u, &s3e5).await.unwrap());
        (faces.len() == 2).then_some(faces)
    })
    .await;
    assert_eq!(faces, ["Bert Bard", "Keanu Reeves"]);

    // The movie's view deleted: nobody is familiar any more.
    app.delete_entry(&u, &movie.entry.unwrap().id).await.unwrap();
    assert!(app.faces(&u, &s3e5).await.unwrap().is_empty());
}
