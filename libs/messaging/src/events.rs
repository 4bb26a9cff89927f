//! Every message the services exchange over RabbitMQ: one typed payload and one name each, shared by the
//! producer and every consumer, so the two can never drift apart.
//!
//! A message's body is its payload's JSON with a `"type"` field added ([`Event::TYPE`]); it is published
//! under the routing key [`Event::NAME`]. Producers write it with [`OutboxMessage::event`]
//! (`crate::OutboxMessage`), consumers read it back with [`decode`]. Adding an event is one struct and one
//! `impl Event` here.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A message with a fixed name and payload.
pub trait Event: Serialize + DeserializeOwned {
    /// The routing key it is published under.
    const NAME: &'static str;
    /// The body's `"type"` field (the routing key unless the message's consumers expect another spelling).
    const TYPE: &'static str = Self::NAME;
}

/// The body as it travels: the payload's fields beside `"type"`.
#[derive(Serialize, Deserialize)]
struct Typed<E> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    payload: E,
}

/// Why a body is not a readable `E`.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a valid message body: {0}")]
    Unreadable(#[from] serde_json::Error),
    /// A readable message of another type (on a queue that carries several).
    #[error("a {found} message, not {expected}")]
    OtherType { expected: &'static str, found: String },
}

/// The JSON body of `event` (with its `"type"`).
pub fn to_value<E: Event>(event: &E) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(Typed { kind: E::TYPE.to_owned(), payload: event })
}

/// Reads a body written by [`to_value`].
pub fn decode<E: Event>(body: &[u8]) -> Result<E, DecodeError> {
    #[derive(Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: String,
    }
    let kind: Kind = serde_json::from_slice(body)?;
    if kind.kind != E::TYPE {
        return Err(DecodeError::OtherType { expected: E::TYPE, found: kind.kind });
    }
    Ok(serde_json::from_slice::<Typed<E>>(body)?.payload)
}

// ---------------------------------------------------------------------------------------------------------
// user-identity → the identity events exchange.

/// An account was erased: every service drops the user's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDeleted {
    pub user_id: Uuid,
    /// When the account was erased (absent from messages written before this field existed).
    #[serde(default = "Utc::now")]
    pub deleted_at: DateTime<Utc>,
}

impl Event for UserDeleted {
    const NAME: &'static str = "user.deleted";
}

// ---------------------------------------------------------------------------------------------------------
// user-identity → the notifications exchange: mails to send.

/// A mail carrying a one-time token (the token itself; its hash is what the database keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenMail {
    pub user_id: Uuid,
    pub email: String,
    pub username: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// "Verify your email address".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailVerification(pub TokenMail);

impl Event for EmailVerification {
    const NAME: &'static str = "email.verification";
    const TYPE: &'static str = "email_verification";
}

/// "Reset your password".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordReset(pub TokenMail);

impl Event for PasswordReset {
    const NAME: &'static str = "email.password_reset";
    const TYPE: &'static str = "password_reset";
}

// ---------------------------------------------------------------------------------------------------------
// actor-catalog → the catalogue events exchange: what changed, so other replicas and the library refresh.

/// Ids of rows one catalogue replica wrote, and which replica (it has already refreshed itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    #[serde(default)]
    pub ids: Vec<Uuid>,
    /// The writing replica's id (UUID v7, new at every start).
    pub origin: String,
}

/// Actors whose rows or credits changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActorUpserted(pub Changed);

impl Event for ActorUpserted {
    const NAME: &'static str = "actor.upserted";
}

/// Titles whose row, credits or credited actors changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentUpserted(pub Changed);

impl Event for ContentUpserted {
    const NAME: &'static str = "content.upserted";
}

/// Every row may have changed (a bulk load, a popularity refresh): re-read everything. `ids` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CatalogReloaded(pub Changed);

impl Event for CatalogReloaded {
    const NAME: &'static str = "catalog.reloaded";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_carries_its_type_beside_the_payload() {
        let id = Uuid::now_v7();
        let event = UserDeleted { user_id: id, deleted_at: Utc::now() };
        let body = to_value(&event).unwrap();
        assert_eq!(body["type"], "user.deleted");
        assert_eq!(body["userId"], id.to_string());
        let back: UserDeleted = decode(body.to_string().as_bytes()).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn mails_keep_their_own_type_spelling() {
        let mail = TokenMail {
            user_id: Uuid::now_v7(),
            email: "a@example.com".into(),
            username: "a".into(),
            token: "t".into(),
            expires_at: Utc::now(),
        };
        let body = to_value(&PasswordReset(mail.clone())).unwrap();
        assert_eq!(body["type"], "password_reset");
        assert_eq!(body["expiresAt"].as_str().map(str::len).map(|n| n > 0), Some(true));
        assert_eq!(decode::<PasswordReset>(body.to_string().as_bytes()).unwrap().0, mail);
        assert!(matches!(
            decode::<EmailVerification>(body.to_string().as_bytes()),
            Err(DecodeError::OtherType { expected: "email_verification", .. })
        ));
    }

    #[test]
    fn unreadable_and_incomplete_bodies_are_errors() {
        assert!(matches!(decode::<UserDeleted>(b"not json"), Err(DecodeError::Unreadable(_))));
        let no_user = br#"{"type": "user.deleted"}"#;
        assert!(matches!(decode::<UserDeleted>(no_user), Err(DecodeError::Unreadable(_))));
        let old = br#"{"type": "catalog.reloaded", "origin": "r1"}"#;
        assert_eq!(decode::<CatalogReloaded>(old).unwrap().0, Changed { ids: vec![], origin: "r1".into() });
    }
}
