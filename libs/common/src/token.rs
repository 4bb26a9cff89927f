//! Access-token (JWT, HS256) claims, issuing and verification, shared by user-identity (issues) and the
//! gateway (verifies). Only the configured algorithm is accepted: `alg: none`, RS/HS confusion and any other
//! algorithm are rejected, and an expired token is told apart from an invalid one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The one signing algorithm of access tokens.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// The development default of every `jwt_secret` setting; production refuses it.
pub const DEV_JWT_SECRET: &str = "dev-only-change-me";

/// Shortest secret production accepts, in bytes (HS256 wants a key at least as long as its 256-bit output).
pub const MIN_PRODUCTION_SECRET_BYTES: usize = 32;

/// Refuses an empty secret anywhere, and in `production` the development default or a secret shorter than
/// [`MIN_PRODUCTION_SECRET_BYTES`]. `setting` names the configuration key for the error message.
pub fn check_secret(secret: &str, environment: &str, setting: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!secret.is_empty(), "{setting} must not be empty");
    if environment == "production" {
        anyhow::ensure!(
            secret != DEV_JWT_SECRET,
            "refusing to start in production with the development JWT secret (set {setting})"
        );
        anyhow::ensure!(
            secret.len() >= MIN_PRODUCTION_SECRET_BYTES,
            "{setting} must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes in production"
        );
    }
    Ok(())
}

/// The `typ` claim of an access token.
pub const ACCESS_TYPE: &str = "access";

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id (UUID).
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: i64,
    /// Unique id of this token.
    pub jti: String,
    /// Subscription tier at issue time: free, premium or family.
    pub tier: String,
    /// When a paid tier ends, seconds since the Unix epoch; absent when it does not end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_expires: Option<i64>,
    /// Token type; always [`ACCESS_TYPE`] for access tokens.
    pub typ: String,
}

/// Subscription tiers, ordered: free < premium < family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Free,
    Premium,
    Family,
}

impl Tier {
    /// Parses `free`, `premium` or `family`; anything else is free.
    pub fn parse(s: &str) -> Self {
        match s {
            "premium" => Self::Premium,
            "family" => Self::Family,
            _ => Self::Free,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Premium => "premium",
            Self::Family => "family",
        }
    }
}

impl Claims {
    /// The tier in force at `now` (seconds since the epoch): an expired subscription counts as free.
    pub fn effective_tier(&self, now: i64) -> Tier {
        match self.tier_expires {
            Some(end) if end <= now => Tier::Free,
            _ => Tier::parse(&self.tier),
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, unparsable header or claims, or not an access token.
    #[error("malformed token")]
    Malformed,
    /// The header names an algorithm other than the configured one (including `none`).
    #[error("unexpected token algorithm")]
    WrongAlgorithm,
    /// The signature does not match the payload.
    #[error("bad token signature")]
    BadSignature,
    /// The token was valid but its `exp` has passed.
    #[error("token expired")]
    Expired,
    /// Signing failed (an empty secret, say).
    #[error("cannot sign token")]
    Signing,
}

impl TokenError {
    /// The public error code: `TOKEN_EXPIRED` for an expired token, `INVALID_TOKEN` for the rest.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired => "TOKEN_EXPIRED",
            _ => "INVALID_TOKEN",
        }
    }
}

/// Signs `claims` with HS256 and `secret`.
pub fn issue_access_token(claims: &Claims, secret: &str) -> Result<String, TokenError> {
    jsonwebtoken::encode(&Header::new(ALGORITHM), claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|_| TokenError::Signing)
}

/// Verifies signature, algorithm, expiry (no leeway) and type of an access token.
pub fn verify_access_token(token: &str, secret: &str) -> Result<Claims, TokenError> {
    // The header is checked first so that `none` and foreign algorithms are reported as such.
    let header = token.split('.').next().ok_or(TokenError::Malformed)?;
    let alg = header_alg(header).ok_or(TokenError::Malformed)?;
    if alg != "HS256" {
        return Err(TokenError::WrongAlgorithm);
    }
    let mut validation = Validation::new(ALGORITHM);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => TokenError::WrongAlgorithm,
            _ => TokenError::Malformed,
        })?;
    if data.claims.typ != ACCESS_TYPE {
        return Err(TokenError::Malformed);
    }
    Ok(data.claims)
}

/// The `alg` of a base64url-encoded JOSE header, without trusting anything else in it.
fn header_alg(encoded: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-test-secret-test-secret";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "0190a000-0000-7000-8000-000000000001".into(),
            exp: now + exp_offset,
            iat: now,
            jti: "j1".into(),
            tier: "free".into(),
            tier_expires: None,
            typ: ACCESS_TYPE.into(),
        }
    }

    #[test]
    fn production_refuses_the_development_secret() {
        assert!(check_secret(DEV_JWT_SECRET, "development", "X").is_ok());
        let e = check_secret(DEV_JWT_SECRET, "production", "IKNOW__GATEWAY__JWT_SECRET").unwrap_err();
        assert!(e.to_string().contains("IKNOW__GATEWAY__JWT_SECRET"), "{e}");
        assert!(check_secret("short-but-not-default", "production", "X").is_err());
        assert!(check_secret(&"k".repeat(32), "production", "X").is_ok());
        assert!(check_secret("", "development", "X").is_err());
    }

    #[test]
    fn expired_subscription_counts_as_free() {
        let mut c = claims(900);
        c.tier = "premium".into();
        assert_eq!(c.effective_tier(c.iat), Tier::Premium);
        c.tier_expires = Some(c.iat + 10);
        assert_eq!(c.effective_tier(c.iat), Tier::Premium);
        assert_eq!(c.effective_tier(c.iat + 10), Tier::Free);
        assert!(Tier::Free < Tier::Premium && Tier::Premium < Tier::Family);
        assert_eq!(Tier::parse("gold"), Tier::Free);
    }

    #[test]
    fn valid_token_verifies() {
        let c = claims(900);
        let t = issue_access_token(&c, SECRET).unwrap();
        assert_eq!(verify_access_token(&t, SECRET).unwrap(), c);
    }

    #[test]
    fn other_secret_is_bad_signature() {
        let t = issue_access_token(&claims(900), SECRET).unwrap();
        assert_eq!(verify_access_token(&t, "another-secret"), Err(TokenError::BadSignature));
    }

    #[test]
    fn changed_payload_is_rejected() {
        let t = issue_access_token(&claims(900), SECRET).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let mut forged = claims(900);
        forged.tier = "family".into();
        let payload = b64(&serde_json::to_vec(&forged).unwrap());
        let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
        assert_eq!(verify_access_token(&tampered, SECRET), Err(TokenError::BadSignature));
    }

    #[test]
    fn alg_none_is_rejected() {
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(&serde_json::to_vec(&claims(900)).unwrap());
        for t in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
            let e = verify_access_token(&t, SECRET).unwrap_err();
            assert!(matches!(e, TokenError::WrongAlgorithm | TokenError::Malformed), "{e:?}");
            assert_eq!(e.code(), "INVALID_TOKEN");
        }
    }

    #[test]
    fn rs_hs_confusion_is_rejected() {
        // A token claiming RS256 whose signature is an HMAC with the shared secret (the classic confusion).
        let t = issue_access_token(&claims(900), SECRET).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
        let forged = format!("{header}.{}.{}", parts[1], parts[2]);
        assert_eq!(verify_access_token(&forged, SECRET), Err(TokenError::WrongAlgorithm));
        let hs512 = b64(br#"{"alg":"HS512","typ":"JWT"}"#);
        let forged = format!("{hs512}.{}.{}", parts[1], parts[2]);
        assert_eq!(verify_access_token(&forged, SECRET), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn expired_is_distinguishable() {
        let t = issue_access_token(&claims(-5), SECRET).unwrap();
        let e = verify_access_token(&t, SECRET).unwrap_err();
        assert_eq!(e, TokenError::Expired);
        assert_eq!(e.code(), "TOKEN_EXPIRED");
    }

    #[test]
    fn garbage_and_wrong_type_are_malformed() {
        assert_eq!(verify_access_token("not-a-jwt", SECRET), Err(TokenError::Malformed));
        let mut c = claims(900);
        c.typ = "refresh".into();
        let t = issue_access_token(&c, SECRET).unwrap();
        assert_eq!(verify_access_token(&t, SECRET), Err(TokenError::Malformed));
    }

    #[test]
    fn tiers_read_and_print_their_names_and_anything_else_is_free() {
        for tier in [Tier::Free, Tier::Premium, Tier::Family] {
            assert_eq!(Tier::parse(tier.as_str()), tier);
        }
        assert_eq!((Tier::Premium.as_str(), Tier::Family.as_str()), ("premium", "family"));
        assert_eq!(Tier::parse("gold"), Tier::Free);
    }
}
