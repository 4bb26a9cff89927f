// Offline shell: cache the app's own files; API answers always come from the network. Bump SHELL whenever the
// list changes (the old cache is dropped on activation).
const SHELL = "iknow-shell-v2";
const FILES = [
  "/", "/index.html", "/app.css", "/app.js", "/manifest.webmanifest", "/icon.svg",
  "/js/api.js", "/js/dom.js", "/js/actor.js", "/js/title.js", "/js/history.js", "/js/account.js",
];
self.addEventListener("install", (e) => e.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES))));
self.addEventListener("activate", (e) => e.waitUntil(caches.keys().then((keys) =>
  Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))));
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  // Network first, so a deploy shows at once; the cached shell answers offline (any page of the app is "/").
  e.respondWith(fetch(e.request).catch(() => caches.match(e.request).then((r) => r || caches.match("/"))));
});
