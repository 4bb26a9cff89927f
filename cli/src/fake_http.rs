//! A tiny HTTP/1.1 server for the command's unit tests: every request is answered by a function of its path
//! and query parameters with a status and a JSON body, one request per connection.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
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
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("/");
                let url = reqwest::Url::parse(&format!("http://fake{target}")).expect("a request target");
                let authorization = head
                    .lines()
                    .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("authorization")))
                    .map(|(_, v)| v.trim().to_owned());
                let request = Request {
                    path: url.path().to_owned(),
                    params: url.query_pairs().into_owned().collect(),
                    authorization,
                };
                let (status, body) = answer(&request);
                let body = body.to_string();
                let response = format!(
                    "HTTP/1.1 {status} Fake\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// A base URL nothing listens on.
pub async fn nothing_listens() -> String {
    format!("http://{}", iknow_testkit::dead_addr().await)
}
