//! The web app's files: the gateway is their asset pipeline (the app has no build step). At start-up it reads
//! `web_dir` into memory and serves:
//!
//! - every `.js`, `.mjs`, `.css`, image, font and `.webmanifest` file (not `sw.js`, not `index.html`) also at a
//!   content-hashed URL, `/<dir>/<name>.<hash10>.<ext>`, cached for a year as `immutable`; the plain URL still
//!   answers, `no-cache`;
//! - `index.html` (at `/`, `/index.html` and every client route) `no-cache`, its `<link href>`, `<script src>`
//!   and `<img src>` references rewritten to the hashed URLs, and an import map inserted before the first module
//!   script (or module preload), so every ES module import — static or dynamic, relative or absolute — loads
//!   the hashed file;
//! - `/asset-manifest.json` (`{version, files}`: the hashed URLs of the app shell, for the service worker to
//!   precache) and `/sw.js` with `__IKNOW_VERSION__` replaced by the version (a hash over every file), both
//!   `no-cache`, so that a deploy changes the worker's bytes and the browser installs the new one.
//!
//! Text files are gzipped once at start-up and sent compressed to clients that accept it. Every answer has an
//! `ETag` (a `304` for a matching `If-None-Match`); HTML carries the Content-Security-Policy (with the hash of the
//! import map, the one inline script) and the other security headers.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use sha2::{Digest, Sha256};

/// The string `sw.js` holds where the version goes.
pub const VERSION_PLACEHOLDER: &str = "__IKNOW_VERSION__";
/// Path of the generated list of the app shell.
pub const ASSET_MANIFEST: &str = "/asset-manifest.json";
/// Hex digits of a content hash in a hashed URL.
pub const HASH_LEN: usize = 10;

/// `Cache-Control` of a hashed URL: its bytes never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: revalidate before each use.
pub const NO_CACHE: &str = "no-cache";

/// The service worker: served as it is, with the version in place of the placeholder, never hashed.
const SERVICE_WORKER: &str = "/sw.js";
const INDEX: &str = "/index.html";

/// Extensions served at a hashed URL as well.
const HASHED: &[&str] =
    &["js", "mjs", "css", "png", "svg", "ico", "jpg", "jpeg", "webp", "gif", "avif", "woff", "woff2", "webmanifest"];

/// The `Content-Type` of an extension, and whether it is text worth compressing.
fn content_type(ext: &str) -> (&'static str, bool) {
    match ext {
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "json" | "map" => ("application/json", true),
        "webmanifest" => ("application/manifest+json", true),
        "svg" => ("image/svg+xml", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "xml" => ("application/xml", true),
        "png" => ("image/png", false),
        "ico" => ("image/x-icon", true),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "webp" => ("image/webp", false),
        "gif" => ("image/gif", false),
        "avif" => ("image/avif", false),
        "woff" => ("font/woff", false),
        "woff2" => ("font/woff2", false),
        _ => ("application/octet-stream", false),
    }
}

/// The extension of the last segment of a URL path, when it has one (`/a/b.c.js` → `js`).
fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then_some(ext)
}

/// Whether the last segment of a URL path has a dot (`app.js`, `.env`): a file, never a client route.
fn names_a_file(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|name| name.contains('.'))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8], digits: usize) -> String {
    bytes.iter().flat_map(|b| [b >> 4, b & 0xf]).take(digits).map(|n| char::from_digit(n.into(), 16).unwrap()).collect()
}

/// `/js/app.js` with `hash` → `/js/app.<hash>.js`.
pub fn hashed_path(path: &str, hash: &str) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{dir}/{stem}.{hash}.{ext}"),
        _ => format!("{dir}/{name}.{hash}"),
    }
}

/// One answer ready to send: the bytes, their gzip when smaller, the headers of both.
#[derive(Debug)]
struct Asset {
    content_type: HeaderValue,
    body: Bytes,
    gzip: Option<Bytes>,
    /// Hash of `body`; the ETag is made of it.
    hash: String,
    html: bool,
}

impl Asset {
    fn new(ext: &str, body: Vec<u8>) -> Self {
        let (ct, text) = content_type(ext);
        let hash = hex(&sha256(&body), 32);
        let gzip = text.then(|| gzip(&body)).flatten();
        Self { content_type: HeaderValue::from_static(ct), body: body.into(), gzip, hash, html: ext == "html" }
    }
}

/// `bytes` gzipped at the best level, when that makes them smaller.
fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    let out = enc.finish().ok()?;
    (out.len() + 64 < bytes.len()).then(|| out.into())
}

/// Whether `Accept-Encoding` accepts gzip (`gzip` or `*` with a non-zero quality).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let zero =
                parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
        },
    )
}

/// What the gateway knows of the web app.
#[derive(Debug, Default)]
pub struct WebApp {
    /// By URL path: the asset and its `Cache-Control`.
    files: HashMap<String, (std::sync::Arc<Asset>, &'static str)>,
    /// `index.html` rewritten, with its Content-Security-Policy.
    index: Option<std::sync::Arc<Asset>>,
    /// The policy of every HTML answer.
    csp: Option<HeaderValue>,
    /// A hash over every file.
    version: String,
}

/// The hashed URL of every file that has one, by plain path.
struct Pipeline {
    hashed: BTreeMap<String, String>,
}

impl WebApp {
    /// Reads `dir` (recursively; dot files and directories are skipped). No directory is no app: the gateway
    /// then serves a landing page at `/`. `image_origins` go into the policy's `img-src`.
    pub fn load(dir: &Path, image_origins: &[String]) -> anyhow::Result<Self> {
        for origin in image_origins {
            check_origin(origin)?;
        }
        let mut raw = BTreeMap::new();
        if dir.is_dir() {
            read_dir(dir, "", &mut raw)?;
        } else {
            tracing::warn!(web_dir = %dir.display(), "no web app directory: serving a landing page at /");
        }
        Ok(Self::build(raw, image_origins))
    }

    /// The app of these files (by URL path).
    pub fn build(raw: BTreeMap<String, Vec<u8>>, image_origins: &[String]) -> Self {
        let mut version = Sha256::new();
        for (path, bytes) in &raw {
            version.update(path.as_bytes());
            version.update([0]);
            version.update(sha256(bytes));
        }
        let version = hex(&version.finalize(), 16);
        let mut hashed = BTreeMap::new();
        for (path, bytes) in &raw {
            let ext = extension(path).unwrap_or_default();
            if HASHED.contains(&ext) && path != SERVICE_WORKER {
                hashed.insert(path.clone(), hashed_path(path, &hex(&sha256(bytes), HASH_LEN)));
            }
        }
        let pipeline = Pipeline { hashed };
        let mut files = HashMap::new();
        let mut index = None;
        let mut import_map_hash = None;
        for (path, bytes) in raw {
            let ext = extension(&path).unwrap_or_default().to_owned();
            if path == INDEX {
                let html = String::from_utf8_lossy(&bytes);
                let (html, map) = pipeline.rewrite_index(&html);
                import_map_hash = map.map(|m| base64::engine::general_purpose::STANDARD.encode(sha256(m.as_bytes())));
                index = Some(std::sync::Arc::new(Asset::new("html", html.into_bytes())));
                continue;
            }
            let bytes = if path == SERVICE_WORKER {
                String::from_utf8_lossy(&bytes).replace(VERSION_PLACEHOLDER, &version).into_bytes()
            } else {
                bytes
            };
            let asset = std::sync::Arc::new(Asset::new(&ext, bytes));
            if let Some(h) = pipeline.hashed.get(&path) {
                files.insert(h.clone(), (asset.clone(), IMMUTABLE));
            }
            files.insert(path, (asset, NO_CACHE));
        }
        if index.is_some() {
            let manifest = serde_json::json!({
                "version": version,
                "files": pipeline.hashed.values().collect::<Vec<_>>(),
            });
            let manifest = serde_json::to_vec(&manifest).expect("a JSON value serialises");
            files.insert(ASSET_MANIFEST.to_owned(), (std::sync::Arc::new(Asset::new("json", manifest)), NO_CACHE));
        }
        let csp = csp(image_origins, import_map_hash.as_deref());
        let csp = HeaderValue::from_str(&csp).ok();
        Self { files, index, csp, version }
    }

    /// A hash over every file of the app (empty without an app).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether there is an `index.html` to serve.
    pub fn has_index(&self) -> bool {
        self.index.is_some()
    }

    /// The answer to `GET`/`HEAD path`, when the app has one: a file, or the index for a client route (a path
    /// whose last segment has no dot). `None` is a 404 (or the landing page at `/`, without an app).
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        let (asset, cache) = match self.files.get(path) {
            Some((asset, cache)) => (asset, *cache),
            None if path == INDEX || !names_a_file(path) => (self.index.as_ref()?, NO_CACHE),
            None => return None,
        };
        Some(self.send(asset, cache, method, headers))
    }

    /// The policy and headers every HTML answer carries (the landing page too).
    pub fn html_headers(&self, headers: &mut HeaderMap) {
        if let Some(csp) = &self.csp {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    }

    fn send(&self, asset: &Asset, cache: &'static str, method: &Method, req: &HeaderMap) -> Response {
        let gzip = asset.gzip.as_ref().filter(|_| accepts_gzip(req));
        let etag = format!("\"{}{}\"", &asset.hash[..20], if gzip.is_some() { "-gz" } else { "" });
        let mut headers = HeaderMap::new();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header value"));
        if asset.gzip.is_some() {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if asset.html {
            self.html_headers(&mut headers);
        } else {
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        }
        let matches = req
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*");
        if matches {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(header::CONTENT_TYPE, asset.content_type.clone());
        let body = match gzip {
            Some(gz) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                gz.clone()
            }
            None => asset.body.clone(),
        };
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let body = if method == Method::HEAD { Body::empty() } else { Body::from(body) };
        (StatusCode::OK, headers, body).into_response()
    }
}

/// An image origin fit for the policy: `http(s)://host[:port]`, the host possibly starting with `*.`.
fn check_origin(origin: &str) -> anyhow::Result<()> {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:*[]".contains(&b))
    });
    anyhow::ensure!(ok, "gateway.image_origins: {origin:?} is not an origin like https://image.tmdb.org");
    Ok(())
}

/// The Content-Security-Policy of the app's HTML.
pub fn csp(image_origins: &[String], import_map_sha256: Option<&str>) -> String {
    let mut img = String::from("'self' data:");
    for o in image_origins {
        img.push(' ');
        img.push_str(o);
    }
    let script = match import_map_sha256 {
        Some(h) => format!("'self' 'sha256-{h}'"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'self'; img-src {img}; script-src {script}; style-src 'self'; object-src 'none'; \
         base-uri 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'; connect-src 'self'"
    )
}

/// Reads every file under `dir` into `out`, keyed by URL path (`/js/app.js`).
fn read_dir(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let url = format!("{prefix}/{name}");
        // Follows symbolic links.
        let meta = std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            read_dir(&path, &url, out)?;
        } else if meta.is_file() {
            out.insert(url, std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
        }
    }
    Ok(())
}

/// The tag names whose `href`/`src` are rewritten.
const REWRITTEN_TAGS: &[&str] = &["link", "script", "img"];

impl Pipeline {
    /// The hashed URL of a reference in `index.html` (absolute, or relative to `/`), when it has one.
    fn hashed_ref(&self, value: &str) -> Option<&String> {
        if value.starts_with("//") || value.contains(':') || value.contains(['?', '#']) {
            return None;
        }
        let path = match value.strip_prefix('/') {
            Some(_) => value.to_owned(),
            None => format!("/{}", value.trim_start_matches("./")),
        };
        self.hashed.get(&path)
    }

    /// The import map of every module: plain path → hashed URL.
    fn import_map(&self) -> Option<String> {
        let imports: BTreeMap<&String, &String> =
            self.hashed.iter().filter(|(p, _)| matches!(extension(p), Some("js" | "mjs"))).collect();
        // `<` escaped: the map is the text of a script element.
        (!imports.is_empty()).then(|| serde_json::json!({ "imports": imports }).to_string().replace('<', "\\u003c"))
    }

    /// `index.html` with its references hashed and the import map before its first module script or module
    /// preload; and the import map, when one was inserted.
    fn rewrite_index(&self, html: &str) -> (String, Option<String>) {
        let map = self.import_map();
        let mut inserted = None;
        let lower = html.to_ascii_lowercase();
        let mut out = String::with_capacity(html.len() + 2048);
        let mut at = 0;
        while let Some(found) = lower[at..].find('<') {
            let start = at + found;
            out.push_str(&html[at..start]);
            if lower[start..].starts_with("<!--") {
                let end = lower[start..].find("-->").map_or(html.len(), |e| start + e + 3);
                out.push_str(&html[start..end]);
                at = end;
                continue;
            }
            let name_end =
                lower[start + 1..].find(|c: char| !c.is_ascii_alphanumeric()).map_or(html.len(), |e| start + 1 + e);
            let name = &lower[start + 1..name_end];
            let end = tag_end(html, name_end);
            if !REWRITTEN_TAGS.contains(&name) {
                out.push_str(&html[start..end]);
                at = end;
                continue;
            }
            let attrs = attributes(&html[name_end..end]);
            let attr = |n: &str| attrs.iter().find(|a| a.name.eq_ignore_ascii_case(n)).map(|a| a.value);
            let is_module = match name {
                "script" => attr("type").is_some_and(|t| t.eq_ignore_ascii_case("module")),
                "link" => attr("rel").is_some_and(|r| r.eq_ignore_ascii_case("modulepreload")),
                _ => false,
            };
            if is_module
                && inserted.is_none()
                && let Some(map) = &map
            {
                out.push_str("<script type=\"importmap\">");
                out.push_str(map);
                out.push_str("</script>\n  ");
                inserted = Some(map.clone());
            }
            // The tag with its `href`/`src` swapped.
            let mut cursor = name_end;
            out.push_str(&html[start..name_end]);
            for a in &attrs {
                let hashed = (a.name.eq_ignore_ascii_case("href") || a.name.eq_ignore_ascii_case("src"))
                    .then(|| self.hashed_ref(a.value))
                    .flatten();
                if let Some(h) = hashed {
                    let (vs, ve) = (name_end + a.value_start, name_end + a.value_start + a.value.len());
                    out.push_str(&html[cursor..vs]);
                    out.push_str(h);
                    cursor = ve;
                }
            }
            out.push_str(&html[cursor..end]);
            at = end;
            if name == "script" {
                // A script's text is not markup.
                let close = lower[at..].find("</script").map_or(html.len(), |e| at + e);
                out.push_str(&html[at..close]);
                at = close;
            }
        }
        out.push_str(&html[at..]);
        (out, inserted)
    }
}

/// The index just past the `>` closing the tag whose attributes start at `from` (quotes respected).
fn tag_end(html: &str, from: usize) -> usize {
    let mut quote = None;
    for (i, c) in html[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return from + i + 1,
            _ => {}
        }
    }
    html.len()
}

/// One attribute of a tag: its name, value, and where the value starts in the tag's attribute text.
struct Attribute<'a> {
    name: &'a str,
    value: &'a str,
    value_start: usize,
}

/// The attributes of a tag's text after its name (up to and including `>`).
fn attributes(text: &str) -> Vec<Attribute<'_>> {
    let bytes = text.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    let skip_space = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_space(&mut i);
        if i >= bytes.len() || bytes[i] == b'>' || bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'>') {
            return out;
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>".contains(&bytes[i]) {
            i += 1;
        }
        let name = &text[name_start..i];
        skip_space(&mut i);
        if bytes.get(i) != Some(&b'=') {
            if i == name_start {
                i += 1;
            }
            out.push(Attribute { name, value: "", value_start: i });
            continue;
        }
        i += 1;
        skip_space(&mut i);
        let (value_start, value_end) = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = text[i + 1..].find(q as char).map_or(bytes.len(), |e| i + 1 + e);
                let span = (i + 1, end);
                i = (end + 1).min(bytes.len());
                span
            }
            _ => {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                (start, i)
            }
        };
        out.push(Attribute { name, value: &text[value_start..value_end], value_start });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> WebApp {
        let raw = files.iter().map(|(p, b)| (p.to_string(), b.as_bytes().to_vec())).collect();
        WebApp::build(raw, &["https://image.tmdb.org".into()])
    }

    fn hash_of(body: &str) -> String {
        hex(&sha256(body.as_bytes()), HASH_LEN)
    }

    #[test]
    fn hashed_paths_keep_directory_and_extension() {
        assert_eq!(hashed_path("/js/pages/actor.js", "0123456789"), "/js/pages/actor.0123456789.js");
        assert_eq!(hashed_path("/app.min.css", "abc"), "/app.min.abc.css");
        assert_eq!(hashed_path("/manifest.webmanifest", "abc"), "/manifest.abc.webmanifest");
        assert_eq!(extension("/a/b"), None);
        assert_eq!(extension("/a/.hidden"), None);
        assert_eq!(extension("/a.b/c.d.js"), Some("js"));
    }

    #[test]
    fn the_index_links_hashed_files_and_maps_every_module() {
        let html = "<!doctype html><head><!-- <script src=\"/app.js\"> -->\n<link rel=stylesheet href=\"/app.css\">\
            <link rel=\"modulepreload\" href='/js/dom.js'><link rel=\"icon\" href=\"icon.svg\">\
            <link href=\"https://cdn.example/x.css\" rel=stylesheet><link rel=\"manifest\" href=\"/missing.webmanifest\">\
            </head><body><img src=\"./logo.png\" alt=\"\"><script>if (a < b) x = '<script src=\"/app.js\">'</script>\
            <script type=\"module\" src=\"/app.js\"></script></body>";
        let files = [
            ("/index.html", html),
            ("/app.css", "body{}"),
            ("/app.js", "import './js/dom.js'"),
            ("/js/dom.js", "export {}"),
            ("/icon.svg", "<svg/>"),
            ("/logo.png", "png"),
            ("/sw.js", "const V = '__IKNOW_VERSION__'"),
        ];
        let web = app(&files);
        let index = String::from_utf8(web.index.as_ref().unwrap().body.to_vec()).unwrap();
        let h = |p: &str, b: &str| hashed_path(p, &hash_of(b));
        assert!(index.contains(&format!("href=\"{}\"", h("/app.css", "body{}"))), "{index}");
        assert!(index.contains(&format!("href='{}'", h("/js/dom.js", "export {}"))), "{index}");
        assert!(index.contains(&format!("href=\"{}\"", h("/icon.svg", "<svg/>"))), "relative to /: {index}");
        assert!(index.contains(&format!("src=\"{}\"", h("/logo.png", "png"))), "{index}");
        assert!(index.contains(&format!("type=\"module\" src=\"{}\"", h("/app.js", "import './js/dom.js'"))));
        assert!(index.contains("https://cdn.example/x.css") && index.contains("/missing.webmanifest"), "left alone");
        assert!(index.contains("<!-- <script src=\"/app.js\"> -->"), "comments are left alone");
        assert!(index.contains("'<script src=\"/app.js\">'"), "script text is left alone");
        // The map comes before the module preload, the first module load.
        let map_at = index.find("<script type=\"importmap\">").expect("an import map");
        assert!(map_at < index.find("modulepreload").unwrap(), "{index}");
        let map_text = &index[map_at + 25..index[map_at..].find("</script>").unwrap() + map_at];
        let map: serde_json::Value = serde_json::from_str(map_text).unwrap();
        assert_eq!(
            map,
            serde_json::json!({"imports": {
                "/app.js": h("/app.js", "import './js/dom.js'"),
                "/js/dom.js": h("/js/dom.js", "export {}"),
            }}),
            "modules only; sw.js is never hashed"
        );
        let csp = web.csp.as_ref().unwrap().to_str().unwrap();
        let sha = base64::engine::general_purpose::STANDARD.encode(sha256(map_text.as_bytes()));
        assert!(csp.contains(&format!("script-src 'self' 'sha256-{sha}';")), "{csp}");
        assert!(csp.contains("img-src 'self' data: https://image.tmdb.org;"), "{csp}");
    }

    #[test]
    fn the_version_covers_every_file_and_replaces_the_placeholder() {
        let files = [("/index.html", "<p>"), ("/app.js", "1"), ("/sw.js", "v=__IKNOW_VERSION__;")];
        let one = app(&files);
        let sw = |w: &WebApp| String::from_utf8(w.files["/sw.js"].0.body.to_vec()).unwrap();
        assert_eq!(sw(&one), format!("v={};", one.version()));
        assert_eq!(one.version().len(), 16);
        let two = app(&[("/index.html", "<p>"), ("/app.js", "2"), ("/sw.js", "v=__IKNOW_VERSION__;")]);
        assert_ne!(one.version(), two.version());
        assert_ne!(sw(&one), sw(&two));
        let renamed = app(&[("/index.html", "<p>"), ("/app2.js", "1"), ("/sw.js", "v=__IKNOW_VERSION__;")]);
        assert_ne!(one.version(), renamed.version(), "paths count too");
        assert!(!one.files.keys().any(|k| k.starts_with("/sw.") && k != "/sw.js"), "the worker is never hashed");
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        for (value, ok) in [
            ("gzip, deflate, br", true),
            ("br;q=1.0, gzip;q=0.5", true),
            ("gzip;q=0", false),
            ("*", true),
            ("identity", false),
            ("GZIP", true),
        ] {
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            assert_eq!(accepts_gzip(&h), ok, "{value}");
        }
    }

    #[test]
    fn image_origins_must_be_origins() {
        for ok in ["https://image.tmdb.org", "http://127.0.0.1:8123", "https://*.example.org", "http://[::1]:80"] {
            assert!(check_origin(ok).is_ok(), "{ok}");
        }
        for bad in ["image.tmdb.org", "https://", "https://a.org; script-src *", "'self'", "https://a.org/path"] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
        assert_eq!(
            csp(&[], None),
            "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; object-src 'none'; \
             base-uri 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'; connect-src 'self'"
        );
    }
}
