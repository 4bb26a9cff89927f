//! The one timestamp format of the public contract: RFC 3339 in UTC with a `Z` (never `+00:00`), with as many
//! fractional digits as the value needs.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-05-31T15:30:00Z`, `2026-05-31T15:30:00.250Z`.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_written_with_z_and_needed_fractions_only() {
        let t = DateTime::parse_from_rfc3339("2026-05-31T17:30:00+02:00").unwrap().with_timezone(&Utc);
        assert_eq!(rfc3339(t), "2026-05-31T15:30:00Z");
        let t = DateTime::parse_from_rfc3339("2026-05-31T15:30:00.25Z").unwrap().with_timezone(&Utc);
        assert_eq!(rfc3339(t), "2026-05-31T15:30:00.250Z");
    }
}
