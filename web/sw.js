// The service worker: the app works offline with what it has seen.
//
// - The app shell (every file /asset-manifest.json lists, and "/") is cached at install, in a cache named
//   after this version (the gateway puts the version hash in place of __IKNOW_VERSION__ when serving this
//   file, so a deploy is a new worker that caches its own shell and drops the old one). Listed (hashed)
//   files answer from the cache first; other static files (icons, say) from the network, the cache offline.
// - Navigations to the app ("/?…") go to the network first; offline, the cached index answers and the app
//   routes from there.
// - The public answers of the actor and title pages (GET /api/v1/actors/{id}, /api/v1/content/{id} and its
//   /episodes) are stale-while-revalidate: the cached answer at once, refreshed in the background. The last
//   50 pages are kept, oldest dropped first. A request with an Authorization header is never cached.
// - Pictures from the image host (TMDB) are cache-first, the last 200 kept.
// The page learns of a failed background refresh through a message, {type: "iknow:network", online: false}.

/// <reference lib="webworker" />

const VERSION = "__IKNOW_VERSION__";
const SHELL = `iknow-shell-${VERSION}`;
const PAGES = "iknow-pages";
const IMAGES = "iknow-images";
const MAX_PAGES = 50;
const MAX_IMAGES = 200;
const MANIFEST = "/asset-manifest.json";

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** Public API answers worth keeping: an actor, a title, a series' episodes. */
const PAGE_API = /^\/api\/v1\/(actors|content)\/([^/]+)(\/episodes)?$/;
/** Static files served by the gateway (anything else of this origin is left to the network). */
const STATIC = /\.(?:js|mjs|css|png|svg|ico|webp|jpg|jpeg|woff2?|webmanifest)$/;

sw.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    /** @type {string[]} */
    let files = [];
    try {
      const res = await fetch(MANIFEST, { cache: "no-store" });
      if (res.ok) {
        files = (await res.clone().json()).files || [];
        await cache.put(MANIFEST, res);
      }
    } catch {
      // No manifest (an unhashed development build): the index alone; the rest is cached as it is used.
    }
    await cache.addAll([...new Set(["/", ...files])].map((url) => new Request(url, { cache: "no-cache" })));
    await sw.skipWaiting();
  })());
});

sw.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = [SHELL, PAGES, IMAGES];
    for (const key of await caches.keys()) {
      if (key.startsWith("iknow-") && !keep.includes(key)) await caches.delete(key);
    }
    await sw.clients.claim();
  })());
});

sw.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || req.headers.has("Authorization")) return;
  const url = new URL(req.url);
  if (url.origin === sw.location.origin) {
    if (req.mode === "navigate") {
      if (url.pathname === "/" || url.pathname === "/index.html") event.respondWith(navigation(req));
      return;
    }
    const page = PAGE_API.exec(url.pathname);
    if (page) event.respondWith(staleWhileRevalidate(event));
    else if (STATIC.test(url.pathname) && url.pathname !== "/sw.js") event.respondWith(asset(req));
    return;
  }
  if (req.destination === "image" && (url.protocol === "https:" || url.protocol === "http:")) {
    event.respondWith(image(event));
  }
});

/** @param {Request} req */
async function navigation(req) {
  try {
    return await fetch(req);
  } catch (e) {
    const index = await caches.match("/", { cacheName: SHELL });
    if (index) return index;
    throw e;
  }
}

/** @type {Promise<Set<string>> | null} */
let hashed = null;
/** The paths of this version's listed (hashed) files, from the manifest cached at install. */
function hashedFiles() {
  hashed ??= caches.open(SHELL)
    .then((cache) => cache.match(MANIFEST))
    .then((res) => (res ? res.json() : { files: [] }))
    .then((m) => new Set((m.files || []).map((/** @type {string} */ f) => new URL(f, sw.location.origin).pathname)))
    .catch(() => new Set());
  return hashed;
}

/** @param {Request} req */
async function asset(req) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(req);
  if (hit && (await hashedFiles()).has(new URL(req.url).pathname)) return hit;
  try {
    const res = await fetch(req);
    if (res.ok && res.type === "basic") await cache.put(req, res.clone());
    return res;
  } catch (e) {
    if (hit) return hit;
    throw e;
  }
}

/**
 * The cached answer at once (refreshed in the background), or the network's when nothing is cached.
 * @param {FetchEvent} event
 */
async function staleWhileRevalidate(event) {
  const req = event.request;
  const cache = await caches.open(PAGES);
  const cached = await cache.match(req);
  const network = fetch(req).then(async (res) => {
    if (res.ok) {
      // Deleted first, so the answer moves to the end of the cache's order (newest).
      const copy = res.clone();
      await cache.delete(req);
      await cache.put(req, copy);
      await trimPages(cache);
    } else if (res.status === 404 || res.status === 410) {
      await cache.delete(req);
    }
    return res;
  });
  if (!cached) return network;
  event.waitUntil(network.catch(() => tell(event, { type: "iknow:network", online: false })));
  return cached;
}

/** The page an answer of the PAGES cache belongs to ("actors/<id>", "content/<id>"). @param {Request} req */
function pageOf(req) {
  const m = PAGE_API.exec(new URL(req.url).pathname);
  return m ? `${m[1]}/${m[2]}` : req.url;
}

/**
 * Keeps the answers of the MAX_PAGES pages used last (an actor, or a title with its episodes), dropping the
 * oldest first (a cache lists its entries in the order they were put).
 * @param {Cache} cache
 */
async function trimPages(cache) {
  const keys = await cache.keys();
  const newestFirst = [...keys].reverse();
  /** @type {Set<string>} */
  const pages = new Set();
  for (const req of newestFirst) {
    const page = pageOf(req);
    if (!pages.has(page) && pages.size >= MAX_PAGES) await cache.delete(req);
    else pages.add(page);
  }
}

/**
 * A picture: the cached copy, else the network's (kept, opaque or not; the last MAX_IMAGES).
 * @param {FetchEvent} event
 */
async function image(event) {
  const req = event.request;
  const cache = await caches.open(IMAGES);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok || res.type === "opaque") {
    const copy = res.clone();
    event.waitUntil(cache.put(req, copy).then(() => trim(cache, MAX_IMAGES)));
  }
  return res;
}

/** Drops the oldest entries beyond `max`. @param {Cache} cache @param {number} max */
async function trim(cache, max) {
  const keys = await cache.keys();
  for (const req of keys.slice(0, Math.max(0, keys.length - max))) await cache.delete(req);
}

/** Posts `message` to the page that made the request. @param {FetchEvent} event @param {unknown} message */
async function tell(event, message) {
  const client = await sw.clients.get(event.clientId);
  client?.postMessage(message);
}
