//! The workers' client of the actor catalogue: `UpsertBatch` over a channel with a connect timeout and a call
//! deadline, forwarding the job's request id, retried briefly while the catalogue is unavailable.

use std::time::Duration;

use anyhow::Context as _;
use iknow_common::request_id::Propagate;
use iknow_proto::catalog::v1::actor_catalog_client::ActorCatalogClient;
use iknow_proto::catalog::v1::{UpsertBatchRequest, UpsertBatchResponse};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// A catalogue client that sends the current task's request id as `x-request-id`.
pub type CatalogClient = ActorCatalogClient<InterceptedService<Channel, Propagate>>;

/// First pause between two tries of one batch; doubled after each.
const FIRST_PAUSE: Duration = Duration::from_millis(200);

fn endpoint(url: &str, connect_timeout: Duration, call_timeout: Duration) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid catalogue URL {url:?}"))?
        .connect_timeout(connect_timeout)
        .timeout(call_timeout))
}

/// A client over a lazy channel: nothing connects until the first call, so a catalogue that is down never
/// stops the service from starting (jobs fail and are retried instead).
pub fn lazy(url: &str, connect_timeout: Duration, call_timeout: Duration) -> anyhow::Result<CatalogClient> {
    let channel = endpoint(url, connect_timeout, call_timeout)?.connect_lazy();
    Ok(ActorCatalogClient::with_interceptor(channel, Propagate))
}

/// A client connected now: an unreachable catalogue is an error naming its URL.
pub async fn connect(url: &str, connect_timeout: Duration, call_timeout: Duration) -> anyhow::Result<CatalogClient> {
    let channel = endpoint(url, connect_timeout, call_timeout)?
        .connect()
        .await
        .with_context(|| format!("cannot reach the catalogue at {url}"))?;
    Ok(ActorCatalogClient::with_interceptor(channel, Propagate))
}

/// Whether a failed call may succeed when tried again soon.
pub fn is_transient(code: tonic::Code) -> bool {
    use tonic::Code::*;
    matches!(code, Unavailable | DeadlineExceeded | ResourceExhausted | Unknown | Cancelled | Aborted)
}

/// One call, tried up to `tries` times (pausing 200 ms, then doubling) while the failure is transient.
pub async fn retry<T, F, Fut>(tries: u32, mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(status) if attempt < tries && is_transient(status.code()) => {
                tracing::warn!(attempt, code = ?status.code(), message = status.message(), "catalogue call failed; retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(status) => return Err(status),
        }
    }
}

/// One `UpsertBatch`, retried like [`retry`].
pub async fn upsert(
    client: &CatalogClient,
    request: &UpsertBatchRequest,
    tries: u32,
) -> Result<UpsertBatchResponse, tonic::Status> {
    retry(tries, || {
        let (mut client, request) = (client.clone(), request.clone());
        async move { client.upsert_batch(request).await.map(tonic::Response::into_inner) }
    })
    .await
}
