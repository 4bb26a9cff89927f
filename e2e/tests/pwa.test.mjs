// The installable, offline app: the manifest and its icons, the service worker and its caches, the cache
// headers of the shell, and the offline flow of issue 13: pages seen before open offline, a view marked
// offline is queued and recorded exactly once when the network returns (an idempotency key per view).
// The title page's "Mark as watched" button (data-testid mark-watched) records views through recordView of
// web/js/pwa.js; the test reads the queue through the same module.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { pngSize } from "../lib/png.mjs";
import {
  FIXTURES, TEST_TIMEOUT_MS, apiCall, checkA11y, firstId, openBrowser, registerUser, shotsBoth, signIn, waitForServiceWorker,
} from "../lib/harness.mjs";

describe("the PWA", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
  });
  after(async () => {
    await b?.close();
  });

  test("the manifest: standalone from /, PNG icons of the stated sizes, one maskable", async () => {
    const { page } = b;
    await b.goto("/");
    const href = await page.locator('link[rel="manifest"]').getAttribute("href");
    assert.ok(href, "manifest link");
    const res = await b.context.request.get(new URL(href, b.url("/")).href);
    assert.equal(res.status(), 200);
    const manifest = await res.json();
    assert.equal(manifest.name, "I Know");
    assert.equal(manifest.start_url, "/");
    assert.equal(manifest.scope, "/");
    assert.equal(manifest.id, "/");
    assert.equal(manifest.display, "standalone");
    assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/i);
    assert.match(manifest.background_color, /^#[0-9a-f]{6}$/i);
    assert.ok(manifest.description);

    const icons = manifest.icons.filter((i) => i.type === "image/png");
    for (const size of [192, 512]) {
      assert.ok(icons.some((i) => i.sizes === `${size}x${size}` && (i.purpose ?? "any").split(" ").includes("any")), `a ${size} px icon`);
    }
    assert.ok(icons.some((i) => i.sizes === "512x512" && i.purpose.split(" ").includes("maskable")), "a maskable icon");
    for (const icon of icons) {
      const r = await b.context.request.get(new URL(icon.src, b.url("/")).href);
      assert.equal(r.status(), 200, icon.src);
      assert.match(r.headers()["content-type"], /^image\/png/, icon.src);
      const [w, h] = icon.sizes.split("x").map(Number);
      assert.deepEqual(pngSize(await r.body()), { width: w, height: h }, `${icon.src} is a ${icon.sizes} PNG`);
    }
    await b.assertNoErrors();
  });

  test("the service worker is active and has the shell of this version", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    await waitForServiceWorker(page);
    const reg = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return r && { scope: r.scope, script: r.active?.scriptURL, state: r.active?.state };
    });
    assert.deepEqual(reg, { scope: b.url("/"), script: b.url("/sw.js"), state: "activated" });

    const assets = await (await b.context.request.get(b.url("/asset-manifest.json"))).json();
    assert.match(String(assets.version), /^[0-9a-z]{6,}$/i, "a version hash");
    assert.ok(assets.files.length > 0, "the shell's files");
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const shell = names.find((n) => n.startsWith("iknow-shell-"));
      const keys = shell ? (await (await caches.open(shell)).keys()).map((r) => new URL(r.url).pathname) : [];
      return { names, shell, keys };
    });
    assert.equal(cached.shell, `iknow-shell-${assets.version}`, `the shell cache is this version's (${cached.names})`);
    for (const file of assets.files) {
      assert.ok(cached.keys.includes(new URL(file, b.url("/")).pathname), `${file} is precached`);
    }
    assert.ok(cached.keys.includes("/"), "the index is precached (the offline fallback)");

    // Installable (a manifest and an active worker): Chromium offers it, and the app shows its install button.
    await page.getByTestId("install-button").waitFor({ state: "visible", timeout: 10_000 });
    await b.assertNoErrors();
  });

  test("cache headers: hashed files immutable, the index and the worker revalidated", async () => {
    const get = async (path) => (await b.context.request.get(b.url(path))).headers();
    const assets = await (await b.context.request.get(b.url("/asset-manifest.json"))).json();
    const hashed = assets.files.filter((f) => /\.(js|css)$/.test(f));
    assert.ok(hashed.length > 0, "hashed scripts and styles");
    for (const file of hashed.slice(0, 5)) {
      const cc = (await get(file))["cache-control"] || "";
      assert.match(cc, /immutable/, `${file}: ${cc}`);
      assert.match(cc, /max-age=(\d{7,})/, `${file}: ${cc}`);
    }
    for (const path of ["/", "/?actor=x", "/sw.js", "/asset-manifest.json"]) {
      const cc = (await get(path))["cache-control"] || "";
      assert.match(cc, /no-cache|no-store|max-age=0/, `${path}: ${cc}`);
    }
    const sw = await (await b.context.request.get(b.url("/sw.js"))).text();
    assert.doesNotMatch(sw, /__IKNOW_VERSION__/, "the gateway put the version into /sw.js");
    assert.match(sw, new RegExp(`const VERSION = "${assets.version}"`), "the worker's version is the manifest's");
  });
});

// The budget: at most 100 KB of JavaScript, as sent (gzip), on a first load. Measured on the pages that
// load the most modules, each in a fresh browser (no service worker, no HTTP cache yet); the figures are printed.
describe("first load: at most 100 KB of JavaScript, gzipped", () => {
  const BUDGET = 100 * 1024;
  for (const [name, path, ready] of [
    ["search", "/?q=emma", "[data-testid=search-results]"],
    ["now watching", "/?watch=", "[data-testid=now-watching]"],
  ]) {
    test(name, { timeout: TEST_TIMEOUT_MS }, async () => {
      const b = await openBrowser({ viewport: "phone" });
      try {
        const scripts = [];
        b.page.on("requestfinished", async (req) => {
          if (req.resourceType() !== "script" || !req.url().startsWith(b.url("/"))) return;
          const res = await req.response();
          const sizes = await req.sizes();
          scripts.push({ url: new URL(req.url()).pathname, bytes: sizes.responseBodySize, encoding: res?.headers()["content-encoding"] });
        });
        const target = path.endsWith("=") ? path + (await firstId("content", "holidate")) : path;
        await b.goto(target);
        await b.page.locator(ready).first().waitFor({ state: "visible" });
        await b.page.waitForLoadState("networkidle");
        const total = scripts.reduce((sum, s) => sum + s.bytes, 0);
        console.log(`# ${name}: ${scripts.length} scripts, ${(total / 1024).toFixed(1)} KB as sent (budget 100 KB)`);
        assert.ok(scripts.length >= 4, `the app's modules were measured: ${scripts.map((s) => s.url).join(" ")}`);
        for (const s of scripts) assert.equal(s.encoding, "gzip", `${s.url} is sent gzipped`);
        assert.ok(total <= BUDGET, `${total} bytes of JavaScript on the first load of ${name}`);
        await b.assertNoErrors();
      } finally {
        await b.close();
      }
    });
  }
});

describe("offline: seen pages open, a view marked offline is recorded once", () => {
  /** @type {import("../lib/harness.mjs").Browser} */
  let b;
  /** @type {Awaited<ReturnType<typeof registerUser>>} */
  let user;
  let emma;
  let holidate;
  let saurus;
  before(async () => {
    b = await openBrowser({ viewport: "phone" });
    user = await registerUser({ prefix: "offline" });
    emma = await firstId("actors", "emma roberts");
    holidate = await firstId("content", "holidate");
    saurus = await firstId("content", "saurus city");
  });
  after(async () => {
    await b?.setOffline(false);
    await b?.close();
  });

  /** The user's history entries of `contentId`, read through the API. */
  const views = async (contentId) => {
    const res = await apiCall("/api/v1/users/me/history?limit=100", { token: user.accessToken });
    assert.equal(res.status, 200);
    return res.body.data.filter((e) => (e.contentId ?? e.content?.id) === contentId);
  };
  const pwa = (script, arg) => b.page.evaluate(script, arg);
  const pending = () => pwa(() => import("/js/pwa.js").then(async (m) => (await m.pendingViews()).length));

  test("seen pages open offline; the view is queued, then recorded once", { timeout: 2 * TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto("/");
    await signIn(page, user);
    await waitForServiceWorker(page);

    // Online: an actor page and a title page (their answers are kept by the service worker).
    await b.goto(`/?actor=${emma}`);
    await page.getByRole("heading", { level: 2, name: "Emma Roberts" }).waitFor();
    await b.goto(`/?title=${holidate}`);
    await page.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
    const kept = await page.evaluate(async () =>
      (await (await caches.open("iknow-pages")).keys()).map((r) => new URL(r.url).pathname));
    assert.ok(kept.some((p) => p.endsWith(`/actors/${emma}`)), `the actor's answer is cached: ${kept}`);
    assert.ok(kept.some((p) => p.endsWith(`/content/${holidate}`)), `the title's answer is cached: ${kept}`);
    const pictures = await page.evaluate(async () => (await (await caches.open("iknow-images")).keys()).map((r) => r.url));
    if (FIXTURES) {
      assert.ok(pictures.some((u) => u.startsWith(`${FIXTURES}/t/p/`)), `pictures from the image host are cached: ${pictures}`);
    }
    const banner = page.getByTestId("offline-banner");
    assert.equal(await banner.isVisible(), false, "no banner while online");

    // Offline: the actor opens from the cache (a full load: the cached shell, then the cached answer).
    await b.setOffline(true);
    await b.goto(`/?actor=${emma}`);
    await page.getByRole("heading", { level: 2, name: "Emma Roberts" }).waitFor();
    await banner.waitFor({ state: "visible" });
    // Her photo too, from the worker's cache.
    const photo = page.getByTestId("actor-profile").locator("img").first();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await photo.elementHandle());
    await page.getByTestId("offline-banner").getByTestId("retry-button").waitFor();
    await shotsBoth(page, "offline-actor");
    await checkA11y(page, "the actor page, offline");

    // The title, offline; marking it watched queues the view.
    await b.goto(`/?title=${holidate}`);
    await page.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
    await page.getByTestId("mark-watched").click();
    await page.getByText(/Saved offline/).waitFor();
    assert.equal(await pending(), 1, "one view queued");

    // The retry button, still offline: the banner stays, nothing is sent.
    await banner.getByTestId("retry-button").click();
    await banner.waitFor({ state: "visible" });

    // A reload offline keeps the queue and sends nothing.
    await page.reload({ waitUntil: "load" });
    await page.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
    assert.equal(await pending(), 1, "still queued after a reload offline");
    assert.equal((await views(holidate)).length, 0, "nothing reached the server while offline");

    // Back online: the queue is sent by itself, and the banner goes.
    await b.setOffline(false);
    await page.waitForFunction(
      () => import("/js/pwa.js").then(async (m) => (await m.pendingViews()).length === 0),
      null,
      { polling: 200 },
    );
    await banner.waitFor({ state: "hidden" });
    assert.equal((await views(holidate)).length, 1, "the view is recorded once");

    // Reloading (online, then offline and online again) sends nothing more.
    await page.reload({ waitUntil: "load" });
    await page.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
    await b.setOffline(true);
    await page.reload({ waitUntil: "load" });
    await page.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
    await b.setOffline(false);
    await pwa(() => import("/js/pwa.js").then((m) => m.flushQueue()));
    assert.equal((await views(holidate)).length, 1, "still one view");
    await b.assertNoErrors();
  });

  test("a view whose answer was lost is sent again with its key and not doubled", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page } = b;
    await b.goto(`/?title=${saurus}`);
    await page.getByRole("heading", { level: 2, name: "Saurus City" }).waitFor();
    // The server records the view, but the answer never reaches the app (the connection drops).
    /** @type {string | undefined} */
    let firstKey;
    await page.route("**/api/v1/users/me/history", async (route) => {
      if (route.request().method() !== "POST") return route.fallback();
      firstKey = route.request().headers()["idempotency-key"];
      const answer = await route.fetch();
      assert.equal(answer.status(), 201, "the server recorded it");
      await route.abort("connectionreset");
    }, { times: 1 });
    b.expectFailure("POST", /^\/api\/v1\/users\/me\/history$/, 0);
    await page.getByTestId("mark-watched").click();
    await page.getByText(/Saved offline/).waitFor();
    assert.equal(await pending(), 1, "the view is queued: its answer never came");
    assert.match(firstKey ?? "", /^[0-9a-f-]{36}$/, "an Idempotency-Key (a UUID) was sent");
    assert.equal((await views(saurus)).length, 1);
    await page.unroute("**/api/v1/users/me/history");

    // The retry sends the same key; the server answers the replay 200 and records nothing new.
    const replay = page.waitForResponse((r) => r.url().endsWith("/api/v1/users/me/history") && r.request().method() === "POST");
    const flushed = await pwa(() => import("/js/pwa.js").then((m) => m.flushQueue()));
    const res = await replay;
    assert.equal(res.request().headers()["idempotency-key"], firstKey, "sent again with the same key");
    assert.equal(res.status(), 200, "a replay");
    assert.equal(res.headers()["idempotent-replayed"], "true");
    assert.deepEqual(flushed, { sent: 1, pending: 0 });
    assert.equal((await views(saurus)).length, 1, "recorded once");
    await b.assertNoErrors();
  });
});
