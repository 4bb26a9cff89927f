//! The TMDB jobs: `tmdb_person` (a person's details and acting credits) and `tmdb_title` (a movie's or series'
//! details and cast), fetched from a TMDB v3-compatible API ([`client`]) and written as one `UpsertBatch`.
//!
//! The catalogue keys everything by IMDb id, and TMDB's credit lists carry none, so each credited title is
//! fetched (`/movie/{id}`, or `/tv/{id}?append_to_response=external_ids`, which also give runtime, genres and
//! end year) and each cast member of a title (`/person/{id}`, which also gives birth and death years). What
//! TMDB knows no IMDb id for is skipped and counted; a credited title or person TMDB answers 404 for is
//! rejected with the reason. At most `tmdb_max_credits` credits are followed (a person's most popular ones, a
//! title's first billed). An IMDb id given to the job is resolved through `/find`.
//!
//! Batches go with source `api`: the catalogue keeps IMDb's names, years and genres of rows it has, takes
//! TMDB's ids, dates, biographies, photos, overviews and posters, and adds a credit only for an (actor,
//! title) pair it has none for. A person job whose credits were all followed (none cut by `tmdb_max_credits`,
//! no title refused) marks the actor's filmography complete; a title job likewise the title's cast (people
//! and titles TMDB has no IMDb id for cannot be catalogued and do not count against it).
//!
//! The job reports three "files": `tmdb actors`, `tmdb titles` and `tmdb credits`. A missing primary
//! resource (404), or a person TMDB has no IMDb id for, fails the job for good (dead-lettered with the
//! reason); 429s, 5xx and timeouts are tried again by the client and then fail the attempt (retried through
//! the queue). Writing is idempotent by IMDb id, so an attempt cut short is simply run again.

pub mod client;
pub mod map;
pub mod model;

use std::collections::{HashMap, HashSet};

use futures::StreamExt as _;
use iknow_proto::catalog::v1::{ContentInput, ScrapeSource, UpsertBatchRequest, UpsertBatchResponse};

pub use client::{Client, Error};

use crate::Context;
use crate::imdb::{Failure, FileReport, Finished, ImportReport, Rejections};
use crate::jobs::{TmdbPersonParams, TmdbTitleParams};
use model::PersonCredit;

/// Detail requests of one job in flight at once (the client's rate limit still applies to all of them).
const FETCH_CONCURRENCY: usize = 4;
/// IMDb ids of a person's best-known titles kept as `known_for`.
const KNOWN_FOR: usize = 4;

/// Counts of one kind of row.
#[derive(Debug, Default)]
struct Tally {
    read: u64,
    skipped: u64,
    rejections: Rejections,
}

#[derive(Debug, Default)]
struct Tallies {
    actors: Tally,
    titles: Tally,
    credits: Tally,
}

/// A failure of the resource the job is about: 404 means there is nothing to import.
fn primary(what: &str) -> impl Fn(Error) -> Failure + '_ {
    move |e| match e {
        Error::NotFound(path) => Failure::Permanent(format!("TMDB has no {what} ({path} answered 404)")),
        Error::Permanent(e) => Failure::Permanent(e),
        Error::Transient(e) => Failure::Transient(e),
    }
}

/// A title's details as a catalogue input; `None` when TMDB knows no IMDb id for it (and `fallback` is none).
async fn fetch_title(
    client: &Client,
    media: &str,
    id: u64,
    fallback: Option<&str>,
    images: &str,
) -> Result<Option<ContentInput>, Error> {
    let fallback = fallback.map(str::to_owned);
    Ok(if media == "tv" {
        let tv = client.tv(id).await?;
        let imdb = tv.external_ids.as_ref().and_then(|x| map::imdb_id(x.imdb_id.as_deref(), "tt")).or(fallback);
        imdb.map(|imdb| map::tv(&tv, imdb, images))
    } else {
        let movie = client.movie(id).await?;
        map::imdb_id(movie.imdb_id.as_deref(), "tt").or(fallback).map(|imdb| map::movie(&movie, imdb, images))
    })
}

/// The report of one kind of row: `sent` rows went to the catalogue, which wrote `written` and refused `refused`.
fn report(name: &str, tally: Tally, refused: Rejections, sent: usize, written: u32) -> FileReport {
    let mut f = FileReport::new(name);
    f.rows_read = tally.read;
    f.skipped = tally.skipped;
    f.written = u64::from(written);
    f.unchanged = (sent as u64).saturating_sub(f.written).saturating_sub(refused.count());
    f.add_rejections(tally.rejections);
    f.add_rejections(refused);
    f.complete = true;
    f
}

/// Writes the batch and turns the catalogue's answer into the job's report.
async fn write(ctx: &Context, request: UpsertBatchRequest, tallies: Tallies) -> Result<Finished, Failure> {
    let response = crate::catalog::upsert(&ctx.catalog, &request, ctx.config.catalog_tries).await.map_err(|s| {
        Failure::Transient(format!("UpsertBatch of the TMDB rows failed: {}: {}", s.code(), s.message()))
    })?;
    let UpsertBatchResponse { actors_written, contents_written, credits_written, rejected, .. } = response;
    let (mut actors, mut titles, mut credits) = (Rejections::default(), Rejections::default(), Rejections::default());
    for row in rejected {
        let refused = match row.kind.as_str() {
            "actor" => &mut actors,
            "content" => &mut titles,
            _ => &mut credits,
        };
        refused.push(0, format!("{} {}: {}", row.kind, row.key, row.reason));
    }
    tracing::info!(
        actors = request.actors.len(),
        titles = request.contents.len(),
        credits = request.credits.len(),
        actors_written,
        contents_written,
        credits_written,
        "TMDB rows written"
    );
    let files = vec![
        report("tmdb actors", tallies.actors, actors, request.actors.len(), actors_written),
        report("tmdb titles", tallies.titles, titles, request.contents.len(), contents_written),
        report("tmdb credits", tallies.credits, credits, request.credits.len(), credits_written),
    ];
    Ok(Finished::Complete(ImportReport { files }))
}

/// Runs a `tmdb_person` job.
pub async fn person_job(ctx: &Context, params: &TmdbPersonParams) -> Result<Finished, Failure> {
    let client = &ctx.tmdb;
    let given_imdb = params.imdb_id.as_deref();
    let id = match (params.tmdb_id, given_imdb) {
        (Some(id), None) => id,
        (None, Some(imdb)) => {
            let found = client.find(imdb).await.map_err(primary("such IMDb id"))?;
            let Some(found) = found.person_results.first() else {
                return Err(Failure::Permanent(format!("TMDB knows no person with IMDb id {imdb} (/find)")));
            };
            found.id
        }
        _ => return Err(Failure::Permanent("a tmdb_person job needs exactly one of tmdbId and imdbId".into())),
    };
    let what = format!("person {id}");
    let person = client.person(id).await.map_err(primary(&what))?;
    let Some(actor_imdb) = map::imdb_id(person.imdb_id.as_deref(), "nm").or(given_imdb.map(str::to_owned)) else {
        return Err(Failure::Permanent(format!(
            "TMDB person {id} ({}) has no IMDb id; the catalogue keys actors by IMDb id, so nothing was written",
            person.name.as_deref().unwrap_or("no name")
        )));
    };
    let combined = client.combined_credits(id).await.map_err(primary(&what))?;
    let mut tallies = Tallies::default();
    tallies.actors.read = 1;
    tallies.credits.read = combined.cast.len() as u64;
    // Acting credits of movies and series, the most popular first, at most tmdb_max_credits.
    let mut cast: Vec<PersonCredit> =
        combined.cast.into_iter().filter(|c| matches!(c.media_type.as_deref(), Some("movie" | "tv"))).collect();
    let acted = !cast.is_empty();
    cast.sort_by(|a, b| b.popularity.unwrap_or(0.0).total_cmp(&a.popularity.unwrap_or(0.0)));
    let acting = cast.len();
    cast.truncate(ctx.config.tmdb_max_credits);
    let truncated = cast.len() < acting;
    tallies.credits.skipped = tallies.credits.read - cast.len() as u64;
    let images = ctx.config.tmdb_image_base_url.as_str();

    let mut seen = HashSet::new();
    let titles: Vec<(&str, u64)> = cast
        .iter()
        .map(|c| (c.media_type.as_deref().unwrap_or("movie"), c.id))
        .filter(|key| seen.insert(*key))
        .collect();
    tallies.titles.read = titles.len() as u64;
    let fetches: Vec<_> = titles.iter().map(|&(media, id)| fetch_title(client, media, id, None, images)).collect();
    let fetched: Vec<_> = futures::stream::iter(fetches).buffered(FETCH_CONCURRENCY).collect().await;
    let mut imdb_of: HashMap<(&str, u64), String> = HashMap::new();
    let mut contents = Vec::new();
    for (key, result) in titles.iter().zip(fetched) {
        match result {
            Ok(Some(content)) => {
                imdb_of.insert(*key, content.imdb_id.clone());
                contents.push(content);
            }
            Ok(None) => tallies.titles.skipped += 1,
            Err(Error::Transient(e)) => return Err(Failure::Transient(e)),
            Err(e) => tallies.titles.rejections.push(0, format!("{} {}: {e}", key.0, key.1)),
        }
    }
    let mut credits = Vec::new();
    let mut known_for = Vec::new();
    for c in &cast {
        let Some(content) = imdb_of.get(&(c.media_type.as_deref().unwrap_or("movie"), c.id)) else {
            tallies.credits.skipped += 1;
            continue;
        };
        if known_for.len() < KNOWN_FOR && !known_for.contains(content) {
            known_for.push(content.clone());
        }
        credits.push(map::credit(&actor_imdb, content, person.gender, c.character.as_deref(), c.order));
    }
    let mut actor = map::actor(&person, actor_imdb, acted, known_for, images);
    actor.complete_filmography = !truncated && tallies.titles.rejections.count() == 0;
    let request = UpsertBatchRequest {
        actors: vec![actor],
        contents,
        credits,
        source: ScrapeSource::Api.into(),
        ..Default::default()
    };
    write(ctx, request, tallies).await
}

/// Runs a `tmdb_title` job.
pub async fn title_job(ctx: &Context, params: &TmdbTitleParams) -> Result<Finished, Failure> {
    let client = &ctx.tmdb;
    let given_imdb = params.imdb_id.as_deref();
    let (media, id) = match (params.tmdb_id, given_imdb) {
        (Some(id), None) => match params.media_type.as_deref().unwrap_or("movie") {
            "" | "movie" => ("movie", id),
            "tv" => ("tv", id),
            other => return Err(Failure::Permanent(format!("unknown media type {other:?} (movie or tv)"))),
        },
        (None, Some(imdb)) => {
            let found = client.find(imdb).await.map_err(primary("such IMDb id"))?;
            match (found.movie_results.first(), found.tv_results.first()) {
                (Some(m), _) => ("movie", m.id),
                (None, Some(t)) => ("tv", t.id),
                (None, None) => {
                    return Err(Failure::Permanent(format!(
                        "TMDB knows no movie or series with IMDb id {imdb} (/find)"
                    )));
                }
            }
        }
        _ => return Err(Failure::Permanent("a tmdb_title job needs exactly one of tmdbId and imdbId".into())),
    };
    let what = format!("{media} {id}");
    let images = ctx.config.tmdb_image_base_url.as_str();
    let Some(mut content) = fetch_title(client, media, id, given_imdb, images).await.map_err(primary(&what))? else {
        return Err(Failure::Permanent(format!(
            "TMDB {what} has no IMDb id; the catalogue keys titles by IMDb id, so nothing was written"
        )));
    };
    let cast = client.credits(media, id).await.map_err(primary(&what))?.cast;
    let mut tallies = Tallies::default();
    tallies.titles.read = 1;
    tallies.credits.read = cast.len() as u64;
    let mut cast = cast;
    cast.sort_by_key(|m| m.order.unwrap_or(i32::MAX));
    let listed = cast.len();
    cast.truncate(ctx.config.tmdb_max_credits);
    let truncated = cast.len() < listed;
    tallies.credits.skipped = tallies.credits.read - cast.len() as u64;

    let mut seen = HashSet::new();
    let people: Vec<u64> = cast.iter().map(|m| m.id).filter(|id| seen.insert(*id)).collect();
    tallies.actors.read = people.len() as u64;
    let fetches: Vec<_> = people.iter().map(|&id| client.person(id)).collect();
    let fetched: Vec<_> = futures::stream::iter(fetches).buffered(FETCH_CONCURRENCY).collect().await;
    let mut imdb_of: HashMap<u64, (String, Option<u8>)> = HashMap::new();
    let mut actors = Vec::new();
    for (person_id, result) in people.iter().zip(fetched) {
        match result {
            Ok(person) => match map::imdb_id(person.imdb_id.as_deref(), "nm") {
                Some(imdb) => {
                    imdb_of.insert(*person_id, (imdb.clone(), person.gender));
                    actors.push(map::actor(&person, imdb, true, vec![], images));
                }
                None => tallies.actors.skipped += 1,
            },
            Err(Error::Transient(e)) => return Err(Failure::Transient(e)),
            Err(e) => tallies.actors.rejections.push(0, format!("person {person_id}: {e}")),
        }
    }
    let mut credits = Vec::new();
    for m in &cast {
        let Some((actor, gender)) = imdb_of.get(&m.id) else {
            tallies.credits.skipped += 1;
            continue;
        };
        credits.push(map::credit(actor, &content.imdb_id, m.gender.or(*gender), m.character.as_deref(), m.order));
    }
    content.complete_cast = !truncated && tallies.actors.rejections.count() == 0;
    let request = UpsertBatchRequest {
        actors,
        contents: vec![content],
        credits,
        source: ScrapeSource::Api.into(),
        ..Default::default()
    };
    write(ctx, request, tallies).await
}
