//! A fake HTTP server (axum) for the command's unit tests: every request is answered by a function of its
//! path, query parameters and authorization with a status and a JSON body.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::net::TcpListener;

/// A request as the answering function sees it: the path and the decoded query parameters.
pub struct Request {
    pub path: String,
    pub params: HashMap<String, String>,
    pub authorization: Option<String>,
}

impl Request {
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }
}

type Answer = Arc<dyn Fn(&Request) -> (u16, serde_json::Value) + Send + Sync>;

/// Serves `answer` on a port of 127.0.0.1 until the test's runtime ends; returns the base URL (no trailing
/// slash).
pub async fn serve(answer: impl Fn(&Request) -> (u16, serde_json::Value) + Send + Sync + 'static) -> String {
    let answer: Answer = Arc::new(answer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound");
    let app = axum::Router::new().fallback(move |uri: http::Uri, headers: http::HeaderMap| {
        let answer = answer.clone();
        async move {
            let url = reqwest::Url::parse(&format!("http://fake{uri}")).expect("a request target");
            let authorization =
                headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let request = Request {
                path: url.path().to_owned(),
                params: url.query_pairs().into_owned().collect(),
                authorization,
            };
            let (status, body) = answer(&request);
            (http::StatusCode::from_u16(status).expect("a valid status"), axum::Json(body))
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A base URL nothing listens on.
pub async fn nothing_listens() -> String {
    format!("http://{}", iknow_testkit::dead_addr().await)
}
