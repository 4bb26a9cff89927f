//! Rate limits of `/api/v1`: a middleware classifying each request into a bucket (auth, search, default),
//! counting it in a fixed window shared by every gateway replica through Redis — or in process while Redis is
//! unreachable — and answering 429 `RATE_LIMIT_EXCEEDED` over the limit, with `RateLimit-*` headers throughout.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue};
use iknow_common::Error;
use tokio::sync::Mutex;

use crate::config::Config;
use crate::envelope::ApiError;

/// Who a request counts against when it replaces the client's IP (an authenticated user's id); put it in
/// the request extensions before this layer runs.
#[derive(Debug, Clone)]
pub struct RateLimitSubject(pub String);

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Log-in, registration, email verification and the other `/api/v1/auth/*` routes; always per IP.
    Auth,
    /// Every `*/search` route, and `/identify` (a search too).
    Search,
    /// The rest of `/api/v1`.
    Default,
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Search => "search",
            Self::Default => "default",
        }
    }
}

/// The bucket of `path`, or `None` when it is not limited (`/health`, `/metrics`, docs, static files).
pub fn classify(path: &str) -> Option<Bucket> {
    let api = path.strip_prefix("/api/v1").filter(|rest| rest.is_empty() || rest.starts_with('/'))?;
    if api == "/auth" || api.starts_with("/auth/") || api == "/users/register" || api == "/users/verify-email" {
        Some(Bucket::Auth)
    } else if api.ends_with("/search") || api == "/identify" {
        Some(Bucket::Search)
    } else {
        Some(Bucket::Default)
    }
}

/// At most `max` requests per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u64,
    pub window: Duration,
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset: u64,
    pub allowed: bool,
}

/// INCR and set the expiry on the first hit, atomically.
const SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n";

/// Above this many in-process counters, those of past windows are dropped.
const LOCAL_PRUNE_AT: usize = 10_000;

/// The limits and their counters (Redis, with an in-process fallback); one per gateway process.
pub struct RateLimiter {
    enabled: bool,
    prefix: String,
    timeout: Duration,
    auth: Limit,
    search: Limit,
    default: Limit,
    redis: redis::Client,
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// Key (bucket, client, window start) → count, used while Redis fails.
    local: std::sync::Mutex<HashMap<String, u64>>,
    /// Whether the fallback has been announced since Redis last worked.
    degraded: AtomicBool,
}

impl RateLimiter {
    /// Reads the limits from `config`; connects to nothing yet.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let redis = redis::Client::open(config.redis_url.expose())
            .map_err(|_| anyhow::anyhow!("invalid gateway.redis_url for rate limits"))?;
        let limit = |max, secs: u64| Limit { max, window: Duration::from_secs(secs.max(1)) };
        Ok(Self {
            enabled: config.rate_limit_enabled,
            prefix: config.rate_limit_redis_prefix.clone(),
            timeout: Duration::from_millis(config.rate_limit_redis_timeout_ms),
            auth: limit(config.rate_limit_auth_per_window, config.rate_limit_auth_window_seconds),
            search: limit(config.rate_limit_search_per_window, config.rate_limit_search_window_seconds),
            default: limit(config.rate_limit_default_per_window, config.rate_limit_default_window_seconds),
            redis,
            conn: Mutex::new(None),
            local: std::sync::Mutex::new(HashMap::new()),
            degraded: AtomicBool::new(false),
        })
    }

    pub fn limit(&self, bucket: Bucket) -> Limit {
        match bucket {
            Bucket::Auth => self.auth,
            Bucket::Search => self.search,
            Bucket::Default => self.default,
        }
    }

    /// Counts one request of `client` in `bucket` and says whether it may pass.
    pub async fn check(&self, bucket: Bucket, client: &str) -> Decision {
        let limit = self.limit(bucket);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let window = limit.window.as_secs();
        let start = now / window * window;
        let key = format!("{}{}:{client}:{start}", self.prefix, bucket.name());
        let count = match tokio::time::timeout(self.timeout, self.incr_redis(&key, window)).await {
            Ok(Ok(n)) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through Redis again");
                }
                n
            }
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {:?}", self.timeout),
                };
                *self.conn.lock().await = None;
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "Redis is unavailable: rate limits fall back to this process");
                }
                self.incr_local(key, start)
            }
        };
        Decision {
            limit: limit.max,
            remaining: limit.max.saturating_sub(count),
            reset: (start + window).saturating_sub(now).max(1),
            allowed: count <= limit.max,
        }
    }

    async fn incr_redis(&self, key: &str, window: u64) -> redis::RedisResult<u64> {
        let mut conn = {
            let mut slot = self.conn.lock().await;
            match slot.as_ref() {
                Some(c) => c.clone(),
                None => {
                    let c = self.redis.get_multiplexed_async_connection().await?;
                    *slot = Some(c.clone());
                    c
                }
            }
        };
        redis::cmd("EVAL").arg(SCRIPT).arg(1).arg(key).arg(window).query_async(&mut conn).await
    }

    fn incr_local(&self, key: String, window_start: u64) -> u64 {
        let mut local = self.local.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if local.len() >= LOCAL_PRUNE_AT {
            let suffix = format!(":{window_start}");
            local.retain(|k, _| k.ends_with(&suffix));
        }
        let count = local.entry(key).or_insert(0);
        *count += 1;
        *count
    }
}

fn set_headers(headers: &mut HeaderMap, d: &Decision) {
    for (name, value) in
        [("ratelimit-limit", d.limit), ("ratelimit-remaining", d.remaining), ("ratelimit-reset", d.reset)]
    {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// Who the request counts against: its [`RateLimitSubject`], else the peer's IP. The auth bucket always
/// counts per IP (a token must not buy more log-in attempts).
fn client_of(req: &Request, bucket: Bucket) -> String {
    if bucket != Bucket::Auth
        && let Some(RateLimitSubject(subject)) = req.extensions().get::<RateLimitSubject>()
    {
        return format!("u:{subject}");
    }
    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".into(),
    }
}

/// The middleware: counts limited requests, answers 429 over the limit, adds `RateLimit-*` headers.
pub async fn enforce(State(limiter): State<Arc<RateLimiter>>, req: Request, next: Next) -> Response {
    if !limiter.enabled {
        return next.run(req).await;
    }
    let Some(bucket) = classify(req.uri().path()) else {
        return next.run(req).await;
    };
    let client = client_of(&req, bucket);
    let decision = limiter.check(bucket, &client).await;
    let mut response = if decision.allowed {
        next.run(req).await
    } else {
        tracing::info!(bucket = bucket.name(), "rate limit exceeded");
        let message = format!("Too many requests; retry in {} seconds", decision.reset);
        let mut r = ApiError(Error::RateLimited { message }).into_response();
        r.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(decision.reset));
        r
    };
    set_headers(response.headers_mut(), &decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_routes_by_path() {
        assert_eq!(classify("/api/v1/auth/login"), Some(Bucket::Auth));
        assert_eq!(classify("/api/v1/users/register"), Some(Bucket::Auth));
        assert_eq!(classify("/api/v1/users/verify-email"), Some(Bucket::Auth));
        assert_eq!(classify("/api/v1/auth/password-reset/confirm"), Some(Bucket::Auth));
        assert_eq!(classify("/api/v1/users/me"), Some(Bucket::Default));
        assert_eq!(classify("/api/v1/actors/search"), Some(Bucket::Search));
        assert_eq!(classify("/api/v1/content/search"), Some(Bucket::Search));
        assert_eq!(classify("/api/v1/identify"), Some(Bucket::Search));
        assert_eq!(classify("/api/v1/actors/123"), Some(Bucket::Default));
        assert_eq!(classify("/api/v1/authors"), Some(Bucket::Default));
        assert_eq!(classify("/api/v10/x"), None);
        assert_eq!(classify("/health"), None);
        assert_eq!(classify("/metrics"), None);
        assert_eq!(classify("/index.html"), None);
    }
}
