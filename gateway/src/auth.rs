//! Authentication at the edge: one middleware reads `Authorization: Bearer <jwt>` and verifies the access token
//! once per request; extractors turn the outcome into an [`AuthUser`] (or a 401) and gate features by
//! subscription tier ([`RequireTier`], 403 `SUBSCRIPTION_REQUIRED`). Handlers never parse tokens.
//!
//! Revocation: deleting an account or resetting a password writes a marker `{prefix}{userId}` = the unix
//! second of the revocation to Redis (with a TTL of at least an access token's lifetime); a token issued at or
//! before the marker is refused. While Redis fails (or takes longer than [`REDIS_TIMEOUT`]) the gateway falls
//! back to the markers this replica set itself. The known gap: during a Redis outage, a revocation made through
//! another replica is not seen here, so that user's access tokens stay usable on this replica until they
//! expire (at most the access-token lifetime) or Redis answers again.

use iknow_common::secret::Secret;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use iknow_common::Error;
use iknow_common::token::{Claims, Tier, TokenError};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::config::Config;
use crate::envelope::{ApiError, ErrorDetails, TierDetails, error_response_with};
use crate::rate_limit::RateLimitSubject;

/// Longest wait for Redis on a revocation read or write before using the in-process markers.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(50);

/// The outcome of verifying a request's `Authorization` header; in the request extensions only when the
/// request carried one.
#[derive(Debug, Clone)]
pub struct TokenOutcome(pub Result<Claims, TokenError>);

/// Verifies access tokens and keeps the revocation markers; one per gateway process.
pub struct Authenticator {
    secret: Secret,
    revocations: Revocations,
}

impl Authenticator {
    /// Reads the secret and revocation settings from `config`; connects to nothing yet.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        anyhow::ensure!(!config.jwt_secret.is_empty(), "gateway.jwt_secret must not be empty");
        Ok(Self { secret: config.jwt_secret.clone(), revocations: Revocations::new(config)? })
    }

    /// Verifies one `Authorization` header value: `Bearer <jwt>` with a valid access token whose subject is a
    /// UUID; anything else is refused.
    pub fn verify_header(&self, value: &HeaderValue) -> Result<Claims, TokenError> {
        let token = bearer(value).ok_or(TokenError::Malformed)?;
        let claims = iknow_common::token::verify_access_token(token, self.secret.expose())?;
        if Uuid::parse_str(&claims.sub).is_err() {
            return Err(TokenError::Malformed);
        }
        Ok(claims)
    }

    /// The revocation markers.
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }
}

/// The token of `Bearer <token>` (scheme case-insensitive, one token without spaces).
fn bearer(value: &HeaderValue) -> Option<&str> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(char::is_whitespace))
        .then_some(token)
}

/// The middleware (outside the rate limiter): verifies the token of a request that has one, records the
/// outcome for the extractors and, when valid, makes the user the rate-limit subject.
pub async fn authenticate(State(auth): State<Arc<Authenticator>>, mut req: Request, next: Next) -> Response {
    if let Some(value) = req.headers().get(http::header::AUTHORIZATION) {
        let outcome = auth.verify_header(value);
        if let Ok(claims) = &outcome {
            req.extensions_mut().insert(RateLimitSubject(format!("user:{}", claims.sub)));
        }
        req.extensions_mut().insert(TokenOutcome(outcome));
    }
    next.run(req).await
}

fn unauthenticated(code: &str, message: &str) -> ApiError {
    ApiError(Error::Unauthenticated { code: code.into(), message: message.into() })
}

/// An authenticated caller: a valid, unrevoked access token. No header → 401 `UNAUTHORIZED`; a malformed,
/// forged or foreign-algorithm token → 401 `INVALID_TOKEN`; an expired one → 401 `TOKEN_EXPIRED`; a token
/// issued before its user's sessions were revoked → 401 `INVALID_TOKEN`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub claims: Claims,
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    Arc<Authenticator>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(TokenOutcome(outcome)) = parts.extensions.get::<TokenOutcome>() else {
            return Err(unauthenticated("UNAUTHORIZED", "Authentication required: send Authorization: Bearer <token>"));
        };
        let claims = outcome.clone().map_err(|e| match e {
            TokenError::Expired => unauthenticated(e.code(), "The access token has expired"),
            _ => unauthenticated(e.code(), "The access token is invalid"),
        })?;
        let id = Uuid::parse_str(&claims.sub)
            .map_err(|_| unauthenticated("INVALID_TOKEN", "The access token is invalid"))?;
        let auth = Arc::<Authenticator>::from_ref(state);
        if auth.revocations.is_revoked(id, claims.iat).await {
            return Err(unauthenticated("INVALID_TOKEN", "The session was revoked; log in again"));
        }
        Ok(Self { id, claims })
    }
}

/// Revocation markers: Redis, shared by every replica, with an in-process copy of the markers this replica
/// set (used while Redis fails).
pub struct Revocations {
    prefix: String,
    ttl: Duration,
    redis: redis::Client,
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// User → (marker, when the copy lapses).
    local: std::sync::Mutex<HashMap<Uuid, (i64, Instant)>>,
    /// Whether the fallback has been announced since Redis last answered.
    degraded: AtomicBool,
}

impl Revocations {
    fn new(config: &Config) -> anyhow::Result<Self> {
        let redis = redis::Client::open(config.redis_url.expose())
            .map_err(|_| anyhow::anyhow!("invalid gateway.redis_url for revocations"))?;
        Ok(Self {
            prefix: config.revocation_redis_prefix.clone(),
            ttl: Duration::from_secs(config.revocation_ttl_seconds.max(1)),
            redis,
            conn: Mutex::new(None),
            local: std::sync::Mutex::new(HashMap::new()),
            degraded: AtomicBool::new(false),
        })
    }

    fn key(&self, user: Uuid) -> String {
        format!("{}{user}", self.prefix)
    }

    async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = self.redis.get_multiplexed_async_connection().await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Drops the connection (the next call reconnects) and announces the fallback once per outage.
    async fn redis_failed(&self) {
        *self.conn.lock().await = None;
        if !self.degraded.swap(true, Ordering::Relaxed) {
            tracing::warn!("Redis is unavailable: revocation checks use this replica's markers only");
        }
    }

    fn local_marker(&self, user: Uuid) -> Option<i64> {
        let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        local.retain(|_, (_, lapses)| *lapses > now);
        local.get(&user).map(|(marker, _)| *marker)
    }

    /// The latest revocation of `user`'s sessions (unix seconds), from Redis and this replica's own markers.
    pub async fn marker(&self, user: Uuid) -> Option<i64> {
        let key = self.key(user);
        let read = async {
            let mut conn = self.connection().await?;
            redis::cmd("GET").arg(&key).query_async::<Option<i64>>(&mut conn).await
        };
        let shared = match tokio::time::timeout(REDIS_TIMEOUT, read).await {
            Ok(Ok(v)) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("revocation markers are shared through Redis again");
                }
                v
            }
            _ => {
                self.redis_failed().await;
                None
            }
        };
        shared.max(self.local_marker(user))
    }

    /// Whether a token of `user` issued at `iat` predates (or shares the second of) a revocation.
    pub async fn is_revoked(&self, user: Uuid, iat: i64) -> bool {
        self.marker(user).await.is_some_and(|marker| iat <= marker)
    }

    /// Revokes every access token of `user` issued up to now.
    pub async fn revoke(&self, user: Uuid) {
        let now = chrono::Utc::now().timestamp();
        {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            local.insert(user, (now, Instant::now() + self.ttl));
        }
        let key = self.key(user);
        let write = async {
            let mut conn = self.connection().await?;
            redis::cmd("SET").arg(&key).arg(now).arg("EX").arg(self.ttl.as_secs()).query_async::<()>(&mut conn).await
        };
        match tokio::time::timeout(REDIS_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            _ => {
                tracing::warn!("Redis is unavailable: the revocation is known to this replica only");
                self.redis_failed().await;
            }
        }
    }
}

/// A subscription tier a feature requires.
pub trait TierPolicy: Send + Sync + 'static {
    /// The lowest tier allowed.
    const REQUIRED: Tier;
}

/// Premium or family.
pub struct PremiumTier;

impl TierPolicy for PremiumTier {
    const REQUIRED: Tier = Tier::Premium;
}

/// Family only.
pub struct FamilyTier;

impl TierPolicy for FamilyTier {
    const REQUIRED: Tier = Tier::Family;
}

/// An authenticated caller whose subscription in force is at least `P::REQUIRED`; below it → 403
/// `SUBSCRIPTION_REQUIRED` with `details: {requiredTier, currentTier}`. An expired subscription counts as free.
pub struct RequireTier<P: TierPolicy> {
    pub user: AuthUser,
    /// The caller's tier in force.
    pub tier: Tier,
    _policy: PhantomData<P>,
}

/// A caller with a premium (or family) subscription.
pub type Premium = RequireTier<PremiumTier>;

/// The refusal of a feature above the caller's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierRefusal {
    pub required: Tier,
    pub current: Tier,
}

impl IntoResponse for TierRefusal {
    fn into_response(self) -> Response {
        error_response_with(
            StatusCode::FORBIDDEN,
            "SUBSCRIPTION_REQUIRED",
            format!("This feature needs a {} subscription", self.required.as_str()),
            Some(ErrorDetails::Tier(TierDetails {
                required_tier: self.required.as_str().into(),
                current_tier: self.current.as_str().into(),
            })),
        )
    }
}

/// The caller's tier in force at `now` (unix seconds) if it reaches `required`.
pub fn check_tier(claims: &Claims, required: Tier, now: i64) -> Result<Tier, TierRefusal> {
    let current = claims.effective_tier(now);
    if current >= required { Ok(current) } else { Err(TierRefusal { required, current }) }
}

impl<S, P> FromRequestParts<S> for RequireTier<P>
where
    S: Send + Sync,
    Arc<Authenticator>: FromRef<S>,
    P: TierPolicy,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let tier = check_tier(&user.claims, P::REQUIRED, chrono::Utc::now().timestamp())
            .map_err(IntoResponse::into_response)?;
        Ok(Self { user, tier, _policy: PhantomData })
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use iknow_common::token::{ACCESS_TYPE, issue_access_token};
    use tower::ServiceExt;

    use super::*;

    const SECRET: &str = "unit-test-secret-unit-test-secret";

    fn claims(tier: &str, tier_expires: Option<i64>) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: Uuid::now_v7().to_string(),
            exp: now + 900,
            iat: now,
            jti: Uuid::now_v7().to_string(),
            tier: tier.into(),
            tier_expires,
            typ: ACCESS_TYPE.into(),
        }
    }

    #[test]
    fn tiers_are_ordered_and_expired_subscriptions_count_as_free() {
        let now = chrono::Utc::now().timestamp();
        assert_eq!(check_tier(&claims("premium", None), Tier::Premium, now), Ok(Tier::Premium));
        assert_eq!(check_tier(&claims("family", None), Tier::Premium, now), Ok(Tier::Family));
        assert_eq!(
            check_tier(&claims("free", None), Tier::Premium, now),
            Err(TierRefusal { required: Tier::Premium, current: Tier::Free })
        );
        assert_eq!(
            check_tier(&claims("premium", None), Tier::Family, now),
            Err(TierRefusal { required: Tier::Family, current: Tier::Premium })
        );
        assert_eq!(check_tier(&claims("premium", Some(now + 60)), Tier::Premium, now), Ok(Tier::Premium));
        assert_eq!(
            check_tier(&claims("premium", Some(now - 1)), Tier::Premium, now),
            Err(TierRefusal { required: Tier::Premium, current: Tier::Free })
        );
        assert_eq!(check_tier(&claims("free", None), Tier::Free, now), Ok(Tier::Free));
    }

    #[test]
    fn only_bearer_with_one_token_is_accepted() {
        let ok = |s: &str| bearer(&HeaderValue::from_str(s).unwrap()).map(str::to_owned);
        assert_eq!(ok("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(ok("bearer abc").as_deref(), Some("abc"));
        assert_eq!(ok("Basic dXNlcjpwYXNz"), None);
        assert_eq!(ok("Bearer"), None);
        assert_eq!(ok("Bearer "), None);
        assert_eq!(ok("Bearer a b"), None);
        assert_eq!(ok("abc"), None);
    }

    fn config() -> Config {
        let settings = iknow_common::config::Settings::load_with(None, []).unwrap();
        let mut c: Config = settings.section("gateway").unwrap();
        c.jwt_secret = SECRET.into();
        // Nothing listens there: revocation reads fall back at once.
        c.redis_url = "redis://127.0.0.1:1".into();
        c
    }

    async fn call(auth: &Arc<Authenticator>, token: Option<String>) -> (StatusCode, serde_json::Value) {
        let app = Router::new()
            .route("/premium", get(|p: Premium| async move { p.tier.as_str() }))
            .layer(axum::middleware::from_fn_with_state(auth.clone(), authenticate))
            .with_state(auth.clone());
        let mut req = http::Request::get("/premium");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let r = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::String(String::from_utf8_lossy(&bytes).into())),
        )
    }

    #[tokio::test]
    async fn the_premium_extractor_gates_by_tier_in_force() {
        let auth = Arc::new(Authenticator::new(&config()).unwrap());
        let token = |c: &Claims| issue_access_token(c, SECRET).unwrap();
        let (status, body) = call(&auth, None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED")));

        let (status, body) = call(&auth, Some(token(&claims("free", None)))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "SUBSCRIPTION_REQUIRED");
        assert_eq!(body["error"]["details"], serde_json::json!({"requiredTier": "premium", "currentTier": "free"}));

        let past = chrono::Utc::now().timestamp() - 10;
        let (status, body) = call(&auth, Some(token(&claims("premium", Some(past))))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["details"]["currentTier"], "free");

        let (status, body) = call(&auth, Some(token(&claims("premium", None)))).await;
        assert_eq!((status, body), (StatusCode::OK, serde_json::Value::String("premium".into())));
        let (status, _) = call(&auth, Some(token(&claims("family", None)))).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_revoked_user_is_refused_from_the_local_marker_while_redis_is_down() {
        let auth = Arc::new(Authenticator::new(&config()).unwrap());
        let mut c = claims("premium", None);
        c.iat -= 5;
        let user = Uuid::parse_str(&c.sub).unwrap();
        let token = issue_access_token(&c, SECRET).unwrap();
        assert_eq!(call(&auth, Some(token.clone())).await.0, StatusCode::OK);
        auth.revocations().revoke(user).await;
        let (status, body) = call(&auth, Some(token)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("INVALID_TOKEN")));
        // Another user is untouched.
        let other = issue_access_token(&claims("premium", None), SECRET).unwrap();
        assert_eq!(call(&auth, Some(other)).await.0, StatusCode::OK);
    }
}
