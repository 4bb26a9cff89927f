//! Secrets read from configuration (the JWT secret, database and broker URLs that carry passwords, API keys).
//!
//! A [`Secret`] holds its value in `secrecy`'s zeroed-on-drop box: `Debug` prints `[REDACTED]`, so a config
//! struct can derive `Debug` and be logged whole without a hand-written redaction, and reading the value is
//! an explicit, greppable [`Secret::expose`].

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// A configuration value that must never be printed.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The value itself: only where it is used (signing a token, opening a connection).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl Default for Secret {
    fn default() -> Self {
        Self::new(String::new())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "[EMPTY]" } else { "[REDACTED]" })
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Settings {
        #[allow(dead_code)]
        name: String,
        database_url: Secret,
    }

    #[test]
    fn debug_never_prints_the_value() {
        let s: Settings =
            serde_json::from_str(r#"{"name": "x", "database_url": "postgres://u:hunter2@db/x"}"#).unwrap();
        let printed = format!("{s:?} {:#?}", s.database_url);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("[REDACTED]"));
        assert_eq!(s.database_url.expose(), "postgres://u:hunter2@db/x");
        assert_eq!(format!("{:?}", Secret::default()), "[EMPTY]");
    }

    #[test]
    fn made_from_either_string_type_and_compared_by_value() {
        let borrowed = Secret::from("hunter2");
        let owned = Secret::from(String::from("hunter2"));
        assert_eq!(borrowed, owned);
        assert_ne!(borrowed, Secret::from("other"));
        assert_eq!(owned.expose(), "hunter2");
        assert!(!owned.is_empty() && Secret::default().is_empty());
    }
}
