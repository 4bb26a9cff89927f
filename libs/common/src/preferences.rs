//! The user preferences document: typed, with defaults equal to the `users.preferences` default of the
//! user-identity migration, and a partial-update merge ([`merge_patch`]) that reports every unknown key and
//! every wrong type or value with a dotted path (`preferences.ui.theme`), not only the first.
//!
//! Shared by user-identity (which stores the document) and the gateway (whose OpenAPI describes it, with the
//! `openapi` feature).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::FieldViolation;

/// Every preference of a user. Unknown keys are refused; missing ones take their default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preferences {
    pub notifications: Notifications,
    pub privacy: Privacy,
    pub discovery: Discovery,
    pub ui: Ui,
}

/// Which notifications the user receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notifications {
    /// Mails (default true).
    pub email: bool,
    /// Push notifications (default false).
    pub push: bool,
    /// New episodes of watched series (default true).
    pub new_episodes: bool,
    /// A weekly digest mail (default false).
    pub weekly_digest: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self { email: true, push: false, new_episodes: true, weekly_digest: false }
    }
}

/// Who sees the user's profile and history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Privacy {
    /// Default private.
    pub profile_visibility: ProfileVisibility,
    /// Default false.
    pub share_watch_history: bool,
}

/// Visibility of a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ProfileVisibility {
    #[default]
    Private,
    Friends,
    Public,
}

/// What search and recommendations show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Discovery {
    /// Default false.
    pub show_spoilers: bool,
    /// Default false.
    pub include_adult: bool,
    /// 1 to 10 ISO 639-1 codes (two lowercase letters); default `["en"]`.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 10))]
    pub preferred_languages: Vec<String>,
}

impl Default for Discovery {
    fn default() -> Self {
        Self { show_spoilers: false, include_adult: false, preferred_languages: vec!["en".into()] }
    }
}

/// The web app's look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ui {
    /// Default system.
    pub theme: Theme,
    /// Two lowercase letters, or `ll-CC` such as `pt-BR`; default `en`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z]{2}(-[A-Z]{2})?$"))]
    pub language: String,
}

impl Default for Ui {
    fn default() -> Self {
        Self { theme: Theme::System, language: "en".into() }
    }
}

/// Colour scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

/// The type (or value rule) of one leaf of the document.
enum Kind {
    Bool,
    OneOf(&'static [&'static str]),
    Languages,
    UiLanguage,
    Object(&'static [(&'static str, Kind)]),
}

/// The shape of [`Preferences`], walked by [`violations`] so that every problem is reported at once (serde
/// stops at the first). Keep in step with the structs above; the unit tests check both agree.
const SCHEMA: &[(&str, Kind)] = &[
    (
        "notifications",
        Kind::Object(&[
            ("email", Kind::Bool),
            ("push", Kind::Bool),
            ("newEpisodes", Kind::Bool),
            ("weeklyDigest", Kind::Bool),
        ]),
    ),
    (
        "privacy",
        Kind::Object(&[
            ("profileVisibility", Kind::OneOf(&["private", "friends", "public"])),
            ("shareWatchHistory", Kind::Bool),
        ]),
    ),
    (
        "discovery",
        Kind::Object(&[
            ("showSpoilers", Kind::Bool),
            ("includeAdult", Kind::Bool),
            ("preferredLanguages", Kind::Languages),
        ]),
    ),
    ("ui", Kind::Object(&[("theme", Kind::OneOf(&["light", "dark", "system"])), ("language", Kind::UiLanguage)])),
];

/// The root of every violation path.
const ROOT: &str = "preferences";

/// An ISO 639-1 code: two lowercase ASCII letters.
fn iso_639_1(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// `ll` or `ll-CC` (`pt-BR`).
fn ui_language(s: &str) -> bool {
    match s.split_once('-') {
        None => iso_639_1(s),
        Some((lang, region)) => iso_639_1(lang) && region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase()),
    }
}

fn check(kind: &Kind, value: &Value, path: &str, out: &mut Vec<FieldViolation>) {
    match kind {
        Kind::Bool if !value.is_boolean() => out.push(FieldViolation::new(path, "must be a boolean")),
        Kind::OneOf(allowed) if !value.as_str().is_some_and(|s| allowed.contains(&s)) => {
            out.push(FieldViolation::new(path, format!("must be one of {}", allowed.join(", "))));
        }
        Kind::Languages => {
            let ok = value.as_array().is_some_and(|items| {
                (1..=10).contains(&items.len()) && items.iter().all(|i| i.as_str().is_some_and(iso_639_1))
            });
            if !ok {
                out.push(FieldViolation::new(
                    path,
                    "must be a list of 1 to 10 ISO 639-1 language codes (two lowercase letters)",
                ));
            }
        }
        Kind::UiLanguage if !value.as_str().is_some_and(ui_language) => {
            out.push(FieldViolation::new(path, "must be a language code such as en or pt-BR"));
        }
        Kind::Object(fields) => match value.as_object() {
            None => out.push(FieldViolation::new(path, "must be an object")),
            Some(map) => check_object(fields, map, path, out),
        },
        _ => {}
    }
}

fn check_object(fields: &[(&str, Kind)], map: &Map<String, Value>, path: &str, out: &mut Vec<FieldViolation>) {
    for (key, value) in map {
        let child = format!("{path}.{key}");
        match fields.iter().find(|(name, _)| name == key) {
            Some((_, kind)) => check(kind, value, &child, out),
            None => out.push(FieldViolation::new(child, "is not a known preference")),
        }
    }
}

/// Every problem of a (partial) preferences document, with paths under `preferences`; empty when valid.
pub fn violations(patch: &Value) -> Vec<FieldViolation> {
    let mut out = vec![];
    match patch.as_object() {
        Some(map) => check_object(SCHEMA, map, ROOT, &mut out),
        None => out.push(FieldViolation::new(ROOT, "must be a JSON object")),
    }
    out
}

/// Deep-merges `patch` into `base`: objects key by key, anything else replaces.
fn deep_merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

impl Preferences {
    /// Reads a stored document; keys it lacks take their default. A stored document that does not fit (it
    /// never should: only this module writes it) yields the defaults rather than an error.
    pub fn from_stored(stored: &Value) -> Self {
        serde_json::from_value(stored.clone()).unwrap_or_default()
    }

    /// The document as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("preferences serialise")
    }
}

/// Applies the partial document `patch` to the stored document `current`: keys present in `patch` change,
/// every other key keeps its stored value. Returns every violation of `patch` (paths prefixed
/// `preferences.`; a patch that is not an object is one violation on `preferences`).
pub fn merge_patch(current: &Value, patch: &Value) -> Result<Preferences, Vec<FieldViolation>> {
    let problems = violations(patch);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut merged = Preferences::from_stored(current).to_value();
    deep_merge(&mut merged, patch);
    serde_json::from_value(merged).map_err(|e| vec![FieldViolation::new(ROOT, format!("is invalid: {e}"))])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(r: Result<Preferences, Vec<FieldViolation>>) -> Vec<String> {
        r.expect_err("must fail").into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn default_equals_the_migration_default() {
        let sql = include_str!("../../../migrations/user-identity/0001_users.sql");
        let needle = "preferences JSONB NOT NULL DEFAULT '";
        let start = sql.find(needle).expect("preferences column") + needle.len();
        let end = start + sql[start..].find("'::jsonb").expect("end of default");
        let migration: Value = serde_json::from_str(&sql[start..end]).expect("default is JSON");
        assert_eq!(serde_json::to_value(Preferences::default()).unwrap(), migration);
        assert_eq!(Preferences::from_stored(&migration), Preferences::default());
    }

    #[test]
    fn schema_accepts_the_full_default_document() {
        assert!(violations(&Preferences::default().to_value()).is_empty());
    }

    #[test]
    fn partial_change_keeps_other_keys() {
        let current = Preferences::default().to_value();
        let merged =
            merge_patch(&current, &json!({"ui": {"theme": "dark"}, "privacy": {"shareWatchHistory": true}})).unwrap();
        assert_eq!(merged.ui.theme, Theme::Dark);
        assert_eq!(merged.ui.language, "en");
        assert!(merged.privacy.share_watch_history);
        assert_eq!(merged.privacy.profile_visibility, ProfileVisibility::Private);
        assert_eq!(merged.notifications, Notifications::default());
        // A second patch starts from the first result.
        let again =
            merge_patch(&merged.to_value(), &json!({"discovery": {"preferredLanguages": ["pt", "es"]}})).unwrap();
        assert_eq!(again.ui.theme, Theme::Dark);
        assert_eq!(again.discovery.preferred_languages, ["pt", "es"]);
        assert!(merge_patch(&current, &json!({})).unwrap() == Preferences::default());
        assert_eq!(merge_patch(&current, &json!({"ui": {"language": "pt-BR"}})).unwrap().ui.language, "pt-BR");
    }

    #[test]
    fn unknown_keys_at_any_level() {
        let current = Preferences::default().to_value();
        assert_eq!(fields(merge_patch(&current, &json!({"ui": {"colour": "red"}}))), ["preferences.ui.colour"]);
        assert_eq!(fields(merge_patch(&current, &json!({"extra": 1}))), ["preferences.extra"]);
    }

    #[test]
    fn bad_enums_types_and_languages() {
        let current = Preferences::default().to_value();
        let cases = [
            (json!({"privacy": {"profileVisibility": "everyone"}}), "preferences.privacy.profileVisibility"),
            (json!({"ui": {"theme": "blue"}}), "preferences.ui.theme"),
            (json!({"notifications": {"email": "yes"}}), "preferences.notifications.email"),
            (json!({"notifications": true}), "preferences.notifications"),
            (json!({"ui": {"language": "english"}}), "preferences.ui.language"),
            (json!({"ui": {"language": "pt-br"}}), "preferences.ui.language"),
            (json!({"discovery": {"preferredLanguages": []}}), "preferences.discovery.preferredLanguages"),
            (json!({"discovery": {"preferredLanguages": ["EN"]}}), "preferences.discovery.preferredLanguages"),
            (json!({"discovery": {"preferredLanguages": ["eng"]}}), "preferences.discovery.preferredLanguages"),
            (json!({"discovery": {"preferredLanguages": "en"}}), "preferences.discovery.preferredLanguages"),
            (json!({"discovery": {"preferredLanguages": vec!["en"; 11]}}), "preferences.discovery.preferredLanguages"),
            (json!({"ui": {"theme": null}}), "preferences.ui.theme"),
        ];
        for (patch, field) in cases {
            assert_eq!(fields(merge_patch(&current, &patch)), [field], "{patch}");
        }
        assert_eq!(fields(merge_patch(&current, &json!([1]))), ["preferences"]);
        assert_eq!(fields(merge_patch(&current, &json!("dark"))), ["preferences"]);
    }

    #[test]
    fn several_errors_listed_at_once() {
        let current = Preferences::default().to_value();
        let patch = json!({
            "ui": {"colour": "red", "theme": "blue"},
            "privacy": {"profileVisibility": "everyone"},
            "notifications": {"push": 1},
            "bogus": {}
        });
        let mut got = fields(merge_patch(&current, &patch));
        got.sort();
        assert_eq!(
            got,
            [
                "preferences.bogus",
                "preferences.notifications.push",
                "preferences.privacy.profileVisibility",
                "preferences.ui.colour",
                "preferences.ui.theme",
            ]
        );
    }

    #[test]
    fn serde_agrees_with_the_schema() {
        // Whatever the schema accepts, serde accepts, and the struct refuses unknown keys too.
        let full = json!({
            "notifications": {"email": false, "push": true, "newEpisodes": false, "weeklyDigest": true},
            "privacy": {"profileVisibility": "friends", "shareWatchHistory": true},
            "discovery": {"showSpoilers": true, "includeAdult": true, "preferredLanguages": ["fr", "de"]},
            "ui": {"theme": "light", "language": "fr-CA"}
        });
        assert!(violations(&full).is_empty());
        let p: Preferences = serde_json::from_value(full.clone()).unwrap();
        assert_eq!(p.to_value(), full);
        assert!(serde_json::from_value::<Preferences>(json!({"ui": {"colour": "red"}})).is_err());
    }

    #[test]
    fn merging_adds_keys_the_base_lacks_and_replaces_the_rest() {
        let mut base = json!({ "a": { "x": 1 }, "b": [1, 2] });
        deep_merge(&mut base, &json!({ "a": { "y": 2 }, "b": [3], "c": true }));
        assert_eq!(base, json!({ "a": { "x": 1, "y": 2 }, "b": [3], "c": true }));
    }
}
