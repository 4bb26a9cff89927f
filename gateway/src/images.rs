//! Images in three sizes: an actor's photo or a title's poster as `{small, medium, large}` absolute URLs, made
//! from the one URL the catalogue stores. The gateway never fetches an image: the browser loads it from the image
//! host, picking a size with `srcset`.
//!
//! | URL stored                                   | kind    | small  | medium | large      |
//! |----------------------------------------------|---------|--------|--------|------------|
//! | `<scheme>://<host>/t/p/<size>/<file>` (TMDB) | profile | `w185` | `h632` | `original` |
//! | `<scheme>://<host>/t/p/<size>/<file>` (TMDB) | poster  | `w154` | `w342` | `w780`     |
//! | any other absolute `http(s)` URL             | either  | the URL | the URL | the URL   |
//! | none, blank or not an absolute `http(s)` URL | either  | `null` (no image set) | | |
//!
//! `<size>` is `original`, `w<digits>` or `h<digits>`; any host is read as TMDB's (tests and mirrors serve the
//! same paths from elsewhere).

use serde::Serialize;
use utoipa::ToSchema;

/// An image in three sizes, absolute URLs on the image host (load them from there, with `srcset`). Made from the
/// one URL stored (`photoUrl`, `profileImageUrl` or `posterUrl`):
///
/// | URL stored | field | small | medium | large |
/// |---|---|---|---|---|
/// | TMDB `<scheme>://<host>/t/p/<size>/<file>` | `photo` | `…/t/p/w185/<file>` | `…/t/p/h632/<file>` | `…/t/p/original/<file>` |
/// | TMDB `<scheme>://<host>/t/p/<size>/<file>` | `poster` | `…/t/p/w154/<file>` | `…/t/p/w342/<file>` | `…/t/p/w780/<file>` |
/// | any other absolute URL | either | the URL | the URL | the URL |
///
/// `<size>` is `original`, `w<n>` or `h<n>`. The field holding the set is null when there is no image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageSet {
    /// About 150 px wide: lists and small faces (TMDB `w185` for a photo, `w154` for a poster).
    #[schema(format = "uri")]
    pub small: String,
    /// About 300 to 400 px wide: cards and profile headers (TMDB `h632` for a photo, `w342` for a poster).
    #[schema(format = "uri")]
    pub medium: String,
    /// The largest: full-width and high-density screens (TMDB `original` for a photo, `w780` for a poster).
    #[schema(format = "uri")]
    pub large: String,
}

/// TMDB size paths of a profile photo: small, medium, large.
pub const PROFILE_SIZES: [&str; 3] = ["w185", "h632", "original"];
/// TMDB size paths of a poster: small, medium, large.
pub const POSTER_SIZES: [&str; 3] = ["w154", "w342", "w780"];

impl ImageSet {
    /// The sizes of an actor's photo; `None` when there is no usable URL.
    pub fn profile(url: Option<&str>) -> Option<Self> {
        Self::sized(url, PROFILE_SIZES)
    }

    /// The sizes of a title's poster; `None` when there is no usable URL.
    pub fn poster(url: Option<&str>) -> Option<Self> {
        Self::sized(url, POSTER_SIZES)
    }

    fn sized(url: Option<&str>, [small, medium, large]: [&str; 3]) -> Option<Self> {
        let url = url.map(str::trim).filter(|u| is_absolute_http(u))?;
        Some(match tmdb_parts(url) {
            Some((base, file)) => Self {
                small: format!("{base}{small}/{file}"),
                medium: format!("{base}{medium}/{file}"),
                large: format!("{base}{large}/{file}"),
            },
            None => Self { small: url.to_owned(), medium: url.to_owned(), large: url.to_owned() },
        })
    }
}

/// `http://` or `https://` (any case) followed by a host.
fn is_absolute_http(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
        && !host.is_empty()
        && !url.chars().any(char::is_whitespace)
}

/// A TMDB image URL split around its size: (`<scheme>://<host>/t/p/`, `<file>`).
fn tmdb_parts(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url.find("://")? + 3;
    let path_at = after_scheme + url[after_scheme..].find('/')?;
    let path = &url[path_at..];
    let rest = path.strip_prefix("/t/p/")?;
    let (size, file) = rest.split_once('/')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let size_ok = size == "original" || size.strip_prefix(['w', 'h']).is_some_and(digits);
    let file_ok = !file.is_empty() && !file.contains('/');
    (size_ok && file_ok).then(|| (&url[..path_at + "/t/p/".len()], file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(small: &str, medium: &str, large: &str) -> Option<ImageSet> {
        Some(ImageSet { small: small.into(), medium: medium.into(), large: large.into() })
    }

    #[test]
    fn tmdb_profiles_and_posters_get_their_three_sizes_whatever_size_was_stored() {
        let tmdb = "https://image.tmdb.org/t/p";
        for stored in ["original", "w500", "h632", "w45"] {
            let url = format!("{tmdb}/{stored}/abc123.jpg");
            assert_eq!(
                ImageSet::profile(Some(&url)),
                set(
                    &format!("{tmdb}/w185/abc123.jpg"),
                    &format!("{tmdb}/h632/abc123.jpg"),
                    &format!("{tmdb}/original/abc123.jpg")
                ),
                "{url}"
            );
            assert_eq!(
                ImageSet::poster(Some(&url)),
                set(
                    &format!("{tmdb}/w154/abc123.jpg"),
                    &format!("{tmdb}/w342/abc123.jpg"),
                    &format!("{tmdb}/w780/abc123.jpg")
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn any_host_with_tmdb_paths_keeps_its_scheme_host_and_port() {
        let url = "http://127.0.0.1:8123/t/p/w500/x.png";
        assert_eq!(
            ImageSet::poster(Some(url)),
            set(
                "http://127.0.0.1:8123/t/p/w154/x.png",
                "http://127.0.0.1:8123/t/p/w342/x.png",
                "http://127.0.0.1:8123/t/p/w780/x.png"
            )
        );
    }

    #[test]
    fn other_absolute_urls_are_all_three_sizes() {
        for url in [
            "https://example.org/photos/keanu.jpg",
            "https://image.tmdb.org/t/p/large/x.jpg",
            "https://image.tmdb.org/t/p/w/x.jpg",
            "https://image.tmdb.org/t/p/w185x/x.jpg",
            "https://image.tmdb.org/t/p/w185/",
            "https://image.tmdb.org/t/p/w185/a/b.jpg",
            "https://image.tmdb.org/x/t/p/w185/a.jpg",
            "HTTPS://example.org/a.jpg",
        ] {
            assert_eq!(ImageSet::profile(Some(url)), set(url, url, url), "{url}");
            assert_eq!(ImageSet::poster(Some(url)), set(url, url, url), "{url}");
        }
    }

    #[test]
    fn no_url_blank_or_not_absolute_http_is_no_image() {
        for url in [
            None,
            Some(""),
            Some("   "),
            Some("/t/p/w185/a.jpg"),
            Some("ftp://h/a.jpg"),
            Some("https://"),
            Some("data:x"),
        ] {
            assert_eq!(ImageSet::profile(url), None, "{url:?}");
            assert_eq!(ImageSet::poster(url), None, "{url:?}");
        }
        let padded = ImageSet::poster(Some(" https://example.org/a.jpg ")).unwrap();
        assert_eq!(padded.small, "https://example.org/a.jpg", "trimmed");
    }

    #[test]
    fn serialises_as_camel_case_object() {
        let json = serde_json::to_value(ImageSet::poster(Some("https://h/a.jpg"))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"small": "https://h/a.jpg", "medium": "https://h/a.jpg", "large": "https://h/a.jpg"})
        );
        assert_eq!(serde_json::to_value(ImageSet::poster(None)).unwrap(), serde_json::Value::Null);
    }
}
