// Browser test of the web app against a running platform with the bundled sample imported:
//   node e2e/e2e.mjs http://127.0.0.1:3000
// Runs Debian's chromium (never a Playwright-downloaded browser) headless at a phone viewport. scripts/e2e
// starts the platform, installs chromium and this folder's node_modules, and runs it after the API fuzz check.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = (process.argv[2] || process.env.IKNOW_BASE_URL || "").replace(/\/+$/, "");
const ORIGIN = BASE ? new URL(BASE).origin : "";
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const STEP_TIMEOUT_MS = 15_000; // every Playwright wait (auto-waiting assertions, clicks, navigations)
const TEST_TIMEOUT_MS = 60_000;

let userDataDir;
let context;
let page;
let shots; // screenshot folder, printed at the end
const shotPaths = [];
const consoleErrors = []; // {text, url}
const failedRequests = [];
// Static files the browser itself cancelled (net::ERR_ABORTED: a navigation that left before the favicon
// arrived). Not a failure of the app by themselves; the last test fetches each one again and requires an
// answer below 400. A cancelled API call still counts as a failed request.
const abortedGets = new Set();
// Error answers a step provokes on purpose (a refused registration, a simulated expired token): each one is
// allowed once, with Chromium's matching "Failed to load resource" console line.
const expectedFailures = [];
function expectFailure(method, path, status) {
  const entry = { method, path, status, url: null };
  expectedFailures.push(entry);
  return entry;
}
/** No missing value leaked into the page as text. */
async function assertClean(locator) {
  assert.doesNotMatch(await locator.innerText(), /\b(null|undefined|NaN|\[object Object\])\b/, "rendered text");
}
async function shot(name, fullPage = false) {
  const path = join(shots, name);
  await page.screenshot({ path, fullPage });
  shotPaths.push(path);
}

before(async () => {
  assert.ok(BASE, "usage: node e2e/e2e.mjs BASE_URL (e.g. http://127.0.0.1:3000)");
  userDataDir = await mkdtemp(join(tmpdir(), "iknow-e2e-profile-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    timeout: 30_000,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  // Requests of the page and of its service worker; only the app's own origin counts.
  const ours = (url) => url.startsWith(ORIGIN + "/");
  context.on("requestfailed", (req) => {
    if (!ours(req.url())) return;
    const reason = req.failure()?.errorText;
    const api = new URL(req.url()).pathname.startsWith("/api/");
    if (reason === "net::ERR_ABORTED" && req.method() === "GET" && !api) abortedGets.add(req.url());
    else failedRequests.push(`${req.method()} ${req.url()}: ${reason}`);
  });
  context.on("response", (res) => {
    if (!ours(res.url()) || res.status() < 400) return;
    const method = res.request().method();
    const path = new URL(res.url()).pathname;
    const expected = expectedFailures.find(
      (e) => !e.url && e.method === method && e.path.test(path) && e.status === res.status(),
    );
    if (expected) expected.url = res.url();
    else failedRequests.push(`${method} ${res.url()}: HTTP ${res.status()}`);
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push({ text: msg.text(), url: msg.location().url });
  });
  page.on("pageerror", (err) => consoleErrors.push({ text: `uncaught: ${err.message}`, url: "" }));
  shots = await mkdtemp(join(tmpdir(), "iknow-e2e-shots-"));
});

after(async () => {
  if (shotPaths.length) console.log(`# screenshots: ${shotPaths.join(" ")}`);
  await context?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

test("search with a typo, open the actor, walk the history", { timeout: TEST_TIMEOUT_MS }, async () => {
  const response = await page.goto(BASE + "/", { waitUntil: "load" });
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), "I Know");

  const box = page.getByRole("searchbox", { name: "Search actors and titles" });
  await box.pressSequentially("bruce wilis", { delay: 20 });

  const result = page.locator("#results a", { hasText: "Bruce Willis" }).first();
  await result.waitFor({ state: "visible" });
  await page.locator("#status", { hasText: /^\d+ actors?( and \d+ titles?)? match(es)?$/ }).waitFor();
  assert.equal(new URL(page.url()).searchParams.get("q"), "bruce wilis", "the search is in the URL");

  await assertClean(page.locator("#results"));
  await shot("1-results.png");

  await result.click();
  const actor = page.locator("#actor");
  await actor.locator("h2", { hasText: "Bruce Willis" }).waitFor({ state: "visible" });
  const breach = actor.locator(".film li").filter({ has: page.locator("strong", { hasText: /^Breach$/ }) });
  await breach.first().waitFor({ state: "visible" });
  assert.match(await breach.first().locator(".role").innerText(), /\bClay\b/);

  const url = new URL(page.url());
  assert.equal(url.pathname, "/");
  const id = url.searchParams.get("actor");
  assert.match(id ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, `actor id in ${page.url()}`);
  assert.equal(await page.locator("#results li").count(), 0, "the result list is cleared once an actor is open");

  await assertClean(actor);
  await shot("2-actor.png");

  await page.goBack();
  await page.waitForURL((u) => !u.searchParams.has("actor"));
  await actor.waitFor({ state: "hidden" });
  await result.waitFor({ state: "visible" }); // back to the results of the same search

  await page.goForward();
  await page.waitForURL((u) => u.searchParams.get("actor") === id);
  await breach.first().waitFor({ state: "visible" });

  // A deep link opens the actor directly.
  await page.goto(`${BASE}/?actor=${id}`, { waitUntil: "load" });
  await breach.first().waitFor({ state: "visible" });
});

test("installable PWA: manifest link and a service worker", { timeout: TEST_TIMEOUT_MS }, async () => {
  const href = await page.locator('link[rel="manifest"]').getAttribute("href");
  assert.ok(href, "manifest link");
  const manifest = await page.evaluate(async (h) => (await fetch(h)).json(), href);
  assert.ok(manifest.name, "manifest has a name");

  // The app registers /sw.js after load; wait (bounded) until it is active, then read the registration.
  await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.active != null, null, {
    polling: 100,
  });
  const reg = await page.evaluate(async () => {
    const r = await navigator.serviceWorker.getRegistration();
    return r && { scope: r.scope, script: r.active?.scriptURL };
  });
  assert.ok(reg, "service worker registration");
  assert.equal(reg.scope, ORIGIN + "/");
  assert.equal(reg.script, ORIGIN + "/sw.js");

  // The offline shell holds every module of the app as JavaScript (a wrong path would cache index.html).
  const cached = await page.evaluate(async () => {
    const name = (await caches.keys()).find((k) => k.startsWith("iknow-shell-"));
    const cache = await caches.open(name);
    const entries = await Promise.all((await cache.keys()).map(async (r) => {
      const type = (await cache.match(r)).headers.get("content-type") || "";
      return [new URL(r.url).pathname, type];
    }));
    return { name, entries };
  });
  assert.ok(cached.name, "the shell cache exists");
  const scripts = cached.entries.filter(([path]) => path.endsWith(".js") && path !== "/sw.js");
  assert.ok(scripts.some(([path]) => path.startsWith("/js/")), "the modules are cached");
  for (const [path, type] of scripts) assert.match(type, /javascript/, `${path} is cached as JavaScript`);
});

// The sample catalogue's Breach (Bruce Willis as Clay) shares no cast with any other sample title, so the flow
// uses Emma Roberts: Sloane in "Holidate" (title A), Sasha Nutwagon in "Saurus City" (title B).
const FLOW = "a film fan: register, sign in, mark a title seen, meet a familiar face, tidy the history, log out";
test(FLOW, { timeout: 2 * TEST_TIMEOUT_MS }, async () => {
  const username = `fan-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const password = "Correct-Horse-9!";
  const status = page.locator("#status");
  const nav = page.getByRole("navigation", { name: "Account" });
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem("iknow.session")));

  await page.goto(BASE + "/", { waitUntil: "load" });
  await nav.getByRole("link", { name: "Create account" }).click();
  await page.waitForURL((u) => u.searchParams.get("view") === "register");
  const form = page.locator("#register-form");
  await form.getByLabel("Email").fill(`${username}@example.com`);
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill("short");

  // The API's field messages show next to their fields, and the fields are marked invalid.
  const refused = expectFailure("POST", /^\/api\/v1\/users\/register$/, 400);
  await form.getByRole("button", { name: "Create account" }).click();
  const passwordBox = form.getByLabel("Password");
  await form.locator("#register-password-error", { hasText: /Password must be at least 12 characters/ }).waitFor();
  await form.locator("#register-acceptTerms-error", { hasText: /accept the terms/ }).waitFor();
  assert.equal(await passwordBox.getAttribute("aria-invalid"), "true");
  assert.ok(refused.url, "the weak registration was refused by the API");
  assert.match(await passwordBox.getAttribute("aria-describedby"), /register-password-error/);
  await shot("3-register-errors.png");

  await passwordBox.fill(password);
  await form.getByLabel("I accept the terms of use").check();
  await form.getByRole("button", { name: "Create account" }).click();
  await status.filter({ hasText: `Welcome, ${username}!` }).waitFor();
  await nav.getByText(username).waitFor();

  // Log out and in again through the sign-in form.
  await nav.getByRole("button", { name: "Log out" }).click();
  await status.filter({ hasText: "Signed out." }).waitFor();
  assert.equal(await stored(), null, "no session is kept after logging out");
  await nav.getByRole("link", { name: "Sign in" }).click();
  const login = page.locator("#login-form");
  await login.getByLabel("Email or username").fill(username);
  await login.getByLabel("Password").fill(password);
  await login.getByRole("button", { name: "Sign in" }).click();
  await status.filter({ hasText: `Signed in as ${username}.` }).waitFor();
  await nav.getByRole("link", { name: "My history" }).waitFor();

  // Title A: search it, open it, mark it seen and add it to the watchlist.
  const box = page.getByRole("searchbox", { name: "Search actors and titles" });
  await box.fill("holidate");
  await page.locator("#results section[aria-labelledby=results-titles] a", { hasText: "Holidate (2020)" }).click();
  await page.waitForURL((u) => u.searchParams.has("title"));
  const titleA = new URL(page.url()).searchParams.get("title");
  const title = page.locator("#title");
  await title.getByRole("heading", { level: 2, name: "Holidate" }).waitFor();
  await title.locator(".film li", { hasText: "Emma Roberts" }).filter({ hasText: "as Sloane" }).waitFor();
  await title.getByRole("button", { name: "I've seen this" }).click();
  await title.locator(".action-status", { hasText: "Added “Holidate” to your history." }).waitFor();
  await title.getByRole("button", { name: "Add to watchlist" }).click();
  await title.locator(".action-status", { hasText: "Added “Holidate” to your watchlist." }).waitFor();
  const onList = title.getByRole("button", { name: "On your watchlist" });
  assert.equal(await onList.getAttribute("aria-disabled"), "true");
  assert.ok(await onList.evaluate((b) => b === document.activeElement), "the button keeps the focus");

  // Title B shares Emma Roberts. Its familiar faces answer once with an expired-token 401 (simulated): the app
  // refreshes the session (a new pair replaces the old one) and retries, invisibly.
  const before = await stored();
  let expiredOnce = 0;
  await page.route("**/api/v1/content/*/familiar-faces", async (route) => {
    expiredOnce += 1;
    const error = {
      code: "TOKEN_EXPIRED",
      message: "The access token has expired",
      timestamp: new Date().toISOString(),
      requestId: "e2e",
    };
    await route.fulfill({ status: 401, contentType: "application/json", body: JSON.stringify({ error }) });
  }, { times: 1 });
  const expired = expectFailure("GET", /^\/api\/v1\/content\/[^/]+\/familiar-faces$/, 401);
  const refreshed = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/auth/refresh");
  await box.fill("saurus city");
  await page.locator("#results section[aria-labelledby=results-titles] a", { hasText: "Saurus City" }).click();
  await title.getByRole("heading", { level: 2, name: "Saurus City" }).waitFor();
  assert.equal((await refreshed).status(), 200, "the session was refreshed");
  assert.equal(expiredOnce, 1, "the simulated expiry was served");
  assert.ok(expired.url, "the expired answer reached the page");
  const after = await stored();
  assert.notEqual(after.refreshToken, before.refreshToken, "the rotated refresh token is stored");
  assert.notEqual(after.accessToken, before.accessToken, "the new access token is stored");

  const faces = title.locator(".faces");
  const face = faces.locator("li", { hasText: "Emma Roberts" });
  await face.waitFor();
  const line = /You know Emma Roberts from Holidate \(2020\) as Sloane\.\s+Here: Sasha Nutwagon/;
  assert.match(await face.innerText(), line);
  assert.equal(await face.getByRole("link", { name: "Holidate" }).getAttribute("href"), `/?title=${titleA}`);
  await assertClean(title);
  await shot("4-familiar-faces.png", true);

  // The actor: where you know them from.
  await face.getByRole("link", { name: "Emma Roberts" }).click();
  await page.waitForURL((u) => u.searchParams.has("actor"));
  const actor = page.locator("#actor");
  await actor.getByRole("heading", { level: 2, name: "Emma Roberts" }).waitFor();
  const actorUrl = page.url();
  const known = actor.locator(".known-from");
  await known.getByRole("heading", { name: "Where you know them from" }).waitFor();
  const item = known.locator("li", { hasText: "Holidate" });
  await item.waitFor();
  assert.match(await item.innerText(), /as Sloane/);
  assert.match(await known.innerText(), /You've seen 1 of their \d+ titles/);
  await assertClean(actor);
  await shot("5-known-from.png", true);

  // Back and forward walk the pages of the flow.
  await page.goBack();
  await title.getByRole("heading", { level: 2, name: "Saurus City" }).waitFor();
  await page.goForward();
  await known.locator("li", { hasText: "Holidate" }).waitFor();

  // My history lists the view; delete it.
  await nav.getByRole("link", { name: "My history" }).click();
  await page.waitForURL((u) => u.searchParams.get("view") === "history");
  const hist = page.locator("#history");
  await hist.getByRole("heading", { level: 2, name: "My history" }).waitFor();
  const entry = hist.locator(".history li", { hasText: "Holidate" });
  await entry.waitFor();
  assert.equal(await hist.locator(".history li").count(), 1);
  await assertClean(hist);
  await shot("6-history.png", true);
  await entry.getByRole("button", { name: /^Delete Holidate/ }).click();
  await hist.locator(".action-status", { hasText: /^Deleted Holidate/ }).waitFor();
  assert.equal(await hist.locator(".history li").count(), 0);
  await hist.getByText("Nothing here yet.").waitFor();

  // Deleted for real: a reload shows the empty history, and Emma Roberts is known from nothing now.
  await page.reload({ waitUntil: "load" });
  await hist.getByText("Nothing here yet.").waitFor();
  await page.goto(actorUrl, { waitUntil: "load" });
  await known.getByText("You haven't marked any of Emma Roberts's titles as seen yet.").waitFor();

  // Log out from My history: the session is gone, and the personal page with it.
  await page.goBack({ waitUntil: "load" });
  await hist.getByText("Nothing here yet.").waitFor();
  await nav.getByRole("button", { name: "Log out" }).click();
  await status.filter({ hasText: "Signed out." }).waitFor();
  await page.waitForURL((u) => !u.searchParams.has("view"));
  await nav.getByRole("link", { name: "Sign in" }).waitFor();
  assert.equal(await stored(), null);
});

test("no console errors and no failed requests to the app's origin", async () => {
  const provoked = (e) =>
    /^Failed to load resource: the server responded with a status of \d+/.test(e.text) &&
    expectedFailures.some((x) => x.url === e.url && e.text.includes(`status of ${x.status}`));
  assert.deepEqual(consoleErrors.filter((e) => !provoked(e)).map((e) => `${e.text} (${e.url})`), [], "console errors");
  for (const url of abortedGets) {
    const res = await context.request.get(url);
    if (res.status() >= 400) failedRequests.push(`GET ${url}: cancelled by the browser, HTTP ${res.status()} when fetched again`);
  }
  assert.deepEqual(failedRequests, [], "failed requests");
});
