//! Identifiers: every id the platform makes is a UUID v7 (time-ordered), sent as a string.

use uuid::Uuid;

/// A new time-ordered id.
pub fn new() -> Uuid {
    Uuid::now_v7()
}

/// Parses an id sent by a client; `None` when it is not a UUID.
pub fn parse(s: &str) -> Option<Uuid> {
    Uuid::try_parse(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_v7_and_ordered() {
        let a = super::new();
        let b = super::new();
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
        assert_eq!(super::parse(&a.to_string()), Some(a));
        assert_eq!(super::parse("nope"), None);
    }
}
