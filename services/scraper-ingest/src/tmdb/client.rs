//! A client of a TMDB v3-compatible API: `GET {base}{path}?api_key=…` with a shared request rate, 429s
//! waited out (`Retry-After`, seconds), 5xx answers and timeouts tried again with jittered backoff (a bounded
//! number of tries), and 404 told apart so the job can fail for good.
//!
//! The API key travels only in the query string of the request; every message this module builds names the
//! path alone, and transport errors are stripped of their URL (`reqwest::Error::without_url`), so the key
//! never reaches a log line or a job's `last_error`.
//!
//! HTTPS goes through rustls (ring provider) trusting the webpki roots, plus the certificates of
//! `tmdb_ca_file` when set (a private mirror's CA, or a test server's self-signed certificate). A server
//! certificate that is not trusted fails for good: trying again cannot fix it, the configuration can.

use iknow_common::secret::Secret;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::model::{CombinedCredits, Credits, Find, Movie, Person, Tv};
use crate::Config;

/// Longest `Retry-After` waited out inside one attempt; a longer one fails the attempt (the job's retry comes
/// back later through the queue).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// 404: TMDB has no such resource (the path).
    NotFound(String),
    /// Trying again cannot help (401, another 4xx, an unreadable body, an unusable base URL).
    Permanent(String),
    /// The tries ran out on 429s, 5xx answers, timeouts or connection failures.
    Transient(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(path) => write!(f, "TMDB has no {path} (404)"),
            Self::Permanent(e) | Self::Transient(e) => f.write_str(e),
        }
    }
}

/// The window the request rate is counted over.
const WINDOW: Duration = Duration::from_secs(1);

/// At most `per_second` requests start in any one-second window, across every task that shares it (a log of
/// the last starts); a 429 holds every request until its Retry-After has passed.
#[derive(Debug)]
struct Limiter {
    per_second: usize,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    /// When the requests of the last second started, oldest first.
    started: VecDeque<Instant>,
    held_until: Option<Instant>,
}

impl Limiter {
    fn new(per_second: u32) -> Self {
        Self { per_second: per_second.max(1) as usize, state: Mutex::new(LimiterState::default()) }
    }

    /// Waits until a request may start, and counts it as started.
    async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                match state.held_until {
                    Some(until) if until > now => Some(until),
                    _ => {
                        state.held_until = None;
                        while state.started.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                            state.started.pop_front();
                        }
                        if state.started.len() < self.per_second {
                            state.started.push_back(now);
                            None
                        } else {
                            state.started.front().map(|t| *t + WINDOW)
                        }
                    }
                }
            };
            match wait {
                None => return,
                Some(until) => tokio::time::sleep_until(until).await,
            }
        }
    }

    /// No request starts before `until` (the server asked us to wait).
    fn hold_until(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.held_until.is_none_or(|held| held < until) {
            state.held_until = Some(until);
        }
    }
}

/// The TMDB client every job of a worker shares (one rate for all of them).
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: Secret,
    limiter: Limiter,
    tries: u32,
    retry_base: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The HTTP client and the limiter say nothing useful; the key prints as [REDACTED].
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("key", &self.key)
            .field("tries", &self.tries)
            .finish_non_exhaustive()
    }
}

/// The seconds of a `Retry-After` header (the HTTP-date form is not used by TMDB and counts as absent).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The certificates of a PEM file (one or more `CERTIFICATE` blocks), to trust beside the webpki roots.
fn extra_roots(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read tmdb_ca_file {}", path.display()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("tmdb_ca_file {} is not a PEM certificate bundle", path.display()))?;
    anyhow::ensure!(!roots.is_empty(), "tmdb_ca_file {} holds no PEM certificate", path.display());
    Ok(roots)
}

/// `e` and its causes, `: `-separated (reqwest's own message is only the outermost one, such as "error
/// sending request"). None of them carries the URL: that lives in `reqwest::Error` alone.
fn causes(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The certificate error rustls rejected the server with, if that is why `e` failed. rustls's error reaches
/// reqwest inside `io::Error`s (nested), whose `source()` skips the wrapped error itself: look inside each.
fn certificate_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner: &'a (dyn std::error::Error + 'static) = e.downcast_ref::<std::io::Error>()?.get_ref()?;
        rustls_error(inner)
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(tls @ rustls::Error::InvalidCertificate(_)) = rustls_error(cause) {
            return Some(tls);
        }
        source = cause.source();
    }
    None
}

impl Client {
    /// The client of `config`'s TMDB settings; fails when `tmdb_ca_file` is set but unreadable or holds no
    /// certificate (a configuration mistake should stop the start, not every job later).
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(config.tmdb_timeout())
            .connect_timeout(config.tmdb_timeout().min(Duration::from_secs(5)));
        if let Some(path) = config.tmdb_ca_file.as_deref().filter(|p| !p.as_os_str().is_empty()) {
            for root in extra_roots(path)? {
                builder = builder.add_root_certificate(root);
            }
        }
        let http = builder.build()?;
        Ok(Self {
            http,
            base: config.tmdb_base_url.trim_end_matches('/').to_owned(),
            key: config.tmdb_api_key.clone(),
            limiter: Limiter::new(config.tmdb_requests_per_second),
            tries: config.tmdb_tries.max(1),
            retry_base: Duration::from_millis(config.tmdb_retry_base_ms.max(1)),
        })
    }

    /// The pause before try `next` (2, 3, …): `retry_base * 2^(next-2)`, jittered down to half.
    fn backoff(&self, next: u32) -> Duration {
        let ceiling = self.retry_base.saturating_mul(1 << next.saturating_sub(2).min(16));
        let ms = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::random_range(ms.div_ceil(2)..=ms))
    }

    /// `GET {base}{path}` with `query` (and the key), decoded as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, Error> {
        if !self.base.starts_with("https://") && !self.base.starts_with("http://") {
            return Err(Error::Permanent(format!(
                "the TMDB base URL must be https:// or http://; tmdb_base_url starts {:?}",
                self.base.split("//").next().unwrap_or_default()
            )));
        }
        let url = format!("{}{path}", self.base);
        let mut last = String::new();
        // After a 429 the limiter holds every request until Retry-After has passed: no backoff on top.
        let mut held = false;
        for attempt in 1..=self.tries {
            if attempt > 1 && !std::mem::take(&mut held) {
                tokio::time::sleep(self.backoff(attempt)).await;
            }
            self.limiter.acquire().await;
            let sent = self.http.get(&url).query(&[("api_key", self.key.expose())]).query(query).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(e) => {
                    let e = e.without_url();
                    if let Some(tls) = certificate_error(&e) {
                        return Err(Error::Permanent(format!(
                            "GET {path}: the TMDB server's TLS certificate is not trusted ({tls}); if tmdb_base_url \
                             is a mirror with a private CA, set [ingest] tmdb_ca_file to its PEM file"
                        )));
                    }
                    let kind = if e.is_timeout() { "timed out" } else { "failed" };
                    last = format!("GET {path} {kind}: {}", causes(&e));
                    tracing::debug!(path, attempt, error = %last, "TMDB request failed");
                    continue;
                }
            };
            let status = response.status();
            match status {
                s if s.is_success() => {
                    let body = match response.bytes().await {
                        Ok(body) => body,
                        Err(e) => {
                            last = format!("GET {path}: reading the body failed: {}", causes(&e.without_url()));
                            continue;
                        }
                    };
                    tracing::debug!(path, attempt, bytes = body.len(), "TMDB answered");
                    return serde_json::from_slice(&body).map_err(|e| {
                        Error::Permanent(format!("TMDB's answer to {path} is not the expected JSON: {e}"))
                    });
                }
                StatusCode::NOT_FOUND => return Err(Error::NotFound(path.to_owned())),
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&response).unwrap_or_else(|| self.backoff(attempt + 1));
                    last = format!("GET {path}: 429 Too Many Requests (Retry-After {} s)", wait.as_secs());
                    if wait > MAX_RETRY_AFTER {
                        return Err(Error::Transient(last));
                    }
                    tracing::info!(path, wait_ms = wait.as_millis() as u64, "TMDB asked to slow down (429)");
                    self.limiter.hold_until(Instant::now() + wait);
                    held = true;
                }
                s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                    last = format!("GET {path}: {s}");
                    tracing::debug!(path, attempt, status = s.as_u16(), "TMDB failed; trying again");
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(Error::Permanent(format!(
                        "TMDB refused the API key (401) on {path}: check [ingest] tmdb_api_key"
                    )));
                }
                s => return Err(Error::Permanent(format!("TMDB answered {s} to GET {path}"))),
            }
        }
        Err(Error::Transient(format!("{last} (gave up after {} tries)", self.tries)))
    }

    pub async fn person(&self, id: u64) -> Result<Person, Error> {
        self.get(&format!("/person/{id}"), &[]).await
    }

    pub async fn combined_credits(&self, id: u64) -> Result<CombinedCredits, Error> {
        self.get(&format!("/person/{id}/combined_credits"), &[]).await
    }

    pub async fn movie(&self, id: u64) -> Result<Movie, Error> {
        self.get(&format!("/movie/{id}"), &[]).await
    }

    /// A series with its external ids (its IMDb id) in the same answer.
    pub async fn tv(&self, id: u64) -> Result<Tv, Error> {
        self.get(&format!("/tv/{id}"), &[("append_to_response", "external_ids")]).await
    }

    /// The cast of a movie (`media` = `movie`) or a series (`tv`).
    pub async fn credits(&self, media: &str, id: u64) -> Result<Credits, Error> {
        self.get(&format!("/{media}/{id}/credits"), &[]).await
    }

    /// What TMDB files under an IMDb id (`nm…` or `tt…`).
    pub async fn find(&self, imdb_id: &str) -> Result<Find, Error> {
        self.get(&format!("/find/{imdb_id}"), &[("external_source", "imdb_id")]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_tmdb_ca_file_stops_the_client_from_building() {
        let mut config = Config::for_tests("postgres://unused", "http://unused", "");
        let dir = std::env::temp_dir().join(format!("iknow-tmdb-ca-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "not a certificate\n").unwrap();
        for (path, expected) in [(&missing, "cannot read tmdb_ca_file"), (&not_pem, "holds no PEM certificate")] {
            config.tmdb_ca_file = Some(path.clone());
            let error = format!("{:#}", Client::new(&config).unwrap_err());
            assert!(error.contains(expected) && error.contains(&path.display().to_string()), "{error}");
        }
        // Empty (the default file's value) means none.
        config.tmdb_ca_file = Some("".into());
        assert!(Client::new(&config).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_limiter_spaces_requests_and_holds_after_a_429() {
        let limiter = Limiter::new(2);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert!(start.elapsed() >= WINDOW, "the third request at 2/s waits for the first one's second to pass");
        let held = Instant::now() + Duration::from_millis(150);
        limiter.hold_until(held);
        limiter.acquire().await;
        assert!(Instant::now() >= held);
    }
}
