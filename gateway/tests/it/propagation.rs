//! The request id reaches the services: the gateway's gRPC calls carry it as `x-request-id` metadata.

use std::sync::{Arc, Mutex};

use iknow_proto::catalog::v1::actor_catalog_server::{ActorCatalog, ActorCatalogServer};
use iknow_proto::catalog::v1::*;
use tonic::{Request, Response, Status};

/// A catalogue that only remembers the request ids it was called with.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn record<T>(&self, req: &Request<T>) -> Status {
        let id = req.metadata().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        self.0.lock().unwrap().push(id);
        iknow_common::Error::not_found("ACTOR_NOT_FOUND", "Actor not found").into()
    }
}

#[tonic::async_trait]
impl ActorCatalog for Recorder {
    async fn get_actor(&self, r: Request<GetActorRequest>) -> Result<Response<Actor>, Status> {
        Err(self.record(&r))
    }
    async fn search_actors(&self, r: Request<SearchRequest>) -> Result<Response<SearchActorsResponse>, Status> {
        Err(self.record(&r))
    }
    async fn get_content(&self, r: Request<GetContentRequest>) -> Result<Response<Content>, Status> {
        Err(self.record(&r))
    }
    async fn search_content(&self, r: Request<SearchRequest>) -> Result<Response<SearchContentResponse>, Status> {
        Err(self.record(&r))
    }
    async fn list_episodes(&self, r: Request<ListEpisodesRequest>) -> Result<Response<ListEpisodesResponse>, Status> {
        Err(self.record(&r))
    }
    async fn upsert_batch(&self, r: Request<UpsertBatchRequest>) -> Result<Response<UpsertBatchResponse>, Status> {
        Err(self.record(&r))
    }
    async fn get_actors(&self, r: Request<GetManyRequest>) -> Result<Response<GetActorsResponse>, Status> {
        Err(self.record(&r))
    }
    async fn get_contents(&self, r: Request<GetManyRequest>) -> Result<Response<GetContentsResponse>, Status> {
        Err(self.record(&r))
    }
    async fn get_filmographies(
        &self,
        r: Request<GetManyRequest>,
    ) -> Result<Response<GetFilmographiesResponse>, Status> {
        Err(self.record(&r))
    }
    async fn get_casts(&self, r: Request<GetCastsRequest>) -> Result<Response<GetCastsResponse>, Status> {
        Err(self.record(&r))
    }
    async fn identify(&self, r: Request<IdentifyRequest>) -> Result<Response<IdentifyResponse>, Status> {
        Err(self.record(&r))
    }
    async fn begin_credits_load(
        &self,
        r: Request<BeginCreditsLoadRequest>,
    ) -> Result<Response<CreditsLoadState>, Status> {
        Err(self.record(&r))
    }
    async fn stage_credits(&self, r: Request<StageCreditsRequest>) -> Result<Response<StageCreditsResponse>, Status> {
        Err(self.record(&r))
    }
    async fn finish_credits_load(
        &self,
        r: Request<FinishCreditsLoadRequest>,
    ) -> Result<Response<CreditsLoadState>, Status> {
        Err(self.record(&r))
    }
}

#[tokio::test]
async fn the_request_id_is_forwarded_to_the_catalogue() {
    let recorder = Recorder::default();
    let (listener, addr) = iknow_common::grpc::bind("127.0.0.1:0").await.unwrap();
    let server = tonic::transport::Server::builder()
        .add_service(ActorCatalogServer::new(recorder.clone()))
        .serve_with_incoming(iknow_common::grpc::incoming(listener));
    tokio::spawn(server);

    let base = crate::helpers::spawn_gateway_only(format!("http://{addr}")).await;

    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/api/v1/actors/{}", uuid::Uuid::now_v7()))
        .header("x-request-id", "from-the-client")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http.get(format!("{base}/api/v1/content/search?q=x")).send().await.unwrap();
    let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();

    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(seen, ["from-the-client".to_owned(), made]);
}
