//! Input rules of registration: every failing field is collected, none short-circuits.

use iknow_common::FieldViolation;

/// The message of a username violation.
pub const USERNAME_RULE: &str = "must be 3 to 30 characters of A-Z, a-z, 0-9, _ and -";

/// The message of a password violation.
pub const PASSWORD_RULE: &str =
    "must be at least 12 characters with an uppercase letter, a lowercase letter, a digit and a special character";

/// Checks a registration; returns every violation (empty when valid).
pub fn registration(email: &str, username: &str, password: &str, accept_terms: bool) -> Vec<FieldViolation> {
    let mut v = vec![];
    if !valid_email(email) {
        v.push(FieldViolation::new("email", "must be a valid email address of at most 255 characters"));
    }
    if !valid_username(username) {
        v.push(FieldViolation::new("username", USERNAME_RULE));
    }
    if !strong_password(password) {
        v.push(FieldViolation::new("password", PASSWORD_RULE));
    }
    if !accept_terms {
        v.push(FieldViolation::new("acceptTerms", "must be true"));
    }
    v
}

/// 3 to 30 characters of A-Z, a-z, 0-9, `_` and `-` (registration and profile update).
pub fn valid_username(username: &str) -> bool {
    (3..=30).contains(&username.chars().count())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A pragmatic email check: one `@`, a non-empty local part ≤ 64, a dotted domain, no spaces, ≤ 255 overall.
pub fn valid_email(email: &str) -> bool {
    if email.is_empty() || email.len() > 255 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else { return false };
    if local.is_empty() || local.len() > 64 || domain.contains('@') || !domain.contains('.') {
        return false;
    }
    domain.split('.').all(|l| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    })
}

/// At least 12 characters with an upper, a lower, a digit and a special (non-alphanumeric) character.
pub fn strong_password(p: &str) -> bool {
    p.chars().count() >= 12
        && p.chars().any(char::is_uppercase)
        && p.chars().any(char::is_lowercase)
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(valid_email("a.b+c@example.co.uk"));
        for bad in ["", "plain", "@x.com", "a@", "a@b", "a b@x.com", "a@x..com", "a@@x.com", "a@-x.com"] {
            assert!(!valid_email(bad), "{bad}");
        }
        assert!(!valid_email(&format!("{}@example.com", "a".repeat(250))));
    }

    #[test]
    fn passwords() {
        assert!(strong_password("Correct-Horse1"));
        for bad in ["Short-1a", "alllowercase-1", "ALLUPPERCASE-1", "NoDigitsHere-!", "NoSpecial1234a"] {
            assert!(!strong_password(bad), "{bad}");
        }
    }

    #[test]
    fn every_field_listed() {
        let v = registration("nope", "a", "weak", false);
        let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "username", "password", "acceptTerms"]);
        assert!(registration("a@example.com", "good_name-1", "Correct-Horse1", true).is_empty());
    }
}
