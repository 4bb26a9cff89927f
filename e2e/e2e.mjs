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
const consoleErrors = [];
const failedRequests = [];

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
    if (ours(req.url())) failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
  });
  context.on("response", (res) => {
    if (ours(res.url()) && res.status() >= 400) failedRequests.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
});

after(async () => {
  await context?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

test("search with a typo, open the actor, walk the history", { timeout: TEST_TIMEOUT_MS }, async () => {
  const response = await page.goto(BASE + "/", { waitUntil: "load" });
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), "I Know");

  const box = page.getByRole("searchbox", { name: "Actor name" });
  await box.pressSequentially("bruce wilis", { delay: 20 });

  const result = page.locator("#results button", { hasText: "Bruce Willis" }).first();
  await result.waitFor({ state: "visible" });
  await page.locator("#status", { hasText: /\d+ match/ }).waitFor();

  const shots = await mkdtemp(join(tmpdir(), "iknow-e2e-shots-"));
  await page.screenshot({ path: join(shots, "1-results.png") });

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

  await page.screenshot({ path: join(shots, "2-actor.png") });
  console.log(`# screenshots: ${join(shots, "1-results.png")} ${join(shots, "2-actor.png")}`);

  await page.goBack();
  await page.waitForURL((u) => !u.searchParams.has("actor"));
  await actor.waitFor({ state: "hidden" });

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
});

test("no console errors and no failed requests to the app's origin", () => {
  assert.deepEqual(consoleErrors, [], "console errors");
  assert.deepEqual(failedRequests, [], "failed requests");
});
