//! The web app as the gateway serves it: hashed immutable assets, the index with its import map and policy, the
//! asset manifest and the versioned service worker, content types, gzip, client routes and the landing page.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{error_code, generous_limits, start_gateway};

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>I Know</title>
  <link rel="manifest" href="/manifest.webmanifest">
  <link rel="icon" href="/icon.svg" type="image/svg+xml">
  <link rel="apple-touch-icon" href="/icons/icon-192.png">
  <link rel="stylesheet" href="/app.css">
  <link rel="modulepreload" href="/js/dom.js">
</head>
<body>
  <main id="main"></main>
  <script type="module" src="/app.js"></script>
</body>
</html>
"#;

const APP_JS: &str =
    "import { h } from \"./js/dom.js\";\nconst pages = { actor: () => import(\"./js/pages/actor.js\") };\n";
const DOM_JS: &str = "export function h(tag) { return document.createElement(tag); }\n";
const ACTOR_JS: &str = "import { h } from \"../dom.js\";\nexport function render() { return h(\"section\"); }\n";
const SW_JS: &str = "const VERSION = \"__IKNOW_VERSION__\";\nconst SHELL = `iknow-shell-${VERSION}`;\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n not really a picture";

/// A web directory like `web/`, in a fresh temporary directory.
fn web_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iknow-web-{}", uuid::Uuid::now_v7()));
    let write = |path: &str, bytes: &[u8]| {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    };
    write("index.html", INDEX.as_bytes());
    write("app.js", APP_JS.as_bytes());
    write("js/dom.js", DOM_JS.as_bytes());
    write("js/pages/actor.js", ACTOR_JS.as_bytes());
    // Long enough to be worth compressing.
    write("app.css", format!("body {{ margin: 0; }}\n{}", ".face { display: grid; }\n".repeat(200)).as_bytes());
    write("manifest.webmanifest", br#"{"name": "I Know", "start_url": "/"}"#);
    write("icon.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write("icons/icon-192.png", PNG);
    write("sw.js", SW_JS.as_bytes());
    write(".hidden", b"secret");
    dir
}

async fn serve(dir: &Path, origins: &[&str]) -> String {
    start_gateway(gateway::Config {
        web_dir: dir.to_path_buf(),
        image_origins: origins.iter().map(|o| o.to_string()).collect(),
        ..generous_limits()
    })
    .await
}

struct Got {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

async fn get_with(base: &str, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = reqwest::Client::new().get(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("gateway answers");
    Got { status: r.status().as_u16(), headers: r.headers().clone(), body: r.bytes().await.unwrap().to_vec() }
}

async fn get(base: &str, path: &str) -> Got {
    get_with(base, path, &[]).await
}

/// The text of the index's import map.
fn import_map(index: &str) -> &str {
    let open = "<script type=\"importmap\">";
    let start = index.find(open).expect("an import map") + open.len();
    &index[start..start + index[start..].find("</script>").unwrap()]
}

fn hash10(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()[..10].to_owned()
}

#[tokio::test]
async fn the_index_links_hashed_immutable_assets_through_its_import_map_under_a_strict_policy() {
    let dir = web_dir();
    let base = serve(&dir, &["https://image.tmdb.org", "http://127.0.0.1:8123"]).await;

    let index = get(&base, "/").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.header("cache-control"), "no-cache");
    assert_eq!(index.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(index.header("x-content-type-options"), "nosniff");
    assert_eq!(index.header("referrer-policy"), "strict-origin-when-cross-origin");
    let html = index.text();

    // Every reference of the shell is a hashed URL.
    let dom = format!("/js/dom.{}.js", hash10(DOM_JS.as_bytes()));
    let app = format!("/app.{}.js", hash10(APP_JS.as_bytes()));
    let actor = format!("/js/pages/actor.{}.js", hash10(ACTOR_JS.as_bytes()));
    let png = format!("/icons/icon-192.{}.png", hash10(PNG));
    for link in [
        format!("rel=\"modulepreload\" href=\"{dom}\""),
        format!("type=\"module\" src=\"{app}\""),
        format!("rel=\"apple-touch-icon\" href=\"{png}\""),
    ] {
        assert!(html.contains(&link), "{link} in {html}");
    }
    for plain in ["\"/app.css\"", "\"/icon.svg\"", "\"/manifest.webmanifest\"", "\"/app.js\"", "\"/js/dom.js\""] {
        assert!(!html[html.find("</script>").unwrap()..].contains(plain), "{plain} rewritten: {html}");
    }

    // The import map maps every module, relative imports included (they resolve to these URLs), and comes
    // before the first module load (the preload).
    let map_text = import_map(&html);
    let map: Value = serde_json::from_str(map_text).unwrap();
    assert_eq!(map["imports"]["/app.js"], app.as_str());
    assert_eq!(map["imports"]["/js/dom.js"], dom.as_str());
    assert_eq!(map["imports"]["/js/pages/actor.js"], actor.as_str(), "dynamically imported pages too");
    assert_eq!(map["imports"].as_object().unwrap().len(), 3, "modules only: {map}");
    assert!(html.find("importmap").unwrap() < html.find("modulepreload").unwrap());

    // The policy allows that one inline script by its hash, and images from the configured origins.
    let csp = index.header("content-security-policy");
    let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(map_text.as_bytes()));
    assert_eq!(
        csp,
        format!(
            "default-src 'self'; img-src 'self' data: https://image.tmdb.org http://127.0.0.1:8123; \
             script-src 'self' 'sha256-{sha}'; style-src 'self'; object-src 'none'; base-uri 'self'; \
             frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'; connect-src 'self'"
        )
    );

    // Hashed URLs are immutable and hold the file's bytes; plain URLs answer too, revalidated each time.
    for (hashed, plain, body, content_type) in [
        (app.as_str(), "/app.js", APP_JS.as_bytes(), "text/javascript; charset=utf-8"),
        (actor.as_str(), "/js/pages/actor.js", ACTOR_JS.as_bytes(), "text/javascript; charset=utf-8"),
        (png.as_str(), "/icons/icon-192.png", PNG, "image/png"),
    ] {
        let got = get(&base, hashed).await;
        assert_eq!((got.status, got.body.as_slice()), (200, body), "{hashed}");
        assert_eq!(got.header("cache-control"), "public, max-age=31536000, immutable", "{hashed}");
        assert_eq!(got.header("content-type"), content_type, "{hashed}");
        assert_eq!(got.header("x-content-type-options"), "nosniff");
        let got = get(&base, plain).await;
        assert_eq!((got.status, got.body.as_slice()), (200, body), "{plain}");
        assert_eq!(got.header("cache-control"), "no-cache", "{plain}");
    }

    // Every hashed file answers with its own type.
    let manifest = get(&base, "/asset-manifest.json").await;
    assert_eq!((manifest.status, manifest.header("cache-control")), (200, "no-cache"));
    assert_eq!(manifest.header("content-type"), "application/json");
    let manifest: Value = serde_json::from_slice(&manifest.body).unwrap();
    let files: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(files.len(), 7, "the shell: 3 modules, the style, the web manifest and two icons: {files:?}");
    for (ext, content_type) in [
        (".css", "text/css; charset=utf-8"),
        (".webmanifest", "application/manifest+json"),
        (".svg", "image/svg+xml"),
        (".png", "image/png"),
        (".js", "text/javascript; charset=utf-8"),
    ] {
        let file = files.iter().find(|f| f.ends_with(ext)).unwrap_or_else(|| panic!("a {ext} in {files:?}"));
        let got = get(&base, file).await;
        assert_eq!((got.status, got.header("content-type")), (200, content_type), "{file}");
        assert_eq!(got.header("cache-control"), "public, max-age=31536000, immutable", "{file}");
    }
    assert!(files.iter().all(|f| !f.contains("sw.") && !f.contains("index")), "{files:?}");

    // The worker carries the version and is never hashed nor cached without revalidation.
    let version = manifest["version"].as_str().unwrap();
    let sw = get(&base, "/sw.js").await;
    assert_eq!((sw.status, sw.header("cache-control")), (200, "no-cache"));
    assert_eq!(sw.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(sw.text(), SW_JS.replace("__IKNOW_VERSION__", version));
    assert!(!version.is_empty() && !sw.text().contains("__IKNOW_VERSION__"));

    // A conditional request for what the client has is a 304.
    let got = get(&base, &app).await;
    let etag = got.header("etag").to_owned();
    assert!(etag.starts_with('"'), "{etag}");
    let again = get_with(&base, &app, &[("if-none-match", &etag)]).await;
    assert_eq!((again.status, again.body.len()), (304, 0));
    assert_eq!(again.header("cache-control"), "public, max-age=31536000, immutable");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn client_routes_get_the_index_and_missing_files_api_paths_and_other_methods_get_envelopes() {
    let dir = web_dir();
    let base = serve(&dir, &[]).await;
    let index = get(&base, "/").await.body;
    for route in ["/index.html", "/?actor=0190ab&view=history", "/some/client/route", "/actor/tom-hanks"] {
        let got = get(&base, route).await;
        assert_eq!((got.status, got.header("cache-control")), (200, "no-cache"), "{route}");
        assert_eq!(got.body, index, "{route}");
        assert!(got.header("content-security-policy").contains("img-src 'self' data:;"), "{route}");
    }
    for missing in ["/nope.js", "/js/dom.0123456789.js", "/.hidden", "/icons/other.png"] {
        let got = get(&base, missing).await;
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!((got.status, error_code(&body).as_str()), (404, "NOT_FOUND"), "{missing}");
    }
    let got = get(&base, "/api/v1/nope").await;
    assert_eq!(got.status, 404);
    assert_eq!(error_code(&serde_json::from_slice(&got.body).unwrap()), "NOT_FOUND");
    let r = reqwest::Client::new().post(format!("{base}/app.js")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(error_code(&r.json().await.unwrap()), "METHOD_NOT_ALLOWED");
    let r = reqwest::Client::new().head(format!("{base}/app.js")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], APP_JS.len().to_string().as_str());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn text_assets_are_gzipped_for_clients_that_accept_it() {
    let dir = web_dir();
    let base = serve(&dir, &[]).await;
    let css = std::fs::read(dir.join("app.css")).unwrap();
    let plain = get(&base, "/app.css").await;
    assert_eq!((plain.header("content-encoding"), plain.body.as_slice()), ("", css.as_slice()));
    assert_eq!(plain.header("vary"), "accept-encoding");
    let zipped = get_with(&base, "/app.css", &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!((zipped.status, zipped.header("content-encoding")), (200, "gzip"));
    assert_eq!(zipped.header("vary"), "accept-encoding");
    assert!(zipped.body.len() < css.len() / 4, "{} of {}", zipped.body.len(), css.len());
    let mut unzipped = vec![];
    flate2::read::GzDecoder::new(zipped.body.as_slice()).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, css);
    assert_ne!(zipped.header("etag"), plain.header("etag"), "each encoding has its own tag");
    let index = get_with(&base, "/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(index.header("content-encoding"), "gzip", "the index too");
    let refused = get_with(&base, "/app.css", &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(refused.header("content-encoding"), "");
    // Pictures are already compressed.
    let png = get_with(&base, "/icons/icon-192.png", &[("accept-encoding", "gzip")]).await;
    assert_eq!((png.header("content-encoding"), png.body.as_slice()), ("", PNG));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_changed_file_is_a_new_hash_a_new_version_and_a_new_worker() {
    let dir = web_dir();
    let before = serve(&dir, &[]).await;
    std::fs::write(dir.join("js/dom.js"), "export function h(tag) { return document.createElement(tag) }\n").unwrap();
    let after = serve(&dir, &[]).await;

    let manifest =
        async |base: &str| -> Value { serde_json::from_slice(&get(base, "/asset-manifest.json").await.body).unwrap() };
    let (old, new) = (manifest(&before).await, manifest(&after).await);
    assert_ne!(old["version"], new["version"]);
    let (old_sw, new_sw) = (get(&before, "/sw.js").await.text(), get(&after, "/sw.js").await.text());
    assert_ne!(old_sw, new_sw, "the browser sees a new worker");
    assert!(new_sw.contains(new["version"].as_str().unwrap()));
    let files = |m: &Value| -> Vec<String> {
        m["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect()
    };
    let changed: Vec<String> = files(&new).into_iter().filter(|f| !files(&old).contains(f)).collect();
    assert_eq!(changed.len(), 1, "only the changed file has a new URL: {changed:?}");
    assert!(changed[0].starts_with("/js/dom.") && changed[0].ends_with(".js"));
    let new_index = get(&after, "/").await.text();
    assert!(new_index.contains(&changed[0]), "the index preloads the new file");
    let old_index = get(&before, "/").await;
    assert_ne!(old_index.header("content-security-policy"), "", "a policy either way");
    assert_ne!(import_map(&old_index.text()), import_map(&new_index), "and the map moved on");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn without_a_web_app_the_root_is_a_landing_page_and_nothing_else_is_served() {
    let base = serve(Path::new("/nonexistent/iknow-web"), &["https://image.tmdb.org"]).await;
    let got = get(&base, "/").await;
    assert_eq!(got.status, 200);
    assert!(got.text().contains("href=\"/docs\""));
    assert!(got.header("content-security-policy").contains("img-src 'self' data: https://image.tmdb.org;"));
    for path in ["/app.js", "/some/route", "/asset-manifest.json", "/sw.js"] {
        assert_eq!(get(&base, path).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn an_image_origin_that_is_not_an_origin_stops_the_gateway_from_starting() {
    let config =
        gateway::Config { image_origins: vec!["https://image.tmdb.org; script-src *".into()], ..generous_limits() };
    let err = gateway::Application::build(config).await.err().expect("refused");
    assert!(err.to_string().contains("image_origins"), "{err}");
}
