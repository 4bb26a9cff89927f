//! The library's view of the catalogue: one `GetContents` call per add/record (never one per row), over a
//! lazily connected channel with a connect timeout and a call deadline, forwarding the request id. Each answer
//! refreshes the title's summary in `content_snapshot` ([`crate::store::store_summary`]), which lists read and
//! which lets an add of a title already known here succeed while the catalogue is down.

use iknow_common::Error;
use iknow_common::request_id::Propagate;
use iknow_proto::catalog::v1::{self as catalog, GetManyRequest, actor_catalog_client::ActorCatalogClient};
use sqlx::PgPool;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

use crate::Config;
use crate::store::{self, Summary};

/// The summary `content_snapshot` stores of a title the catalogue answered; `None` without a valid id.
fn summary(c: &catalog::Content) -> Option<Summary> {
    Some(Summary {
        content_id: iknow_common::id::parse(&c.id)?,
        title: c.title.clone(),
        content_type: catalog::ContentType::name_of(c.content_type).unwrap_or("unknown").into(),
        year: c.year,
        poster_url: Some(c.poster_url.clone()).filter(|p| !p.is_empty()),
        runtime_minutes: c.runtime_minutes,
        series_id: c.parent.as_ref().and_then(|p| iknow_common::id::parse(&p.id)),
        season_number: c.season_number,
        episode_number: c.episode_number,
    })
}

/// What the catalogue said about a title.
#[derive(Debug)]
pub enum Lookup {
    Found(Summary),
    /// The catalogue answered and does not know the id.
    Unknown,
    /// The catalogue did not answer (down, slow, or failing).
    Unreachable,
}

/// Client of the actor-catalog service.
#[derive(Clone)]
pub struct Catalog {
    client: ActorCatalogClient<InterceptedService<Channel, Propagate>>,
}

impl Catalog {
    /// A client over a lazy channel: nothing connects until the first call, so a catalogue that is down at
    /// start never stops the library from starting.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(config.catalog_url.clone())
            .map_err(|e| anyhow::anyhow!("invalid catalog_url {:?}: {e}", config.catalog_url))?
            .connect_timeout(config.catalog_connect_timeout())
            .timeout(config.catalog_timeout());
        Ok(Self { client: ActorCatalogClient::with_interceptor(endpoint.connect_lazy(), Propagate) })
    }

    /// Asks the catalogue about one title.
    pub async fn lookup(&self, id: Uuid) -> Lookup {
        let request = GetManyRequest { ids: vec![id.to_string()] };
        match self.client.clone().get_contents(request).await {
            Ok(reply) => reply
                .into_inner()
                .contents
                .iter()
                .filter_map(summary)
                .find(|s| s.content_id == id)
                .map_or(Lookup::Unknown, Lookup::Found),
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "catalogue call failed");
                Lookup::Unreachable
            }
        }
    }

    /// Makes sure `id` is a title the catalogue knows and its summary is stored here: NotFound
    /// CONTENT_NOT_FOUND when the catalogue does not know it; when the catalogue cannot be reached, a title
    /// already stored here passes on its stored summary, any other answers Unavailable.
    pub async fn ensure_content(&self, pool: &PgPool, id: Uuid) -> Result<(), Error> {
        match self.lookup(id).await {
            Lookup::Found(summary) => store::store_summary(pool, &summary).await,
            Lookup::Unknown => Err(Error::not_found("CONTENT_NOT_FOUND", "No title with this id")),
            Lookup::Unreachable => {
                let known = store::is_stored(pool, id).await?;
                if known { Ok(()) } else { Err(Error::unavailable("The catalogue is unavailable, try again shortly")) }
            }
        }
    }
}

impl Catalog {
    /// The credits of many actors (`GetFilmographies`), asked in chunks of at most
    /// [`MAX_FILMOGRAPHY_IDS`] run concurrently; unknown actors are left out. Unavailable when the catalogue
    /// cannot answer.
    pub async fn filmographies(&self, actor_ids: &[Uuid]) -> Result<Vec<catalog::ActorFilmography>, Error> {
        let calls = actor_ids.chunks(MAX_FILMOGRAPHY_IDS).map(|chunk| {
            let request = GetManyRequest { ids: chunk.iter().map(Uuid::to_string).collect() };
            let mut client = self.client.clone();
            async move { client.get_filmographies(request).await.map(|r| r.into_inner().filmographies) }
        });
        let answers = futures::future::try_join_all(calls).await.map_err(unreachable)?;
        Ok(answers.into_iter().flatten().collect())
    }

    /// Many titles without their casts (`GetContents`), asked in chunks of at most [`MAX_CONTENT_IDS`] run
    /// concurrently; unknown titles are left out. Unavailable when the catalogue cannot answer.
    pub async fn contents(&self, ids: &[Uuid]) -> Result<Vec<catalog::Content>, Error> {
        let calls = ids.chunks(MAX_CONTENT_IDS).map(|chunk| {
            let request = GetManyRequest { ids: chunk.iter().map(Uuid::to_string).collect() };
            let mut client = self.client.clone();
            async move { client.get_contents(request).await.map(|r| r.into_inner().contents) }
        });
        let answers = futures::future::try_join_all(calls).await.map_err(unreachable)?;
        Ok(answers.into_iter().flatten().collect())
    }

    /// The casts of many titles (`GetCasts`), asked in chunks of at most [`MAX_CAST_IDS`] run concurrently;
    /// unknown titles are left out. Unavailable when the catalogue cannot answer.
    pub async fn casts(&self, content_ids: &[Uuid], with_series: bool) -> Result<Vec<catalog::ContentCast>, Error> {
        let calls = content_ids.chunks(MAX_CAST_IDS).map(|chunk| {
            let request = catalog::GetCastsRequest {
                content_ids: chunk.iter().map(Uuid::to_string).collect(),
                include_series_regulars: with_series,
            };
            let mut client = self.client.clone();
            async move { client.get_casts(request).await.map(|r| r.into_inner().casts) }
        });
        let answers = futures::future::try_join_all(calls).await.map_err(unreachable)?;
        Ok(answers.into_iter().flatten().collect())
    }
}

/// Most actor ids per `GetFilmographies` call (the catalogue's cap).
pub const MAX_FILMOGRAPHY_IDS: usize = 1_000;
/// Most title ids per `GetContents` call (the catalogue's cap).
pub const MAX_CONTENT_IDS: usize = 1_000;
/// Most title ids per `GetCasts` call (the catalogue's cap).
pub const MAX_CAST_IDS: usize = 5_000;

/// A failed batch read: logged, and answered as Unavailable (the features that need the catalogue are off
/// while it is down or failing).
fn unreachable(status: tonic::Status) -> Error {
    tracing::warn!(code = ?status.code(), message = status.message(), "catalogue batch call failed");
    Error::unavailable("The catalogue is unavailable, try again shortly")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_of_episodes_carry_their_series() {
        let series = Uuid::now_v7();
        let id = Uuid::now_v7();
        let c = catalog::Content {
            id: id.to_string(),
            title: "Pilot".into(),
            content_type: catalog::ContentType::Episode as i32,
            year: Some(2008),
            runtime_minutes: Some(58),
            parent: Some(catalog::ContentRef { id: series.to_string(), ..Default::default() }),
            season_number: Some(1),
            episode_number: Some(2),
            ..Default::default()
        };
        let s = summary(&c).unwrap();
        assert_eq!((s.content_type.as_str(), s.series_id, s.poster_url), ("episode", Some(series), None));
        assert_eq!((s.season_number, s.episode_number), (Some(1), Some(2)));
        assert!(summary(&catalog::Content { id: "bad".into(), ..c }).is_none());
    }
}
