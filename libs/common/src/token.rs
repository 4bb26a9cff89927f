//! Access-token (JWT, HS256) claims, issuing and verification, shared by user-identity (issues) and the
//! gateway (verifies). Only the configured algorithm is accepted: `alg: none`, RS/HS confusion and any other
//! algorithm are rejected, and an expired token is told apart from an invalid one.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The one signing algorithm of access tokens.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

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
    /// Token type; always [`ACCESS_TYPE`] for access tokens.
    pub typ: String,
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
    let bytes = base64url_decode(encoded)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg")?.as_str().map(str::to_owned)
}

/// Minimal unpadded base64url decoding (avoids a dependency for one header).
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-test-secret-test-secret";

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "0190a000-0000-7000-8000-000000000001".into(),
            exp: now + exp_offset,
            iat: now,
            jti: "j1".into(),
            tier: "free".into(),
            typ: ACCESS_TYPE.into(),
        }
    }

    #[test]
    fn base64url_round_trip() {
        assert_eq!(base64url_decode(&b64(b"hello world!?")).unwrap(), b"hello world!?");
        assert_eq!(base64url_decode(&b64(b"ab")).unwrap(), b"ab");
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
}
